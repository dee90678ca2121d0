/**
 * Deployment configuration of the CDK app: which models, which cuts get tail
 * functions, and the size and limits of every function.
 *
 * Sources, later ones winning:
 * 1. `cdk/offload.config.json` (or the file named by `-c config=FILE`);
 * 2. `-c overrides='{"tail":{"memoryMB":2048}}'` — JSON, deep-merged;
 * 3. flat context keys: `-c stackName=… exportDir=… backend=wasm|tfjs-node
 *    architecture=x86_64|arm64 upload=sync|deployment models=a,b,c`
 *    (`models` keeps per-model settings from the file for the models it names
 *    and gives the others `{ "cuts": "default" }`).
 *
 * Model metadata comes from the export manifests (`<exportDir>/<model>/manifest.json`),
 * which cdk/app.ts produces before it calls {@link resolveDeployment}
 * (cdk/exports.ts: exported when missing or stale, reused otherwise).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as z from 'zod';
import { OffloadError } from '../core/errors';
import { parseWith } from '../core/validation';
import { ARTIFACT_KEY_PREFIX, manifestKey, modelKeyPrefix, parseManifest, partFiles, tailDir, type Manifest } from '../core/manifest';
import { inferRoute, type DeploymentCatalog } from '../core/catalog';
import { selectDefaultCuts, type DropReason } from './cuts';
import { DEFAULT_MAX_BATCH } from '../core/presets';
import { MAX_WASM_THREADS, tailWasmThreads } from '../core/profiles';
import { DEFAULT_PREWARM_OPTIONS } from '../core/prewarm';
import { DEFAULT_STACK_NAME, defaultFunctionName } from '../core/planner';

/** Lambda memory 128 MB … 10,240 MB; HTTP API integrations time out at 30 s, so a longer function timeout buys nothing. */
const memoryMB = z.number().int().min(128).max(10_240);
const timeoutSeconds = z.number().int().min(1).max(30);

export const TailSettingsSchema = z.object({
  memoryMB,
  timeoutSeconds,
  /** Caps the function; the planner's `limit` (docs/cost-model.md §4 `throttled`). */
  reservedConcurrency: z.number().int().min(1),
  /** Instances kept initialised on the `live` alias; 0 = on demand only. Billed while deployed. */
  provisionedConcurrency: z.number().int().min(0),
  ephemeralStorageMB: z.number().int().min(512).max(10_240),
  /** Largest batch one request may carry (the tail answers 413 above it); default core/presets.ts DEFAULT_MAX_BATCH. */
  maxBatch: z.number().int().min(1).optional(),
  /**
   * Threads of the tail's wasm engine (1–8); default: the cores its memory size
   * sees (core/profiles.ts `tailWasmThreads`: 2 up to 3,008 MB, 6 at 10,240 MB).
   * `1` runs and prices the spec's single-threaded engine.
   */
  wasmThreads: z.number().int().min(1).max(MAX_WASM_THREADS).optional(),
});
export type TailSettings = z.infer<typeof TailSettingsSchema>;

const modelName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/, 'must be letters, digits, - or _ (it becomes part of function names and routes)');

export const ModelConfigSchema = z.object({
  /** A folder holding a tfjs layers model (model.json + weight files), relative to the project root; without it, the zoo network of this name. */
  source: z.string().min(1).optional(),
  /** `"default"`: the dominated-cut rule of cdk/cuts.ts; or an explicit list (cut 0 is added if missing). */
  cuts: z.union([z.literal('default'), z.array(z.number().int().min(0)).min(1)]).default('default'),
  /** Overrides of `tail` for every function of this model. */
  tail: TailSettingsSchema.partial().optional(),
  /** Overrides per cut (`{ "57": { "provisionedConcurrency": 1 } }`). */
  functions: z.record(z.string().regex(/^\d+$/, 'keys must be cut numbers'), TailSettingsSchema.partial()).optional(),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** `*`, or `scheme://host[:port]` as a browser sends it in `Origin` (no path, no trailing slash). */
const corsOrigin = z.string().regex(/^(\*|https?:\/\/[^/\s*]+(:\d+)?)$/, 'must be * or an origin like https://example.com (no path)');

/** Defaults of the `browser` block; `npm start` gets the same (its stack is synthesised from this app). */
export const DEFAULT_BROWSER = Object.freeze({
  allowOrigins: Object.freeze(['*']),
  artifactUrlSeconds: 3600,
  identityPool: Object.freeze({ enabled: false, allowUnauthenticated: true, classicFlow: false }),
});

/** A Cognito user pool id as AWS spells it: `<region>_<id>`. */
const userPoolId = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d_[0-9a-zA-Z]+$/, 'must be a user pool id like eu-west-1_AbCdEf123');

/** Default reserved concurrency of the planner function. */
export const DEFAULT_PLANNER_RESERVED_CONCURRENCY = 5;

/**
 * Default HTTP API throttling: 50 requests/s with bursts of 100 on every
 * route, 20/s with bursts of 40 on `POST /plan` (a device plans once per
 * inference at most). Far below the account's 10,000/s, so one runaway client
 * cannot exhaust it; raise them for a large fleet.
 */
export const DEFAULT_THROTTLE = Object.freeze({ rateLimit: 50, burstLimit: 100, plan: Object.freeze({ rateLimit: 20, burstLimit: 40 }) });

/** Retention values CloudWatch Logs accepts. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const OffloadConfigSchema = z.object({
  /** Stack name and prefix of every function name (`<stackName>-<model>-<cut>`). */
  stackName: z
    .string()
    .regex(/^[a-zA-Z][a-zA-Z0-9-]{0,29}$/, 'must start with a letter, use letters, digits or -, at most 30 characters')
    .default(DEFAULT_STACK_NAME),
  /** `offload export` output folder, relative to the project root. */
  exportDir: z.string().min(1).default('.offload/export'),
  /** `wasm`: ZIP function with tfjs-backend-wasm. `tfjs-node`: container image with libtensorflow (built at deploy time). */
  backend: z.enum(['wasm', 'tfjs-node']).default('wasm'),
  architecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
  /** `deployment`: each model's export is a CDK asset that a BucketDeployment copies into the bucket during deploy. `sync`: you upload it with `aws s3 sync` after deploy. */
  upload: z.enum(['sync', 'deployment']).default('deployment'),
  logRetentionDays: z
    .number()
    .refine((d) => (RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${RETENTION_DAYS.join(', ')}`)
    .default(14),
  tail: TailSettingsSchema.default({ memoryMB: 3008, timeoutSeconds: 30, reservedConcurrency: 10, provisionedConcurrency: 0, ephemeralStorageMB: 512 }),
  planner: z
    .object({
      memoryMB,
      timeoutSeconds,
      /**
       * Caps the planner's environments (429 past it): without a cap a burst of
       * plans draws on the account's unreserved concurrency (20 concurrent plans
       * made 20 environments here). A plan computes in milliseconds, so 5 serve
       * hundreds of plans a second.
       */
      reservedConcurrency: z.number().int().min(1).default(DEFAULT_PLANNER_RESERVED_CONCURRENCY),
      /**
       * How long the planner assumes AWS keeps an idle tail environment that
       * left no word (`FLEET_KEEPALIVE_MS`); unset: the planner's default, 5 min
       * (functions/commons/registry.ts DEFAULT_KEEPALIVE_MS, docs/functions.md
       * "What stays approximate in AWS" for the measurements behind it).
       */
      fleetKeepAliveMs: z.number().int().positive().optional(),
      /**
       * Planner prewarm (core/prewarm.ts, docs/planner.md "Prewarm"): when a
       * plan stays off a tail only because it is cold, that tail would win
       * warm by at least `minGain`, and an earlier plan of this planner
       * instance wanted the same tail within its keep-alive, the planner starts
       * one environment of it with an asynchronous Invoke. On by default (without
       * it the planner never offloads a model whose cold tail loses to the
       * device); `enabled: false` turns it off.
       */
      prewarm: z
        .object({
          enabled: z.boolean().default(true),
          /** Least relative gain of the objective, (chosen − warm) / chosen, that triggers a prewarm. */
          minGain: z.number().min(0, 'must be in 0..1').max(1, 'must be in 0..1').default(DEFAULT_PREWARM_OPTIONS.minGain),
        })
        .strict()
        .default({ enabled: true, minGain: DEFAULT_PREWARM_OPTIONS.minGain }),
    })
    .default({
      memoryMB: 512,
      timeoutSeconds: 10,
      reservedConcurrency: DEFAULT_PLANNER_RESERVED_CONCURRENCY,
      prewarm: { enabled: true, minGain: DEFAULT_PREWARM_OPTIONS.minGain },
    }),
  /**
   * HTTP API throttling (steady requests per second and burst): the stage's
   * default for every route, and a tighter one for `POST /plan`. API Gateway
   * answers 429 past them, before any function runs.
   */
  throttle: z
    .object({
      rateLimit: z.number().positive(),
      burstLimit: z.number().int().min(0),
      plan: z.object({ rateLimit: z.number().positive(), burstLimit: z.number().int().min(0) }),
    })
    .default(DEFAULT_THROTTLE),
  cutRule: z
    .object({ flopsTolerance: z.number().min(0).max(1), payloadLimitBytes: z.number().int().positive().nullable() })
    .default({ flopsTolerance: 0.01, payloadLimitBytes: 6_291_456 }),
  alarms: z
    .object({
      periodSeconds: z.number().int().refine((s) => s === 10 || s === 30 || s % 60 === 0, 'must be 10, 30 or a multiple of 60'),
      evaluationPeriods: z.number().int().min(1),
      /** Throttles (Sum per period) at or above which the alarm fires. */
      throttles: z.number().int().min(1),
      /** Errors (Sum per period) at or above which the alarm fires. */
      errors: z.number().int().min(1),
      /** Existing SNS topic the alarms notify; none by default. */
      topicArn: z.string().startsWith('arn:').optional(),
    })
    .default({ periodSeconds: 60, evaluationPeriods: 1, throttles: 1, errors: 1 }),
  /** The account's concurrency quota: reserved concurrency must leave 100 of it unreserved (a Lambda rule). */
  accountConcurrency: z.number().int().min(100).default(1000),
  /** Most tail functions in one nested stack (each tail costs ≤ 10 resources; CloudFormation allows 500 per stack). */
  tailsPerStack: z.number().int().min(1).max(45).default(40),
  /** What a web page needs to be a device (docs/browser.md). */
  browser: z
    .object({
      /**
       * Origins allowed to call the API and fetch artifacts from a page (CORS on the HTTP API and on the
       * artifact bucket). `*` is the default: every route needs a SigV4 signature, and the browser sends
       * no ambient credentials (no cookies), so an origin by itself grants nothing. `[]` turns CORS off.
       */
      allowOrigins: z.array(corsOrigin).default([...DEFAULT_BROWSER.allowOrigins]),
      /** Lifetime of the presigned artifact URLs `GET /models` hands out; 0 hands out none. */
      artifactUrlSeconds: z.number().int().min(0).max(43_200).default(DEFAULT_BROWSER.artifactUrlSeconds),
      /** A Cognito identity pool whose roles get the client policy, so a page gets temporary credentials. */
      identityPool: z
        .object({
          enabled: z.boolean().default(true),
          /** Guest (unauthenticated) identities get the client policy too: any visitor can plan and infer. */
          allowUnauthenticated: z.boolean().default(DEFAULT_BROWSER.identityPool.allowUnauthenticated),
          /**
           * Also allow the basic (classic) flow (GetOpenIdToken + STS AssumeRoleWithWebIdentity). AWS scopes
           * enhanced-flow guest credentials down to a list of services (docs/browser.md); a page whose guest
           * calls are refused with the enhanced flow can use the basic one, which that scope-down does not apply to.
           */
          classicFlow: z.boolean().default(DEFAULT_BROWSER.identityPool.classicFlow),
          /** Cognito user pools whose ID tokens make an identity authenticated (`cognito-idp.<region>.amazonaws.com/<pool>`). */
          userPools: z.array(z.object({ userPoolId, clientId: z.string().regex(/^[0-9a-z]{1,128}$/, 'must be a user pool app client id') }).strict()).default([]),
          /** Public login providers and their app ids, e.g. `{ "accounts.google.com": "123.apps.googleusercontent.com" }`. */
          loginProviders: z.record(z.string().min(1), z.string().min(1)).default({}),
        })
        .strict()
        .refine(
          (p) => !p.enabled || p.allowUnauthenticated || p.userPools.length > 0 || Object.keys(p.loginProviders).length > 0,
          'with allowUnauthenticated false, name at least one of userPools or loginProviders (else the pool hands out no credentials)',
        )
        .default({ ...DEFAULT_BROWSER.identityPool, userPools: [], loginProviders: {} }),
    })
    .default({
      ...DEFAULT_BROWSER,
      allowOrigins: [...DEFAULT_BROWSER.allowOrigins],
      identityPool: { ...DEFAULT_BROWSER.identityPool, userPools: [], loginProviders: {} },
    }),
  /** HTTP API route quota (300 by default, adjustable by AWS support). */
  apiRouteQuota: z.number().int().min(3).default(300),
  models: z.record(modelName, ModelConfigSchema).refine((m) => Object.keys(m).length > 0, 'must name at least one model'),
});
export type OffloadConfig = z.infer<typeof OffloadConfigSchema>;

/** Reads context values the CDK way (`app.node.tryGetContext`). */
export type ContextReader = (key: string) => unknown;

/** The default configuration file, relative to the project root. */
export const DEFAULT_CONFIG_FILE = 'cdk/offload.config.json';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge for configuration: objects merge, everything else (arrays included) is replaced. */
export function mergeConfig(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = mergeConfig(base[k], v);
  return out;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new OffloadError('not-found', `${what} not found: ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new OffloadError('invalid-input', `${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function contextJson(value: unknown, key: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new OffloadError('invalid-input', `-c ${key}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Builds the configuration from the config file and the CDK context.
 *
 * @example
 * const config = loadConfig((k) => app.node.tryGetContext(k), process.cwd());
 */
export function loadConfig(context: ContextReader, projectRoot: string): OffloadConfig {
  const file = context('config');
  const path = resolve(projectRoot, typeof file === 'string' && file ? file : DEFAULT_CONFIG_FILE);
  let raw = readJson(path, 'configuration file');
  const overrides = context('overrides');
  if (overrides !== undefined) raw = mergeConfig(raw, contextJson(overrides, 'overrides'));
  const flat: Record<string, unknown> = {};
  for (const key of ['stackName', 'exportDir', 'backend', 'architecture', 'upload'] as const) {
    const v = context(key);
    if (v !== undefined) flat[key] = v;
  }
  raw = mergeConfig(raw, flat);
  const models = context('models');
  if (models !== undefined) {
    const names = (Array.isArray(models) ? models.map(String) : String(models).split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    const fromFile = isPlainObject(raw) && isPlainObject(raw['models']) ? raw['models'] : {};
    raw = { ...(raw as object), models: Object.fromEntries(names.map((n) => [n, fromFile[n] ?? { cuts: 'default' }])) };
  }
  return parseWith(OffloadConfigSchema, raw, 'config');
}

/** One tail function to deploy. */
export interface TailSpec extends TailSettings {
  maxBatch: number;
  /**
   * Threads of the wasm engine, resolved ({@link tailWasmThreads}): the function's
   * `OFFLOAD_WASM_THREADS` and the catalog's `wasmThreads`, so that the tail and
   * the planner agree. Absent for tfjs-node tails (libtensorflow runs its own threads).
   */
  wasmThreads?: number;
  model: string;
  cut: number;
  /** Name of layer cut−1, or `input`. */
  layer: string;
  /** Physical function name, `<stackName>-<model>-<cut>` (`-tfn` appended for the tfjs-node image: a ZIP → image switch must replace the function). */
  functionName: string;
  /** `/infer/<model>/<cut>`. */
  route: string;
  /** The model's folder in the bucket, `models/<model>/`: the tail's model.json and the segments it names sit under it. */
  artifactPrefix: string;
  /** Every object the tail reads: `models/<model>/tails/<cut>/model.json` and the segments of layers ≥ cut. Its role may read these and nothing else. */
  artifactKeys: string[];
}

/** One model's part of the deployment. */
export interface ModelDeployment {
  model: string;
  /** Absolute path of `<exportDir>/<model>`. */
  modelDir: string;
  manifest: Manifest;
  /** sha256 of the manifest file as on disk: it lists every file's sha256, so it identifies the whole export. */
  exportHash: string;
  /** Bytes of every file of the export (what the bucket holds for this model). */
  exportBytes: number;
  /** `default` rule or an `explicit` list. */
  selection: 'default' | 'explicit';
  /** Candidates the rule dropped (empty for an explicit list). */
  dropped: DropReason[];
  tails: TailSpec[];
}

/** Everything the stack builds, resolved and checked. */
export interface Deployment {
  config: OffloadConfig;
  /** Absolute export folder. */
  exportDir: string;
  models: ModelDeployment[];
  /** What the planner reads (core/catalog.ts). */
  catalog: DeploymentCatalog;
}

/** S3 key prefix of all artifacts (core/manifest.ts: the export trees sit under `models/`). */
export const ARTIFACT_PREFIX = ARTIFACT_KEY_PREFIX;
/** Lambda's rule: reserved concurrency must leave this much of the account quota unreserved. */
export const UNRESERVED_MINIMUM = 100;

/** What the resolvers of one model share: where the project and its export are. */
interface ExportPaths {
  projectRoot: string;
  /** Absolute export folder. */
  exportDir: string;
  /** The export folder as the user sees it (relative to the project root), for messages. */
  exportDirRel: string;
}

function exportHint(paths: ExportPaths, model: string): string {
  return `\`npx cdk synth\` exports it again (or \`npx offload prepare-deploy\`); remove ${paths.exportDirRel}/${model} if it stays broken`;
}

/** Files of a cut's tail listed in the manifest that are not on disk with the listed size. */
function missingTailFiles(modelDir: string, manifest: Manifest, cut: number): string[] {
  return partFiles(manifest, tailDir(cut)).filter((p) => {
    const f = manifest.files[p];
    const full = join(modelDir, p);
    return f === undefined || !existsSync(full) || statSync(full).size !== f.bytes;
  });
}

/** Reads and checks `<exportDir>/<model>/manifest.json`. */
function readModelManifest(model: string, paths: ExportPaths): { manifest: Manifest; exportHash: string } {
  const manifestPath = join(paths.exportDir, model, 'manifest.json');
  const shown = relative(paths.projectRoot, manifestPath);
  if (!existsSync(manifestPath)) {
    throw new OffloadError('not-found', `No export manifest for model "${model}" at ${shown}: ${exportHint(paths, model)}.`);
  }
  const text = readFileSync(manifestPath, 'utf8');
  let manifest: Manifest;
  try {
    manifest = parseManifest(JSON.parse(text));
  } catch (e) {
    throw new OffloadError('invalid-input', `${shown}: ${(e as Error).message}; ${exportHint(paths, model)}`, { cause: e });
  }
  if (manifest.model !== model) {
    throw new OffloadError('invalid-input', `${shown} describes model "${manifest.model}", not "${model}"`);
  }
  return { manifest, exportHash: createHash('sha256').update(text).digest('hex') };
}

/** The cuts that get functions: the default rule's, or the explicit list (cut 0 added), each checked against the candidates. */
function selectCuts(config: OffloadConfig, model: string, manifest: Manifest): { cuts: number[]; dropped: DropReason[] } {
  const mc = config.models[model]!;
  if (mc.cuts === 'default') return selectDefaultCuts(manifest, config.cutRule);
  const candidates = new Set(manifest.candidates.map((c) => c.cut));
  const cuts = [...new Set([0, ...mc.cuts])].sort((a, b) => a - b);
  const bad = cuts.filter((c) => !candidates.has(c));
  if (bad.length > 0) {
    throw new OffloadError(
      'invalid-input',
      `config.models.${model}.cuts: ${bad.join(', ')} ${bad.length === 1 ? 'is not a candidate cut' : 'are not candidate cuts'} ` +
        `(candidates: ${[...candidates].join(', ')}; see \`npx offload cuts ${model}\`)`,
    );
  }
  return { cuts, dropped: [] };
}

/** Every cut to deploy has its tail in the export, with all its files on disk. */
function checkExportHolds(model: string, manifest: Manifest, cuts: readonly number[], paths: ExportPaths): void {
  const exported = new Set(manifest.exportedCuts);
  const notExported = cuts.filter((c) => !exported.has(c));
  if (notExported.length > 0) {
    throw new OffloadError(
      'not-found',
      `Cuts ${notExported.join(', ')} of ${model} have no exported tail in ${paths.exportDirRel}/${model} ` +
        `(exported: ${[...exported].join(', ') || 'none'}): ${exportHint(paths, model)}.`,
    );
  }
  for (const cut of cuts) {
    const missing = missingTailFiles(join(paths.exportDir, model), manifest, cut);
    if (missing.length > 0) {
      throw new OffloadError(
        'not-found',
        `The export of ${model} is incomplete: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''} missing or of the wrong size: ` +
          `${exportHint(paths, model)}.`,
      );
    }
  }
}

/** One tail function per cut, with its settings (global → model → cut), name, route and the exact objects it reads. */
function tailSpecs(config: OffloadConfig, model: string, manifest: Manifest, cuts: readonly number[]): TailSpec[] {
  const mc = config.models[model]!;
  for (const key of Object.keys(mc.functions ?? {})) {
    if (!cuts.includes(Number(key))) {
      throw new OffloadError('invalid-input', `config.models.${model}.functions.${key}: cut ${key} gets no function (deployed cuts: ${cuts.join(', ')})`);
    }
  }
  const prefix = modelKeyPrefix(model);
  return cuts.map((cut): TailSpec => {
    const settings = { ...config.tail, ...(mc.tail ?? {}), ...(mc.functions?.[String(cut)] ?? {}) };
    const functionName = defaultFunctionName(model, cut, config.stackName, config.backend);
    if (functionName.length > 64) {
      throw new OffloadError('invalid-input', `function name ${functionName} is longer than Lambda's 64 characters: shorten config.stackName or the model name`);
    }
    if (settings.provisionedConcurrency > settings.reservedConcurrency) {
      throw new OffloadError(
        'invalid-input',
        `config.models.${model}: cut ${cut} has provisionedConcurrency ${settings.provisionedConcurrency} > reservedConcurrency ${settings.reservedConcurrency}`,
      );
    }
    const { wasmThreads, ...rest } = settings;
    if (wasmThreads !== undefined && config.backend !== 'wasm') {
      throw new OffloadError('invalid-input', `config.models.${model}: cut ${cut} sets wasmThreads, which only the wasm backend has (backend is ${config.backend}): remove it`);
    }
    return {
      ...rest,
      ...(config.backend === 'wasm' ? { wasmThreads: tailWasmThreads(settings.memoryMB, wasmThreads) } : {}),
      maxBatch: settings.maxBatch ?? DEFAULT_MAX_BATCH,
      model,
      cut,
      layer: manifest.candidates.find((c) => c.cut === cut)?.layer ?? 'input',
      functionName,
      route: inferRoute(model, cut),
      artifactPrefix: prefix,
      artifactKeys: partFiles(manifest, tailDir(cut)).map((p) => `${prefix}${p}`),
    };
  });
}

/** One model's deployment: its manifest, its cuts, its tail functions. */
function resolveModel(config: OffloadConfig, model: string, paths: ExportPaths): ModelDeployment {
  const { manifest, exportHash } = readModelManifest(model, paths);
  const { cuts, dropped } = selectCuts(config, model, manifest);
  checkExportHolds(model, manifest, cuts, paths);
  return {
    model,
    modelDir: join(paths.exportDir, model),
    manifest,
    exportHash,
    exportBytes: Object.values(manifest.files).reduce((sum, f) => sum + f.bytes, 0),
    selection: config.models[model]!.cuts === 'default' ? 'default' : 'explicit',
    dropped,
    tails: tailSpecs(config, model, manifest, cuts),
  };
}

/** The account-level limits every deployment must fit: unreserved concurrency and the API's route quota. */
function checkAccountLimits(config: OffloadConfig, models: readonly ModelDeployment[]): void {
  const allTails = models.flatMap((m) => m.tails);
  const reserved = allTails.reduce((s, t) => s + t.reservedConcurrency, 0) + config.planner.reservedConcurrency;
  if (reserved > config.accountConcurrency - UNRESERVED_MINIMUM) {
    throw new OffloadError(
      'invalid-input',
      `The deployment reserves ${reserved} concurrent executions (${allTails.length} tails and the planner); an account with ` +
        `${config.accountConcurrency} must keep ${UNRESERVED_MINIMUM} unreserved. Lower tail.reservedConcurrency, deploy fewer cuts, ` +
        `or set accountConcurrency to your account's quota.`,
    );
  }
  const routes = allTails.length + 2;
  if (routes > config.apiRouteQuota) {
    throw new OffloadError(
      'invalid-input',
      `The API would have ${routes} routes, above the HTTP API quota of ${config.apiRouteQuota}. Deploy fewer cuts, or raise the quota with AWS and set apiRouteQuota.`,
    );
  }
}

/** What the planner reads: per model its manifest key and its tails' functions, routes and limits. */
function deploymentCatalog(config: OffloadConfig, models: readonly ModelDeployment[]): DeploymentCatalog {
  return {
    version: 1,
    backend: config.backend,
    artifactPrefix: ARTIFACT_PREFIX,
    models: Object.fromEntries(
      models.map((m) => [
        m.model,
        {
          manifestKey: manifestKey(m.model),
          tails: m.tails.map((t) => ({
            cut: t.cut,
            function: t.functionName,
            route: t.route,
            memoryMB: t.memoryMB,
            timeoutSeconds: t.timeoutSeconds,
            reservedConcurrency: t.reservedConcurrency,
            provisionedConcurrency: t.provisionedConcurrency,
            ...(t.wasmThreads === undefined ? {} : { wasmThreads: t.wasmThreads }),
          })),
        },
      ]),
    ),
  };
}

/**
 * Reads the manifests, picks the cuts, sizes every function and checks the
 * account-level limits. Throws an OffloadError saying what to do when an
 * export is missing or incomplete (cdk/app.ts exports before calling this).
 */
export function resolveDeployment(config: OffloadConfig, projectRoot: string): Deployment {
  const exportDir = isAbsolute(config.exportDir) ? config.exportDir : resolve(projectRoot, config.exportDir);
  const paths: ExportPaths = { projectRoot, exportDir, exportDirRel: relative(projectRoot, exportDir) || '.' };
  const models = Object.keys(config.models).map((model) => resolveModel(config, model, paths));
  checkAccountLimits(config, models);
  return { config, exportDir, models, catalog: deploymentCatalog(config, models) };
}
