/**
 * A zoo model exported at a cut (the real export: `models/<model>/tails/<cut>/model.json`
 * and the weight segments it names), uploaded to S3, with the head's outputs
 * and the reference output of the full model for a seeded input.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { modelKeyPrefix, partFiles, tailDir } from '../core/manifest';
import { exportModel } from '../models/export';
import { ZOO, type ZooName } from '../models/zoo';
import { analyzeModel, type CrossingTensor } from '../models/graph';
import { splitModel } from '../models/slice';
import { initBackend } from '../models/backend';
import type { WireTensor } from '../core/wire';

export interface SlicedFixture {
  model: ZooName;
  cut: number;
  /** The model's folder in the bucket (`models/<model>/`, the tail's ARTIFACT_PREFIX). */
  prefix: string;
  /** Every key the tail reads: its model.json, then its segments. */
  tailKeys: string[];
  crossing: CrossingTensor[];
  /** The head's outputs for the seeded input, named as the crossing tensors (what a device sends). */
  headOutputs: WireTensor[];
  /** The full model's output for the same input. */
  expected: Float32Array;
  expectedShape: number[];
  tailWeightBytes: number;
}

/**
 * Builds, exports and uploads; returns what a test needs to call the tail and check its answer.
 * By default only the tail's files are uploaded (an export of `cut` alone); with `exportCuts`
 * the whole export of those cuts is (every file of the manifest, as a deployment uploads it).
 */
export async function uploadSlicedTail(
  s3: S3Client,
  bucket: string,
  name: ZooName,
  cut: number,
  batch = 1,
  maxCrossing = 1,
  options: { exportCuts?: number[] } = {},
): Promise<SlicedFixture> {
  await initBackend();
  const full = ZOO[name].build({ seed: 7 });
  const analysis = analyzeModel(full, { name, maxCrossing });
  const { head, tail, crossing } = splitModel(full, analysis, cut);
  if (!tail) throw new Error(`cut ${cut} has no tail`);
  const x = tf.randomUniform([batch, ...analysis.inputShape], -1, 1, 'float32', 11);
  const y = full.predict(x) as tf.Tensor;
  const expected = (await y.data()) as Float32Array;
  const headOut = head ? head.predict(x) : x;
  const headList = Array.isArray(headOut) ? headOut : [headOut];
  const headOutputs: WireTensor[] = await Promise.all(
    headList.map(async (t, i) => ({ name: (crossing[i] as CrossingTensor).name, shape: t.shape.slice(), data: (await t.data()) as Float32Array })),
  );
  tail.dispose();
  head?.dispose();
  const prefix = modelKeyPrefix(name);
  const work = await mkdtemp(join(tmpdir(), 'offload-tail-fixture-'));
  let tailKeys: string[];
  let tailWeightBytes: number;
  try {
    const { manifest, dir } = await exportModel(full, work, { name, cuts: options.exportCuts ?? [cut], heads: options.exportCuts !== undefined, maxCrossing });
    const files = partFiles(manifest, tailDir(cut));
    const upload = options.exportCuts ? Object.keys(manifest.files) : files;
    await Promise.all(upload.map(async (file) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + file, Body: await readFile(join(dir, file)) }))));
    tailKeys = files.map((f) => prefix + f);
    tailWeightBytes = files.filter((f) => f.startsWith('segments/')).reduce((n, f) => n + manifest.files[f]!.bytes, 0);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const shape = y.shape.slice();
  tf.dispose([x, y, ...headList]);
  full.dispose();
  return { model: name, cut, prefix, tailKeys, crossing, headOutputs, expected, expectedShape: shape, tailWeightBytes };
}

