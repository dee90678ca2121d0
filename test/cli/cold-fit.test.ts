/**
 * `offload cold-fit` through the real CLI: records the simulator wrote under a
 * known cold-start line give that line back (the simulated cold request pays
 * exactly the line over the warm one), and its `--cold-start` value goes
 * straight into `offload simulate`. Bad input is a one-line usage error.
 * test/e2e/cold-fit.test.ts fits records of the real local stack.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offload } from './spawn-offload';

const dir = mkdtempSync(join(tmpdir(), 'offload-cold-fit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface FitJson {
  points: { model: string; cut: number; tailMiB: number; cold: number; warm: number; coldStartMs: number }[];
  fit: { coldBaseMs: number; coldMsPerMB: number; r2: number; n: number };
  coldStart: string;
  env: { COLD_BASE_MS: number; COLD_MS_PER_MB: number };
}

/** Simulated records of mobilenetv2 at three static cuts under `coldStart`. */
async function simulated(coldStart: string, file: string): Promise<string> {
  const out = join(dir, file);
  const r = await offload(['simulate', '--model', 'mobilenetv2', '--traffic', 'steady:rate=2', '--devices', '20', '--requests', '100', '--policy', 'cut:0,cut:125,cut:156', '--cold-start', coldStart, '--out', out, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

describe('offload cold-fit', () => {
  it.each([
    ['300+12', 300, 12],
    ['150+3.5', 150, 3.5],
  ])('gives back the line the simulator ran under (%s), ready for --cold-start', async (given, base, perMiB) => {
    const records = await simulated(given, `sim-${given}.jsonl`);
    const r = await offload(['cold-fit', records, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const fit = JSON.parse(r.stdout) as FitJson;
    expect(fit.points.map((p) => p.cut)).toEqual([0, 125, 156]);
    for (const p of fit.points) {
      expect(p.cold).toBeGreaterThan(0);
      expect(p.warm).toBeGreaterThan(0);
    }
    expect(fit.fit.coldBaseMs).toBeCloseTo(base, 6);
    expect(fit.fit.coldMsPerMB).toBeCloseTo(perMiB, 6);
    expect(fit.coldStart).toBe(given);
    expect(fit.env).toEqual({ COLD_BASE_MS: base, COLD_MS_PER_MB: perMiB });
    // The value goes into simulate as printed.
    const sim = await offload(['simulate', '--model', 'mobilenetv2', '--traffic', 'steady:rate=1', '--devices', '5', '--requests', '20', '--policy', 'cut:0', '--cold-start', fit.coldStart]);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toContain(`cold starts: ${base} ms + ${perMiB} ms/MiB of tail weights (given)`);
  });

  it('prints the points, the line and both ways to use it; --model keeps one model; two files are one record set', async () => {
    const records = await simulated('300+12', 'sim-text.jsonl');
    const lines = readFileSync(records, 'utf8').trimEnd().split('\n');
    const [a, b] = [join(dir, 'half-a.jsonl'), join(dir, 'half-b.jsonl')];
    writeFileSync(a, `${lines.filter((_, i) => i % 2 === 0).join('\n')}\n`);
    writeFileSync(b, `${lines.filter((_, i) => i % 2 === 1).join('\n')}\n`);
    const r = await offload(['cold-fit', a, b, '--model', 'mobilenetv2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/model\s+cut\s+tail MiB\s+cold n\s+warm n\s+cold RTT ms\s+warm RTT ms\s+cold start ms\s+line ms/);
    // cut 0: 13.50 MiB, 300 + 12 × 13.50 = 462 ms
    expect(r.stdout).toMatch(/^mobilenetv2\s+0\s+13\.50\s+\d+\s+\d+\s+\d+\s+\d+\s+462\s+462$/m);
    expect(r.stdout).toContain('line: cold start = 300 ms + 12 ms/MiB of tail weights (least squares over 3 cuts, r² 1.000)');
    expect(r.stdout).toContain('--cold-start 300+12');
    expect(r.stdout).toContain('COLD_BASE_MS=300 COLD_MS_PER_MB=12');
  });
});

describe('offload cold-fit: bad input is a one-line usage error', () => {
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  let record: Record<string, unknown>;
  let sim: string;
  beforeAll(async () => {
    sim = await simulated('300+12', 'sim-bad.jsonl');
    record = JSON.parse(readFileSync(sim, 'utf8').split('\n')[0]!) as Record<string, unknown>;
  });

  it.each([
    [() => [join(dir, 'missing.jsonl')], /cannot read .*missing\.jsonl: no such file/],
    [() => [dir], /cannot read .*: is a directory/],
    [() => [file('empty.jsonl', '\n\n')], /empty\.jsonl holds no records/],
    [() => [file('cut-off.jsonl', `${JSON.stringify(record)}\n{"i":1,"t":`)], /cut-off\.jsonl line 2: not JSON \(.*\) \(expected the records offload load --out writes/],
    [() => [file('trace.jsonl', '{"t":0,"device":"d0","class":"flagship-phone","network":"4g","model":"mobilenetv2"}\n')], /trace\.jsonl line 1\.i: .*expected the records offload load --out writes/],
    [() => [sim, '--model', 'nosuchnet'], /--model: unknown model "nosuchnet"/],
    [() => [sim, '--model', 'resnet50'], /--model: no records of resnet50 in .*sim-bad\.jsonl \(they hold mobilenetv2\)/],
    [() => [file('unprofiled.jsonl', `${JSON.stringify({ ...record, model: 'tinychain' })}\n`)], /records of model tinychain: no wasm profile of "tinychain"/],
    [() => [file('bad-cut.jsonl', `${JSON.stringify({ ...record, cut: 37 })}\n`)], /records of mobilenetv2 cut 37: not a candidate cut of its profile/],
    [() => [file('one-cut.jsonl', `${readFileSync(sim, 'utf8').split('\n').filter((l) => l.includes('"policy":"cut:0"')).join('\n')}\n`)], /at least two different tail sizes; served: mobilenetv2 cut 0 \(13\.50 MiB\): \d+ cold, \d+ warm$/],
    [() => [], /missing required argument 'files'/],
  ])('offload cold-fit %#', async (args, message) => {
    const r = await offload(['cold-fit', ...args()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints a line with a negative slope but refuses it (exit 1), without the ways to use it', async () => {
    // The bigger tail starting faster: noise, not a cold start.
    const served = (cut: number, cold: boolean, roundTripMs: number) =>
      JSON.stringify({ ...record, cut, cold, target: 'cloud', status: 200, fallback: null, error: null, measured: { ...(record.measured as object), roundTripMs } });
    const path = file('noisy.jsonl', `${[served(0, true, 150), served(0, false, 100), served(156, true, 500), served(156, false, 100)].join('\n')}\n`);
    const r = await offload(['cold-fit', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/line: cold start = [\d.]+ ms \+ -[\d.]+ ms\/MiB/);
    expect(r.stdout).not.toContain('--cold-start');
    expect(r.stderr.trim()).toMatch(/^offload: the fitted line has a negative slope: .*add cuts with more different tail weights/);
    const json = await offload(['cold-fit', path, '--json']);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { coldStart?: string }).coldStart).toBeUndefined();
  });
});
