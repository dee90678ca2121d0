/**
 * bench/evaluation.ts's fleet-truth section: the verdict table, then, when the
 * run measured the registry lag, the reason the agreement misses, with that
 * run's figures (not figures written into the generator).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetTruthSection } from '../../bench/evaluation';
import type { FleetTruthResult } from '../../bench/fleet-truth';

const dir = mkdtempSync(join(tmpdir(), 'offload-eval-ft-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const agreement: NonNullable<FleetTruthResult['agreement']> = {
  function: 'offload-mobilenetv2-0',
  model: 'mobilenetv2',
  cut: 0,
  reservedConcurrency: 4,
  cacheMs: 100,
  atArrival: true,
  planEveryMs: 100,
  durationMs: 30_000,
  plans: 300,
  exact: 180,
  exactPct: 60,
  strict: 150,
  strictOf: 250,
  strictPct: 60,
  requests: { ok: 160, throttled: 350, failed: 0, cold: 0 },
  planMs: { median: 23, max: 180 },
  misses: [],
};

function section(result: FleetTruthResult): string {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(result));
  return fleetTruthSection(file);
}

describe('the fleet-truth section of docs/evaluation.md', () => {
  const base: FleetTruthResult = { startedAt: '2026-12-01T05:27:26.797Z', loadAverage: { before: 0.4, after: 1.3 }, stackStartMs: 1100, agreement };

  it('gives the reason for the misses with the measured lag', () => {
    const text = section({
      ...base,
      lag: { function: agreement.function, requests: 15, platformBusyMs: 188, registryBusyMs: 153, busyMarkLagMs: 40, idleMarkLagMs: -2, queryMs: 4 },
    });
    expect(text).toContain('| fleet-view agreement (plans every 100 ms during bursts, fleet cache 100 ms) | 60.0 % of 300 plans exact | ≥ 95 % |');
    expect(text).toContain('the registry trails the platform by 40 ms at the start of every invocation');
    expect(text).toContain('the idle mark lands 2 ms before the emulator');
    expect(text).toContain('Of the 188 ms the emulator counts an environment busy, the registry shows 153');
    expect(text).toContain('the busy mark shows 40 ms after the emulator');
  });

  it('says nothing of the lag when the run did not measure it', () => {
    const text = section(base);
    expect(text).toContain('60.0 % of 300 plans exact');
    expect(text).not.toContain('trails the platform');
  });
});
