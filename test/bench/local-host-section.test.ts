import { describe, expect, it } from 'vitest';
import { briefOf, committedResults, localHostMarkdown, loneByCut, verdict } from '../../bench/local-host-section';
import type { ValidationRow } from '../../bench/sim-validation';

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
    expect(md.startsWith('### The simulator against the local stack: where it stands (round 11)')).toBe(true);
    expect(md.indexOf('### Earlier rounds of the validation')).toBeGreaterThan(md.indexOf('### The host model on the current tail (round 11)'));
    expect(md).not.toContain('TODO');
  });
});
