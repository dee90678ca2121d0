import { describe, expect, it } from 'vitest';
import {
  fitPredictor,
  layerGroup,
  leaveOneModelOut,
  nnls,
  predictLayerMs,
  quantile,
  scaleMeasuredMs,
  type MeasuredLayer,
} from '../../core/predictor';
import { seededRandom } from '../../core/random';

/** Known coefficients per class: ms per GMAC, per activation MB, per weight MB, overhead ms. */
const TRUTH: Record<string, [number, number, number, number]> = {
  Conv2D: [90, 0.05, 0.02, 0.03],
  Dense: [0, 0.01, 0.4, 0.02],
  BatchNormalization: [0, 0.3, 0, 0.05],
};

function synthetic(n: number, seed: number, noise = 0): MeasuredLayer[] {
  const r = seededRandom(seed);
  const out: MeasuredLayer[] = [];
  const classes = Object.keys(TRUTH);
  for (let i = 0; i < n; i++) {
    const className = classes[i % classes.length]!;
    const layer = {
      className,
      kernel: className === 'Conv2D' ? [3, 3] : undefined,
      flops: className === 'BatchNormalization' ? 1e5 * (1 + 50 * r()) : 1e6 * (1 + 400 * r()),
      inputBytes: Math.round(4e4 * (1 + 100 * r())),
      outputBytes: Math.round(4e4 * (1 + 100 * r())),
      weightBytes: className === 'BatchNormalization' ? 2048 : Math.round(1e4 * (1 + 1000 * r())),
    };
    const [a, b, c, d] = TRUTH[className]!;
    const ms = a * (layer.flops / 1e9) + b * ((layer.inputBytes + layer.outputBytes) / 1e6) + c * (layer.weightBytes / 1e6) + d;
    out.push({ ...layer, ms: ms * (1 + noise * (r() * 2 - 1)) });
  }
  return out;
}

const HOST_MEM_GBPS = 10;

describe('nnls', () => {
  it('solves an exactly determined system with positive solution', () => {
    const beta = nnls([[1, 0], [0, 1], [1, 1]], [2, 3, 5]);
    expect(beta[0]).toBeCloseTo(2, 10);
    expect(beta[1]).toBeCloseTo(3, 10);
  });

  it('clamps a coefficient that least squares would make negative to 0', () => {
    // y = 2·x1 − 1·x2 exactly; the non-negative optimum drops x2.
    const X = [[1, 0.5], [2, 0.1], [3, 1], [4, 0.2]];
    const y = X.map(([a, b]) => 2 * a! - b!);
    const beta = nnls(X, y);
    expect(beta[1]).toBe(0);
    expect(beta[0]).toBeGreaterThan(0);
    expect(beta.every((b) => b >= 0)).toBe(true);
  });
});

describe('fitPredictor', () => {
  it('recovers the known coefficients of noiseless synthetic layers', () => {
    const p = fitPredictor(synthetic(300, 7), HOST_MEM_GBPS);
    const conv = p.groups.conv;
    expect(conv.msPerGmac).toBeCloseTo(TRUTH.Conv2D![0], 6);
    expect(conv.msPerActivationMB).toBeCloseTo(TRUTH.Conv2D![1], 6);
    expect(conv.msPerWeightMB).toBeCloseTo(TRUTH.Conv2D![2], 6);
    expect(conv.overheadMs).toBeCloseTo(TRUTH.Conv2D![3], 6);
    expect(p.groups.dense.msPerWeightMB).toBeCloseTo(TRUTH.Dense![2], 6);
    expect(p.groups.batchnorm.msPerActivationMB).toBeCloseTo(TRUTH.BatchNormalization![1], 6);
    expect(p.groups.batchnorm.msPerGmac).toBe(0);
  });

  it('memory-bound groups (dense at batch one, element-wise) get no compute term', () => {
    const p = fitPredictor(synthetic(300, 7), HOST_MEM_GBPS);
    expect(p.groups.dense.msPerGmac).toBe(0);
    expect(p.groups.batchnorm.msPerGmac).toBe(0);
    expect(p.groups.conv.msPerGmac).toBeGreaterThan(0);
  });

  it('stays close to the coefficients under ±10% multiplicative noise', () => {
    const p = fitPredictor(synthetic(3000, 11, 0.1), HOST_MEM_GBPS);
    expect(Math.abs(p.groups.conv.msPerGmac / TRUTH.Conv2D![0] - 1)).toBeLessThan(0.05);
    expect(Math.abs(p.groups.dense.msPerWeightMB / TRUTH.Dense![2] - 1)).toBeLessThan(0.1);
  });

  it('groups with too few layers fall back to the pooled fit', () => {
    const p = fitPredictor(synthetic(60, 3), HOST_MEM_GBPS);
    expect(p.groups.depthwise.samples).toBe(0);
    expect(p.groups.depthwise.msPerGmac).toBe(p.pooled.msPerGmac);
  });
});

describe('prediction on another device', () => {
  const p = fitPredictor(synthetic(300, 5), HOST_MEM_GBPS);
  const layer = synthetic(1, 99)[0]!;

  const S = p.host.gmacPerSecond;
  const B = p.host.memGBps;

  it('reads the host throughput off the convolution fit', () => {
    expect(S).toBeCloseTo(1000 / TRUTH.Conv2D![0], 6);
    expect(B).toBe(HOST_MEM_GBPS);
  });

  it('scales the compute part with GMAC/s and the memory part with bandwidth', () => {
    const here = predictLayerMs(p, layer);
    const twiceCompute = predictLayerMs(p, layer, { gmacPerSecond: 2 * S, memGBps: B });
    const twiceBoth = predictLayerMs(p, layer, { gmacPerSecond: 2 * S, memGBps: 2 * B });
    expect(twiceBoth).toBeCloseTo(here / 2, 9);
    expect(twiceCompute).toBeLessThan(here);
    expect(twiceCompute).toBeGreaterThan(here / 2);
  });

  it('replaces the overhead by the target\'s own when it gives one', () => {
    const [a, b, c] = TRUTH.Conv2D!;
    const expected =
      (a * (layer.flops / 1e9)) / 2 + (b * ((layer.inputBytes + layer.outputBytes) / 1e6) + c * (layer.weightBytes / 1e6)) / 4 + 0.001;
    expect(predictLayerMs(p, layer, { gmacPerSecond: 2 * S, memGBps: 4 * B, overheadMs: 0.001 })).toBeCloseTo(expected, 9);
  });

  it('a device that fuses element-wise layers spends nothing on batch norm', () => {
    const bn = synthetic(3, 99)[2]!;
    expect(bn.className).toBe('BatchNormalization');
    expect(predictLayerMs(p, bn, { ...p.host, fusesElementwise: true })).toBe(0);
    expect(predictLayerMs(p, bn, p.host)).toBeGreaterThan(0);
    expect(predictLayerMs(p, layer, { ...p.host, fusesElementwise: true })).toBeCloseTo(predictLayerMs(p, layer), 12);
  });

  it('scaleMeasuredMs keeps the measurement on the host and halves it on a machine twice as fast in both', () => {
    expect(scaleMeasuredMs(p, layer, p.host)).toBeCloseTo(layer.ms, 9);
    expect(scaleMeasuredMs(p, layer, { gmacPerSecond: 2 * S, memGBps: 2 * B })).toBeCloseTo(layer.ms / 2, 9);
  });
});

describe('layer groups and evaluation helpers', () => {
  it('tells 1×1 convolutions from the others', () => {
    expect(layerGroup({ className: 'Conv2D', kernel: [1, 1] })).toBe('conv1x1');
    expect(layerGroup({ className: 'Conv2D', kernel: [3, 3] })).toBe('conv');
    expect(layerGroup({ className: 'DepthwiseConv2D', kernel: [3, 3] })).toBe('depthwise');
    expect(layerGroup({ className: 'Flatten' })).toBe('reshape');
    expect(layerGroup({ className: 'Activation', activation: 'relu' })).toBe('activation');
    expect(layerGroup({ className: 'Activation', activation: 'relu6' })).toBe('activation-other');
  });

  it('quantile interpolates', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([5], 0.9)).toBe(5);
  });

  it('leave-one-model-out has (near) zero error when every model follows the same law', () => {
    const models = [1, 2, 3].map((s) => ({ name: `m${s}`, layers: synthetic(90, s) }));
    const r = leaveOneModelOut(models, HOST_MEM_GBPS);
    expect(r.perModel.map((m) => m.heldOut)).toEqual(['m1', 'm2', 'm3']);
    expect(r.all.p90RelError).toBeLessThan(1e-6);
  });
});
