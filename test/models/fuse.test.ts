import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { findFoldableChains, FusedConv2D, fuseModel, fusionEnabled, isPointwise, type FusedConv2DArgs } from '../../models/fuse';
import { loadFusedModelFromFiles, loadModelFromFiles, modelToFiles } from '../../models/artifacts';
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

  it('a pointwise (1×1, stride 1) fused convolution runs as a matrix product on the wasm engine: the outputs of the convolution, bit for bit', () => {
    const base = { name: 'pw', depthwise: false, strides: [1, 1], dilations: [1, 1], kernelShape: [1, 1, 24, 40] } as const;
    for (const [padding, activation] of [['valid', 'relu6'], ['same', 'linear'], [0, 'relu']] as const) {
      const args: FusedConv2DArgs = { ...base, strides: [1, 1], dilations: [1, 1], kernelShape: [...base.kernelShape], padding, activation };
      expect(isPointwise(args)).toBe(true);
      const layer = new FusedConv2D(args);
      const x = tf.randomUniform([2, 5, 7, 24], -2, 2, 'float32', 3) as tf.Tensor4D;
      layer.apply(x); // builds it
      const kernel = tf.randomNormal([1, 1, 24, 40], 0, 0.5, 'float32', 4) as tf.Tensor4D;
      const bias = tf.randomNormal([40], 0, 0.5, 'float32', 5) as tf.Tensor1D;
      layer.setWeights([kernel, bias]);
      const y = layer.apply(x) as tf.Tensor;
      const expected = tf.fused.conv2d({ x, filter: kernel, strides: 1, pad: padding, bias, activation });
      expect(y.shape).toEqual([2, 5, 7, 40]);
      expect(maxAbsDiff(y, expected), `padding ${padding}, ${activation}`).toBe(0);
      // once created, the product's operator is reused: the second run gives the same values
      const again = layer.apply(x) as tf.Tensor;
      expect(maxAbsDiff(again, y)).toBe(0);
      tf.dispose([x, kernel, bias, y, expected, again]);
      for (const w of layer.weights) w.dispose();
    }
    // strided, larger or depthwise kernels stay convolutions
    expect(isPointwise({ depthwise: false, kernelShape: [1, 1, 8, 8], strides: [2, 2], padding: 'valid' })).toBe(false);
    expect(isPointwise({ depthwise: false, kernelShape: [3, 3, 8, 8], strides: [1, 1], padding: 'same' })).toBe(false);
    expect(isPointwise({ depthwise: true, kernelShape: [1, 1, 8, 1], strides: [1, 1], padding: 'valid' })).toBe(false);
    expect(isPointwise({ depthwise: false, kernelShape: [1, 1, 8, 8], strides: [1, 1], padding: 1 })).toBe(false);
  });

  it('OFFLOAD_FUSE: on unless "off"; anything else is refused by name', () => {
    expect(fusionEnabled({})).toBe(true);
    expect(fusionEnabled({ OFFLOAD_FUSE: 'on' })).toBe(true);
    expect(fusionEnabled({ OFFLOAD_FUSE: ' OFF ' })).toBe(false);
    expect(() => fusionEnabled({ OFFLOAD_FUSE: 'no' })).toThrow(/OFFLOAD_FUSE: must be "on" or "off" \(got "no"\)/);
  });
});

/** A model's files as two independent copies: the fold on files rewrites the weight buffers it is given. */
async function twoCopies(model: tf.LayersModel, layout: 'one buffer' | 'one buffer per file', shardBytes = 64 * 1024): Promise<[Map<string, Uint8Array>, Map<string, Uint8Array>]> {
  const copy = async () => {
    const files = await modelToFiles(model, shardBytes); // the shards tile one buffer, as a tail's download does
    return layout === 'one buffer' ? files : new Map([...files].map(([k, v]) => [k, v.slice()]));
  };
  return [await copy(), await copy()];
}

const inputsOf = (model: tf.LayersModel, seed: number) => model.inputs.map((t, i) => tf.randomUniform([2, ...(t.shape.slice(1) as number[])], -1, 1, 'float32', seed + i));

/**
 * Loads `piece` from its files three ways (unfused; built then fuseModel; folded in the files) and
 * checks the fold in the files gives fuseModel's chains, layers, fused weights and outputs.
 */
async function expectSameAsFuseModel(piece: tf.LayersModel, layout: 'one buffer' | 'one buffer per file', what: string) {
  const [forRebuild, forFold] = await twoCopies(piece, layout);
  const unfused = await loadModelFromFiles(forRebuild);
  const rebuilt = fuseModel(unfused);
  const folded = await loadFusedModelFromFiles(forFold);
  try {
    expect(folded.foldedIn, what).toBe('files');
    expect(folded.chains, what).toEqual(rebuilt.chains);
    const layers = (m: tf.LayersModel) => m.layers.map((l) => `${l.name}:${l.getClassName()}`).sort();
    expect(layers(folded.model), what).toEqual(layers(rebuilt.model));
    expect(folded.model.inputNames, what).toEqual(piece.inputNames);
    expect(folded.model.outputNames, what).toEqual(piece.outputNames);
    for (const layer of rebuilt.model.layers) {
      if (!(layer instanceof FusedConv2D)) continue;
      const twin = folded.model.getLayer(layer.name) as FusedConv2D;
      expect(twin.fusedArgs, `${what} ${layer.name}`).toEqual(layer.fusedArgs);
      // the same float64 constants and one float32 multiplication per weight: the same bits
      const [k1, b1] = layer.getWeights();
      const [k2, b2] = twin.getWeights();
      expect(k2!.shape).toEqual(k1!.shape);
      expect(maxAbsDiff(k2!, k1!), `${what} ${layer.name} kernel`).toBe(0);
      expect(maxAbsDiff(b2!, b1!), `${what} ${layer.name} bias`).toBe(0);
    }
    const x = inputsOf(piece, 3);
    const arg = x.length === 1 ? x[0]! : x;
    const [yFolded, yRebuilt, yUnfused] = [folded.model, rebuilt.model, unfused].map((m) => m.predict(arg) as tf.Tensor);
    expect(maxAbsDiff(yFolded!, yRebuilt!), what).toBe(0); // same kernels, same weights
    expect(maxAbsDiff(yFolded!, yUnfused!), what).toBeLessThanOrEqual(1e-5);
    tf.dispose([...x, yFolded!, yRebuilt!, yUnfused!]);
  } finally {
    folded.model.dispose();
    if (rebuilt.model !== unfused) rebuilt.model.dispose();
    unfused.dispose();
  }
  return folded.chains.length;
}

describe('loadFusedModelFromFiles: the fold done on model.json and the weight bytes, built once', () => {
  it('folds what fuseModel folds, with the same weights and outputs, whether the files tile one buffer or not', async () => {
    const model = rulesModel();
    for (const layout of ['one buffer', 'one buffer per file'] as const) expect(await expectSameAsFuseModel(model, layout, layout)).toBe(5);
  });

  it('gives a folded bias its own bytes when the chain frees none (a bias-less conv → relu)', async () => {
    const x = tf.input({ shape: [6, 6, 3], name: 'input' });
    let y = apply(conv('c1', 1, { useBias: false }), x);
    y = apply(tf.layers.reLU({ name: 'relu1' }), y);
    y = apply(conv('c2', 2), y);
    y = apply(bn('bn2', 20), y);
    const model = tf.model({ inputs: x, outputs: y, name: 'nobias' });
    expect(await expectSameAsFuseModel(model, 'one buffer', 'bias-less conv')).toBe(2);
  });

  it('leaves nothing behind on dispose', async () => {
    const [files] = await twoCopies(rulesModel(), 'one buffer');
    const before = tf.memory().numTensors;
    const folded = await loadFusedModelFromFiles(files);
    folded.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('hands a model it does not read (a Sequential topology) to fuseModel: same chains, same outputs', async () => {
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [6, 6, 3], name: 'input' }), conv('c1', 1), bn('bn1', 10)] });
    const [files, copy] = await twoCopies(model, 'one buffer');
    const folded = await loadFusedModelFromFiles(files);
    const unfused = await loadModelFromFiles(copy);
    expect(folded.foldedIn).toBe('model');
    expect(folded.chains).toEqual([{ conv: 'c1', folded: ['bn1'], activation: 'linear', name: 'bn1' }]);
    const x = tf.randomUniform([1, 6, 6, 3], -1, 1, 'float32', 4);
    expect(maxAbsDiff(folded.model.predict(x) as tf.Tensor, unfused.predict(x) as tf.Tensor)).toBeLessThanOrEqual(1e-5);
    folded.model.dispose();
    unfused.dispose();
  });

  // the tails a deployment serves: the whole model, cuts that split a conv → BN → activation chain, a few more
  for (const [name, size] of [['mobilenetv2', 96], ['resnet50', 64], ['googlenet', 64]] as const) {
    it(`${name}: tails at cut 0, at cuts inside a conv → BN → relu chain and at a few more fold as fuseModel folds them`, async () => {
      const model = ZOO[name].build({ inputSize: size });
      const analysis = analyzeModel(model);
      const classAt = (cut: number) => analysis.layers[cut]?.className ?? '';
      const isConv = (cut: number) => classAt(cut).endsWith('Conv2D');
      const candidates = analysis.candidates.map((c) => c.cut);
      const atBn = candidates.filter((c) => classAt(c) === 'BatchNormalization' && isConv(c - 1));
      const atAct = candidates.filter((c) => ['Activation', 'ReLU'].includes(classAt(c)) && (classAt(c - 1) === 'BatchNormalization' || isConv(c - 1)));
      const others = candidates.filter((_, i) => i % 13 === 6);
      const cuts = [...new Set([0, atBn[Math.min(1, atBn.length - 1)], atBn.at(-1), atAct[Math.min(2, atAct.length - 1)], ...others.slice(0, 2)].filter((c): c is number => c !== undefined))];
      expect(atBn.length + atAct.length, 'cuts that split a chain').toBeGreaterThan(0);
      expect(cuts.filter((c) => atBn.includes(c) || atAct.includes(c)).length).toBeGreaterThanOrEqual(Math.min(2, atBn.length + atAct.length));
      let most = 0;
      for (const [i, cut] of cuts.entries()) {
        const { head, tail } = splitModel(model, analysis, cut);
        most = Math.max(most, await expectSameAsFuseModel(tail!, i % 2 === 0 ? 'one buffer' : 'one buffer per file', `${name} cut ${cut}`));
        // a tail starting inside a chain keeps the layers before its input's consumer: the cut's semantics
        if (atBn.includes(cut) || atAct.includes(cut)) {
          const [files] = await twoCopies(tail!, 'one buffer');
          const folded = await loadFusedModelFromFiles(files);
          expect(folded.model.getLayer(analysis.layers[cut]!.name).getClassName(), `${name} cut ${cut}`).toBe(classAt(cut));
          folded.model.dispose();
        }
        head?.dispose();
        tail!.dispose();
      }
      expect(most).toBeGreaterThanOrEqual(40);
      model.dispose();
    });
  }
});
