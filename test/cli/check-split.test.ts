import { describe, expect, it, vi } from 'vitest';
import { offload } from './spawn-offload';

// This file runs every cut of a zoo network through the real CLI: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

interface Row { cut: number; layer: string; dtype: string; maxAbsDiff: number; maxRelDiff: number; crossingBytes: number; sentBytes: number; backend: string }

describe('offload check-split', () => {
  it('--json prints an array of per-cut differences; float32 is within 1e-4 (exit 0)', async () => {
    const r = await offload(['check-split', 'tinydag', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Row[];
    expect(rows.map((x) => x.cut)).toEqual([0, 1, 2, 3, 9, 10, 19, 20, 26, 27]);
    for (const x of rows) {
      expect(x.dtype).toBe('float32');
      expect(x.maxAbsDiff).toBeLessThanOrEqual(1e-4);
      expect(x.sentBytes).toBeGreaterThan(x.crossingBytes);
    }
  });

  it('reports int8 on chosen cuts with smaller payloads', async () => {
    const r = await offload(['check-split', 'resnet50', '--input-size', '32', '--cuts', '0,18', '--dtype', 'int8', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Row[];
    expect(rows.map((x) => [x.cut, x.layer])).toEqual([[0, 'input'], [18, 'layer1_0_relu3']]);
    for (const x of rows) {
      expect(x.dtype).toBe('int8');
      expect(x.sentBytes).toBeLessThan(x.crossingBytes / 3);
      expect(x.maxRelDiff).toBeLessThan(0.2);
    }
  });

  it('prints a table without --json and rejects an unknown dtype as a usage error', async () => {
    const table = await offload(['check-split', 'tinychain', '--cuts', '2']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^cut\s+layer\s+maxAbsDiff/);
    const bad = await offload(['check-split', 'tinychain', '--dtype', 'bf16']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--dtype must be one of float32, float16, int8/);
  });

  it('refuses a cut that is not a candidate, listing the candidates', async () => {
    const r = await offload(['check-split', 'tinydag', '--cuts', '0,5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^offload: cut 5 is not a candidate of tinydag; candidates: 0, 1, 2, 3, 9, 10, 19, 20, 26, 27$/m);
  });
});
