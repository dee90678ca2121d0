import { mkdtemp, readFile, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, partFiles, tailSegments } from '../../core/manifest';
import { loadModelFromDir, loadModelFromFiles, modelToFiles } from '../../models/artifacts';
import { initBackend } from '../../models/backend';
import { exportModel, modelFingerprint, readManifest, splitToDir, verifyExport } from '../../models/export';
import { analyzeModel } from '../../models/graph';
import { ZOO } from '../../models/zoo';
import { seededInput } from './graph-fixtures';
import { maxAbsDiff } from '../../testkit/tensors';

let root: string;
beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'offload-export-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const mtimes = async (dir: string, paths: string[]) => Promise.all(paths.map(async (p) => (await stat(join(dir, p))).mtimeMs));

describe('exportModel', () => {
  it('writes full, every candidate tail and head, and a manifest whose sizes and hashes match the files', async () => {
    // Prepare
    const model = ZOO.tinydag.build();
    const analysis = analyzeModel(model, { name: 'tinydag' });
    const out = join(root, 'layout');
    // Act
    const r = await exportModel(model, out, { name: 'tinydag', source: { kind: 'zoo' } });
    // Assess
    const dir = join(out, 'tinydag');
    expect(r.dir).toBe(dir);
    expect(r.upToDate).toBe(false);
    const cuts = analysis.candidates.map((c) => c.cut);
    expect(r.exportedCuts).toEqual(cuts);
    expect((await readdir(join(dir, 'tails'))).map(Number).sort((a, b) => a - b)).toEqual(cuts);
    expect((await readdir(join(dir, 'heads'))).map(Number).sort((a, b) => a - b)).toEqual(cuts.filter((c) => c > 0));
    const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
    expect(manifest.model).toBe('tinydag');
    expect(manifest.layers).toEqual(analysis.layers);
    expect(manifest.candidates).toEqual(analysis.candidates);
    expect(manifest.fingerprint).toBe(await modelFingerprint(model));
    expect(manifest.files['full/model.json']).toBeDefined();
    for (const c of cuts) expect(manifest.files[`tails/${c}/model.json`]).toBeDefined();
    expect(await verifyExport(dir, manifest)).toEqual([]);
    // Every file on disk is in the manifest; each part's folder holds only its model.json.
    const listed = new Set(Object.keys(manifest.files));
    for (const part of ['full', ...cuts.map((c) => `tails/${c}`)]) {
      for (const f of await readdir(join(dir, part))) expect(listed.has(`${part}/${f}`)).toBe(true);
      expect(await readdir(join(dir, part))).toEqual(['model.json']);
    }
    for (const f of await readdir(join(dir, 'segments'))) expect(listed.has(`segments/${f}`)).toBe(true);
    // Segments tile the layers with weights, cut at the exported cuts.
    const onDisk = (await readdir(join(dir, 'segments'))).sort((a, b) => parseInt(a) - parseInt(b));
    expect(manifest.segments.map((s) => s.path)).toEqual(onDisk.map((f) => `segments/${f}`));
  });

  it('stores each weight once: the export of a model with several cuts is within 10 % of its weight bytes', async () => {
    // tinychain at 96×96: its first dense layer (1.2 MB) dominates, as weights do in the real nets, beside 14 small topology files.
    const model = ZOO.tinychain.build({ inputSize: 96 });
    const analysis = analyzeModel(model, { name: 'tinychain' });
    const weightBytes = analysis.layers.reduce((s, l) => s + l.weightBytes, 0);
    const cuts = analysis.candidates.map((c) => c.cut);
    expect(cuts.length).toBeGreaterThanOrEqual(5);
    const r = await exportModel(model, join(root, 'once'), { name: 'tinychain' });
    const segmentBytes = r.manifest.segments.reduce((s, seg) => s + r.manifest.files[seg.path]!.bytes, 0);
    expect(segmentBytes).toBe(weightBytes);
    expect(r.totalBytes).toBeGreaterThan(weightBytes);
    expect(r.totalBytes / weightBytes).toBeLessThanOrEqual(1.1);
    model.dispose();
  });

  it('exports tails that hold only the tail weights, and heads and tails that reproduce the model', async () => {
    const model = ZOO.tinydag.build();
    const analysis = analyzeModel(model, { name: 'tinydag' });
    const out = join(root, 'weights');
    const r = await exportModel(model, out, { name: 'tinydag' });
    const x = seededInput(model, 1);
    const expected = model.predict(x) as tf.Tensor;
    for (const c of analysis.candidates) {
      // The segments a tail reads sum to exactly the tail layers' weight bytes, and its model.json names exactly them.
      const segments = tailSegments(r.manifest, c.cut);
      expect(segments.reduce((s, seg) => s + r.manifest.files[seg.path]!.bytes, 0), `cut ${c.cut}`).toBe(c.tailWeightBytes);
      const json = JSON.parse(await readFile(join(r.dir, 'tails', String(c.cut), 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
      expect(json.weightsManifest.flatMap((g) => g.paths)).toEqual(segments.map((seg) => seg.path));
      expect(partFiles(r.manifest, `tails/${c.cut}`)).toEqual([`tails/${c.cut}/model.json`, ...segments.map((seg) => seg.path)]);
      const tail = await loadModelFromDir(join(r.dir, 'tails', String(c.cut)), r.dir);
      const tailLayers = new Set(analysis.layers.filter((l) => l.index >= c.cut && l.weightBytes > 0).map((l) => l.name));
      expect(new Set(tail.weights.map((w) => w.originalName.split('/')[0]))).toEqual(tailLayers);
      const head = c.cut > 0 ? await loadModelFromDir(join(r.dir, 'heads', String(c.cut)), r.dir) : null;
      const mid = head ? (head.predict(x) as tf.Tensor) : x;
      expect(maxAbsDiff(expected, tail.predict(mid) as tf.Tensor), `cut ${c.cut}`).toBeLessThanOrEqual(1e-6);
    }
    // The full model reads every segment and reproduces itself.
    const full = await loadModelFromDir(join(r.dir, 'full'), r.dir);
    expect(maxAbsDiff(expected, full.predict(x) as tf.Tensor)).toBe(0);
  });

  it('skips an export that is up to date, and rewrites only what changed', async () => {
    const model = ZOO.tinychain.build();
    const out = join(root, 'uptodate');
    const first = await exportModel(model, out, { name: 'tinychain', cuts: [0, 2, 4] });
    expect(first.written).toEqual(['segments/0-2.bin', 'segments/2-4.bin', 'segments/4-7.bin', 'full', 'tails/0', 'tails/2', 'heads/2', 'tails/4', 'heads/4']);
    const dir = first.dir;
    const files = Object.keys(first.manifest.files);
    const before = await mtimes(dir, [...files, 'manifest.json']);

    // Same model, same cuts: nothing is written.
    const again = await exportModel(ZOO.tinychain.build(), out, { name: 'tinychain', cuts: [4, 2, 0] });
    expect(again.upToDate).toBe(true);
    expect(again.written).toEqual([]);
    expect(await mtimes(dir, [...files, 'manifest.json'])).toEqual(before);

    // Fewer cuts: the others are removed; segment 0-2 is kept, the others merge into 2-7, and the parts naming them are rewritten.
    const fewer = await exportModel(model, out, { name: 'tinychain', cuts: [2] });
    expect(fewer.upToDate).toBe(false);
    expect(fewer.written).toEqual(['segments/2-7.bin', 'full', 'tails/2']);
    expect(fewer.reused).toEqual(['segments/0-2.bin', 'heads/2']);
    expect((await readdir(join(dir, 'tails'))).sort()).toEqual(['2']);
    expect((await readdir(join(dir, 'heads'))).sort()).toEqual(['2']);
    expect((await readdir(join(dir, 'segments'))).sort()).toEqual(['0-2.bin', '2-7.bin']);
    expect((await readManifest(dir))!.exportedCuts).toEqual([2]);
    expect(await verifyExport(dir, (await readManifest(dir))!)).toEqual([]);

    // A damaged file makes its part stale; only that part is rewritten.
    await truncate(join(dir, 'tails/2/model.json'), 10);
    const repaired = await exportModel(model, out, { name: 'tinychain', cuts: [2] });
    expect(repaired.written).toEqual(['tails/2']);
    await truncate(join(dir, 'segments/2-7.bin'), 10);
    expect(await verifyExport(dir, repaired.manifest)).toEqual(['segments/2-7.bin']);
    expect((await exportModel(model, out, { name: 'tinychain', cuts: [2] })).written).toEqual(['segments/2-7.bin']);
    expect(await verifyExport(dir, repaired.manifest)).toEqual([]);

    // Other weights (another seed): a different fingerprint rewrites everything.
    const reseeded = await exportModel(ZOO.tinychain.build({ seed: 2 }), out, { name: 'tinychain', cuts: [2] });
    expect(reseeded.written).toEqual(['segments/0-2.bin', 'segments/2-7.bin', 'full', 'tails/2', 'heads/2']);
    expect(reseeded.manifest.fingerprint).not.toBe(repaired.manifest.fingerprint);

    // --force rewrites even when up to date.
    const forced = await exportModel(ZOO.tinychain.build({ seed: 2 }), out, { name: 'tinychain', cuts: [2], force: true });
    expect(forced.written).toEqual(['segments/0-2.bin', 'segments/2-7.bin', 'full', 'tails/2', 'heads/2']);
  });

  it('can leave the heads out, and refuses a cut that is not a candidate', async () => {
    const model = ZOO.tinydag.build();
    const out = join(root, 'noheads');
    const r = await exportModel(model, out, { name: 'tinydag', cuts: [3], heads: false });
    expect(r.written).toEqual(['segments/0-3.bin', 'segments/3-28.bin', 'full', 'tails/3']);
    await expect(exportModel(model, out, { name: 'tinydag', cuts: [4] })).rejects.toThrow(/cut 4 is not a candidate of tinydag; candidates: 0, 1, 2, 3/);
    await expect(exportModel(model, out, { name: '../x' })).rejects.toThrow(/cannot name a folder/);
  });
});

describe('layer order across save and reload', () => {
  it('is the same for a reloaded model, so a manifest describes the artifacts it lists', async () => {
    // GoogLeNet has the widest branching (4 parallel paths per block).
    const model = ZOO.googlenet.build({ inputSize: 32 });
    const reloaded = await loadModelFromFiles(await modelToFiles(model));
    const [a, b] = [analyzeModel(model, { name: 'g', maxCrossing: 4 }), analyzeModel(reloaded, { name: 'g', maxCrossing: 4 })];
    expect(b.layers).toEqual(a.layers);
    expect(b.candidates).toEqual(a.candidates);
    model.dispose();
    reloaded.dispose();
  });
});

describe('splitToDir', () => {
  it('writes head/ and tail/ and reports their bytes; at cut 0 there is no head', async () => {
    const model = ZOO.tinychain.build();
    const analysis = analyzeModel(model);
    const out = join(root, 'split');
    const r = await splitToDir(model, analysis, 3, out);
    expect(r.head!.weightBytes).toBe(analysis.layers.filter((l) => l.index < 3).reduce((s, l) => s + l.weightBytes, 0));
    expect(r.tail.weightBytes).toBe(analysis.candidates[3]!.tailWeightBytes);
    expect((await readdir(join(out, 'head'))).sort()).toEqual([...r.head!.files].sort());
    const zero = await splitToDir(model, analysis, 0, out);
    expect(zero.head).toBeNull();
    expect((await readdir(out)).sort()).toEqual(['tail']);
    expect(zero.tail.weightBytes).toBe(analysis.layers.reduce((s, l) => s + l.weightBytes, 0));
  });
});
