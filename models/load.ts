import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { NotFoundError, OffloadError } from '../core/errors';
import { loadModelFromDir, MODEL_JSON } from './artifacts';
import { isZooName, ZOO, ZOO_NAMES } from './zoo';

/** A model ready to run, with where it came from. */
export interface ResolvedModel {
  /** The zoo name, or the folder's base name for a user model. */
  name: string;
  model: tf.LayersModel;
  source: 'zoo' | 'folder';
}

/**
 * Turns what a user typed into a model: a zoo name (built with seeded weights,
 * `opts` apply) or a path to a folder holding a tfjs layers model (model.json +
 * weight files, or that model.json itself; `opts` do not apply — its weights and input size are its own).
 * A zoo name wins over a folder of the same name in the working directory; write
 * `./alexnet` for the folder.
 *
 * @throws NotFoundError when it is neither (the message lists the zoo).
 * @throws OffloadError 'model-format' when the folder's files are missing or corrupt.
 */
export async function resolveModel(nameOrPath: string, opts?: { inputSize?: number; seed?: number }): Promise<ResolvedModel> {
  if (isZooName(nameOrPath)) {
    return { name: nameOrPath, model: ZOO[nameOrPath].build(opts), source: 'zoo' };
  }
  let dir = resolve(nameOrPath);
  let info = await stat(dir).catch(() => undefined);
  // a path to the model.json itself names its folder
  if (info?.isFile() && basename(dir) === MODEL_JSON) {
    dir = dirname(dir);
    info = await stat(dir);
  }
  if (info?.isDirectory()) {
    const hasModelJson = await stat(join(dir, MODEL_JSON)).then((s) => s.isFile()).catch(() => false);
    if (!hasModelJson) {
      throw new OffloadError('model-format', `${MODEL_JSON}: missing in ${dir} (a model folder holds a tfjs layers model.json and its weight files)`);
    }
    return { name: basename(dir), model: await loadModelFromDir(dir), source: 'folder' };
  }
  throw new NotFoundError(
    `unknown model "${nameOrPath}": not a zoo model (${ZOO_NAMES.join(', ')}) nor a folder holding ${MODEL_JSON}`,
  );
}
