/**
 * The tail function's side of the API, with no schema in it: its route, the
 * timing headers it answers with, its batch limit, the prewarm event it
 * takes. The tail's cold start loads this module; core/api.ts, core/catalog.ts, core/presets.ts and
 * core/prewarm.ts, which re-export these, build dozens of zod schemas at load
 * (with core/profiles.ts and core/manifest.ts, ~6 of the ~62 ms a fresh import
 * of the tail's main.mjs took, 12:12 UTC 2026-12-01; docs/local-stack.md).
 */

/** The API route of the tail function of (model, cut): `POST /infer/<model>/<cut>`. */
export function inferRoute(model: string, cut: number): string {
  return `/infer/${model}/${cut}`;
}

/**
 * Largest batch a tail function accepts (`MAX_BATCH`, config `tail.maxBatch`).
 * A device sends batch 1; 16 leaves room for small client-side batching
 * while bounding one request's compute to a few seconds on the zoo's largest
 * tails (a batch of 29 at MobileNetV2 cut 0 computed 6.2 s and grew the
 * environment to 668 MB here). A design choice, not a measurement.
 */
export const DEFAULT_MAX_BATCH = 16;

/** The single home of the `x-offload-*` response header names. */
export const INFER_HEADERS = Object.freeze({
  /** `true` when this request paid the tail's cold start. */
  cold: 'x-offload-cold',
  /** The Init phase of a cold start, ms (absent when warm). */
  initMs: 'x-offload-init-ms',
  /** The tail's compute time for this request, ms. */
  computeMs: 'x-offload-compute-ms',
  /** The execution environment that answered (the registry's `instance`). */
  instance: 'x-offload-instance',
  /** The function that answered (Lambda's function name), so a client that chose the cut itself can say which. */
  functionName: 'x-offload-function',
  /** The engine that ran the tail, e.g. `wasm; threads=2` (`; requested=N` when threads fell back). */
  backend: 'x-offload-backend',
  /** The function's memory size, MB: what its billed time is priced at. */
  memoryMB: 'x-offload-memory-mb',
});

/** What the tail reports about one inference. */
export interface InferTiming {
  cold: boolean;
  initMs: number | null;
  computeMs: number | null;
  instance: string | null;
  /** Absent from older tails' answers. */
  functionName?: string | null;
  /** The function's memory size, MB; absent from older tails' answers. */
  memoryMB?: number | null;
}

/**
 * The headers a tail answers with.
 *
 * @example
 * inferHeaders({ cold: true, initMs: 812.4, computeMs: 31.2, instance: 'a1b2' });
 * // { 'x-offload-cold': 'true', 'x-offload-compute-ms': '31.20', 'x-offload-instance': 'a1b2', 'x-offload-init-ms': '812' }
 */
export function inferHeaders(t: InferTiming): Record<string, string> {
  const h: Record<string, string> = { [INFER_HEADERS.cold]: String(t.cold) };
  if (t.computeMs !== null) h[INFER_HEADERS.computeMs] = t.computeMs.toFixed(2);
  if (t.instance !== null) h[INFER_HEADERS.instance] = t.instance;
  if (t.initMs !== null) h[INFER_HEADERS.initMs] = t.initMs.toFixed(0);
  if (t.functionName != null) h[INFER_HEADERS.functionName] = t.functionName;
  if (t.memoryMB != null) h[INFER_HEADERS.memoryMB] = String(t.memoryMB);
  return h;
}

/**
 * The payload the planner sends a tail with Lambda's asynchronous Invoke
 * (`InvocationType: Event`): a direct-invoke event, not an API Gateway one,
 * so the tail tells it apart by this one key.
 */
export interface PrewarmEvent {
  offloadPrewarm: { model: string; cut: number; /** When the planner decided it, ms since the epoch. */ at: number };
}

/** The prewarm event for one tail. */
export function prewarmEvent(model: string, cut: number, at: number): PrewarmEvent {
  return { offloadPrewarm: { model, cut, at } };
}

/** True for a {@link PrewarmEvent} (an HTTP API event never has the key). */
export function isPrewarmEvent(event: unknown): event is PrewarmEvent {
  if (typeof event !== 'object' || event === null || !('offloadPrewarm' in event)) return false;
  const p = (event as { offloadPrewarm: unknown }).offloadPrewarm;
  return typeof p === 'object' && p !== null && typeof (p as { model?: unknown }).model === 'string' && typeof (p as { cut?: unknown }).cut === 'number';
}
