/**
 * Where an export's files sit and how big its weights are, without zod or
 * any other dependency: the tail's early download (functions/tail/index.ts)
 * starts before the handler bundle loads, so what it needs must cost nothing
 * to load. core/manifest.ts re-exports all of it.
 */

/** Folder of a cut's tail inside an export, relative to `DIR/<model>/` (`tails/<cut>`). */
export function tailDir(cut: number): string {
  return `tails/${cut}`;
}

/** A part's model.json, relative to `DIR/<model>/` (`full/model.json`, `tails/3/model.json`). */
export function partModelJson(part: string): string {
  return `${part}/model.json`;
}

/** S3 key prefix under which the export trees sit in the artifact bucket (docs/deploy.md: `models/<model>/…`). */
export const ARTIFACT_KEY_PREFIX = 'models/';

/** Key prefix of one model's export in the bucket: `models/<model>/`. */
export function modelKeyPrefix(model: string): string {
  return `${ARTIFACT_KEY_PREFIX}${model}/`;
}

/** Joins a key prefix and a file name with exactly one slash. */
export function s3Key(prefix: string, name: string): string {
  if (!prefix) return name;
  return prefix.endsWith('/') ? `${prefix}${name}` : `${prefix}/${name}`;
}

const WEIGHT_VALUE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** A weight as a tfjs model.json's `weightsManifest` describes it. */
export interface WeightSpecLike {
  dtype: string;
  shape: readonly number[];
  quantization?: { dtype: string } | undefined;
}

/** Bytes one weight occupies in a weight file, or null when its size is variable (a string weight). */
export function weightSpecBytes(w: WeightSpecLike): number | null {
  const size = WEIGHT_VALUE_BYTES[w.quantization?.dtype ?? w.dtype];
  return size === undefined ? null : size * w.shape.reduce((a, b) => a * b, 1);
}

/** Bytes a weight group occupies in its files, or null when a string weight makes it variable. */
export function weightGroupBytes(weights: readonly WeightSpecLike[]): number | null {
  let total = 0;
  for (const w of weights) {
    const size = weightSpecBytes(w);
    if (size === null) return null;
    total += size;
  }
  return total;
}
