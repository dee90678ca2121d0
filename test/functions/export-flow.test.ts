/**
 * The export layout meets the functions: `exportModel` output uploaded to S3
 * as the CDK app and the local stack do (under `models/`), then plan → head
 * on the "device" (from the exported head) → tail function → the full
 * model's answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createDocumentClient } from '../../functions/commons/aws';
import { InstanceRegistrar } from '../../functions/commons/registry';
import { createPlannerHandler, PlannerRuntime, type PlanResponse } from '../../functions/commons/planner';
import { createTailHandler, TailRuntime } from '../../functions/commons/tail';
import type { ModelCatalogEntry } from '../../functions/commons/model-catalog';
import { ModelsResponseSchema } from '../../core/api';
import { createHash } from 'node:crypto';
import { exportModel } from '../../models/export';
import { loadModelFromDir } from '../../models/artifacts';
import { initBackend } from '../../models/backend';
import { ZOO } from '../../models/zoo';
import { analyzeModel } from '../../models/graph';
import { decodeTensors, encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { bytesOf, httpEvent, jsonOf, lambdaContext, startStandInBackend, type StandInBackend } from '../../testkit/lambda';
import { maxAbsDiff } from '../../testkit/tensors';
import { catalogTails } from '../../testkit/catalog';

const BUCKET = 'artifacts';
const TABLE = 'registry';
type Result = APIGatewayProxyStructuredResultV2;

async function uploadTree(s3: S3Client, dir: string, prefix: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const path = join(e.parentPath, e.name);
        const key = prefix + relative(dir, path).split(sep).join('/');
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(path) }));
      }),
  );
}

describe('export → S3 → planner → head → tail', () => {
  let backend: StandInBackend;
  let s3: S3Client;
  let work: string;
  let cuts: number[];

  beforeAll(async () => {
    await initBackend();
    work = await mkdtemp(join(tmpdir(), 'offload-export-flow-'));
    backend = await startStandInBackend({ bucket: BUCKET, table: TABLE });
    ({ s3 } = backend);
    const model = ZOO.tinydag.build({ seed: 3 });
    const inner = analyzeModel(model, { name: 'tinydag' }).candidates.map((c) => c.cut).filter((c) => c > 0);
    cuts = [0, inner[Math.floor(inner.length / 2)] as number];
    await exportModel(model, join(work, 'export'), { name: 'tinydag', cuts });
    await uploadTree(s3, join(work, 'export'), 'models/');
  });

  afterAll(async () => {
    await backend.close();
    await rm(work, { recursive: true, force: true });
  });

  it('hands out presigned artifact URLs that fetch exactly the listed bytes, when configured to', async () => {
    await writeFile(join(work, 'catalog-urls.json'), JSON.stringify({ version: 1, backend: 'wasm', artifactPrefix: 'models/', models: { tinydag: { manifestKey: 'models/tinydag/manifest.json', tails: [] } } }));
    const env = { ...process.env, LAMBDA_TASK_ROOT: work, OFFLOAD_CATALOG_FILE: 'catalog-urls.json', ARTIFACT_BUCKET: BUCKET };
    const withUrls = createPlannerHandler(new PlannerRuntime({ env: { ...env, ARTIFACT_URL_SECONDS: '600' } }));
    const { models } = ModelsResponseSchema.parse(jsonOf((await withUrls(httpEvent({ method: 'GET', path: '/models' }), lambdaContext())) as Result));
    const files = models[0]!.full.files;
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) {
      expect(f.url).toMatch(/X-Amz-Expires=600/);
      const res = await fetch(f.url!);
      expect(res.status, f.key).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(bytes.length).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
    // without the setting (the handler's default), none
    const without = createPlannerHandler(new PlannerRuntime({ env }));
    const plain = ModelsResponseSchema.parse(jsonOf((await without(httpEvent({ method: 'GET', path: '/models' }), lambdaContext())) as Result));
    expect(plain.models[0]!.full.files.every((f) => f.url === undefined)).toBe(true);
  });

  it('answers with the full model\'s output at the cut the planner chose', async () => {
    // Prepare: the planner with a catalog of both tails
    const mid = cuts[1] as number;
    const tails = catalogTails('tinydag', cuts, 5);
    await writeFile(join(work, 'catalog.json'), JSON.stringify({ version: 1, backend: 'wasm', artifactPrefix: 'models/', models: { tinydag: { manifestKey: 'models/tinydag/manifest.json', tails } } }));
    const planner = createPlannerHandler(
      // PREWARM_TAILS off: no plan here may invoke a real Lambda endpoint (prewarm is test/functions/prewarm.test.ts's subject).
      new PlannerRuntime({ env: { ...process.env, LAMBDA_TASK_ROOT: work, OFFLOAD_CATALOG_FILE: 'catalog.json', ARTIFACT_BUCKET: BUCKET, REGISTRY_TABLE: TABLE, PREWARM_TAILS: 'false' } }),
    );
    const catalog = jsonOf((await planner(httpEvent({ method: 'GET', path: '/models' }), lambdaContext())) as Result) as { models: ModelCatalogEntry[] };
    const entry = catalog.models[0] as ModelCatalogEntry;
    const midRow = entry.candidates.find((c) => c.cut === mid);
    expect(midRow?.head?.files.length).toBeGreaterThan(0);

    // An idle instance of the mid tail is warm; cloud-only would pay a cold start.
    await new InstanceRegistrar({ client: createDocumentClient(), table: TABLE, model: 'tinydag', cut: mid, instance: 'warm' }).register({ initMs: 100 });

    // Act 1: plan with a device that is fast up to the cut and slow after it
    const L = entry.layers;
    const deviceMs = Array.from({ length: L }, (_, i) => (i < mid ? 0.1 : 50));
    const planned = jsonOf(
      (await planner(
        httpEvent({
          method: 'POST', path: '/plan', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'tinydag', device: { class: 'flagship-phone', deviceMs }, network: '3g', objective: 'latency' }),
        }),
        lambdaContext(),
      )) as Result,
    ) as PlanResponse;
    expect(planned.target).toBe('cloud');
    expect(planned.fleet[String(mid)]).toMatchObject({ idleWarm: 1 });
    expect(planned.route).toBe(`/infer/tinydag/${planned.cut}`);
    const cut = planned.cut;

    // Act 2: the device runs the exported head; the tail function finishes
    const exported = join(work, 'export', 'tinydag');
    const full = await loadModelFromDir(join(exported, 'full'), exported);
    const x = tf.randomUniform([1, ...entry.inputShape], -1, 1, 'float32', 5);
    const expected = (await (full.predict(x) as tf.Tensor).data()) as Float32Array;
    let crossing: tf.Tensor[] = [x];
    if (cut > 0) {
      const head = await loadModelFromDir(join(exported, 'heads', String(cut)), exported);
      const out = head.predict(x);
      crossing = Array.isArray(out) ? out : [out];
    }
    const names = entry.candidates.find((c) => c.cut === cut)?.crossing.map((t) => t.name) ?? [];
    const body = encodeTensors(await Promise.all(crossing.map(async (t, i) => ({ name: names[i] as string, shape: t.shape.slice(), data: (await t.data()) as Float32Array }))));
    const tail = createTailHandler(
      new TailRuntime({ env: { ...process.env, MODEL_NAME: 'tinydag', CUT: String(cut), ARTIFACT_BUCKET: BUCKET, ARTIFACT_PREFIX: 'models/tinydag/', REGISTRY_TABLE: TABLE } }),
    );
    const res = (await tail(
      httpEvent({ method: 'POST', path: planned.route as string, pathParameters: { model: 'tinydag', cut: String(cut) }, headers: { 'content-type': WIRE_CONTENT_TYPE }, body }),
      lambdaContext(),
    )) as Result;

    // Assess
    expect(res.statusCode).toBe(200);
    const [out] = decodeTensors(bytesOf(res));
    expect(maxAbsDiff(out?.data ?? [], expected)).toBeLessThanOrEqual(1e-4);
    expect(cut).toBe(mid);
  });
});
