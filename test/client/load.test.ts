import { describe, expect, it } from 'vitest';
import { check, energyPrices, OUTPUT_TOLERANCE, sleep } from '../../client/load';
import { NETWORK_PRESETS } from '../../core/presets';
import { THIS_MACHINE_POWER } from '../../core/this-machine';

describe('check (output against the full model)', () => {
  const reference = Float32Array.from([0.1, 0.7, 0.2]);

  it('matches the same output and one within the tolerance', () => {
    expect(check(reference, reference, 'float32')).toBe('match');
    expect(check(Float32Array.from([0.1, 0.7 - 0.5 * OUTPUT_TOLERANCE * 0.7, 0.2]), reference, 'float32')).toBe('match');
  });

  it('a different top class, a float32 drift past the tolerance or a wrong length is a mismatch', () => {
    expect(check(Float32Array.from([0.8, 0.7, 0.2]), reference, 'float32')).toBe('mismatch');
    expect(check(Float32Array.from([0.1, 0.75, 0.2]), reference, 'float32')).toBe('mismatch');
    expect(check(Float32Array.from([0.1, 0.7]), reference, 'float32')).toBe('mismatch');
  });

  it('quantised crossings are held to the top class only', () => {
    expect(check(Float32Array.from([0.1, 0.75, 0.2]), reference, 'int8')).toBe('match');
    expect(check(Float32Array.from([0.8, 0.7, 0.2]), reference, 'float16')).toBe('mismatch');
  });
});

describe('energyPrices', () => {
  it('takes the power of the class and the radio of the network (Huang et al. model)', () => {
    const p = energyPrices('this-machine', 'wifi');
    const n = NETWORK_PRESETS.wifi;
    expect(p.computeW).toBe(THIS_MACHINE_POWER.computeW);
    expect(p.pUpW).toBeCloseTo((n.radio.alphaUp * n.uplinkMbps + n.radio.beta) / 1000, 12);
    expect(p.pDownW).toBeCloseTo((n.radio.alphaDown * n.downlinkMbps + n.radio.beta) / 1000, 12);
    expect(() => energyPrices('toaster', 'wifi')).toThrow(/unknown device class "toaster"/);
  });
});

describe('sleep', () => {
  it('ends early when the signal aborts, and at once for 0 or an aborted signal', async () => {
    const c = new AbortController();
    const t0 = performance.now();
    const waiting = sleep(60_000, c.signal);
    setTimeout(() => c.abort(), 20);
    await waiting;
    expect(performance.now() - t0).toBeLessThan(30_000);
    await sleep(0);
    await sleep(60_000, c.signal);
  });
});
