import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { heapWeightsAvailable, heapWeightsEnabled, multiplyInPlace, unsetTensor, UnsetWeights, writeInPlace } from '../../models/heap-weights';
import { kernelScaleTensor } from '../../models/fuse';
import { useWasmBackend } from '../../testkit/wasm-backend';

useWasmBackend();

/** Seeded values of both signs, not round (their products round). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = (s / 2 ** 31) * 7.3 - 3.1;
  }
  return out;
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('heap weights: a streamed tail writes its weights into the engine memory of its variables', () => {
  it('a variable built on unset memory holds the bytes written in place, under the same tensor', () => {
    expect(heapWeightsAvailable()).toBe(true);
    const before = tf.memory().numTensors;
    const t = unsetTensor([3, 5]);
    expect(t.shape).toEqual([3, 5]);
    const v = tf.variable(t);
    t.dispose();
    const dataId = v.dataId;
    const w = values(15, 3);
    expect(writeInPlace(v, bytesOf(w))).toBe(true);
    expect(v.dataId).toBe(dataId);
    expect(Array.from(v.dataSync())).toEqual(Array.from(w));
    // an op on it sees the new values (nothing of the old memory is cached JavaScript-side)
    expect(Array.from(tf.mul(v, 2).dataSync())).toEqual(Array.from(w, (x) => Math.fround(x * 2)));
    v.dispose();
    expect(tf.memory().numTensors).toBe(before + 1); // the mul's result, left to the test's end
  });

  it('refuses, writing nothing, a tensor whose memory another shares or bytes of another size', () => {
    const a = tf.tensor1d([1, 2, 3, 4]);
    const b = tf.reshape(a, [2, 2]); // the same memory, two tensors
    expect(writeInPlace(a, bytesOf(new Float32Array([9, 9, 9, 9])))).toBe(false);
    b.dispose();
    expect(writeInPlace(a, bytesOf(new Float32Array([9, 9, 9])))).toBe(false);
    expect(Array.from(a.dataSync())).toEqual([1, 2, 3, 4]);
    expect(writeInPlace(a, bytesOf(new Float32Array([5, 6, 7, 8])))).toBe(true);
    expect(Array.from(a.dataSync())).toEqual([5, 6, 7, 8]);
    a.dispose();
  });

  for (const { what, shape, depthwise } of [
    { what: 'a convolution kernel [kh, kw, in, out] by out', shape: [3, 3, 5, 7], depthwise: false },
    { what: 'a depthwise kernel [kh, kw, in, mult] by in·mult', shape: [3, 3, 6, 2], depthwise: true },
  ]) {
    it(`multiplies ${what} in its own memory, bit for bit as tf.mul`, () => {
      const n = shape.reduce((x, y) => x * y, 1);
      const kernel = tf.tensor(values(n, 11), shape);
      const channels = depthwise ? shape[2]! * shape[3]! : shape[3]!;
      const s = kernelScaleTensor(shape, values(channels, 5), depthwise);
      const expected = tf.mul(kernel, s);
      const dataId = kernel.dataId;
      expect(multiplyInPlace(kernel, s)).toBe(true);
      expect(kernel.dataId).toBe(dataId);
      expect(Array.from(kernel.dataSync())).toEqual(Array.from(expected.dataSync()));
      tf.dispose([kernel, s, expected]);
    });
  }

  it('refuses to multiply in place a shared tensor, a factor that would grow it, or int32 values', () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const shared = tf.reshape(x, [4]); // the same memory
    expect(multiplyInPlace(x, tf.tensor1d([2, 2]))).toBe(false);
    shared.dispose();
    expect(multiplyInPlace(x, tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]))).toBe(false); // not broadcastable
    expect(multiplyInPlace(tf.tensor1d([1, 2]), tf.tensor2d([1, 2, 3, 4], [2, 2]))).toBe(false); // the result is bigger
    expect(multiplyInPlace(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32'))).toBe(false);
    expect(Array.from(x.dataSync())).toEqual([1, 2, 3, 4]);
    expect(multiplyInPlace(x, tf.tensor1d([10, 100]))).toBe(true);
    expect(Array.from(x.dataSync())).toEqual([10, 200, 30, 400]);
    x.dispose();
  });

  it('UnsetWeights builds a layer from a topology; on another backend it is zeros and nothing is written in place', async () => {
    // as model.json names it: the registered class
    const layer = tf.layers.dense({ units: 3, inputShape: [2], kernelInitializer: { className: UnsetWeights.className, config: {} } as never });
    const model = tf.sequential({ layers: [layer] });
    expect((layer.getConfig().kernelInitializer as { className: string }).className).toBe('OffloadUnsetWeights');
    expect(model.weights[0]!.shape).toEqual([2, 3]);
    expect(writeInPlace(model.weights[0]!.read(), bytesOf(values(6, 1)))).toBe(true);
    expect(Array.from(model.weights[0]!.read().dataSync())).toEqual(Array.from(values(6, 1)));
    model.dispose();
    await tf.setBackend('cpu');
    try {
      expect(heapWeightsAvailable()).toBe(false);
      const z = unsetTensor([2, 2]);
      expect(Array.from(z.dataSync())).toEqual([0, 0, 0, 0]);
      expect(writeInPlace(z, bytesOf(new Float32Array([1, 2, 3, 4])))).toBe(false);
      expect(multiplyInPlace(z, tf.tensor1d([1, 2]))).toBe(false);
      z.dispose();
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('OFFLOAD_HEAP_WEIGHTS: on unless "off"; anything else is refused by name', () => {
    expect(heapWeightsEnabled({})).toBe(true);
    expect(heapWeightsEnabled({ OFFLOAD_HEAP_WEIGHTS: 'on' })).toBe(true);
    expect(heapWeightsEnabled({ OFFLOAD_HEAP_WEIGHTS: ' Off ' })).toBe(false);
    expect(() => heapWeightsEnabled({ OFFLOAD_HEAP_WEIGHTS: '1' })).toThrow(/OFFLOAD_HEAP_WEIGHTS: must be "on" or "off" \(got "1"\)/);
  });
});
