/**
 * The deployment catalog: which tail functions a deployment has, and the
 * limits the planner needs for each (docs/cost-model.md §2 `cloud.functions`: `limit` is the
 * function's reserved concurrency). The CDK app writes it at synth time as
 * `catalog.json` next to the planner's bundled handler (`/var/task/catalog.json`
 * on Lambda; inside the planner's asset directory in `cdk.out` for the local
 * emulator) and points the planner at it with {@link CATALOG_FILE_ENV}.
 *
 * Why a file and not an environment variable: Lambda caps ALL of a function's
 * environment at 4 KB, and a deployment of the whole zoo has dozens of tails.
 * Why not S3: the catalog is deployment configuration, known at synth time,
 * and must change atomically with the deployment that creates the functions.
 *
 * Pure TypeScript: the planner reads the file, this module only parses it.
 */
import * as z from 'zod';
import { ValidationError } from './errors';
import { parseWith } from './validation';

/** Env var of the planner: path of the catalog, relative to the handler's directory (LAMBDA_TASK_ROOT) unless absolute. */
export const CATALOG_FILE_ENV = 'OFFLOAD_CATALOG_FILE';
/** File name the CDK app gives the catalog inside the planner's bundle. */
export const CATALOG_FILE_NAME = 'catalog.json';

export { inferRoute } from './tail-api';

/** One deployed tail function: the (model, cut) it serves and its limits. */
export const CatalogTailSchema = z.object({
  cut: z.number().int().nonnegative(),
  /** Physical Lambda function name (deterministic: `<stack>-<model>-<cut>`). */
  function: z.string().min(1),
  /** API route of the tail, e.g. `/infer/resnet50/57` (method POST). */
  route: z.string().startsWith('/'),
  memoryMB: z.number().int().positive(),
  timeoutSeconds: z.number().positive(),
  /** Reserved concurrency: past this many in-flight requests the function answers 429 (docs/cost-model.md §4 `throttled`). */
  reservedConcurrency: z.number().int().positive(),
  /** Instances kept initialised on the `live` alias (0 = none); they are never cold. */
  provisionedConcurrency: z.number().int().nonnegative(),
  /**
   * Threads of the tail's wasm engine, its `OFFLOAD_WASM_THREADS` (the CDK app writes both from one
   * rule, core/profiles.ts `tailWasmThreads`); absent: the cores its memory size sees, which a tail
   * without `OFFLOAD_WASM_THREADS` uses. `1` prices the spec's single-threaded engine.
   */
  wasmThreads: z.number().int().min(1).max(8).optional(),
});
export type CatalogTail = z.infer<typeof CatalogTailSchema>;

export const CatalogModelSchema = z.object({
  /** S3 key of the model's export manifest (core/manifest.ts), e.g. `models/resnet50/manifest.json`. */
  manifestKey: z.string().min(1),
  /** Deployed tails in increasing cut order. */
  tails: z.array(CatalogTailSchema),
});
export type CatalogModel = z.infer<typeof CatalogModelSchema>;

export const DeploymentCatalogSchema = z.object({
  version: z.literal(1),
  /** `wasm` (ZIP function) or `tfjs-node` (container image). */
  backend: z.enum(['wasm', 'tfjs-node']),
  /** Key prefix of the artifacts in the bucket, `models/`. */
  artifactPrefix: z.string(),
  models: z.record(z.string(), CatalogModelSchema),
});
export type DeploymentCatalog = z.infer<typeof DeploymentCatalogSchema>;

/**
 * Parses catalog JSON text; a bad file is a ValidationError naming the field
 * (prefixed `catalog`).
 *
 * @example
 * const catalog = parseCatalog(readFileSync(join(taskRoot, 'catalog.json'), 'utf8'));
 * const tail = catalog.models['resnet50']?.tails.find((t) => t.cut === 57);
 */
export function parseCatalog(text: string): DeploymentCatalog {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ValidationError('catalog', `not valid JSON (${(e as Error).message})`, e);
  }
  return parseWith(DeploymentCatalogSchema, raw, 'catalog');
}
