import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadFusedModelFromFiles, modelToFiles, parseModelJson } from '../../models/artifacts';
import { ArrivingBytes, BytesMissingError } from '../../models/arriving-bytes';
import { analyzeModel } from '../../models/graph';
import { splitModel } from '../../models/slice';
import { loadStreamed, pipelineEnabled, planStreamedLoad, type StreamedLoadOptions, type StreamedLoadPlan } from '../../models/streamed-load';
import { ZOO } from '../../models/zoo';
import { maxAbsDiff } from '../../testkit/tensors';
import { seededInput } from './graph-fixtures';
import { useWasmBackend } from '../../testkit/wasm-backend';

// the engine tails run: its operator cache is what the streamed load warms
useWasmBackend();

/** model.json and the weight files back to back in manifest order: the buffer a tail's download fills. */
function layout(files: Map<string, Uint8Array>): { modelJson: Uint8Array; weights: Uint8Array } {
  const modelJson = files.get('model.json')!;
  const names = parseModelJson(modelJson).weightsManifest.flatMap((g) => g.paths);
  const weights = new Uint8Array(names.reduce((s, n) => s + files.get(n)!.byteLength, 0));
  let at = 0;
  for (const n of names) {
    weights.set(files.get(n)!, at);
    at += files.get(n)!.byteLength;
  }
  return { modelJson, weights };
}

/** A seeded shuffle (the parallel GETs' parts arrive in any order). */
function shuffled<T>(xs: T[], seed: number): T[] {
  const out = xs.slice();
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Streams `weights` into an ArrivingBytes in parts of `part` bytes, in file order or shuffled, one part per turn
 * of the event loop, while loadStreamed runs; `failAt` fails the download after that many parts.
 */
async function stream(plan: StreamedLoadPlan, weights: Uint8Array, o: { part: number; order: 'forward' | 'shuffled'; failAt?: number; stopAt?: number; load?: StreamedLoadOptions }) {
  const target = new Uint8Array(weights.byteLength);
  const bytes = new ArrivingBytes(target);
  const parts: [number, number][] = [];
  for (let s = 0; s < weights.byteLength; s += o.part) parts.push([s, Math.min(weights.byteLength, s + o.part)]);
  const order = o.order === 'forward' ? parts : shuffled(parts, 7);
  const feeding = (async () => {
    for (const [i, [s, e]] of order.entries()) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (i === o.failAt) return bytes.fail(new Error('artifact store unreachable while reading the weight file 0-9.bin'));
      if (i === o.stopAt) return bytes.finish();
      target.set(weights.subarray(s, e), s);
      bytes.arrived(s, e);
    }
    bytes.finish();
  })();
  try {
    return await loadStreamed(plan, bytes, o.load);
  } finally {
    await feeding;
  }
}

/** Every weight of the two models, by name, bit for bit; and their outputs on a seeded input. */
async function expectSameModel(streamed: tf.LayersModel, reference: tf.LayersModel, what: string): Promise<void> {
  const ref = new Map(reference.weights.map((w) => [w.originalName, w]));
  expect(streamed.weights.map((w) => w.originalName).sort(), what).toEqual([...ref.keys()].sort());
  for (const w of streamed.weights) {
    const a = await w.read().data();
    const b = await ref.get(w.originalName)!.read().data();
    expect(maxAbsDiff(a, b), `${what}: ${w.originalName}`).toBe(0);
  }
  const x = seededInput(reference, 1);
  const ya = streamed.predict(x) as tf.Tensor;
  const yb = reference.predict(x) as tf.Tensor;
  expect(maxAbsDiff(ya, yb), what).toBeLessThanOrEqual(1e-5);
  tf.dispose([x, ya, yb]);
}

async function tailOf(name: 'tinydag' | 'tinychain' | 'mobilenetv2' | 'resnet50', cut: number, inputSize?: number): Promise<Map<string, Uint8Array>> {
  const model = ZOO[name].build(inputSize === undefined ? {} : { inputSize });
  const { head, tail } = cut === 0 ? { head: null, tail: model } : splitModel(model, analyzeModel(model), cut);
  const files = await modelToFiles(tail!);
  head?.dispose();
  if (tail !== model) tail!.dispose();
  model.dispose();
  return files;
}

describe('streamed load: the tail built and warmed while its weights arrive', () => {
  const cases = [
    { name: 'tinydag', cut: 0, part: 257, order: 'shuffled' },
    { name: 'tinydag', cut: 1, part: 4096, order: 'forward' },
    { name: 'tinychain', cut: 0, part: 1000, order: 'shuffled' },
    { name: 'mobilenetv2', cut: 0, size: 96, part: 64 * 1024, order: 'shuffled' },
    { name: 'resnet50', cut: 0, size: 64, part: 1 << 20, order: 'forward' },
  ] as const;
  for (const c of cases) {
    it(`${c.name} cut ${c.cut}: the same weights, bit for bit, and the same outputs as the load after the download (parts of ${c.part} B, ${c.order})`, async () => {
      const files = await tailOf(c.name, c.cut, 'size' in c ? c.size : undefined);
      const { modelJson, weights } = layout(files);
      const before = tf.memory().numTensors;
      const plan = planStreamedLoad(modelJson);
      expect(plan, 'a functional model of float32 weights streams').toBeDefined();
      const streamed = await stream(plan!, weights, { part: c.part, order: c.order });
      // the reference folds the files in place: give it its own copy
      const reference = await loadFusedModelFromFiles(new Map([...files].map(([k, v]) => [k, v.slice()])));
      expect(streamed.chains.map((ch) => ch.name)).toEqual(reference.chains.map((ch) => ch.name));
      if (c.name === 'tinychain') expect(streamed.chains).toHaveLength(0);
      else expect(streamed.chains.length).toBeGreaterThan(0);
      await expectSameModel(streamed.model, reference.model, `${c.name} cut ${c.cut}`);
      // every layer with weights ran once as its weights arrived: no warm-up inference is needed
      expect(streamed.warmed).toBe(true);
      expect(streamed.warmedLayers).toBe(streamed.model.layers.filter((l) => l.weights.length > 0).length);
      streamed.model.dispose();
      reference.model.dispose();
      expect(tf.memory().numTensors, 'no tensor left behind').toBe(before);
    });
  }

  it('weights copied into the memory the engine gave each variable, or (OFFLOAD_HEAP_WEIGHTS=off) set as new tensors: the same model', async () => {
    const files = await tailOf('mobilenetv2', 0, 96);
    const { modelJson, weights } = layout(files);
    const plan = planStreamedLoad(modelJson)!;
    const reference = await loadFusedModelFromFiles(new Map([...files].map(([k, v]) => [k, v.slice()])));
    for (const heapWeights of [true, false]) {
      const before = tf.memory().numTensors;
      // each variable's memory as built, before any weight is set
      let built = new Map<string, object>();
      const load: StreamedLoadOptions = { heapWeights, onBuilt: (m) => (built = new Map(m.weights.map((w) => [w.originalName, w.read().dataId]))) };
      const streamed = await stream(plan, weights, { part: 64 * 1024, order: 'shuffled', load });
      expect(built.size).toBe(streamed.model.weights.length);
      // in place every variable keeps the memory it was built on (scaled kernels included); otherwise none does
      const kept = streamed.model.weights.filter((w) => built.get(w.originalName) === w.read().dataId).length;
      expect(kept).toBe(heapWeights ? built.size : 0);
      await expectSameModel(streamed.model, reference.model, `heapWeights ${heapWeights}`);
      streamed.model.dispose();
      expect(tf.memory().numTensors, 'no tensor left behind').toBe(before);
    }
    reference.model.dispose();
  });

  it('a download that fails half-way rejects with its own error and leaves no tensor behind', async () => {
    const { modelJson, weights } = layout(await tailOf('tinydag', 0));
    const plan = planStreamedLoad(modelJson)!;
    const before = tf.memory().numTensors;
    await expect(stream(plan, weights, { part: 512, order: 'forward', failAt: 5 })).rejects.toThrow('artifact store unreachable while reading the weight file 0-9.bin');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a download that ends without some bytes (a file of another size) rejects naming the missing range, no tensor left', async () => {
    const { modelJson, weights } = layout(await tailOf('tinydag', 0));
    const plan = planStreamedLoad(modelJson)!;
    const before = tf.memory().numTensors;
    await expect(stream(plan, weights, { part: 512, order: 'forward', stopAt: 3 })).rejects.toBeInstanceOf(BytesMissingError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves to the ordinary load what it does not handle: a Sequential topology, quantised weights, a bad model.json', async () => {
    const seq = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
    const seqFiles = await modelToFiles(seq);
    seq.dispose();
    expect(planStreamedLoad(seqFiles.get('model.json')!)).toBeUndefined();

    const json = JSON.parse(new TextDecoder().decode((await tailOf('tinydag', 0)).get('model.json')!)) as { weightsManifest: { weights: Record<string, unknown>[] }[] };
    json.weightsManifest[0]!.weights[0]!.quantization = { dtype: 'uint8', scale: 0.1, min: 0 };
    expect(planStreamedLoad(new TextEncoder().encode(JSON.stringify(json)))).toBeUndefined();
    expect(planStreamedLoad(new TextEncoder().encode('{"not":"a model"}'))).toBeUndefined();
  });

  it('a buffer of another size than model.json announces is refused before anything is built', async () => {
    const { modelJson, weights } = layout(await tailOf('tinychain', 0));
    const plan = planStreamedLoad(modelJson)!;
    await expect(loadStreamed(plan, new ArrivingBytes(new Uint8Array(weights.byteLength - 4)))).rejects.toThrow(/-byte buffer for \d+ bytes of weights/);
  });

  it('OFFLOAD_PIPELINE: on unless "off"; anything else is refused by name', () => {
    expect(pipelineEnabled({})).toBe(true);
    expect(pipelineEnabled({ OFFLOAD_PIPELINE: 'on' })).toBe(true);
    expect(pipelineEnabled({ OFFLOAD_PIPELINE: ' OFF ' })).toBe(false);
    expect(() => pipelineEnabled({ OFFLOAD_PIPELINE: 'no' })).toThrow(/OFFLOAD_PIPELINE: must be "on" or "off" \(got "no"\)/);
  });
});

describe('ArrivingBytes', () => {
  it('waits for a range until every byte of it has arrived, in any order, merging what touches', async () => {
    const b = new ArrivingBytes(new Uint8Array(100));
    let done = false;
    const wait = b.until(10, 40).then(() => (done = true));
    b.arrived(30, 40);
    b.arrived(0, 12);
    await Promise.resolve();
    expect(done).toBe(false);
    expect(b.has(0, 12)).toBe(true);
    expect(b.has(10, 40)).toBe(false);
    b.arrived(12, 30);
    await wait;
    expect(done).toBe(true);
    expect(b.has(0, 40)).toBe(true);
    expect(b.has(0, 41)).toBe(false);
    await expect(b.until(5, 35)).resolves.toBeUndefined();
    expect(() => b.arrived(90, 101)).toThrow(RangeError);
  });

  it('a failed download rejects every wait with its error; an ended one rejects waits for what never came', async () => {
    const failed = new ArrivingBytes(new Uint8Array(10));
    const waiting = failed.until(0, 10);
    failed.fail(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    await expect(failed.until(0, 1)).rejects.toThrow('gone');

    const ended = new ArrivingBytes(new Uint8Array(10));
    ended.arrived(0, 5);
    const missing = ended.until(0, 10);
    ended.finish();
    await expect(missing).rejects.toThrow('bytes 0-10 of the weights never arrived');
    await expect(ended.until(0, 5)).resolves.toBeUndefined();
  });
});
