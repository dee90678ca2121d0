/**
 * A tail's cold start with the model built and warmed while its weights are
 * still downloading (issue 11). Done one after another, the three per-MiB
 * steps of a cold start add up: download, build (the weights copied into the
 * engine), warm-up (the first inference, where XNNPACK creates and packs each
 * convolution's operator). Here:
 *
 * - model.json arrives first: the fold (models/fuse-artifacts.ts
 *   {@link planFold}) is decided from it alone, and tfjs builds the fused
 *   model at once with zero-filled weights (what tfjs's own loader does
 *   before it sets the real ones);
 * - as the bytes of a layer's weights arrive ({@link ArrivingBytes}), in
 *   whatever order the parallel GETs bring them, the layer gets its weights
 *   (a folded bias computed from its batch norm's vectors, the kernel scaled
 *   on the engine) and is run once on a small dummy input, so that the
 *   engine creates and packs its operator then;
 * - the full model later runs with the same weight tensors, and the wasm
 *   backend's operator cache is keyed by them (tfjs-backend-wasm
 *   conv2d_impl.cc: filter id, bias id, kernel geometry; not the input's
 *   height and width): the first real inference finds every operator packed.
 *
 * The download buffer is only read, never rewritten, so a caller can still
 * load the same bytes the ordinary way ({@link loadFusedModelFromFiles})
 * when this path gives up. It gives up (returns undefined before building)
 * on whatever {@link planFold} does not handle: a Sequential topology,
 * quantised or non-4-byte weights.
 */
import { performance } from 'node:perf_hooks';
import * as tf from './tfjs';
import { OffloadError } from '../core/errors';
import { switchOn } from '../core/env-switch';
import { weightGroupBytes } from '../core/artifact-layout';
import type { ArrivingBytes } from './arriving-bytes';
import { buildLayersModel, MODEL_JSON, parseModelJson, type LoadedFusedModel } from './artifacts';
import { planFold, scaleFusedKernel, type ByteRange, type FoldPlan, type FoldStep } from './fuse-artifacts';
import { FusedConv2D } from './fuse';
import { heapWeightsAvailable, UnsetWeights, writeInPlace } from './heap-weights';

/** What {@link planStreamedLoad} decided from model.json. */
export interface StreamedLoadPlan {
  /** model.json's format field. */
  format: string;
  fold: FoldPlan & { steps: FoldStep[] };
  /** Bytes of all weight files back to back, in manifest order (the buffer the download fills). */
  weightBytes: number;
}

/**
 * The plan of a streamed load, from model.json's bytes; undefined when this
 * path does not handle the model (then download everything and use
 * {@link loadFusedModelFromFiles}, which also reports a bad model.json).
 */
export function planStreamedLoad(modelJsonBytes: Uint8Array): StreamedLoadPlan | undefined {
  let modelJson;
  try {
    modelJson = parseModelJson(modelJsonBytes);
  } catch {
    return undefined;
  }
  let weightBytes = 0;
  for (const group of modelJson.weightsManifest) {
    const bytes = weightGroupBytes(group.weights);
    if (bytes === null) return undefined;
    weightBytes += bytes;
  }
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  const fold = planFold(modelJson.modelTopology, specs, weightBytes);
  if (!fold?.steps || fold.grows) return undefined;
  if (fold.steps.some((s) => s.spec.quantization || (s.spec.dtype !== 'float32' && s.spec.dtype !== 'int32'))) return undefined;
  return { format: modelJson.format ?? 'layers-model', fold: { ...fold, steps: fold.steps }, weightBytes };
}

/** Options of {@link loadStreamed}. */
export interface StreamedLoadOptions {
  /** Resolves when the engine the model runs on is ready (tfjs builds nothing before). */
  engine?: Promise<unknown>;
  /** Run each layer once on a small dummy input as its weights are set (default true). */
  warm?: boolean;
  /** Called once the model is built, before any weight is set (the cold-start timeline). */
  onBuilt?: (model: tf.LayersModel) => void;
  /**
   * Build the variables on engine memory nothing writes and copy each weight's bytes into it
   * (models/heap-weights.ts; default true; only on the wasm engine). False: zero-filled variables,
   * each weight set as a new tensor (tfjs's own way).
   */
  heapWeights?: boolean;
}

/** What {@link loadStreamed} returns. */
export interface StreamedModel extends LoadedFusedModel {
  /** Every layer with weights was run once as its weights arrived: the engine has packed all its operators. */
  warmed: boolean;
  /** Layers run once while loading. */
  warmedLayers: number;
  /** ms spent waiting for bytes after the model was built (the download's share of the critical path from then on). */
  waitedMs: number;
}

/**
 * Builds the plan's fused model and sets each layer's weights as its bytes
 * arrive in `bytes` (which holds the weight files back to back, in manifest
 * order). Rejects with the download's error when the download fails, with
 * an OffloadError 'model-format' when tfjs cannot build the topology; the
 * half-built model is disposed either way.
 */
export async function loadStreamed(plan: StreamedLoadPlan, bytes: ArrivingBytes, opts: StreamedLoadOptions = {}): Promise<StreamedModel> {
  if (bytes.bytes.byteLength !== plan.weightBytes) {
    throw new OffloadError('internal', `streamed load: a ${bytes.bytes.byteLength}-byte buffer for ${plan.weightBytes} bytes of weights`);
  }
  await opts.engine;
  bytes.throwIfFailed();
  const started = performance.now();
  const inPlace = (opts.heapWeights ?? true) && heapWeightsAvailable();
  const model = await buildLayersModel({ modelTopology: withInitializer(plan.fold.modelTopology, inPlace ? UnsetWeights.className : 'Zeros'), format: plan.format });
  opts.onBuilt?.(model);
  try {
    const variables = new Map(model.weights.map((w) => [w.originalName, w]));
    const steps = new Map(plan.fold.steps.map((s) => [s.spec.name, s]));
    if (steps.size !== plan.fold.steps.length) throw formatError('two weights have the same name');
    for (const name of variables.keys()) if (!steps.has(name)) throw formatError(`the model's weight ${name} is not in the weights manifest`);
    for (const name of steps.keys()) if (!variables.has(name)) throw formatError(`weight ${name} of the weights manifest belongs to no layer of the model`);

    const view = bytes.bytes;
    const read = (w: ByteRange) => new Float32Array(view.buffer, view.byteOffset + w.src, w.bytes / 4);
    const needsOf = (step: FoldStep): ByteRange[] => (step.kind === 'copy' ? [step] : step.needs);
    const work = model.layers
      .filter((layer) => layer.weights.length > 0)
      .map((layer) => {
        const own = layer.weights.map((w) => steps.get(w.originalName)!);
        const scale = plan.fold.kernelScales.get(layer.name);
        const needs = [...own.flatMap(needsOf), ...(scale?.needs ?? [])];
        return { layer, own, scale, needs, last: Math.max(...needs.map((r) => r.src + r.bytes)) };
      })
      // the order the bytes most likely arrive in (the GETs start in file order)
      .sort((a, b) => a.last - b.last);

    let waitedMs = 0;
    let warmedLayers = 0;
    let warmedAll = opts.warm ?? true;
    let sinceYield = performance.now();
    for (const { layer, own, scale, needs } of work) {
      if (!needs.every((r) => bytes.has(r.src, r.src + r.bytes))) {
        const waitStart = performance.now();
        for (const r of needs) await bytes.until(r.src, r.src + r.bytes);
        waitedMs += performance.now() - waitStart;
        sinceYield = performance.now();
      } else if (performance.now() - sinceYield > YIELD_EVERY_MS) {
        // the download's data events run on this thread too: let them in now and then
        await new Promise<void>((resolve) => setImmediate(resolve));
        sinceYield = performance.now();
      }
      for (const [i, w] of layer.weights.entries()) {
        const step = own[i]!;
        if (inPlace) {
          const values = step.kind === 'copy' ? view.subarray(step.src, step.src + step.bytes) : step.compute(read);
          if (writeInPlace(w.read(), values instanceof Uint8Array ? values : new Uint8Array(values.buffer, values.byteOffset, values.byteLength))) continue;
        }
        const values = step.kind === 'copy' ? typedView(view, step) : step.compute(read);
        const t = tf.tensor(values, step.spec.shape, step.spec.dtype as 'float32' | 'int32');
        w.write(t);
        t.dispose();
      }
      if (scale) scaleFusedKernel(layer, scale.compute(read), inPlace);
      if (warmedAll) {
        if (warmLayer(layer)) warmedLayers++;
        else warmedAll = false;
      }
    }
    return { model, chains: plan.fold.chains, foldedIn: 'files', foldMs: performance.now() - started - waitedMs, warmed: warmedAll, warmedLayers, waitedMs };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Work done between two turns of the event loop while the bytes are there already, ms. */
const YIELD_EVERY_MS = 10;

function typedView(view: Uint8Array, step: { spec: tf.io.WeightsManifestEntry; src: number; bytes: number }): Float32Array | Int32Array {
  const at = view.byteOffset + step.src;
  // a typed array needs an aligned offset; weights of 4-byte values back to back keep it when the buffer starts aligned
  if (at % 4 !== 0) {
    const copy = view.slice(step.src, step.src + step.bytes);
    return step.spec.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
  }
  return step.spec.dtype === 'int32' ? new Int32Array(view.buffer, at, step.bytes / 4) : new Float32Array(view.buffer, at, step.bytes / 4);
}

/**
 * Runs a layer once on zeros of its input's channels and a small height and
 * width: the engine creates (and packs) the layer's operator then, and the
 * full model reuses it. False when the layer's input is not one tensor of a
 * known shape or the run fails: the caller then warms the whole model.
 */
export function warmLayer(layer: tf.layers.Layer): boolean {
  let shape: tf.Shape;
  try {
    const input = layer.input;
    if (Array.isArray(input)) return false;
    shape = input.shape;
  } catch {
    return false; // no single inbound node
  }
  const side = warmSide(layer);
  const dims: number[] = [];
  for (const [i, d] of shape.entries()) {
    if (i === 0) dims.push(1);
    else if (shape.length === 4 && i < 3) dims.push(Math.min(d ?? side, side));
    else if (d === null) return false;
    else dims.push(d);
  }
  if (dims.length === 0) return false;
  try {
    tf.tidy(() => {
      const y = layer.apply(tf.zeros(dims)) as tf.Tensor | tf.Tensor[];
      for (const t of Array.isArray(y) ? y : [y]) t.dataSync();
    });
    return true;
  } catch {
    return false;
  }
}

/** Height and width of a layer's dummy input: room for its kernel (dilated) and one stride. */
function warmSide(layer: tf.layers.Layer): number {
  let kernel = [1, 1];
  let dilation = [1, 1];
  let stride = [1, 1];
  if (layer instanceof FusedConv2D) {
    kernel = layer.fusedArgs.kernelShape.slice(0, 2);
    dilation = layer.fusedArgs.dilations;
    stride = layer.fusedArgs.strides;
  } else {
    const c = layer.getConfig() as { kernelSize?: number | number[]; dilationRate?: number | number[]; strides?: number | number[] };
    const pair = (v: number | number[] | undefined) => (v === undefined ? [1, 1] : Array.isArray(v) ? [v[0] ?? 1, v[1] ?? v[0] ?? 1] : [v, v]);
    kernel = pair(c.kernelSize);
    dilation = pair(c.dilationRate);
    stride = pair(c.strides);
  }
  const extent = Math.max(...kernel.map((k, i) => (k - 1) * (dilation[i] ?? 1) + 1));
  return Math.max(extent + Math.max(...stride), 2);
}

/**
 * The topology with every initializer replaced by `className` (Zeros, or UnsetWeights for weights written into the
 * engine's memory, which the fused convolutions take as `unsetWeights`): the weights are set right after, and random
 * ones cost time.
 */
function withInitializer(topology: object, className: string): object {
  const unset = className === UnsetWeights.className;
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, value] of Object.entries(v)) {
      out[k] = /(_i|I)nitializer$/.test(k) && typeof value === 'object' && value !== null ? { class_name: className, config: {} } : visit(value);
    }
    if (unset && out.class_name === FusedConv2D.className && typeof out.config === 'object' && out.config !== null) out.config = { ...out.config, unsetWeights: true };
    return out;
  };
  return visit(topology) as object;
}

function formatError(problem: string): OffloadError {
  return new OffloadError('model-format', `${MODEL_JSON}: ${problem}`);
}

/** Environment switch: `OFFLOAD_PIPELINE=off` builds and warms the tail after its whole download, as before (for comparison). */
export const PIPELINE_ENV = 'OFFLOAD_PIPELINE';

/**
 * Whether a tail is built and warmed while its weights download: `OFFLOAD_PIPELINE` unset, empty or `on` → on; `off` → off.
 * @throws OffloadError `invalid-input` for any other value (a typo must not silently pick one)
 */
export function pipelineEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return switchOn(env, PIPELINE_ENV);
}
