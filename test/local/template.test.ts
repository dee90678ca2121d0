import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  discoverApp,
  functionNameFromArn,
  localResourceNames,
  parseRouteKey,
  TemplateError,
  type ResourceRef,
} from '../../local/template';

const ASSEMBLY = resolve(import.meta.dirname, 'fixtures/assembly');
const HANDLERS = resolve(import.meta.dirname, 'fixtures/handlers');

function discover(extra: Parameters<typeof discoverApp>[1] = {}) {
  return discoverApp(ASSEMBLY, { resolveResource: localResourceNames(), ...extra });
}

describe('discoverApp on a hand-written assembly (root stack, nested stack, second stack)', () => {
  it('finds every Node.js function with handler, code directory, memory, timeout and reserved concurrency', () => {
    const app = discover();

    const byName = new Map(app.functions.map((f) => [f.name, f]));
    expect([...byName.keys()].sort()).toEqual(
      ['Root-CjsFn1234ABCD', 'Root-Tail0NoNameC9D0-1028163f', 'offload-dev-tail-m-17', 'offload-other-ConsumerFnABCD1234', 'offload-planner'].sort(),
    );
    const planner = byName.get('offload-planner');
    expect(planner).toMatchObject({
      logicalId: 'PlannerD1424F44',
      stackPath: ['Root'],
      handler: 'index.api',
      codeDir: HANDLERS,
      memoryMB: 256,
      timeoutS: 10,
      reservedConcurrency: null,
      runtime: 'nodejs22.x',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:offload-planner',
    });
    const tail = byName.get('offload-dev-tail-m-17');
    expect(tail).toMatchObject({
      stackPath: ['Root', 'ModelMNestedStackResource1A2B3C4D'],
      memoryMB: 2048,
      timeoutS: 2,
      reservedConcurrency: 2,
    });
    // no MemorySize/Timeout: CloudFormation's defaults
    expect(byName.get('Root-CjsFn1234ABCD')).toMatchObject({ memoryMB: 128, timeoutS: 3, runtime: 'nodejs20.x' });
  });

  it('finds the code of a function without asset metadata through the asset manifest (S3Key hash)', () => {
    const cjs = discover().functions.find((f) => f.logicalId === 'CjsFn1234ABCD');
    expect(cjs?.codeDir).toBe(join(HANDLERS, 'commonjs'));
    // its layer's asset, found through the LayerVersion's metadata
    expect(cjs?.layerDirs).toEqual([join(HANDLERS, 'commonjs')]);
  });

  it('resolves Ref, GetAtt, Join, Sub, Select/Split, If, FindInMap, ImportValue, nested outputs and parameters', () => {
    const app = discover();
    const env = (name: string) => app.functions.find((f) => f.name === name)?.environment;

    expect(env('offload-planner')).toEqual({
      REGISTRY_TABLE: 'offload-dev-registry',
      REGISTRY_TABLE_ARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/offload-dev-registry',
      ARTIFACT_BUCKET: 'root-artifacts82dd59a1',
      MODE: 'development',
      TAIL_FUNCTION: 'offload-dev-tail-m-17',
      REGION: 'us-east-1',
      JOINED: 'offload-dev-000000000000',
      SUBBED: 'models/us-east-1/${Literal}',
      SELECTED: 'b',
      BACKEND: 'wasm',
      DATA_DIR: '/var/task/data',
      NUMBER: '42',
    });
    // parent Ref passed as a nested-stack parameter
    expect(env('offload-dev-tail-m-17')).toMatchObject({ ARTIFACT_BUCKET: 'root-artifacts82dd59a1', CUT: '17' });
    // Fn::ImportValue of the root stack's export
    expect(env('offload-other-ConsumerFnABCD1234')).toEqual({
      PLANNER_ARN: 'arn:aws:lambda:us-east-1:000000000000:function:offload-planner',
    });
  });

  it('takes parameter values, region and account from the options', () => {
    const app = discover({ parameters: { Stage: 'prod' }, region: 'eu-west-1', accountId: '123456789012' });
    const planner = app.functions.find((f) => f.logicalId === 'PlannerD1424F44');

    expect(planner?.environment).toMatchObject({
      REGISTRY_TABLE: 'offload-prod-registry',
      MODE: 'production',
      BACKEND: 'tensorflow',
      REGION: 'eu-west-1',
      TAIL_FUNCTION: 'offload-prod-tail-m-17',
    });
    expect(planner?.arn).toBe('arn:aws:lambda:eu-west-1:123456789012:function:offload-planner');
    expect(app.functions.map((f) => f.name)).toContain('offload-prod-tail-m-17');
  });

  it('maps every HTTP API route, across stacks, to its integration function', () => {
    const routes = discover().routes.map((r) => [r.routeKey, r.functionName, r.payloadFormatVersion, r.timeoutMs]);

    expect(routes).toEqual(
      expect.arrayContaining([
        ['GET /models', 'offload-planner', '2.0', 30_000],
        ['POST /plan', 'offload-planner', '2.0', 30_000],
        ['ANY /echo/{proxy+}', 'offload-planner', '2.0', 30_000],
        ['POST /infer/m/17', 'offload-dev-tail-m-17', '2.0', 5_000],
        ['POST /infer/{model}/{cut}', 'offload-dev-tail-m-17', '2.0', 5_000],
      ]),
    );
    expect(routes).toHaveLength(5);
  });

  it('lists the buckets and tables with their local names, and skips what cannot run', () => {
    const app = discover();

    expect(app.resources.map((r) => [r.type, r.name])).toEqual([
      ['AWS::S3::Bucket', 'root-artifacts82dd59a1'],
      ['AWS::DynamoDB::Table', 'offload-dev-registry'],
    ]);
    expect(app.skipped).toEqual([
      { stackPath: ['Root'], logicalId: 'PyFn99999999', reason: 'runtime python3.12 is not Node.js' },
      { stackPath: ['Root'], logicalId: 'ImageFnABCDEF01', reason: expect.stringMatching(/^container image function/) },
    ]);
    expect(app.stacks.map((s) => s.templateFile)).toEqual(['Root.template.json', 'RootModelM.nested.template.json', 'Other.template.json']);
  });

  it('without a resolver, fails naming each function and variable that needs one', () => {
    let error: unknown;
    try {
      discoverApp(ASSEMBLY);
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(TemplateError);
    const message = (error as Error).message;
    expect(message).toMatch(/function offload-planner .*environment variable ARTIFACT_BUCKET: Ref Artifacts82DD59A1 \(AWS::S3::Bucket\)/);
    expect(message).toMatch(/function offload-dev-tail-m-17 .*environment variable ARTIFACT_BUCKET/);
    // the table has an explicit TableName, so it needs no resolver
    expect(message).not.toMatch(/REGISTRY_TABLE/);
  });

  it('asks the caller resolver first, with what the reference points at', () => {
    const seen: ResourceRef[] = [];
    const app = discoverApp(ASSEMBLY, {
      resolveResource: (ref) => {
        seen.push(ref);
        return ref.type === 'AWS::S3::Bucket' ? 'my-bucket' : undefined;
      },
    });

    expect(app.functions.find((f) => f.name === 'offload-dev-tail-m-17')?.environment.ARTIFACT_BUCKET).toBe('my-bucket');
    expect(seen).toContainEqual(
      expect.objectContaining({ logicalId: 'Artifacts82DD59A1', type: 'AWS::S3::Bucket', attribute: null, stackPath: ['Root'] }),
    );
    expect(seen).toContainEqual(expect.objectContaining({ logicalId: 'RegistryTable0A1B2C3D', attribute: 'Arn' }));
  });

  it('reports a missing assembly and an unknown reference clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'offload-template-'));
    try {
      expect(() => discoverApp(dir)).toThrow(/no cloud assembly at .*manifest\.json missing/);

      writeFileSync(
        join(dir, 'manifest.json'),
        JSON.stringify({ artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json' } } } }),
      );
      writeFileSync(
        join(dir, 'S.template.json'),
        JSON.stringify({
          Resources: {
            Fn: {
              Type: 'AWS::Lambda::Function',
              Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Environment: { Variables: { X: { Ref: 'Nope' } } } },
              Metadata: { 'aws:asset:path': HANDLERS },
            },
          },
        }),
      );
      expect(() => discoverApp(dir)).toThrow(/function S-Fn .*environment variable X: Ref Nope: no parameter or resource/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('route keys and ARNs', () => {
  it('parses route keys', () => {
    expect(parseRouteKey('POST /infer/{model}/{cut}')).toEqual({ method: 'POST', path: '/infer/{model}/{cut}' });
    expect(parseRouteKey('$default')).toEqual({ method: 'ANY', path: null });
    expect(() => parseRouteKey('infer')).toThrow(TemplateError);
  });

  it('finds the function name in ARNs and integration URIs', () => {
    expect(functionNameFromArn('arn:aws:lambda:us-east-1:1:function:tail-17')).toBe('tail-17');
    expect(functionNameFromArn('arn:aws:lambda:us-east-1:1:function:tail-17:$LATEST')).toBe('tail-17');
    expect(
      functionNameFromArn('arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:p/invocations'),
    ).toBe('p');
    expect(functionNameFromArn('not-an-arn')).toBeUndefined();
  });
});
