import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { findFoldableChains, fuseModel, fusionEnabled } from '../../models/fuse';
import { analyzeModel } from '../../models/graph';
import { splitModel } from '../../models/slice';
import { ZOO } from '../../models/zoo';
import { maxAbsDiff } from '../../testkit/tensors';
import { residualModel, seededInput } from './graph-fixtures';
import { useWasmBackend } from '../../testkit/wasm-backend';

// the engine tails run: XNNPACK's fused kernels, relu6 included
useWasmBackend();

const init = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed });

function bn(name: string, seed: number, axis = -1): tf.layers.Layer {
  return tf.layers.batchNormalization({
    name,
    axis,
    epsilon: 1e-3,
    gammaInitializer: init(seed),
    betaInitializer: init(seed + 1),
    movingMeanInitializer: init(seed + 2),
    movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: seed + 3 }),
  });
}

function conv(
  name: string,
  seed: number,
  o: { filters?: number; depthwise?: boolean; strides?: number; useBias?: boolean; activation?: 'relu' | 'linear'; padding?: 'same' | 'valid' } = {},
) {
  const common = { name, kernelSize: 3, strides: o.strides ?? 1, padding: o.padding ?? 'same', useBias: o.useBias ?? true, activation: o.activation ?? 'linear', biasInitializer: init(seed + 7) };
  return o.depthwise
    ? tf.layers.depthwiseConv2d({ ...common, depthMultiplier: 2, depthwiseInitializer: init(seed) })
    : tf.layers.conv2d({ ...common, filters: o.filters ?? 6, kernelInitializer: init(seed) });
}

const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

/**
 * Every foldable shape and every rule that forbids a fold:
 * c1 → bn1 → relu6 (Activation): folds whole;
 * pad2 (1 on every side) → d2 (depthwise ×2, strided, 'valid', biased) → bn2 → ReLU(max 6): folds whole, the pad as d2's padding;
 * c3 → ReLU (no BN): folds;
 * c4 (already relu) → bn4: c4's activation is not linear, no fold;
 * c5 → bn5 → [branch: bn5 also feeds the add]: c5+bn5 fold, the relu after bn5 does not;
 * c6 → bn6 (axis 1) : not the channel axis, no fold;
 * pad7 (1 top, 2 bottom) → c7 → ReLU(max 3): the pad is not symmetric and the clamp is not relu/relu6, no fold;
 * c8 → bn8 = the model output: folds (the fused layer keeps bn8's name).
 */
function rulesModel(): tf.LayersModel {
  const x = tf.input({ shape: [10, 10, 3], name: 'input' });
  let y = apply(conv('c1', 1, { useBias: false }), x);
  y = apply(bn('bn1', 10), y);
  y = apply(tf.layers.activation({ name: 'relu6_1', activation: 'relu6' }), y);
  y = apply(tf.layers.zeroPadding2d({ name: 'pad2', padding: [[1, 1], [1, 1]] }), y);
  y = apply(conv('d2', 2, { depthwise: true, strides: 2, padding: 'valid' }), y);
  y = apply(bn('bn2', 20), y);
  y = apply(tf.layers.reLU({ name: 'relu6_2', maxValue: 6 }), y);
  y = apply(conv('c3', 3), y);
  y = apply(tf.layers.reLU({ name: 'relu_3' }), y);
  y = apply(conv('c4', 4, { activation: 'relu' }), y);
  y = apply(bn('bn4', 40), y);
  const c5 = apply(conv('c5', 5), y);
  const b5 = apply(bn('bn5', 50), c5);
  const r5 = apply(tf.layers.activation({ name: 'relu_5', activation: 'relu' }), b5);
  y = apply(tf.layers.add({ name: 'add5' }), [r5, b5]);
  y = apply(conv('c6', 6), y);
  y = apply(bn('bn6', 60, 1), y);
  y = apply(tf.layers.zeroPadding2d({ name: 'pad7', padding: [[1, 2], [1, 1]] }), y);
  y = apply(conv('c7', 7, { padding: 'valid' }), y);
  y = apply(tf.layers.reLU({ name: 'relu3_7', maxValue: 3 }), y);
  y = apply(conv('c8', 8), y);
  y = apply(bn('bn8', 80), y);
  return tf.model({ inputs: x, outputs: y, name: 'rules' });
}

describe('fuseModel: conv → BN → relu/relu6 folded into one fused convolution', () => {
  it('folds exactly the chains the rules allow, and computes what the model computes', () => {
    const model = rulesModel();
    const chains = findFoldableChains(model);
    expect(chains).toEqual([
      { conv: 'c1', folded: ['bn1', 'relu6_1'], activation: 'relu6', name: 'relu6_1' },
      { conv: 'd2', folded: ['pad2', 'bn2', 'relu6_2'], activation: 'relu6', name: 'relu6_2', pad: 'pad2' },
      { conv: 'c3', folded: ['relu_3'], activation: 'relu', name: 'relu_3' },
      { conv: 'c5', folded: ['bn5'], activation: 'linear', name: 'bn5' },
      { conv: 'c8', folded: ['bn8'], activation: 'linear', name: 'bn8' },
    ]);
    const fused = fuseModel(model);
    expect(fused.chains).toEqual(chains);
    expect(fused.model.layers.length).toBe(model.layers.length - 8); // 8 layers folded away
    expect(fused.model.inputNames).toEqual(model.inputNames);
    expect(fused.model.outputNames).toEqual(model.outputNames);
    const x = seededInput(model);
    expect(maxAbsDiff(fused.model.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor)).toBeLessThanOrEqual(1e-5);
    // the unfolded layers are there under their own names
    for (const kept of ['c4', 'bn4', 'relu_5', 'c6', 'bn6', 'pad7', 'c7', 'relu3_7']) expect(fused.model.getLayer(kept).name).toBe(kept);
  });

  it('never folds across a cut: a head ending on a conv keeps it, the tail starting at the BN keeps that', () => {
    const model = residualModel(); // 0 stem, 1 a, 2 bn, 3 relu, 4 add, 5 gap, 6 fc
    const analysis = analyzeModel(model, { maxCrossing: 10 });
    const x = seededInput(model);
    const expected = model.predict(x) as tf.Tensor;
    for (const cut of [2, 3]) {
      const { head, tail } = splitModel(model, analysis, cut);
      const fh = fuseModel(head!);
      const ft = fuseModel(tail!);
      // a's output crosses cut 2: nothing folds into it; at cut 3 bn's output crosses, a → bn folds and stops there
      expect(fh.chains).toEqual(cut === 2 ? [] : [{ conv: 'a', folded: ['bn'], activation: 'linear', name: 'bn' }]);
      expect(ft.chains).toEqual([]);
      expect(fh.model.outputNames).toEqual(head!.outputNames);
      expect(ft.model.inputNames).toEqual(tail!.inputNames);
      const y = ft.model.predict(fh.model.predict(x) as tf.Tensor | tf.Tensor[]) as tf.Tensor;
      expect(maxAbsDiff(y, expected)).toBeLessThanOrEqual(1e-5);
    }
    // the whole model: a → bn → relu folds (a's output feeds only bn, bn's only relu)
    expect(findFoldableChains(model)).toEqual([{ conv: 'a', folded: ['bn', 'relu'], activation: 'relu', name: 'relu' }]);
  });

  it('returns the model itself when nothing folds, and frees what it made on dispose', () => {
    const plain = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] })] });
    expect(fuseModel(plain).model).toBe(plain);
    const model = rulesModel();
    const before = tf.memory().numTensors;
    const fused = fuseModel(model);
    fused.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  // logits of the zoo's seeded nets are ~0.5 (MobileNetV2) and ~2 (ResNet-50) in magnitude: 1e-5 absolute is ~1e-5 relative
  for (const [name, size] of [['mobilenetv2', 96], ['resnet50', 64]] as const) {
    it(`${name}: fused head and tail at several cuts match the unfused model within 1e-5 (max abs diff of the logits)`, () => {
      const model = ZOO[name].build({ inputSize: size });
      const analysis = analyzeModel(model);
      const x = tf.randomUniform([1, ...analysis.inputShape], -1, 1, 'float32', 5);
      const expected = model.predict(x) as tf.Tensor;
      const picks = analysis.candidates.filter((_, i) => i % 9 === 4).map((c) => c.cut);
      const cuts = [0, ...picks.slice(0, 5), analysis.layers.length];
      let folded = 0;
      for (const cut of cuts) {
        const { head, tail } = splitModel(model, analysis, cut);
        const fh = head ? fuseModel(head) : undefined;
        const ft = tail ? fuseModel(tail) : undefined;
        folded = Math.max(folded, (fh?.chains.length ?? 0) + (ft?.chains.length ?? 0));
        const mid = fh ? (fh.model.predict(x) as tf.Tensor) : x;
        const y = ft ? (ft.model.predict(mid) as tf.Tensor) : mid;
        expect(maxAbsDiff(y, expected), `cut ${cut}`).toBeLessThanOrEqual(1e-5);
        tf.dispose([y, mid === x ? [] : mid]);
        for (const m of [fh?.model, ft?.model, head, tail]) m?.dispose();
      }
      expect(folded).toBeGreaterThanOrEqual(50); // ~3 chains per block: most element-wise kernels are gone
    });
  }

  it('OFFLOAD_FUSE: on unless "off"; anything else is refused by name', () => {
    expect(fusionEnabled({})).toBe(true);
    expect(fusionEnabled({ OFFLOAD_FUSE: 'on' })).toBe(true);
    expect(fusionEnabled({ OFFLOAD_FUSE: ' OFF ' })).toBe(false);
    expect(() => fusionEnabled({ OFFLOAD_FUSE: 'no' })).toThrow(/OFFLOAD_FUSE: must be "on" or "off" \(got "no"\)/);
  });
});
