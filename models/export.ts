import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from './tfjs';
import { OffloadError } from '../core/errors';
import {
  FULL_DIR,
  ManifestSchema,
  headDir,
  partFiles,
  partModelJson,
  segmentPath,
  tailDir,
  weightSpecBytes,
  type Manifest,
  type ManifestFile,
  type Segment,
} from '../core/manifest';
import { saveModelToDir } from './artifacts';
import { analyzeModel, candidateAt, modelGraph, type ModelAnalysis } from './graph';
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
  /** Called before each part is written (`segments/0-5.bin`, `full`, `tails/3`, `heads/3`), with the count of parts to write. */
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
  /** Parts written in this run (`segments/<from>-<to>.bin`, `full`, `tails/<cut>`, `heads/<cut>`). */
  written: string[];
  /** Parts kept from a previous export with the same fingerprint. */
  reused: string[];
  /** Bytes on disk per part: each segment, and each model.json part. Every file is counted once. */
  partBytes: Record<string, number>;
  /** Bytes on disk of every file the manifest lists (the manifest aside). */
  totalBytes: number;
  manifest: Manifest;
}

/** The manifest file name inside `DIR/<model>/`. */
export const MANIFEST_FILE = 'manifest.json';

/** The weights of a model as tfjs saves them, with each weight's place in the data and the layer it belongs to. */
interface WeightLayout {
  topology: object;
  data: Uint8Array;
  weights: { spec: tf.io.WeightsManifestEntry; offset: number; bytes: number; layer: number }[];
}

/**
 * Exports a model for serving (layout in core/manifest.ts and docs/graph-analysis.md, "Export layout"):
 * `DIR/<model>/manifest.json`; `segments/<from>-<to>.bin`, the model's weights
 * stored once, cut at the exported cuts; and `full/model.json`,
 * `tails/<cut>/model.json`, `heads/<cut>/model.json` (cut > 0), each a
 * topology naming exactly the segments of its layers.
 *
 * Up-to-date detection: the manifest records a fingerprint (sha256 of the full
 * model's topology and weights) and every file's size and sha256. A file is
 * reused when the fingerprint and candidate rule are unchanged, it is on disk
 * with its recorded size, and (for a model.json) the segments it names are the
 * same; when everything is reused and nothing else lingers, nothing is written
 * (`upToDate`). Files of cuts or segments no longer wanted are removed, so the
 * folder always equals the manifest.
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
  const layout = await weightLayout(model);
  const fingerprint = fingerprintOf(layout);
  const segments = segmentsFor(layout, cuts, analysis.layers.length);

  const parts: string[] = [FULL_DIR];
  for (const cut of cuts) {
    parts.push(tailDir(cut));
    if (withHeads && cut > 0) parts.push(headDir(cut));
  }
  const draft = { segments: segments.map(({ from, to, path }) => ({ from, to, path })) };
  const wanted = [...draft.segments.map((s) => s.path), ...parts];
  const previous = opts.force ? undefined : await readManifest(dir);
  const reusable = new Set<string>();
  if (previous && previous.fingerprint === fingerprint && previous.maxCrossing === maxCrossing) {
    const prevSegments = new Set(previous.segments.map((s) => s.path));
    for (const seg of draft.segments) if (prevSegments.has(seg.path) && (await filesIntact(dir, previous, [seg.path]))) reusable.add(seg.path);
    for (const part of parts) {
      const same = partFilesOf(previous, part)?.join('\n') === partFilesOf(draft, part)?.join('\n');
      if (same && (await filesIntact(dir, previous, [partModelJson(part)]))) reusable.add(part);
    }
  }
  const stale = (await presentParts(dir)).filter((p) => !wanted.includes(p));
  const toWrite = wanted.filter((p) => !reusable.has(p));
  const sameCuts = previous !== undefined && previous.exportedCuts.join(',') === cuts.join(',');
  if (previous && toWrite.length === 0 && stale.length === 0 && sameCuts) {
    return result(dir, name, true, previous, [], wanted);
  }

  const files: Record<string, ManifestFile> = {};
  for (const path of reusable) {
    const file = path.startsWith('segments/') ? path : partModelJson(path);
    files[file] = previous!.files[file]!;
  }
  for (const part of stale) await rm(join(dir, part), { recursive: true, force: true });
  await mkdir(join(dir, 'segments'), { recursive: true });
  // The old manifest no longer describes the folder while parts are rewritten.
  await rm(join(dir, MANIFEST_FILE), { force: true });

  let done = 0;
  for (const seg of segments) {
    if (reusable.has(seg.path)) continue;
    opts.onPart?.(seg.path, done++, toWrite.length);
    files[seg.path] = await writePieces(join(dir, seg.path), seg.weights.map((w) => layout.data.subarray(w.offset, w.offset + w.bytes)));
  }
  const writeJson = async (part: string, topology: object, layers: (from: number, to: number) => boolean): Promise<void> => {
    opts.onPart?.(part, done++, toWrite.length);
    const modelJson: tf.io.ModelJSON = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: topology,
      weightsManifest: segments.filter((s) => layers(s.from, s.to)).map((s) => ({ paths: [s.path], weights: s.weights.map((w) => w.spec) })),
    };
    const path = partModelJson(part);
    await rm(join(dir, part), { recursive: true, force: true });
    files[path] = await writePieces(join(dir, path), [new TextEncoder().encode(JSON.stringify(modelJson))]);
  };
  if (toWrite.includes(FULL_DIR)) await writeJson(FULL_DIR, layout.topology, () => true);
  for (const cut of cuts) {
    const needTail = toWrite.includes(tailDir(cut));
    const needHead = toWrite.includes(headDir(cut));
    if (!needTail && !needHead) continue;
    const { head, tail } = splitModel(model, analysis, cut);
    try {
      if (needTail && tail) await writeJson(tailDir(cut), tail.toJSON(null, false) as object, (from) => from >= cut);
      if (needHead && head) await writeJson(headDir(cut), head.toJSON(null, false) as object, (_, to) => to <= cut);
    } finally {
      head?.dispose();
      tail?.dispose();
    }
  }
  opts.onPart?.('manifest', done, toWrite.length);

  const manifest: Manifest = ManifestSchema.parse({
    manifestVersion: 2,
    model: name,
    inputShape: analysis.inputShape,
    inputBytes: analysis.inputBytes,
    outputBytes: analysis.outputBytes,
    layers: analysis.layers,
    candidates: analysis.candidates,
    exportedCuts: cuts,
    files: sortKeys(files),
    segments: draft.segments,
    fingerprint,
    maxCrossing,
    ...(opts.source ? { source: opts.source } : {}),
  });
  const tmp = join(dir, `${MANIFEST_FILE}.tmp`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, join(dir, MANIFEST_FILE));
  return result(dir, name, false, manifest, toWrite, wanted.filter((p) => reusable.has(p)));
}

/** The files a part reads in a manifest (or a draft holding only its segments); undefined when the part is not in it. */
function partFilesOf(manifest: Pick<Manifest, 'segments'>, part: string): string[] | undefined {
  try {
    return partFiles(manifest as Manifest, part);
  } catch {
    return undefined;
  }
}

/** Saves the model in memory and places each weight: its bytes in the saved data and the layer (graph order) it belongs to. */
async function weightLayout(model: tf.LayersModel): Promise<WeightLayout> {
  const layerOf = new Map<string, number>();
  for (const node of modelGraph(model).nodes) for (const w of node.layer.weights) layerOf.set(w.originalName, node.index);
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) throw new OffloadError('internal', 'tfjs did not hand the model artifacts to the save handler');
  const raw = saved.weightData;
  const data = raw === undefined ? new Uint8Array(0) : new Uint8Array(raw instanceof ArrayBuffer ? raw : tf.io.concatenateArrayBuffers(raw));
  let offset = 0;
  const weights = (saved.weightSpecs ?? []).map((spec) => {
    const bytes = weightSpecBytes(spec);
    const layer = layerOf.get(spec.name);
    if (bytes === null || layer === undefined) {
      throw new OffloadError('model-format', `weight "${spec.name}" (${spec.dtype}) cannot be placed in a segment: ${bytes === null ? 'variable size' : 'no layer owns it'}`);
    }
    const entry = { spec, offset, bytes, layer };
    offset += bytes;
    return entry;
  });
  if (offset !== data.byteLength) throw new OffloadError('internal', `tfjs saved ${data.byteLength} bytes of weights; the specs describe ${offset}`);
  return { topology: saved.modelTopology as object, data, weights };
}

/** sha256 over a model's serialised topology, weight specs and weight bytes. */
function fingerprintOf(layout: WeightLayout): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(layout.topology ?? null));
  hash.update(JSON.stringify(layout.weights.map((w) => w.spec)));
  hash.update(layout.data);
  return hash.digest('hex');
}

/** Segments between consecutive boundaries (0, the cuts, L), each with the weights of its layers in save order; empty intervals have none. */
function segmentsFor(layout: WeightLayout, cuts: readonly number[], layerCount: number): (Segment & { weights: WeightLayout['weights'] })[] {
  const bounds = [...new Set([0, ...cuts, layerCount])].sort((a, b) => a - b);
  const out: (Segment & { weights: WeightLayout['weights'] })[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i]!;
    const to = bounds[i + 1]!;
    const weights = layout.weights.filter((w) => w.layer >= from && w.layer < to);
    if (weights.length > 0) out.push({ from, to, path: segmentPath(from, to), weights });
  }
  return out;
}

/** Writes `pieces` one after the other into `path` (atomically, via a temporary file) and describes the result. */
async function writePieces(path: string, pieces: readonly Uint8Array[]): Promise<ManifestFile> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const hash = createHash('sha256');
  let bytes = 0;
  const handle = await open(tmp, 'w');
  try {
    for (const piece of pieces) {
      hash.update(piece);
      bytes += piece.byteLength;
    }
    if (pieces.length > 0) await handle.writev(pieces as Uint8Array[]);
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  return { bytes, sha256: hash.digest('hex') };
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
  return fingerprintOf(await weightLayout(model));
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

/** Each file is on disk with the size the manifest records. */
async function filesIntact(dir: string, manifest: Manifest, paths: readonly string[]): Promise<boolean> {
  for (const path of paths) {
    const want = manifest.files[path];
    if (!want) return false;
    try {
      if ((await stat(join(dir, path))).size !== want.bytes) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Parts on disk: `full`, the numeric folders under `tails/` and `heads/`, and every file under `segments/`. */
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
  try {
    for (const e of await readdir(join(dir, 'segments'))) parts.push(`segments/${e}`);
  } catch {
    // no segments yet
  }
  return parts;
}

function result(dir: string, model: string, upToDate: boolean, manifest: Manifest, written: string[], reused: string[]): ExportResult {
  const bytesOf: Record<string, number> = {};
  for (const [path, f] of Object.entries(manifest.files)) {
    const part = path.startsWith('segments/') ? path : path.slice(0, path.lastIndexOf('/'));
    bytesOf[part] = (bytesOf[part] ?? 0) + f.bytes;
  }
  // segments first, then full, then by cut, tail before head: the order a reader scans.
  const rank = (part: string): number => {
    if (part.startsWith('segments/')) return -2;
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
