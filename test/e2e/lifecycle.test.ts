/**
 * Cold, warm, reaped, cold again — as a device sees it through the HTTP API,
 * and as the planner sees it through the fleet registry.
 */
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OffloadApi, type PlanResponse } from '../../client/api';
import { DeviceModel } from '../../client/device';
import { decodeTensors, encodeTensors } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { alive, startE2EStack, until, type E2EStack } from './stack-fixture';

// This file waits out keep-alive and reaping on a local stack: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

const KEEP_ALIVE_MS = 5000;
const CUT = 10;
const FUNCTION = `offload-e2e-tinydag-${CUT}`;

type PlanWithFleet = PlanResponse & { fleet: Record<string, { idleWarm: number; inFlight: number; limit: number }> };

describe('execution environment lifecycle and the planner’s view of it', () => {
  let e: E2EStack;
  let api: OffloadApi;
  let device: DeviceModel;
  let x: tf.Tensor;
  let payload: Uint8Array;

  beforeAll(async () => {
    await initBackend();
    e = await startE2EStack({ keepAliveMs: KEEP_ALIVE_MS, env: { FLEET_CACHE_MS: '0' } });
    api = new OffloadApi({ baseUrl: e.stack.url, timeoutMs: 20_000 });
    device = await DeviceModel.load('tinydag');
    x = device.randomInput(3);
    payload = encodeTensors(await device.runHead(CUT, x));
  });

  afterAll(async () => {
    x?.dispose();
    device?.dispose();
    const pids = (await e?.close()) ?? [];
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  /**
   * The planner's view of the function: a device that computes for free
   * makes every plan device-only, so observing never reserves an instance.
   */
  async function plannerView(): Promise<{ idleWarm: number; pCold: number }> {
    const plan = (await api.plan({
      model: 'tinydag',
      device: { computeW: 3.5, idleW: 0.5, deviceMs: new Array<number>(device.layerCount).fill(0) },
      network: 'wifi',
    })) as PlanWithFleet;
    expect(plan.target).toBe('device');
    const row = plan.candidates.find((c) => c.cut === CUT);
    return { idleWarm: plan.fleet[String(CUT)]?.idleWarm ?? -1, pCold: row?.pCold ?? -1 };
  }

  const fnStats = () => e.stack.emulator.stats().functions.find((f) => f.name === FUNCTION);

  it('is cold first (init reported), warm next, reaped after the keep-alive, then cold again', async () => {
    // Before any call: nothing warm
    expect(await plannerView()).toEqual({ idleWarm: 0, pCold: 1 });

    // First call: a cold start that reports its init
    const first = await api.infer(`/infer/tinydag/${CUT}`, payload);
    expect(first.cold).toBe(true);
    expect(first.initMs).toBeGreaterThan(0);
    expect(first.instance).toBeTruthy();
    // the reported init is the whole Init phase: at least the runtime start and bundle load the emulator timed
    const runtimeStartMs = fnStats()?.environments[0]?.initMs as number;
    expect(runtimeStartMs).toBeGreaterThan(0);
    expect(first.initMs).toBeGreaterThanOrEqual(runtimeStartMs);

    // The planner now counts one warm idle instance
    // (the view that showed it is the one checked: on a loaded machine another plan may come after the reap)
    const warmView = await until(async () => {
      const v = await plannerView();
      return v.idleWarm === 1 ? v : undefined;
    }, 'the registry to show the instance idle');
    expect(warmView).toEqual({ idleWarm: 1, pCold: 0 });

    // Second call: warm, same environment, no init
    const second = await api.infer(`/infer/tinydag/${CUT}`, payload);
    const lastUse = Date.now();
    expect(second.cold).toBe(false);
    expect(second.initMs).toBeNull();
    expect(second.instance).toBe(first.instance);
    expect(fnStats()?.idle).toBe(1);

    // After the keep-alive the emulator reaps it, and the planner stops counting on it
    await until(() => (fnStats()?.reaped === 1 ? true : undefined), 'the idle environment to be reaped', KEEP_ALIVE_MS + 5000);
    expect(Date.now() - lastUse).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    expect(fnStats()?.environments).toEqual([]);
    await until(async () => ((await plannerView()).idleWarm === 0 ? true : undefined), 'the reaped environment (gone on SIGTERM) to leave the view', 3000);
    expect(await plannerView()).toEqual({ idleWarm: 0, pCold: 1 });

    // Third call: a new environment, cold again, same answer
    const third = await api.infer(`/infer/tinydag/${CUT}`, payload);
    expect(third.cold).toBe(true);
    expect(third.initMs).toBeGreaterThan(0);
    expect(third.instance).not.toBe(first.instance);
    expect(decodeTensors(third.body)[0]?.data).toEqual(decodeTensors(first.body)[0]?.data);
    expect(fnStats()).toMatchObject({ coldStarts: 2, invocations: 3, reaped: 1, errors: 0 });
  });
});
