import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
type Result = APIGatewayProxyStructuredResultV2;
import { InstanceRegistrar, putRegistryItem } from '../../functions/commons/registry';
import { createPlannerHandler, PlannerRuntime, reachMs, type PlanResponse } from '../../functions/commons/planner';
import { cloudProfileKey, type ModelCatalogEntry } from '../../functions/commons/model-catalog';
import { ModelsResponseSchema, PlanResponseSchema } from '../../core/api';
import { ZOO } from '../../models/zoo';
import { analyzeModel } from '../../models/graph';
import { manifestKey, parseManifest, type Manifest } from '../../core/manifest';
import { DEVICE_PROFILES, parseModelProfile } from '../../core/profiles';
import { deviceLayerMs, predictorFromProfiles } from '../../core/profile-scenario';
import { httpEvent, jsonOf, lambdaContext, startStandInBackend, type StandInBackend } from '../../testkit/lambda';
import { catalogTails } from '../../testkit/catalog';

const BUCKET = 'artifacts';
const TABLE = 'registry';
const MODEL = 'tinychain';

/** A manifest as `offload export` writes it (no files needed: the planner reads only the analysis). */
function tinychainManifest(): Manifest {
  const analysis = analyzeModel(ZOO.tinychain.build(), { name: MODEL });
  return parseManifest({
    manifestVersion: 2,
    model: MODEL,
    inputShape: analysis.inputShape,
    inputBytes: analysis.inputBytes,
    outputBytes: analysis.outputBytes,
    layers: analysis.layers,
    candidates: analysis.candidates,
    exportedCuts: [0, 2],
    files: {},
    segments: [],
  });
}

describe('planner function (API Gateway v2 events, s3rver, dynalite)', () => {
  let backend: StandInBackend;
  let s3: S3Client;
  let doc: StandInBackend['doc'];
  let manifest: Manifest;
  let clock: number;
  let handler: ReturnType<typeof createPlannerHandler>;
  let runtime: PlannerRuntime;
  let catalogDir: string;
  const tails = catalogTails('tinychain', [0, 2], 2);
  const catalog = (models: Record<string, unknown>) => ({ version: 1, backend: 'wasm', artifactPrefix: 'models/', models });
  const tinychainEntry = { manifestKey: 'models/tinychain/manifest.json', tails };

  /** The planner's environment with a catalog file written for it (as the CDK app bundles it). */
  const plannerEnv = async (name: string, models: Record<string, unknown>, extra: Record<string, string> = {}) => {
    await writeFile(join(catalogDir, `${name}.json`), JSON.stringify(catalog(models)));
    // Prewarm (on by default) is test/functions/prewarm.test.ts's subject: off here, so that no plan invokes a real Lambda endpoint.
    return { ...process.env, LAMBDA_TASK_ROOT: catalogDir, OFFLOAD_CATALOG_FILE: `${name}.json`, ARTIFACT_BUCKET: BUCKET, PREWARM_TAILS: 'false', ...extra };
  };

  const post = async (body: unknown): Promise<APIGatewayProxyStructuredResultV2> =>
    (await handler(
      httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      lambdaContext('planner'),
    )) as APIGatewayProxyStructuredResultV2;

  // The device is slow after layer 2 and fast before it, so cut 2 beats cloud-only by less than a cold start:
  // cut 2 wins only while its function is warm. (Layer times: ms, one per tinychain layer.)
  const request = {
    model: MODEL,
    device: { class: 'flagship-phone', deviceMs: [0.5, 0.5, 400, 400, 400, 400, 400] },
    network: { uplinkMbps: 20, downlinkMbps: 50, rttMs: 20, technology: 'wifi' },
    objective: 'latency',
  };

  beforeAll(async () => {
    catalogDir = await mkdtemp(join(tmpdir(), 'offload-planner-'));
    backend = await startStandInBackend({ bucket: BUCKET, table: TABLE });
    ({ s3, doc } = backend);
    manifest = tinychainManifest();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey(MODEL), Body: JSON.stringify(manifest) }));
  });

  beforeEach(async () => {
    clock = Date.now();
    runtime = new PlannerRuntime({
      env: await plannerEnv('catalog', { [MODEL]: tinychainEntry }, { REGISTRY_TABLE: TABLE, FLEET_CACHE_MS: '0' }),
      now: () => clock,
    });
    handler = createPlannerHandler(runtime);
  });

  afterAll(async () => {
    await backend.close();
    await rm(catalogDir, { recursive: true, force: true });
  });

  it('GET /models lists the deployed models with candidate cuts, functions and routes', async () => {
    const res = (await handler(httpEvent({ method: 'GET', path: '/models' }), lambdaContext('planner'))) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(200);
    const { models } = ModelsResponseSchema.parse(jsonOf(res));
    expect(models.map((m) => m.name)).toEqual([MODEL]);
    const entry = models[0] as ModelCatalogEntry;
    expect(entry.inputShape).toEqual(manifest.inputShape);
    expect(entry.candidates.map((c) => c.cut)).toEqual(manifest.candidates.map((c) => c.cut));
    const byCut = new Map(entry.candidates.map((c) => [c.cut, c]));
    expect(byCut.get(2)).toMatchObject({ deployed: true, function: 'offload-tinychain-2', route: '/infer/tinychain/2' });
    expect(byCut.get(2)?.head?.prefix).toBe('models/tinychain/heads/2/');
    expect(byCut.get(3)).toMatchObject({ deployed: false, function: null, route: null });
  });

  it('plans around a cold fleet: every deployed function pays the cold start, cloud-only wins', async () => {
    const res = await post(request);
    expect(res.statusCode).toBe(200);
    const record = PlanResponseSchema.parse(jsonOf(res));
    const row2 = record.candidates.find((c) => c.cut === 2);
    expect(record.fleetSource).toBe('registry');
    expect(record.fleet['2']).toEqual({ idleWarm: 0, inFlight: 0, limit: 2 });
    expect(row2?.pCold).toBe(1);
    expect(row2?.coldMs).toBeGreaterThan(0);
    expect(record.cut).toBe(0);
    expect(record.route).toBe('/infer/tinychain/0');
    expect(record.function).toBe('offload-tinychain-0');
    // cuts without a function are listed but not choosable
    expect(record.candidates.find((c) => c.cut === 3)?.reasons).toEqual(['no-function']);
  });

  it('plans around a warm function: an idle instance at cut 2 makes cut 2 the choice; back-to-back plans do not share it', async () => {
    // Prepare: one idle instance of the cut-2 tail in the registry
    const reg = new InstanceRegistrar({ client: doc, table: TABLE, model: MODEL, cut: 2, instance: 'warm-2' });
    await reg.register({ initMs: 300 });

    // Act: two plans back to back
    const first = jsonOf(await post(request)) as PlanResponse;
    const second = jsonOf(await post(request)) as PlanResponse;

    // Assess: the first takes the warm instance, the second sees it reserved and plans cold
    expect(first.fleet['2']).toEqual({ idleWarm: 1, inFlight: 0, limit: 2 });
    expect(first.candidates.find((c) => c.cut === 2)?.pCold).toBe(0);
    expect(first.cut).toBe(2);
    expect(first.route).toBe('/infer/tinychain/2');
    expect(second.fleet['2']).toEqual({ idleWarm: 0, inFlight: 1, limit: 2 });
    expect(second.candidates.find((c) => c.cut === 2)?.pCold).toBe(1);
    expect(second.cut).toBe(0);

    // After the reservation lapses, the idle instance counts again
    clock += first.predicted.latencyMs + 1000;
    const third = jsonOf(await post(request)) as PlanResponse;
    expect(third.cut).toBe(2);
    await reg.markBusy(Date.now() + 60_000); // leave it busy: later tests must not see a warm cut 2 by accident
  });

  it('judges the fleet when the request would reach the tail: an instance about to finish is planned warm (FLEET_AT_ARRIVAL=off: busy)', async () => {
    // Prepare: an initialised cut-2 instance that took a request just now; its predicted tail (the cloud
    // profile's, well under a millisecond for tinychain) ends before a request planned now reaches it (≥ the 20 ms RTT)
    const reg = new InstanceRegistrar({ client: doc, table: TABLE, model: MODEL, cut: 2, instance: 'ending-2', now: () => clock });
    await reg.register({ initMs: 300 });
    await reg.markBusy(clock + 60_000);
    const off = createPlannerHandler(
      new PlannerRuntime({ env: await plannerEnv('catalog-off', { [MODEL]: tinychainEntry }, { REGISTRY_TABLE: TABLE, FLEET_CACHE_MS: '0', FLEET_AT_ARRIVAL: 'off' }), now: () => clock }),
    );

    // Act
    const atArrival = jsonOf(await post(request)) as PlanResponse;
    const atPlan = jsonOf(
      (await off(httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }), lambdaContext('planner'))) as APIGatewayProxyStructuredResultV2,
    ) as PlanResponse;

    // Assess
    expect(atArrival.fleet['2']).toMatchObject({ idleWarm: 1 });
    expect(atArrival.cut).toBe(2);
    expect(atPlan.fleet['2']).toMatchObject({ idleWarm: 0 });
    expect(atPlan.cut).toBe(0);
    // Once past its predicted end the mark is not trusted (a slow tail): it stays busy, as at the plan
    clock += 1000;
    const late = jsonOf(await post(request)) as PlanResponse;
    expect(late.fleet['2']).toMatchObject({ idleWarm: 0 });
  });

  it('uses the cold start its instances measured, even after they were reaped', async () => {
    // Prepare: an instance of cut 0 that measured 1234 ms and went quiet 6 minutes ago (past the keep-alive)
    const now = Date.now();
    await putRegistryItem(doc, TABLE, {
      fn: 'tinychain#0', instance: 'reaped-0', model: MODEL, cut: 0, state: 'idle', inFlight: 0, seq: 2,
      coldStartMs: 1234, lastSeen: now - 6 * 60_000, busyUntil: 0, expiresAt: Math.floor(now / 1000) + 3600,
    });
    const record = jsonOf(await post(request)) as PlanResponse;
    const row0 = record.candidates.find((c) => c.cut === 0);
    expect(record.fleet['0']).toMatchObject({ idleWarm: 0, inFlight: 0 });
    expect(row0).toMatchObject({ pCold: 1, coldStartMs: 1234, coldMs: 1234 });
  });

  it('takes cloud layer times from a profile in the export when there is one', async () => {
    // Prepare: 10 ms per layer, measured at 1769 MB (one vCPU), the tails' memory
    const layers = manifest.layers.map((l) => ({ name: l.name, ms: 10 }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: cloudProfileKey(MODEL), Body: JSON.stringify({ memoryMB: 1769, layers }) }));
    try {
      const record = jsonOf(await post(request)) as PlanResponse;
      // cut 2 runs layers 2..6 in the cloud: 5 × 10 ms
      expect(record.candidates.find((c) => c.cut === 2)?.tailMs).toBeCloseTo(50, 9);
      expect(record.candidates.find((c) => c.cut === 0)?.tailMs).toBeCloseTo(70, 9);
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: cloudProfileKey(MODEL) }));
    }
    // without it, the times are derived from FLOPs (8 GMAC/s + 0.05 ms per layer)
    const derived = jsonOf(await createPlannerHandler(new PlannerRuntime({ env: await plannerEnv('derived', { [MODEL]: tinychainEntry }) }))(
      httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }),
      lambdaContext(),
    ) as Result) as PlanResponse;
    const expected = manifest.layers.slice(2).reduce((sum, l) => sum + (l.flops / 8e9) * 1000 + 0.05, 0);
    expect(derived.candidates.find((c) => c.cut === 2)?.tailMs).toBeCloseTo(expected, 9);
  });

  it('prices the threads of a tail with the parallel fraction its cloud profile measured, and with 0.8 when it has none', async () => {
    // Prepare: 10 ms per layer measured with 2 threads on 2 full cores (3,538 MB); the tails run at 1,769 MB, where
    // their 2 threads share one vCPU, so the profile is brought back to one thread: ms / ((1 − p) + p / 2)
    const layers = manifest.layers.map((l) => ({ name: l.name, ms: 10 }));
    const tailMsAt2 = async (profile: Record<string, unknown>, name: string) => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: cloudProfileKey(MODEL), Body: JSON.stringify(profile) }));
      try {
        // a fresh planner: the catalog keeps a profile it found
        const fresh = createPlannerHandler(new PlannerRuntime({ env: await plannerEnv(name, { [MODEL]: tinychainEntry }) }));
        const record = jsonOf((await fresh(
          httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }),
          lambdaContext(),
        )) as Result) as PlanResponse;
        return record.candidates.find((c) => c.cut === 2)!.tailMs;
      } finally {
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: cloudProfileKey(MODEL) }));
      }
    };
    const measured = await tailMsAt2({ memoryMB: 3538, threads: 2, parallelFraction: 0.2, layers }, 'pf-measured');
    const stated = await tailMsAt2({ memoryMB: 3538, threads: 2, layers }, 'pf-stated');
    // cut 2 runs 5 layers in the cloud
    expect(measured).toBeCloseTo(50 / (0.8 + 0.2 / 2), 9);
    expect(stated).toBeCloseTo(50 / (0.2 + 0.8 / 2), 9);
  });

  it('with a measured model profile in the export, device times come from the predictor and cloud times from the profile', async () => {
    // Prepare: MobileNetV2's committed wasm profile uploaded as its cloud profile, its manifest, two tails
    const profile = parseModelProfile(JSON.parse(await readFile('profiles/mobilenetv2.wasm.json', 'utf8')));
    const analysis = analyzeModel(ZOO.mobilenetv2.build(), { name: 'mobilenetv2' });
    const mnManifest = parseManifest({
      manifestVersion: 2, segments: [],
      model: 'mobilenetv2', inputShape: analysis.inputShape, inputBytes: analysis.inputBytes, outputBytes: analysis.outputBytes,
      layers: analysis.layers, candidates: analysis.candidates, exportedCuts: [], files: {},
    });
    const mid = (analysis.candidates[Math.floor(analysis.candidates.length / 2)] as { cut: number }).cut;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey('mobilenetv2'), Body: JSON.stringify(mnManifest) }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: cloudProfileKey('mobilenetv2'), Body: JSON.stringify(profile) }));
    const mnTails = [0, mid].map((cut) => ({ ...tails[0], cut, function: `offload-mobilenetv2-${cut}`, route: `/infer/mobilenetv2/${cut}` }));
    const mn = createPlannerHandler(new PlannerRuntime({ env: await plannerEnv('mobilenet', { mobilenetv2: { manifestKey: 'models/mobilenetv2/manifest.json', tails: mnTails } }) }));

    // Act
    const record = jsonOf((await mn(
      httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mobilenetv2', device: 'flagship-phone', network: '4g' }) }),
      lambdaContext(),
    )) as Result) as PlanResponse;

    // Assess: the row of the mid cut adds up the profile-derived per-layer times
    const device = deviceLayerMs(profile, DEVICE_PROFILES['flagship-phone']!, predictorFromProfiles([profile]));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const row = record.candidates.find((c) => c.cut === mid);
    expect(row?.headMs).toBeCloseTo(sum(device.slice(0, mid)), 6);
    expect(row?.tailMs).toBeCloseTo(sum(profile.layers.slice(mid).map((l) => l.ms)), 6);
    expect(row?.headMs).not.toBeCloseTo(sum(mnManifest.layers.slice(0, mid).map((l) => (l.flops / (DEVICE_PROFILES['flagship-phone']!.gmacPerSecond * 1e9)) * 1000 + 0.05)), 3);
  });

  it('treats a function at its reserved concurrency as throttled', async () => {
    const a = new InstanceRegistrar({ client: doc, table: TABLE, model: MODEL, cut: 0, instance: 'busy-a' });
    const b = new InstanceRegistrar({ client: doc, table: TABLE, model: MODEL, cut: 0, instance: 'busy-b' });
    await Promise.all([a.markBusy(Date.now() + 60_000), b.markBusy(Date.now() + 60_000)]);
    const record = jsonOf(await post(request)) as PlanResponse;
    expect(record.candidates.find((c) => c.cut === 0)?.reasons).toContain('throttled');
    expect(record.cut).not.toBe(0);
    await Promise.all([a.markIdle(), b.markIdle()]);
  });

  it('answers 400 naming the field for an invalid plan request', async () => {
    const cases: [unknown, string][] = [
      [{ ...request, network: { uplinkMbps: 0, downlinkMbps: 1, rttMs: 10 } }, 'network.uplinkMbps: must be > 0'],
      [{ ...request, network: '5g' }, 'network: unknown network preset "5g"'],
      [{ ...request, objective: 'speed' }, 'objective: unknown objective "speed"'],
      [{ ...request, battery: { level: 1.5 } }, 'battery.level: must be in 0..1'],
      [{ ...request, device: { class: 'flagship-phone', deviceMs: [1, 2] } }, 'device.deviceMs: has 2 entries; model "tinychain" has 7 layers'],
      [{ ...request, device: 'toaster' }, 'device: unknown device class "toaster"'],
      // names of Object.prototype are no device classes (nor models, below)
      [{ ...request, device: 'hasOwnProperty' }, 'device: unknown device class "hasOwnProperty"'],
      [{ ...request, device: 'constructor' }, 'device: unknown device class "constructor"'],
      [{ ...request, device: { class: '__proto__', computeW: 1, idleW: 1 } }, 'device.class: unknown device class "__proto__"'],
      [{ ...request, dtype: 'float64' }, 'dtype: unknown dtype "float64"'],
      [{ network: 'wifi', device: 'flagship-phone' }, 'model: required'],
      [{ ...request, objectiv: 'latency' }, 'body: Unrecognized key: "objectiv"'],
      [[request], 'body: must be a JSON object, got an array'],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect(res.statusCode, message).toBe(400);
      const err = jsonOf(res) as { code: string; message: string };
      expect(err.code).toBe('invalid-input');
      expect(err.message.startsWith(message), `${err.message} should start with ${message}`).toBe(true);
    }
  });

  it('answers 400 for a body that is not JSON, 415 for another content type, 404 for an unknown model or route', async () => {
    const notJson = (await handler(
      httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: '{"model":' }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    expect(notJson.statusCode).toBe(400);
    expect(jsonOf(notJson)).toMatchObject({ code: 'invalid-input' });

    const wrongType = (await handler(
      httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(request) }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    expect(wrongType.statusCode).toBe(415);
    expect(jsonOf(wrongType)).toMatchObject({ code: 'unsupported-media-type' });

    const unknownModel = await post({ ...request, model: 'resnet50' });
    expect(unknownModel.statusCode).toBe(404);
    expect((jsonOf(unknownModel) as { message: string }).message).toContain('model "resnet50" is not deployed (deployed: tinychain)');

    for (const name of ['constructor', 'hasOwnProperty', '__proto__', 'toString']) {
      const res = await post({ ...request, model: name });
      expect(res.statusCode, name).toBe(404);
      expect((jsonOf(res) as { message: string }).message).toContain(`model "${name}" is not deployed (deployed: tinychain)`);
    }

    const unknownRoute = (await handler(httpEvent({ method: 'GET', path: '/nope' }), lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(unknownRoute.statusCode).toBe(404);
    expect(jsonOf(unknownRoute)).toMatchObject({ code: 'not-found' });
  });

  it('answers 503 when the manifest is missing from S3, and plans once it appears', async () => {
    const missing = new PlannerRuntime({
      env: await plannerEnv('ghost', { ghost: { manifestKey: 'models/ghost/manifest.json', tails } }),
    });
    const res = (await createPlannerHandler(missing)(
      httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...request, model: 'ghost' }) }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(503);
    expect(jsonOf(res)).toEqual({ code: 'unavailable', message: 'export manifest of "ghost" missing from the artifact store' });
    expect(res.body).not.toContain(BUCKET);

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey('ghost'), Body: JSON.stringify({ ...manifest, model: 'ghost' }) }));
    const again = (await createPlannerHandler(missing)(
      httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...request, model: 'ghost' }) }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    expect(again.statusCode).toBe(200);
    expect((jsonOf(again) as PlanResponse).fleetSource).toBe('none');
  });

  it('counts provisioned concurrency as warm even with no registry entry', async () => {
    const provisioned = tails.map((t) => (t.cut === 2 ? { ...t, provisionedConcurrency: 1 } : t));
    const warmRuntime = new PlannerRuntime({ env: await plannerEnv('provisioned', { [MODEL]: { ...tinychainEntry, tails: provisioned } }) });
    const res = (await createPlannerHandler(warmRuntime)(
      httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    const record = jsonOf(res) as PlanResponse;
    expect(record.fleet['2']).toEqual({ idleWarm: 1, inFlight: 0, limit: 2 });
    expect(record.cut).toBe(2);
  });

  it('answers 503 naming the problem when its catalog file is missing', async () => {
    const env = { ...process.env, LAMBDA_TASK_ROOT: catalogDir, OFFLOAD_CATALOG_FILE: 'absent.json', ARTIFACT_BUCKET: BUCKET };
    const res = (await createPlannerHandler(new PlannerRuntime({ env }))(httpEvent({ method: 'GET', path: '/models' }), lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(503);
    const err = jsonOf(res) as { code: string; message: string };
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain(`planner function misconfigured: cannot use the catalog ${join(catalogDir, 'absent.json')}`);
  });

  it('plans every function as cold when the registry cannot be read', async () => {
    const broken = new PlannerRuntime({
      env: await plannerEnv('broken', { [MODEL]: tinychainEntry }, { REGISTRY_TABLE: 'no-such-table' }),
    });
    const res = (await createPlannerHandler(broken)(
      httpEvent({ method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(200);
    const record = jsonOf(res) as PlanResponse;
    expect(record.fleetSource).toBe('unavailable');
    expect(record.candidates.find((c) => c.cut === 2)?.pCold).toBe(1);
  });
});

describe('reachMs: when the planner believes a request reaches its tail', () => {
  it('is the default client\'s: its head runs while it asks, so the head and the plan round trip overlap', () => {
    // asked at now − RTT/2 with the head started then; sent when both are done; RTT/2 + upload to the tail
    expect(reachMs({ headMs: 40, upMs: 4 }, 50)).toBe(54); // the answer comes after the head: RTT + upload
    expect(reachMs({ headMs: 80, upMs: 4 }, 50)).toBe(84); // the head ends after the answer: head + upload
    expect(reachMs({ headMs: 0, upMs: 10 }, 50)).toBe(60); // cut 0: the input goes when the answer comes
    // not the waiting client's RTT + head + upload (94 and 134): that one shows in the registry when it gets there
  });
});
