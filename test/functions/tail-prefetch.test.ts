/**
 * The tail loading from its early download (functions/tail/index.ts starts it
 * on a worker thread at process start): the real worker (from source, through
 * tsx), the real s3rver and dynalite stand-ins, the real tfjs.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '../../models/tfjs';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createTailHandler, TailRuntime } from '../../functions/commons/tail';
import { startPrefetch } from '../../functions/commons/prefetch-start';
import type { PrefetchHandle } from '../../functions/commons/prefetch-protocol';
import { decodeTensors, encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { bytesOf, httpEvent, jsonOf, lambdaContext, startStandInBackend, type StandInBackend } from '../../testkit/lambda';
import { uploadSlicedTail, type SlicedFixture } from '../../testkit/tail-fixture';
import { maxAbsDiff } from '../../testkit/tensors';

const BUCKET = 'artifacts';
const TABLE = 'registry';
/** The tail's entry, from source: its worker is functions/tail/prefetch-worker.ts. */
const ENTRY = new URL('../../functions/tail/index.ts', import.meta.url).href;

type Result = APIGatewayProxyStructuredResultV2;

/** The JSON lines the functions' logger writes to stderr (warnings, errors) and stdout (info), while `fn` runs. */
async function logsOf<T>(fn: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const result = await fn();
    const lines = [...out.mock.calls, ...err.mock.calls]
      .flatMap((c) => String(c[0]).split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, lines };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('a tail loading from its early download', () => {
  let backend: StandInBackend;
  let s3: S3Client;

  const tailEnv = (fx: SlicedFixture, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    MODEL_NAME: fx.model,
    CUT: String(fx.cut),
    ARTIFACT_BUCKET: BUCKET,
    ARTIFACT_PREFIX: fx.prefix,
    REGISTRY_TABLE: TABLE,
    ...extra,
  });
  const infer = (fx: SlicedFixture) =>
    httpEvent({
      method: 'POST',
      path: `/infer/${fx.model}/${fx.cut}`,
      routeKey: 'POST /infer/{model}/{cut}',
      pathParameters: { model: fx.model, cut: String(fx.cut) },
      headers: { 'content-type': WIRE_CONTENT_TYPE },
      body: encodeTensors(fx.headOutputs),
    });
  /** One cold invocation of a fresh runtime (prefetching when `prefetch` is given); its output and log lines. */
  const coldCall = async (fx: SlicedFixture, env: NodeJS.ProcessEnv, prefetch?: PrefetchHandle) => {
    const runtime = new TailRuntime({ env, ...(prefetch ? { prefetch } : {}) });
    const { result, lines } = await logsOf(() => createTailHandler(runtime)(infer(fx), lambdaContext()) as Promise<Result>);
    await runtime.flush();
    return { res: result, lines, ready: lines.find((l) => l.message === 'tail ready'), timeline: lines.find((l) => l.message === 'cold start timeline') };
  };

  beforeAll(async () => {
    backend = await startStandInBackend({ bucket: BUCKET, table: TABLE });
    ({ s3 } = backend);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('answers exactly as the tail that downloads with the SDK (streamed and not), and its worker is gone after init', async () => {
    for (const [name, cut] of [['tinydag', 0], ['tinychain', 3]] as const) {
      const fx = await uploadSlicedTail(s3, BUCKET, name, cut);
      const outputs: Float32Array[] = [];
      for (const extra of [{}, { OFFLOAD_PIPELINE: 'off' }] as Record<string, string>[]) {
        const env = tailEnv(fx, extra);
        const prefetch = startPrefetch(env, ENTRY);
        expect(prefetch, 'the worker starts').toBeDefined();
        const early = await coldCall(fx, env, prefetch);
        expect(early.res.statusCode, `${name} ${JSON.stringify(extra)}`).toBe(200);
        expect(early.ready).toMatchObject({ prefetched: true, streamed: extra.OFFLOAD_PIPELINE !== 'off' });
        expect(early.timeline?.prefetchStarted).toBeTypeOf('number');
        // the early download's own times: model.json and the last byte, before the model is built
        expect(early.timeline?.modelJson as number).toBeLessThanOrEqual(early.timeline?.weights as number);
        expect(early.timeline?.weights as number).toBeLessThanOrEqual(early.timeline?.built as number);
        await vi.waitFor(() => expect(prefetch!.exited, 'worker thread gone').toBe(true));
        const sdk = await coldCall(fx, tailEnv(fx, { ...extra, OFFLOAD_PREFETCH: 'off' }));
        expect(sdk.ready).toMatchObject({ prefetched: false });
        const [a] = decodeTensors(bytesOf(early.res));
        const [b] = decodeTensors(bytesOf(sdk.res));
        expect(maxAbsDiff(a!.data, b!.data), `${name} ${JSON.stringify(extra)}`).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(a!.data, fx.expected)).toBeLessThanOrEqual(1e-4);
        outputs.push(a!.data as Float32Array);
      }
      expect(maxAbsDiff(outputs[0]!, outputs[1]!)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('a missing weight object answers the 503 the SDK download gives, leaks nothing, and the next invocation succeeds once it is back', async () => {
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinydag', 1);
    const gone = fx.tailKeys.filter((k) => k.endsWith('.bin')).at(-1)!;
    const body = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: gone }))).Body!.transformToByteArray();
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: gone }));
    const env = tailEnv(fx);
    const prefetch = startPrefetch(env, ENTRY)!;
    const runtime = new TailRuntime({ env, prefetch });
    const handler = createTailHandler(runtime);
    const tensorsBefore = tf.memory().numTensors;
    const failed = await logsOf(() => handler(infer(fx), lambdaContext()) as Promise<Result>);
    expect(failed.result.statusCode).toBe(503);
    expect(jsonOf(failed.result)).toEqual({ code: 'unavailable', message: `artifact's weight file ${gone.slice(fx.prefix.length)} missing from the artifact store` });
    expect(failed.lines.find((l) => l.message === 'tail init failed; the next invocation retries')).toMatchObject({ detail: `s3://${BUCKET}/${gone}` });
    expect(tf.memory().numTensors, 'no half-built model').toBe(tensorsBefore);
    await vi.waitFor(() => expect(prefetch.exited, 'worker thread gone').toBe(true));

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: gone, Body: body }));
    const ok = await logsOf(() => handler(infer(fx), lambdaContext()) as Promise<Result>);
    expect(ok.result.statusCode).toBe(200);
    // the retry downloads with the SDK: the early download is over
    expect(ok.lines.find((l) => l.message === 'tail ready')).toMatchObject({ prefetched: false });
    const [out] = decodeTensors(bytesOf(ok.result));
    expect(maxAbsDiff(out!.data, fx.expected)).toBeLessThanOrEqual(1e-4);
    await runtime.flush();
  });

  it('credentials the artifact store denies answer 503 naming the store, not a crash', async () => {
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinychain', 4);
    const env = tailEnv(fx, { AWS_ACCESS_KEY_ID: 'NOT-A-KEY' });
    const prefetch = startPrefetch(env, ENTRY)!;
    const { res, lines } = await coldCall(fx, env, prefetch);
    expect(res.statusCode).toBe(503);
    expect(jsonOf(res)).toEqual({ code: 'unavailable', message: "artifact store unreachable while reading the artifact's model.json" });
    expect(lines.find((l) => l.message === 'tail init failed; the next invocation retries')?.detail).toBe(`s3://${BUCKET}/${fx.prefix}tails/4/model.json: InvalidAccessKeyId`);
    await vi.waitFor(() => expect(prefetch.exited).toBe(true));
  });

  it('a bad OFFLOAD_PREFETCH starts no worker and fails init naming the variable', async () => {
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinychain', 4);
    const env = tailEnv(fx, { OFFLOAD_PREFETCH: 'early' });
    expect(startPrefetch(env, ENTRY)).toBeUndefined();
    expect(startPrefetch(tailEnv(fx, { OFFLOAD_PREFETCH: 'off' }), ENTRY)).toBeUndefined();
    const { res, lines } = await coldCall(fx, env);
    expect(res.statusCode).toBe(503);
    expect(lines.find((l) => l.message === 'tail init failed; the next invocation retries')?.detail).toBe('OFFLOAD_PREFETCH: must be "on" or "off" (got "early")');
  });

  it('a worker that cannot do the job (no Region to sign with) is logged and the tail loads with the SDK', async () => {
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinychain', 4);
    const env = tailEnv(fx);
    const workerEnv = { ...env };
    delete workerEnv.AWS_REGION;
    delete workerEnv.AWS_DEFAULT_REGION;
    const prefetch = startPrefetch(workerEnv, ENTRY)!;
    const { res, lines, ready } = await coldCall(fx, env, prefetch);
    expect(res.statusCode).toBe(200);
    expect(ready).toMatchObject({ prefetched: false });
    expect(lines.find((l) => l.message === 'early download gave up; downloading the tail with the SDK')).toMatchObject({ reason: 'cannot sign S3 requests: no AWS Region configured (AWS_REGION)' });
    await vi.waitFor(() => expect(prefetch.exited).toBe(true));
  });
});
