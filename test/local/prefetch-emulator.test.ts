/**
 * The bundled tail's early download under the local emulator, loaded the way
 * Lambda loads `index.handler` (local/runtime-worker.mjs): the entry starts
 * the worker thread (prefetch-worker.mjs) before it loads main.mjs, and main.mjs
 * the engine's pthread worker before init. Real
 * processes, the real s3rver and dynalite stand-ins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeviceModel } from '../../client/device';
import { decodeTensors, encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { maxAbsDiff } from '../../testkit/tensors';
import { startE2EStack, type E2EStack } from '../e2e/stack-fixture';

const MODEL = 'tinydag';
const CUT = 0;

let e: E2EStack;
let s3: S3Client;
let payload: Uint8Array;
const logs: { function: string; text: string }[] = [];

/** The JSON log lines of `fn` with `message`, in order. */
function logged(fn: string, message: string): Record<string, unknown>[] {
  return logs
    .filter((l) => l.function === fn && l.text.includes(`"${message}"`))
    .flatMap((l) => {
      try {
        return [JSON.parse(l.text) as Record<string, unknown>];
      } catch {
        return [];
      }
    })
    .filter((l) => l.message === message);
}

async function cold(env: Record<string, string>): Promise<{ status: number; body: Uint8Array; instance: string | null }> {
  const fn = e.stack.tails.find((t) => t.model === MODEL && t.cut === CUT)!.function;
  e.stack.emulator.setFunctionEnvironment(fn, env);
  await e.stack.emulator.reapIdle(fn);
  return call();
}

async function call(): Promise<{ status: number; body: Uint8Array; instance: string | null }> {
  const r = await fetch(`${e.stack.url}/infer/${MODEL}/${CUT}`, { method: 'POST', headers: { 'content-type': WIRE_CONTENT_TYPE, accept: WIRE_CONTENT_TYPE }, body: payload });
  return { status: r.status, body: new Uint8Array(await r.arrayBuffer()), instance: r.headers.get('x-offload-instance') };
}

beforeAll(async () => {
  await initBackend();
  e = await startE2EStack({ logs: (line) => logs.push(line) });
  s3 = new S3Client({
    endpoint: e.stack.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const device = await DeviceModel.load(MODEL);
  const x = device.randomInput(1);
  payload = encodeTensors(await device.runHead(CUT, x));
  x.dispose();
  device.dispose();
}, 600_000);

afterAll(async () => {
  s3?.destroy();
  await e?.close();
});

describe('the bundled tail with its early download', () => {
  it('loads from the early download, answers as the tail that downloads with the SDK, and its worker is gone when it is ready', async () => {
    const fn = e.stack.tails.find((t) => t.model === MODEL && t.cut === CUT)!.function;
    const on = await cold({ OFFLOAD_PREFETCH: 'on' });
    expect(on.status).toBe(200);
    const off = await cold({ OFFLOAD_PREFETCH: 'off' });
    expect(off.status).toBe(200);
    const [a] = decodeTensors(on.body);
    const [b] = decodeTensors(off.body);
    expect(maxAbsDiff(a!.data, b!.data)).toBeLessThanOrEqual(1e-5);
    const timelines = logged(fn, 'cold start timeline');
    const tOn = timelines.find((t) => t.instance === on.instance);
    const tOff = timelines.find((t) => t.instance === off.instance);
    expect(tOn).toMatchObject({ prefetched: true, prefetchWorkerExited: true });
    // the download started before the handler bundle had loaded
    expect(tOn!.prefetchStarted as number).toBeLessThan(tOn!.moduleLoaded as number);
    expect(tOff).toMatchObject({ prefetched: false });
    expect(tOff!.prefetchStarted).toBeUndefined();
  });

  it('a missing weight object answers 503, and the same environment answers once it is back', async () => {
    const bucket = e.stack.bucket;
    const manifest = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `models/${MODEL}/tails/${CUT}/model.json` }))).Body!.transformToString(),
    ) as { weightsManifest: { paths: string[] }[] };
    const gone = `models/${MODEL}/${manifest.weightsManifest.at(-1)!.paths[0]!}`;
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: gone }))).Body!.transformToByteArray();
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: gone }));
    let failed: Awaited<ReturnType<typeof cold>>;
    try {
      failed = await cold({ OFFLOAD_PREFETCH: 'on' });
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: gone, Body: body }));
    }
    expect(failed.status).toBe(503);
    expect(JSON.parse(Buffer.from(failed.body).toString('utf8'))).toEqual({
      code: 'unavailable',
      message: `artifact's weight file ${gone.slice(`models/${MODEL}/`.length)} missing from the artifact store`,
    });
    const retried = await call();
    expect(retried.status).toBe(200);
    expect(retried.instance).toBe(failed.instance);
  });

  it('runs the engine on the pthread worker started before init, with the same answer as without (OFFLOAD_EARLY_ENGINE)', async () => {
    const fn = e.stack.tails.find((t) => t.model === MODEL && t.cut === CUT)!.function;
    const on = await cold({ OFFLOAD_PREFETCH: 'on', OFFLOAD_EARLY_ENGINE: 'on' });
    const off = await cold({ OFFLOAD_EARLY_ENGINE: 'off' });
    expect([on.status, off.status]).toEqual([200, 200]);
    expect(decodeTensors(on.body)[0]!.data).toEqual(decodeTensors(off.body)[0]!.data);
    const ready = logged(fn, 'tail ready');
    // the stack pins the tails' engine at 2 threads: one pthread worker
    expect(ready.find((r) => r.instance === on.instance)?.threads).toEqual({ threads: 2, requested: 2, source: 'OFFLOAD_WASM_THREADS', earlyWorkers: 1 });
    expect(ready.find((r) => r.instance === off.instance)?.threads).toEqual({ threads: 2, requested: 2, source: 'OFFLOAD_WASM_THREADS' });
  });

  it.each([
    ['OFFLOAD_EARLY_ENGINE', 'early'],
    ['OFFLOAD_PREFETCH', 'soon'],
  ])('a bad %s answers 503 and the log names the variable', async (name, value) => {
    const fn = e.stack.tails.find((t) => t.model === MODEL && t.cut === CUT)!.function;
    const bad = await cold({ [name]: value });
    expect(bad.status).toBe(503);
    const failure = logged(fn, 'tail init failed; the next invocation retries').at(-1);
    expect(failure?.detail).toBe(`${name}: must be "on" or "off" (got "${value}")`);
    // the emulator keeps what it was given: the next test starts from a good setting
    e.stack.emulator.setFunctionEnvironment(fn, { [name]: 'on' });
  });
});
