/**
 * Generated malformed and boundary requests (fast-check) against the tail and
 * the planner through the local stack's HTTP routes — the emulator runs the
 * real handlers in real processes: 600 wire payloads to a tinychain tail and
 * 450 plan requests, every answer a 2xx/4xx with JSON `{ code, message }` on
 * errors and never a 5xx, and the environments healthy afterwards (a valid
 * request answers correctly, from a warm environment that served the junk).
 */
import fc from 'fast-check';
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceModel } from '../../client/device';
import { encodeTensors, WIRE_CONTENT_TYPE, type WireDType } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { alive, startE2EStack, type E2EStack } from './stack-fixture';

const TAIL_ROUTE = '/infer/tinychain/2';
const PROTO_NAMES = ['constructor', 'hasOwnProperty', '__proto__', 'toString', 'valueOf', 'prototype'];

interface Answer {
  status: number;
  body: string;
  contentType: string;
}

describe('generated malformed and boundary requests through the local stack', () => {
  let e: E2EStack;
  let device: DeviceModel;
  let x: tf.Tensor;
  let crossing: { name: string; shape: number[]; data: Float32Array };
  const statuses = new Map<number, number>();
  const fiveHundreds: { what: string; status: number; body: string }[] = [];

  beforeAll(async () => {
    await initBackend();
    e = await startE2EStack();
    device = await DeviceModel.load('tinychain');
    x = device.randomInput(3);
    const [head] = await device.runHead(2, x);
    crossing = head!;
  });

  afterAll(async () => {
    x?.dispose();
    device?.dispose();
    const pids = (await e?.close()) ?? [];
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  async function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string }, what: string): Promise<Answer> {
    const res = await fetch(e.stack.url + path, { method: init.method ?? 'POST', headers: init.headers ?? {}, body: init.body });
    const answer = { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') ?? '' };
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    if (answer.status >= 500) fiveHundreds.push({ what, status: answer.status, body: answer.body.slice(0, 300) });
    if (answer.status >= 400) {
      expect(answer.contentType, what).toMatch(/application\/json/);
      expect(JSON.parse(answer.body), what).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    return answer;
  }

  /** A payload built from the real crossing tensor, then bent at one place. */
  const tailRequest = fc.oneof(
    // arbitrary bytes, sometimes starting with the magic
    fc.record({ kind: fc.constant('bytes'), prefix: fc.boolean(), bytes: fc.uint8Array({ maxLength: 2048 }) }),
    // a valid payload, then: truncated, extended, or a byte flipped
    fc.record({
      kind: fc.constant('mutated'),
      dtype: fc.constantFrom<WireDType>('float32', 'float16', 'int8'),
      cut: fc.nat(),
      op: fc.constantFrom('truncate', 'append', 'flip'),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    // a well-formed payload with boundary shapes, names, batch sizes and values
    fc.record({
      kind: fc.constant('shaped'),
      batch: fc.constantFrom(0, 1, 2, 16, 17, 64),
      name: fc.constantFrom('pool1', 'x', ...PROTO_NAMES), // an empty name is refused by the encoder; the mutated payloads cover bad headers
      extraDim: fc.boolean(),
      special: fc.constantFrom(0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3.4e38, -0),
      dtype: fc.constantFrom<WireDType>('float32', 'float16'),
    }),
  );

  function build(r: unknown): Uint8Array {
    const req = r as { kind: string } & Record<string, unknown>;
    if (req.kind === 'bytes') {
      const bytes = req.bytes as Uint8Array;
      if (!req.prefix) return bytes;
      const out = new Uint8Array(bytes.length + 4);
      out.set([0x4f, 0x46, 0x4c, 0x54]);
      out.set(bytes, 4);
      return out;
    }
    if (req.kind === 'mutated') {
      const good = encodeTensors([crossing], req.dtype as WireDType);
      const at = (req.cut as number) % good.length;
      if (req.op === 'truncate') return good.subarray(0, at);
      if (req.op === 'append') return Uint8Array.from([...good, req.value as number]);
      const flipped = Uint8Array.from(good);
      flipped[at] = (req.value as number) === flipped[at] ? ((req.value as number) + 1) % 256 : (req.value as number);
      return flipped;
    }
    const perExample = crossing.shape.slice(1);
    const shape = [req.batch as number, ...perExample, ...(req.extraDim ? [1] : [])];
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = crossing.data[i % crossing.data.length] as number;
    if (n > 0) data[n >> 1] = req.special as number;
    return encodeTensors([{ name: req.name as string, shape, data }], req.dtype as WireDType);
  }

  it('caps the planner at its reserved concurrency (5 by default): a cold burst of 20 plans gets 429s, not 20 environments', async () => {
    const body = JSON.stringify({ model: 'tinychain', device: 'flagship-phone', network: '4g' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => send('/plan', { headers: { 'content-type': 'application/json' }, body }, 'plan burst')),
    );
    const planner = e.stack.emulator.stats().functions.find((f) => f.name === 'offload-e2e-planner');
    expect(planner?.reservedConcurrency).toBe(5);
    expect(planner!.environments.length).toBeLessThanOrEqual(5);
    expect(answers.every((a) => a.status === 200 || a.status === 429)).toBe(true);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(0);
  });

  it('answers 600 generated tail requests with no 5xx, then still answers a valid one correctly', async () => {
    const headers = fc.constantFrom<Record<string, string>>(
      { 'content-type': WIRE_CONTENT_TYPE },
      { 'content-type': WIRE_CONTENT_TYPE, accept: 'application/json' },
      { 'content-type': `${WIRE_CONTENT_TYPE}; charset=binary`, accept: 'text/html;q=0.9, */*;q=0.1' },
      { 'content-type': 'application/json' },
      {},
    );
    await fc.assert(
      fc.asyncProperty(tailRequest, headers, async (r, h) => {
        const body = build(r);
        const answer = await send(TAIL_ROUTE, { headers: h, body }, `tail ${JSON.stringify(r).slice(0, 200)} ${JSON.stringify(h)}`);
        return answer.status < 500;
      }),
      { numRuns: 600 },
    );
    expect(fiveHundreds).toEqual([]);
    // healthy after: the same environment(s) answer a valid request with the full model's output
    const want = (await device.runAll(x)).data;
    const ok = await fetch(e.stack.url + TAIL_ROUTE, { method: 'POST', headers: { 'content-type': WIRE_CONTENT_TYPE, accept: 'application/json' }, body: encodeTensors([crossing]) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-offload-cold')).toBe('false');
    const { outputs } = (await ok.json()) as { outputs: { data: number[] }[] };
    const got = outputs[0]!.data;
    expect(Math.max(...got.map((v, i) => Math.abs(v - (want[i] as number))))).toBeLessThanOrEqual(1e-4);
  });

  it('answers 450 generated plan requests with no 5xx, then still plans', async () => {
    const valid = { model: 'tinychain', device: 'flagship-phone', network: '4g' } as Record<string, unknown>;
    const field = fc.constantFrom('model', 'device', 'network', 'battery', 'objective', 'dtype', 'constraints', 'energyBudgetJ', '__proto__', 'constructor');
    const value = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom(...PROTO_NAMES),
      fc.constantFrom(-1, 0, 1e308, -1e308, 1.5, 'NaN', 'Infinity', null),
      fc.record({ uplinkMbps: fc.double(), downlinkMbps: fc.double(), rttMs: fc.double() }),
      fc.record({ class: fc.constantFrom(...PROTO_NAMES, 'flagship-phone'), computeW: fc.double(), idleW: fc.double() }, { requiredKeys: [] }),
    );
    const body = fc.oneof(
      fc.tuple(field, value).map(([k, v]) => JSON.stringify({ ...valid, [k]: v })),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.constant('{"model":"tinychain","device":"flagship-phone","network":"4g"'),
    );
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/vnd.offload.tensors');
    await fc.assert(
      fc.asyncProperty(body, contentType, async (b, ct) => {
        const answer = await send('/plan', { headers: { 'content-type': ct }, body: b }, `plan ${ct} ${b.slice(0, 200)}`);
        return answer.status < 500;
      }),
      { numRuns: 400 },
    );
    // and the other routes, with odd methods and paths
    const route = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
      path: fc.constantFrom('/models', '/plan', '/infer/tinychain/99', `/infer/${PROTO_NAMES[0]}/0`, '/infer/tinychain/-1', '/infer//', '/_nope'),
    });
    await fc.assert(
      fc.asyncProperty(route, async (r) => {
        const answer = await send(r.path, { method: r.method, headers: { 'content-type': 'application/json' }, ...(r.method === 'GET' ? {} : { body: '{}' }) }, `${r.method} ${r.path}`);
        return answer.status < 500;
      }),
      { numRuns: 50 },
    );
    expect(fiveHundreds).toEqual([]);
    const plan = await fetch(`${e.stack.url}/plan`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(valid) });
    expect(plan.status).toBe(200);
    expect(((await plan.json()) as { model: string }).model).toBe('tinychain');
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(20 + 1_050); // the burst, then the generated requests
  });
});
