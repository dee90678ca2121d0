import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffloadError } from '../../core/errors';
import {
  MODEL_JSON,
  SHARD_BYTES,
  loadModelFromDir,
  loadModelFromFiles,
  modelToFiles,
  saveModelToDir,
} from '../../models/artifacts';
import { initBackend } from '../../models/backend';
import { countParams } from '../../models/init';
import { ZOO } from '../../models/zoo';

let root: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'offload-artifacts-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Predictions of `model` on a seeded input of its input shape. */
function predict(model: tf.LayersModel, seed = 5): Float32Array {
  return tf.tidy(() => {
    const shape = model.inputs[0]!.shape.slice(1) as number[];
    return (model.predict(tf.randomNormal([1, ...shape], 0, 1, 'float32', seed)) as tf.Tensor).dataSync() as Float32Array;
  });
}

/** A model a user might write with the tfjs layers API: auto names, default initializers. */
function userModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 5, activation: 'softmax' }));
  return model;
}

async function failure(p: Promise<unknown>): Promise<OffloadError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OffloadError);
  expect((e as OffloadError).code).toBe('model-format');
  return e as OffloadError;
}

/** Writes `files` into a fresh folder and returns it. */
async function folderWith(name: string, files: Map<string, Uint8Array | string>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, bytes] of files) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), bytes);
  }
  return dir;
}

describe('save → load round trip', () => {
  it.each([
    ['tinychain', undefined],
    ['tinydag', undefined],
    ['mobilenetv2', 32],
  ] as const)('%s loads back with bit-identical predictions', async (name, inputSize) => {
    const model = ZOO[name].build(inputSize ? { inputSize } : {});
    const dir = join(root, `roundtrip-${name}`);
    const info = await saveModelToDir(model, dir);
    const loaded = await loadModelFromDir(dir);
    const [a, b] = [predict(model), predict(loaded)];
    const params = countParams(model);
    expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    expect(countParams(loaded)).toEqual(params);
    model.dispose();
    loaded.dispose();
    expect(Array.from(b)).toEqual(Array.from(a));
    // files: model.json first, then 4 MiB shards (all full but the last), 4 bytes per weight
    expect(info.files[0]).toBe(MODEL_JSON);
    expect(info.weightBytes).toBe(4 * params.total);
    const shards = info.files.slice(1);
    expect(shards).toHaveLength(Math.ceil(info.weightBytes / SHARD_BYTES));
    const sizes = await Promise.all(shards.map(async (f) => (await stat(join(dir, f))).size));
    expect(sizes.slice(0, -1).every((s) => s === SHARD_BYTES)).toBe(true);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(info.weightBytes);
    expect(shards.every((f, i) => f === `group1-shard${i + 1}of${shards.length}.bin`)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual([...info.files].sort());
    expect(info.modelJsonBytes).toBe((await stat(join(dir, MODEL_JSON))).size);
  });

  it('loads the same model from in-memory files (as the Lambda does after an S3 download)', async () => {
    const model = ZOO.tinydag.build({ seed: 9 });
    const files = await modelToFiles(model, 1000); // tiny shards: weights straddle many boundaries
    expect(files.size).toBeGreaterThan(20);
    const loaded = await loadModelFromFiles(files);
    const [a, b] = [predict(model), predict(loaded)];
    model.dispose();
    loaded.dispose();
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('writes files that tfjs\'s own HTTP loader reads', async () => {
    const model = ZOO.tinychain.build();
    const dir = join(root, 'tfjs-reads-ours');
    await saveModelToDir(model, dir);
    const fetchFunc = async (input: string | URL | Request): Promise<Response> => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      return new Response(await readFile(join(dir, new URL(url).pathname.slice(1))), { status: 200 });
    };
    const loaded = await tf.loadLayersModel(tf.io.http(`http://models.test/${MODEL_JSON}`, { fetchFunc }));
    const [a, b] = [predict(model), predict(loaded)];
    model.dispose();
    loaded.dispose();
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

describe('user models in the tfjs layers format', () => {
  it('saves and loads a model written with the tfjs layers API (auto names)', async () => {
    const model = userModel();
    const dir = join(root, 'user-model');
    await saveModelToDir(model, dir);
    const loaded = await loadModelFromDir(dir);
    const [a, b] = [predict(model), predict(loaded)];
    model.dispose();
    loaded.dispose();
    expect(b).toHaveLength(5);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('loads a hand-laid-out model: two groups, uneven shards in a subfolder, a uint8-quantised weight', async () => {
    // Prepare: take our own files apart and lay them out as other tfjs tools may
    const model = userModel();
    const ours = await modelToFiles(model);
    const json = JSON.parse(new TextDecoder().decode(ours.get(MODEL_JSON)!)) as {
      weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string; quantization?: object }[] }[];
    };
    const specs = json.weightsManifest[0]!.weights;
    const data = ours.get('group1-shard1of1.bin')!;
    const sizeOf = (s: { shape: number[] }) => 4 * s.shape.reduce((a, b) => a * b, 1);
    const split = 2; // conv kernel + bias in group 1, the rest in group 2
    const bytes1 = specs.slice(0, split).reduce((n, s) => n + sizeOf(s), 0);
    const group1 = data.subarray(0, bytes1);
    // group 2: quantise the dense kernel (last but one weight) to uint8
    const group2Specs = specs.slice(split).map((s) => ({ ...s }));
    const parts: Uint8Array[] = [];
    let offset = bytes1;
    let dequantised: Float32Array | undefined;
    let denseKernelName = '';
    for (const spec of group2Specs) {
      const raw = data.slice(offset, offset + sizeOf(spec));
      offset += sizeOf(spec);
      if (spec.shape.length === 2) {
        const values = new Float32Array(raw.buffer);
        const min = Math.min(...values);
        const scale = (Math.max(...values) - min) / 255;
        const q = Uint8Array.from(values, (v) => Math.round((v - min) / scale));
        dequantised = Float32Array.from(q, (v) => v * scale + min);
        spec.quantization = { dtype: 'uint8', scale, min };
        denseKernelName = spec.name;
        parts.push(q);
      } else {
        parts.push(raw);
      }
    }
    const group2 = Buffer.concat(parts);
    json.weightsManifest = [
      { paths: ['a-1.bin', 'a-2.bin'], weights: specs.slice(0, split) },
      { paths: ['sub/b-1.bin', 'sub/b-2.bin', 'sub/b-3.bin'], weights: group2Specs },
    ];
    const cut1 = 77; // not a multiple of 4: a float straddles the shards
    const dir = await folderWith(
      'hand-laid-out',
      new Map<string, Uint8Array | string>([
        [MODEL_JSON, JSON.stringify(json)],
        ['a-1.bin', group1.subarray(0, cut1)],
        ['a-2.bin', group1.subarray(cut1)],
        ['sub/b-1.bin', group2.subarray(0, 10)],
        ['sub/b-2.bin', group2.subarray(10, 11)],
        ['sub/b-3.bin', group2.subarray(11)],
      ]),
    );

    // Act
    const loaded = await loadModelFromDir(dir);

    // Assess: every float weight exact, the quantised one dequantised
    const expected = new Map(model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
    const actual = new Map(loaded.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
    model.dispose();
    loaded.dispose();
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, values] of expected) {
      if (name === denseKernelName) expect(actual.get(name)!.map((v) => Math.fround(v))).toEqual(Array.from(dequantised!).map((v) => Math.fround(v)));
      else expect(actual.get(name), name).toEqual(values);
    }
  });
});

describe('corrupt or incomplete model folders', () => {
  let good: Map<string, Uint8Array>;
  beforeAll(async () => {
    const model = ZOO.tinychain.build();
    good = await modelToFiles(model, 20_000);
    model.dispose();
    expect(good.size).toBe(3); // model.json + 2 shards (~40 kB of weights)
  });
  const shard1 = 'group1-shard1of2.bin';
  const shard2 = 'group1-shard2of2.bin';
  const withFile = (name: string, bytes: Uint8Array | string | undefined): Map<string, Uint8Array | string> => {
    const files = new Map<string, Uint8Array | string>(good);
    if (bytes === undefined) files.delete(name);
    else files.set(name, bytes);
    return files;
  };
  const modelJson = () => JSON.parse(new TextDecoder().decode(good.get(MODEL_JSON)!)) as Record<string, unknown>;

  it('names a missing model.json', async () => {
    const dir = await folderWith('no-model-json', withFile(MODEL_JSON, undefined));
    const e = await failure(loadModelFromDir(dir));
    expect(e.message).toBe(`model.json: missing in ${dir}`);
    const m = await failure(loadModelFromFiles(new Map([[shard1, good.get(shard1)!]])));
    expect(m.message).toMatch(/^model\.json: missing/);
  });

  it('names a model.json that is not JSON', async () => {
    const dir = await folderWith('not-json', withFile(MODEL_JSON, '{"modelTopology": '));
    const e = await failure(loadModelFromDir(dir));
    expect(e.message).toMatch(/^model\.json: not valid JSON \(/);
  });

  it('names a model.json that is not a layers model', async () => {
    const graph = { ...modelJson(), format: 'graph-model' };
    let e = await failure(loadModelFromDir(await folderWith('graph-model', withFile(MODEL_JSON, JSON.stringify(graph)))));
    expect(e.message).toMatch(/^model\.json: a tfjs graph model, not a layers model/);

    const noTopology = { ...modelJson(), modelTopology: undefined };
    e = await failure(loadModelFromDir(await folderWith('no-topology', withFile(MODEL_JSON, JSON.stringify(noTopology)))));
    expect(e.message).toMatch(/^model\.json: not a tfjs layers model/);

    e = await failure(loadModelFromDir(await folderWith('json-array', withFile(MODEL_JSON, '[1, 2]'))));
    expect(e.message).toMatch(/^model\.json: not a tfjs model/);

    const badManifest = { ...modelJson(), weightsManifest: [{ paths: 'weights.bin', weights: [] }] };
    e = await failure(loadModelFromDir(await folderWith('bad-manifest', withFile(MODEL_JSON, JSON.stringify(badManifest)))));
    expect(e.message).toMatch(/^model\.json: not a tfjs layers model \(weightsManifest\[0\]\.paths: /);
  });

  it('names a missing weight file', async () => {
    const dir = await folderWith('missing-shard', withFile(shard2, undefined));
    const e = await failure(loadModelFromDir(dir));
    expect(e.message).toBe(`${shard2}: weight file listed in model.json is missing in ${dir}`);
    const m = await failure(loadModelFromFiles(new Map([...good].filter(([k]) => k !== shard1))));
    expect(m.message).toMatch(new RegExp(`^${shard1}: weight file listed in model\\.json is missing`));
  });

  it('names weight files of the wrong size', async () => {
    const truncated = good.get(shard2)!.subarray(0, 100);
    const e = await failure(loadModelFromDir(await folderWith('short-shard', withFile(shard2, truncated))));
    expect(e.message).toMatch(/^weight files group1-shard1of2\.bin, group1-shard2of2\.bin: wrong size/);
    expect(e.message).toContain(`${shard2} 100 B`);

    // one file per group: the message names that file
    const small = ZOO.tinychain.build();
    const single = await modelToFiles(small, SHARD_BYTES);
    small.dispose();
    const only = 'group1-shard1of1.bin';
    const longer = new Uint8Array(single.get(only)!.byteLength + 4);
    const f = await failure(loadModelFromFiles(new Map([...single, [only, longer]])));
    expect(f.message).toMatch(/^group1-shard1of1\.bin: wrong size — model\.json lists weights of \d+ bytes, the file holds \d+/);
  });

  it('refuses weight paths that leave the model folder', async () => {
    const escaping = { ...modelJson(), weightsManifest: [{ paths: ['../elsewhere.bin'], weights: [] }] };
    const e = await failure(loadModelFromDir(await folderWith('escaping', withFile(MODEL_JSON, JSON.stringify(escaping)))));
    expect(e.message).toMatch(/^model\.json: weight file path "\.\.\/elsewhere\.bin" must be a plain relative path/);
  });

  it('reports weights that do not fit the topology as a model.json problem', async () => {
    const json = modelJson() as { weightsManifest: { weights: { name: string }[] }[] };
    json.weightsManifest[0]!.weights[0]!.name = 'no_such_layer/kernel';
    const e = await failure(loadModelFromDir(await folderWith('renamed-weight', withFile(MODEL_JSON, JSON.stringify(json)))));
    expect(e.message).toMatch(/^model\.json: tfjs cannot build the model from it \(/);
  });
});
