import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlanRecord } from '../../core/planner';
import { handScenario } from '../core/hand-scenario';
import { offload } from './spawn-offload';

// Hand figures (test/core/cost.test.ts): latency cut0 66.5, cut1 228.5, cut2 183.5, L 120 ms.

let dir: string;
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'offload-plan-'));
});

/** A single-line error with no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('offload plan --scenario', () => {
  it('plans one scenario as a docs/cost-model.md §6 record with --json', async () => {
    const path = file('one.json', handScenario());
    const r = await offload(['plan', '--scenario', path, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const record = JSON.parse(r.stdout) as PlanRecord;
    expect(record).toMatchObject({ model: 'hand', objective: 'latency', cut: 0, target: 'cloud', function: 'offload-hand-0', feasible: true, L: 3 });
    expect(record.predicted.latencyMs).toBeCloseTo(66.5, 10);
    expect(record.candidates.map((c) => c.cut)).toEqual([0, 1, 2, 3]);
    expect(Object.keys(record.candidates[0]!)).toEqual(
      expect.arrayContaining(['cut', 'layer', 'sentBytes', 'headMs', 'upMs', 'tailMs', 'pCold', 'coldMs', 'downMs', 'latencyMs', 'energyJ', 'costUSD', 'feasible', 'reasons']),
    );
  });

  it('plans an array of scenarios into an array in the same order', async () => {
    const cost = { ...handScenario(), objective: 'cost' };
    const throttled = handScenario();
    throttled.cloud.functions['0'] = { idleWarm: 1, inFlight: 5, limit: 5 };
    const path = file('many.json', [handScenario(), cost, throttled]);
    const r = await offload(['plan', '--scenario', path, '--json']);
    expect(r.code).toBe(0);
    const records = JSON.parse(r.stdout) as PlanRecord[];
    // latency → cut 0; cost → device-only (0 USD); cut 0 throttled → L at 120 ms
    expect(records.map((p) => p.cut)).toEqual([0, 3, 3]);
    expect(records[2]!.candidates[0]!.reasons).toEqual(['throttled']);
  });

  it('prints a table with the chosen row marked without --json', async () => {
    const path = file('table.json', handScenario());
    const r = await offload(['plan', '--scenario', path]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/chosen: cut 0 .*66\.5 ms/);
    const marked = lines.filter((l) => l.startsWith('*'));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatch(/^\*\s+0\s+input\s+10000/);
    expect(lines.some((l) => /^\s+2\s+conv2/.test(l))).toBe(true);
  });

  it('names the field of an invalid element as [i].path, one line, exit 1', async () => {
    const bad = handScenario();
    bad.network = { uplinkMbps: 0, downlinkMbps: 16, rttMs: 50 };
    const path = file('bad.json', [handScenario(), bad]);
    const r = await offload(['plan', '--scenario', path, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectOneLineError(r.stderr, /^offload: \[1\]\.network\.uplinkMbps: must be > 0$/);
  });

  it('names the field of a single invalid scenario', async () => {
    const bad = handScenario();
    bad.cloud.functions['7'] = { idleWarm: 0, inFlight: 0, limit: 1 };
    const r = await offload(['plan', '--scenario', file('bad1.json', bad)]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /^offload: cloud\.functions\.7: cut 7 is not a candidate$/);
  });

  it('reports a missing file clearly', async () => {
    const r = await offload(['plan', '--scenario', join(dir, 'nope.json')]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /^offload: cannot read scenario file .*nope\.json: no such file$/);
  });

  it('reports invalid JSON with its line', async () => {
    const r = await offload(['plan', '--scenario', file('broken.json', '{\n  "model": {,\n}')]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /^offload: scenario file .*broken\.json is not valid JSON \(line 2, column \d+\)/);
  });

  it('applies override flags: network preset with its radio, device class, battery', async () => {
    const path = file('override.json', handScenario());
    const r = await offload(['plan', '--scenario', path, '--network', '3g', '--device', 'flagship-phone', '--battery', '0.1', '--json']);
    expect(r.code).toBe(0);
    const record = JSON.parse(r.stdout) as PlanRecord;
    // 3G uplink 1.1 Mbit/s: cut 0 sends 10000 B → 8e4 / 1.1e6 s = 72.727… ms
    expect(record.candidates[0]!.upMs).toBeCloseTo(80 / 1.1, 9);
    // flagship computeW 3.5: device-only energy 3.5 · 120 / 1000 = 0.42 J
    expect(record.candidates[3]!.energyJ).toBeCloseTo(0.42, 12);
    expect(record.battery).toMatchObject({ level: 0.1, weight: 0 });
  });

  it('reads the scenario from stdin with -', async () => {
    const repo = fileURLToPath(new URL('../../', import.meta.url));
    const child = spawn(process.execPath, ['bin/offload.js', 'plan', '--scenario', '-', '--json'], { cwd: repo });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin.end(JSON.stringify(handScenario()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as PlanRecord).cut).toBe(0);
  });

  it('rejects a bad flag value as a usage error (exit 2)', async () => {
    const r = await offload(['plan', '--scenario', file('x.json', handScenario()), '--battery', '1.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--battery must be a level in 0\.\.1/);
  });

  it('rejects an unknown network preset naming the flag', async () => {
    const r = await offload(['plan', '--scenario', file('y.json', handScenario()), '--network', '5g']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /^offload: --network: unknown preset "5g" \(one of 3g, 4g, wifi, or a JSON file\)$/);
  });
});

describe('offload plan --model (flag form)', () => {
  it('says which profile is missing instead of inventing numbers (the flag form itself: test/cli/plan-profile.test.ts)', async () => {
    const r = await offload(['plan', '--model', 'tinychain', '--network', '4g', '--device', 'flagship-phone']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectOneLineError(r.stderr, /^offload: no wasm profile of "tinychain".*offload profile tinychain --backend wasm/);
  });

  it('asks for a scenario or a model when given neither', async () => {
    const r = await offload(['plan']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /give --scenario FILE/);
  });
});
