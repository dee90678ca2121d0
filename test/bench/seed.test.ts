import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode, type NodeRun } from '../../testkit/node-process';
import { killWhenTestEnds } from '../../testkit/processes';

/** `npm run bench:seed -- …` as a real process (tsx through node, as the npm script does). */
function seedBench(args: string[]): Promise<NodeRun> {
  return runNode(['--import', 'tsx', 'bench/seed.ts', ...args], { onSpawn: killWhenTestEnds });
}

describe('npm run bench:seed', () => {
  const out = mkdtempSync(join(tmpdir(), 'offload-seed-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes the markdown table and the SVG chart and prints the headline as JSON', async () => {
    // Act
    const r = await seedBench(['--draws', '2', '--out', out, '--json']);
    // Assess
    expect(r.stderr).toBe('');
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

  it('rejects a bad --draws with a one-line usage error and exit 2', async () => {
    // Act
    const r = await seedBench(['--draws', '0', '--out', out]);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining('--draws must be a positive integer (got "0")')]);
  });
});
