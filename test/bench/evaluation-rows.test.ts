/**
 * bench/evaluation.ts row names: `planner` is the planner as deployed (prewarm
 * on), `planner, no prewarm` the comparison; records of a run from when
 * prewarm was opt-in (`planner` = off, `planner+prewarm` = on) are relabelled
 * when rendered, so an old run never shows its prewarm-off figures as the default's.
 */
import { describe, expect, it } from 'vitest';
import { EVALUATION, relabelPrewarmOptIn, ROWS } from '../../bench/evaluation';
import type { LoadRecord } from '../../core/load-record';

const rec = (policy: string, i: number) => ({ policy, i }) as unknown as LoadRecord;

describe('evaluation rows', () => {
  it('name the default planner `planner` and the comparison `planner, no prewarm`', () => {
    expect(EVALUATION.prewarmRow).toBe('planner, no prewarm');
    expect(ROWS[0]).toBe('planner');
    expect(ROWS).toContain('planner, no prewarm');
    expect(ROWS).not.toContain('planner+prewarm');
  });

  it('relabel a run from when prewarm was opt-in, and leave a current run alone', () => {
    const old = [rec('planner', 0), rec('planner+prewarm', 1), rec('fleet-blind', 2)];
    expect(relabelPrewarmOptIn(old).map((r) => [r.policy, r.i])).toEqual([
      ['planner, no prewarm', 0],
      ['planner', 1],
      ['fleet-blind', 2],
    ]);
    const current = [rec('planner', 0), rec('planner, no prewarm', 1)];
    expect(relabelPrewarmOptIn(current)).toBe(current);
  });
});
