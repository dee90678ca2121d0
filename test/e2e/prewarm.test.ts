/**
 * Planner prewarm on the running local stack (real planner and tail
 * processes in the emulator, dynalite registry, s3rver artifacts): the
 * cold-fleet trap and the way out of it.
 *
 * The situation, on tinychain: a device that needs 100 ms per layer (700 ms
 * for the whole model) on wifi; the cold-start model pinned at 5 s
 * (COLD_BASE_MS = 5000, COLD_MS_PER_MB = 0), so every cold tail loses to the
 * device and every warm one (an RTT and a few ms) beats it. Without prewarm
 * the plan stays on the device and no tail is ever invoked; with it
 * (`planner.prewarm.enabled`, the default of cdk/offload.config.json and
 * local/offload.local.json) the second such plan within the keep-alive starts
 * the tail that would win warm, the emulator shows that environment idle, and
 * the next plan offloads to it.
 *
 * The end-to-end configuration (test/e2e/fixtures/e2e.config.json) turns
 * prewarm off so that the other end-to-end tests' counts of invocations and
 * cold starts are their subject's alone; the `on` stack here overrides it back
 * to the default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffloadApi, type PlanRequestBody, type PlanResponse } from '../../client/api';
import type { EmulatorStats } from '../../local/emulator';
import { startE2EStack, until, type E2EStack } from './stack-fixture';

const env = { FLEET_CACHE_MS: '0', COLD_BASE_MS: '5000', COLD_MS_PER_MB: '0' };
const request: PlanRequestBody = {
  model: 'tinychain',
  device: { computeW: 3.5, idleW: 0.5, deviceMs: [100, 100, 100, 100, 100, 100, 100] },
  network: 'wifi',
};

type Plan = PlanResponse & { fleet: Record<string, { idleWarm: number; inFlight: number; limit: number }> };

async function localFunctions(url: string): Promise<EmulatorStats> {
  const res = await fetch(`${url}/_local/functions`);
  expect(res.status).toBe(200);
  return (await res.json()) as EmulatorStats;
}

/** Every tinychain tail's environments and invocations as the emulator reports them. */
async function tails(url: string) {
  return (await localFunctions(url)).functions.filter((f) => f.name.startsWith('offload-e2e-tinychain-'));
}

describe('planner prewarm on the local stack', () => {
  describe('on (the default configuration\'s planner.prewarm)', () => {
    let e: E2EStack;
    let api: OffloadApi;

    beforeAll(async () => {
      e = await startE2EStack({ env, overrides: { planner: { prewarm: { enabled: true, minGain: 0.05 } } } });
      api = new OffloadApi({ baseUrl: e.stack.url, timeoutMs: 20_000 });
    }, 300_000);

    afterAll(async () => {
      await e?.close();
    });

    it('a second plan that stays on the device because the tail is cold warms the tail, and a following plan offloads to it', async () => {
      // Act: the first plan, on a cold fleet: the first to want the tail, so nothing starts yet
      const first = (await api.plan(request)) as Plan;
      await new Promise((r) => setTimeout(r, 700));
      for (const f of await tails(e.stack.url)) expect(f.invocations, f.name).toBe(0);
      // the second, within the keep-alive: the traffic recurs
      const second = (await api.plan(request)) as Plan;
      expect(second.target).toBe('device');

      // Assess: the plan is the spec's (device-only: every tail would pay 5 s), and the warm winner is known from its rows
      expect(first.target).toBe('device');
      const winner = first.candidates
        .filter((r) => r.cut < first.L && !r.reasons.includes('no-function'))
        .sort((a, b) => a.latencyMs - a.coldMs - (b.latencyMs - b.coldMs))[0]!;
      expect(winner.latencyMs - winner.coldMs).toBeLessThan(first.predicted.latencyMs);
      const fnName = `offload-e2e-tinychain-${winner.cut}`;

      // the emulator starts that function's environment (and no other tail's), which turns idle once initialised
      const warmed = await until(async () => {
        const fns = await tails(e.stack.url);
        const fn = fns.find((f) => f.name === fnName);
        return fn && fn.idle === 1 ? fns : undefined;
      }, `${fnName} to be idle and warm in /_local/functions`, 60_000);
      const fn = warmed.find((f) => f.name === fnName)!;
      expect(fn.coldStarts).toBe(1);
      expect(fn.invocations).toBe(1);
      for (const other of warmed.filter((f) => f.name !== fnName)) expect(other.invocations).toBe(0);

      // the planner sees it warm (registry), and the next plan offloads to it
      const next = await until(async () => {
        const p = (await api.plan(request)) as Plan;
        return p.target === 'cloud' ? p : undefined;
      }, 'a plan that offloads', 30_000);
      expect(next.cut).toBe(winner.cut);
      expect(next.fleet[String(winner.cut)]!.idleWarm).toBe(1);
      expect(next.candidates.find((r) => r.cut === winner.cut)!.pCold).toBe(0);
      // …and the tail it names answers warm
      const after = (await tails(e.stack.url)).find((f) => f.name === fnName)!;
      expect(after.coldStarts).toBe(1);
    }, 120_000);
  });

  describe('off (planner.prewarm.enabled false)', () => {
    let e: E2EStack;
    let api: OffloadApi;

    beforeAll(async () => {
      e = await startE2EStack({ env });
      api = new OffloadApi({ baseUrl: e.stack.url, timeoutMs: 20_000 });
    }, 300_000);

    afterAll(async () => {
      await e?.close();
    });

    it('the same plans invoke nothing: the fleet stays cold and the planner stays on the device', async () => {
      const plans: Plan[] = [];
      for (let i = 0; i < 3; i++) {
        plans.push((await api.plan(request)) as Plan);
        await new Promise((r) => setTimeout(r, 700));
      }
      expect(plans.map((p) => p.target)).toEqual(['device', 'device', 'device']);
      for (const f of await tails(e.stack.url)) {
        expect(f.invocations, f.name).toBe(0);
        expect(f.environments, f.name).toEqual([]);
      }
    }, 60_000);
  });
});
