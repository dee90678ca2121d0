import { describe, expect, it } from 'vitest';
import type { LoadRecord } from '../../core/load-record';
import { LOCAL_HOST } from '../../core/sim/host';
import { bootstrapSpread, burstyPhoneArrivals, MAX_SWEEP_CELLS, parseSweep, perRequestSummary, POLICIES, poolValidations, readPool, simulatedRows, simulateLikeTheStack, sweepValidations, timelineRows, type Calibration } from '../../bench/sim-validation';

const cal: Calibration = { tailMs: {}, coldStartMs: {}, invokeOverheadMs: 0, throttleOverheadMs: 20, planMs: 45 };

/** One stack record of `policy` with this latency (the fields bootstrapSpread reads). */
const record = (policy: string, latencyMs: number, error: string | null = null) => ({ policy, error, measured: { latencyMs } }) as unknown as LoadRecord;

describe('sim-validation: the simulator median over seeds', () => {
  const trace = burstyPhoneArrivals(2, 3, 24);

  it('one seed is that seed\'s simulation; an odd number of seeds gives one of their figures, the middle one', () => {
    const single = (seed: number) => simulateLikeTheStack(trace, cal, ['cloud-only'], { kind: 'host', host: LOCAL_HOST, seed }).get('cloud-only')!;
    expect(simulatedRows(trace, cal, LOCAL_HOST, 5, 1).get('cloud-only')!.p95).toBe(single(5).latencyMs.p95);
    const p95s = [5, 6, 7].map((s) => single(s).latencyMs.p95).sort((a, b) => a - b);
    // The spread moves the p95 between seeds, else the median would be untested.
    expect(new Set(p95s).size).toBeGreaterThan(1);
    expect(simulatedRows(trace, cal, LOCAL_HOST, 5, 3).get('cloud-only')!.p95).toBe(p95s[1]);
  });
});

describe('sim-validation: the stack\'s own spread (bootstrap)', () => {
  it('collapses to the value when every request took the same time, and leaves out failed requests', () => {
    const s = bootstrapSpread([...Array.from({ length: 20 }, () => record('cloud-only', 300)), record('cloud-only', 9000, 'timeout')]);
    expect(s['cloud-only']).toEqual({ n: 20, p50: [300, 300], p95: [300, 300] });
  });

  it('brackets the p95 of a spread-out run and is the same for the same seed', () => {
    const lat = Array.from({ length: 80 }, (_, i) => 100 + 25 * i);
    const rs = lat.map((l) => record('cut:63', l));
    const a = bootstrapSpread(rs, 500, 7)['cut:63']!;
    expect(a.p95[0]).toBeLessThan(a.p95[1]);
    // The run's own p95 (interpolated: 100 + 25 × 75.05) lies inside its 5th–95th percentile range.
    expect(a.p95[0]).toBeLessThanOrEqual(100 + 25 * 75.05);
    expect(a.p95[1]).toBeGreaterThanOrEqual(100 + 25 * 75.05);
    expect(bootstrapSpread(rs, 500, 7)['cut:63']).toEqual(a);
    expect(bootstrapSpread(rs, 500, 8)['cut:63']).not.toEqual(a);
  });
});

describe('sim-validation --per-request: the summary per policy', () => {
  const rec = (i: number, cold: boolean, status: number | null, m: { initMs?: number; computeMs?: number; roundTripMs?: number }) =>
    ({ i, policy: 'cut:63', cold, status, measured: { initMs: m.initMs ?? null, computeMs: m.computeMs ?? null, roundTripMs: m.roundTripMs ?? null } }) as unknown as LoadRecord;

  it('takes medians of real over simulated apart for cold and warm requests, counts slow warm ones, and names the requests served differently', () => {
    const s = perRequestSummary([
      { real: rec(0, true, 200, { initMs: 900, computeMs: 90, roundTripMs: 1100 }), sim: rec(0, true, 200, { initMs: 1000, computeMs: 45, roundTripMs: 1100 }) },
      { real: rec(1, false, 200, { computeMs: 30, roundTripMs: 200 }), sim: rec(1, false, 200, { computeMs: 20, roundTripMs: 80 }) },
      { real: rec(2, false, 200, { computeMs: 20, roundTripMs: 60 }), sim: rec(2, false, 200, { computeMs: 20, roundTripMs: 60 }) },
      { real: rec(3, false, 200, { computeMs: 20, roundTripMs: 60 }), sim: rec(3, false, 429, { roundTripMs: 28 }) },
      { real: rec(4, true, 200, { initMs: 800, computeMs: 40, roundTripMs: 900 }), sim: rec(4, false, 200, { computeMs: 20, roundTripMs: 70 }) },
    ]);
    expect(s['cut:63']).toEqual({
      cold: { n: 1, init: 0.9, compute: 2, roundTrip: 1 },
      warm: { n: 2, compute: (1.5 + 1) / 2, roundTrip: (2.5 + 1) / 2, overTwice: 1 },
      differ: ['3 200/429', '4 200 cold/200'],
    });
  });
});

describe('sim-validation --timeline: a policy\'s first requests, stack beside simulator', () => {
  it('puts the same seed\'s simulation on both sides alike, and times each request from its send to its answer', () => {
    const trace = burstyPhoneArrivals(4, 3, 24);
    const stack: LoadRecord[] = [];
    simulateLikeTheStack(trace, cal, ['cut:63'], { kind: 'host', host: LOCAL_HOST, seed: 5 }, {}, (_p, r) => stack.push(r));
    const rows = timelineRows(stack, trace, cal, 'cut:63', 4000, 5, 1);
    expect(rows.map((r) => r.i)).toEqual(stack.filter((r) => r.t < 4000).map((r) => r.i).sort((a, b) => a - b));
    // The trace's first burst opens environments, and at 4/s some requests are refused: both kinds are checked.
    expect(rows.some((r) => r.real.cold)).toBe(true);
    expect(rows.some((r) => r.real.status === 429)).toBe(true);
    for (const r of rows) {
      const rec = stack.find((x) => x.i === r.i)!;
      expect(r.sim.seeds).toBe(1);
      expect(r.sim.refused).toBe(rec.status === 429 ? 1 : 0);
      expect(r.sim.cold).toBe(rec.cold ? 1 : 0);
      // reaches the tail after the head, the upload and half of WiFi's 30 ms RTT (the record's upMs holds both halves)
      expect(r.real.sentMs).toBeCloseTo(rec.t + rec.measured.headMs + rec.measured.upMs - 15, 9);
      expect(r.real.answerMs! - r.real.sentMs!).toBeCloseTo(rec.measured.roundTripMs!, 9);
      expect(r.sim.sentMs).toBeCloseTo(r.real.sentMs!, 9);
      if (rec.status === 200) expect(r.sim.answerMs).toBeCloseTo(r.real.answerMs!, 9);
      else expect(r.sim.answerMs).toBeNaN();
      if (rec.cold) expect(r.sim.initMs).toBeCloseTo(rec.measured.initMs!, 9);
    }
  });
});

describe('sim-validation --pool --sweep: the pooled validation at other host speeds', () => {
  it('parses from:to:step per axis with both ends, one value, and 1 for an axis not given', () => {
    expect(parseSweep('cold=0.9:1.1:0.05,compute=0.9:1.3:0.1')).toEqual({ cold: [0.9, 0.95, 1, 1.05, 1.1], compute: [0.9, 1, 1.1, 1.2, 1.3] });
    expect(parseSweep('compute=1.2')).toEqual({ cold: [1], compute: [1.2] });
    expect(parseSweep('cold=0.95:1:0.1')).toEqual({ cold: [0.95], compute: [1] });
  });

  it('refuses an unknown axis, one given twice, an empty or reversed range, a zero step and too many cells, naming --sweep', () => {
    for (const bad of ['warm=1', 'cold=1,cold=1.1', 'cold=', 'cold=1.1:0.9:0.1', 'cold=0.9:1.1:0', 'cold=0:1:0.1', 'cold=1:2', 'compute=a']) expect(() => parseSweep(bad), bad).toThrow(/^--sweep: /);
    expect(() => parseSweep(`cold=0.01:${MAX_SWEEP_CELLS / 100}:0.01,compute=1:1.1:0.1`)).toThrow(/cells, at most/);
  });

  it('its 1.00 / 1.00 cell is the plain pooled result, figure for figure, and the stack\'s side is the same in every cell', () => {
    const files = ['bench/results/sim-validation-r11-rate4-run1.json'];
    const x = sweepValidations(files, { cold: [0.9, 1], compute: [1, 1.2] }, 2);
    expect(x.cells.map((c) => [c.cold, c.compute])).toEqual([[0.9, 1], [0.9, 1.2], [1, 1], [1, 1.2]]);
    const plain = poolValidations(files, LOCAL_HOST, 2);
    expect(x.cells[2]!.rows).toEqual(plain.rows);
    for (const c of x.cells) expect(c.rows.map((r) => r.real)).toEqual(plain.rows.map((r) => r.real));
    // the per-seed range brackets the median per run (one run here) and the mean over seeds
    for (const r of x.cells[2]!.rows) {
      const [lo, hi] = x.cells[2]!.seedRange![r.policy]!;
      expect(r.sim.throttled).toBeGreaterThanOrEqual(lo);
      expect(r.sim.throttled).toBeLessThanOrEqual(hi);
      expect(x.cells[2]!.meanThrottled![r.policy]!).toBeGreaterThanOrEqual(lo);
      expect(x.cells[2]!.meanThrottled![r.policy]!).toBeLessThanOrEqual(hi);
    }
    // the speed reaches the simulation: computes 1.2 × slower move cloud-only's simulated p50
    const p50 = (i: number) => x.cells[i]!.rows.find((r) => r.policy === 'cloud-only')!.sim.p50;
    expect(p50(3)).toBeGreaterThan(p50(2));
  });
});

describe('sim-validation --pool: each run its own simulator seeds', () => {
  it('a run pooled twice sums two disjoint sets of seeds, not one set twice', () => {
    const file = 'bench/results/sim-validation-r11-rate4-run1.json';
    const seeds = 3;
    const run = readPool([file]).runs[0]!;
    const counts = (seed: number) => {
      const perSeed = new Map<string, number[]>();
      const rows = simulatedRows(run.trace, run.cal, LOCAL_HOST, seed, seeds, undefined, (p, c) => perSeed.set(p, c));
      return { rows, perSeed };
    };
    const [first, second] = [counts(run.seed), counts(run.seed + seeds)];
    // The two sets draw differently (else this test could not tell them apart).
    expect(POLICIES.some((p) => first.perSeed.get(p)!.join() !== second.perSeed.get(p)!.join())).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const pooled = poolValidations([file, file], LOCAL_HOST, seeds);
    const cell = sweepValidations([file, file], { cold: [1], compute: [1] }, seeds).cells[0]!;
    for (const p of POLICIES) {
      expect(pooled.rows.find((r) => r.policy === p)!.sim.throttled, p).toBe(first.rows.get(p)!.throttled + second.rows.get(p)!.throttled);
      expect(cell.meanThrottled![p], p).toBeCloseTo(mean(first.perSeed.get(p)!) + mean(second.perSeed.get(p)!), 9);
    }
  }, 120_000);
});
