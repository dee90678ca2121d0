/**
 * The device runs its model while POST /plan is in flight (client/device-model.ts runAhead, client/infer.ts): real
 * tfjs against what today's split computes, and a slow fake planner next to the unit for the timing.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OffloadApi } from '../../client/api';
import { DeviceModel } from '../../client/device';
import { collaborativeInfer } from '../../client/infer';
import { decodeTensors, encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { readBody, startLocalServer, type LocalServer } from '../../testkit/http-server';
import { maxAbsDiff } from '../../testkit/tensors';

/** Resolves with `value` after `ticks` turns of the event loop (setImmediate): runAhead runs one chunk per turn. */
function afterTicks<T>(ticks: number, value: T): Promise<T> {
  return new Promise((resolve) => {
    const step = (left: number) => (left === 0 ? resolve(value) : setImmediate(() => step(left - 1)));
    step(ticks);
  });
}

let chain: DeviceModel;
let dag: DeviceModel;
let mobile: DeviceModel;

beforeAll(async () => {
  await initBackend();
  [chain, dag, mobile] = await Promise.all([DeviceModel.load('tinychain'), DeviceModel.load('tinydag'), DeviceModel.load('mobilenetv2')]);
}, 120_000);

afterAll(() => {
  for (const d of [chain, dag, mobile]) d?.dispose();
});

describe('DeviceModel.runAhead', () => {
  it('gives the crossing tensors of today\'s head at every candidate, and the whole model\'s output at L', async () => {
    // tinychain has no batch norm to fold: the same bits; tinydag and MobileNetV2 fold it per segment, not per head.
    for (const [d, tolerance] of [[chain, 0], [dag, 1e-5], [mobile, 1e-4]] as const) {
      const x = d.randomInput();
      for (const c of d.analysis.candidates.map((k) => k.cut)) {
        const ahead = await d.runAhead(x, Promise.resolve(c));
        const head = await d.runHead(c, x);
        expect(ahead.cut).toBe(c);
        expect(ahead.crossing!.map((t) => [t.name, t.shape])).toEqual(head.map((t) => [t.name, t.shape]));
        const scale = head[0]!.data.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
        expect(maxAbsDiff(ahead.crossing![0]!.data, head[0]!.data), `${d.name} cut ${c}`).toBeLessThanOrEqual(tolerance * scale);
      }
      const whole = await d.runAhead(x, Promise.resolve(d.layerCount));
      expect(whole.cut).toBe(d.layerCount);
      expect(maxAbsDiff(whole.output!.data, (await d.runAll(x)).data)).toBeLessThanOrEqual(1e-5);
      x.dispose();
    }
  }, 120_000);

  it('a cut that comes after the head passed it: returns the tensors it kept there; the layers past it are wasted', async () => {
    const x = mobile.randomInput();
    const cut = mobile.analysis.candidates[3]!.cut;
    // Built once per model: the head at the cut and the segments.
    const head = await mobile.runHead(cut, x);
    await mobile.runAhead(x, Promise.resolve(cut));
    const before = tf.memory().numTensors;
    const ahead = await mobile.runAhead(x, afterTicks(6, cut));
    expect(ahead.cut).toBe(cut);
    expect(ahead.computedTo).toBeGreaterThan(cut);
    expect(ahead.readyMs).toBeGreaterThanOrEqual(ahead.headMs);
    expect(maxAbsDiff(ahead.crossing![0]!.data, head[0]!.data)).toBeLessThanOrEqual(1e-4);
    // Everything it kept on the way is disposed.
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  }, 60_000);

  it('keeping only some cuts (the deployed ones): a cut ahead gets a piece that ends there; one passed and not kept runs the head again', async () => {
    const x = mobile.randomInput();
    const cuts = mobile.analysis.candidates.map((c) => c.cut).filter((c) => c > 0);
    const keep = [cuts.at(-1)!];
    const mid = cuts[Math.floor(cuts.length / 2)]!;
    const ahead = await mobile.runAhead(x, Promise.resolve(mid), { keep });
    expect([ahead.cut, ahead.computedTo]).toEqual([mid, mid]);
    expect(maxAbsDiff(ahead.crossing![0]!.data, (await mobile.runHead(mid, x))[0]!.data)).toBeLessThanOrEqual(1e-4);
    const early = cuts[1]!;
    const late = await mobile.runAhead(x, afterTicks(3, early), { keep });
    expect(late.cut).toBe(early);
    expect(late.computedTo).toBeGreaterThan(early);
    expect(maxAbsDiff(late.crossing![0]!.data, (await mobile.runHead(early, x))[0]!.data)).toBeLessThanOrEqual(1e-4);
    x.dispose();
  }, 60_000);

  it('prepareAhead builds the chunks runAhead then uses: its first call builds no piece, other kept cuts still do', async () => {
    // A fresh model: the tests above built its chunks already.
    const d = await DeviceModel.load('tinydag');
    try {
      const keep = [d.analysis.candidates[1]!.cut];
      expect(d.prepareAhead(keep)).toBe(true);
      // `piece` builds each chunk (private: reached through the prototype to count builds, not to change them).
      const pieces = vi.spyOn(DeviceModel.prototype as unknown as { piece: (from: number, to: number) => unknown }, 'piece');
      const x = d.randomInput();
      try {
        const ahead = await d.runAhead(x, Promise.resolve(d.layerCount), { keep });
        expect(ahead.cut).toBe(d.layerCount);
        expect(pieces).not.toHaveBeenCalled();
        await d.runAhead(x, Promise.resolve(d.layerCount)); // every candidate kept: chunks not built yet
        expect(pieces).toHaveBeenCalled();
      } finally {
        pieces.mockRestore();
        x.dispose();
      }
    } finally {
      d.dispose();
    }
  });

  it('the whole model done before the cut is known is the answer (cut L); a cut that fails rejects', async () => {
    const x = dag.randomInput();
    let settle!: (c: number) => void;
    const late = new Promise<number>((r) => (settle = r));
    const ahead = await dag.runAhead(x, late);
    expect([ahead.cut, ahead.computedTo]).toEqual([dag.layerCount, dag.layerCount]);
    settle(0);
    await expect(dag.runAhead(x, Promise.reject(new Error('plan refused')))).rejects.toThrow('plan refused');
    x.dispose();
  });
});

describe('collaborativeInfer with a slow planner', () => {
  const PLAN_DELAY_MS = 400;
  let server: LocalServer;
  let baseUrl: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = await startLocalServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      const L = dag.layerCount;
      const row = { cut: L, layer: `l${L}`, sentBytes: 0, headMs: 5, upMs: 0, tailMs: 0, pCold: 0, coldStartMs: 0, coldMs: 0, downMs: 0, latencyMs: 5, energyJ: 0.01, costUSD: 0, feasible: true, reasons: [] };
      const plan = { model: dag.name, objective: 'latency', cut: L, L, target: 'device', function: null, feasible: true, reasons: [], dtype: 'float32', predicted: { latencyMs: 5, energyJ: 0.01, costUSD: 0 }, candidates: [row], route: null, fleet: {}, fleetSource: 'none' };
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(plan)), PLAN_DELAY_MS);
    });
    baseUrl = server.url;
  });
  afterAll(() => server.close());

  it('answers from the device without waiting for a plan slower than the whole model; waitForPlan waits it out', async () => {
    const request = { device: 'flagship-phone', network: '4g' } as const;
    const x = dag.randomInput();
    const reference = (await dag.runAll(x)).data;
    const on = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device: dag, request, input: x });
    expect([on.cut, on.target, on.plan, on.measured.planMs, on.measured.planWaitMs]).toEqual([dag.layerCount, 'device', null, null, 0]);
    expect(on.measured.totalMs).toBeLessThan(PLAN_DELAY_MS);
    expect(maxAbsDiff(on.output.data, reference)).toBeLessThanOrEqual(1e-6);
    const off = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device: dag, request, input: x, waitForPlan: true });
    expect([off.cut, off.target, off.plan?.cut]).toEqual([dag.layerCount, 'device', dag.layerCount]);
    expect(off.measured.planMs!).toBeGreaterThanOrEqual(PLAN_DELAY_MS - 1);
    expect(off.measured.totalMs).toBeGreaterThan(off.measured.planMs!);
    expect(maxAbsDiff(off.output.data, reference)).toBe(0);
    expect(seen.filter((s) => s.startsWith('POST /infer'))).toEqual([]);
    x.dispose();
  }, 30_000);

  it('settlePlan: the answer is timed as without it, and the late plan and its prediction come with it', async () => {
    const request = { device: 'flagship-phone', network: '4g' } as const;
    const x = dag.randomInput();
    const t0 = performance.now();
    const r = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device: dag, request, input: x, settlePlan: true });
    const wall = performance.now() - t0;
    expect([r.cut, r.target, r.plan?.cut, r.predicted?.cut, r.predicted?.latencyMs]).toEqual([dag.layerCount, 'device', dag.layerCount, dag.layerCount, 5]);
    // Timed at the answer: the plan was not had within the request.
    expect([r.measured.planMs, r.measured.planWaitMs]).toEqual([null, 0]);
    expect(r.measured.totalMs).toBeLessThan(PLAN_DELAY_MS);
    expect(wall).toBeGreaterThanOrEqual(PLAN_DELAY_MS - 1);
    x.dispose();
  }, 30_000);
});

describe('collaborativeInfer with a planner faster than the model', () => {
  let server: LocalServer;
  let cut: number;
  beforeAll(async () => {
    // Three quarters into MobileNetV2 (tens of ms on this machine): the plan (a local round trip) is in long before.
    const mids = mobile.analysis.candidates.filter((c) => c.cut > 0);
    cut = mids[Math.floor((mids.length * 3) / 4)]!.cut;
    server = await startLocalServer(async (req, res) => {
      const payload = await readBody(req);
      if (req.url === '/plan') {
        const L = mobile.layerCount;
        const figures = { sentBytes: 10, headMs: 30, upMs: 2, tailMs: 3, pCold: 0, coldStartMs: 0, coldMs: 0, downMs: 1, latencyMs: 40, energyJ: 0.1, costUSD: 1e-6, feasible: true, reasons: [] };
        const rows = [cut, L].map((c) => ({ cut: c, layer: `l${c}`, ...figures }));
        const plan = { model: mobile.name, objective: 'latency', cut, L, target: 'cloud', function: `fn-${cut}`, feasible: true, reasons: [], dtype: 'float32', predicted: { latencyMs: 40, energyJ: 0.1, costUSD: 1e-6 }, candidates: rows, route: `/infer/${mobile.name}/${cut}`, fleet: {}, fleetSource: 'none' };
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(plan));
      }
      const out = await mobile.runTail(cut, decodeTensors(new Uint8Array(payload)));
      res.writeHead(200, { 'content-type': WIRE_CONTENT_TYPE, 'x-offload-cold': 'false', 'x-offload-compute-ms': '3' });
      res.end(Buffer.from(encodeTensors([{ name: 'output', shape: out.shape, data: out.data }])));
    });
  });
  afterAll(() => server.close());

  it('goes on to the plan\'s cut, sends what the head made there and gets the whole model\'s answer', async () => {
    const x = mobile.randomInput();
    const r = await collaborativeInfer({ api: new OffloadApi({ baseUrl: server.url }), device: mobile, request: { device: 'flagship-phone', network: 'wifi' }, input: x });
    expect([r.cut, r.target, r.fallback, r.plan?.cut]).toEqual([cut, 'cloud', null, cut]);
    // The plan came while the head ran: no wait on it (what is left is reading the crossing tensors out).
    expect(r.measured.planMs!).toBeLessThan(r.measured.deviceHeadMs);
    expect(r.measured.planWaitMs).toBeLessThan(1);
    expect(maxAbsDiff(r.output.data, (await mobile.runAll(x)).data)).toBeLessThanOrEqual(1e-4);
    x.dispose();
  }, 60_000);
});

