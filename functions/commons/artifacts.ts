/**
 * Reads tfjs layers artifacts (model.json + weight shards) and export
 * manifests from S3. Only `s3:GetObject` is needed: the shard names come from
 * model.json itself, so no bucket listing (and no ListBucket grant) is involved.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { OffloadError } from '../../core/errors';

/** The part of a tfjs model.json that names its weight files. */
const ModelJsonSchema = z.object({
  weightsManifest: z.array(z.object({ paths: z.array(z.string()) })).default([]),
});

/** Joins a key prefix and a file name with exactly one slash. */
export function s3Key(prefix: string, name: string): string {
  if (!prefix) return name;
  return prefix.endsWith('/') ? `${prefix}${name}` : `${prefix}/${name}`;
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/**
 * Downloads one object.
 * @throws OffloadError `unavailable` (503) when it is missing or cannot be read — a
 *   deployment problem, not the caller's. The message says which kind of file
 *   (`what`); `s3://bucket/key` and the SDK's error go to `detail` (the log only).
 */
export async function getObjectBytes(s3: S3Client, bucket: string, key: string, what = 'artifact'): Promise<Uint8Array> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) throw new Error('empty body');
    return await out.Body.transformToByteArray();
  } catch (err) {
    const where = `s3://${bucket}/${key}`;
    if (isMissing(err)) throw new OffloadError('unavailable', `${what} missing from the artifact store`, { cause: err, detail: where });
    throw new OffloadError('unavailable', `artifact store unreachable while reading the ${what}`, {
      cause: err,
      detail: `${where}: ${(err as Error).name ?? 'error'}: ${(err as Error).message}`,
    });
  }
}

/**
 * Downloads objects of one bucket, all in parallel, in the order of `keys`
 * (`what[i]` names the kind of file in an error message, see {@link getObjectBytes}).
 * The one place a tail's weights are fetched: a faster download path
 * (ranged GETs, streaming into final buffers) belongs here.
 */
export async function downloadObjects(s3: S3Client, bucket: string, keys: readonly string[], what: readonly string[] = []): Promise<Uint8Array[]> {
  return Promise.all(keys.map((key, i) => getObjectBytes(s3, bucket, key, what[i])));
}

/**
 * Downloads one part of an export (core/manifest.ts): its model.json at
 * `modelJsonKey`, then every weight file it names, which sit under
 * `weightPrefix` (the model's folder: the segments are shared by every part).
 * Keys of the map are the file names as model.json spells them (what
 * `loadModelFromFiles` expects).
 *
 * @example
 * const files = await loadArtifactFiles(s3, 'bucket', 'models/resnet50/tails/57/model.json', 'models/resnet50/');
 * const tail = await loadModelFromFiles(files);
 */
export async function loadArtifactFiles(s3: S3Client, bucket: string, modelJsonKey: string, weightPrefix: string): Promise<Map<string, Uint8Array>> {
  const modelJson = await getObjectBytes(s3, bucket, modelJsonKey, "artifact's model.json");
  let parsed: z.infer<typeof ModelJsonSchema>;
  try {
    parsed = ModelJsonSchema.parse(JSON.parse(Buffer.from(modelJson).toString('utf8')));
  } catch (err) {
    throw new OffloadError('unavailable', 'artifact corrupt: its model.json is not a tfjs model.json', {
      cause: err,
      detail: `s3://${bucket}/${modelJsonKey}`,
    });
  }
  const names = [...new Set(parsed.weightsManifest.flatMap((group) => group.paths))];
  const weights = await downloadObjects(
    s3,
    bucket,
    names.map((name) => s3Key(weightPrefix, name)),
    names.map((name) => `artifact's weight file ${name}`),
  );
  const files = new Map<string, Uint8Array>([['model.json', modelJson]]);
  names.forEach((name, i) => files.set(name, weights[i] as Uint8Array));
  return files;
}

/** Downloads and parses a JSON object (e.g. an export manifest). */
export async function getJsonObject(s3: S3Client, bucket: string, key: string, what = 'file'): Promise<unknown> {
  const bytes = await getObjectBytes(s3, bucket, key, what);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new OffloadError('unavailable', `${what} in the artifact store is not valid JSON`, { cause: err, detail: `s3://${bucket}/${key}` });
  }
}
