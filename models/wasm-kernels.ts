/**
 * Faster wasm kernels for the element-wise layers of the BN networks.
 *
 * tfjs-backend-wasm 4.22 runs convolutions, pooling, matrix products, `Add`
 * and `ClipByValue` through XNNPACK, on the engine's thread pool; but three
 * kernels the zoo's networks call after every convolution are plain scalar
 * C++ loops on the main thread (tfjs-backend-wasm/src/cc/kernels):
 *
 * - `FusedBatchNorm` (every BatchNormalization layer): one division per element;
 * - `Relu` (Activation 'relu', and half of 'relu6');
 * - `Minimum` (the other half: tfjs-layers' relu6 is `minimum(6, relu(x))`).
 *
 * Profiled here (tf.profile, MobileNetV2 at 224, quiet machine) they took most
 * of the time left once the convolutions ran on two threads, which is why a
 * second thread bought MobileNetV2 almost nothing. This module replaces them,
 * for the wasm backend only, with the same arithmetic on XNNPACK operators:
 *
 * - batch norm = a 1×1 depthwise convolution with bias (`FusedDepthwiseConv2D`:
 *   XNNPACK's per-channel multiply-add), whose per-channel scale
 *   `scale / √(variance + ε)` and shift `offset − mean · scale'` are computed
 *   once per set of BN parameters and cached;
 * - relu = `ClipByValue(0, +∞)`; minimum with a scalar c = `ClipByValue(−∞, c)`.
 *
 * Results: relu and minimum are exact; batch norm rounds differently
 * (x·s + b instead of offset + (x − mean)·scale / √(var + ε)), a few float32
 * ulps of the output. Inputs the replacement does not cover (other dtypes,
 * broadcast shapes) go to tfjs's own kernel.
 */
import * as tf from './tfjs';

/** The slice of tfjs-backend-wasm's BackendWasm this module uses. */
interface WasmBackend {
  dataIdMap: { get(dataId: object): { shape: number[] } | undefined; has(dataId: object): boolean };
  write(values: Float32Array, shape: number[], dtype: 'float32'): object;
  readSync(dataId: object): tf.TypedArray;
  disposeData(dataId: object, force?: boolean): boolean;
}

type Info = tf.TensorInfo;
type KernelArgs = { inputs: Record<string, Info | undefined>; backend: WasmBackend; attrs?: Record<string, unknown> };
type Kernel = (args: KernelArgs) => Info | Info[];

/** The kernels replaced, for tests and for the record of what runs. */
export const REPLACED_WASM_KERNELS = ['FusedBatchNorm', 'Relu', 'Minimum'] as const;

let installed: Map<string, tf.KernelConfig> | undefined;

/**
 * Replaces the wasm backend's scalar `FusedBatchNorm`, `Relu` and `Minimum`
 * kernels with XNNPACK-backed ones (see the module comment). Call it after the
 * wasm backend has initialised (the replacements call kernels whose set-up ran
 * then). Idempotent; {@link restoreWasmKernels} undoes it.
 */
export function installWasmKernels(): void {
  if (installed) return;
  const originals = new Map<string, tf.KernelConfig>();
  for (const name of REPLACED_WASM_KERNELS) {
    const config = tf.getKernel(name, 'wasm');
    if (config === undefined) throw new Error(`tfjs-backend-wasm has no ${name} kernel to replace`);
    originals.set(name, config);
  }
  const original = (name: string): Kernel => originals.get(name)!.kernelFunc as unknown as Kernel;
  const depthwise = required('FusedDepthwiseConv2D');
  const clip = required('ClipByValue');
  const replacements: Record<(typeof REPLACED_WASM_KERNELS)[number], Kernel> = {
    FusedBatchNorm: (args) => batchNorm(args, depthwise) ?? original('FusedBatchNorm')(args),
    Relu: (args) => {
      const x = args.inputs.x!;
      if (x.dtype !== 'float32') return original('Relu')(args);
      return clip({ inputs: { x }, backend: args.backend, attrs: { clipValueMin: 0, clipValueMax: Number.POSITIVE_INFINITY } });
    },
    Minimum: (args) => minimumWithScalar(args, clip) ?? original('Minimum')(args),
  };
  for (const name of REPLACED_WASM_KERNELS) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: replacements[name] as unknown as tf.KernelFunc });
  }
  installed = originals;
}

/** Puts tfjs's own kernels back (and drops the cached batch-norm parameters). */
export function restoreWasmKernels(): void {
  if (!installed) return;
  for (const [name, config] of installed) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  installed = undefined;
  for (const [, entry] of bnCache) disposeEntry(entry);
  bnCache.clear();
}

/** Whether the replacements are in place. */
export function wasmKernelsInstalled(): boolean {
  return installed !== undefined;
}

function required(name: string): Kernel {
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
  return config.kernelFunc as unknown as Kernel;
}

/** Scale and shift of one BN layer as wasm tensors, and the inputs they were computed from. */
interface BnEntry {
  backend: WasmBackend;
  keys: readonly (object | undefined)[];
  epsilon: number;
  filter: Info;
  bias: Info;
}

/** Keyed by the dataId of the moving mean: a model's BN variables keep theirs until assigned or disposed. */
const bnCache = new Map<object, BnEntry>();

function disposeEntry(entry: BnEntry): void {
  entry.backend.disposeData(entry.filter.dataId, true);
  entry.backend.disposeData(entry.bias.dataId, true);
}

/** Frees the cached scale/shift of BN layers whose parameters no longer exist (a disposed model). */
function sweep(backend: WasmBackend): void {
  for (const [key, entry] of bnCache) {
    if (entry.backend !== backend || !entry.keys.every((k) => k === undefined || backend.dataIdMap.has(k))) {
      disposeEntry(entry);
      bnCache.delete(key);
    }
  }
}

/** Per-channel parameter of size C (or 1, broadcast), as float64 values; undefined when the shape is not one of those. */
function channelValues(backend: WasmBackend, t: Info | undefined, channels: number, fallback: number): Float64Array | undefined {
  const out = new Float64Array(channels);
  if (t === undefined) return out.fill(fallback);
  if (t.dtype !== 'float32') return undefined;
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (size !== channels && size !== 1) return undefined;
  if (size === channels && t.shape.length > 0 && t.shape[t.shape.length - 1] !== channels) return undefined;
  const values = backend.readSync(t.dataId);
  for (let c = 0; c < channels; c++) out[c] = values[size === 1 ? 0 : c]!;
  return out;
}

function batchNorm(args: KernelArgs, depthwise: Kernel): Info | Info[] | undefined {
  const { x, mean, variance, offset, scale } = args.inputs;
  const epsilon = Number(args.attrs?.varianceEpsilon ?? 0.001);
  if (!x || !mean || !variance || x.dtype !== 'float32' || x.shape.length === 0) return undefined;
  const backend = args.backend;
  const channels = x.shape[x.shape.length - 1]!;
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (channels === 0 || size === 0) return undefined;
  const keys = [mean.dataId, variance.dataId, offset?.dataId, scale?.dataId];
  let entry = bnCache.get(mean.dataId);
  if (entry && (entry.backend !== backend || entry.epsilon !== epsilon || entry.keys.some((k, i) => k !== keys[i]))) {
    disposeEntry(entry);
    bnCache.delete(mean.dataId);
    entry = undefined;
  }
  if (!entry) {
    const m = channelValues(backend, mean, channels, 0);
    const v = channelValues(backend, variance, channels, 1);
    const o = channelValues(backend, offset, channels, 0);
    const g = channelValues(backend, scale, channels, 1);
    if (!m || !v || !o || !g) return undefined;
    sweep(backend);
    const s = new Float32Array(channels);
    const b = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const k = g[c]! / Math.sqrt(v[c]! + epsilon);
      s[c] = k;
      b[c] = o[c]! - m[c]! * k;
    }
    entry = {
      backend,
      keys,
      epsilon,
      filter: { dataId: backend.write(s, [1, 1, channels, 1], 'float32'), shape: [1, 1, channels, 1], dtype: 'float32' },
      bias: { dataId: backend.write(b, [channels], 'float32'), shape: [channels], dtype: 'float32' },
    };
    bnCache.set(mean.dataId, entry);
  }
  // any rank: the per-channel affine map on [1, 1, N, C] is the same map
  const x4: Info = { dataId: x.dataId, shape: [1, 1, size / channels, channels], dtype: 'float32' };
  const out = depthwise({
    inputs: { x: x4, filter: entry.filter, bias: entry.bias },
    backend,
    attrs: { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC', dimRoundingMode: undefined, activation: 'linear' },
  }) as Info;
  return { dataId: out.dataId, shape: [...x.shape], dtype: 'float32' };
}

function minimumWithScalar(args: KernelArgs, clip: Kernel): Info | Info[] | undefined {
  const { a, b } = args.inputs;
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const isScalar = (t: Info) => t.shape.every((d) => d === 1);
  // the output keeps the other operand's shape only when the scalar has no more dimensions
  const [x, c] = isScalar(a) && a.shape.length <= b.shape.length ? [b, a] : isScalar(b) && b.shape.length <= a.shape.length ? [a, b] : [undefined, undefined];
  if (!x || !c) return undefined;
  const value = args.backend.readSync(c.dataId)[0]!;
  if (Number.isNaN(value)) return undefined;
  return clip({ inputs: { x }, backend: args.backend, attrs: { clipValueMin: Number.NEGATIVE_INFINITY, clipValueMax: value } });
}
