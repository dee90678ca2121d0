import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseManifest } from '../../core/manifest';
import { offload } from './spawn-offload';

// This file exports zoo networks through the real CLI: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'offload-cli-export-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('offload export', () => {
  it('writes the layout for the chosen cuts, then finds it up to date', async () => {
    const out = join(root, 'e');
    const first = await offload(['export', 'tinydag', '--out', out, '--cuts', '0,9', '--json']);
    expect(first.code).toBe(0);
    const res = JSON.parse(first.stdout) as { upToDate: boolean; exportedCuts: number[]; written: string[]; dir: string };
    expect(res).toMatchObject({
      upToDate: false,
      exportedCuts: [0, 9],
      written: ['segments/0-9.bin', 'segments/9-28.bin', 'full', 'tails/0', 'tails/9', 'heads/9'],
    });
    expect((await readdir(res.dir)).sort()).toEqual(['full', 'heads', 'manifest.json', 'segments', 'tails']);
    const manifest = parseManifest(JSON.parse(await readFile(join(res.dir, 'manifest.json'), 'utf8')));
    expect(manifest.exportedCuts).toEqual([0, 9]);
    expect(manifest.source).toEqual({ kind: 'zoo' });

    const second = await offload(['export', 'tinydag', '--out', out, '--cuts', '0,9']);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/is up to date \(2 cuts\); nothing written/);
  });

  it('exports every candidate without --cuts', async () => {
    const out = join(root, 'all');
    const r = await offload(['export', 'tinychain', '--out', out, '--no-heads', '--name', 'chain-v2', '--json']);
    const res = JSON.parse(r.stdout) as { exportedCuts: number[]; written: string[]; dir: string };
    expect(res.dir).toBe(join(out, 'chain-v2'));
    expect(res.exportedCuts).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(res.written.filter((p) => p.startsWith('heads/'))).toEqual([]);
  });

  it('reads a user model from a folder, and names a missing or corrupt file', async () => {
    // Prepare: a tfjs layers folder from a real export.
    const out = join(root, 'folder');
    await offload(['split', 'tinychain', '--cut', '0', '--out', out]);
    const dir = join(out, 'tail');
    // Act + Assess: it loads from the folder.
    const ok = await offload(['cuts', dir, '--json']);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { source: string; candidates: unknown[] }).candidates).toHaveLength(7);

    const weightFile = (await readdir(dir)).find((f) => f.endsWith('.bin'))!;
    const weights = await readFile(join(dir, weightFile));
    await unlink(join(dir, weightFile));
    const missing = await offload(['export', dir, '--out', join(root, 'x')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(new RegExp(`^offload: .*${weightFile}`));

    await writeFile(join(dir, weightFile), weights.subarray(0, 100));
    const short = await offload(['check-split', dir]);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(new RegExp(`^offload: .*${weightFile}`));

    await writeFile(join(dir, weightFile), weights);
    await writeFile(join(dir, 'model.json'), '{ not json');
    const corrupt = await offload(['cuts', dir]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/^offload: .*model\.json/);

    await unlink(join(dir, 'model.json'));
    const gone = await offload(['cuts', dir]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^offload: model\.json: missing/);
  });
});
