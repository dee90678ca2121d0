import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import * as tf from './tfjs';
import { OffloadError } from '../core/errors';
import { FULL_DIR, ManifestSchema, headDir, tailDir, type Manifest, type ManifestFile } from '../core/manifest';
import { saveModelToDir } from './artifacts';
import { analyzeModel, candidateAt, type ModelAnalysis } from './graph';
import { splitModel } from './slice';

/** Options of {@link exportModel}. */
export interface ExportOptions {
  /** Name of the export folder and of the model in the manifest; default the model's name. */
  name?: string;
  /** Cuts whose tails (and heads) to export; default every candidate. Each must be a candidate. */
  cuts?: readonly number[];
  /** Also write `heads/<cut>/` for cuts > 0 (default true): what a device downloads. */
  heads?: boolean;
  /** Candidate rule (see analyzeModel); default 1. */
  maxCrossing?: number;
  /** Where the model came from, recorded in the manifest. */
  source?: Manifest['source'];
  /** Rewrite every part even when the export is up to date. */
  force?: boolean;
  /** Called before each part is written (`full`, `tails/3`, `heads/3`), with the count of parts to write. */
  onPart?: (part: string, done: number, total: number) => void;
}

/** What {@link exportModel} did. */
export interface ExportResult {
  /** `DIR/<model>`. */
  dir: string;
  model: string;
  /** True when nothing was written: the existing export already matched. */
  upToDate: boolean;
  exportedCuts: number[];
  /** Parts written in this run (`full`, `tails/<cut>`, `heads/<cut>`). */
  written: string[];
  /** Parts kept from a previous export with the same fingerprint. */
  reused: string[];
  /** Bytes on disk per part (all files of the part). */
  partBytes: Record<string, number>;
  totalBytes: number;
  manifest: Manifest;
}

/** The manifest file name inside `DIR/<model>/`. */
export const MANIFEST_FILE = 'manifest.json';

/**
 * Exports a model for serving, in the layout of docs/graph-analysis.md ("Export layout"):
 * `DIR/<model>/manifest.json`, `full/`, `tails/<cut>/` (only the tail's weights)
 * and `heads/<cut>/` for cut > 0.
 *
 * Up-to-date detection: the manifest records a fingerprint (sha256 of the full
 * model's topology and weights) and every file's size and sha256. A part is
 * reused when the fingerprint and candidate rule are unchanged and its files are
 * on disk with the recorded sizes; when every requested part is reused and no
 * other part lingers, nothing is written (`upToDate`). Parts of cuts that are no
 * longer requested are removed, so the folder always equals the manifest.
 *
 * @example
 * const r = await exportModel(model, 'out', { name: 'resnet50', cuts: [0, 18] });
 * r.manifest.files['tails/18/model.json'].sha256;
 */
export async function exportModel(model: tf.LayersModel, outDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const name = opts.name ?? model.name;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new OffloadError('invalid-input', `model name "${name}" cannot name a folder (letters, digits, . _ - only)`, { field: 'name' });
  }
  const maxCrossing = opts.maxCrossing ?? 1;
  const analysis = analyzeModel(model, { name, maxCrossing });
  const cuts = [...new Set(opts.cuts ?? analysis.candidates.map((c) => c.cut))].sort((a, b) => a - b);
  for (const cut of cuts) candidateAt(analysis, cut);
  const withHeads = opts.heads ?? true;
  const dir = join(outDir, name);
  const fingerprint = await modelFingerprint(model);

  const wanted: string[] = [FULL_DIR];
  for (const cut of cuts) {
    wanted.push(tailDir(cut));
    if (withHeads && cut > 0) wanted.push(headDir(cut));
  }
  const previous = opts.force ? undefined : await readManifest(dir);
  const reusable = new Set<string>();
  if (previous && previous.fingerprint === fingerprint && previous.maxCrossing === maxCrossing) {
    for (const part of wanted) if (await partIntact(dir, previous, part)) reusable.add(part);
  }
  const present = await presentParts(dir);
  const stale = present.filter((p) => !wanted.includes(p));
  const toWrite = wanted.filter((p) => !reusable.has(p));
  const sameCuts = previous !== undefined && previous.exportedCuts.join(',') === cuts.join(',');
  if (previous && toWrite.length === 0 && stale.length === 0 && sameCuts) {
    return result(dir, name, true, previous, [], wanted);
  }

  const files: Record<string, ManifestFile> = {};
  for (const part of reusable) Object.assign(files, filesOf(previous!, part));
  for (const part of stale) await rm(join(dir, part), { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // The old manifest no longer describes the folder while parts are rewritten.
  await rm(join(dir, MANIFEST_FILE), { force: true });

  let done = 0;
  const write = async (part: string, m: tf.LayersModel): Promise<void> => {
    opts.onPart?.(part, done, toWrite.length);
    const partDir = join(dir, part);
    await rm(partDir, { recursive: true, force: true });
    await mkdir(partDir, { recursive: true });
    const saved = await saveModelToDir(m, partDir);
    for (const f of saved.files) {
      const abs = isAbsolute(f) ? f : join(partDir, f);
      files[toPosix(relative(dir, abs))] = await describeFile(abs);
    }
    done++;
  };
  if (toWrite.includes(FULL_DIR)) await write(FULL_DIR, model);
  for (const cut of cuts) {
    const needTail = toWrite.includes(tailDir(cut));
    const needHead = toWrite.includes(headDir(cut));
    if (!needTail && !needHead) continue;
    const { head, tail } = splitModel(model, analysis, cut);
    try {
      if (needTail && tail) await write(tailDir(cut), tail);
      if (needHead && head) await write(headDir(cut), head);
    } finally {
      head?.dispose();
      tail?.dispose();
    }
  }
  opts.onPart?.('manifest', done, toWrite.length);

  const manifest: Manifest = ManifestSchema.parse({
    manifestVersion: 1,
    model: name,
    inputShape: analysis.inputShape,
    inputBytes: analysis.inputBytes,
    outputBytes: analysis.outputBytes,
    layers: analysis.layers,
    candidates: analysis.candidates,
    exportedCuts: cuts,
    files: sortKeys(files),
    fingerprint,
    maxCrossing,
    ...(opts.source ? { source: opts.source } : {}),
  });
  const tmp = join(dir, `${MANIFEST_FILE}.tmp`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, join(dir, MANIFEST_FILE));
  return result(dir, name, false, manifest, toWrite, wanted.filter((p) => reusable.has(p)));
}

/** Bytes of a head and a tail written by {@link splitToDir}. */
export interface SplitResult {
  cut: number;
  layer: string;
  crossing: ModelAnalysis['candidates'][number]['crossing'];
  /** Null at cut 0 (no head). */
  head: { dir: string; files: string[]; modelJsonBytes: number; weightBytes: number } | null;
  tail: { dir: string; files: string[]; modelJsonBytes: number; weightBytes: number };
}

/**
 * Writes the head (`DIR/head/`) and the tail (`DIR/tail/`) of `model` at a candidate cut.
 * At cut 0 there is no head.
 */
export async function splitToDir(model: tf.LayersModel, analysis: ModelAnalysis, cut: number, outDir: string): Promise<SplitResult> {
  const candidate = candidateAt(analysis, cut);
  const { head, tail } = splitModel(model, analysis, cut);
  try {
    const save = async (m: tf.LayersModel, sub: string) => {
      const dir = join(outDir, sub);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const saved = await saveModelToDir(m, dir);
      return { dir, files: saved.files, modelJsonBytes: saved.modelJsonBytes, weightBytes: saved.weightBytes };
    };
    const headOut = head ? await save(head, 'head') : null;
    if (!head) await rm(join(outDir, 'head'), { recursive: true, force: true });
    const tailOut = await save(tail!, 'tail');
    return { cut, layer: candidate.layer, crossing: candidate.crossing, head: headOut, tail: tailOut };
  } finally {
    head?.dispose();
    tail?.dispose();
  }
}

/**
 * sha256 over a model's serialised topology, weight specs and weight bytes:
 * equal fingerprints mean the same architecture and the same weights.
 */
export async function modelFingerprint(model: tf.LayersModel): Promise<string> {
  const hash = createHash('sha256');
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      hash.update(JSON.stringify(artifacts.modelTopology ?? null));
      hash.update(JSON.stringify(artifacts.weightSpecs ?? []));
      const data = artifacts.weightData;
      for (const buf of data === undefined ? [] : Array.isArray(data) ? data : [data]) hash.update(new Uint8Array(buf));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return hash.digest('hex');
}

/**
 * Reads and validates `DIR/<model>/manifest.json`; undefined when absent or not a valid manifest
 * (an export interrupted half-way leaves no manifest, so it is redone).
 */
export async function readManifest(modelDir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(modelDir, MANIFEST_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = ManifestSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks every file an export's manifest lists against the disk: size and sha256.
 * Returns the paths that are missing or differ (empty when the export is intact).
 */
export async function verifyExport(modelDir: string, manifest: Manifest): Promise<string[]> {
  const bad: string[] = [];
  for (const [path, want] of Object.entries(manifest.files)) {
    try {
      const got = await describeFile(join(modelDir, path));
      if (got.bytes !== want.bytes || got.sha256 !== want.sha256) bad.push(path);
    } catch {
      bad.push(path);
    }
  }
  return bad;
}

async function describeFile(path: string): Promise<ManifestFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

function filesOf(manifest: Manifest, part: string): Record<string, ManifestFile> {
  const prefix = `${part}/`;
  return Object.fromEntries(Object.entries(manifest.files).filter(([p]) => p.startsWith(prefix)));
}

/** A part is intact when the manifest lists files for it and each is on disk with its recorded size. */
async function partIntact(dir: string, manifest: Manifest, part: string): Promise<boolean> {
  const files = Object.entries(filesOf(manifest, part));
  if (files.length === 0) return false;
  for (const [path, want] of files) {
    try {
      if ((await stat(join(dir, path))).size !== want.bytes) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Parts on disk: `full` and the numeric folders under `tails/` and `heads/`. */
async function presentParts(dir: string): Promise<string[]> {
  const parts: string[] = [];
  const list = async (sub: string): Promise<string[]> => {
    try {
      return (await readdir(join(dir, sub), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  };
  for (const e of await list('.')) if (e === FULL_DIR) parts.push(FULL_DIR);
  for (const kind of ['tails', 'heads']) for (const e of await list(kind)) if (/^\d+$/.test(e)) parts.push(`${kind}/${e}`);
  return parts;
}

function result(dir: string, model: string, upToDate: boolean, manifest: Manifest, written: string[], reused: string[]): ExportResult {
  const bytesOf: Record<string, number> = {};
  for (const [path, f] of Object.entries(manifest.files)) {
    const segments = path.split('/');
    const part = segments[0] === FULL_DIR ? FULL_DIR : segments.slice(0, 2).join('/');
    bytesOf[part] = (bytesOf[part] ?? 0) + f.bytes;
  }
  // full first, then by cut, tail before head: the order a reader scans.
  const rank = (part: string): number => {
    if (part === FULL_DIR) return -1;
    const [kind, cut] = part.split('/');
    return Number(cut) * 2 + (kind === 'heads' ? 1 : 0);
  };
  const partBytes = Object.fromEntries(Object.entries(bytesOf).sort(([a], [b]) => rank(a) - rank(b)));
  const totalBytes = Object.values(partBytes).reduce((s, b) => s + b, 0);
  return { dir, model, upToDate, exportedCuts: manifest.exportedCuts, written, reused, partBytes, totalBytes, manifest };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
