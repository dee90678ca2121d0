import { PROFILE_FORMAT, type ModelProfile } from '../../core/profiles';

/**
 * A small hand-made profile (a chain of conv / batch norm / relu / dense) with
 * round numbers, so expectations can be computed by hand.
 */
export function chainProfile(name = 'chain', scale = 1): ModelProfile {
  const layers = [
    { name: 'conv1', className: 'Conv2D', kernel: [3, 3], activation: 'linear', ms: 4, flops: 40e6, inputBytes: 12288, outputBytes: 65536, weightBytes: 1792 },
    { name: 'bn1', className: 'BatchNormalization', ms: 0.5, flops: 16384, inputBytes: 65536, outputBytes: 65536, weightBytes: 256 },
    { name: 'relu1', className: 'Activation', activation: 'relu', ms: 0.2, flops: 16384, inputBytes: 65536, outputBytes: 65536, weightBytes: 0 },
    { name: 'conv2', className: 'Conv2D', kernel: [1, 1], activation: 'relu', ms: 2, flops: 20e6, inputBytes: 65536, outputBytes: 16384, weightBytes: 4160 },
    { name: 'flatten', className: 'Flatten', ms: 0.02, flops: 0, inputBytes: 16384, outputBytes: 16384, weightBytes: 0 },
    { name: 'fc', className: 'Dense', activation: 'linear', ms: 1, flops: 4096e3, inputBytes: 16384, outputBytes: 4000, weightBytes: 16388000 },
  ].map((l, index) => ({
    index,
    ...l,
    ms: l.ms * scale,
    wallMs: l.ms * scale,
    cpuMs: l.ms * scale,
    inputShapes: [[l.inputBytes / 4]],
    outputShape: [l.outputBytes / 4],
  }));
  const sum = layers.reduce((s, l) => s + l.ms, 0);
  return {
    format: PROFILE_FORMAT,
    model: name,
    backend: 'wasm',
    machine: { cpuModel: 'test', cores: 2, platform: 'linux-x64', node: 'v20', tfjs: '4.22.0', loadAverage: 0, memGBps: 20 },
    date: '2026-01-01T00:00:00.000Z',
    inputShape: [32, 32, 3],
    inputBytes: 12288,
    outputBytes: 4000,
    candidates: [
      { cut: 0, crossingBytes: 12288, tailWeightBytes: 16398208 },
      { cut: 1, crossingBytes: 65536, tailWeightBytes: 16396416 },
      { cut: 3, crossingBytes: 65536, tailWeightBytes: 16396160 },
      { cut: 4, crossingBytes: 16384, tailWeightBytes: 16388000 },
      { cut: 5, crossingBytes: 16384, tailWeightBytes: 16388000 },
    ],
    repeats: 5,
    warmup: 1,
    clock: 'cpu',
    layers,
    wholeModelMs: sum,
    wholeModelWallMs: sum,
    wholeModelCpuMs: sum,
    sumOfLayersMs: sum,
    isolationRatio: 1,
  };
}
