import { describe, expect, it } from 'vitest';
import { DTYPE_FACTOR } from '../../core/wire';
import { FLOAT32_TOLERANCE, checkSplit } from '../../models/check-split';
import { analyzeModel } from '../../models/graph';
import { ZOO } from '../../models/zoo';
import { inceptionModel, skipFromInputModel } from './graph-fixtures';

describe('checkSplit', () => {
  it('reproduces the full model exactly in float32 at every cut, also with several crossing tensors', async () => {
    // Prepare
    const model = skipFromInputModel();
    const analysis = analyzeModel(model, { maxCrossing: 2 });
    // Act
    const rows = await checkSplit(model, analysis);
    // Assess
    expect(rows.map((r) => r.cut)).toEqual([0, 1, 2, 3]);
    for (const r of rows) {
      expect(r.maxAbsDiff).toBeLessThanOrEqual(FLOAT32_TOLERANCE);
      expect(r.dtype).toBe('float32');
      const candidate = analysis.candidates.find((c) => c.cut === r.cut)!;
      expect(r.crossingBytes).toBe(candidate.crossingBytes);
      expect(r.layer).toBe(candidate.layer);
      // float32 payload: the data plus a small header.
      expect(r.sentBytes).toBeGreaterThan(r.crossingBytes);
      expect(r.sentBytes).toBeLessThan(r.crossingBytes + 1024);
    }
  });

  it('reports a larger but bounded error for float16 and int8, with payloads shrunk by the dtype factor', async () => {
    const model = ZOO.tinydag.build();
    const analysis = analyzeModel(model);
    const f32 = await checkSplit(model, analysis, { dtype: 'float32' });
    const f16 = await checkSplit(model, analysis, { dtype: 'float16' });
    const i8 = await checkSplit(model, analysis, { dtype: 'int8' });
    for (let i = 0; i < f32.length; i++) {
      expect(f32[i]!.maxAbsDiff).toBeLessThanOrEqual(FLOAT32_TOLERANCE);
      expect(f16[i]!.maxRelDiff).toBeLessThan(0.01);
      expect(i8[i]!.maxRelDiff).toBeLessThan(0.2);
      const bytes = f32[i]!.crossingBytes;
      expect(f16[i]!.sentBytes).toBeLessThan(bytes * DTYPE_FACTOR.float16 + 1024);
      expect(i8[i]!.sentBytes).toBeLessThan(bytes * DTYPE_FACTOR.int8 + 1024);
    }
    // Quantisation is lossy somewhere: int8 cannot be exact at every cut.
    expect(Math.max(...i8.map((r) => r.maxAbsDiff))).toBeGreaterThan(0);
  });

  it('checks only the requested cuts and rejects a cut that is not a candidate', async () => {
    const model = inceptionModel();
    const analysis = analyzeModel(model);
    const last = analysis.candidates.at(-1)!.cut;
    const rows = await checkSplit(model, analysis, { cuts: [last], dtype: 'int8' });
    expect(rows.map((r) => r.cut)).toEqual([last]);
    await expect(checkSplit(model, analysis, { cuts: [2] })).rejects.toThrow(/cut 2 is not a candidate of inception; candidates: /);
  });
});
