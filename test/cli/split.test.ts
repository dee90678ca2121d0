import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offload } from './spawn-offload';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'offload-cli-split-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('offload split', () => {
  it('writes head/ and tail/ and reports their bytes', async () => {
    const out = join(root, 'a');
    const r = await offload(['split', 'tinychain', '--cut', '3', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { cut: number; backend: string; head: { weightBytes: number; files: string[] }; tail: { weightBytes: number; files: string[] } };
    expect(res.cut).toBe(3);
    expect((await readdir(join(out, 'head'))).sort()).toEqual([...res.head.files].sort());
    expect((await readdir(join(out, 'tail'))).sort()).toEqual([...res.tail.files].sort());
    // tinychain: conv1 3·3·3·8+8 = 224 and conv2 3·3·8·16+16 = 1168 weights in the head (pool1 between them).
    expect(res.head.weightBytes).toBe((224 + 1168) * 4);
    expect(res.head.weightBytes + res.tail.weightBytes).toBe(9946 * 4);
  });

  it('refuses a cut that is not a candidate, listing the candidates', async () => {
    const r = await offload(['split', 'tinydag', '--cut', '4', '--out', join(root, 'b')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('offload: cut 4 is not a candidate of tinydag; candidates: 0, 1, 2, 3, 9, 10, 19, 20, 26, 27');
  });

  it('requires --cut and --out (usage error)', async () => {
    const r = await offload(['split', 'tinydag', '--out', join(root, 'c')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--cut/);
  });
});
