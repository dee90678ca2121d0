import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, OffloadError } from '../../core/errors';
import { MODEL_JSON, saveModelToDir } from '../../models/artifacts';
import { initBackend } from '../../models/backend';
import { resolveModel } from '../../models/load';
import { ZOO, ZOO_NAMES } from '../../models/zoo';

let root: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'offload-load-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function predict(model: tf.LayersModel): number[] {
  return tf.tidy(() => {
    const shape = model.inputs[0]!.shape.slice(1) as number[];
    return Array.from((model.predict(tf.randomNormal([1, ...shape], 0, 1, 'float32', 3)) as tf.Tensor).dataSync());
  });
}

describe('resolveModel', () => {
  it('builds a zoo model by name, with the given input size and seed', async () => {
    const { name, model, source } = await resolveModel('tinydag', { inputSize: 8, seed: 4 });
    const reference = ZOO.tinydag.build({ inputSize: 8, seed: 4 });
    expect([name, source]).toEqual(['tinydag', 'zoo']);
    expect(model.inputs[0]!.shape).toEqual([null, 8, 8, 3]);
    expect(predict(model)).toEqual(predict(reference));
    model.dispose();
    reference.dispose();
  });

  it('loads a user model from a folder path, or from the path of its model.json', async () => {
    const user = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [6], units: 3, activation: 'relu' }), tf.layers.dense({ units: 2 })],
    });
    const dir = join(root, 'my-net');
    await saveModelToDir(user, dir);
    for (const path of [dir, join(dir, MODEL_JSON)]) {
      const { name, model, source } = await resolveModel(path, { inputSize: 99 /* ignored for folders */ });
      expect([name, source]).toEqual(['my-net', 'folder']);
      expect(predict(model)).toEqual(predict(user));
      model.dispose();
    }
    user.dispose();
  });

  it('rejects an unknown name that is not a folder, listing the zoo', async () => {
    const e = await resolveModel('resnet18').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(NotFoundError);
    expect((e as NotFoundError).status).toBe(404);
    expect((e as Error).message).toBe(
      `unknown model "resnet18": not a zoo model (${ZOO_NAMES.join(', ')}) nor a folder holding model.json`,
    );
  });

  it('names the missing model.json of a folder', async () => {
    const dir = join(root, 'empty-folder');
    await mkdir(dir);
    const e = await resolveModel(dir).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(OffloadError);
    expect((e as OffloadError).code).toBe('model-format');
    expect((e as Error).message).toMatch(new RegExp(`^model\\.json: missing in ${dir}`));
  });
});
