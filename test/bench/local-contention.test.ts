import { describe, expect, it } from 'vitest';
import { poolRuns, type ContentionRun } from '../../bench/local-contention';

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
      { c: 1, computeSlowdown: 65 / 50, overheadMs: 40, n: 2 },
      { c: 3, computeSlowdown: 3, overheadMs: 50, n: 1 },
    ]);
    // A cold request's first compute and hand-off (round trip − init − compute) by k.
    expect(p.coldComputeMsByK).toEqual([50, 50]);
    expect(p.coldHandOffMsByK).toEqual([50, 50]);
  });
});
