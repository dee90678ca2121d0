import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DTYPE_FACTOR } from '../../core/wire';
import { FLOAT32_TOLERANCE, checkSplit, float32Failures, type CheckSplitRow } from '../../models/check-split';
import { analyzeModel } from '../../models/graph';
import { initBackend } from '../../models/backend';
import { ZOO, ZOO_NAMES, type ZooName } from '../../models/zoo';
import { inceptionModel, skipFromInputModel } from './graph-fixtures';

// This file splits every zoo network at every cut: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

beforeAll(async () => {
  await initBackend();
});

/** Reduced input sizes that keep each architecture intact (AlexNet's valid convolutions need ≥ 63 px); full size runs in bench/. */
const UNIT_SIZE: Record<ZooName, number | undefined> = {
  alexnet: 63,
  vgg16: 32,
  resnet50: 32,
  mobilenetv2: 32,
  googlenet: 32,
  tinychain: undefined,
  tinydag: undefined,
};

describe('split equivalence at every candidate of every zoo model (float32 through the wire)', () => {
  for (const name of ZOO_NAMES) {
    it(`${name}`, async () => {
      // Prepare
      const size = UNIT_SIZE[name];
      const model = ZOO[name].build(size === undefined ? {} : { inputSize: size });
      const analysis = analyzeModel(model, { name });
      // Act
      const rows = await checkSplit(model, analysis);
      // Assess
      expect(rows.map((r) => r.cut)).toEqual(analysis.candidates.map((c) => c.cut));
      expect(rows.length).toBeGreaterThan(5);
      for (const r of rows) expect(r.maxAbsDiff, `${name} cut ${r.cut}`).toBeLessThanOrEqual(FLOAT32_TOLERANCE);
      model.dispose();
    });
  }

  it('tinydag at every cut, inside the residual and inception blocks too', async () => {
    const model = ZOO.tinydag.build();
    const analysis = analyzeModel(model, { maxCrossing: 3 });
    expect(analysis.candidates).toHaveLength(analysis.layers.length);
    const rows = await checkSplit(model, analysis);
    expect(Math.max(...rows.map((r) => r.maxAbsDiff))).toBeLessThanOrEqual(FLOAT32_TOLERANCE);
    expect(Math.max(...rows.map((r) => analysis.candidates.find((c) => c.cut === r.cut)!.crossing.length))).toBe(3);
  });
});

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

describe('float32Failures', () => {
  const row = (cut: number, dtype: CheckSplitRow['dtype'], maxAbsDiff: number): CheckSplitRow => ({
    cut, layer: `l${cut}`, dtype, maxAbsDiff, maxRelDiff: maxAbsDiff, crossingBytes: 4, sentBytes: 40,
  });
  it('flags float32 rows above 1e-4 or NaN, never other dtypes', () => {
    const rows = [row(0, 'float32', 0), row(1, 'float32', 1e-4), row(2, 'float32', 2e-4), row(3, 'float32', Number.NaN), row(4, 'int8', 0.5)];
    expect(float32Failures(rows).map((r) => r.cut)).toEqual([2, 3]);
  });
});
