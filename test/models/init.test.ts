import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../models/backend';
import { countParams, fillUniform, hashSeed, seededWeightValues } from '../../models/init';
import { ZOO } from '../../models/zoo';

beforeAll(async () => {
  await initBackend();
});

/** Every weight of a model by its saved name, as plain arrays (the model is disposed). */
function weightsOf(model: tf.LayersModel): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const w of model.weights) out.set(w.originalName, Float32Array.from(w.read().dataSync()));
  model.dispose();
  return out;
}

function stats(values: Float32Array): { mean: number; std: number; min: number; max: number } {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length), min, max };
}

describe('seeded weights', () => {
  it('are bit-identical for the same seed, whatever else was built before', () => {
    const chainFirst = weightsOf(ZOO.tinychain.build({ seed: 7 }));
    const dagFirst = weightsOf(ZOO.tinydag.build({ seed: 7 }));
    weightsOf(ZOO.resnet50.build({ inputSize: 32, seed: 3 }));
    const dagSecond = weightsOf(ZOO.tinydag.build({ seed: 7 }));
    const chainSecond = weightsOf(ZOO.tinychain.build({ seed: 7 }));
    for (const [a, b] of [
      [chainFirst, chainSecond],
      [dagFirst, dagSecond],
    ] as const) {
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [name, values] of a) expect(Buffer.from(b.get(name)!.buffer).equals(Buffer.from(values.buffer))).toBe(true);
    }
  });

  it('differ in every weight for a different seed', () => {
    const a = weightsOf(ZOO.tinydag.build({ seed: 1 }));
    const b = weightsOf(ZOO.tinydag.build({ seed: 2 }));
    for (const [name, values] of a) {
      const other = b.get(name)!;
      const same = values.reduce((n, v, i) => n + (v === other[i] ? 1 : 0), 0);
      expect(same, name).toBeLessThan(Math.max(2, values.length / 100));
    }
  });

  it('depend only on seed, layer name and weight kind (so sub-models and other builds agree)', () => {
    const model = ZOO.tinydag.build({ seed: 11 });
    const layer = model.getLayer('res2_conv1');
    const kernel = layer.getWeights()[0]!;
    const actual = kernel.dataSync();
    const expected = seededWeightValues('Conv2D', 'res2_conv1', 'kernel', kernel.shape, 11, undefined);
    model.dispose();
    expect(Array.from(actual)).toEqual(Array.from(expected));
  });

  it('have He-scaled kernels, small biases and near-identity BN statistics', () => {
    const model = ZOO.resnet50.build({ inputSize: 32 });
    const get = (layer: string, i: number) => model.getLayer(layer).getWeights()[i]!.dataSync() as Float32Array;
    const kernel = stats(get('layer4_0_conv2', 0)); // 3×3×512×512: fan-in 4608
    const gamma = stats(get('layer2_0_bn1', 0));
    const branchGamma = stats(get('layer2_0_bn3', 0));
    const beta = stats(get('layer2_0_bn1', 1));
    const mean = stats(get('layer2_0_bn1', 2));
    const variance = stats(get('layer2_0_bn1', 3));
    const fcBias = stats(get('fc', 1));
    model.dispose();
    expect(kernel.mean).toBeCloseTo(0, 3);
    expect(kernel.std).toBeCloseTo(Math.SQRT2 / Math.sqrt(3 * 3 * 512), 3);
    expect(gamma.min).toBeGreaterThanOrEqual(0.9);
    expect(gamma.max).toBeLessThanOrEqual(1.1);
    // the last BN of each residual branch is scaled down so 16 branches do not add up
    expect(branchGamma.mean).toBeCloseTo(0.2, 2);
    expect(Math.max(Math.abs(beta.min), beta.max, Math.abs(mean.min), mean.max, Math.abs(fcBias.min), fcBias.max)).toBeLessThanOrEqual(0.05);
    expect(variance.min).toBeGreaterThanOrEqual(0.8);
    expect(variance.max).toBeLessThanOrEqual(1.2);
    // not all equal: a dropped or swapped bias or BN would show in equivalence tests
    expect(beta.std).toBeGreaterThan(0.01);
  });

  it('hashes every part of the key, and the PRNG stream is uniform', () => {
    expect(hashSeed(1, 'ab', 'c')).not.toBe(hashSeed(1, 'a', 'bc'));
    expect(hashSeed(1, 'conv1', 'kernel')).not.toBe(hashSeed(2, 'conv1', 'kernel'));
    expect(hashSeed(1, 'conv1', 'kernel')).toBe(hashSeed(1, 'conv1', 'kernel'));
    const s = stats(fillUniform(new Float32Array(100_000), 12345, 0.5, 0.5));
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThan(1);
    expect(s.mean).toBeCloseTo(0.5, 2);
    expect(s.std).toBeCloseTo(1 / Math.sqrt(12), 2);
  });

  it('counts trainable and total parameters separately', () => {
    const model = ZOO.tinydag.build();
    const counts = countParams(model);
    // BN layers: stem 8, res1 2×8, res2 3×16 channels; each has 2 trainable (gamma, beta) and 2 moving statistics
    const bnChannels = 8 + 2 * 8 + 3 * 16;
    const size = (s: readonly (number | null)[]) => s.reduce<number>((a, b) => a * (b ?? 0), 1);
    const all = model.weights.reduce((n, w) => n + size(w.shape), 0);
    model.dispose();
    expect(counts.nonTrainable).toBe(2 * bnChannels);
    expect(counts.total).toBe(all);
    expect(counts.trainable).toBe(all - 2 * bnChannels);
  });
});
