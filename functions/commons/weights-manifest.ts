/**
 * What the tail reads of a model.json before any weight arrives: its weights
 * manifest, and where each weight file lands. Apart from ./artifacts.ts (the
 * S3 client's downloads) so that the tail's early path, which downloads on a
 * worker thread without the SDK, loads no S3 client at its cold start.
 */
import * as z from 'zod';
import { OffloadError } from '../../core/errors';
import { weightGroupBytes } from '../../core/artifact-layout';

/** The part of a tfjs model.json that names its weight files and the weights each group holds. */
const ModelJsonSchema = z.object({
  weightsManifest: z
    .array(
      z.object({
        paths: z.array(z.string()),
        weights: z.array(z.looseObject({ dtype: z.string(), shape: z.array(z.number()), quantization: z.looseObject({ dtype: z.string() }).optional() })).default([]),
      }),
    )
    .default([]),
});

/** model.json's weights manifest, as far as the download reads it. */
export type WeightsManifest = z.infer<typeof ModelJsonSchema>['weightsManifest'];

/**
 * Where each weight file lands when every group is one file of a size its
 * weight specs fix (an export's segments, a single-shard model): views of one
 * buffer, in manifest order, which tfjs then decodes without a join. Undefined
 * when the layout is anything else (converter shards, string weights): each
 * file then gets a buffer of its own. Fewer than `minFiles` files: undefined
 * too (one file needs no join).
 */
export function weightFileViews(manifest: WeightsManifest, minFiles = 2): Map<string, Uint8Array> | undefined {
  const sizes: [string, number][] = [];
  for (const group of manifest) {
    const bytes = weightGroupBytes(group.weights);
    if (group.paths.length !== 1 || bytes === null) return undefined;
    sizes.push([group.paths[0] as string, bytes]);
  }
  if (sizes.length < minFiles || new Set(sizes.map(([name]) => name)).size !== sizes.length) return undefined;
  const buffer = new ArrayBuffer(sizes.reduce((sum, [, n]) => sum + n, 0));
  const views = new Map<string, Uint8Array>();
  let at = 0;
  for (const [name, n] of sizes) {
    views.set(name, new Uint8Array(buffer, at, n));
    at += n;
  }
  return views;
}

/**
 * The weights manifest of a part's model.json (read from `s3://bucket/key`).
 * @throws OffloadError `unavailable` when it is not a tfjs model.json
 */
export function parseWeightsManifest(bytes: Uint8Array, bucket: string, modelJsonKey: string): WeightsManifest {
  try {
    return ModelJsonSchema.parse(JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))).weightsManifest;
  } catch (err) {
    throw new OffloadError('unavailable', 'artifact corrupt: its model.json is not a tfjs model.json', {
      cause: err,
      detail: `s3://${bucket}/${modelJsonKey}`,
    });
  }
}
