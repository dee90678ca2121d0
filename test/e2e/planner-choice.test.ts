/**
 * One tail warm, another cold: the planner of the running stack picks the
 * warm cut while the cold one's advantage is smaller than its cold start,
 * and the cold cut once the advantage outweighs it — with every figure of
 * both rows checked against the spec's formulas (docs/cost-model.md §3).
 *
 * The situation, on tinychain (7 layers): a device that computes layers 0-5
 * for free and needs 10 s for the last one, so cut 6 (128 bytes cross) costs
 * the device nothing and cut 0 (the 3,072-byte input crosses) neither; the
 * difference between them is upload time, set through the uplink. Cut 0 is
 * made warm by one call; cut 6 has never run. The cold-start model is pinned
 * with COLD_BASE_MS = 2000 and COLD_MS_PER_MB = 0, so cut 6 pays exactly 2 s.
 */
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffloadApi, type PlanRequestBody, type PlanResponse } from '../../client/api';
import { DeviceModel } from '../../client/device';
import { encodeTensors } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { alive, startE2EStack, until, type E2EStack } from './stack-fixture';

const COLD_BASE_MS = 2000;
const WARM = 0;
const COLD = 6;
const RTT_MS = 10;
const DOWNLINK_MBPS = 10;

type Plan = PlanResponse & { fleet: Record<string, { idleWarm: number; inFlight: number; limit: number }> };
type Row = Plan['candidates'][number];
interface CatalogueModel {
  name: string;
  inputBytes: number;
  outputBytes: number;
  candidates: { cut: number; crossingBytes: number }[];
}

describe('warm versus cold in the plan of the running planner', () => {
  let e: E2EStack;
  let api: OffloadApi;
  let device: DeviceModel;
  let x: tf.Tensor;
  let model: CatalogueModel;
  const deviceMs = [0, 0, 0, 0, 0, 0, 10_000];

  beforeAll(async () => {
    await initBackend();
    e = await startE2EStack({ env: { FLEET_CACHE_MS: '0', COLD_BASE_MS: String(COLD_BASE_MS), COLD_MS_PER_MB: '0' } });
    api = new OffloadApi({ baseUrl: e.stack.url, timeoutMs: 20_000 });
    device = await DeviceModel.load('tinychain');
    x = device.randomInput(2);
    const { models } = (await api.models()) as { models: CatalogueModel[] };
    model = models.find((m) => m.name === 'tinychain') as CatalogueModel;

    // cut 0 warm: one call, then wait until the registry shows the idle instance
    const r = await api.infer(`/infer/tinychain/${WARM}`, encodeTensors(await device.runHead(WARM, x)));
    expect(r.cold).toBe(true);
    const observer: PlanRequestBody = { model: 'tinychain', device: { computeW: 3.5, idleW: 0.5, deviceMs: deviceMs.map(() => 0) }, network: 'wifi' };
    await until(async () => (((await api.plan(observer)) as Plan).fleet[String(WARM)]?.idleWarm === 1 ? true : undefined), 'cut 0 to show warm');
  });

  afterAll(async () => {
    x?.dispose();
    device?.dispose();
    const pids = (await e?.close()) ?? [];
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  /** The uplink at which cut 6 uploads `advantageMs` less than cut 0. */
  function uplinkFor(advantageMs: number): number {
    const saved = model.inputBytes - (model.candidates.find((c) => c.cut === COLD)?.crossingBytes as number);
    return (8 * saved) / 1e6 / (advantageMs / 1000);
  }

  async function planAt(uplinkMbps: number): Promise<{ plan: Plan; warm: Row; cold: Row }> {
    const plan = (await api.plan({
      model: 'tinychain',
      device: { computeW: 3.5, idleW: 0.5, deviceMs },
      network: { uplinkMbps, downlinkMbps: DOWNLINK_MBPS, rttMs: RTT_MS },
    })) as Plan;
    return { plan, warm: plan.candidates.find((c) => c.cut === WARM) as Row, cold: plan.candidates.find((c) => c.cut === COLD) as Row };
  }

  /** docs/cost-model.md §3, from the request, the manifest, the plan's fleet and the function's tail time. */
  function checkAgainstSpec(plan: Plan, row: Row, uplinkMbps: number): void {
    const c = row.cut;
    const sent = c === 0 ? model.inputBytes : (model.candidates.find((k) => k.cut === c)?.crossingBytes as number);
    const headMs = deviceMs.slice(0, c).reduce((s, v) => s + v, 0);
    const upMs = ((8 * sent) / (uplinkMbps * 1e6)) * 1000;
    const downMs = ((8 * model.outputBytes) / (DOWNLINK_MBPS * 1e6)) * 1000;
    const pCold = (plan.fleet[String(c)]?.idleWarm ?? 0) >= 1 ? 0 : 1;
    const coldMs = pCold * COLD_BASE_MS; // coldStartMs = COLD_BASE_MS + 0 × tail MiB
    expect(row.sentBytes).toBe(sent);
    expect(row.headMs).toBeCloseTo(headMs, 9);
    expect(row.upMs).toBeCloseTo(upMs, 6);
    expect(row.downMs).toBeCloseTo(downMs, 6);
    expect(row.pCold).toBe(pCold);
    expect(row.coldMs).toBeCloseTo(coldMs, 6);
    expect(row.latencyMs).toBeCloseTo(headMs + RTT_MS + upMs + row.tailMs + coldMs + downMs, 6);
  }

  function checkChoice(plan: Plan): void {
    const best = plan.candidates.filter((r) => r.feasible).reduce((a, b) => (b.latencyMs < a.latencyMs ? b : a));
    expect(plan.cut).toBe(best.cut);
  }

  it('takes the cold cut when its advantage (3 s of upload) outweighs its 2 s cold start', async () => {
    const uplink = uplinkFor(3000);
    const { plan, warm, cold } = await planAt(uplink);

    checkAgainstSpec(plan, warm, uplink);
    checkAgainstSpec(plan, cold, uplink);
    expect(warm.pCold).toBe(0);
    expect(cold).toMatchObject({ pCold: 1, coldMs: COLD_BASE_MS });
    expect(cold.latencyMs).toBeLessThan(warm.latencyMs);
    expect(plan).toMatchObject({ cut: COLD, target: 'cloud', function: `offload-e2e-tinychain-${COLD}`, route: `/infer/tinychain/${COLD}` });
    checkChoice(plan);
  });

  it('keeps the warm cut when the cold one saves less (1 s) than its cold start costs', async () => {
    const uplink = uplinkFor(1000);
    const { plan, warm, cold } = await planAt(uplink);

    checkAgainstSpec(plan, warm, uplink);
    checkAgainstSpec(plan, cold, uplink);
    expect(warm.pCold).toBe(0);
    expect(cold).toMatchObject({ pCold: 1, coldMs: COLD_BASE_MS });
    // warm, cut 6 would win; its cold start is what makes the planner stay on cut 0
    expect(cold.latencyMs - cold.coldMs).toBeLessThan(warm.latencyMs);
    expect(cold.latencyMs).toBeGreaterThan(warm.latencyMs);
    expect(plan).toMatchObject({ cut: WARM, target: 'cloud', function: `offload-e2e-tinychain-${WARM}`, route: `/infer/tinychain/${WARM}` });
    checkChoice(plan);
  });
});
