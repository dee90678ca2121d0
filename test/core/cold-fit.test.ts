import { describe, expect, it } from 'vitest';
import { fitColdStarts, fitLine } from '../../core/cold-fit';
import { parseLoadRecord, type LoadRecord } from '../../core/load-record';

describe('fitLine: the least-squares line behind coldBaseMs and coldMsPerMB', () => {
  it('recovers a line exactly (r² 1)', () => {
    const fit = fitLine([5, 13.5, 42, 97.7].map((x) => ({ x, y: 420 + 16.5 * x })));
    expect(fit.coldBaseMs).toBeCloseTo(420, 9);
    expect(fit.coldMsPerMB).toBeCloseTo(16.5, 9);
    expect(fit.r2).toBeCloseTo(1, 12);
    expect(fit.n).toBe(4);
  });

  it('splits symmetric noise evenly, and r² says how much is explained', () => {
    // residuals +10, -10, -10, +10 around y = 100 + 2x: orthogonal to 1 and x, so the line is unchanged
    const pts = [
      { x: 0, y: 110 },
      { x: 1, y: 92 },
      { x: 2, y: 94 },
      { x: 3, y: 116 },
    ];
    const fit = fitLine(pts);
    expect(fit.coldBaseMs).toBeCloseTo(100, 9);
    expect(fit.coldMsPerMB).toBeCloseTo(2, 9);
    const mean = pts.reduce((s, p) => s + p.y, 0) / pts.length;
    const sst = pts.reduce((s, p) => s + (p.y - mean) ** 2, 0);
    expect(fit.r2).toBeCloseTo(1 - 400 / sst, 9);
  });
});

/** A served request (status 200, cloud) unless `over` says otherwise; validated by the real schema. */
function record(over: { model?: string; cut: number; cold: boolean; roundTripMs: number | null } & Partial<Pick<LoadRecord, 'target' | 'status' | 'fallback' | 'error' | 'policy'>>): LoadRecord {
  const { roundTripMs, ...rest } = over;
  return parseLoadRecord({
    i: 0,
    t: 0,
    startMs: 0,
    device: 'd0',
    class: 'flagship-phone',
    network: '4g',
    model: 'm',
    policy: `cut:${over.cut}`,
    L: 157,
    planCut: null,
    target: 'cloud',
    status: 200,
    fallback: null,
    fleet: null,
    predicted: null,
    measured: { planMs: null, headMs: 1, upMs: 1, roundTripMs, initMs: over.cold ? 100 : null, computeMs: 5, downMs: 1, deviceTailMs: null, latencyMs: 50, energyJ: 0.1, costUSD: 1e-6 },
    output: 'simulated',
    error: null,
    ...rest,
  });
}

// The true line, and tails whose warm round trips differ per cut (bigger crossing tensors, longer tails).
const BASE = 296.5;
const PER_MIB = 11.98;
const MIB: Record<number, number> = { 0: 13.5, 63: 13.19, 125: 10.77, 156: 4.89 };
const WARM: Record<number, number> = { 0: 140, 63: 60, 125: 35, 156: 12 };
const tailMiB = (_model: string, cut: number) => MIB[cut]!;

/** Cold and warm served requests at `cut`, round trips spread around their medians (which stay WARM and WARM + line). */
function served(cut: number, cold: number, warm: number): LoadRecord[] {
  const spread = (n: number, mid: number) => Array.from({ length: n }, (_, i) => mid + (i - (n - 1) / 2) * 3);
  const coldMid = WARM[cut]! + BASE + PER_MIB * MIB[cut]!;
  return [...spread(cold, coldMid).map((rt) => record({ cut, cold: true, roundTripMs: rt })), ...spread(warm, WARM[cut]!).map((rt) => record({ cut, cold: false, roundTripMs: rt }))];
}

describe('fitColdStarts: the cold-start line from served requests', () => {
  it('recovers the line from median cold − median warm round trip per cut', () => {
    const records = [...served(0, 3, 5), ...served(63, 1, 4), ...served(125, 3, 3), ...served(156, 5, 7)];
    const { fit, points, skipped } = fitColdStarts(records, tailMiB);
    expect(fit.coldBaseMs).toBeCloseTo(BASE, 6);
    expect(fit.coldMsPerMB).toBeCloseTo(PER_MIB, 6);
    expect(fit.r2).toBeCloseTo(1, 9);
    expect(fit.n).toBe(4);
    expect(skipped).toEqual([]);
    expect(points.map((p) => [p.cut, p.tailMiB, p.cold, p.warm])).toEqual([
      [0, 13.5, 3, 5],
      [63, 13.19, 1, 4],
      [125, 10.77, 3, 3],
      [156, 4.89, 5, 7],
    ]);
    const p0 = points[0]!;
    expect(p0.warmRoundTripMs).toBeCloseTo(140, 9);
    expect(p0.coldStartMs).toBeCloseTo(BASE + PER_MIB * 13.5, 9);
  });

  it('ignores throttled, device-only, fallen-back and failed requests', () => {
    const noise = [
      // A 429 answers fast and is not warm; counting it would drag the warm median down.
      ...Array.from({ length: 9 }, () => record({ cut: 0, cold: false, roundTripMs: 3, status: 429, fallback: 'throttled', target: 'device' })),
      ...Array.from({ length: 9 }, () => record({ cut: 156, cold: false, roundTripMs: null, status: null, target: 'device' })),
      record({ cut: 0, cold: true, roundTripMs: 30_000, status: null, fallback: 'timeout', target: 'device' }),
      record({ cut: 156, cold: false, roundTripMs: 9000, status: 500, fallback: 'server', target: 'device' }),
      record({ cut: 156, cold: true, roundTripMs: 1, error: 'HTTP 400: bad tensors' }),
    ];
    const clean = fitColdStarts([...served(0, 3, 3), ...served(156, 3, 3)], tailMiB);
    const noisy = fitColdStarts([...noise, ...served(0, 3, 3), ...served(156, 3, 3)], tailMiB);
    expect(noisy.fit).toEqual(clean.fit);
    expect(noisy.points).toEqual(clean.points);
    expect(noisy.fit.coldMsPerMB).toBeCloseTo(PER_MIB, 6);
  });

  it('keeps models apart: the same cut of two models is two points', () => {
    const mib = (model: string, cut: number) => (model === 'big' ? 97.69 : MIB[cut]!);
    const big = [record({ model: 'big', cut: 0, cold: true, roundTripMs: 500 + BASE + PER_MIB * 97.69 }), record({ model: 'big', cut: 0, cold: false, roundTripMs: 500 })];
    const { fit, points } = fitColdStarts([...served(0, 1, 1), ...big], mib);
    expect(points.map((p) => `${p.model}:${p.cut}`)).toEqual(['big:0', 'm:0']);
    expect(fit.coldBaseMs).toBeCloseTo(BASE, 6);
    expect(fit.coldMsPerMB).toBeCloseTo(PER_MIB, 6);
  });

  it('refuses a fit with one tail size, saying what each cut lacks', () => {
    // cut 0 complete, cut 156 only warm (its cold call was throttled), cut 125 only cold
    const records = [...served(0, 2, 2), ...served(156, 0, 4), ...served(125, 1, 0), record({ cut: 156, cold: false, roundTripMs: 3, status: 429, fallback: 'throttled', target: 'device' })];
    expect(() => fitColdStarts(records, tailMiB)).toThrow(
      'a cold-start line needs served cold and warm requests at cuts of at least two different tail sizes; served: m cut 0 (13.50 MiB): 2 cold, 2 warm; m cut 125 (10.77 MiB): 1 cold, 0 warm (needs a warm one); m cut 156 (4.89 MiB): 0 cold, 4 warm (needs a cold one)',
    );
  });

  it('refuses two cuts of the same tail size: one size fixes no slope', () => {
    const same = () => 7;
    expect(() => fitColdStarts([...served(0, 1, 1), ...served(156, 1, 1)], same)).toThrow(/at least two different tail sizes; served: m cut 0 \(7\.00 MiB\): 1 cold, 1 warm; m cut 156 \(7\.00 MiB\)/);
  });

  it('says so when no request was served by a tail', () => {
    const records = [record({ cut: 0, cold: false, roundTripMs: 3, status: 429, fallback: 'throttled', target: 'device' })];
    expect(() => fitColdStarts(records, tailMiB)).toThrow(/no request was served by a tail/);
    expect(() => fitColdStarts([], tailMiB)).toThrow(/no request was served by a tail/);
  });
});
