import { describe, expect, it } from 'vitest';
import {
  coldStartFromWeights,
  computeCut,
  cutConstants,
  prepareModel,
  radioPowerW,
  transferMs,
  type CutFigures,
} from '../../core/cost';
import { parseScenario } from '../../core/scenario';
import { DTYPE_FACTOR } from '../../core/wire';
import { handScenario } from './hand-scenario';

/** |a − b| ≤ 1e-12 · max(|a|, |b|): the hand numbers are exact up to float rounding. */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(actual), Math.abs(expected)));
}

function figures(cut: number, crossingBytes: number, idleWarm: number, coldStartMs?: number): CutFigures {
  const s = parseScenario(handScenario());
  const out = {} as CutFigures;
  return computeCut(cutConstants(s, 3), prepareModel(s.model.layers), cut, crossingBytes, idleWarm, coldStartMs, out);
}

describe('formulas of docs/cost-model.md §3', () => {
  it('moves bytes at Mbit/s: 8·B / (Mbps·1e6) · 1000 ms', () => {
    // 1 MB at 8 Mbit/s = 8e6 bit / 8e6 bit/s = 1 s
    expect(transferMs(1_000_000, 8)).toBe(1000);
    // 1000 B at 16 Mbit/s = 8000 / 16e6 s = 0.5 ms
    expect(transferMs(1000, 16)).toBe(0.5);
  });

  it('computes radio power in W from mW parameters: (alpha·Mbps + beta)/1000', () => {
    // LTE uplink at 5.85 Mbit/s: (438.39·5.85 + 1288.04) / 1000 = (2564.5815 + 1288.04)/1000 = 3.8526215 W
    expectClose(radioPowerW(438.39, 5.85, 1288.04), 3.8526215);
  });

  it('grows the cold start with the tail weights: base + perMB · bytes / 2^20', () => {
    // 250 ms + 12 ms/MiB · 3 MiB = 286 ms
    expect(coldStartFromWeights(250, 12, 3 * 1_048_576)).toBe(286);
  });

  it('uses the spec dtype factors', () => {
    expect(DTYPE_FACTOR).toEqual({ float32: 1, float16: 0.5, int8: 0.25 });
  });

  it('prepares prefix sums of device time and suffix sums of cloud time and weights', () => {
    const s = parseScenario(handScenario());
    const m = prepareModel(s.model.layers);
    // deviceMs 40, 60, 20 → 0, 40, 100, 120
    expect([...m.headMs]).toEqual([0, 40, 100, 120]);
    // cloudMs 2, 3, 1 → 6, 4, 1, 0
    expect([...m.tailMs]).toEqual([6, 4, 1, 0]);
    // weights 1, 2, 1 MiB → 4, 3, 1, 0 MiB
    expect([...m.tailWeightBytes]).toEqual([4, 3, 1, 0].map((x) => x * 1_048_576));
  });
});

describe('per-cut figures of the hand scenario', () => {
  it('cut 0 (warm, cloud-only) sends the raw input', () => {
    const f = figures(0, 10_000, 1);
    // sent 10000 B → up 10 ms; tail 2+3+1 = 6 ms; warm → pCold 0, coldMs 0
    // coldStartMs = 100 + 10·4 MiB = 140 (reported even though warm)
    // latency = 0 + 50 + 10 + 6 + 0.5 = 66.5 ms
    // energy  = (2·0 + 1·10 + 0.5·(50+6) + 1·0.5)/1000 = 38.5/1000 J
    // cost    = 2e-7 + 2e-8·6 = 3.2e-7 USD
    expect(f).toMatchObject({ sentBytes: 10_000, headMs: 0, upMs: 10, tailMs: 6, pCold: 0, coldStartMs: 140, coldMs: 0, downMs: 0.5 });
    expectClose(f.latencyMs, 66.5);
    expectClose(f.energyJ, 0.0385);
    expectClose(f.costUSD, 3.2e-7);
  });

  it('cut 0 ignores the crossing bytes and the dtype (the raw input is sent as is)', () => {
    expect(figures(0, 999_999, 1).sentBytes).toBe(10_000);
  });

  it('cut 1 (cold, formula cold start)', () => {
    const f = figures(1, 4000, 0);
    // head 40; sent 4000 → up 4; tail 3+1 = 4; pCold 1; coldStart 100 + 10·3 MiB = 130
    // remote = 4 + 130 = 134
    // latency = 40 + 50 + 4 + 134 + 0.5 = 228.5
    // energy  = (2·40 + 1·4 + 0.5·(50+134) + 1·0.5)/1000 = (80+4+92+0.5)/1000 = 0.1765
    // cost    = 2e-7 + 2e-8·134 = 2.88e-6
    expect(f).toMatchObject({ sentBytes: 4000, headMs: 40, upMs: 4, tailMs: 4, pCold: 1, coldStartMs: 130, coldMs: 130 });
    expectClose(f.latencyMs, 228.5);
    expectClose(f.energyJ, 0.1765);
    expectClose(f.costUSD, 2.88e-6);
  });

  it('cut 2 (cold, measured cold start wins over the formula)', () => {
    const f = figures(2, 2000, 0, 30);
    // head 100; up 2; tail 1; coldMs 30 (measured, the formula would give 110); remote 31
    // latency = 100 + 50 + 2 + 31 + 0.5 = 183.5
    // energy  = (200 + 2 + 0.5·81 + 0.5)/1000 = 0.243
    // cost    = 2e-7 + 2e-8·31 = 8.2e-7
    expect(f).toMatchObject({ coldStartMs: 30, coldMs: 30 });
    expectClose(f.latencyMs, 183.5);
    expectClose(f.energyJ, 0.243);
    expectClose(f.costUSD, 8.2e-7);
  });

  it('cut L (device-only) sends nothing and costs nothing', () => {
    const f = figures(3, 0, 0);
    // head 120; latency 120; energy 2·120/1000 = 0.24; everything remote is 0
    expect(f).toEqual({
      sentBytes: 0, headMs: 120, upMs: 0, tailMs: 0, pCold: 0, coldStartMs: 0, coldMs: 0, downMs: 0,
      latencyMs: 120, energyJ: 0.24, costUSD: 0,
    });
  });

  it('applies the dtype factor to crossings', () => {
    const s = parseScenario({ ...handScenario(), encoding: { dtype: 'int8' } });
    const f = computeCut(cutConstants(s, 3), prepareModel(s.model.layers), 1, 4000, 1, undefined, {} as CutFigures);
    // 4000 · 1/4 = 1000 B → up 1 ms
    expect(f.sentBytes).toBe(1000);
    expect(f.upMs).toBe(1);
  });
});
