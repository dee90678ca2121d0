/**
 * The model artifacts of the local stack: export what the configuration
 * deploys (the `offload export` code path, into the configuration's
 * `exportDir`), then upload the export trees into the artifact bucket under
 * `models/`, as `aws s3 sync` does after a real deploy.
 *
 * Both steps skip what is already done:
 * - export: a model is left alone when its manifest already lists every
 *   wanted cut, its files are on disk with their recorded sizes, and the
 *   manifest is newer than every file of `models/` (the code that builds
 *   the zoo's seeded weights and writes the export). Otherwise `exportModel`
 *   runs; it compares the model's fingerprint and rewrites only what
 *   differs. Cuts exported earlier stay (the export of a deployment with
 *   more cuts must not be pruned by a local run with fewer).
 * - upload: an object whose size and recorded sha256 (object metadata
 *   `sha256`) match the manifest is not sent again.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { OffloadConfig } from '../cdk/config';
import { selectDefaultCuts } from '../cdk/cuts';
import { NotFoundError, OffloadError } from '../core/errors';
import { FULL_DIR, headDir, modelKeyPrefix, parseManifest, tailDir, type Manifest } from '../core/manifest';
import { attachCloudProfile, CLOUD_PROFILE_FILE } from '../models/profile-files';
import { newestMtime } from './synth';

const MANIFEST_FILE = 'manifest.json';

/** One configured model, exported. */
export interface ModelArtifacts {
  model: string;
  /** `<exportDir>/<model>`. */
  dir: string;
  manifest: Manifest;
  /** The cuts that get tail functions (cut 0 always among them). */
  cuts: number[];
  /** `reused`: nothing checked beyond sizes; `up-to-date`: exportModel found nothing to write; `written`: parts were written. */
  export: 'reused' | 'up-to-date' | 'written';
  ms: number;
}

export type ArtifactProgress =
  | { phase: 'export'; model: string; part: string; done: number; total: number }
  | { phase: 'upload'; key: string; done: number; total: number };

export interface EnsureExportsOptions {
  projectRoot: string;
  /** Absolute export folder (the configuration's `exportDir`, resolved). */
  exportDir: string;
  onProgress?: (p: ArtifactProgress) => void;
}

async function readManifestFile(dir: string): Promise<Manifest | undefined> {
  try {
    return parseManifest(JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')));
  } catch {
    return undefined; // absent, half-written or from another version: export again
  }
}

/** Cuts the configuration deploys for a model, from its explicit list or the default rule. */
export function configuredCuts(config: OffloadConfig, model: string, analysis: Pick<Manifest, 'candidates' | 'layers'>): number[] {
  const mc = config.models[model];
  if (!mc || mc.cuts === 'default') return selectDefaultCuts(analysis, config.cutRule).cuts;
  return [...new Set([0, ...mc.cuts])].sort((a, b) => a - b);
}

/** The export parts a deployment of `cuts` reads: the whole model, and each cut's tail and head. */
export function partsFor(cuts: readonly number[]): string[] {
  return [FULL_DIR, ...cuts.flatMap((c) => (c === 0 ? [tailDir(c)] : [tailDir(c), headDir(c)]))];
}

async function partsIntact(dir: string, manifest: Manifest, parts: readonly string[]): Promise<boolean> {
  for (const part of parts) {
    const files = Object.entries(manifest.files).filter(([p]) => p.startsWith(`${part}/`));
    if (files.length === 0) return false;
    for (const [path, f] of files) {
      const size = await stat(join(dir, path)).then((s) => s.size, () => -1);
      if (size !== f.bytes) return false;
    }
  }
  return true;
}

/**
 * Makes sure every configured model has an export holding the cuts it
 * deploys. Zoo models are exported as needed; a model that is not in the zoo
 * must have been exported by the user (`offload export FOLDER --out exportDir`).
 */
export async function ensureExports(config: OffloadConfig, options: EnsureExportsOptions): Promise<ModelArtifacts[]> {
  const out: ModelArtifacts[] = [];
  const codeChangedAt = newestMtime([join(options.projectRoot, 'models')]).mtimeMs;
  for (const model of Object.keys(config.models)) {
    const started = performance.now();
    const dir = join(options.exportDir, model);
    const previous = await readManifestFile(dir);
    if (previous) {
      const cuts = configuredCuts(config, model, previous);
      const manifestAt = (await stat(join(dir, MANIFEST_FILE))).mtimeMs;
      const covered = cuts.every((c) => previous.exportedCuts.includes(c));
      if (covered && manifestAt > codeChangedAt && (await partsIntact(dir, previous, partsFor(cuts)))) {
        out.push({ model, dir, manifest: previous, cuts, export: 'reused', ms: performance.now() - started });
        continue;
      }
    }
    out.push(await exportZooModel(config, model, previous, options, started));
  }
  return out;
}

async function exportZooModel(
  config: OffloadConfig,
  model: string,
  previous: Manifest | undefined,
  options: EnsureExportsOptions,
  started: number,
): Promise<ModelArtifacts> {
  const dir = join(options.exportDir, model);
  const [{ initBackend }, { isZooName, ZOO }, { analyzeModel }, { exportModel }] = await Promise.all([
    import('../models/backend'),
    import('../models/zoo'),
    import('../models/graph'),
    import('../models/export'),
  ]);
  if (!isZooName(model)) {
    if (previous) {
      throw new OffloadError(
        'not-found',
        `the export of "${model}" in ${dir} lacks cuts or files the configuration deploys (${JSON.stringify(config.models[model]?.cuts)}); ` +
          `"${model}" is not a zoo model, so export it yourself: npx offload export <folder> --out ${options.exportDir}`,
      );
    }
    throw new NotFoundError(
      `model "${model}" has no export in ${dir} and is not a zoo model; export it first: npx offload export <folder> --out ${options.exportDir}`,
    );
  }
  await initBackend();
  // A reduced-size or reseeded export made by hand keeps its build options.
  const buildOpts = {
    ...(previous?.source?.inputSize === undefined ? {} : { inputSize: previous.source.inputSize }),
    ...(previous?.source?.seed === undefined ? {} : { seed: previous.source.seed }),
  };
  const net = ZOO[model].build(buildOpts);
  try {
    const analysis = analyzeModel(net, { name: model, maxCrossing: previous?.maxCrossing ?? 1 });
    const cuts = configuredCuts(config, model, analysis);
    const keep = previous ? previous.exportedCuts.filter((c) => analysis.candidates.some((k) => k.cut === c)) : [];
    const result = await exportModel(net, options.exportDir, {
      name: model,
      cuts: [...new Set([...keep, ...cuts])],
      maxCrossing: previous?.maxCrossing ?? 1,
      source: { kind: 'zoo', ...buildOpts },
      onPart: (part, done, total) => options.onProgress?.({ phase: 'export', model, part, done, total }),
    });
    if (result.upToDate) {
      // checked against the code as it is now: the next start may take the fast path
      const now = new Date();
      await utimes(join(dir, MANIFEST_FILE), now, now);
    }
    return {
      model,
      dir,
      manifest: result.manifest,
      cuts,
      export: result.upToDate ? 'up-to-date' : 'written',
      ms: performance.now() - started,
    };
  } finally {
    net.dispose();
  }
}

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
 * Uploads each model's manifest and the parts its deployment reads (whole
 * model, tails and heads of the deployed cuts) to `bucket` under
 * `models/<model>/`, skipping objects that are already there unchanged.
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
    for (const part of partsFor(m.cuts)) {
      for (const [path, f] of Object.entries(m.manifest.files)) {
        if (path.startsWith(`${part}/`)) items.push({ key: prefix + path, path: join(m.dir, path), bytes: f.bytes, sha256: f.sha256 });
      }
    }
    if (attachCloudProfile(m.model, m.manifest.inputShape, m.dir)) {
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
