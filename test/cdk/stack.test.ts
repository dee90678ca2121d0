/**
 * Template assertions for the default deployment (wasm tails) of two real
 * exports (tinychain: a chain; tinydag: residual and inception blocks),
 * synthesised with the real handlers and cdk-nag. The upload is `sync` here so
 * that the root stack holds only the app's own functions; the default
 * BucketDeployment upload is asserted in variants.test.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { selectDefaultCuts } from '../../cdk/cuts';
import { REGISTRY_KEYS } from '../../core/registry-keys';
import { CATALOG_FILE_NAME, parseCatalog } from '../../core/catalog';
import { EXPOSED_HEADERS } from '../../core/api';
import { createRegistryTable } from '../../functions/commons/registry';
import { exportZoo, nagErrors, paramMatching, resourcesOf, synth, tempDir, type Synthesized, removeTempDirs } from './helpers';

const MIB = 1024 * 1024;

/** The SDK's credential chain became its environment link (cdk/bundling.ts BUNDLE_ALIASES): none of the other links, nor the STS/SSO clients they use. */
function expectEnvCredentialsOnly(bundle: string): void {
  expect(bundle).toContain('Unable to find environment variable credentials'); // @aws-sdk/credential-provider-env
  for (const other of ['STSClient', 'SSOOIDCClient', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'fromInstanceMetadata', 'fromIni']) {
    expect(bundle, other).not.toContain(other);
  }
}
/** The chunks (`chunks/…` next to it) a bundle file imports statically, transitively: [name, text]. */
function staticChunks(dir: string, file: string): [string, string][] {
  const out = new Map<string, string>();
  const visit = (path: string): void => {
    const text = readFileSync(join(dir, path), 'utf8');
    // esbuild's ESM output: `import{a as b}from"./chunks/x.mjs"` or `import"./chunks/x.mjs"`; `import("…")` is lazy
    for (const m of text.matchAll(/(?:from|import)\s*"(\.\.?\/[^"]+\.mjs)"/g)) {
      const target = join(dirname(path), m[1]!);
      if (!out.has(target)) {
        out.set(target, readFileSync(join(dir, target), 'utf8'));
        visit(target);
      }
    }
  };
  visit(file);
  return [...out];
}

let s: Synthesized;
let exportDir: string;

beforeAll(async () => {
  exportDir = tempDir('export');
  await exportZoo(exportDir, ['tinychain', 'tinydag']);
  s = synth({ exportDir, models: 'tinychain,tinydag', upload: 'sync' });
});

const tailsOf = (model: string) => s.deployment.models.find((m) => m.model === model)!.tails;

describe('structure', () => {
  it('puts each model’s tails in its own nested stack and everything else in the root', () => {
    expect([...s.nested.keys()].sort()).toEqual(['Tails-tinychain', 'Tails-tinydag']);
    s.root.resourceCountIs('AWS::CloudFormation::Stack', 2);
    s.root.resourceCountIs('AWS::Lambda::Function', 1); // the planner
    for (const m of s.deployment.models) {
      s.nested.get(`Tails-${m.model}`)!.resourceCountIs('AWS::Lambda::Function', m.tails.length);
    }
  });

  it('deploys exactly the cuts of the default rule, cut 0 included', () => {
    for (const m of s.deployment.models) {
      const expected = selectDefaultCuts(m.manifest).cuts;
      expect(m.tails.map((t) => t.cut)).toEqual(expected);
      expect(expected[0]).toBe(0);
      const names = Object.values(resourcesOf(s.nested.get(`Tails-${m.model}`)!, 'AWS::Lambda::Function')).map((f) => f.Properties['FunctionName']);
      expect(names.sort()).toEqual(expected.map((c) => `offload-${m.model}-${c}`).sort());
    }
  });

  it('has no unsuppressed cdk-nag (AwsSolutions) error in any stack', () => {
    // The root stack's artifact carries the annotations of its nested stacks' constructs too.
    expect(nagErrors(s.stack)).toEqual([]);
  });
});

describe('model store', () => {
  it('is encrypted, private, not versioned, and retained', () => {
    s.root.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        VersioningConfiguration: Match.absent(),
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('denies requests without TLS and below TLS 1.2', () => {
    const statements = Object.values(resourcesOf(s.root, 'AWS::S3::BucketPolicy')).flatMap(
      (p) => (p.Properties['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement,
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
    );
  });

  it('has no BucketDeployment with the sync upload', () => {
    s.root.resourceCountIs('Custom::CDKBucketDeployment', 0);
  });
});

describe('registry', () => {
  it('is on-demand with TTL on expiresAt, keyed by function and instance, with the byModel index', () => {
    s.root.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'fn', KeyType: 'HASH' },
        { AttributeName: 'instance', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byModel',
          KeySchema: [
            { AttributeName: 'model', KeyType: 'HASH' },
            { AttributeName: 'fn', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('matches the table the functions create for tests and the local stack (functions/commons/registry.ts)', async () => {
    // Prepare: capture the CreateTable request the handlers' own helper sends.
    let input: Record<string, unknown> | undefined;
    const client = { send: async (cmd: { input: Record<string, unknown> }) => void (input = cmd.input) } as unknown as DynamoDBClient;
    await createRegistryTable(client, 't');
    const table = Object.values(resourcesOf(s.root, 'AWS::DynamoDB::Table'))[0]!.Properties;
    // Assess: same keys, attribute types and index.
    expect(input!['KeySchema']).toEqual(table['KeySchema']);
    expect(new Set(input!['AttributeDefinitions'] as unknown[])).toEqual(new Set(table['AttributeDefinitions'] as unknown[]));
    const gsi = (input!['GlobalSecondaryIndexes'] as { IndexName: string; KeySchema: unknown }[])[0]!;
    const cdkGsi = (table['GlobalSecondaryIndexes'] as { IndexName: string; KeySchema: unknown }[])[0]!;
    expect(gsi.IndexName).toBe(REGISTRY_KEYS.modelIndex);
    expect(gsi.KeySchema).toEqual(cdkGsi.KeySchema);
  });
});

describe('tail functions', () => {
  it('run nodejs22.x from index.mjs with size, timeout, reserved concurrency and the documented tail environment', () => {
    for (const m of s.deployment.models) {
      const t = s.nested.get(`Tails-${m.model}`)!;
      const bucketRef = paramMatching(t, /ModelStoreBucket.*Ref$/);
      const tableRef = paramMatching(t, /RegistryTable.*Ref$/);
      for (const tail of m.tails) {
        t.hasResourceProperties('AWS::Lambda::Function', {
          FunctionName: `offload-${m.model}-${tail.cut}`,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          MemorySize: 3008,
          Timeout: 30,
          ReservedConcurrentExecutions: 10,
          Environment: {
            Variables: {
              MODEL_NAME: m.model,
              CUT: String(tail.cut),
              MAX_BATCH: '16',
              ARTIFACT_BUCKET: { Ref: bucketRef },
              ARTIFACT_PREFIX: `models/${m.model}/`,
              REGISTRY_TABLE: { Ref: tableRef },
              OFFLOAD_BACKEND: 'wasm',
              OFFLOAD_WASM_DIR: '/var/task',
              // 3,008 MB sees 2 cores (core/profiles.ts tailWasmThreads); the catalog says the same
              OFFLOAD_WASM_THREADS: '2',
            },
          },
        });
      }
    }
  });

  it('carry the shutdown extension layer, so Lambda sends them SIGTERM in the Shutdown phase', () => {
    for (const t of s.nested.values()) {
      const layers = Object.entries(resourcesOf(t, 'AWS::Lambda::LayerVersion'));
      expect(layers).toHaveLength(1);
      const [layerId, layer] = layers[0]!;
      const extension = join(s.outdir, String(layer.Metadata?.['aws:asset:path']), 'extensions', 'offload-shutdown');
      expect(existsSync(extension)).toBe(true);
      expect(statSync(extension).mode & 0o111).not.toBe(0); // Lambda starts what is executable in /opt/extensions
      for (const f of Object.values(resourcesOf(t, 'AWS::Lambda::Function'))) {
        expect(f.Properties?.Layers).toEqual([{ Ref: layerId }]);
      }
    }
  });

  it('share ONE lean bundle: a tiny entry, then no webgl backend, converter, URL polyfills or zod locales, at most 1.5 MiB in all', () => {
    const f = Object.values(resourcesOf([...s.nested.values()][0]!, 'AWS::Lambda::Function'))[0]!;
    const dir = join(s.outdir, String(f.Metadata?.['aws:asset:path']));
    const [entry, main, worker] = ['index.mjs', 'main.mjs', 'prefetch-worker.mjs'].map((name) => readFileSync(join(dir, name), 'utf8')) as [string, string, string];
    const chunks = readdirSync(join(dir, 'chunks')).map((name) => readFileSync(join(dir, 'chunks', name), 'utf8'));
    // the entry starts the early download and loads main.mjs: no tfjs, no AWS SDK, no zod in it
    expect(Buffer.byteLength(entry)).toBeLessThanOrEqual(8 * 1024);
    for (const heavy of ['tfjs', 'SignatureV4', 'ZodError']) expect(entry, heavy).not.toContain(heavy);
    expect(entry).toContain('prefetch-worker');
    // the worker signs with the SDK's SigV4 signer and environment credentials, and carries no tfjs
    const workerAll = [worker, ...staticChunks(dir, 'prefetch-worker.mjs').map(([, text]) => text)].join('\n');
    expect(workerAll).toContain('AWS4-HMAC-SHA256');
    expect(workerAll).not.toContain('tfjs');
    const all = [entry, main, worker, ...chunks];
    expectEnvCredentialsOnly(all.join('\n'));
    for (const bundle of all) {
      expect(bundle).not.toContain('WEBGL_VERSION'); // @tensorflow/tfjs-backend-webgl's flags
      expect(bundle).not.toContain('loadGraphModel'); // @tensorflow/tfjs-converter
      expect(bundle).not.toContain('node-fetch/1.0'); // node-fetch, which brings whatwg-url and tr46
      expect(bundle).not.toContain('Ongeldige invoer'); // a zod locale
    }
    expect(all.reduce((n, text) => n + Buffer.byteLength(text), 0)).toBeLessThanOrEqual(1.5 * MIB);
  });

  it('load no AWS SDK client or signer with the handler bundle: they are chunks imported when used', () => {
    const f = Object.values(resourcesOf([...s.nested.values()][0]!, 'AWS::Lambda::Function'))[0]!;
    const dir = join(s.outdir, String(f.Metadata?.['aws:asset:path']));
    // what a cold start parses before main.mjs runs: main.mjs and the chunks it imports statically
    const atLoad: [string, string][] = [['main.mjs', readFileSync(join(dir, 'main.mjs'), 'utf8')], ...staticChunks(dir, 'main.mjs')];
    for (const [name, text] of atLoad) {
      // class names survive minification (keepNames): the S3 and DynamoDB clients, the SDK's signer (with ~90 KB of @smithy/core)
      for (const sdk of [/\bS3Client\b/, /\bDynamoDBClient\b/, /\bSignatureV4\b/, /\bGetObjectCommand\b/]) expect(text, `${name}: ${sdk}`).not.toMatch(sdk);
    }
    // the engine is what loads: tfjs-layers (a class name) is among the files read
    expect(atLoad.length).toBeGreaterThan(1);
    expect(atLoad.some(([, text]) => /\bLayersModel\b/.test(text))).toBe(true);
    const bytes = atLoad.reduce((n, [, text]) => n + Buffer.byteLength(text), 0);
    expect(bytes).toBeLessThanOrEqual(0.9 * MIB);
    // still shipped, for the early download's fallback and OFFLOAD_REGISTRY_HTTP=off
    const lazy = readdirSync(join(dir, 'chunks')).map((name) => readFileSync(join(dir, 'chunks', name), 'utf8')).join('\n');
    expect(lazy).toMatch(/\bS3Client\b/);
    expect(lazy).toMatch(/\bDynamoDBClient\b/);
  });

  it('share ONE bundled asset holding index.mjs, the tfjs-backend-wasm binaries and the threaded main script', () => {
    const paths = new Set<unknown>();
    for (const t of s.nested.values()) {
      for (const f of Object.values(resourcesOf(t, 'AWS::Lambda::Function'))) paths.add(f.Metadata?.['aws:asset:path']);
    }
    expect(paths.size).toBe(1);
    const files = readdirSync(join(s.outdir, String([...paths][0])));
    expect(files).toContain('index.mjs');
    // loaded by index.mjs at run time (cdk/bundling.ts TAIL_COMPANIONS)
    expect(files).toEqual(expect.arrayContaining(['main.mjs', 'prefetch-worker.mjs']));
    // read from disk by the threaded engine's pthread workers (models/wasm-threads.ts)
    expect(files).toContain('tfjs-backend-wasm-threaded-simd.js');
    expect(files.filter((f) => f.endsWith('.wasm')).sort()).toEqual([
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm',
      'tfjs-backend-wasm.wasm',
    ]);
  });

  it('each read exactly their model.json and segments and write only their own registry items', () => {
    for (const m of s.deployment.models) {
      const t = s.nested.get(`Tails-${m.model}`)!;
      const bucketArn = paramMatching(t, /ModelStoreBucket.*Arn$/);
      const tableArn = paramMatching(t, /RegistryTable.*Arn$/);
      const roles = resourcesOf(t, 'AWS::IAM::Role');
      for (const tail of m.tails) {
        const role = Object.values(roles).find((r) => r.Properties['Description'] === `Execution role of ${tail.functionName}`)!;
        const policies = role.Properties['Policies'] as { PolicyDocument: { Statement: Record<string, unknown>[] } }[];
        expect(policies).toHaveLength(1);
        expect(role.Properties['ManagedPolicyArns']).toBeUndefined();
        const statements = policies[0]!.PolicyDocument.Statement;
        // exactly the tail's model.json and the segments of layers >= cut, each named
        const keys = [`models/${m.model}/tails/${tail.cut}/model.json`, ...m.manifest.segments.filter((x) => x.from >= tail.cut).map((x) => `models/${m.model}/${x.path}`)];
        expect(tail.artifactKeys).toEqual(keys);
        expect(keys.length).toBeGreaterThan(1);
        const arns = keys.map((k) => ({ 'Fn::Join': ['', [{ Ref: bucketArn }, `/${k}`]] }));
        const get = statements.find((x) => x['Action'] === 's3:GetObject')!;
        expect(get['Resource']).toHaveLength(arns.length);
        expect(get['Resource']).toEqual(expect.arrayContaining(arns));
        expect(statements).toEqual([
          expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow' }),
          { Action: 's3:GetObject', Effect: 'Allow', Resource: get['Resource'] },
          { Action: 's3:ListBucket', Effect: 'Allow', Resource: { Ref: bucketArn }, Condition: { StringEquals: { 's3:prefix': expect.arrayContaining(keys) } } },
          {
            Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Effect: 'Allow',
            Resource: { Ref: tableArn },
            Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`${m.model}#${tail.cut}`] } },
          },
        ]);
      }
    }
  });

  it('are each behind POST /infer/<model>/<cut>, IAM-authorized, through a payload 2.0 proxy integration', () => {
    for (const m of s.deployment.models) {
      const t = s.nested.get(`Tails-${m.model}`)!;
      const fns = resourcesOf(t, 'AWS::Lambda::Function');
      const integrations = resourcesOf(t, 'AWS::ApiGatewayV2::Integration');
      const routes = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route'));
      expect(routes.map((r) => r.Properties['RouteKey']).sort()).toEqual(m.tails.map((x) => `POST /infer/${m.model}/${x.cut}`).sort());
      for (const tail of m.tails) {
        const route = routes.find((r) => r.Properties['RouteKey'] === `POST ${tail.route}`)!;
        expect(route.Properties['AuthorizationType']).toBe('AWS_IAM');
        const integrationId = ((route.Properties['Target'] as { 'Fn::Join': [string, [string, { Ref: string }]] })['Fn::Join'][1][1]).Ref;
        const integration = integrations[integrationId]!.Properties;
        expect(integration).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
        const fnId = (integration['IntegrationUri'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        expect(fns[fnId]!.Properties['FunctionName']).toBe(tail.functionName);
      }
    }
  });
});

describe('planner', () => {
  const plannerFn = () => Object.values(resourcesOf(s.root, 'AWS::Lambda::Function'))[0]!;

  it('runs nodejs22.x with the bucket, table and catalog in its environment', () => {
    s.root.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'offload-planner',
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 10,
      ReservedConcurrentExecutions: 5,
      Environment: {
        Variables: {
          ARTIFACT_BUCKET: { Ref: Match.stringLikeRegexp('^ModelStoreBucket') },
          ARTIFACT_PREFIX: 'models/',
          REGISTRY_TABLE: { Ref: Match.stringLikeRegexp('^RegistryTable') },
          OFFLOAD_CATALOG_FILE: 'catalog.json',
        },
      },
    });
  });

  it('has a lean bundle: no zod locales, only the environment’s credentials, and the size is guarded', () => {
    const bundle = readFileSync(join(s.outdir, String(plannerFn().Metadata?.['aws:asset:path']), 'index.mjs'), 'utf8');
    // zod's locale files (each a distinct language's messages); `import { z } from 'zod'` anywhere brings all of them back
    expect(bundle).not.toContain('Ongeldige invoer');
    expectEnvCredentialsOnly(bundle);
    // No S3 client: the planner presigns with the SDK's signer alone (functions/commons/s3-presign.ts); the client's
    // service schema would name its shapes.
    expect(bundle).not.toContain('com.amazonaws.s3#');
    expect(bundle).toContain('com.amazonaws.dynamodb#');
    // issue 11's target
    expect(Buffer.byteLength(bundle)).toBeLessThanOrEqual(0.4 * MIB);
  });

  it('has catalog.json beside its bundle, listing every deployed tail', () => {
    const dir = join(s.outdir, String(plannerFn().Metadata?.['aws:asset:path']));
    expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
    const catalog = parseCatalog(readFileSync(join(dir, CATALOG_FILE_NAME), 'utf8'));
    expect(catalog).toEqual(s.deployment.catalog);
    expect(catalog.models['tinydag']!.tails.map((t) => t.function)).toEqual(tailsOf('tinydag').map((t) => t.functionName));
    expect(catalog.models['tinychain']!.tails[0]).toMatchObject({ cut: 0, route: '/infer/tinychain/0', reservedConcurrency: 10, provisionedConcurrency: 0, wasmThreads: 2 });
  });

  it('reads manifests, profiles and the registry, writes nothing, and may invoke its tails (prewarm, on by default)', () => {
    const role = Object.values(resourcesOf(s.root, 'AWS::IAM::Role')).find((r) => r.Properties['Description'] === 'Execution role of offload-planner')!;
    const statements = (role.Properties['Policies'] as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } }[])[0]!
      .PolicyDocument.Statement;
    const actions = statements.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
    // lambda:InvokeFunction on exactly the tail functions: test/cdk/prewarm.test.ts
    expect(actions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject']);
    const s3Resources = JSON.stringify(statements.find((st) => st.Action === 's3:GetObject')!.Resource);
    for (const m of ['tinychain', 'tinydag']) {
      expect(s3Resources).toContain(`/models/${m}/manifest.json`);
      expect(s3Resources).toContain(`/models/${m}/profiles/*`);
      // the device artifacts GET /models presigns for pages
      expect(s3Resources).toContain(`/models/${m}/full/*`);
      expect(s3Resources).toContain(`/models/${m}/heads/*`);
    }
    expect(s3Resources).not.toContain('tails');
    const ddb = JSON.stringify(statements.find((st) => Array.isArray(st.Action) && st.Action.includes('dynamodb:Query'))!.Resource);
    expect(ddb).toContain('/index/byModel');
  });

  it('serves POST /plan and GET /models through one integration, IAM-authorized', () => {
    const routes = Object.values(resourcesOf(s.root, 'AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties['RouteKey']).sort()).toEqual(['GET /models', 'POST /plan']);
    expect(new Set(routes.map((r) => r.Properties['AuthorizationType']))).toEqual(new Set(['AWS_IAM']));
    expect(new Set(routes.map((r) => JSON.stringify(r.Properties['Target']))).size).toBe(1);
  });
});

describe('API', () => {
  it('is an HTTP API with an auto-deployed $default stage writing access logs', () => {
    s.root.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    // The URL output has no trailing slash: clients append `/plan`.
    s.root.hasOutput('*', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiHttpApi'), 'ApiEndpoint'] } });
    s.root.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] }, Format: Match.stringLikeRegexp('requestId') },
    });
  });

  it('lets pages call it from the configured origins (CORS), reading the x-offload headers', () => {
    s.root.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['*'],
        AllowMethods: Match.arrayWith(['GET', 'POST', 'OPTIONS']),
        AllowHeaders: Match.arrayWith(['content-type', 'authorization', 'x-amz-date', 'x-amz-security-token']),
        ExposeHeaders: [...EXPOSED_HEADERS],
      },
    });
    // ...and fetch presigned artifact URLs from the bucket, which GET /models hands out
    s.root.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedMethods: ['GET', 'HEAD'], AllowedOrigins: ['*'] })] },
    });
    s.root.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'offload planner: POST /plan, GET /models',
      Environment: { Variables: Match.objectLike({ ARTIFACT_URL_SECONDS: '3600' }) },
    });
  });

  it('throttles every route at the stage (50/s, burst 100) and POST /plan tighter (20/s, burst 40) by default', () => {
    s.root.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      RouteSettings: { 'POST /plan': { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 } },
    });
  });

  it('takes the throttling, the planner cap and the batch limit from the configuration', () => {
    const custom = synth({
      exportDir,
      models: 'tinychain',
      overrides: JSON.stringify({ throttle: { rateLimit: 7, burstLimit: 9, plan: { rateLimit: 2, burstLimit: 3 } }, planner: { reservedConcurrency: 2, fleetKeepAliveMs: 600_000 }, tail: { maxBatch: 4 } }),
    });
    custom.root.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 },
      RouteSettings: { 'POST /plan': { ThrottlingRateLimit: 2, ThrottlingBurstLimit: 3 } },
    });
    custom.root.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'offload-planner',
      ReservedConcurrentExecutions: 2,
      Environment: { Variables: Match.objectLike({ FLEET_KEEPALIVE_MS: '600000' }) },
    });
    custom.nested.get('Tails-tinychain')!.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MAX_BATCH: '4' }) },
    });
  });

  it('offers a client policy that grants execute-api:Invoke on the API’s routes and reads of device artifacts only', () => {
    const policy = Object.values(resourcesOf(s.root, 'AWS::IAM::ManagedPolicy'))[0]!;
    const text = JSON.stringify(policy.Properties['PolicyDocument']);
    expect(text).toContain('execute-api:Invoke');
    for (const route of ['$default/POST/plan', '$default/GET/models', '$default/POST/infer/*']) expect(text).toContain(route);
    // ...and downloads of what GET /models lists for the device (manifests, heads, full models), never tails.
    const statements = (policy.Properties['PolicyDocument'] as { Statement: { Action: string; Resource: unknown }[] }).Statement;
    const s3 = statements.filter((st) => st.Action === 's3:GetObject');
    expect(s3).toHaveLength(1);
    const resources = JSON.stringify(s3[0]!.Resource);
    for (const p of ['/models/*/manifest.json', '/models/*/heads/*', '/models/*/full/*']) expect(resources).toContain(p);
    expect(resources).not.toContain('tails');
    expect(statements.map((st) => st.Action).sort()).toEqual(['execute-api:Invoke', 's3:GetObject']);
    s.root.hasOutput('*', { Value: { Ref: Match.stringLikeRegexp('^ApiClientPolicy') } });
  });
});

describe('dashboard', () => {
  it('shows the functions\' EMF metrics, the throttles and every alarm (found by name, not across stacks)', () => {
    const dashboards = Object.values(resourcesOf(s.root, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]!.Properties['DashboardName']).toBe('offload');
    const body = JSON.stringify(dashboards[0]!.Properties['DashboardBody']);
    for (const metric of ['ColdStart', 'InitMs', 'ComputeMs', 'BytesIn', 'BytesOut', 'ClientErrors', 'ServerErrors', 'Throttles']) expect(body).toContain(metric);
    expect(body).toContain('\\"offload\\"'); // the EMF namespace
    const names = [...s.deployment.models.flatMap((m) => m.tails.map((t) => t.functionName)), 'offload-planner'];
    for (const name of names) {
      expect(body).toContain(`alarm:${name}-throttles`);
      expect(body).toContain(`alarm:${name}-errors`);
    }
    s.root.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'offload-planner-throttles' });
  });
});

describe('logs and alarms', () => {
  const everyTemplate = () => [s.root, ...s.nested.values()];

  it('gives every function its own log group with the configured retention', () => {
    for (const t of everyTemplate()) {
      const groups = resourcesOf(t, 'AWS::Logs::LogGroup');
      for (const [, fn] of Object.entries(resourcesOf(t, 'AWS::Lambda::Function'))) {
        const ref = ((fn.Properties['LoggingConfig'] as { LogGroup: { Ref: string } }).LogGroup).Ref;
        expect(groups[ref]!.Properties).toEqual({ LogGroupName: `/aws/lambda/${String(fn.Properties['FunctionName'])}`, RetentionInDays: 14 });
      }
    }
  });

  it('alarms on throttles and on errors of every function', () => {
    for (const t of everyTemplate()) {
      const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
      for (const id of Object.keys(resourcesOf(t, 'AWS::Lambda::Function'))) {
        const mine = alarms.filter((a) => JSON.stringify(a['Dimensions']) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id } }]));
        expect(mine.map((a) => a['MetricName']).sort()).toEqual(['Errors', 'Throttles']);
        for (const a of mine) expect(a).toMatchObject({ Statistic: 'Sum', Threshold: 1, Period: 60, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      }
    }
  });
});

afterAll(removeTempDirs);
