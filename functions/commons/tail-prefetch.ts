/**
 * The handler bundle's side of the tail's early download: the worker's
 * reports (functions/commons/prefetch-protocol.ts) as what the tail's loader
 * (./tail-model.ts) needs: model.json, the weights' buffer with the ranges
 * that have arrived, and the end of the download; failures as the 503s the
 * SDK download gives.
 */
import { OffloadError } from '../../core/errors';
import { ArrivingBytes } from '../../models/arriving-bytes';
import { switchOn } from '../../core/env-switch';
import { PREFETCH_ENV, type PrefetchHandle } from './prefetch-protocol';

/**
 * Whether the tail downloads its artifact early, on a worker thread from process start:
 * `OFFLOAD_PREFETCH` unset, empty or `on` → on; `off` → off.
 * @throws OffloadError `invalid-input` for any other value (a typo must not silently pick one)
 */
export function prefetchEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return switchOn(env, PREFETCH_ENV);
}

/** The early path gave up (not a failure of the artifact): the tail loads the way it does without it. */
export class EarlyFallback extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'EarlyFallback';
  }
}

/** The weights as the early download brings them. */
export interface EarlyWeights {
  /** Every weight file, by the name model.json gives it: views of the one shared buffer, back to back in manifest order. */
  views: Map<string, Uint8Array>;
  /** The whole buffer, and which ranges of it have arrived. */
  arriving: ArrivingBytes;
  /** Resolves when every byte is in place; rejects with the failure's 503, or an {@link EarlyFallback}. */
  done: Promise<void>;
}

/** The early download of one tail, as the loader reads it. */
export interface EarlyArtifact {
  /** model.json's bytes; rejects with the failure's 503, or an {@link EarlyFallback}. */
  modelJson: Promise<{ bytes: Uint8Array; at: number }>;
  /** Once model.json is here: the weights (rejects as `modelJson`, or with an {@link EarlyFallback} when the layout is not one the worker handles). */
  weights: Promise<EarlyWeights>;
  /** Epoch ms of the last byte's arrival, on the worker's clock (the cold-start timeline). */
  doneAt: Promise<number>;
  /** Ends the worker and lets go of its buffer. */
  close(): Promise<void>;
}

/** Reads a {@link PrefetchHandle}'s reports as an {@link EarlyArtifact}. */
export function earlyArtifact(handle: PrefetchHandle, where: { bucket: string }): EarlyArtifact {
  const settle = <T>() => {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined); // read (or not) by the loader: never an unhandled rejection
    return { promise, resolve, reject };
  };
  const modelJson = settle<{ bytes: Uint8Array; at: number }>();
  const weights = settle<EarlyWeights>();
  const done = settle<void>();
  const doneAt = settle<number>();
  let arriving: ArrivingBytes | undefined;
  const end = (err: unknown) => {
    modelJson.reject(err);
    weights.reject(err);
    arriving?.fail(err);
    done.reject(err);
    doneAt.reject(err);
    void handle.close();
  };
  handle.listen((m) => {
    switch (m.type) {
      case 'modelJson':
        modelJson.resolve({ bytes: m.bytes, at: m.at });
        return;
      case 'layout': {
        const buffer = new Uint8Array(m.buffer);
        arriving = new ArrivingBytes(buffer);
        const views = new Map(m.files.map(([name, offset, bytes]) => [name, buffer.subarray(offset, offset + bytes)]));
        weights.resolve({ views, arriving, done: done.promise });
        return;
      }
      case 'bytes':
        arriving?.arrived(m.start, m.end);
        return;
      case 'done':
        arriving?.finish();
        done.resolve();
        doneAt.resolve(m.at);
        void handle.close();
        return;
      case 'failed':
        end(new OffloadError('unavailable', m.message, { detail: m.detail.startsWith('s3://') ? m.detail : `s3://${where.bucket}: ${m.detail}` }));
        return;
      case 'fallback':
        end(new EarlyFallback(m.reason));
        return;
    }
  });
  return { modelJson: modelJson.promise, weights: weights.promise, doneAt: doneAt.promise, close: () => handle.close() };
}
