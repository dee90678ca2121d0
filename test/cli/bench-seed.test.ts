import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { offload } from './spawn-offload';

describe('offload bench seed', () => {
  it('writes the markdown table and the SVG chart and prints the headline as JSON', async () => {
    const out = mkdtempSync(join(tmpdir(), 'offload-seed-'));
    const r = await offload(['bench', 'seed', '--draws', '2', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { paper: { speedupAvg: number }; summary: { fleet: string; objective: string; baseline: string; average: number; max: number }[] };
    expect(json.paper.speedupAvg).toBe(1.42);
    // 2 fleets × 2 objectives × 4 baselines; the optimum is never worse than a baseline.
    expect(json.summary).toHaveLength(16);
    for (const s of json.summary) expect(s.average).toBeGreaterThanOrEqual(1 - 1e-9);
    const md = readFileSync(join(out, 'seed.md'), 'utf8');
    expect(md).toMatch(/^# The seed experiment, reproduced/);
    expect(md).toContain('| vgg16 | wifi | flagship-phone |');
    expect(existsSync(join(out, 'seed.svg'))).toBe(true);
    expect(readFileSync(join(out, 'seed.svg'), 'utf8')).toMatch(/^<svg[\s\S]*mobilenetv2[\s\S]*<\/svg>$/);
  });
});
