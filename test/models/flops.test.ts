import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../models/graph';
import { isCountedExactly } from '../../models/flops';

/** Builds input → layers (chain) and returns the FLOPs analyzeModel gives each layer, by name. */
function flopsOf(inputShape: number[], ...layers: tf.layers.Layer[]): Record<string, number> {
  const x = tf.input({ shape: inputShape, name: 'x' });
  let y = x;
  for (const l of layers) y = l.apply(y) as tf.SymbolicTensor;
  const a = analyzeModel(tf.model({ inputs: x, outputs: y }));
  return Object.fromEntries(a.layers.map((l) => [l.name, l.flops]));
}

describe('layer FLOPs (multiply-adds counted once)', () => {
  it('counts a convolution as outH·outW·outC·kh·kw·inC, plus one op per output for a fused ReLU', () => {
    const f = flopsOf(
      [16, 16, 3],
      tf.layers.conv2d({ name: 'lin', filters: 8, kernelSize: 3, strides: 2, padding: 'same' }),
      tf.layers.conv2d({ name: 'relu', filters: 4, kernelSize: [1, 3], padding: 'valid', activation: 'relu' }),
    );
    expect(f.lin).toBe(8 * 8 * 8 * 3 * 3 * 3);
    expect(f.relu).toBe(8 * 6 * 4 * 1 * 3 * 8 + 8 * 6 * 4);
  });

  it('counts depthwise and separable convolutions per channel', () => {
    const f = flopsOf(
      [10, 10, 6],
      tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
      tf.layers.separableConv2d({ name: 'sep', kernelSize: 3, filters: 5, padding: 'valid' }),
    );
    expect(f.dw).toBe(10 * 10 * 12 * 3 * 3);
    expect(f.sep).toBe(8 * 8 * 12 * 3 * 3 + 8 * 8 * 12 * 5);
  });

  it('counts a dense layer as in·units, per leading position', () => {
    const f = flopsOf([7, 20], tf.layers.dense({ name: 'd', units: 3 }), tf.layers.flatten({ name: 'f' }), tf.layers.dense({ name: 'sm', units: 2, activation: 'softmax' }));
    expect(f.d).toBe(7 * 20 * 3);
    expect(f.f).toBe(0);
    expect(f.sm).toBe(21 * 2 + 2);
  });

  it('counts pooling per window element, global pooling per input element, BN and activations per output element', () => {
    const f = flopsOf(
      [8, 8, 4],
      tf.layers.batchNormalization({ name: 'bn' }),
      tf.layers.reLU({ name: 'r' }),
      tf.layers.activation({ name: 'act', activation: 'relu6' }),
      tf.layers.maxPooling2d({ name: 'mp', poolSize: 2 }),
      tf.layers.averagePooling2d({ name: 'ap', poolSize: 3, strides: 1, padding: 'same' }),
      tf.layers.zeroPadding2d({ name: 'zp', padding: 1 }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dropout({ name: 'do', rate: 0.5 }),
    );
    expect(f.bn).toBe(8 * 8 * 4);
    expect(f.r).toBe(8 * 8 * 4);
    expect(f.act).toBe(8 * 8 * 4);
    expect(f.mp).toBe(4 * 4 * 4 * 2 * 2);
    expect(f.ap).toBe(4 * 4 * 4 * 3 * 3);
    expect(f.zp).toBe(0);
    expect(f.gap).toBe(6 * 6 * 4);
    expect(f.do).toBe(0);
  });

  it('counts an n-way add as n−1 ops per output element and a concat as free', () => {
    const x = tf.input({ shape: [5, 5, 2], name: 'x' });
    const a = tf.layers.conv2d({ name: 'a', filters: 2, kernelSize: 1 }).apply(x) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ name: 'b', filters: 2, kernelSize: 1 }).apply(x) as tf.SymbolicTensor;
    const s = tf.layers.add({ name: 'sum' }).apply([a, b, x]) as tf.SymbolicTensor;
    const c = tf.layers.concatenate({ name: 'cat' }).apply([s, a]) as tf.SymbolicTensor;
    const layers = analyzeModel(tf.model({ inputs: x, outputs: c })).layers;
    const f = Object.fromEntries(layers.map((l) => [l.name, l.flops]));
    expect(f.sum).toBe(2 * 5 * 5 * 2);
    expect(f.cat).toBe(0);
    expect(f.a).toBe(5 * 5 * 2 * 2);
  });

  it('says which layer classes have their own rule', () => {
    expect(isCountedExactly('Conv2D')).toBe(true);
    expect(isCountedExactly('Concatenate')).toBe(true);
    expect(isCountedExactly('LSTM')).toBe(false);
  });
});
