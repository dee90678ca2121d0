import { describe, expect, it } from 'vitest';
import { makeDevices } from '../../core/workload';
import { AZURE_RATE_LOG10, DAY_MS, azureSources, diurnalFactor, gamma, generateSynthetic, interArrival } from '../../core/workload-synthetic';
import { seededRandom } from '../../core/random';

const devices = makeDevices(2000, [{ class: 'low-end-phone', network: '4g' }]);

function cv(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
  return Math.sqrt(v) / m;
}

describe('gamma inter-arrival draws', () => {
  it('have the asked mean and coefficient of variation, on both sides of 1', () => {
    const random = seededRandom(3);
    for (const c of [0.3, 1, 2.5]) {
      const xs = Array.from({ length: 40_000 }, () => interArrival(random, 100, c));
      expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(100, -0.5);
      expect(cv(xs)).toBeGreaterThan(c * 0.93);
      expect(cv(xs)).toBeLessThan(c * 1.07);
    }
    expect(interArrival(random, 100, 0)).toBe(100);
    expect(gamma(random, 0.2)).toBeGreaterThanOrEqual(0);
  });
});

describe('diurnal', () => {
  const arrivals = generateSynthetic({ process: { kind: 'diurnal', ratePerS: 2 }, devices, model: 'm', seed: 9, durationMs: DAY_MS, maxRequests: 1e6 });

  it('keeps the mean rate and swings from the baseline (half) to the peak', () => {
    expect(arrivals.length / 86_400).toBeGreaterThan(1.95);
    expect(arrivals.length / 86_400).toBeLessThan(2.05);
    const hour = (h: number) => arrivals.filter((a) => a.t >= h * 3_600_000 && a.t < (h + 1) * 3_600_000).length;
    // Peak at 12:00 (half a day), trough at 00:00: f = 1 vs 0.5.
    expect(hour(11.5) / hour(0)).toBeGreaterThan(1.75);
    expect(hour(11.5) / hour(0)).toBeLessThan(2.3);
    expect(diurnalFactor(0, 0.5, DAY_MS, DAY_MS / 2)).toBeCloseTo(0.5, 12);
    expect(diurnalFactor(DAY_MS / 2, 0.5, DAY_MS, DAY_MS / 2)).toBeCloseTo(1, 12);
  });

  it('is in time order and reproducible from its seed', () => {
    expect(arrivals.every((a, i) => i === 0 || a.t >= arrivals[i - 1]!.t)).toBe(true);
    const again = generateSynthetic({ process: { kind: 'diurnal', ratePerS: 2 }, devices, model: 'm', seed: 9, durationMs: DAY_MS, maxRequests: 1e6 });
    expect(again).toEqual(arrivals);
  });
});

describe('azure-like (Shahrad et al. ATC 2020 statistics)', () => {
  it('draws source rates with the published quantiles before scaling (45 % <= 1/h, 81 % <= 1/min)', () => {
    const random = seededRandom(5);
    const n = 20_000;
    const raw = Array.from({ length: n }, () => Math.pow(10, AZURE_RATE_LOG10.mu + AZURE_RATE_LOG10.sigma * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())));
    expect(raw.filter((r) => r <= 1 / 3600).length / n).toBeCloseTo(0.45, 1);
    expect(raw.filter((r) => r <= 1 / 60).length / n).toBeCloseTo(0.81, 1);
  });

  it('scales to the asked total rate, 40 % of sources bursty (CV > 1)', () => {
    const sources = azureSources({ kind: 'azure', ratePerS: 10, shareCvAbove1: 0.4, maxCv: 4, baseline: 0.5, periodMs: DAY_MS }, 5000, seededRandom(1));
    expect(sources.reduce((a, s) => a + s.ratePerS, 0)).toBeCloseTo(10, 9);
    const bursty = sources.filter((s) => s.cv > 1).length / sources.length;
    expect(bursty).toBeGreaterThan(0.37);
    expect(bursty).toBeLessThan(0.43);
  });

  it('gives a skewed, bursty, time-ordered day: the top 18.6 % of devices send almost everything', () => {
    const arrivals = generateSynthetic({ process: { kind: 'azure', ratePerS: 2 }, devices, model: 'm', seed: 2, durationMs: DAY_MS, maxRequests: 1e6 });
    expect(arrivals.length / 86_400).toBeGreaterThan(1.0);
    expect(arrivals.length / 86_400).toBeLessThan(4);
    expect(arrivals.every((a, i) => i === 0 || a.t >= arrivals[i - 1]!.t)).toBe(true);
    const perDevice = new Map<string, number>();
    for (const a of arrivals) perDevice.set(a.device, (perDevice.get(a.device) ?? 0) + 1);
    const counts = [...perDevice.values()].sort((a, b) => b - a);
    const top = counts.slice(0, Math.ceil(devices.length * 0.186)).reduce((a, b) => a + b, 0);
    expect(top / arrivals.length).toBeGreaterThan(0.97);
    // The aggregate is burstier than Poisson at the second scale: index of dispersion of per-second counts > 1.
    const perSecond = new Float64Array(86_400);
    for (const a of arrivals) perSecond[Math.floor(a.t / 1000)]! += 1;
    const m = arrivals.length / 86_400;
    const v = perSecond.reduce((acc, c) => acc + (c - m) ** 2, 0) / 86_400;
    expect(v / m).toBeGreaterThan(1.2);
  });

  it('refuses a bad rate naming the field', () => {
    expect(() => generateSynthetic({ process: { kind: 'azure', ratePerS: -1 }, devices, model: 'm', seed: 2, durationMs: 1000, maxRequests: 10 })).toThrow(/process\.ratePerS: must be > 0/);
  });
});
