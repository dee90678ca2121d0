/**
 * The load harness's planner requests against a real HTTP API whose POST /plan is slow (a fake planner next to the
 * unit; the tail is the real tail sub-model): the device starts its head as it asks, so the plan's round trip runs
 * beside the head's wait, unless `waitForPlan` asks for the old timing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffloadApi } from '../../client/api';
import { DeviceModel } from '../../client/device';
import { runLoad } from '../../client/load';
import type { LoadRecord } from '../../core/load-record';
import { parsePolicy } from '../../core/policies';
import type { ModelProfile } from '../../core/profiles';
import { NETWORK_PRESETS } from '../../core/presets';
import { decodeTensors, encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { readBody, startLocalServer, type LocalServer } from '../../testkit/http-server';

/** How long the fake planner takes to answer, ms; the harness adds the network's RTT (wifi: 30 ms). */
const PLAN_DELAY_MS = 300;
const RTT_MS = NETWORK_PRESETS.wifi.rttMs;

let server: LocalServer;
let baseUrl: string;
let cloud: DeviceModel;
/** What the next plans say: the cut, and the device's predicted head time at it and for the whole model. */
let answer = { cut: 0, headMs: 0, wholeMs: 0 };
let infers = 0;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const payload = await readBody(req);
  const L = cloud.layerCount;
  if (req.url === '/plan') {
    const probe = (JSON.parse(payload.toString()) as { constraints?: { maxLatencyMs?: number } }).constraints?.maxLatencyMs === 0;
    // The harness's probe before the clock is answered at once; the plans of the run take PLAN_DELAY_MS.
    if (!probe) await new Promise((r) => setTimeout(r, PLAN_DELAY_MS));
    const row = (cut: number, headMs: number) => ({
      cut,
      layer: `l${cut}`,
      sentBytes: cut === L ? 0 : 10,
      headMs,
      upMs: cut === L ? 0 : 2,
      tailMs: cut === L ? 0 : 3,
      pCold: 0,
      coldStartMs: 0,
      coldMs: 0,
      downMs: cut === L ? 0 : 1,
      latencyMs: cut === L ? headMs : headMs + RTT_MS + 6,
      energyJ: 0.1,
      costUSD: cut === L ? 0 : 1e-6,
      feasible: true,
      reasons: [],
    });
    const rows = answer.cut === L ? [row(L, answer.wholeMs)] : [row(answer.cut, answer.headMs), row(L, answer.wholeMs)];
    const cloudCut = answer.cut !== L;
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        model: cloud.name,
        objective: 'latency',
        cut: answer.cut,
        L,
        target: cloudCut ? 'cloud' : 'device',
        function: cloudCut ? `fn-${answer.cut}` : null,
        feasible: true,
        reasons: [],
        dtype: 'float32',
        predicted: { latencyMs: 20, energyJ: 0.1, costUSD: 1e-6 },
        candidates: rows,
        route: cloudCut ? `/infer/${cloud.name}/${answer.cut}` : null,
        fleet: {},
        fleetSource: 'none',
      }),
    );
  }
  infers++;
  const out = await cloud.runTail(answer.cut, decodeTensors(new Uint8Array(payload)));
  res.writeHead(200, { 'content-type': WIRE_CONTENT_TYPE, 'x-offload-cold': 'false', 'x-offload-compute-ms': '3' });
  res.end(Buffer.from(encodeTensors([{ name: 'output', shape: out.shape, data: out.data }])));
}

beforeAll(async () => {
  await initBackend();
  cloud = await DeviceModel.load('tinydag');
  server = await startLocalServer(handle);
  baseUrl = server.url;
});

afterAll(async () => {
  await server.close();
  cloud.dispose();
});

async function one(waitForPlan: boolean, thisMachine = false): Promise<LoadRecord> {
  const { records } = await runLoad({
    api: new OffloadApi({ baseUrl }),
    arrivals: [{ t: 0, device: 'd0', class: thisMachine ? 'this-machine' : 'low-end-phone', network: 'wifi', model: 'tinydag' }],
    policy: parsePolicy('planner'),
    models: {
      load: (name) => DeviceModel.load(name),
      // Only its per-layer times are read (sent as the device's deviceMs; the fake planner ignores them).
      profile: () => ({ layers: Array.from({ length: cloud.layerCount }, () => ({ ms: 1 })) }) as unknown as ModelProfile,
    },
    computeHead: thisMachine,
    waitForPlan,
  });
  return records[0]!;
}

const midCut = () => cloud.analysis.candidates.filter((c) => c.cut > 0).at(-1)!.cut;

describe('runLoad, planner policy: the head runs while the plan is in flight', () => {
  it('device-only no longer pays the plan round trip; --wait-for-plan still does', async () => {
    answer = { cut: cloud.layerCount, headMs: 500, wholeMs: 500 };
    const on = await one(false);
    const off = await one(true);
    for (const r of [on, off]) expect([r.cut, r.target, r.status, r.output]).toEqual([cloud.layerCount, 'device', null, 'simulated']);
    expect(on.measured.planMs!).toBeGreaterThanOrEqual(PLAN_DELAY_MS + RTT_MS);
    expect(on.measured.planWaitMs).toBe(0);
    // The whole model's 500 ms, not the plan's ~330 on top of it.
    expect(on.measured.latencyMs).toBeGreaterThan(495);
    expect(on.measured.latencyMs).toBeLessThan(500 + PLAN_DELAY_MS);
    expect(off.measured.planWaitMs).toBe(off.measured.planMs);
    // (timers may fire a millisecond early)
    expect(off.measured.latencyMs).toBeGreaterThan(off.measured.planMs! + 495);
  }, 30_000);

  it('a mid cut whose head is done first waits only for the rest of the plan, computing past the cut meanwhile', async () => {
    answer = { cut: midCut(), headMs: 100, wholeMs: 2000 };
    const on = await one(false);
    const off = await one(true);
    for (const r of [on, off]) expect([r.cut, r.target, r.status, r.output]).toEqual([midCut(), 'cloud', 200, 'match']);
    // The head reached the cut at 100 ms; the plan came at ~330: the request waited ~230 ms of it.
    expect(on.measured.headMs).toBe(100);
    expect(on.measured.planWaitMs!).toBeGreaterThanOrEqual(on.measured.planMs! - 100);
    expect(on.measured.planWaitMs!).toBeLessThan(on.measured.planMs!);
    expect(off.measured.planWaitMs).toBe(off.measured.planMs);
    expect(off.measured.headMs).toBeGreaterThan(95);
    // Latency less the wait for the plan is the inference either way: head, RTT, upload, round trip, download.
    for (const r of [on, off]) {
      const inference = r.measured.latencyMs - r.measured.planWaitMs!;
      expect(inference).toBeGreaterThan(100 + RTT_MS + 2 + r.measured.roundTripMs! + 1 - 5);
    }
    // Overlapped, the layers past the cut cost compute power (low-end phone: 2.5 W) instead of idle power (0.3 W).
    expect(on.measured.energyJ).toBeGreaterThan(off.measured.energyJ);
  }, 30_000);

  it('the whole model done before the plan comes is the answer: nothing is sent, whatever the plan says', async () => {
    answer = { cut: midCut(), headMs: 50, wholeMs: 120 };
    const before = infers;
    const on = await one(false);
    expect([on.cut, on.planCut, on.target, on.status, on.fallback]).toEqual([cloud.layerCount, midCut(), 'device', null, null]);
    expect(on.measured.latencyMs).toBeGreaterThan(115);
    expect(on.measured.latencyMs).toBeLessThan(PLAN_DELAY_MS);
    expect(on.measured.planMs!).toBeGreaterThanOrEqual(PLAN_DELAY_MS + RTT_MS);
    expect(on.measured.planWaitMs).toBe(0);
    expect(infers).toBe(before);
  }, 30_000);

  it('this-machine with --compute-head: the real head runs while the plan is in flight; done first, its answer is checked and nothing is sent', async () => {
    answer = { cut: midCut(), headMs: 1, wholeMs: 5 };
    const before = infers;
    const on = await one(false, true);
    // tinydag runs in milliseconds, the plan takes ~330: the device has its answer first.
    expect([on.cut, on.planCut, on.target, on.status, on.output]).toEqual([cloud.layerCount, midCut(), 'device', null, 'match']);
    expect(on.measured.latencyMs).toBeLessThan(PLAN_DELAY_MS);
    expect(on.measured.planWaitMs).toBe(0);
    expect(infers).toBe(before);
    const off = await one(true, true);
    expect([off.cut, off.target, off.status, off.output]).toEqual([midCut(), 'cloud', 200, 'match']);
    expect(off.measured.planWaitMs).toBe(off.measured.planMs);
    expect(infers).toBe(before + 1);
  }, 30_000);
});

