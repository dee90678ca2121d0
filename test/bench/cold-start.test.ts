import { describe, expect, it } from 'vitest';
import { COLD_START_TARGETS, coldStartResults, type ColdStartReport } from '../../bench/cold-start';

describe('coldStartResults: the fit against issue 11\'s targets, as npm run bench prints it', () => {
  const report = (base: number, slope: number): ColdStartReport => ({ rows: [], fit: { coldBaseMs: base, coldMsPerMB: slope, r2: 0.98, n: 10 }, repeats: 3, idleMs: 0, stackStartMs: 0 });

  it('meets a target at or under it and misses one above it, with target / value as the ratio', () => {
    const [base, slope] = coldStartResults(report(COLD_START_TARGETS.coldBaseMs, 12));
    expect(base).toMatchObject({ name: 'cold-start base', value: 200, target: 200, met: true, ratio: 1 });
    expect(slope).toMatchObject({ name: 'cold-start per MiB of tail weights', value: 12, target: 6, met: false, ratio: 0.5 });
    expect(coldStartResults(report(450, 6)).map((r) => r.met)).toEqual([false, true]);
  });
});
