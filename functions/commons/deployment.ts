/**
 * What the CDK app tells the planner function about the deployment, through
 * its environment.
 *
 * | variable | meaning |
 * |---|---|
 * | `ARTIFACT_BUCKET` | bucket holding `models/<model>/manifest.json`, heads, tails |
 * | `REGISTRY_TABLE` | fleet registry table (unset: every function is planned as cold) |
 * | `OFFLOAD_FUNCTIONS` | JSON: model → cut → `{ name, memoryMB, reservedConcurrency?, coldStartMs? }` |
 * | `FLEET_KEEPALIVE_MS` | keep-alive rule of the registry (default 300000) |
 * | `FLEET_CACHE_MS` | how long a model's fleet query is reused (default 1000) |
 * | `MAX_PAYLOAD_BYTES` | direct request limit, as the tails enforce it (default 6291456) |
 * | `COLD_BASE_MS`, `COLD_MS_PER_MB` | cold-start model overrides (defaults: core/presets CLOUD_DEFAULTS) |
 */
import { z } from 'zod';
import { OffloadError } from '../../core/errors';
import { formatPath } from '../../core/validation';
import { DEFAULT_FLEET_CACHE_MS, DEFAULT_KEEPALIVE_MS } from './registry';
import { DEFAULT_PAYLOAD_LIMIT_BYTES } from './http';

/** One deployed tail function. */
export const DeployedFunctionSchema = z.strictObject({
  /** The Lambda function name (reported as the plan's `function`). */
  name: z.string().min(1),
  memoryMB: z.number().int().min(128).max(10_240),
  /** Reserved concurrency; absent or null = unreserved (the account's pool). */
  reservedConcurrency: z.number().int().nonnegative().nullable().optional(),
  /** Measured cold start, ms; overrides the weight-based formula. */
  coldStartMs: z.number().nonnegative().optional(),
});
export type DeployedFunction = z.infer<typeof DeployedFunctionSchema>;

const CUT_KEY = /^(0|[1-9][0-9]*)$/;

/** model → cut (decimal string) → function. */
export const DeployedFunctionsSchema = z.record(
  z.string().min(1),
  z.record(z.string().regex(CUT_KEY, 'keys must be cut numbers'), DeployedFunctionSchema),
);
export type DeployedFunctions = z.infer<typeof DeployedFunctionsSchema>;

/**
 * Concurrency assumed for an unreserved function: the default regional
 * account limit (1,000) minus the 100 that must stay unreserved is not a
 * per-function figure; 1,000 is the ceiling a single function can reach.
 */
export const UNRESERVED_LIMIT = 1000;

export interface PlannerConfig {
  bucket: string;
  table: string | undefined;
  functions: DeployedFunctions;
  keepAliveMs: number;
  fleetCacheMs: number;
  maxPayloadBytes: number;
  coldBaseMs: number | undefined;
  coldMsPerMB: number | undefined;
}

const optionalNumber = z.coerce.number().finite().nonnegative().optional();

const PlannerEnvSchema = z.object({
  ARTIFACT_BUCKET: z.string().min(1, 'must be set'),
  REGISTRY_TABLE: z.string().optional(),
  OFFLOAD_FUNCTIONS: z.string().min(2, 'must be set (JSON: model → cut → function)'),
  FLEET_KEEPALIVE_MS: optionalNumber,
  FLEET_CACHE_MS: optionalNumber,
  MAX_PAYLOAD_BYTES: z.coerce.number().int().positive().optional(),
  COLD_BASE_MS: optionalNumber,
  COLD_MS_PER_MB: optionalNumber,
});

function misconfigured(what: string): never {
  throw new OffloadError('unavailable', `planner function misconfigured: ${what}`);
}

/** Parses the planner's environment; anything wrong is a 503 naming the variable. */
export function readPlannerConfig(env: NodeJS.ProcessEnv): PlannerConfig {
  const parsed = PlannerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    misconfigured(issue ? `${formatPath(issue.path)}: ${issue.message}` : 'bad environment');
  }
  const e = parsed.data;
  let raw: unknown;
  try {
    raw = JSON.parse(e.OFFLOAD_FUNCTIONS);
  } catch (err) {
    misconfigured(`OFFLOAD_FUNCTIONS is not JSON: ${(err as Error).message}`);
  }
  const functions = DeployedFunctionsSchema.safeParse(raw);
  if (!functions.success) {
    const issue = functions.error.issues[0];
    misconfigured(`OFFLOAD_FUNCTIONS${issue ? `.${formatPath(issue.path)}: ${issue.message}` : ''}`);
  }
  return {
    bucket: e.ARTIFACT_BUCKET,
    table: e.REGISTRY_TABLE || undefined,
    functions: functions.data,
    keepAliveMs: e.FLEET_KEEPALIVE_MS ?? DEFAULT_KEEPALIVE_MS,
    fleetCacheMs: e.FLEET_CACHE_MS ?? DEFAULT_FLEET_CACHE_MS,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES ?? DEFAULT_PAYLOAD_LIMIT_BYTES,
    coldBaseMs: e.COLD_BASE_MS,
    coldMsPerMB: e.COLD_MS_PER_MB,
  };
}
