/**
 * The tail's early download (issue 11): what the entry (functions/tail/index.ts)
 * asks its worker thread for, and what the worker reports back. Plain data
 * only: the entry and the handler bundle are separate files, each with its
 * own copy of every class, so nothing here may rely on `instanceof`.
 */
import { switchSetting } from '../../core/env-switch';

/** Environment switch: `OFFLOAD_PREFETCH=off` downloads the tail's artifact after the handler bundle loaded, with the SDK, as before. */
export const PREFETCH_ENV = 'OFFLOAD_PREFETCH';

/**
 * `OFFLOAD_PREFETCH` as the entry reads it, without throwing (the entry must
 * load whatever the environment says): unset, empty or `on` → on; `off` → off;
 * anything else → bad, which the handler reports by name at init.
 */
export function prefetchSetting(env: Readonly<Record<string, string | undefined>>): 'on' | 'off' | 'bad' {
  return switchSetting(env, PREFETCH_ENV);
}

/**
 * Ranged GETs of a streamed load, the early download's and the SDK's
 * (./tail-model.ts): smaller parts, fewer in flight than the
 * download-then-build default (16 × 8 MiB), so that parts complete one after
 * another from the first layers on instead of all together at the end: with
 * 16 × 8 MiB a 98 MiB tail is in flight at once and its first layer's bytes
 * are complete only about when its last layer's are.
 */
export const STREAMED_GETS = { partBytes: 4 * 1024 * 1024, concurrency: 8 } as const;

/** What the worker downloads (its `workerData`). */
export interface PrefetchRequest {
  bucket: string;
  /** The tail's model.json. */
  modelJsonKey: string;
  /** The folder its weight files' names are relative to. */
  weightPrefix: string;
  /** Bytes per ranged GET, and GETs in flight at once. */
  partBytes: number;
  concurrency: number;
}

/** One weight file's place in the shared buffer: name as model.json spells it, offset, bytes. */
export type PrefetchFile = [name: string, offset: number, bytes: number];

/**
 * The worker's reports, in this order: `modelJson`, then `layout` (or
 * `fallback`), then `bytes` as each part is in place, then `done`; `failed`
 * or `fallback` may come at any point and end it. `at` is epoch ms
 * (performance.timeOrigin + now, on the worker's clock).
 */
export type PrefetchMessage =
  | { type: 'modelJson'; bytes: Uint8Array; at: number }
  /** Every weight file lands in `buffer`, back to back in manifest order. */
  | { type: 'layout'; buffer: SharedArrayBuffer; files: PrefetchFile[] }
  /** Bytes [start, end) of the shared buffer are in place. */
  | { type: 'bytes'; start: number; end: number }
  | { type: 'done'; at: number }
  /** A GET failed (missing, denied, unreachable): the tail's init fails with this 503, as it would have with the SDK. */
  | { type: 'failed'; message: string; detail: string }
  /** The early path cannot do this (no credentials to sign with, a weight layout it does not handle): load the way the tail does without it. */
  | { type: 'fallback'; reason: string };

/** What the entry hands the handler bundle: the worker's reports so far, and the ones to come. */
export interface PrefetchHandle {
  /** ms since the process started when the worker was created. */
  startedAt: number;
  /** Calls `listener` with every report so far, in order, then with each new one; a `fallback` when the worker dies without ending. */
  listen(listener: (message: PrefetchMessage) => void): void;
  /** Stops the worker (idempotent); resolves once its thread is gone. */
  close(): Promise<void>;
  /** Whether the worker thread has exited. */
  readonly exited: boolean;
}
