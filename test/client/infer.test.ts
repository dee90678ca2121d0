import type { IncomingMessage, ServerResponse } from 'node:http';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTensors, encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { isOffloadError } from '../../core/errors';
import { ApiError, OffloadApi } from '../../client/api';
import { DeviceModel } from '../../client/device';
import { collaborativeInfer } from '../../client/infer';
import { readBody, startLocalServer, type LocalServer } from '../../testkit/http-server';
import { maxAbsDiff } from '../../testkit/tensors';

/**
 * The client against a real HTTP server whose tail is the real tail sub-model
 * (the cloud side of a split), and whose behaviour each test picks: answer,
 * throttle, fail, hang.
 */
type Mode = 'answer' | 'throttle' | 'fail' | 'hang' | 'plan-fail' | 'plan-bad-request' | 'plan-off-contract' | 'bad-header';

let server: LocalServer;
let baseUrl: string;
let cloud: DeviceModel;
let device: DeviceModel;
let mode: Mode = 'answer';
let cut = 0;
const seen: string[] = [];


async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const payload = await readBody(req);
  seen.push(`${req.method} ${req.url}`);
  if (req.url === '/plan') {
    if (mode === 'plan-fail') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"code":"internal","message":"boom"}');
    if (mode === 'plan-bad-request') {
      return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":"invalid-input","message":"network.uplinkMbps: must be > 0"}');
    }
    const figures = { sentBytes: 10, headMs: 1, upMs: 2, tailMs: 3, pCold: 0, coldStartMs: 0, coldMs: 0, downMs: 1, latencyMs: 57, energyJ: 0.1, costUSD: 1e-6 };
    const rows = [cut, cloud.layerCount].map((c) => ({ cut: c, layer: `l${c}`, ...figures, feasible: true, reasons: [] }));
    const plan = {
      model: device.name,
      objective: 'latency',
      cut,
      L: cloud.layerCount,
      target: 'cloud',
      function: `fn-${cut}`,
      feasible: true,
      reasons: [],
      dtype: 'float32',
      predicted: { latencyMs: 57, energyJ: 0.1, costUSD: 1e-6 },
      candidates: rows,
      route: `/infer/${device.name}/${cut}`,
      fleet: {},
      fleetSource: 'none',
    };
    // a server that drifted from the contract: a row without its energy
    if (mode === 'plan-off-contract') delete (rows[0] as Partial<typeof figures>).energyJ;
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(plan));
  }
  if (mode === 'throttle') return void res.writeHead(429, { 'content-type': 'application/json' }).end('{"code":"throttled","message":"Rate Exceeded."}');
  if (mode === 'fail') return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"unavailable","message":"artifact missing"}');
  if (mode === 'hang') return; // never answers; the client's timeout must end it
  const tensors = decodeTensors(new Uint8Array(payload));
  const out = await cloud.runTail(cut, tensors);
  res.writeHead(200, {
    'content-type': WIRE_CONTENT_TYPE,
    'x-offload-cold': 'true',
    'x-offload-init-ms': '12.5',
    'x-offload-compute-ms': mode === 'bad-header' ? 'soon' : '3.25',
    'x-offload-instance': 'env-1',
  });
  res.end(Buffer.from(encodeTensors([{ name: 'output', shape: out.shape, data: out.data }])));
}

beforeAll(async () => {
  await initBackend();
  device = await DeviceModel.load('tinydag');
  cloud = await DeviceModel.load('tinydag');
  server = await startLocalServer(handle);
  baseUrl = server.url;
});

afterAll(async () => {
  await server.close();
  device.dispose();
  cloud.dispose();
});

async function expected(): Promise<Float32Array> {
  const x = device.randomInput();
  const out = await device.runAll(x);
  x.dispose();
  return out.data;
}


const request = { device: 'flagship-phone', network: '4g' } as const;

// tinydag runs on this machine in less than the fake plan's round trip: run while the plan is in flight (the
// default), the device would answer by itself. The split paths are tested waiting for the plan
// (test/client/infer-overlap.test.ts tests the overlap).
describe('collaborativeInfer', () => {
  it('runs the head here and the tail on the server, and matches the whole model', async () => {
    // Prepare: a middle candidate cut
    const mids = device.analysis.candidates.filter((c) => c.cut > 0);
    cut = mids[Math.floor(mids.length / 2)]!.cut;
    mode = 'answer';
    // Act
    const result = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request, waitForPlan: true });
    // Assess
    expect(result.target).toBe('cloud');
    expect(result.cut).toBe(cut);
    expect(result.fallback).toBeNull();
    expect(result.cold).toBe(true);
    expect(result.instance).toBe('env-1');
    expect(result.measured.cloudInitMs).toBe(12.5);
    expect(result.measured.cloudComputeMs).toBe(3.25);
    expect(result.measured.networkMs).toBeGreaterThanOrEqual(0);
    expect(result.predicted?.latencyMs).toBe(57);
    expect(maxAbsDiff(result.output.data, await expected())).toBeLessThanOrEqual(1e-4);
  });

  it.each([
    ['throttle', 'throttled'],
    ['fail', 'server'],
    ['hang', 'timeout'],
  ] as const)('finishes on the device when the tail answers %s', async (m, reason) => {
    cut = device.analysis.candidates.at(-1)!.cut;
    mode = m;
    const result = await collaborativeInfer({ api: new OffloadApi({ baseUrl, timeoutMs: 500 }), device, request, waitForPlan: true });
    expect(result.target).toBe('device');
    expect(result.fallback?.reason).toBe(reason);
    expect(result.measured.deviceTailMs).toBeGreaterThanOrEqual(0);
    expect(maxAbsDiff(result.output.data, await expected())).toBeLessThanOrEqual(1e-4);
  });

  it('runs the whole model on the device when the planner itself fails', async () => {
    mode = 'plan-fail';
    const result = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request, waitForPlan: true });
    expect(result.target).toBe('device');
    expect(result.cut).toBe(device.layerCount);
    expect(result.fallback?.reason).toBe('server');
    expect(maxAbsDiff(result.output.data, await expected())).toBe(0);
    // Run while it asked (in chunks with batch norm folded in, client/device-model.ts runAhead), the device has the
    // same answer up to float rounding, whether the failure came before it was done (fallback: server) or after (none).
    const overlapped = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request });
    expect([overlapped.target, overlapped.cut]).toEqual(['device', device.layerCount]);
    expect([undefined, 'server']).toContain(overlapped.fallback?.reason);
    expect(maxAbsDiff(overlapped.output.data, await expected())).toBeLessThanOrEqual(1e-6);
  });

  it('falls back when the planner answers off the contract, naming the field', async () => {
    mode = 'plan-off-contract';
    const result = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request, waitForPlan: true });
    expect(result.target).toBe('device');
    expect(result.fallback?.reason).toBe('server');
    expect(result.fallback?.message).toMatch(/answer\.candidates\[0\]\.energyJ/);
  });

  it('treats a malformed timing header as a failed cloud call and finishes on the device', async () => {
    mode = 'bad-header';
    cut = device.analysis.candidates.at(-1)!.cut;
    const result = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request, waitForPlan: true });
    expect(result.target).toBe('device');
    expect(result.fallback?.message).toMatch(/x-offload-compute-ms: must be a non-negative number of ms/);
    expect(maxAbsDiff(result.output.data, await expected())).toBeLessThanOrEqual(1e-4);
  });

  it('rejects a plan request the contract refuses before sending it', async () => {
    mode = 'answer';
    const before = seen.length;
    const bad = { device: 'flagship-phone', network: { uplinkMbps: -1, downlinkMbps: 5, rttMs: 20 } };
    await expect(collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request: bad })).rejects.toThrow(/plan request\.network/);
    expect(seen.length).toBe(before);
  });

  it('reports a rejected plan request instead of hiding it behind a fallback', async () => {
    mode = 'plan-bad-request';
    const call = collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request, waitForPlan: true });
    await expect(call).rejects.toBeInstanceOf(ApiError);
    await expect(call).rejects.toThrow(/HTTP 400 invalid-input: network.uplinkMbps: must be > 0/);
  });

  it('honours a cut override and rejects one that is not a candidate', async () => {
    mode = 'answer';
    cut = 0;
    const result = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request, cut: 0 });
    expect(result.cut).toBe(0);
    expect(seen.at(-1)).toBe(`POST /infer/${device.name}/0`);
    const notCandidate = Array.from({ length: device.layerCount }, (_, i) => i).find((c) => !device.analysis.candidates.some((k) => k.cut === c));
    expect(notCandidate, 'tinydag has cuts inside its blocks').toBeDefined();
    await expect(collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request, cut: notCandidate! })).rejects.toThrow(/not a candidate/);
    // bad input is an OffloadError (the CLI prints it as `offload: …`, not as an unexpected error)
    const err = await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request, cut: notCandidate! }).catch((e: unknown) => e);
    expect(isOffloadError(err) && err.code).toBe('invalid-input');
  });

  it('disposes what it allocates', async () => {
    mode = 'answer';
    await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request });
    const before = tf.memory().numTensors;
    await collaborativeInfer({ api: new OffloadApi({ baseUrl }), device, request });
    expect(tf.memory().numTensors).toBe(before);
  });
});
