/**
 * The planner's view of the fleet (what `POST /plan` reports per function)
 * against the emulator's truth (`GET /_local/functions`), while requests run,
 * after a `kill -9` of an environment's process, and after a reap.
 *
 * Requests carry a batch of 256 inputs (the tails' batch limit raised to
 * allow it) so each one computes for about a second: long enough to look at
 * the fleet while it runs.
 */
import * as tf from '@tensorflow/tfjs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffloadApi, type PlanResponse } from '../../client/api';
import { DeviceModel } from '../../client/device';
import { encodeTensors } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/stack';
import type { EmulatorStats } from '../../local/emulator';
import { alive, startE2EStack, until, type E2EStack } from './stack-fixture';

const MODEL = 'tinydag';
const CUT = 0;
const FUNCTION = `offload-e2e-${MODEL}-${CUT}`;
const ROUTE = `/infer/${MODEL}/${CUT}`;
/**
 * How long the view may take to follow a change here (the ≤ 2 s target is
 * bench/fleet-truth.ts's to measure). Generous: a cold environment shows in
 * the registry once its bundle has loaded, seconds on a loaded machine.
 */
const FOLLOW_MS = 20_000;

type View = { idleWarm: number; inFlight: number };

describe('the planner’s fleet view follows the emulator', () => {
  let e: E2EStack;
  let api: OffloadApi;
  let device: DeviceModel;
  let payload: Uint8Array;

  beforeAll(async () => {
    await initBackend();
    e = await startE2EStack({ keepAliveMs: 120_000, overrides: { tail: { maxBatch: 256 } } });
    api = new OffloadApi({ baseUrl: e.stack.url, timeoutMs: 30_000 });
    device = await DeviceModel.load(MODEL);
    const x = tf.concat(Array.from({ length: 256 }, (_, i) => device.randomInput(i)));
    payload = encodeTensors(await device.runHead(CUT, x));
    x.dispose();
  });

  afterAll(async () => {
    device?.dispose();
    const pids = (await e?.close()) ?? [];
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  /** The planner's view of the function; a device that computes for free gets device-only plans, which reserve nothing. */
  async function plannerView(): Promise<View> {
    const plan = (await api.plan({
      model: MODEL,
      device: { computeW: 3.5, idleW: 0.5, deviceMs: new Array<number>(device.layerCount).fill(0) },
      network: 'wifi',
    })) as PlanResponse & { fleet: Record<string, View> };
    expect(plan.target).toBe('device');
    const f = plan.fleet[String(CUT)];
    return { idleWarm: f?.idleWarm ?? -1, inFlight: f?.inFlight ?? -1 };
  }

  async function truth(): Promise<{ view: View; pids: number[] }> {
    const stats = (await (await fetch(`${e.stack.url}/_local/functions`)).json()) as EmulatorStats;
    const fn = stats.functions.find((f) => f.name === FUNCTION);
    if (!fn) throw new Error(`${FUNCTION} missing from /_local/functions`);
    return { view: { idleWarm: fn.idle, inFlight: fn.busy + fn.initializing }, pids: fn.environments.map((env) => env.pid) };
  }

  /** Waits until the plan and the emulator agree on `want` (checked on both sides of the plan). */
  async function agreeOn(want: View, what: string): Promise<void> {
    const seen: string[] = [];
    await until(
      async () => {
        const before = (await truth()).view;
        const planned = await plannerView();
        const after = (await truth()).view;
        seen.push(JSON.stringify({ before, planned, after }));
        return [before, planned, after].every((v) => v.idleWarm === want.idleWarm && v.inFlight === want.inFlight) ? true : undefined;
      },
      what,
      FOLLOW_MS,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; last views (emulator before, plan, emulator after): ${seen.slice(-5).join(' ')}`);
    });
  }

  it('counts requests in flight while they run (cold and warm), idle after, and drops a killed and a reaped environment', async () => {
    // Nothing yet
    await agreeOn({ idleWarm: 0, inFlight: 0 }, 'an empty fleet');

    // A cold burst of two (the reserved concurrency): both counted in flight while they initialise and compute
    const cold = [api.infer(ROUTE, payload), api.infer(ROUTE, payload)];
    await agreeOn({ idleWarm: 0, inFlight: 2 }, 'two cold requests in flight');
    const [a, b] = await Promise.all(cold);
    expect([a?.cold, b?.cold]).toEqual([true, true]);
    await agreeOn({ idleWarm: 2, inFlight: 0 }, 'two idle warm environments');

    // A warm request: one in flight, one idle, while it computes
    const warm = api.infer(ROUTE, payload);
    await agreeOn({ idleWarm: 1, inFlight: 1 }, 'one warm request in flight');
    expect((await warm).cold).toBe(false);
    await agreeOn({ idleWarm: 2, inFlight: 0 }, 'both idle again');

    // kill -9 of one environment's process: it leaves the view (the platform retires it)
    const [victim] = (await truth()).pids;
    process.kill(victim as number, 'SIGKILL');
    await agreeOn({ idleWarm: 1, inFlight: 0 }, 'the killed environment to leave the view');

    // A reap: SIGTERM, the environment marks itself gone
    const exits: { graceful: boolean }[] = [];
    e.stack.emulator.on('lifecycle', (ev) => {
      if (ev.type === 'exit') exits.push(ev);
    });
    expect(await e.stack.emulator.reapIdle(FUNCTION)).toBe(1);
    await agreeOn({ idleWarm: 0, inFlight: 0 }, 'the reaped environment to leave the view');
    expect(exits).toEqual([expect.objectContaining({ graceful: true })]);

    // The registry keeps both ended environments as `gone` (their cold-start measurements still count)
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: e.stack.dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
    try {
      const items = (await client.send(new QueryCommand({ TableName: e.stack.table, KeyConditionExpression: 'fn = :fn', ExpressionAttributeValues: { ':fn': `${MODEL}#${CUT}` } }))).Items ?? [];
      expect(items.map((i) => i.state)).toEqual(['gone', 'gone']);
      expect(items.map((i) => i.invocations).sort()).toEqual([1, 2]);
      for (const i of items) expect(i.coldStartMs).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });
});
