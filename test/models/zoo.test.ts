import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors';
import { initBackend } from '../../models/backend';
import { ZOO, ZOO_NAMES, isZooName, type ZooName } from '../../models/zoo';

beforeAll(async () => {
  await initBackend();
});

/** Runs `model` on a seeded normal input of its own input shape; returns output shape and values. */
function run(model: tf.LayersModel): { shape: number[]; values: Float32Array } {
  return tf.tidy(() => {
    const shape = model.inputs[0]!.shape.slice(1) as number[];
    const y = model.predict(tf.randomNormal([1, ...shape], 0, 1, 'float32', 42)) as tf.Tensor;
    return { shape: y.shape, values: y.dataSync() as Float32Array };
  });
}

/** tfjs auto names look like `conv2d_Conv2D3` / `dense_Dense12`: a class name and a process-global counter. */
const AUTO_NAME = /_[A-Z][A-Za-z0-9]*?\d+$/;

describe('zoo', () => {
  it('lists every network once, with its own name', () => {
    expect(Object.keys(ZOO).sort()).toEqual([...ZOO_NAMES].sort());
    for (const name of ZOO_NAMES) expect(ZOO[name].name).toBe(name);
    expect(isZooName('resnet50')).toBe(true);
    expect(isZooName('resnet51')).toBe(false);
  });

  it.each(['tinychain', 'tinydag'] as const)('%s builds and runs at its default size to 10 finite logits', (name) => {
    const model = ZOO[name].build();
    expect(model.inputs[0]!.shape).toEqual([null, ...ZOO[name].inputShape]);
    const { shape, values } = run(model);
    model.dispose();
    expect(shape).toEqual([1, 10]);
    expect(values.every(Number.isFinite)).toBe(true);
    // not degenerate: the logits differ from each other
    expect(new Set(values).size).toBe(10);
  });

  it('tinydag is a DAG with residual adds and a 3-way concat', () => {
    const model = ZOO.tinydag.build();
    const classes = model.layers.map((l) => l.getClassName());
    const concat = model.getLayer('mix_concat');
    model.dispose();
    expect(classes.filter((c) => c === 'Add')).toHaveLength(2);
    expect(classes).toContain('ZeroPadding2D');
    expect(classes).toContain('BatchNormalization');
    expect(concat.inboundNodes[0]!.inboundLayers).toHaveLength(3);
  });

  const reduced: [ZooName, number][] = [
    ['alexnet', 63],
    ['vgg16', 32],
    ['resnet50', 32],
    ['mobilenetv2', 32],
    ['googlenet', 32],
  ];
  it.each(reduced)('%s builds at a reduced input size (%i) and runs to 1000 finite logits', (name, size) => {
    const model = ZOO[name].build({ inputSize: size });
    expect(model.inputs[0]!.shape).toEqual([null, size, size, 3]);
    const { shape, values } = run(model);
    model.dispose();
    expect(shape).toEqual([1, 1000]);
    expect(values.every(Number.isFinite)).toBe(true);
    // well-conditioned logits: O(1), neither vanished nor exploded
    const rms = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    expect(rms).toBeGreaterThan(0.01);
    expect(rms).toBeLessThan(100);
  });

  it.each(ZOO_NAMES.map((n) => [n]))('%s names every layer explicitly and the same in every build', (name) => {
    const size = Math.min(ZOO[name].inputShape[0], name === 'alexnet' ? 63 : 32);
    const first = ZOO[name].build({ inputSize: size });
    const second = ZOO[name].build({ inputSize: size });
    const names = first.layers.map((l) => l.name);
    const again = second.layers.map((l) => l.name);
    const weightNames = second.weights.map((w) => w.originalName);
    first.dispose();
    second.dispose();
    expect(again).toEqual(names);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) {
      expect(n).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(n).not.toMatch(AUTO_NAME);
    }
    // the names saved with the weights are `<layer>/<weight>`, never uniquified by a second build
    for (const w of weightNames) expect(w).toMatch(/^[a-z][a-z0-9_]*\/[a-z_]+$/);
  });

  it('rejects an input size the architecture cannot take', () => {
    expect(() => ZOO.resnet50.build({ inputSize: 16 })).toThrow(ValidationError);
    expect(() => ZOO.alexnet.build({ inputSize: 62 })).toThrow(/alexnet needs an integer input size >= 63 \(got 62\)/);
    expect(() => ZOO.tinychain.build({ inputSize: 7.5 })).toThrow(/^inputSize: /);
    expect(() => ZOO.tinydag.build({ seed: 0.5 })).toThrow(/^seed: must be an integer/);
  });

  it('builds GoogLeNet max pools with torchvision ceil-mode sizes at even and odd inputs', () => {
    for (const size of [64, 65, 97]) {
      const model = ZOO.googlenet.build({ inputSize: size });
      const pools = model.layers.filter((l) => /^maxpool\d$/.test(l.name));
      const shapes = pools.map((l) => {
        const input = (l.input as tf.SymbolicTensor).shape as number[];
        const output = l.outputShape as number[];
        const cfg = l.getConfig() as { poolSize: number[]; strides: number[] };
        return { h: input[1]!, out: output[1]!, k: cfg.poolSize[0]!, s: cfg.strides[0]! };
      });
      model.dispose();
      expect(shapes).toHaveLength(4);
      for (const { h, out, k, s } of shapes) expect(out).toBe(Math.ceil((h - k) / s) + 1);
    }
  });
});
