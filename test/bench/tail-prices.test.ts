import { describe, expect, it } from 'vitest';
import { measuredThreads, PRICE_MEMORY_MB, PRICE_MODELS, priceTable } from '../../bench/tail-prices';
import { CLOUD_DEFAULTS } from '../../core/presets';

/** Rows of the markdown table as numbers, by model. */
function rows(table: string): Map<string, { mb: number; threads: number; single: number; threaded: number; singleUSD: number; threadedUSD: number }[]> {
  const out = new Map<string, { mb: number; threads: number; single: number; threaded: number; singleUSD: number; threadedUSD: number }[]>();
  for (const line of table.split('\n').filter((l) => /^\| [a-z]/.test(l) && !l.startsWith('| model'))) {
    const [model, mb, threads, single, threaded, singleUSD, threadedUSD] = line.split('|').slice(1, -1).map((c) => c.trim());
    out.set(model!, [...(out.get(model!) ?? []), { mb: +mb!, threads: +threads!, single: +single!, threaded: +threaded!, singleUSD: +singleUSD!, threadedUSD: +threadedUSD! }]);
  }
  return out;
}

describe('bench/tail-prices (docs/profiles.md, "Memory size")', () => {
  const table = rows(priceTable());

  it('has a row per default tail and memory size', () => {
    expect([...table.keys()]).toEqual([...PRICE_MODELS]);
    for (const r of table.values()) expect(r.map((x) => x.mb)).toEqual([...PRICE_MEMORY_MB]);
  });

  it('gives the measured times where the model has no say: one vCPU, and 2 vCPUs for the threaded engine', () => {
    for (const model of PRICE_MODELS) {
      const m = measuredThreads(model);
      const at = (mb: number) => table.get(model)!.find((r) => r.mb === mb)!;
      expect(at(1769).single).toBe(Math.round(m.oneMs));
      expect(at(1769).threaded).toBe(Math.round(m.oneMs));
      expect(at(3538).threaded).toBe(Math.round(m.twoMs));
      expect(m.parallelFraction).toBeGreaterThanOrEqual(0);
      expect(m.parallelFraction).toBeLessThanOrEqual(1);
    }
  });

  it('prices time × memory plus the request fee, and more memory never slows a tail', () => {
    for (const r of table.values()) {
      for (const x of r) {
        const usd = (ms: number) => (CLOUD_DEFAULTS.requestUSD + (CLOUD_DEFAULTS.gbSecondUSD * x.mb * ms) / 1024 / 1000) * 1e6;
        // the table rounds ms to whole numbers: compare within that rounding
        expect(Math.abs(x.threadedUSD - usd(x.threaded))).toBeLessThan(usd(0.5) - usd(0) + 0.01);
        expect(x.threaded).toBeLessThanOrEqual(x.single);
      }
      for (let i = 1; i < r.length; i++) expect(r[i]!.threaded).toBeLessThanOrEqual(r[i - 1]!.threaded);
    }
  });
});
