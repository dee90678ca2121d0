import { describe, expect, it, vi } from 'vitest';
import { offload } from './spawn-offload';

// This file builds zoo networks through the real CLI: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

interface CutsJson {
  model: string;
  backend: string;
  maxCrossing: number;
  layers: number;
  candidates: Array<{ cut: number; layer: string; crossing: Array<{ name: string; shape: number[]; bytes: number }>; crossingBytes: number; headFlops: number; tailFlops: number; tailWeightBytes: number }>;
}

describe('offload cuts', () => {
  it('--json gives one row per candidate with what crosses it', async () => {
    const r = await offload(['cuts', 'tinydag', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as CutsJson;
    expect(out.model).toBe('tinydag');
    expect(out.maxCrossing).toBe(1);
    expect(out.candidates[0]).toMatchObject({ cut: 0, layer: 'input', crossing: [{ name: 'input', shape: [16, 16, 3], bytes: 3072 }], crossingBytes: 3072, headFlops: 0 });
    for (const c of out.candidates) {
      expect(Object.keys(c).sort()).toEqual(['crossing', 'crossingBytes', 'cut', 'headFlops', 'layer', 'tailFlops', 'tailWeightBytes']);
      expect(c.crossing).toHaveLength(1);
    }
    expect(out.candidates.length).toBeLessThan(out.layers);
  });

  it('--max-crossing 3 opens the cuts inside the blocks', async () => {
    const r = await offload(['cuts', 'tinydag', '--max-crossing', '3', '--json']);
    const out = JSON.parse(r.stdout) as CutsJson;
    expect(out.candidates).toHaveLength(out.layers);
    expect(Math.max(...out.candidates.map((c) => c.crossing.length))).toBe(3);
  });

  it('builds a zoo network at a reduced --input-size', async () => {
    const r = await offload(['cuts', 'resnet50', '--input-size', '64', '--json']);
    const out = JSON.parse(r.stdout) as CutsJson;
    expect(out.candidates[0]!.crossing[0]!.shape).toEqual([64, 64, 3]);
  });

  it('prints a table without --json', async () => {
    const r = await offload(['cuts', 'tinychain']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^cut\s+layer\s+crossing\s+crossingBytes\s+headMACs\s+tailMACs\s+tailWeights$/);
    expect(r.stdout).toMatch(/^\s*0\s+input\s+input \[16×16×3\]/m);
    expect(r.stderr).toMatch(/backend: /);
  });

  it('names the zoo for an unknown model, in one line, exit 1', async () => {
    const r = await offload(['cuts', 'nosuchnet']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^offload: unknown model "nosuchnet".*alexnet, vgg16, resnet50, mobilenetv2, googlenet, tinychain, tinydag/);
  });

  it('rejects a bad --max-crossing as a usage error (exit 2)', async () => {
    const r = await offload(['cuts', 'tinydag', '--max-crossing', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-crossing must be a positive integer/);
  });

  it('has --help', async () => {
    const r = await offload(['cuts', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--max-crossing <n>/);
    expect(r.stdout).toMatch(/--json/);
  });
});
