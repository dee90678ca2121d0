/**
 * The local stack behind `npm start` (`offload local`): the whole offload
 * backend on this machine, with no AWS account and no Docker.
 *
 * 1. export the configured models (the `offload export` code path) into the
 *    configuration's `exportDir`, skipping what is up to date;
 * 2. synthesise the CDK app, or reuse a fresh cloud assembly (local/synth.ts);
 * 3. start the S3 stand-in (s3rver, data kept in the state folder so uploads
 *    survive restarts) and the DynamoDB stand-in (dynalite, in memory: the
 *    fleet registry describes live environments, and none survive a restart);
 * 4. create the bucket and the table the templates declare (names from the
 *    same resolver the emulator uses; key schema and indexes from the
 *    template; TTL is not emulated by dynalite — the registry's readers
 *    ignore stale items by themselves);
 * 5. upload the artifacts (unchanged objects skipped);
 * 6. start the Lambda emulator on the synthesised template, every function
 *    pointed at the stand-ins through `AWS_ENDPOINT_URL_S3` /
 *    `AWS_ENDPOINT_URL_DYNAMODB`, with dummy credentials and a region.
 *
 * The planner's registry keep-alive (`FLEET_KEEPALIVE_MS`) is set to the
 * emulator's keep-alive: locally the reaping rule is known exactly, so the
 * planner's view of warm instances follows the emulator's.
 *
 * A reaped or closed environment marks itself gone in the registry (SIGTERM,
 * as in Lambda's Shutdown phase). One that dies without that chance — killed
 * (kill -9), crashed, timed out, failed its init, or outlived its grace — is
 * marked gone here, from the emulator's `exit` event: the platform's side of
 * the bookkeeping. In AWS nothing plays this part (docs/functions.md).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import lockfile from 'proper-lockfile';
import * as z from 'zod';
import { loadConfig, type OffloadConfig } from '../cdk/config';
import { inferRoute } from '../core/catalog';
import { OffloadError } from '../core/errors';
import { parseWith } from '../core/validation';
import { ensureExports, uploadArtifacts, type ArtifactProgress, type ModelArtifacts, type UploadSummary } from './artifacts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { markEnvironmentGone } from '../functions/commons/registry';
import { DEFAULT_KEEP_ALIVE_MS, type LifecycleEvent, type LogSink } from './emulator';
import { startLocalEmulator, type LocalEmulator } from './index';
import { assertPortFree } from './port';
import { startDynamo, startS3, type StandIn } from './stand-ins';
import { synthesizeLocal, type SynthResult } from './synth';
import { discoverApp, localResourceNames, type DiscoveredApp, type ResourceSpec } from './template';

/** The project root (the folder holding package.json, cdk/, functions/, …). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** Configuration of the local stack when none is given: two zoo models, a handful of cuts each. */
export const DEFAULT_LOCAL_CONFIG = 'local/offload.local.json';
/** Cloud assembly and S3 data of the local stack, relative to the project root. */
export const DEFAULT_STATE_DIR = '.offload/local';
/** Region every function and client of the local stack uses. */
export const LOCAL_REGION = 'us-east-1';
/** Credentials s3rver accepts (it checks signatures); dynalite accepts any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalStackOptions {
  /** Default {@link PROJECT_ROOT}. */
  projectRoot?: string;
  /** Configuration file (cdk/config.ts schema), relative to the project root; default {@link DEFAULT_LOCAL_CONFIG}. */
  configFile?: string;
  /** Deploy only these models (settings of the file kept for the ones it names, default cuts for others). */
  models?: readonly string[];
  /** Deep-merged over the file (cdk/config.ts `-c overrides`), e.g. `{ tail: { reservedConcurrency: 2 } }`. */
  overrides?: Record<string, unknown>;
  /** State folder (cloud assembly, S3 data), relative to the project root; default {@link DEFAULT_STATE_DIR}. */
  stateDir?: string;
  /** Port of the API and Invoke API; 0 (default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Idle time after which an environment is reaped; default the emulator's ({@link DEFAULT_KEEP_ALIVE_MS}). */
  keepAliveMs?: number;
  /** The demo page's files, served under /_local/demo/ (the CLI passes client/browser/build.ts browserPages()). */
  pages?: (path: string) => Promise<{ body: Uint8Array; contentType: string } | null>;
  /** More variables for every function (after the stack's own), e.g. `{ FLEET_CACHE_MS: '0' }`. */
  env?: Readonly<Record<string, string>>;
  /** Handler output; default `inherit` (stderr, prefixed). */
  logs?: 'inherit' | 'ignore' | LogSink;
  /** Synthesise even when the assembly is fresh. */
  forceSynth?: boolean;
  /** Data folder of the S3 stand-in; default `<stateDir>/s3` (kept, so unchanged artifacts are not uploaded again). */
  s3Directory?: string;
  /** Progress of the export and upload steps (for a progress bar). */
  onProgress?: (p: ArtifactProgress) => void;
  /** One line per step, for the user. */
  onStep?: (message: string) => void;
}

/** One deployed tail, as the local stack runs it. */
export interface LocalTail {
  model: string;
  cut: number;
  function: string;
  route: string;
  reservedConcurrency: number | null;
  tailWeightBytes: number;
}

export interface LocalStack {
  /** Base URL of the HTTP API routes and the Invoke API. */
  url: string;
  port: number;
  config: OffloadConfig;
  s3: StandIn;
  dynamo: StandIn;
  bucket: string;
  table: string;
  app: DiscoveredApp;
  emulator: LocalEmulator['emulator'];
  models: ModelArtifacts[];
  tails: LocalTail[];
  keepAliveMs: number;
  /** What each step did, and how long it took (ms). */
  report: {
    exports: { model: string; export: ModelArtifacts['export']; ms: number }[];
    synth: Omit<SynthResult, 'outdir'>;
    upload: UploadSummary;
    timings: { exportMs: number; synthMs: number; standInsMs: number; uploadMs: number; emulatorMs: number; totalMs: number };
  };
  /** Stops the API, kills every environment process, stops the stand-ins. Idempotent. */
  close(): Promise<void>;
}

const KeySchemaElement = z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) });
const Projection = z.object({
  ProjectionType: z.enum(['ALL', 'KEYS_ONLY', 'INCLUDE']).optional(),
  NonKeyAttributes: z.array(z.string()).optional(),
});
const Throughput = z.object({ ReadCapacityUnits: z.coerce.number(), WriteCapacityUnits: z.coerce.number() });
/** The parts of an `AWS::DynamoDB::Table` the stand-in needs (literal values, as CDK writes them). */
const TablePropertiesSchema = z.object({
  KeySchema: z.array(KeySchemaElement).min(1),
  AttributeDefinitions: z.array(z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) })),
  BillingMode: z.enum(['PAY_PER_REQUEST', 'PROVISIONED']).optional(),
  ProvisionedThroughput: Throughput.optional(),
  GlobalSecondaryIndexes: z
    .array(z.object({ IndexName: z.string(), KeySchema: z.array(KeySchemaElement), Projection, ProvisionedThroughput: Throughput.optional() }))
    .optional(),
  LocalSecondaryIndexes: z.array(z.object({ IndexName: z.string(), KeySchema: z.array(KeySchemaElement), Projection })).optional(),
  TimeToLiveSpecification: z.object({ AttributeName: z.string().optional(), Enabled: z.boolean().optional() }).optional(),
});

const DEFAULT_THROUGHPUT = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };

/** Creates a table in the DynamoDB stand-in as the template declares it (TTL aside: dynalite has no TTL). */
export async function createTableFromTemplate(client: DynamoDBClient, resource: ResourceSpec): Promise<void> {
  if (!resource.name) throw new OffloadError('internal', `table ${resource.logicalId} has no local name`);
  const p = parseWith(TablePropertiesSchema, resource.properties, `${resource.logicalId}.Properties`);
  const onDemand = p.BillingMode === 'PAY_PER_REQUEST';
  await client.send(
    new CreateTableCommand({
      TableName: resource.name,
      KeySchema: p.KeySchema,
      AttributeDefinitions: p.AttributeDefinitions,
      BillingMode: onDemand ? 'PAY_PER_REQUEST' : 'PROVISIONED',
      ...(onDemand ? {} : { ProvisionedThroughput: p.ProvisionedThroughput ?? DEFAULT_THROUGHPUT }),
      ...(p.GlobalSecondaryIndexes?.length
        ? {
            GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((g) => ({
              IndexName: g.IndexName,
              KeySchema: g.KeySchema,
              Projection: g.Projection,
              ...(onDemand ? {} : { ProvisionedThroughput: g.ProvisionedThroughput ?? DEFAULT_THROUGHPUT }),
            })),
          }
        : {}),
      ...(p.LocalSecondaryIndexes?.length ? { LocalSecondaryIndexes: p.LocalSecondaryIndexes } : {}),
    }),
  );
}

/** `AWS::S3::Bucket` `CorsConfiguration.CorsRules`, as CDK writes them. */
const BucketCorsSchema = z.object({
  CorsRules: z.array(
    z.object({
      AllowedMethods: z.array(z.enum(['GET', 'PUT', 'HEAD', 'POST', 'DELETE'])),
      AllowedOrigins: z.array(z.string()),
      AllowedHeaders: z.array(z.string()).optional(),
      ExposedHeaders: z.array(z.string()).optional(),
      MaxAge: z.number().int().optional(),
    }),
  ),
});

/** The template's bucket CORS rules on the stand-in, so a page can fetch presigned artifact URLs as in AWS. */
async function applyBucketCors(client: S3Client, bucket: ResourceSpec): Promise<void> {
  const raw = bucket.properties['CorsConfiguration'];
  if (raw === undefined || !bucket.name) return;
  const cors = parseWith(BucketCorsSchema, raw, `bucket ${bucket.logicalId} CorsConfiguration`);
  await client.send(
    new PutBucketCorsCommand({
      Bucket: bucket.name,
      CORSConfiguration: {
        CORSRules: cors.CorsRules.map((r) => ({
          AllowedMethods: r.AllowedMethods,
          AllowedOrigins: r.AllowedOrigins,
          ...(r.AllowedHeaders ? { AllowedHeaders: r.AllowedHeaders } : {}),
          ...(r.ExposedHeaders ? { ExposeHeaders: r.ExposedHeaders } : {}),
          ...(r.MaxAge === undefined ? {} : { MaxAgeSeconds: r.MaxAge }),
        })),
      },
    }),
  );
}

/**
 * Marks gone, in the registry, every tail environment that ended without its
 * graceful shutdown (the emulator's `exit` events); returns the closer that
 * stops listening and waits for the writes in flight.
 */
function retireDeadEnvironments(emulator: LocalStack['emulator'], tails: readonly LocalTail[], table: string, endpoint: string): () => Promise<void> {
  const byFunction = new Map(tails.map((t) => [t.function, t]));
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 }));
  const writes = new Set<Promise<void>>();
  const onLifecycle = (e: LifecycleEvent): void => {
    if (e.type !== 'exit' || e.graceful) return;
    const tail = byFunction.get(e.function);
    if (!tail) return;
    const write = markEnvironmentGone(client, table, { model: tail.model, cut: tail.cut, instance: e.envId }).catch((err: unknown) => {
      process.stderr.write(`offload local: could not retire environment ${e.envId} of ${e.function} in the registry: ${String(err)}\n`);
    });
    writes.add(write);
    void write.finally(() => writes.delete(write));
  };
  emulator.on('lifecycle', onLifecycle);
  return async () => {
    emulator.off('lifecycle', onLifecycle);
    await Promise.all([...writes]);
    client.destroy();
  };
}

function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function abs(root: string, p: string): string {
  return isAbsolute(p) ? p : resolve(root, p);
}

/** Closes what was started, last first, even when one close fails. */
async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const close of [...closers].reverse()) {
    try {
      await close();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
}

/**
 * The emulator starts environments on demand only: it has no provisioned
 * concurrency (no alias kept initialised), and a planner told otherwise would
 * count on warm instances that do not exist. Locally every tail is on demand.
 */
function withoutProvisionedConcurrency(config: OffloadConfig, step: (m: string) => void): OffloadConfig {
  const models = Object.entries(config.models);
  const provisioned =
    config.tail.provisionedConcurrency > 0 ||
    models.some(([, m]) => (m.tail?.provisionedConcurrency ?? 0) > 0 || Object.values(m.functions ?? {}).some((f) => (f.provisionedConcurrency ?? 0) > 0));
  if (!provisioned) return config;
  step('provisioned concurrency is not emulated: every tail runs on demand locally');
  const zero = <T extends { provisionedConcurrency?: number }>(t: T): T => (t.provisionedConcurrency === undefined ? t : { ...t, provisionedConcurrency: 0 });
  return {
    ...config,
    tail: zero(config.tail),
    models: Object.fromEntries(
      models.map(([name, m]) => [
        name,
        {
          ...m,
          ...(m.tail ? { tail: zero(m.tail) } : {}),
          ...(m.functions ? { functions: Object.fromEntries(Object.entries(m.functions).map(([k, f]) => [k, zero(f)])) } : {}),
        },
      ]),
    ),
  };
}

/** What {@link prepareLocalStack} did: the configuration, its exports, its cloud assembly. */
export interface PreparedLocalStack {
  projectRoot: string;
  config: OffloadConfig;
  stateDir: string;
  models: ModelArtifacts[];
  synth: SynthResult;
  exportMs: number;
}

/** How long a caller waits for another process preparing the same state folder. */
const LOCK_WAIT_MS = 10 * 60_000;
/**
 * A lock whose owner stopped refreshing it this long ago is taken over (the
 * owner died). Long, because export and synthesis run synchronous stretches
 * that delay the refresh on a loaded machine.
 */
const LOCK_STALE_MS = 120_000;

/**
 * Runs `work` holding `<dir>/.lock` (proper-lockfile: an atomic directory whose
 * mtime the owner refreshes), so two stacks sharing a state folder do not
 * export or synthesise into it at the same time. A lock left by a process that
 * died is taken over once stale.
 */
export async function withStateLock<T>(dir: string, work: () => Promise<T>, onWait?: () => void): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const lockfilePath = join(dir, '.lock');
  const options = {
    lockfilePath,
    realpath: false,
    stale: LOCK_STALE_MS,
    update: LOCK_STALE_MS / 4,
    onCompromised: (e: Error) => process.stderr.write(`offload: lost the lock on ${dir} (${e.message}); another process may prepare it too\n`),
  };
  const started = Date.now();
  let release: (() => Promise<void>) | undefined;
  while (!release) {
    try {
      release = await lockfile.lock(dir, options);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
      if (Date.now() - started > LOCK_WAIT_MS) {
        throw new OffloadError('unavailable', `${dir} is locked by another process for more than ${LOCK_WAIT_MS / 60_000} minutes; remove ${lockfilePath} if no offload process is running`);
      }
      onWait?.(); // once: the first refusal
      onWait = undefined;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Steps 1 and 2: the configuration, the exports and the cloud assembly
 * (under the state folder's lock). {@link startLocalStack} calls it; tests
 * and benchmarks call it to prepare a state folder once.
 */
export async function prepareLocalStack(options: Omit<LocalStackOptions, 'port' | 'host' | 'env' | 'logs' | 'keepAliveMs'> = {}): Promise<PreparedLocalStack> {
  const step = options.onStep ?? (() => undefined);
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const configFile = abs(projectRoot, options.configFile ?? DEFAULT_LOCAL_CONFIG);
  if (!existsSync(configFile)) throw new OffloadError('not-found', `configuration file not found: ${configFile}`);
  const context: Record<string, unknown> = { config: configFile };
  if (options.overrides) context.overrides = options.overrides;
  if (options.models) {
    if (options.models.length === 0) throw new OffloadError('invalid-input', '--models: name at least one model');
    context.models = options.models.join(',');
  }
  // The local stack copies the exports into the S3 stand-in itself (uploadArtifacts: the same keys a
  // deployment's BucketDeployment writes), so its assembly needs no upload asset (no staged copy of the weights).
  const config = { ...withoutProvisionedConcurrency(loadConfig((key) => context[key], projectRoot), step), upload: 'sync' as const };
  const exportDir = abs(projectRoot, config.exportDir);
  const stateDir = abs(projectRoot, options.stateDir ?? DEFAULT_STATE_DIR);
  return withStateLock(
    stateDir,
    async () => {
      const t = performance.now();
      const models = await ensureExports(config, { projectRoot, exportDir, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
      const exportMs = performance.now() - t;
      step(`exports: ${models.map((m) => `${m.model} (${m.cuts.length} cuts, ${m.export})`).join(', ')} in ${(exportMs / 1000).toFixed(1)} s`);
      const manifestsKey = createHash('sha256');
      for (const m of models) manifestsKey.update(JSON.stringify(m.manifest));
      const synth = await synthesizeLocal({
        projectRoot,
        config,
        outdir: join(stateDir, 'cdk.out'),
        extraKey: manifestsKey.digest('hex'),
        ...(options.forceSynth ? { force: true } : {}),
      });
      step(`cloud assembly: ${synth.reused ? 'reused' : 'synthesised'} (${synth.reason}) in ${(synth.ms / 1000).toFixed(1)} s`);
      return { projectRoot, config, stateDir, models, synth, exportMs };
    },
    () => step(`waiting for another process preparing ${stateDir}…`),
  );
}

/**
 * Starts the local stack and resolves once the API answers.
 *
 * @example
 * const stack = await startLocalStack({ port: 3000 });
 * console.log(`API at ${stack.url}`);
 * // ...
 * await stack.close();
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const t0 = performance.now();
  const step = options.onStep ?? (() => undefined);
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  // before a minute of export and synthesis, not after
  await assertPortFree(options.port ?? 0, options.host ?? '127.0.0.1');
  const { config, stateDir, models, synth, exportMs } = await prepareLocalStack(options);
  const resolveResource = localResourceNames();
  const app = discoverApp(synth.outdir, { resolveResource, region: LOCAL_REGION });
  const bucket = app.resources.find((r) => r.type === 'AWS::S3::Bucket' && r.name);
  const table = app.resources.find((r) => r.type === 'AWS::DynamoDB::Table' && r.name);
  if (!bucket?.name || !table?.name) throw new OffloadError('internal', 'the synthesised app declares no artifact bucket or no registry table');

  const closers: (() => Promise<void>)[] = [];
  try {
    // 3-4. stand-ins, bucket and table
    let t = performance.now();
    const [s3, dynamo] = await Promise.all([
      startS3({
        directory: options.s3Directory ? abs(options.projectRoot ?? PROJECT_ROOT, options.s3Directory) : join(stateDir, 's3'),
        buckets: app.resources.filter((r) => r.type === 'AWS::S3::Bucket' && r.name).map((r) => r.name as string),
      }),
      startDynamo(),
    ]);
    closers.push(() => s3.close(), () => dynamo.close());
    const ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    try {
      for (const r of app.resources) if (r.type === 'AWS::DynamoDB::Table' && r.name) await createTableFromTemplate(ddb, r);
    } finally {
      ddb.destroy();
    }
    const standInsMs = performance.now() - t;
    step(`S3 stand-in ${s3.endpoint} (bucket ${bucket.name}), DynamoDB stand-in ${dynamo.endpoint} (table ${table.name})`);

    // 5. artifacts
    t = performance.now();
    const client = localS3Client(s3.endpoint);
    let upload: UploadSummary;
    try {
      await applyBucketCors(client, bucket);
      upload = await uploadArtifacts(client, bucket.name, models, options.onProgress ? { onProgress: options.onProgress } : {});
    } finally {
      client.destroy();
    }
    const uploadMs = performance.now() - t;
    step(`artifacts: ${upload.uploaded} uploaded (${(upload.bytes / 2 ** 20).toFixed(1)} MiB), ${upload.skipped} unchanged, in ${(uploadMs / 1000).toFixed(1)} s`);

    // 6. emulator
    t = performance.now();
    const local = await startLocalEmulator({
      cdkOut: synth.outdir,
      resolveResource,
      region: LOCAL_REGION,
      keepAliveMs,
      logs: options.logs ?? 'inherit',
      ...(options.pages ? { pages: options.pages } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.host ? { host: options.host } : {}),
      env: {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        FLEET_KEEPALIVE_MS: String(keepAliveMs),
        // Lambda runs nodejs22.x, where the SDK has nothing to warn about; here the environments run this machine's Node.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...(options.env ?? {}),
      },
    });
    closers.push(() => local.close());
    const emulatorMs = performance.now() - t;

    const byName = new Map(local.app.functions.map((f) => [f.name, f]));
    const tails: LocalTail[] = [];
    for (const m of models) {
      for (const cut of m.cuts) {
        const route = inferRoute(m.model, cut);
        const r = local.app.routes.find((x) => x.path === route);
        const fn = r ? byName.get(r.functionName) : undefined;
        if (!r || !fn) throw new OffloadError('internal', `the synthesised app has no function behind POST ${route}`);
        const candidate = m.manifest.candidates.find((c) => c.cut === cut);
        tails.push({
          model: m.model,
          cut,
          function: fn.name,
          route,
          reservedConcurrency: fn.reservedConcurrency,
          tailWeightBytes: candidate?.tailWeightBytes ?? 0,
        });
      }
    }

    closers.push(retireDeadEnvironments(local.emulator, tails, table.name, dynamo.endpoint));

    let closed: Promise<void> | undefined;
    return {
      url: local.url,
      port: local.server.port,
      config,
      s3,
      dynamo,
      bucket: bucket.name,
      table: table.name,
      app: local.app,
      emulator: local.emulator,
      models,
      tails,
      keepAliveMs,
      report: {
        exports: models.map((m) => ({ model: m.model, export: m.export, ms: m.ms })),
        synth: { reused: synth.reused, reason: synth.reason, ms: synth.ms },
        upload,
        timings: { exportMs, synthMs: synth.ms, standInsMs, uploadMs, emulatorMs, totalMs: performance.now() - t0 },
      },
      close() {
        closed ??= closeAll(closers);
        return closed;
      },
    };
  } catch (e) {
    await closeAll(closers).catch(() => undefined);
    throw e;
  }
}
