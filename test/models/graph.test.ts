import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { OffloadError } from '../../core/errors';
import { analyzeModel, candidateAt, crossingNames, modelGraph } from '../../models/graph';
import { ZOO } from '../../models/zoo';
import { chainModel, inceptionModel, residualModel, skipFromInputModel } from './graph-fixtures';

const cutsOf = (m: tf.LayersModel, maxCrossing?: number) =>
  analyzeModel(m, maxCrossing === undefined ? {} : { maxCrossing }).candidates.map((c) => c.cut);
const crossingAt = (m: tf.LayersModel, cut: number) => crossingNames(modelGraph(m), cut);
const indexOf = (m: tf.LayersModel, name: string) => analyzeModel(m).layers.find((l) => l.name === name)!.index;

describe('analyzeModel: layers', () => {
  it('lists the layers in topological order without the input layer, with shapes, bytes and weights', () => {
    // Prepare
    const model = residualModel();
    // Act
    const a = analyzeModel(model);
    // Assess
    expect(a.layers.map((l) => l.name)).toEqual(['stem', 'a', 'bn', 'relu', 'add', 'gap', 'fc']);
    expect(a.layers.map((l) => l.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const bn = a.layers[2]!;
    expect(bn.className).toBe('BatchNormalization');
    expect(bn.outputShape).toEqual([8, 8, 4]);
    expect(bn.outputBytes).toBe(8 * 8 * 4 * 4);
    // gamma, beta trainable; moving mean and variance are weights the tail must download too.
    expect(bn.params).toBe(8);
    expect(bn.weightBytes).toBe(16 * 4);
    const stem = a.layers[0]!;
    expect(stem.params).toBe(3 * 3 * 3 * 4 + 4);
    expect(stem.weightBytes).toBe(stem.params * 4);
    expect(a.inputShape).toEqual([8, 8, 3]);
    expect(a.inputBytes).toBe(8 * 8 * 3 * 4);
    expect(a.outputBytes).toBe(3 * 4);
    expect(a.params).toBe(a.layers.reduce((s, l) => s + l.params, 0));
    expect(a.params).toBe(model.countParams() - 8); // countParams includes the non-trainable moving stats
    expect(a.flops).toBe(a.layers.reduce((s, l) => s + l.flops, 0));
  });

  it('uses the name given in the options, else the model name', () => {
    expect(analyzeModel(chainModel()).name).toBe('chain');
    expect(analyzeModel(chainModel(), { name: 'other' }).name).toBe('other');
  });

  it('reads a Sequential model (no InputLayer in model.layers)', () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], name: 'd1' }), tf.layers.dense({ units: 2, name: 'd2' })] });
    const a = analyzeModel(m);
    expect(a.layers.map((l) => l.name)).toEqual(['d1', 'd2']);
    expect(a.candidates.map((c) => c.cut)).toEqual([0, 1]);
    expect(a.candidates[1]!.crossing).toEqual([{ name: 'd1', shape: [3], bytes: 12 }]);
  });
});

describe('analyzeModel: candidate cuts', () => {
  it('makes every cut of a chain a candidate, crossing the previous layer output', () => {
    const a = analyzeModel(chainModel());
    expect(a.candidates.map((c) => c.cut)).toEqual([0, 1, 2, 3, 4]);
    expect(a.candidates.map((c) => c.layer)).toEqual(['input', 'c1', 'c2', 'pool', 'flat']);
    expect(a.candidates[0]!.crossing).toEqual([{ name: 'input', shape: [8, 8, 3], bytes: 768 }]);
    expect(a.candidates[2]!.crossing).toEqual([{ name: 'c2', shape: [8, 8, 6], bytes: 8 * 8 * 6 * 4 }]);
    expect(a.candidates[2]!.crossingBytes).toBe(8 * 8 * 6 * 4);
  });

  it('sums head and tail FLOPs and tail weights at each cut', () => {
    const a = analyzeModel(chainModel());
    for (const c of a.candidates) {
      const head = a.layers.filter((l) => l.index < c.cut);
      const tail = a.layers.filter((l) => l.index >= c.cut);
      expect(c.headFlops).toBe(head.reduce((s, l) => s + l.flops, 0));
      expect(c.tailFlops).toBe(tail.reduce((s, l) => s + l.flops, 0));
      expect(c.tailWeightBytes).toBe(tail.reduce((s, l) => s + l.weightBytes, 0));
      expect(c.headFlops + c.tailFlops).toBe(a.flops);
    }
  });

  it('excludes cuts inside a residual block by default and lists both tensors when allowed', () => {
    const m = residualModel();
    // Inside the block the skip (stem) crosses with the branch.
    expect(cutsOf(m)).toEqual([0, 1, 5, 6]);
    expect(crossingAt(m, 3)).toEqual(['stem', 'bn']);
    expect(cutsOf(m, 2)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const inside = analyzeModel(m, { maxCrossing: 2 }).candidates.find((c) => c.cut === 3)!;
    expect(inside.crossing.map((t) => t.name)).toEqual(['stem', 'bn']);
    expect(inside.crossingBytes).toBe(2 * 8 * 8 * 4 * 4);
  });

  it('crosses all live branches inside an inception block', () => {
    const m = inceptionModel();
    const cat = indexOf(m, 'cat');
    const stem = indexOf(m, 'stem');
    // Between the stem and the concat, 2 or 3 branch tensors cross: no candidate by default.
    expect(cutsOf(m)).toEqual([0, stem + 1, cat + 1, cat + 2]);
    expect(new Set(crossingAt(m, cat))).toEqual(new Set(['b1', 'b2b', 'b3']));
    const three = cutsOf(m, 3);
    expect(three).toEqual(Array.from({ length: analyzeModel(m).layers.length }, (_, i) => i));
    // Every inner cut crosses 2..3 tensors, and each of them is consumed at or after the cut.
    for (let cut = stem + 2; cut <= cat; cut++) expect(crossingAt(m, cut).length).toBeGreaterThanOrEqual(2);
  });

  it('sends the model input alongside the head output when a skip leaves from the input', () => {
    const m = skipFromInputModel();
    expect(cutsOf(m)).toEqual([0, 3]);
    expect(crossingAt(m, 1)).toEqual(['input', 'c1']);
    expect(crossingAt(m, 2)).toEqual(['input', 'c2']);
    const a = analyzeModel(m, { maxCrossing: 2 });
    expect(a.candidates.map((c) => c.cut)).toEqual([0, 1, 2, 3]);
    expect(a.candidates[1]!.crossing[0]).toEqual({ name: 'input', shape: [6, 6, 2], bytes: 6 * 6 * 2 * 4 });
  });

  it('rejects a maxCrossing below 1', () => {
    expect(() => analyzeModel(chainModel(), { maxCrossing: 0 })).toThrow(/maxCrossing/);
  });

  it('finds a candidate by cut, else lists the candidates', () => {
    const a = analyzeModel(residualModel());
    expect(candidateAt(a, 5).layer).toBe('add');
    expect(() => candidateAt(a, 3)).toThrow('cut 3 is not a candidate of residual; candidates: 0, 1, 5, 6');
  });

  it('has candidates for the zoo tiny nets: every cut of tinychain, block boundaries of tinydag', () => {
    const chain = analyzeModel(ZOO.tinychain.build());
    expect(chain.candidates.map((c) => c.cut)).toEqual(chain.layers.map((l) => l.index));
    const dag = analyzeModel(ZOO.tinydag.build());
    const names = dag.candidates.map((c) => c.layer);
    expect(names).toContain('res1_relu2');
    expect(names).toContain('res2_relu2');
    expect(names).toContain('mix_concat');
    expect(names).not.toContain('res1_conv1');
    for (const c of dag.candidates) expect(c.crossing).toHaveLength(1);
  });
});

describe('modelGraph: what a single cut cannot express', () => {
  it('rejects a layer used on two nodes', () => {
    const x = tf.input({ shape: [4], name: 'x' });
    const shared = tf.layers.dense({ units: 4, name: 'shared' });
    const y = shared.apply(shared.apply(x)) as tf.SymbolicTensor;
    const m = tf.model({ inputs: x, outputs: y });
    expect(() => analyzeModel(m)).toThrow(OffloadError);
    expect(() => analyzeModel(m)).toThrow(/"shared" .*called on 2 nodes/);
  });

  it('rejects several inputs or several outputs', () => {
    const a = tf.input({ shape: [4], name: 'a' });
    const b = tf.input({ shape: [4], name: 'b' });
    const sum = tf.layers.add({ name: 's' }).apply([a, b]) as tf.SymbolicTensor;
    expect(() => analyzeModel(tf.model({ inputs: [a, b], outputs: sum }))).toThrow(/2 inputs/);
    const d1 = tf.layers.dense({ units: 2, name: 'd1' }).apply(a) as tf.SymbolicTensor;
    const d2 = tf.layers.dense({ units: 2, name: 'd2' }).apply(a) as tf.SymbolicTensor;
    expect(() => analyzeModel(tf.model({ inputs: a, outputs: [d1, d2] }))).toThrow(/2 outputs/);
  });

  it('rejects an undefined spatial size', () => {
    const x = tf.input({ shape: [null, null, 3] as unknown as number[], name: 'x' });
    const y = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c' }).apply(x) as tf.SymbolicTensor;
    expect(() => analyzeModel(tf.model({ inputs: x, outputs: y }))).toThrow(/undefined dimension/);
  });

  it('rejects a nested model', () => {
    const inner = tf.sequential({ name: 'inner', layers: [tf.layers.dense({ units: 2, inputShape: [4], name: 'in_d' })] });
    const x = tf.input({ shape: [4], name: 'x' });
    const y = inner.apply(x) as tf.SymbolicTensor;
    expect(() => analyzeModel(tf.model({ inputs: x, outputs: y }))).toThrow(/nested model/);
  });
});
