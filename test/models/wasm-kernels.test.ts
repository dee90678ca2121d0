import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { installWasmKernels, REPLACED_WASM_KERNELS, restoreWasmKernels, wasmKernelsInstalled } from '../../models/wasm-kernels';
import { ZOO } from '../../models/zoo';
import { useWasmBackend } from '../../testkit/wasm-backend';

useWasmBackend();

/** The values of `f()` with the replacement kernels, then with tfjs's own. */
function both(f: () => tf.Tensor): { ours: Float32Array | Int32Array; theirs: Float32Array | Int32Array; shapes: [number[], number[]] } {
  installWasmKernels();
  const a = f();
  restoreWasmKernels();
  const b = f();
  installWasmKernels();
  const out = { ours: a.dataSync() as Float32Array, theirs: b.dataSync() as Float32Array, shapes: [a.shape, b.shape] as [number[], number[]] };
  a.dispose();
  b.dispose();
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** Largest difference relative to the magnitude (at least 1) of the reference: float32 rounding is relative. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return d;
}

/** Values spanning both signs and beyond 6, with exact zeros. */
function spread(shape: number[], seed = 7): tf.Tensor {
  return tf.tidy(() => tf.round(tf.randomUniform(shape, -90, 90, 'float32', seed)).div(10));
}

describe('XNNPACK replacements of the scalar wasm kernels', () => {
  it('are installed when the wasm backend starts', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmKernelsInstalled()).toBe(true);
  });

  it('relu: identical to tfjs for float32, and int32 still goes to tfjs', () => {
    const x = spread([2, 9, 7, 5]);
    const r = both(() => tf.relu(x));
    expect(Array.from(r.ours)).toEqual(Array.from(r.theirs));
    expect(Math.min(...r.ours)).toBe(0);
    const i = tf.tensor1d([-3, 0, 4], 'int32');
    const ri = both(() => tf.relu(i));
    expect(Array.from(ri.ours)).toEqual([0, 0, 4]);
    tf.dispose([x, i]);
  });

  it('minimum with a scalar (either side) is exact; two full tensors and a NaN scalar go to tfjs', () => {
    const x = spread([3, 11, 4]);
    for (const f of [() => tf.minimum(6, x), () => tf.minimum(x, tf.scalar(-1.5)), () => tf.minimum(x, tf.tensor3d([2], [1, 1, 1]))]) {
      const r = both(f);
      expect(r.shapes[0]).toEqual(r.shapes[1]);
      expect(Array.from(r.ours)).toEqual(Array.from(r.theirs));
    }
    const y = spread([3, 11, 4], 9);
    const full = both(() => tf.minimum(x, y));
    expect(Array.from(full.ours)).toEqual(Array.from(full.theirs));
    // a NaN scalar is left to tfjs (std::min keeps the other operand; a clamp to NaN would not)
    const nan = both(() => tf.minimum(x, tf.scalar(Number.NaN)));
    expect(Array.from(nan.ours)).toEqual(Array.from(nan.theirs));
    // a [1,1] scalar against a vector broadcasts to [1, n]: tfjs's kernel keeps that shape
    const v = tf.tensor1d([1, 5, 9]);
    const wider = both(() => tf.minimum(v, tf.tensor2d([[4]])));
    expect(wider.shapes[0]).toEqual([1, 3]);
    expect(Array.from(wider.ours)).toEqual([1, 4, 4]);
    tf.dispose([x, y, v]);
  });

  it('batch norm matches tfjs within float32 rounding (1e-5 relative), per-channel, scalar and missing parameters, any rank', () => {
    const c = 6;
    const mean = tf.tensor1d([0.5, -1, 2, 0, 3, -0.25]);
    const variance = tf.tensor1d([1, 0.25, 4, 9, 0.01, 2]);
    const offset = tf.tensor1d([0, 1, -1, 0.5, 2, 0]);
    const scale = tf.tensor1d([1, 2, 0.5, -1, 3, 0.1]);
    for (const shape of [[1, 5, 7, c], [4, c], [2, 3, 2, 2, c]]) {
      const x = spread(shape);
      const cases = [
        () => tf.batchNorm(x, mean, variance, offset, scale, 1e-5),
        () => tf.batchNorm(x, mean, variance, undefined, undefined, 1e-3),
        () => tf.batchNorm(x, tf.scalar(0.5), tf.scalar(2), tf.scalar(1), tf.scalar(3), 1e-5),
      ];
      for (const f of cases) {
        const r = both(f);
        expect(r.shapes[0]).toEqual(shape);
        expect(maxRelDiff(r.ours, r.theirs)).toBeLessThanOrEqual(1e-5);
      }
      x.dispose();
    }
    // against the definition, in float64
    const x = spread([1, 2, 2, c]);
    const got = tf.batchNorm(x, mean, variance, offset, scale, 1e-5).dataSync();
    const [xs, m, v, o, s] = [x, mean, variance, offset, scale].map((t) => t.dataSync());
    const want = Array.from(xs!, (xi, i) => o![i % c]! + ((xi - m![i % c]!) * s![i % c]!) / Math.sqrt(v![i % c]! + 1e-5));
    expect(maxRelDiff(got, want)).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, mean, variance, offset, scale]);
  });

  it('frees the cached scale and shift of a batch norm whose parameters were disposed', () => {
    const backend = tf.engine().backend;
    // restoring drops every cached entry: the count below starts clean
    restoreWasmKernels();
    installWasmKernels();
    const x = spread([1, 4, 4, 3]);
    const params = () => [tf.tensor1d([1, 2, 3]), tf.tensor1d([1, 1, 1]), tf.tensor1d([0, 0, 0]), tf.tensor1d([1, 1, 1])] as const;
    const run = (p: readonly tf.Tensor1D[]) => tf.batchNorm(x, p[0]!, p[1]!, p[2], p[3], 1e-3).dispose();
    const base = backend.numDataIds();
    const first = params();
    run(first);
    run(first);
    // four parameters and the cached filter and bias
    expect(backend.numDataIds()).toBe(base + 4 + 2);
    tf.dispose([...first]);
    const second = params();
    run(second);
    // the first layer's cache went with its parameters; the second one's is there
    expect(backend.numDataIds()).toBe(base + 4 + 2);
    tf.dispose([...second]);
    x.dispose();
  });

  it('MobileNetV2 and ResNet-50 give tfjs-kernel outputs (maxAbsDiff <= 1e-5)', () => {
    for (const name of ['mobilenetv2', 'resnet50'] as const) {
      const net = ZOO[name].build({ inputSize: 64 });
      const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3);
      const r = both(() => net.predict(x) as tf.Tensor);
      expect(maxAbsDiff(r.ours, r.theirs), name).toBeLessThanOrEqual(1e-5);
      x.dispose();
      net.dispose();
    }
  });

  it('replaces exactly the kernels it names, and restores tfjs’s own', () => {
    const ours = REPLACED_WASM_KERNELS.map((k) => tf.getKernel(k, 'wasm')!.kernelFunc);
    restoreWasmKernels();
    expect(wasmKernelsInstalled()).toBe(false);
    const theirs = REPLACED_WASM_KERNELS.map((k) => tf.getKernel(k, 'wasm')!.kernelFunc);
    for (let i = 0; i < ours.length; i++) expect(ours[i]).not.toBe(theirs[i]);
    installWasmKernels();
    expect(wasmKernelsInstalled()).toBe(true);
    REPLACED_WASM_KERNELS.forEach((k, i) => expect(tf.getKernel(k, 'wasm')!.kernelFunc, k).not.toBe(theirs[i]));
  });
});
