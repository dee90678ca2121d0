import { describe, expect, it } from 'vitest';
import { floorLognormalFit, overlapRatios, phaseRatios, type Served } from '../../bench/stack-cpu';
import { sharedCores, type HostModel } from '../../core/sim/host';
import { Jitter } from '../../core/sim/jitter';

const warm = (endAt: number, computeMs: number): Served => ({ sentAt: endAt - computeMs - 20, endAt, computeMs, roundTripMs: computeMs + 20, cold: false, status: 200 });

describe('bench/stack-cpu: overlap and spread', () => {
  it('a request computing beside another for all its window reads n = 2, alone n = 1; the prediction is lone × s(n)', () => {
    const table = [1, 1.5, 2];
    const [a, b, c] = overlapRatios([warm(100, 40), warm(100, 40), warm(500, 40)], 30, table);
    expect(a).toEqual({ n: 2, computeMs: 40, predictedMs: 45 });
    expect(b!.n).toBe(2);
    expect(c).toEqual({ n: 1, computeMs: 40, predictedMs: 30 });
  });

  it('phases of a cold request: its init counts every busy neighbour as 1, its first inference takes the factor and weighs on a warm neighbour', () => {
    const host: HostModel = { ...sharedCores(1), firstInference: { factor: 2, weight: 3 }, initWeight: 1 };
    // A cold request: init 100–300, first inference 300–360; a warm one computing 300–360 beside it; a refused one (no phase).
    const cold: Served = { sentAt: 90, endAt: 360, computeMs: 60, roundTripMs: 270, cold: true, initMs: 200, status: 200 };
    const refused: Served = { sentAt: 310, endAt: 312, computeMs: Number.NaN, roundTripMs: 2, cold: false, status: 429 };
    const r = phaseRatios([cold, warm(360, 60), refused], host, 30, 230, 0);
    expect(r.map((x) => [x.phase, x.n])).toEqual([
      ['first', 2],
      ['init', 1],
      ['warm', 4],
    ]);
    // First: 2 × 30 × s(2) on one core; init: the lone cold start less the first inference's extra (230 − 30), alone; warm: 30 × s(1 + 3).
    expect(r.map((x) => x.predictedMs)).toEqual([120, 200, 120]);
  });

  it('fits a floor + lognormal spread back from draws of one', () => {
    const j = new Jitter({ seed: 3, tailCv: 1.5, coldCv: 0, tailFloor: 0.8 });
    const fit = floorLognormalFit(Array.from({ length: 50_000 }, () => 27 * j.tail()));
    expect(fit.medianMs).toBeCloseTo(27, 0);
    expect(fit.floor).toBeGreaterThan(0.77);
    expect(fit.floor).toBeLessThan(0.83);
    expect(fit.cv).toBeGreaterThan(1.3);
    expect(fit.cv).toBeLessThan(1.7);
    expect(() => floorLognormalFit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])).toThrow(/no right skew/);
  });
});
