/**
 * Planner prewarm in the functions: the planner runtime deciding and sending
 * (s3rver, dynalite; the Invoke is a recording stand-in here, the unit next to
 * it, and a real local stack in test/e2e/prewarm.test.ts), the signed Event
 * Invoke over HTTP, and the tail's answer to a prewarm event (real tfjs tail
 * from s3rver, registry in dynalite).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 as Result } from 'aws-lambda';
import { createPlannerHandler, PlannerRuntime, type PlanResponse } from '../../functions/commons/planner';
import { invokePath, lambdaEventInvoker, type EventInvoker } from '../../functions/commons/prewarm';
import { fleetKey, InstanceRegistrar } from '../../functions/commons/registry';
import { createTailHandler, TailRuntime } from '../../functions/commons/tail';
import { readPlannerConfig } from '../../functions/commons/deployment';
import { prewarmEvent } from '../../core/prewarm';
import { manifestKey, parseManifest } from '../../core/manifest';
import { encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { analyzeModel } from '../../models/graph';
import { ZOO } from '../../models/zoo';
import { httpEvent, jsonOf, lambdaContext, startStandInBackend, type StandInBackend } from '../../testkit/lambda';
import { uploadSlicedTail } from '../../testkit/tail-fixture';
import { catalogTails } from '../../testkit/catalog';

const BUCKET = 'artifacts';
const TABLE = 'registry';
const MODEL = 'tinychain';

/** Records every Invoke; `fail`/`hang` make the next ones refuse or never answer. */
class RecordingInvoker implements EventInvoker {
  calls: { functionName: string; payload: unknown }[] = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  async invokeEvent(functionName: string, payload: unknown): Promise<void> {
    this.calls.push({ functionName, payload });
    if (this.mode === 'fail') throw new Error('TooManyRequestsException');
    if (this.mode === 'hang') await new Promise(() => undefined);
  }
}

describe('planner runtime with prewarm', () => {
  let backend: StandInBackend;
  let catalogDir: string;
  let clock: number;
  let invoker: RecordingInvoker;
  const tails = catalogTails('tinychain', [0, 2], 2);

  // A device at 200 ms for the whole model: a cold tail (≥ 384 ms of cold start) loses to it, a warm one (≈ 20 ms RTT + little) wins.
  const request = {
    model: MODEL,
    device: { class: 'flagship-phone', deviceMs: [0.5, 0.5, 40, 40, 40, 40, 40] },
    network: { uplinkMbps: 20, downlinkMbps: 50, rttMs: 20, technology: 'wifi' },
    objective: 'latency',
  };

  const handlerWith = async (extra: Record<string, string>) => {
    await writeFile(join(catalogDir, 'catalog.json'), JSON.stringify({ version: 1, backend: 'wasm', artifactPrefix: 'models/', models: { [MODEL]: { manifestKey: manifestKey(MODEL), tails } } }));
    const runtime = new PlannerRuntime({
      env: { ...process.env, LAMBDA_TASK_ROOT: catalogDir, OFFLOAD_CATALOG_FILE: 'catalog.json', ARTIFACT_BUCKET: BUCKET, REGISTRY_TABLE: TABLE, FLEET_CACHE_MS: '0', ...extra },
      now: () => clock,
      invoker,
    });
    const handler = createPlannerHandler(runtime);
    const post = async (): Promise<PlanResponse> => {
      const res = (await handler(httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }), lambdaContext('planner'))) as Result;
      expect(res.statusCode).toBe(200);
      return jsonOf(res) as PlanResponse;
    };
    return { runtime, post };
  };

  /** The deployed cut that wins with its cold start removed, read off the plan's rows (not from core/prewarm.ts). */
  const warmWinner = (p: PlanResponse) =>
    p.candidates.filter((r) => r.cut < p.L && !r.reasons.includes('no-function')).sort((a, b) => a.latencyMs - a.coldMs - (b.latencyMs - b.coldMs))[0]!;

  beforeAll(async () => {
    catalogDir = await mkdtemp(join(tmpdir(), 'offload-prewarm-'));
    backend = await startStandInBackend({ bucket: BUCKET, table: TABLE });
    const a = analyzeModel(ZOO.tinychain.build(), { name: MODEL });
    const manifest = parseManifest({
      manifestVersion: 2, model: MODEL, inputShape: a.inputShape, inputBytes: a.inputBytes, outputBytes: a.outputBytes,
      layers: a.layers, candidates: a.candidates, exportedCuts: [0, 2], files: {}, segments: [],
    });
    await backend.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey(MODEL), Body: JSON.stringify(manifest) }));
  });

  beforeEach(() => {
    clock = Date.now();
    invoker = new RecordingInvoker();
  });

  afterAll(async () => {
    await backend.close();
    await rm(catalogDir, { recursive: true, force: true });
  });

  it('is on by default: the second cold-fleet plan within the keep-alive prewarms the tail that would win warm (the plan unchanged), once per dedupe window', async () => {
    const off = await (await handlerWith({ PREWARM_TAILS: 'false' })).post();
    const { post, runtime } = await handlerWith({});
    // the first plan that wants the tail: nothing yet (traffic that does not recur would only pay for it)
    const first = await post();
    expect(first).toEqual(off);
    expect(first.target).toBe('device');
    expect(invoker.calls).toEqual([]);
    expect(runtime.prewarmCounters.skipped['no-recurrence']).toBe(1);
    // the second, 4 min later (within the planner's 5 min keep-alive): the same plan, and the prewarm
    clock += 240_000;
    const p = await post();
    expect(p).toEqual(off);
    const winner = warmWinner(p);
    expect(invoker.calls).toEqual([{ functionName: `offload-tinychain-${winner.cut}`, payload: prewarmEvent(MODEL, winner.cut, clock) }]);
    expect(runtime.prewarmCounters.sent).toBe(1);
    // a burst of plans: one prewarm
    await post();
    clock += 1000;
    await post();
    expect(invoker.calls).toHaveLength(1);
    expect(runtime.prewarmCounters.skipped.recent).toBe(2);
    // past the window (≥ 2 s), the tail is still cold in the registry: again
    clock += 60_000;
    await post();
    expect(invoker.calls).toHaveLength(2);
  });

  it('sparse traffic (plans further apart than FLEET_KEEPALIVE_MS) prewarms nothing', async () => {
    const { post, runtime } = await handlerWith({ FLEET_KEEPALIVE_MS: '60000' });
    for (let k = 0; k < 4; k++) {
      expect((await post()).target).toBe('device');
      clock += 60_001;
    }
    expect(invoker.calls).toEqual([]);
    expect(runtime.prewarmCounters.skipped['no-recurrence']).toBe(4);
    // within the window, it does
    clock += 30_000 - 60_001;
    await post();
    expect(invoker.calls).toHaveLength(1);
  });

  it('PREWARM_TAILS=false turns it off: recurring cold-fleet plans stay on the device and nothing is invoked', async () => {
    const { post, runtime } = await handlerWith({ PREWARM_TAILS: 'false' });
    for (let k = 0; k < 3; k++) {
      expect((await post()).target).toBe('device');
      clock += 10_000;
    }
    expect(invoker.calls).toEqual([]);
    expect(runtime.prewarmCounters).toEqual({ sent: 0, failed: 0, skipped: {} });
  });

  it('does not prewarm a tail with an idle warm environment (the plan then offloads to it)', async () => {
    const { post } = await handlerWith({ PREWARM_TAILS: 'true' });
    const probe = await (await handlerWith({})).post();
    const cut = warmWinner(probe).cut;
    const reg = new InstanceRegistrar({ client: backend.doc, table: TABLE, model: MODEL, cut, instance: `warm-${cut}` });
    await reg.register({ initMs: 100 });
    try {
      const p = await post();
      expect(p.cut).toBe(cut);
      expect(invoker.calls).toEqual([]);
    } finally {
      await reg.markGone();
    }
  });

  it('answers the plan when the Invoke fails, and counts the failure', async () => {
    invoker.mode = 'fail';
    const { post, runtime } = await handlerWith({ PREWARM_TAILS: 'true' });
    await post();
    const p = await post();
    expect(p.target).toBe('device');
    expect(invoker.calls).toHaveLength(1);
    expect(runtime.prewarmCounters).toMatchObject({ sent: 0, failed: 1 });
  });

  it('waits at most PREWARM_WAIT_MS for an Invoke that does not answer', async () => {
    invoker.mode = 'hang';
    const { post } = await handlerWith({ PREWARM_TAILS: 'true', PREWARM_WAIT_MS: '50' });
    await post();
    const t = performance.now();
    const p = await post();
    expect(p.target).toBe('device');
    expect(invoker.calls).toHaveLength(1);
    expect(performance.now() - t).toBeLessThan(5_000); // bounded (50 ms + the plan); a hang would time the test out
  });

  it('does not prewarm when the registry could not be read (every tail then looks cold)', async () => {
    const { post, runtime } = await handlerWith({ PREWARM_TAILS: 'true', REGISTRY_TABLE: 'no-such-table' });
    await post();
    const p = await post();
    expect(p.fleetSource).toBe('unavailable');
    expect(invoker.calls).toEqual([]);
    expect(runtime.prewarmCounters.skipped['fleet-unknown']).toBe(2);
  });

  it('PREWARM_MIN_GAIN above the gain turns it off; bad values are named', async () => {
    const { post } = await handlerWith({ PREWARM_TAILS: 'true', PREWARM_MIN_GAIN: '0.99' });
    await post();
    await post();
    expect(invoker.calls).toEqual([]);
    const base = { OFFLOAD_CATALOG_FILE: join(catalogDir, 'catalog.json'), ARTIFACT_BUCKET: BUCKET };
    expect(() => readPlannerConfig({ ...base, PREWARM_TAILS: 'yes' })).toThrow(/PREWARM_TAILS: must be true or false/);
    expect(() => readPlannerConfig({ ...base, PREWARM_MIN_GAIN: '2' })).toThrow(/PREWARM_MIN_GAIN: must be in 0\.\.1/);
    expect(readPlannerConfig(base).prewarm).toEqual({ enabled: true, minGain: 0.05, waitMs: 100 });
    expect(readPlannerConfig({ ...base, PREWARM_TAILS: 'false' }).prewarm.enabled).toBe(false);
  });
});

describe('lambdaEventInvoker (signed Event Invoke over HTTP)', () => {
  let server: Server;
  let url: string;
  let seen: { method?: string; url?: string; headers: IncomingMessage['headers']; body: string }[];
  let status = 202;

  beforeAll(async () => {
    seen = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (status === 202) res.writeHead(202).end();
        else res.writeHead(status, { 'x-amzn-errortype': 'TooManyRequestsException', 'content-type': 'application/json' }).end('{"message":"Rate Exceeded."}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });

  it('POSTs the event to the Invoke API with InvocationType Event, signed for lambda in the region', async () => {
    const invoker = lambdaEventInvoker({}, { endpoint: url, region: 'eu-west-1', credentials });
    await invoker.invokeEvent('offload-resnet50-156', prewarmEvent('resnet50', 156, 1));
    const req = seen.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe(invokePath('offload-resnet50-156'));
    expect(req.url).toBe('/2015-03-31/functions/offload-resnet50-156/invocations');
    expect(req.headers['x-amz-invocation-type']).toBe('Event');
    expect(JSON.parse(req.body)).toEqual({ offloadPrewarm: { model: 'resnet50', cut: 156, at: 1 } });
    expect(req.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[^,]*x-amz-invocation-type[^,]*, Signature=[0-9a-f]{64}$/);
    expect(req.headers['x-amz-security-token']).toBe('token');
    expect(req.headers['x-amz-content-sha256'] ?? req.headers['x-amz-date']).toBeDefined();
  });

  it('takes the endpoint from AWS_ENDPOINT_URL_LAMBDA and rejects anything but 202 with the status and error type', async () => {
    const invoker = lambdaEventInvoker({ AWS_ENDPOINT_URL_LAMBDA: url, AWS_REGION: 'us-east-1' }, { credentials });
    status = 429;
    try {
      await expect(invoker.invokeEvent('f', {})).rejects.toThrow(/Invoke f \(Event\): HTTP 429 TooManyRequestsException/);
    } finally {
      status = 202;
    }
  });
});

describe('tail function answering a prewarm event (s3rver, dynalite, real tfjs tail)', () => {
  let backend: StandInBackend;

  beforeAll(async () => {
    backend = await startStandInBackend({ bucket: BUCKET, table: TABLE });
  });

  afterAll(async () => {
    await backend.close();
  });

  it('initialises and registers idle and warm; the next request is warm; a second prewarm writes nothing', async () => {
    // Prepare
    const fx = await uploadSlicedTail(backend.s3, BUCKET, 'tinychain', 2);
    const runtime = new TailRuntime({
      env: { ...process.env, MODEL_NAME: 'tinychain', CUT: '2', ARTIFACT_BUCKET: BUCKET, ARTIFACT_PREFIX: 'models/tinychain/', REGISTRY_TABLE: TABLE, AWS_LAMBDA_FUNCTION_NAME: 'offload-tinychain-2' },
    });
    runtime.prewarm(); // module load, as functions/tail/index.ts does
    const handler = createTailHandler(runtime);
    const item = async () => (await backend.doc.send(new GetCommand({ TableName: TABLE, Key: { fn: fleetKey('tinychain', 2), instance: runtime.instance } }))).Item;

    // Act
    const warmed = await handler(prewarmEvent('tinychain', 2, Date.now()), lambdaContext());
    await runtime.flush();
    const after = await item();

    // Assess: registered idle (warm), its cold start measured as a cold request's would be
    expect(warmed).toMatchObject({ warmed: true });
    expect(after).toMatchObject({ state: 'idle', inFlight: 0, functionName: 'offload-tinychain-2' });
    expect(after?.coldStartMs).toBeGreaterThan(0);

    const again = await handler(prewarmEvent('tinychain', 2, Date.now()), lambdaContext());
    await runtime.flush();
    expect(again).toEqual({ warmed: false, initMs: null });
    expect((await item())?.seq).toBe(after?.seq);

    const res = (await handler(
      httpEvent({
        method: 'POST', path: '/infer/tinychain/2', routeKey: 'POST /infer/{model}/{cut}', pathParameters: { model: 'tinychain', cut: '2' },
        headers: { 'content-type': WIRE_CONTENT_TYPE }, body: encodeTensors(fx.headOutputs),
      }),
      lambdaContext(),
    )) as Result;
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['x-offload-cold']).toBe('false');
    expect(res.headers?.['x-offload-init-ms']).toBeUndefined();
  });

  it('a prewarm whose init fails returns (no retry by Lambda) and the next invocation retries the init', async () => {
    const runtime = new TailRuntime({ env: { ...process.env, MODEL_NAME: 'nosuchmodel', CUT: '1', ARTIFACT_BUCKET: BUCKET, REGISTRY_TABLE: TABLE } });
    const handler = createTailHandler(runtime);
    await expect(handler(prewarmEvent('nosuchmodel', 1, Date.now()), lambdaContext())).resolves.toEqual({ warmed: false, initMs: null });
    await expect(handler(prewarmEvent('nosuchmodel', 1, Date.now()), lambdaContext())).resolves.toEqual({ warmed: false, initMs: null });
  });
});
