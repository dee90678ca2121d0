/**
 * The model artifacts of the local stack: the exports come from
 * cdk/exports.ts (what `cdk synth` runs too); this file uploads the export
 * trees into the artifact bucket under `models/`, as the BucketDeployment of
 * a real deploy does: the same layout, each weight segment once per model.
 *
 * An object whose size and recorded sha256 (object metadata `sha256`) match
 * the manifest is not sent again.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactProgress, ModelArtifacts } from '../cdk/exports';
import { OffloadError } from '../core/errors';
import { modelKeyPrefix } from '../core/manifest';
import { CLOUD_PROFILE_FILE } from '../models/profile-files';

export { configuredCuts, ensureExports, type ArtifactProgress, type EnsureExportsOptions, type ModelArtifacts } from '../cdk/exports';

const MANIFEST_FILE = 'manifest.json';

/** What {@link uploadArtifacts} did. */
export interface UploadSummary {
  uploaded: number;
  skipped: number;
  /** Bytes sent. */
  bytes: number;
  ms: number;
}

async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/**
 * Uploads each model's export (every file its manifest lists, the cloud
 * profile, then the manifest) to `bucket` under `models/<model>/`, skipping
 * objects that are already there unchanged.
 */
export async function uploadArtifacts(
  s3: S3Client,
  bucket: string,
  models: readonly ModelArtifacts[],
  options: { onProgress?: (p: ArtifactProgress) => void; concurrency?: number } = {},
): Promise<UploadSummary> {
  const started = performance.now();
  interface Item {
    key: string;
    path: string;
    bytes: number;
    sha256: string | null;
  }
  const items: Item[] = [];
  for (const m of models) {
    const prefix = modelKeyPrefix(m.model);
    for (const [path, f] of Object.entries(m.manifest.files)) {
      items.push({ key: prefix + path, path: join(m.dir, path), bytes: f.bytes, sha256: f.sha256 });
    }
    if (m.cloudProfile) {
      items.push({ key: prefix + CLOUD_PROFILE_FILE, path: join(m.dir, CLOUD_PROFILE_FILE), bytes: -1, sha256: null });
    }
    // the manifest last, so a reader that sees it finds every file it lists
    items.push({ key: prefix + MANIFEST_FILE, path: join(m.dir, MANIFEST_FILE), bytes: -1, sha256: null });
  }
  const summary = { uploaded: 0, skipped: 0, bytes: 0 };
  let done = 0;
  // files without a recorded hash (manifests, the cloud profile) go after the parts
  const manifests = items.filter((i) => i.sha256 === null);
  const upload = async (item: Item): Promise<void> => {
    const body = item.sha256 === null ? await readFile(item.path) : undefined;
    const sha256 = item.sha256 ?? createHash('sha256').update(body as Buffer).digest('hex');
    const bytes = item.sha256 === null ? (body as Buffer).byteLength : item.bytes;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: item.key })).catch(() => undefined);
    if (head && head.ContentLength === bytes && head.Metadata?.sha256 === sha256) {
      summary.skipped += 1;
    } else {
      const data = body ?? (await readFile(item.path));
      if (data.byteLength !== bytes) {
        throw new OffloadError('model-format', `${item.path} is ${data.byteLength} bytes; its manifest says ${bytes}: export again`);
      }
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: item.key, Body: data, Metadata: { sha256 } }));
      summary.uploaded += 1;
      summary.bytes += bytes;
    }
    done += 1;
    options.onProgress?.({ phase: 'upload', key: item.key, done, total: items.length });
  };
  await runPool(
    items.filter((i) => i.sha256 !== null),
    options.concurrency ?? 8,
    upload,
  );
  await runPool(manifests, options.concurrency ?? 8, upload);
  return { ...summary, ms: performance.now() - started };
}
