/**
 * The tail's model from the artifact store: model.json, then the weights,
 * with the model built and warmed layer by layer while the weights download
 * (models/streamed-load.ts) when the model allows it, else (or with
 * `OFFLOAD_PIPELINE=off`) after the whole download, as before.
 *
 * The S3 client and its downloads (./artifacts.ts) are imported only when the
 * early download does not serve: a tail that loads from it never parses them.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import * as tf from '../../models/tfjs';
import { OffloadError } from '../../core/errors';
import { loadFusedModelFromFiles, loadModelFromFiles } from '../../models/artifacts';
import { ArrivingBytes } from '../../models/arriving-bytes';
import { loadStreamed, planStreamedLoad, type StreamedLoadPlan } from '../../models/streamed-load';
import { parseWeightsManifest, weightFileViews } from './weights-manifest';
import { STREAMED_GETS } from './prefetch-protocol';
import { EarlyFallback, type EarlyArtifact } from './tail-prefetch';
import { logLine } from './http';

/** How long a load waits for the early download's worker thread to be gone, ms (it normally is already). */
const WORKER_EXIT_WAIT_MS = 1_000;

/** Where the tail's files are. */
export interface TailArtifact {
  bucket: string;
  /** The tail's model.json. */
  modelJsonKey: string;
  /** The folder its weight files' names are relative to (the model's folder). */
  weightPrefix: string;
}

export interface TailModelOptions {
  /** Resolves when the engine is ready: no tfjs work starts before. */
  engine: Promise<unknown>;
  /** Fold batch norm and activations into the convolutions (`OFFLOAD_FUSE`). */
  fuse: boolean;
  /** Build and warm while the weights download (`OFFLOAD_PIPELINE`). */
  pipeline: boolean;
  /** Streamed: copy each weight into the engine's memory for its variable (`OFFLOAD_HEAP_WEIGHTS`, models/heap-weights.ts; default true). */
  heapWeights?: boolean;
  /** The early download (./tail-prefetch.ts) to load from, instead of downloading with `s3`; closed when the load ends. */
  early?: EarlyArtifact;
  /** Cold-start timeline steps, as they happen (`at`: epoch ms on another thread's clock, when it happened there). */
  onModelJson?: (at?: number) => void;
  onWeights?: (at?: number) => void;
}

/** A tail model and how it was loaded. */
export interface TailModel {
  model: tf.LayersModel;
  fusedChains: number;
  foldedIn: 'files' | 'model' | undefined;
  /** ms spent folding (and, streamed, setting weights and warming layers). */
  fuseMs: number;
  /** Built and warmed while the weights downloaded. */
  streamed: boolean;
  /** Every layer with weights has run once: no warm-up inference is needed. */
  warmed: boolean;
  warmedLayers: number;
  /** Bytes of the weight files, and how many. */
  weightBytes: number;
  weightFiles: number;
  /** Loaded from the entry's early download (not downloaded with the SDK after the bundle loaded). */
  prefetched?: boolean;
}

/**
 * Downloads and builds a tail. Errors: the download's (OffloadError
 * `unavailable` naming the file, as before), or `unavailable` "tail artifact
 * unusable" when tfjs cannot build the model from the files. `s3` gives the
 * S3 client, asked for only when the tail downloads with it.
 */
export async function loadTailModel(s3: () => Promise<S3Client>, where: TailArtifact, opts: TailModelOptions): Promise<TailModel> {
  if (opts.early) {
    try {
      return { ...(await loadEarly(opts.early, where, opts)), prefetched: true };
    } catch (err) {
      if (!(err instanceof EarlyFallback)) throw err;
      // anything the early path does not handle: the download again, as without it
      logLine('warn', 'early download gave up; downloading the tail with the SDK', { reason: err.message });
    } finally {
      // the worker's thread is gone before the tail is ready (it has ended by itself after its last byte)
      await Promise.race([opts.early.close(), new Promise((resolve) => setTimeout(resolve, WORKER_EXIT_WAIT_MS).unref())]);
    }
  }
  return loadWithSdk(await s3(), where, opts);
}

/** The tail downloaded with the S3 client (no early download, or one that gave up). */
async function loadWithSdk(s3: S3Client, where: TailArtifact, opts: TailModelOptions): Promise<TailModel> {
  const { downloadWeightFiles, getModelJson } = await import('./artifacts');
  const { bytes: modelJson, manifest } = await getModelJson(s3, where.bucket, where.modelJsonKey);
  opts.onModelJson?.();
  // one buffer for all the weights (even one file): the streamed load reads the bytes in place as they land
  const views = opts.fuse && opts.pipeline ? weightFileViews(manifest, 1) : undefined;
  const plan = views ? planStreamedLoad(modelJson) : undefined;
  const buffer = views?.values().next().value?.buffer;
  if (plan && views && buffer instanceof ArrayBuffer && buffer.byteLength === plan.weightBytes) {
    const arriving = new ArrivingBytes(new Uint8Array(buffer));
    const download = downloadWeightFiles(s3, where.bucket, where.weightPrefix, manifest, modelJson, views, (name, start, end, target) => {
      // a file of another size than model.json says lands in a buffer of its own: its bytes never arrive here
      const view = views.get(name);
      if (target === view) arriving.arrived(view.byteOffset + start, view.byteOffset + end);
      // the last byte is here (the download's own end may wait behind the build on this thread)
      if (arriving.has(0, buffer.byteLength)) opts.onWeights?.();
    }, STREAMED_GETS).then(
      (files) => (arriving.finish(), opts.onWeights?.(), files),
      (err: unknown) => {
        arriving.fail(err);
        throw err;
      },
    );
    return loadWhileArriving(plan, arriving, download, where, opts);
  }
  // the buffer laid out above, if any, serves the whole download as well (one file in it is one file's own buffer)
  const files = await downloadWeightFiles(s3, where.bucket, where.weightPrefix, manifest, modelJson, views ?? weightFileViews(manifest));
  opts.onWeights?.();
  return loadWhole(files, where, opts);
}

/**
 * The tail from the early download (./tail-prefetch.ts): streamed from its
 * shared buffer when the model allows, else built once every byte is in.
 * Throws the download's 503, or an EarlyFallback.
 */
async function loadEarly(early: EarlyArtifact, where: TailArtifact, opts: TailModelOptions): Promise<TailModel> {
  const { bytes: modelJson, at } = await early.modelJson;
  const manifest = parseWeightsManifest(modelJson, where.bucket, where.modelJsonKey);
  opts.onModelJson?.(at);
  const { views, arriving, done } = await early.weights;
  const names = [...new Set(manifest.flatMap((group) => group.paths))];
  if (names.length !== views.size || names.some((name) => !views.has(name))) throw new EarlyFallback('the early download laid out other weight files than model.json names');
  const download = done.then(async () => {
    opts.onWeights?.(await early.doneAt);
    return new Map<string, Uint8Array>([['model.json', modelJson], ...views]);
  });
  download.catch(() => undefined); // awaited below: not an unhandled rejection meanwhile
  const plan = opts.fuse && opts.pipeline ? planStreamedLoad(modelJson) : undefined;
  if (plan && plan.weightBytes === arriving.bytes.byteLength) return loadWhileArriving(plan, arriving, download, where, opts);
  return loadWhole(outOfShared(await download), where, opts);
}

/** Builds and warms the tail layer by layer as `arriving` fills; `download` ends with the files (or the download's error). */
async function loadWhileArriving(
  plan: StreamedLoadPlan,
  arriving: ArrivingBytes,
  download: Promise<Map<string, Uint8Array>>,
  where: TailArtifact,
  opts: TailModelOptions,
): Promise<TailModel> {
  download.catch(() => undefined); // awaited below, after the build: not an unhandled rejection meanwhile
  let streamed: Awaited<ReturnType<typeof loadStreamed>>;
  try {
    streamed = await loadStreamed(plan, arriving, { engine: opts.engine, heapWeights: opts.heapWeights ?? true });
  } catch (err) {
    // a failed download reports itself, as before; anything else: load the downloaded files the ordinary way,
    // which also names what is wrong with them
    const files = await download;
    await opts.engine; // an engine that failed to start reports itself
    logLine('warn', 'streamed load failed; building the tail from the downloaded files', { error: (err as Error).message });
    return loadWhole(outOfShared(files), where, opts);
  }
  const files = await download;
  return {
    model: streamed.model,
    fusedChains: streamed.chains.length,
    foldedIn: streamed.foldedIn,
    fuseMs: streamed.foldMs,
    streamed: true,
    warmed: streamed.warmed,
    warmedLayers: streamed.warmedLayers,
    ...weightStats(files),
  };
}

/** Builds the tail from its downloaded files (folding them unless `fuse` is off). */
async function loadWhole(files: Map<string, Uint8Array>, where: TailArtifact, opts: TailModelOptions): Promise<TailModel> {
  await opts.engine;
  const stats = weightStats(files);
  try {
    // batch norm and relu folded into the convolutions: on the threaded engine each element-wise kernel
    // costs a thread hand-off (models/fuse.ts). The fold is done on the downloaded topology and weights,
    // so tfjs builds the fused model once (models/fuse-artifacts.ts); inputs and output keep their names.
    if (opts.fuse) {
      const fused = await loadFusedModelFromFiles(files);
      return { model: fused.model, fusedChains: fused.chains.length, foldedIn: fused.foldedIn, fuseMs: fused.foldMs, streamed: false, warmed: false, warmedLayers: 0, ...stats };
    }
    return { model: await loadModelFromFiles(files), fusedChains: 0, foldedIn: undefined, fuseMs: 0, streamed: false, warmed: false, warmedLayers: 0, ...stats };
  } catch (err) {
    throw new OffloadError('unavailable', 'tail artifact unusable: tfjs cannot build the model from it', {
      cause: err,
      detail: `s3://${where.bucket}/${where.modelJsonKey}: ${(err as Error).message}`,
    });
  }
}

/**
 * The files with the early download's shared buffer copied, once, into an
 * ordinary one (the same views in it): the fold rewrites its buffer in place
 * and tfjs keeps what it is given, neither of which suits memory another
 * thread wrote. Files in ordinary buffers are returned as they are.
 */
function outOfShared(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const copies = new Map<SharedArrayBuffer, Uint8Array>();
  const out = new Map<string, Uint8Array>();
  for (const [name, bytes] of files) {
    const shared = bytes.buffer;
    if (!(shared instanceof SharedArrayBuffer)) {
      out.set(name, bytes);
      continue;
    }
    let copy = copies.get(shared);
    if (!copy) {
      copy = new Uint8Array(shared.byteLength);
      copy.set(new Uint8Array(shared));
      copies.set(shared, copy);
    }
    out.set(name, copy.subarray(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return out;
}

function weightStats(files: Map<string, Uint8Array>): { weightBytes: number; weightFiles: number } {
  let weightBytes = 0;
  for (const [name, bytes] of files) if (name !== 'model.json') weightBytes += bytes.byteLength;
  return { weightBytes, weightFiles: files.size - 1 };
}
