import { describe, expect, it } from 'vitest';
import { busyAt, poolRuns, type ContentionRun } from '../../bench/local-contention';

const warm = (k: number, computeMs: number, roundTripMs = computeMs + 40) => ({ k, cold: false, computeMs, roundTripMs, initMs: null });
const cold = (k: number, initMs: number) => ({ k, cold: true, computeMs: 50, roundTripMs: initMs + 100, initMs });
const run = (samples: ContentionRun['samples']): ContentionRun => ({ date: '2026-11-30T19:00:00.000Z', loadAverage: { start: [1], end: [1] }, samples });

describe('local-contention --pool', () => {
  it('divides each k by the lone median of all runs pooled, not run by run', () => {
    // Run a's lone requests are fast, run b's slow: pooled lone median 60.
    const a = run([warm(1, 50), warm(1, 50), warm(2, 90), warm(2, 90), cold(1, 800), cold(2, 1200), cold(2, 1200)]);
    const b = run([warm(1, 70), warm(1, 70), warm(2, 90), warm(2, 90), cold(1, 1000), cold(2, 1350), cold(2, 1350)]);
    const p = poolRuns([a, b]);
    expect(p.loneComputeMs).toBe(60);
    expect(p.computeSlowdown).toEqual([1, 1.5]);
    expect(p.loneInitMs).toBe(900);
    expect(p.initSlowdown[1]).toBeCloseTo(1275 / 900, 12);
    expect(p.invokeOverheadMs).toBe(40);
    // Equal requests within each run and k: no spread left.
    expect(p.tailCv).toBe(0);
  });

  it('the spread is the median coefficient of variation within a run and k', () => {
    const p = poolRuns([run([warm(1, 40), warm(1, 60), warm(2, 90), warm(2, 110), warm(3, 100), warm(3, 100)])]);
    // CVs 0.2 (k=1), 0.1 (k=2), 0 (k=3): median 0.1.
    expect(p.tailCv).toBeCloseTo(0.1, 12);
  });

  it('the mixed case: a warm request beside c cold starts over the lone compute, counting only those that ended beside the inits', () => {
    const r = { ...run([warm(1, 50), warm(1, 50), cold(1, 800), cold(2, 1200), cold(2, 1200)]), mixed: [
      { cold: 1, besideInits: true, roundTripMs: 100, computeMs: 60 },
      { cold: 1, besideInits: true, roundTripMs: 110, computeMs: 70 },
      { cold: 1, besideInits: false, roundTripMs: 50, computeMs: 10 },
      { cold: 3, besideInits: true, roundTripMs: 200, computeMs: 150 },
    ] };
    const p = poolRuns([r, run([warm(1, 50)])]);
    expect(p.besideInits).toEqual([
      { c: 1, computeSlowdown: 65 / 50, overheadMs: 40, n: 2, weight: expect.any(Number) },
      { c: 3, computeSlowdown: 3, overheadMs: 50, n: 1, weight: expect.any(Number) },
    ]);
    // A cold request's first compute and hand-off (round trip − init − compute) by k.
    expect(p.coldComputeMsByK).toEqual([50, 50]);
    expect(p.coldHandOffMsByK).toEqual([50, 50]);
  });

  it('the weight of an init or a first inference: the busy count on the pooled compute table that gives the slowdown, per neighbour', () => {
    // Compute table [1, 1.5, 2] over a lone 50 ms.
    const table = run([warm(1, 50), warm(2, 75), warm(2, 75), warm(3, 100), warm(3, 100), warm(3, 100)]);
    const mixed = { ...run([]), mixed: [
      // Beside 2 inits: ×2, as beside 2 warm ones: weight 1.
      { cold: 2, besideInits: true, roundTripMs: 140, computeMs: 100 },
      // Beside about 1 first inference (no init running): ×2, as beside 2 warm ones: weight 2.
      { cold: 1, besideInits: false, roundTripMs: 140, computeMs: 100, initsAvg: 0, firstsAvg: 0.9 },
      // Left out: an init ran beside it, or too little first inference.
      { cold: 1, besideInits: false, roundTripMs: 140, computeMs: 500, initsAvg: 0.5, firstsAvg: 0.5 },
      { cold: 1, besideInits: false, roundTripMs: 140, computeMs: 500, initsAvg: 0, firstsAvg: 0.3 },
    ] };
    // A run whose k = 2 burst started one environment beside a warm one: not in the table.
    const burstless = run([warm(2, 500), warm(2, 500), { ...cold(2, 800) }]);
    const loneCold = { pairs: [{ cut: 0, initMs: 300, coldComputeMs: 45, warmComputeMs: 30 }, { cut: 63, initMs: 300, coldComputeMs: 20, warmComputeMs: 10 }, { cut: 0, initMs: 300, coldComputeMs: 40, warmComputeMs: 40 }] };
    const p = poolRuns([table, mixed, burstless], [loneCold]);
    // Per request: (busy count − 1) / its neighbours; a first inference alone over the warm call's compute, median of the pairs.
    expect(p.initWeight).toBe(1);
    expect(p.firstInferenceWeight).toBeCloseTo(2 / 0.9, 12);
    expect(p.firstInferenceFactor).toBe(1.5);
    expect(p.computeSlowdown).toEqual([1, 1.5, 2]);
    expect(p.besideInits).toEqual([{ c: 2, computeSlowdown: 2, overheadMs: 40, n: 1, weight: 1 }]);
    expect(p.besideFirsts).toEqual([{ m: 1, computeSlowdown: 2, besideWarm: 1.5, weight: 2, n: 1 }]);
    expect(busyAt([1, 1.5, 2], 1.75)).toBe(2.5);
    expect(busyAt([1, 1.5, 2], 4)).toBe(6); // past the end, s grows as n
  });
});
