/**
 * A zoo model sliced at a cut, its tail uploaded to S3 the way the export
 * layout puts it (`models/<model>/tails/<cut>/`), and the reference output
 * of the full model for a seeded input.
 */
import * as tf from '@tensorflow/tfjs';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ZOO, type ZooName } from '../models/zoo';
import { analyzeModel, type CrossingTensor } from '../models/graph';
import { splitModel } from '../models/slice';
import { modelToFiles } from '../models/artifacts';
import { initBackend } from '../models/backend';
import type { WireTensor } from '../core/wire';

export interface SlicedFixture {
  model: ZooName;
  cut: number;
  prefix: string;
  crossing: CrossingTensor[];
  /** The head's outputs for the seeded input, named as the crossing tensors (what a device sends). */
  headOutputs: WireTensor[];
  /** The full model's output for the same input. */
  expected: Float32Array;
  expectedShape: number[];
  tailWeightBytes: number;
}

/** Builds, slices and uploads; returns what a test needs to call the tail and check its answer. */
export async function uploadSlicedTail(s3: S3Client, bucket: string, name: ZooName, cut: number, batch = 1, maxCrossing = 1): Promise<SlicedFixture> {
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
  const prefix = `models/${name}/tails/${cut}/`;
  const files = await modelToFiles(tail);
  await Promise.all([...files].map(([file, bytes]) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + file, Body: bytes }))));
  const tailWeightBytes = [...files].filter(([f]) => f !== 'model.json').reduce((n, [, b]) => n + b.byteLength, 0);
  const shape = y.shape.slice();
  tf.dispose([x, y, ...headList]);
  return { model: name, cut, prefix, crossing, headOutputs, expected, expectedShape: shape, tailWeightBytes };
}

