/**
 * bench/fleet-truth.ts's exported API on the small e2e stack (seconds, not
 * the benchmark's minutes): the result holds what docs/evaluation.md reads,
 * and its counts are consistent. The figures themselves are the
 * benchmark's to report, not this test's to judge.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatFleetTruth, runFleetTruth } from '../../bench/fleet-truth';
import { E2E_CONFIG, preparedStateDir } from '../e2e/stack-fixture';

describe('runFleetTruth', () => {
  it('measures agreement, the registry lag, the killed and reaped environments, and cold starts, and formats them', async () => {
    const stateDir = await preparedStateDir();
    try {
      const r = await runFleetTruth({
        configFile: E2E_CONFIG,
        stateDir,
        burst: { model: 'tinydag', cut: 10 },
        durationMs: 2_000,
        burstOnMs: 1_000,
        burstOffMs: 500,
        coldRepeats: 1,
        lagRequests: 3,
        log: () => undefined,
      });

      const a = r.agreement!;
      expect(a.function).toBe('offload-e2e-tinydag-10');
      expect(a.plans).toBeGreaterThan(0);
      expect(a.atArrival).toBe(true); // the shipped default, recorded beside the figure
      expect(a.exact).toBeLessThanOrEqual(a.plans);
      expect(a.exactPct).toBeCloseTo((100 * a.exact) / a.plans, 9);
      expect(a.strict).toBeLessThanOrEqual(a.strictOf);
      expect(a.requests.ok + a.requests.throttled + a.requests.failed).toBeGreaterThan(0);
      // Lone requests: both sides saw each one busy, then idle; the registry can only follow the emulator.
      const g = r.lag!;
      expect(g.function).toBe(a.function);
      expect(g.requests).toBeGreaterThan(0);
      expect(g.requests).toBeLessThanOrEqual(3);
      expect(g.platformBusyMs).toBeGreaterThan(0);
      expect(g.registryBusyMs).toBeGreaterThan(0);
      expect(g.busyMarkLagMs).toBeGreaterThan(0);
      expect(g.queryMs).toBeGreaterThan(0);
      for (const l of [r.killed!, r.reaped!]) {
        expect(l.leaveMs).toBeGreaterThan(0);
        expect(l.leaveMs).toBeLessThan(60_000);
      }
      expect(r.killed!.how).toBe('kill -9');
      expect(r.reaped!.how).toBe('reap');
      const c = r.coldStart!;
      expect(c.rows).toHaveLength(8); // every tail of the e2e configuration
      for (const row of c.rows.filter((x) => !x.error)) {
        expect(row.clientColdMs).toBeGreaterThan(0);
        expect(row.tailReportedMs).toBeGreaterThan(0);
        expect(row.predictedMs).toBeCloseTo(c.coldBaseMs + c.coldMsPerMB * row.tailMiB, 9);
      }
      expect(r.loadAverage.after).toBeGreaterThanOrEqual(0);
      const text = formatFleetTruth(r);
      expect(text).toContain(`exact ${a.exact}/${a.plans} plans`);
      expect(text).toContain('median error over');
      expect(text).toContain(`the busy mark shows ${g.busyMarkLagMs.toFixed(0)} ms after the emulator's busy`);
      expect(text).toContain('fleet judged at the arrival (a prediction)');
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
