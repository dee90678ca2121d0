/**
 * What the CDK app tells the planner function about the deployment.
 *
 * The deployed tails come from the deployment catalog (core/catalog.ts), a
 * `catalog.json` file the CDK app bundles beside the handler (Lambda caps a
 * function's whole environment at 4 KB, too small for a zoo of tails).
 *
 * | variable | meaning |
 * |---|---|
 * | `OFFLOAD_CATALOG_FILE` | path of catalog.json, relative to `LAMBDA_TASK_ROOT` (else the working directory) unless absolute |
 * | `ARTIFACT_BUCKET` | bucket holding `models/<model>/manifest.json`, heads, tails |
 * | `REGISTRY_TABLE` | fleet registry table (unset: every function is planned as cold) |
 * | `FLEET_KEEPALIVE_MS` | keep-alive rule of the registry (default 300000) |
 * | `FLEET_CACHE_MS` | how long a model's fleet query is reused (default 100) |
 * | `FLEET_AT_ARRIVAL` | `on` (default): judge the fleet when each cut's request would reach its tail; `off`: at the plan (docs/functions.md "Reservation ledger") |
 * | `MAX_PAYLOAD_BYTES` | direct request limit, as the tails enforce it (default 6291456) |
 * | `COLD_BASE_MS`, `COLD_MS_PER_MB` | cold-start model overrides (defaults: core/presets CLOUD_DEFAULTS) |
 * | `PREWARM_TAILS` | `true` (default): prewarm the tail that would win warm when its traffic recurs (core/prewarm.ts); `false`: never |
 * | `PREWARM_MIN_GAIN` | least relative gain that triggers a prewarm (default core/prewarm.ts DEFAULT_PREWARM_OPTIONS.minGain) |
 * | `PREWARM_WAIT_MS` | longest a plan waits for the prewarm's Invoke to be accepted (default {@link DEFAULT_PREWARM_WAIT_MS}) |
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { CATALOG_FILE_ENV, parseCatalog, type DeploymentCatalog } from '../../core/catalog';
import { OffloadError } from '../../core/errors';
import { formatPath } from '../../core/validation';
import { DEFAULT_FLEET_CACHE_MS, DEFAULT_KEEPALIVE_MS } from './registry';
import { DEFAULT_PAYLOAD_LIMIT_BYTES } from './http';
import { DEFAULT_PREWARM_OPTIONS } from '../../core/prewarm';

/**
 * Longest a plan waits for a prewarm's Invoke call (202), ms. Lambda freezes
 * the planner's environment once it answers, so a call still open then would
 * go out only at the next invocation; past this bound it is left to finish
 * in the background.
 */
export const DEFAULT_PREWARM_WAIT_MS = 100;

/** One deployed tail function, as the planner uses it. */
export interface DeployedFunction {
  /** The Lambda function name (reported as the plan's `function`). */
  name: string;
  route: string;
  memoryMB: number;
  /** Reserved concurrency: the spec's `limit`. */
  reservedConcurrency: number;
  /** Instances kept initialised on the alias: never cold. */
  provisionedConcurrency: number;
  /** Threads of its wasm engine when pinned; absent: the cores of `memoryMB` (core/profiles.ts `lambdaVisibleCores`). */
  wasmThreads?: number;
  /** Measured cold start, ms; overrides the weight-based formula. */
  coldStartMs?: number;
}

/** One deployed model: where its manifest is, and its tails by cut (decimal string). */
export interface DeployedModel {
  manifestKey: string;
  functions: Record<string, DeployedFunction>;
}

/** model → deployed model. */
export type DeployedFunctions = Record<string, DeployedModel>;

/** The deployment catalog in the planner's shape. */
export function deployedFromCatalog(catalog: DeploymentCatalog): DeployedFunctions {
  const out: DeployedFunctions = {};
  for (const [model, entry] of Object.entries(catalog.models)) {
    const functions: Record<string, DeployedFunction> = {};
    for (const t of entry.tails) {
      functions[String(t.cut)] = {
        name: t.function,
        route: t.route,
        memoryMB: t.memoryMB,
        reservedConcurrency: t.reservedConcurrency,
        provisionedConcurrency: t.provisionedConcurrency,
        ...(t.wasmThreads === undefined ? {} : { wasmThreads: t.wasmThreads }),
      };
    }
    out[model] = { manifestKey: entry.manifestKey, functions };
  }
  return out;
}

export interface PlannerConfig {
  bucket: string;
  table: string | undefined;
  functions: DeployedFunctions;
  keepAliveMs: number;
  fleetCacheMs: number;
  /** Judge the fleet at each cut's predicted arrival (busy marks ending by then count idle; reservations hold their tail interval only). */
  fleetAtArrival: boolean;
  maxPayloadBytes: number;
  coldBaseMs: number | undefined;
  coldMsPerMB: number | undefined;
  /** Lifetime of the presigned artifact URLs of `GET /models`; 0: none handed out. */
  artifactUrlSeconds: number;
  /** Planner prewarm (on by default; it starts a tail only for traffic that recurs within `keepAliveMs`). */
  prewarm: { enabled: boolean; minGain: number; waitMs: number };
}

const optionalNumber = z.coerce.number().finite().nonnegative().optional();

const PlannerEnvSchema = z.object({
  [CATALOG_FILE_ENV]: z.string({ error: 'must be set (path of catalog.json)' }).min(1, 'must be set (path of catalog.json)'),
  LAMBDA_TASK_ROOT: z.string().optional(),
  ARTIFACT_BUCKET: z.string({ error: 'must be set' }).min(1, 'must be set'),
  REGISTRY_TABLE: z.string().optional(),
  FLEET_KEEPALIVE_MS: optionalNumber,
  FLEET_CACHE_MS: optionalNumber,
  FLEET_AT_ARRIVAL: z.enum(['on', 'off'], { error: 'must be on or off' }).optional(),
  MAX_PAYLOAD_BYTES: z.coerce.number().int().positive().optional(),
  COLD_BASE_MS: optionalNumber,
  COLD_MS_PER_MB: optionalNumber,
  ARTIFACT_URL_SECONDS: z.coerce.number().int().min(0).max(43_200).optional(),
  PREWARM_TAILS: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  PREWARM_MIN_GAIN: z.coerce.number().finite().min(0, 'must be in 0..1').max(1, 'must be in 0..1').optional(),
  PREWARM_WAIT_MS: optionalNumber,
});

function misconfigured(what: string, cause?: unknown): never {
  throw new OffloadError('unavailable', `planner function misconfigured: ${what}`, { cause });
}

/** Parses the planner's environment and reads its deployment catalog; anything wrong is a 503 naming the variable or field. */
export function readPlannerConfig(env: NodeJS.ProcessEnv): PlannerConfig {
  const parsed = PlannerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    misconfigured(issue ? `${formatPath(issue.path)}: ${issue.message}` : 'bad environment');
  }
  const e = parsed.data;
  const file = e[CATALOG_FILE_ENV];
  const path = isAbsolute(file) ? file : resolve(e.LAMBDA_TASK_ROOT ?? process.cwd(), file);
  let catalog: DeploymentCatalog;
  try {
    catalog = parseCatalog(readFileSync(path, 'utf8'));
  } catch (err) {
    misconfigured(`cannot use the catalog ${path}: ${(err as Error).message}`, err);
  }
  return {
    bucket: e.ARTIFACT_BUCKET,
    table: e.REGISTRY_TABLE || undefined,
    functions: deployedFromCatalog(catalog),
    keepAliveMs: e.FLEET_KEEPALIVE_MS ?? DEFAULT_KEEPALIVE_MS,
    fleetCacheMs: e.FLEET_CACHE_MS ?? DEFAULT_FLEET_CACHE_MS,
    fleetAtArrival: (e.FLEET_AT_ARRIVAL ?? 'on') === 'on',
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES ?? DEFAULT_PAYLOAD_LIMIT_BYTES,
    coldBaseMs: e.COLD_BASE_MS,
    coldMsPerMB: e.COLD_MS_PER_MB,
    artifactUrlSeconds: e.ARTIFACT_URL_SECONDS ?? 0,
    prewarm: {
      enabled: (e.PREWARM_TAILS ?? 'true') === 'true',
      minGain: e.PREWARM_MIN_GAIN ?? DEFAULT_PREWARM_OPTIONS.minGain,
      waitMs: e.PREWARM_WAIT_MS ?? DEFAULT_PREWARM_WAIT_MS,
    },
  };
}
