import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../models/graph';
import { splitModel } from '../../models/slice';
import { ZOO } from '../../models/zoo';
import { chainModel, inceptionModel, residualModel, seededInput, skipFromInputModel } from './graph-fixtures';
import { maxAbsDiff } from '../../testkit/tensors';

/** Runs head then tail; a null head passes the input through. */
function runSplit(head: tf.LayersModel | null, tail: tf.LayersModel | null, x: tf.Tensor): tf.Tensor {
  const mid = head ? (head.predict(x) as tf.Tensor | tf.Tensor[]) : x;
  return tail ? (tail.predict(mid) as tf.Tensor) : (mid as tf.Tensor);
}

const fixtures = { chain: chainModel, residual: residualModel, inception: inceptionModel, skip: skipFromInputModel };

describe('splitModel: head then tail computes what the model computes', () => {
  for (const [name, build] of Object.entries(fixtures)) {
    it(`${name}: at every cut, also inside blocks`, () => {
      // Prepare: allow every cut, so the multi-tensor crossings are exercised too.
      const model = build();
      const analysis = analyzeModel(model, { maxCrossing: 10 });
      const L = analysis.layers.length;
      expect(analysis.candidates).toHaveLength(L);
      const x = seededInput(model);
      const expected = model.predict(x) as tf.Tensor;
      for (const cut of [...analysis.candidates.map((c) => c.cut), L]) {
        // Act
        const { head, tail, crossing } = splitModel(model, analysis, cut);
        const y = runSplit(head, tail, x);
        // Assess
        expect(maxAbsDiff(expected, y), `cut ${cut}`).toBeLessThanOrEqual(1e-6);
        expect(head === null).toBe(cut === 0);
        expect(tail === null).toBe(cut === L);
        if (head && tail) {
          expect(head.outputNames).toEqual(crossing.map((t) => t.name));
          expect(tail.inputNames).toEqual(crossing.map((t) => t.name));
          expect(tail.inputs.map((t) => t.shape.slice(1))).toEqual(crossing.map((t) => t.shape));
        }
      }
    });
  }

  it('leaves the original model untouched (no extra inbound nodes, weights intact)', () => {
    const model = residualModel();
    const analysis = analyzeModel(model);
    const before = model.getWeights().map((w) => w.dataSync().slice());
    for (const c of analysis.candidates) {
      const { head, tail } = splitModel(model, analysis, c.cut);
      head?.dispose();
      tail?.dispose();
    }
    for (const l of model.layers) expect(l.inboundNodes).toHaveLength(1);
    const after = model.getWeights().map((w) => w.dataSync());
    after.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(before[i]!)));
    // Splitting again still works and still agrees.
    const x = seededInput(model);
    const { head, tail } = splitModel(model, analysis, 5);
    expect(maxAbsDiff(model.predict(x) as tf.Tensor, runSplit(head, tail, x))).toBeLessThanOrEqual(1e-6);
  });

  it('puts only the tail layers\' weights (incl. BN moving statistics) in the tail', () => {
    const model = residualModel();
    const analysis = analyzeModel(model, { maxCrossing: 2 });
    for (const c of analysis.candidates) {
      const { head, tail } = splitModel(model, analysis, c.cut);
      const tailLayersWithWeights = analysis.layers.filter((l) => l.index >= c.cut && l.weightBytes > 0).map((l) => l.name);
      const tailWeightNames = tail!.weights.map((w) => w.originalName);
      expect(new Set(tailWeightNames.map((n) => n.split('/')[0]))).toEqual(new Set(tailLayersWithWeights));
      const bytes = tail!.weights.reduce((s, w) => s + w.shape.reduce((p: number, d) => p * (d as number), 1) * 4, 0);
      expect(bytes).toBe(c.tailWeightBytes);
      if (head) {
        const headNames = new Set(head.weights.map((w) => w.originalName));
        for (const n of tailWeightNames) expect(headNames.has(n)).toBe(false);
      }
      if (c.cut <= 2) expect(tailWeightNames).toContain('bn/moving_mean');
    }
  });

  it('round-trips head and tail through the tfjs serialisation', async () => {
    const model = skipFromInputModel();
    const analysis = analyzeModel(model, { maxCrossing: 2 });
    const x = seededInput(model);
    const { head, tail } = splitModel(model, analysis, 2);
    const reload = async (m: tf.LayersModel) => {
      let saved: tf.io.ModelArtifacts | undefined;
      await m.save(tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }));
      return tf.loadLayersModel(tf.io.fromMemory(saved!));
    };
    const [h, t] = [await reload(head!), await reload(tail!)];
    expect(t.inputNames).toEqual(['input', 'c2']);
    expect(maxAbsDiff(model.predict(x) as tf.Tensor, runSplit(h, t, x))).toBeLessThanOrEqual(1e-6);
  });

  it('refuses a cut that is not a candidate, listing the candidates', () => {
    const model = residualModel();
    expect(() => splitModel(model, analyzeModel(model), 3)).toThrow('cut 3 is not a candidate of residual; candidates: 0, 1, 5, 6');
    expect(() => splitModel(model, analyzeModel(chainModel()), 1)).toThrow(/does not belong/);
  });

  for (const name of ['tinychain', 'tinydag'] as const) {
    it(`zoo ${name}: equal at every candidate`, () => {
      const model = ZOO[name].build();
      const analysis = analyzeModel(model);
      const x = seededInput(model);
      const expected = model.predict(x) as tf.Tensor;
      for (const c of analysis.candidates) {
        const { head, tail } = splitModel(model, analysis, c.cut);
        expect(maxAbsDiff(expected, runSplit(head, tail, x)), `cut ${c.cut}`).toBeLessThanOrEqual(1e-6);
      }
    });
  }
});
