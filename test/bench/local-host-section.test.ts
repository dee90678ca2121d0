import { describe, expect, it } from 'vitest';
import { briefOf, committedResults, localHostMarkdown, loneByCut, matchingCold, movementPer5, seedVerdict, sweepHeadline, sweepSection, verdict, type Validation } from '../../bench/local-host-section';
import type { SweepCell, ValidationRow } from '../../bench/sim-validation';

const row = (policy: string, real: ValidationRow['real'], sim: ValidationRow['sim']): ValidationRow => ({ policy, requests: 80, real, sim });
const cut63 = row('cut:63', { p50: 100, p95: 1000, throttled: 10, coldStarts: 40 }, { p50: 114, p95: 870, throttled: 9, coldStarts: 46 });

describe('bench/local-host-section: the validation as the docs show it', () => {
  it('judges every figure within 15 % of the stack and names the ones that are not', () => {
    expect(verdict([cut63])).toBe('Every p50, p95, 429 count and cold-start count is within 15 %.');
    expect(verdict([{ ...cut63, sim: { ...cut63.sim, throttled: 6 } }])).toBe('Not within 15 %: cut:63 429s.');
    // none on the stack: only none in the simulator matches
    expect(verdict([row('cloud-only', { p50: 1, p95: 1, throttled: 0, coldStarts: 0 }, { p50: 1, p95: 1, throttled: 1, coldStarts: 0 })])).toBe('Not within 15 %: cloud-only 429s.');
  });

  it('briefs the offloading policies, the simulator against the stack (the planner keeps every request on the device here)', () => {
    const planner = row('planner', { p50: 133, p95: 134, throttled: 0, coldStarts: 0 }, { p50: 133, p95: 133, throttled: 0, coldStarts: 0 });
    expect(briefOf([planner, cut63])).toBe('cut:63 p50 +14 %, p95 −13 %, 429s 10 vs 9, cold starts 40 vs 46');
  });

  it('reads lone cold/warm pairs per cut: cold − warm round trip, first inference over warm compute, warm compute, hand-off', () => {
    const pair = (cut: number, cold: number, warm: number, first: number, compute: number) => ({ cut, initMs: cold - warm, coldRoundTripMs: cold, warmRoundTripMs: warm, coldComputeMs: first, warmComputeMs: compute });
    const rows = loneByCut([{ pairs: [pair(0, 340, 50, 45, 30), pair(0, 360, 50, 60, 30)] }, { pairs: [pair(63, 300, 30, 20, 20), pair(0, 350, 60, 51, 30)] }]);
    expect(rows).toEqual([
      { cut: 0, coldStartMs: 290, factor: 1.7, warmComputeMs: 30, handOffMs: 20, n: 3 },
      { cut: 63, coldStartMs: 270, factor: 1, warmComputeMs: 20, handOffMs: 10, n: 1 },
    ]);
  });

  it('puts the current answer first and the earlier rounds after the host model', () => {
    const md = localHostMarkdown(committedResults());
    expect(md.startsWith('### The simulator against the local stack: where it stands (round 12)')).toBe(true);
    expect(md.indexOf('### Earlier rounds of the validation')).toBeGreaterThan(md.indexOf('### The host model on the current tail (round 11)'));
    expect(md).not.toContain('TODO');
  });
});

describe('bench/local-host-section: how far the simulated figures move with the host\'s speed (--sweep)', () => {
  /** A grid whose cloud-only 429 count is 10 at the model's speed and grows by 2 per 0.05 of cold start, p95 by 1 % per 0.1 of compute. */
  const cells: SweepCell[] = [0.95, 1, 1.05].flatMap((cold) =>
    [1, 1.1].map((compute) => ({
      cold,
      compute,
      rows: [
        { policy: 'planner', requests: 80, real: { p50: 100, p95: 100, throttled: 0, coldStarts: 0 }, sim: { p50: 100, p95: 100, throttled: 0, coldStarts: 0 } },
        {
          policy: 'cloud-only',
          requests: 80,
          real: { p50: 300, p95: 1000, throttled: 12, coldStarts: 40 },
          sim: { p50: 300, p95: 1000 * (1 + (compute - 1) / 10), throttled: Math.round(10 + 40 * (cold - 1)), coldStarts: 40 },
        },
      ],
    })),
  );

  it('gives the change per 5 % of speed along each axis, relative to the 1.00 / 1.00 cell', () => {
    expect(movementPer5(cells, 'cloud-only', 'throttled', 'cold').mean).toBeCloseTo(20, 6);
    expect(movementPer5(cells, 'cloud-only', 'throttled', 'compute').mean).toBe(0);
    expect(movementPer5(cells, 'cloud-only', 'p95', 'compute').mean).toBeCloseTo(0.5, 6);
    expect(movementPer5(cells, 'planner', 'throttled', 'cold').mean).toBeNaN();
    // the mean over seeds, where the sweep kept it: 9.6 / 10 / 10.4 along cold starts is 4 % per 5 %
    const withMean = cells.map((c) => ({ ...c, meanThrottled: { planner: 0, 'cloud-only': 10 + 8 * (c.cold - 1) } }));
    expect(movementPer5(withMean, 'cloud-only', 'meanThrottled', 'cold').mean).toBeCloseTo(4, 6);
    expect(movementPer5(cells, 'cloud-only', 'meanThrottled', 'cold').mean).toBeNaN();
  });

  it('places the stack\'s runs against the simulator\'s per-run range over seeds', () => {
    expect(seedVerdict([7, 5, 6], [2, 4])).toBe("every stack run (7, 5, 6) above its highest draw, so the difference is not the simulator's draw");
    expect(seedVerdict([2, 2, 1], [1, 4])).toBe('3 of the 3 stack runs (2, 2, 1) inside it');
    expect(seedVerdict([5, 2], [2, 4])).toBe('1 of the 2 stack runs (5, 2) inside it');
  });

  it('finds the cold-start scale where the simulated count meets the stack\'s, between speeds or beyond the grid', () => {
    expect(matchingCold(cells, 'cloud-only', 12)!.at).toBeCloseTo(1.05, 6);
    expect(matchingCold(cells, 'cloud-only', 11)!.at).toBeCloseTo(1.025, 6);
    expect(matchingCold(cells, 'cloud-only', 14)).toEqual({ at: expect.closeTo(1.1, 6) as number, beyond: '>' });
    expect(matchingCold(cells, 'cloud-only', 6)).toEqual({ at: expect.closeTo(0.9, 6) as number, beyond: '<' });
  });

  it('tables the lines through the model\'s speed and says the count is too unstable for the target when it moves by half of it per 5 %', () => {
    const md = sweepSection({ date: '2026-12-01T18:00:00.000Z', wallS: 1, simSeeds: 15, runs: 3, requests: 80, cells });
    expect(md).toContain('| **stack** | | **12** | **1000** |');
    expect(md).toContain('| 1.05 | 1.00 | 12 | 1000 |');
    expect(md).not.toContain('| planner');
    expect(md).toContain("**cloud-only**: per 5 % of speed its simulated 429 count moves by 20 % with the cold starts and 0 % with the computes");
    expect(md).toContain('within 15 % of it at 2 of 6 speeds');
    expect(md).toContain('must be right to about 4 %');
    expect(md).toContain("at cold starts ×1.05 (cloud-only's 12)");
    const flat = cells.map((c) => ({ ...c, rows: c.rows.map((r) => ({ ...r, sim: { ...r.sim, throttled: r.policy === 'planner' ? 0 : 12 } })) }));
    expect(sweepSection({ date: '2026-12-01T18:00:00.000Z', wallS: 1, simSeeds: 15, runs: 3, requests: 80, cells: flat })).toContain("that miss is the model's");
    // with the simulator's per-run draw at the model's speed and the stack's runs: a miss inside the draw is read as the draw
    const drawn = cells.map((c) => ({ ...c, seedRange: { planner: [0, 0] as [number, number], 'cloud-only': [3, 5] as [number, number] } }));
    const runs = [4, 4, 4].map((n) => ({ rows: [{ policy: 'cloud-only', real: { throttled: n } }] }) as unknown as Validation);
    const inside = sweepSection({ date: '2026-12-01T18:00:00.000Z', wallS: 1, simSeeds: 15, runs: 3, requests: 80, cells: drawn }, runs);
    expect(inside).toContain('one run\'s simulated count goes 3–5 over the seeds: 3 of the 3 stack runs (4, 4, 4) inside it');
    expect(inside).toContain("cloud-only: every stack run inside the simulator's own per-run draw");
    expect(sweepSection({ date: '2026-12-01T18:00:00.000Z', wallS: 1, simSeeds: 15, runs: 3, requests: 80, cells: drawn }, [6, 7, 6].map((n) => ({ rows: [{ policy: 'cloud-only', real: { throttled: n } }] }) as unknown as Validation))).not.toContain('inside the simulator');
    expect(sweepHeadline({ date: '2026-12-01T18:00:00.000Z', wallS: 1, simSeeds: 15, runs: 3, requests: 80, cells })).toContain("the cold starts' speed the simulated 429 counts move by 20 %, per 5 % of the computes' by 0 %, the p50 and p95 by 0 % at most");
  });
});
