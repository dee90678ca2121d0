import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_CUT_RULE, dominates, selectDefaultCuts, type CutRule } from '../../cdk/cuts';

interface C {
  cut: number;
  crossingBytes: number;
  headFlops: number;
  tailWeightBytes: number;
}

/** A manifest-shaped object with just what the rule reads; total FLOPs = `totalFlops`. */
function manifestOf(candidates: C[], totalFlops = 1000) {
  return {
    layers: [{ index: 0, name: 'l0', className: 'Dense', outputShape: [1], outputBytes: 4, weightBytes: 0, params: 0, flops: totalFlops }],
    candidates: candidates.map((c) => ({
      ...c,
      layer: c.cut === 0 ? 'input' : `l${c.cut - 1}`,
      crossing: [{ name: 'x', shape: [1], bytes: c.crossingBytes }],
      tailFlops: totalFlops - c.headFlops,
    })),
  };
}

const strict: CutRule = { flopsTolerance: 0, payloadLimitBytes: null };

describe('selectDefaultCuts', () => {
  it('keeps cut 0 even when another cut beats it on every count', () => {
    const m = manifestOf([
      { cut: 0, crossingBytes: 100, headFlops: 0, tailWeightBytes: 50 },
      { cut: 1, crossingBytes: 10, headFlops: 0, tailWeightBytes: 50 },
    ]);
    expect(selectDefaultCuts(m, strict).cuts).toEqual([0, 1]);
  });

  it('drops a cut that another matches on weights and head work but beats on crossing bytes', () => {
    // Prepare: a pooling layer halves the crossing at no weight cost and zero FLOPs.
    const m = manifestOf([
      { cut: 0, crossingBytes: 100, headFlops: 0, tailWeightBytes: 50 },
      { cut: 1, crossingBytes: 400, headFlops: 10, tailWeightBytes: 40 },
      { cut: 2, crossingBytes: 200, headFlops: 10, tailWeightBytes: 40 },
    ]);
    // Act
    const { cuts, dropped } = selectDefaultCuts(m, strict);
    // Assess
    expect(cuts).toEqual([0, 2]);
    expect(dropped).toEqual([{ cut: 1, reason: 'dominated', by: 2 }]);
  });

  it('lets the FLOPs tolerance absorb the cut before a cheap layer, and only within it', () => {
    const m = (poolFlops: number) =>
      manifestOf([
        { cut: 0, crossingBytes: 100, headFlops: 0, tailWeightBytes: 50 },
        { cut: 1, crossingBytes: 400, headFlops: 100, tailWeightBytes: 40 },
        { cut: 2, crossingBytes: 200, headFlops: 100 + poolFlops, tailWeightBytes: 40 },
      ]);
    const rule = { flopsTolerance: 0.01, payloadLimitBytes: null }; // ε = 10 of 1000 FLOPs
    expect(selectDefaultCuts(m(10), rule).cuts).toEqual([0, 2]);
    expect(selectDefaultCuts(m(11), rule).cuts).toEqual([0, 1, 2]);
    expect(selectDefaultCuts(m(10), strict).cuts).toEqual([0, 1, 2]);
  });

  it('keeps the later of two identical cuts (a weightless, FLOP-free layer between them)', () => {
    const m = manifestOf([
      { cut: 0, crossingBytes: 100, headFlops: 0, tailWeightBytes: 50 },
      { cut: 3, crossingBytes: 20, headFlops: 5, tailWeightBytes: 30 },
      { cut: 4, crossingBytes: 20, headFlops: 5, tailWeightBytes: 30 },
    ]);
    expect(selectDefaultCuts(m, strict)).toEqual({ cuts: [0, 4], dropped: [{ cut: 3, reason: 'dominated', by: 4 }] });
  });

  it('keeps cuts that trade crossing bytes against tail weights', () => {
    const m = manifestOf([
      { cut: 0, crossingBytes: 100, headFlops: 0, tailWeightBytes: 50 },
      { cut: 1, crossingBytes: 300, headFlops: 10, tailWeightBytes: 20 },
      { cut: 2, crossingBytes: 50, headFlops: 20, tailWeightBytes: 45 },
    ]);
    expect(selectDefaultCuts(m, strict).cuts).toEqual([0, 1, 2]);
  });

  it('drops cuts whose int8, base64-inflated crossing exceeds the payload limit, but never cut 0', () => {
    // 6 MiB limit: int8 × 4/3 of 18 MiB = 6 MiB (kept); of 18 MiB + 4 bytes (dropped).
    const limit = 6_291_456;
    const m = manifestOf([
      { cut: 0, crossingBytes: 100_000_000, headFlops: 0, tailWeightBytes: 50 },
      { cut: 1, crossingBytes: 18_874_368, headFlops: 10, tailWeightBytes: 40 },
      { cut: 2, crossingBytes: 18_874_372, headFlops: 20, tailWeightBytes: 30 },
    ]);
    const { cuts, dropped } = selectDefaultCuts(m, { flopsTolerance: 0, payloadLimitBytes: limit });
    expect(cuts).toEqual([0, 1]);
    expect(dropped).toEqual([{ cut: 2, reason: 'payload', sentBytes: 6_291_458 }]);
    expect(selectDefaultCuts(m, strict).cuts).toEqual([0, 1, 2]);
  });

  const candidateSets = fc
    .array(fc.record({ crossingBytes: fc.integer({ min: 1, max: 50 }), headFlops: fc.integer({ min: 0, max: 50 }), tailWeightBytes: fc.integer({ min: 0, max: 50 }) }), {
      minLength: 1,
      maxLength: 12,
    })
    .map((cs) => cs.map((c, i) => ({ ...c, cut: i })));

  it('keeps exactly the cuts no other sendable cut dominates, and each dropped cut names a dominator (property)', () => {
    fc.assert(
      fc.property(candidateSets, fc.constantFrom(0, 0.01, 0.2), (cs, tol) => {
        const m = manifestOf(cs, 100);
        const rule = { flopsTolerance: tol, payloadLimitBytes: null };
        const { cuts, dropped } = selectDefaultCuts(m, rule);
        const eps = tol * 100;
        const byCut = new Map(m.candidates.map((c) => [c.cut, c]));
        expect(cuts[0]).toBe(0);
        expect(cuts.length + dropped.length).toBe(cs.length);
        for (const cut of cuts.filter((c) => c !== 0)) {
          expect(m.candidates.some((d) => dominates(d, byCut.get(cut)!, eps))).toBe(false);
        }
        for (const d of dropped) {
          expect(d.reason).toBe('dominated');
          if (d.reason === 'dominated') expect(dominates(byCut.get(d.by)!, byCut.get(d.cut)!, eps)).toBe(true);
        }
        // Acyclic: at least one candidate is dominated by none, and it is kept.
        const undominated = m.candidates.filter((c) => !m.candidates.some((d) => dominates(d, c, eps)));
        expect(undominated.length).toBeGreaterThan(0);
        for (const c of undominated) expect(cuts).toContain(c.cut);
      }),
    );
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_CUT_RULE).toEqual({ flopsTolerance: 0.01, payloadLimitBytes: 6_291_456 });
  });
});
