/**
 * `offload load` as a user runs it, against a real local stack: a short run
 * (seconds) whose JSONL records and summary are checked against each other
 * and against what the stack did; Ctrl-C stops it and keeps what was done.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLoadRecords, summarize, type LoadRecord, type LoadSummary } from '../../core/load-record';
import { CLOUD_DEFAULTS } from '../../core/presets';
import { runOffload, spawnOffload, startE2EStack, until, type E2EStack } from './stack-fixture';

/** JSON with every number to 9 significant digits (NaN becomes null, as in the CLI's JSON). */
function rounded(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? Number(x.toPrecision(9)) : x)));
}

function readRecords(file: string): LoadRecord[] {
  return parseLoadRecords(readFileSync(file, 'utf8'), file);
}

describe('offload load against the local stack', () => {
  let e: E2EStack;
  const dir = mkdtempSync(join(tmpdir(), 'offload-e2e-load-'));

  beforeAll(async () => {
    e = await startE2EStack({ keepAliveMs: 60_000 });
  });
  afterAll(async () => {
    await e?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one valid record per request and a summary that matches them', async () => {
    // Prepare
    const out = join(dir, 'run.jsonl');
    const trace = join(dir, 'run.trace.jsonl');
    // Act
    const r = await runOffload([
      'load', '--url', e.stack.url, '--model', 'tinychain', '--policy', 'planner,cloud-only,cut:4',
      '--arrival', 'steady', '--rate', '4', '--requests', '5', '--duration', '5', '--devices', '2',
      '--out', out, '--trace-out', trace, '--json',
    ]);
    // Assess
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.code).toBe(0);
    const records = readRecords(out);
    const summary = JSON.parse(r.stdout) as { requestsPerPolicy: number; stopped: boolean; summaries: LoadSummary[] };
    const n = summary.requestsPerPolicy;
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(5);
    expect(readFileSync(trace, 'utf8').trim().split('\n')).toHaveLength(n);
    expect(records).toHaveLength(3 * n);
    expect(summary.stopped).toBe(false);
    for (const policy of ['planner', 'cloud-only', 'cut:4']) {
      const mine = records.filter((x) => x.policy === policy);
      expect(mine).toHaveLength(n);
      const s = summary.summaries.find((x) => x.policy === policy)!;
      // Same figures up to the order of summation (records are summed as they finished there, by index here).
      expect(rounded(s)).toEqual(rounded(summarize(mine)));
    }
    for (const x of records) {
      expect(x.error).toBeNull();
      expect(x.L).toBe(7);
      // A plan the planner function failed to give means device-only without a prediction, as the client does.
      const planFailed = x.policy === 'planner' && x.planCut === null;
      expect(x.predicted === null).toBe(planFailed);
      expect(x.measured.latencyMs).toBeGreaterThan(0);
      // Only the planner asks for a plan per request.
      expect(x.measured.planMs === null).toBe(x.policy !== 'planner');
      if (x.policy === 'cloud-only') expect(x.cut).toBe(0);
      if (x.policy === 'cut:4') expect(x.cut).toBe(4);
      if (x.policy === 'planner') expect(x.cut).toBe(planFailed ? 7 : x.planCut);
      if (x.target === 'cloud') {
        // The tail ran for real on the crossing tensors and its answer is the full model's.
        expect(x.status).toBe(200);
        expect(x.output).toBe('match');
        expect(x.measured.computeMs).not.toBeNull();
        expect(x.measured.roundTripMs!).toBeGreaterThan(0);
        expect(x.measured.latencyMs).toBeGreaterThanOrEqual(x.measured.roundTripMs! + x.measured.headMs);
        expect(x.measured.costUSD).toBeGreaterThan(0);
      } else if (x.fallback) {
        expect(['throttled', 'server', 'timeout', 'network']).toContain(x.fallback);
        expect(x.measured.deviceTailMs).not.toBeNull();
        expect(x.measured.costUSD).toBe(0);
      }
    }
    // What the records say the cloud served, the emulator counted (cut 0 and cut 4 of tinychain got nothing else).
    const state = (await (await fetch(`${e.stack.url}/_local/functions`)).json()) as { functions: { name: string; memoryMB: number; invocations: number; throttles: number }[] };
    // Each served request is billed at the memory size of the function that served it (cut 4 is deployed at 1024 MB, the others at 1769).
    const memoryOf = (cut: number) => state.functions.find((f) => f.name === `offload-e2e-tinychain-${cut}`)!.memoryMB;
    expect(memoryOf(4)).toBe(1024);
    expect(memoryOf(0)).toBe(1769);
    for (const x of records.filter((r) => r.target === 'cloud')) {
      const billedS = ((x.measured.initMs ?? 0) + x.measured.computeMs!) / 1000;
      const expected = CLOUD_DEFAULTS.requestUSD + ((CLOUD_DEFAULTS.gbSecondUSD * memoryOf(x.cut)) / 1024) * billedS;
      expect(x.measured.costUSD).toBeCloseTo(expected, 15);
    }
    for (const cut of [0, 4]) {
      const fn = state.functions.find((f) => f.name === `offload-e2e-tinychain-${cut}`)!;
      const sent = records.filter((x) => x.cut === cut && (x.status !== null || x.fallback !== null));
      expect(fn.invocations).toBe(sent.length); // the emulator counts throttled invocations too
      expect(fn.throttles).toBe(sent.filter((x) => x.fallback === 'throttled').length);
    }
  }, 240_000);

  it('this-machine without a profile of the model is a clear error', async () => {
    const r = await runOffload(['load', '--url', e.stack.url, '--model', 'tinychain', '--device', 'this-machine', '--requests', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no wasm profile of "tinychain"/);
    expect(r.stderr).not.toMatch(/unexpected error/);
  }, 120_000);

  it('Ctrl-C stops the run, keeps the records done, prints the summary and exits non-zero', async () => {
    const out = join(dir, 'stopped.jsonl');
    const p = spawnOffload([
      'load', '--url', e.stack.url, '--model', 'tinychain', '--policy', 'cut:2,cloud-only',
      '--arrival', 'sparse', '--gap-ms', '1500', '--requests', '20', '--duration', '60', '--out', out,
    ]);
    await until(() => existsSync(out) && readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).length >= 2, 'two records', 120_000);
    p.child.kill('SIGINT');
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr()).toMatch(/interrupted: \d+ requests recorded, \d+ not started/);
    const records = readRecords(out);
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.length).toBeLessThan(40);
    expect(p.stdout()).toMatch(/^cut:2 +\d+/m);
  }, 240_000);
});
