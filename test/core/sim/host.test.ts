import { describe, expect, it } from 'vitest';
import type { LoadRecord } from '../../../core/load-record';
import type { Policy } from '../../../core/policies';
import { checkHost, HostCpu, LOCAL_HOST, sharedCores, slowdownAt } from '../../../core/sim/host';
import { Jitter, lognormalSigma } from '../../../core/sim/jitter';
import { simulate, type SimulationInput } from '../../../core/sim/simulator';
import { generateWorkload, makeDevices } from '../../../core/workload';
import { HAND_COLD, HAND_TAIL, handArrivals, handFunctions, handScenarioFor } from './hand-fleet';

/** An ideal host of `cores` with no invoke overhead, so that its records compare with Lambda's. */
const ideal = (cores: number) => ({ ...sharedCores(cores), invokeOverheadMs: 0 });

function run(over: Partial<SimulationInput> & { policy: Policy }) {
  const records: LoadRecord[] = [];
  const result = simulate({ arrivals: handArrivals([0]), functions: handFunctions(), scenarioFor: handScenarioFor, onRecord: (r) => records.push(r), ...over });
  return { result, records: records.sort((a, b) => a.i - b.i) };
}

/** Runs jobs of the given lone work, all started at 0, on a host; returns when each ends. */
function ends(host: Parameters<typeof sharedCores>[0] | typeof LOCAL_HOST, works: number[]): number[] {
  const cpu = new HostCpu<number>(typeof host === 'number' ? sharedCores(host) : host);
  works.forEach((w, i) => cpu.add({ phase: 'compute', work: w, phaseStart: 0, item: i }, 0));
  const out: number[] = [];
  for (let next = cpu.next(); next; next = cpu.next()) {
    cpu.advance(next.at);
    cpu.remove(next.job);
    out[next.job.item] = next.at;
  }
  return out;
}

describe('host model: processor sharing', () => {
  it('a lone job takes its own time; two on one core each take twice as long; two on two cores run at full speed', () => {
    expect(ends(1, [100])).toEqual([100]);
    expect(ends(1, [100, 100])).toEqual([200, 200]);
    expect(ends(2, [100, 100])).toEqual([100, 100]);
    // Three on two cores: each at 2/3 speed until the short one ends at 60 (40 ms of its work × 1.5), then the rest at full speed.
    const [a, b, c] = ends(2, [40, 100, 100]);
    expect(a).toBeCloseTo(60, 9);
    expect(b).toBeCloseTo(120, 9);
    expect(c).toBeCloseTo(120, 9);
  });

  it('the measured local table: s(n) from the table, then growing as processor sharing', () => {
    expect(slowdownAt(LOCAL_HOST.computeSlowdown, 1)).toBe(1);
    expect(slowdownAt(LOCAL_HOST.computeSlowdown, 2)).toBe(LOCAL_HOST.computeSlowdown[1]);
    const k = LOCAL_HOST.computeSlowdown.length;
    expect(slowdownAt(LOCAL_HOST.computeSlowdown, 2 * k)).toBeCloseTo(2 * LOCAL_HOST.computeSlowdown[k - 1]!, 12);
    for (const end of ends(LOCAL_HOST, [100, 100])) expect(end).toBeCloseTo(100 * LOCAL_HOST.computeSlowdown[1]!, 9);
  });

  it('refuses a table that does not start at 1 or decreases, naming the entry', () => {
    expect(() => checkHost({ ...LOCAL_HOST, computeSlowdown: [2] })).toThrow(/host\.computeSlowdown: must start with 1/);
    expect(() => checkHost({ ...LOCAL_HOST, initSlowdown: [1, 2, 1.5] })).toThrow(/host\.initSlowdown\[2\]/);
    expect(() => sharedCores(0)).toThrow(/hostCores/);
  });
});

describe('simulate on a shared host', () => {
  it('a lone request is unchanged by the host', () => {
    const arrivals = handArrivals([0, 1000]);
    const lambda = run({ policy: { kind: 'cut', cut: 1 }, arrivals });
    const shared = run({ policy: { kind: 'cut', cut: 1 }, arrivals, host: ideal(1) });
    expect(shared.records.map((r) => r.measured)).toEqual(lambda.records.map((r) => r.measured));
    // The host's measured overhead is added to every served round trip unless the timing gives one.
    const local = run({ policy: { kind: 'cut', cut: 1 }, arrivals, host: LOCAL_HOST });
    expect(local.records.map((r) => r.measured.roundTripMs! - lambda.records[r.i]!.measured.roundTripMs!)).toEqual([LOCAL_HOST.invokeOverheadMs, LOCAL_HOST.invokeOverheadMs]);
  });

  it('two concurrent cold starts on one core take twice as long each, then share the compute', () => {
    const arrivals = handArrivals([0, 0]);
    const lambda = run({ policy: { kind: 'cloud-only' }, arrivals });
    const shared = run({ policy: { kind: 'cloud-only' }, arrivals, host: ideal(1) });
    expect(lambda.records.map((r) => [r.cold, r.measured.initMs, r.measured.computeMs])).toEqual([
      [true, HAND_COLD[0], HAND_TAIL[0]],
      [true, HAND_COLD[0], HAND_TAIL[0]],
    ]);
    for (const r of shared.records) {
      expect(r.cold).toBe(true);
      expect(r.measured.initMs).toBeCloseTo(2 * HAND_COLD[0], 9);
      expect(r.measured.computeMs).toBeCloseTo(2 * HAND_TAIL[0], 9);
      // The client waits the longer round trip; the bill follows it too.
      expect(r.measured.roundTripMs).toBeCloseTo(2 * (HAND_COLD[0] + HAND_TAIL[0]), 9);
    }
    expect(shared.records[0]!.measured.latencyMs - lambda.records[0]!.measured.latencyMs).toBeCloseTo(HAND_COLD[0] + HAND_TAIL[0], 9);
    expect(shared.result.summary.costUSD).toBeGreaterThan(lambda.result.summary.costUSD);
  });

  it('a host with a core per environment is Lambda: same records, same counts', () => {
    const arrivals = generateWorkload({
      process: { kind: 'bursty', ratePerS: 40, onMs: 2000, offMs: 10_000 },
      devices: makeDevices(30, [{ class: 'flagship-phone', network: 'wifi' }]),
      model: 'hand',
      seed: 5,
      durationMs: 60_000,
      maxRequests: 400,
    });
    for (const policy of [{ kind: 'planner' }, { kind: 'cut', cut: 1 }] as Policy[]) {
      const lambda = run({ policy, arrivals, functions: handFunctions({ reservedConcurrency: 3 }) });
      const shared = run({ policy, arrivals, functions: handFunctions({ reservedConcurrency: 3 }), host: ideal(9) });
      expect(shared.records.map((r) => [r.cut, r.cold, r.status])).toEqual(lambda.records.map((r) => [r.cut, r.cold, r.status]));
      shared.records.forEach((r, i) => expect(r.measured.latencyMs).toBeCloseTo(lambda.records[i]!.measured.latencyMs, 6));
      expect(shared.result.functions.map((f) => f.cold)).toEqual(lambda.result.functions.map((f) => f.cold));
    }
  });

  it('sharing slows a burst and, by holding environments longer, never lowers its 429 count', () => {
    const arrivals = handArrivals(Array.from({ length: 30 }, (_, i) => i * 2));
    const lambda = run({ policy: { kind: 'cloud-only' }, arrivals, functions: handFunctions({ reservedConcurrency: 4 }) }).result.summary;
    const shared = run({ policy: { kind: 'cloud-only' }, arrivals, functions: handFunctions({ reservedConcurrency: 4 }), host: ideal(1) }).result.summary;
    expect(shared.latencyMs.p95).toBeGreaterThan(lambda.latencyMs.p95);
    expect(shared.throttled).toBeGreaterThanOrEqual(lambda.throttled);
  });
});

describe('per-request spread (jitter)', () => {
  it('CV 0 draws nothing: the records are those of a run without spread', () => {
    const arrivals = handArrivals([0, 5, 1000, 1001]);
    const plain = run({ policy: { kind: 'cloud-only' }, arrivals });
    const zero = run({ policy: { kind: 'cloud-only' }, arrivals, jitter: { seed: 3, tailCv: 0, coldCv: 0 } });
    expect(zero.records).toEqual(plain.records);
  });

  it('lognormal multipliers with median 1 and the CV asked for; seeded', () => {
    const j = new Jitter({ seed: 11, tailCv: 0.5, coldCv: 0.2 });
    const xs = Array.from({ length: 40_000 }, () => j.tail()).sort((a, b) => a - b);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(xs[xs.length / 2]!).toBeCloseTo(1, 1);
    expect(sd / mean).toBeGreaterThan(0.45);
    expect(sd / mean).toBeLessThan(0.55);
    expect(lognormalSigma(0)).toBe(0);
    const again = new Jitter({ seed: 11, tailCv: 0.5, coldCv: 0.2 });
    const first = new Jitter({ seed: 11, tailCv: 0.5, coldCv: 0.2 });
    expect(Array.from({ length: 5 }, () => again.cold())).toEqual(Array.from({ length: 5 }, () => first.cold()));
  });

  it('spreads each served request around the function\'s figure, reproducibly, and refuses a bad CV', () => {
    const arrivals = handArrivals(Array.from({ length: 200 }, (_, i) => i * 50));
    const a = run({ policy: { kind: 'cut', cut: 1 }, arrivals, jitter: { seed: 7, tailCv: 0.3, coldCv: 0 } });
    const b = run({ policy: { kind: 'cut', cut: 1 }, arrivals, jitter: { seed: 7, tailCv: 0.3, coldCv: 0 } });
    expect(a.records).toEqual(b.records);
    const compute = a.records.filter((r) => !r.cold).map((r) => r.measured.computeMs!);
    expect(new Set(compute).size).toBeGreaterThan(100);
    expect(compute.sort((x, y) => x - y)[compute.length >> 1]!).toBeGreaterThan(HAND_TAIL[1] * 0.85);
    expect(compute[compute.length >> 1]!).toBeLessThan(HAND_TAIL[1] * 1.15);
    expect(() => run({ policy: { kind: 'cut', cut: 1 }, jitter: { seed: 1, tailCv: -1, coldCv: 0 } })).toThrow(/jitter\.tailCv: must be a number from 0 to 10/);
  });
});
