import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '../../models/tfjs';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { startS3, useStandInEnv } from '../../local/stand-ins';
import { createS3Client } from '../../functions/commons/aws';
import { fleetKey } from '../../functions/commons/registry';
import { createTailHandler, TailRuntime } from '../../functions/commons/tail';
import { decodeTensors, encodeTensors, WIRE_CONTENT_TYPE, type WireTensor } from '../../core/wire';
import { bytesOf, httpEvent, jsonOf, lambdaContext, startStandInBackend, type StandInBackend } from '../../testkit/lambda';
import { uploadSlicedTail, type SlicedFixture } from '../../testkit/tail-fixture';
import { maxAbsDiff } from '../../testkit/tensors';

const BUCKET = 'artifacts';
const TABLE = 'registry';

type Result = APIGatewayProxyStructuredResultV2;

/** Captures the JSON lines the functions' Powertools Logger writes to stderr (errors and warnings); read them before `restore`. */
function captureStderr(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  let kept: unknown[][] | undefined;
  return {
    lines: () =>
      (kept ?? spy.mock.calls)
        .flatMap((c) => String(c[0]).split('\n'))
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => {
      kept = [...spy.mock.calls]; // restoring clears the spy's calls
      spy.mockRestore();
    },
  };
}

describe('tail function (API Gateway v2 events, s3rver, dynalite)', () => {
  let backend: StandInBackend;
  let s3: S3Client;
  let doc: StandInBackend['doc'];
  let chain: SlicedFixture;

  const tailEnv = (fx: { model: string; cut: number }, extra: Record<string, string> = {}) => ({
    ...process.env,
    MODEL_NAME: fx.model,
    CUT: String(fx.cut),
    ARTIFACT_BUCKET: BUCKET,
    ARTIFACT_PREFIX: `models/${fx.model}/`,
    REGISTRY_TABLE: TABLE,
    AWS_LAMBDA_FUNCTION_NAME: `offload-${fx.model}-${fx.cut}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    ...extra,
  });

  const inferEvent = (
    fx: { model: string; cut: number },
    body: Uint8Array | string,
    opts: { headers?: Record<string, string>; raw?: boolean; model?: string; cut?: string } = {},
  ) => {
    const model = opts.model ?? fx.model;
    const cut = opts.cut ?? String(fx.cut);
    return httpEvent({
      method: 'POST',
      path: `/infer/${model}/${cut}`,
      routeKey: 'POST /infer/{model}/{cut}',
      pathParameters: { model, cut },
      headers: { 'content-type': WIRE_CONTENT_TYPE, ...opts.headers },
      body,
      raw: opts.raw,
    });
  };

  /** Asserts a wire response carries the full model's output. */
  const expectCorrectOutput = (res: Result, fx: SlicedFixture) => {
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe(WIRE_CONTENT_TYPE);
    expect(res.isBase64Encoded).toBe(true);
    const [out] = decodeTensors(bytesOf(res));
    expect(out?.shape).toEqual(fx.expectedShape);
    expect(maxAbsDiff(out?.data ?? [], fx.expected)).toBeLessThanOrEqual(1e-4);
  };

  beforeAll(async () => {
    backend = await startStandInBackend({ bucket: BUCKET, table: TABLE });
    ({ s3, doc } = backend);
    chain = await uploadSlicedTail(s3, BUCKET, 'tinychain', 2);
  });

  afterAll(async () => {
    await backend.close();
  });

  describe('a tinychain tail at cut 2', () => {
    let runtime: TailRuntime;
    let handler: ReturnType<typeof createTailHandler>;
    let body: Uint8Array;

    beforeAll(() => {
      runtime = new TailRuntime({ env: tailEnv(chain) });
      handler = createTailHandler(runtime);
      body = encodeTensors(chain.headOutputs);
    });

    it('answers cold from its S3 artifact with the full model\'s output, then warm from the same instance', async () => {
      // Act
      const first = (await handler(inferEvent(chain, body), lambdaContext())) as Result;
      const second = (await handler(inferEvent(chain, body), lambdaContext())) as Result;

      // Assess
      expectCorrectOutput(first, chain);
      expectCorrectOutput(second, chain);
      expect(first.headers?.['x-offload-cold']).toBe('true');
      expect(Number(first.headers?.['x-offload-init-ms'])).toBeGreaterThan(0);
      expect(Number(first.headers?.['x-offload-compute-ms'])).toBeGreaterThan(0);
      expect(second.headers?.['x-offload-cold']).toBe('false');
      expect(second.headers?.['x-offload-init-ms']).toBeUndefined();
      expect(second.headers?.['x-offload-instance']).toBe(first.headers?.['x-offload-instance']);
      expect(first.headers?.['x-offload-function']).toBe('offload-tinychain-2'); // who answered, for a client that chose the cut
      expect(first.headers?.['x-offload-memory-mb']).toBe('1024'); // what its billed time is priced at
      // the engine that ran it: outside Lambda, without OFFLOAD_WASM_THREADS, one thread (or another backend)
      expect(first.headers?.['x-offload-backend']).toMatch(/^(wasm; threads=1|cpu|tensorflow)$/);
    });

    it('registers the instance and leaves it idle after each invocation', async () => {
      await handler(inferEvent(chain, body), lambdaContext());
      await runtime.flush();
      const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: { fn: fleetKey('tinychain', 2), instance: runtime.instance } }))).Item;
      expect(item).toMatchObject({ model: 'tinychain', cut: 2, state: 'idle', inFlight: 0, functionName: 'offload-tinychain-2' });
      expect(item?.initMs).toBeGreaterThan(0);
      // (busy, idle) per invocation so far: 2 × 3 (an on-demand environment has nothing to register before its first invocation)
      expect(item?.seq).toBe(6);
      expect(item?.invocations).toBe(3);
    });

    it('has its busy mark stored before the compute starts and its idle mark before it answers', async () => {
      // Prepare: a registry client and the model's predict that log when each happens
      const events: string[] = [];
      const logging = {
        send: async (cmd: Parameters<typeof doc.send>[0]) => {
          const state = (cmd.input as { ExpressionAttributeValues?: Record<string, unknown> }).ExpressionAttributeValues?.[':state'];
          const out = await doc.send(cmd);
          events.push(`${String(state)} stored`);
          return out;
        },
      } as unknown as typeof doc;
      const observed = new TailRuntime({ env: tailEnv(chain), dynamo: logging });
      const h = createTailHandler(observed);
      await h(inferEvent(chain, body), lambdaContext()); // cold: init (and its warm-up predict) out of the way
      const model = (await observed.init()).model;
      const original = model.predict.bind(model);
      const predict = vi.spyOn(model, 'predict').mockImplementation((...args: Parameters<typeof model.predict>) => {
        events.push('compute');
        return original(...args);
      });
      events.length = 0;

      // Act
      const res = (await h(inferEvent(chain, body), lambdaContext())) as Result;
      events.push('answered');

      // Assess
      expectCorrectOutput(res, chain);
      expect(events).toEqual(['busy stored', 'compute', 'idle stored', 'answered']);
      predict.mockRestore();
    });

    it('answers JSON when the client accepts only JSON', async () => {
      const res = (await handler(inferEvent(chain, body, { headers: { accept: 'application/json' } }), lambdaContext())) as Result;
      expect(res.statusCode).toBe(200);
      expect(res.headers?.['content-type']).toBe('application/json');
      const { outputs } = jsonOf(res) as { outputs: { name: string; shape: number[]; data: number[] }[] };
      expect(outputs).toHaveLength(1);
      expect(outputs[0]?.shape).toEqual(chain.expectedShape);
      expect(maxAbsDiff(outputs[0]?.data ?? [], chain.expected)).toBeLessThanOrEqual(1e-4);
    });

    it('accepts a raw (not base64) body as well', async () => {
      const res = (await handler(inferEvent(chain, body, { raw: true }), lambdaContext())) as Result;
      expectCorrectOutput(res, chain);
    });

    it('accepts float16 and int8 payloads (dequantised) within their error', async () => {
      for (const [dtype, tol] of [['float16', 1e-2], ['int8', 0.2]] as const) {
        const res = (await handler(inferEvent(chain, encodeTensors(chain.headOutputs, dtype)), lambdaContext())) as Result;
        expect(res.statusCode).toBe(200);
        const [out] = decodeTensors(bytesOf(res));
        expect(maxAbsDiff(out?.data ?? [], chain.expected), dtype).toBeLessThanOrEqual(tol);
      }
    });

    it('answers each bad input with its status and JSON {code, message}, and stays healthy', async () => {
      const good = chain.headOutputs[0] as WireTensor;
      const [, ...rest] = good.shape;
      const wrongShape = encodeTensors([{ name: good.name, shape: [1, ...rest.map((d) => d + 1)], data: new Float32Array(rest.reduce((n, d) => n * (d + 1), 1)) }]);
      const wrongName = encodeTensors([{ ...good, name: 'not_the_crossing' }]);
      // Same-length substitution in the JSON header: a dtype the format does not know.
      const wrongDtype = Buffer.from(body);
      const at = wrongDtype.indexOf('"float32"');
      wrongDtype.write('"float64"', at, 'latin1');
      const tooBig = new Uint8Array(4_800_000); // 6.4 MB once base64-encoded: over 6,291,456
      const cases: { what: string; event: ReturnType<typeof inferEvent>; status: number; code: string; message: RegExp }[] = [
        { what: 'malformed', event: inferEvent(chain, new TextEncoder().encode('definitely not tensors')), status: 400, code: 'wire-format', message: /magic|short|truncated/i },
        { what: 'truncated', event: inferEvent(chain, body.subarray(0, body.byteLength - 17)), status: 400, code: 'wire-format', message: /truncat|length|short/i },
        { what: 'wrong dtype', event: inferEvent(chain, wrongDtype), status: 400, code: 'wire-format', message: /dtype "float64"/ },
        { what: 'wrong shape', event: inferEvent(chain, wrongShape), status: 400, code: 'wire-format', message: /does not match the crossing shape/ },
        { what: 'wrong tensor', event: inferEvent(chain, wrongName), status: 400, code: 'wire-format', message: /missing "pool1".*unexpected "not_the_crossing"|crossing mismatch/ },
        { what: 'bad base64', event: { ...inferEvent(chain, body), body: '!!not base64!!', isBase64Encoded: true }, status: 400, code: 'wire-format', message: /not valid base64/ },
        { what: 'unknown model', event: inferEvent(chain, body, { model: 'resnet50' }), status: 404, code: 'not-found', message: /serves \/infer\/tinychain\/2/ },
        { what: 'unknown cut', event: inferEvent(chain, body, { cut: '3' }), status: 404, code: 'not-found', message: /cut 3/ },
        { what: 'wrong content type', event: inferEvent(chain, body, { headers: { 'content-type': 'application/json' } }), status: 415, code: 'unsupported-media-type', message: /application\/vnd\.offload\.tensors/ },
        { what: 'no content type', event: { ...inferEvent(chain, body), headers: { accept: '*/*' } }, status: 415, code: 'unsupported-media-type', message: /none given/ },
        { what: 'over the limit', event: inferEvent(chain, tooBig), status: 413, code: 'payload-too-large', message: /above the 6291456-byte payload limit; send the crossing tensors as float16 or int8/ },
      ];
      for (const c of cases) {
        const res = (await handler(c.event, lambdaContext())) as Result;
        expect(res.statusCode, c.what).toBe(c.status);
        expect(res.headers?.['content-type'], c.what).toBe('application/json');
        expect(res.headers?.['x-offload-instance'], c.what).toBe(runtime.instance);
        const err = jsonOf(res) as { code: string; message: string };
        expect(Object.keys(err).sort(), c.what).toEqual(['code', 'message']);
        expect(err.code, c.what).toBe(c.code);
        expect(err.message, c.what).toMatch(c.message);
      }

      // The warm instance still answers correctly, warm.
      const after = (await handler(inferEvent(chain, body), lambdaContext())) as Result;
      expectCorrectOutput(after, chain);
      expect(after.headers?.['x-offload-cold']).toBe('false');
      await runtime.flush();
      const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: { fn: fleetKey('tinychain', 2), instance: runtime.instance } }))).Item;
      expect(item?.state).toBe('idle');
    });
  });

  it('a batch of several inputs is answered in one call', async () => {
    const batch = await uploadSlicedTail(s3, BUCKET, 'tinychain', 4, 3);
    const handler = createTailHandler(new TailRuntime({ env: tailEnv(batch) }));
    const res = (await handler(inferEvent(batch, encodeTensors(batch.headOutputs)), lambdaContext())) as Result;
    expectCorrectOutput(res, batch);
    expect(batch.expectedShape[0]).toBe(3);
  });

  describe('limits checked before work', () => {
    it('refuses a batch above MAX_BATCH with 413 naming the limit, before init and without decoding the body', async () => {
      // Prepare: a function whose artifact does not exist, so any attempt to compute would answer 503
      const ghost = { model: 'tinychain', cut: 6 };
      const runtime = new TailRuntime({ env: tailEnv(ghost, { MAX_BATCH: '4' }) });
      const handler = createTailHandler(runtime);
      const errors = captureStderr();
      const batch5 = encodeTensors([{ name: 'x', shape: [5, 3], data: new Float32Array(15) }]);
      // A body whose header announces batch 5 and whose data part is not even valid base64: only the header was read.
      const b64 = Buffer.from(batch5).toString('base64');
      const headerChars = Math.ceil((16 + new DataView(batch5.buffer).getUint32(8, true)) / 3) * 4 + 4;
      const corruptTail = b64.slice(0, headerChars) + '!'.repeat(b64.length - headerChars);

      // Act
      const res = (await handler(inferEvent(ghost, batch5), lambdaContext())) as Result;
      const corrupt = (await handler({ ...inferEvent(ghost, batch5), body: corruptTail, isBase64Encoded: true }, lambdaContext())) as Result;
      errors.restore();

      // Assess
      expect(res.statusCode).toBe(413);
      expect(jsonOf(res)).toEqual({
        code: 'payload-too-large',
        message: "batch size 5 is above this function's limit of 4 (MAX_BATCH); split the batch into requests of at most 4",
      });
      expect(corrupt.statusCode).toBe(413);
      expect(errors.lines()).toEqual([]); // no init was attempted (it would have logged its failure)
    });

    it('defaults MAX_BATCH to 16 and answers a batch at the limit', async () => {
      const runtime = new TailRuntime({ env: tailEnv(chain) });
      expect(runtime.config.maxBatch).toBe(16);
      const handler = createTailHandler(runtime);
      const one = chain.headOutputs[0] as WireTensor;
      const perExample = one.data.length;
      const data = new Float32Array(perExample * 16);
      for (let i = 0; i < 16; i++) data.set(one.data, i * perExample);
      const ok = (await handler(inferEvent(chain, encodeTensors([{ ...one, shape: [16, ...one.shape.slice(1)], data }])), lambdaContext())) as Result;
      expect(ok.statusCode).toBe(200);
      const over = new Float32Array(perExample * 17);
      const res = (await handler(inferEvent(chain, encodeTensors([{ ...one, shape: [17, ...one.shape.slice(1)], data: over }])), lambdaContext())) as Result;
      expect(res.statusCode).toBe(413);
      expect((jsonOf(res) as { message: string }).message).toMatch(/batch size 17 .* limit of 16 \(MAX_BATCH\)/);
    });

    it('refuses with 413 a batch whose answer would exceed the payload limit, before computing', async () => {
      // Prepare: a tail that widens 4 inputs into 2,048 outputs (8 KiB per example), under a 4 KiB limit
      const tf = await import('@tensorflow/tfjs');
      const { modelToFiles } = await import('../../models/artifacts');
      const input = tf.input({ shape: [4], name: 'crossing' });
      const widen = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2048, name: 'widen' }).apply(input) as import('@tensorflow/tfjs').SymbolicTensor });
      const wide = { model: 'widener', cut: 1 };
      // the export layout: the tail's model.json under tails/1/, its weight paths relative to the model's folder
      for (const [file, bytes] of await modelToFiles(widen)) {
        const key = file === 'model.json' ? 'models/widener/tails/1/model.json' : `models/widener/${file}`;
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
      }
      const runtime = new TailRuntime({ env: tailEnv(wide, { MAX_PAYLOAD_BYTES: '4096' }) });
      const handler = createTailHandler(runtime);
      const request = encodeTensors([{ name: 'crossing', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) }]);

      // Act
      const res = (await handler(inferEvent(wide, request), lambdaContext())) as Result;
      const json = (await handler(inferEvent(wide, request, { headers: { accept: 'application/json' } }), lambdaContext())) as Result;

      // Assess: a 413 naming the limit, with no compute time (nothing was computed)
      expect(res.statusCode).toBe(413);
      expect((jsonOf(res) as { message: string }).message).toMatch(
        /^the response for batch 1 would be \d+ bytes after base64, above the 4096-byte payload limit; send batches of at most about 1$/,
      );
      expect(res.headers?.['x-offload-compute-ms']).toBeUndefined();
      expect(json.statusCode).toBe(413);
      widen.dispose();
    });

    it('answers 400 for NaN or Infinity in a float32 or float16 payload, and stays healthy', async () => {
      const runtime = new TailRuntime({ env: tailEnv(chain) });
      const handler = createTailHandler(runtime);
      const one = chain.headOutputs[0] as WireTensor;
      for (const [bad, dtype] of [[Number.NaN, 'float32'], [Number.POSITIVE_INFINITY, 'float16'], [Number.NEGATIVE_INFINITY, 'float32']] as const) {
        const data = Float32Array.from(one.data);
        data[3] = bad;
        const res = (await handler(inferEvent(chain, encodeTensors([{ ...one, data }], dtype)), lambdaContext())) as Result;
        expect(res.statusCode, `${bad} ${dtype}`).toBe(400);
        expect(jsonOf(res)).toEqual({
          code: 'invalid-input',
          message: `tensor "${one.name}": element 3 is ${bad}; crossing tensors must be finite (no NaN or Infinity)`,
        });
      }
      expectCorrectOutput((await handler(inferEvent(chain, encodeTensors([one])), lambdaContext())) as Result, chain);
    });
  });

  it('a tinydag tail (residual and inception blocks) answers like the full model', async () => {
    const { ZOO } = await import('../../models/zoo');
    const { analyzeModel } = await import('../../models/graph');
    const analysis = analyzeModel(ZOO.tinydag.build({ seed: 7 }), { name: 'tinydag' });
    const inner = analysis.candidates.map((c) => c.cut).filter((c) => c > 0);
    const cut = inner[Math.floor(inner.length / 2)] as number;
    const dag = await uploadSlicedTail(s3, BUCKET, 'tinydag', cut);
    const handler = createTailHandler(new TailRuntime({ env: tailEnv(dag) }));
    const res = (await handler(inferEvent(dag, encodeTensors(dag.headOutputs)), lambdaContext())) as Result;
    expectCorrectOutput(res, dag);
  });

  it('a tail whose cut crosses several tensors takes them all, in any order', async () => {
    const { ZOO } = await import('../../models/zoo');
    const { analyzeModel } = await import('../../models/graph');
    const analysis = analyzeModel(ZOO.tinydag.build({ seed: 7 }), { name: 'tinydag', maxCrossing: 3 });
    const multi = analysis.candidates.find((c) => c.crossing.length >= 2);
    expect(multi).toBeDefined();
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinydag', multi?.cut as number, 1, 3);
    const handler = createTailHandler(new TailRuntime({ env: tailEnv(fx) }));
    const reversed = [...fx.headOutputs].reverse();
    const res = (await handler(inferEvent(fx, encodeTensors(reversed)), lambdaContext())) as Result;
    expectCorrectOutput(res, fx);
    // one of them missing is a 400 naming it
    const partial = (await handler(inferEvent(fx, encodeTensors(fx.headOutputs.slice(1))), lambdaContext())) as Result;
    expect(partial.statusCode).toBe(400);
    expect((jsonOf(partial) as { message: string }).message).toContain(`missing "${fx.headOutputs[0]?.name}"`);
  });

  it('answers 503 with a clear log line when its artifact is missing, and retries init on the next invocation', async () => {
    // Prepare: a function whose artifact has not been uploaded
    const fx = { model: 'tinychain', cut: 3 };
    const runtime = new TailRuntime({ env: tailEnv(fx) });
    const handler = createTailHandler(runtime);
    const errors = captureStderr();
    const payload = encodeTensors([{ name: 'x', shape: [1], data: new Float32Array(1) }]);

    // Act
    const missing = (await handler(inferEvent(fx, payload), lambdaContext())) as Result;
    const logged = errors.lines();
    errors.restore();

    // Assess: 503 saying what is missing without the bucket or key, which one structured log line names
    expect(missing.statusCode).toBe(503);
    expect(jsonOf(missing)).toEqual({ code: 'unavailable', message: "artifact's model.json missing from the artifact store" });
    expect(missing.body).not.toContain(BUCKET);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'tail init failed; the next invocation retries',
        service: 'offload',
        model: 'tinychain',
        cut: 3,
        bucket: BUCKET,
        code: 'unavailable',
        detail: `s3://${BUCKET}/models/tinychain/tails/3/model.json`,
      }),
    );

    // Once the artifact is there, the same environment initialises and answers (cold).
    const fixed = await uploadSlicedTail(s3, BUCKET, 'tinychain', 3);
    const ok = (await handler(inferEvent(fixed, encodeTensors(fixed.headOutputs)), lambdaContext())) as Result;
    expectCorrectOutput(ok, fixed);
    expect(ok.headers?.['x-offload-cold']).toBe('true');
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${fixed.prefix}tails/3/model.json` }));
  });

  it('reads exactly its model.json and the segments after its cut from a whole export, and answers as the full model', async () => {
    // Prepare: tinychain exported at cuts 0, 2, 4 (segments 0-2, 2-4, 4-7), every file uploaded
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinychain', 2, 1, 1, { exportCuts: [0, 2, 4] });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'models/tinychain/segments/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(expect.arrayContaining(['models/tinychain/segments/0-2.bin', 'models/tinychain/segments/4-7.bin']));
    const client = createS3Client({ ...process.env });
    const send = vi.spyOn(client, 'send');
    const runtime = new TailRuntime({ env: tailEnv(fx), s3: client });

    // Act
    const res = (await createTailHandler(runtime)(inferEvent(fx, encodeTensors(fx.headOutputs)), lambdaContext())) as Result;

    // Assess: only GETs, of exactly the tail's keys; the weights read are the tail's weight bytes
    const gets = send.mock.calls.map(([command]) => command as { constructor: { name: string }; input: { Key?: string } });
    expect(gets.every((c) => c.constructor.name === 'GetObjectCommand')).toBe(true);
    expect(gets.map((c) => c.input.Key).sort()).toEqual(['models/tinychain/segments/2-4.bin', 'models/tinychain/segments/4-7.bin', 'models/tinychain/tails/2/model.json']);
    expect(fx.tailKeys.sort()).toEqual(gets.map((c) => c.input.Key).sort());
    expectCorrectOutput(res, fx);
    client.destroy();
  });

  it('logs where its cold start went once, at the end of its first invocation, in the order the steps happen', async () => {
    // Prepare: a fresh environment whose init starts at module load, as functions/tail/index.ts does
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinychain', 4);
    const runtime = new TailRuntime({ env: tailEnv(fx) });
    const handler = createTailHandler(runtime);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let lines: Record<string, unknown>[];
    try {
      runtime.prewarm();

      // Act: a cold then a warm invocation
      const cold = (await handler(inferEvent(fx, encodeTensors(fx.headOutputs)), lambdaContext())) as Result;
      await handler(inferEvent(fx, encodeTensors(fx.headOutputs)), lambdaContext());
      expectCorrectOutput(cold, fx);
      lines = out.mock.calls
        .flatMap((c) => String(c[0]).split('\n'))
        .filter((l) => l.includes('"cold start timeline"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    } finally {
      out.mockRestore();
    }

    // Assess: one line, every step, each no earlier than the one it waits for
    expect(lines).toHaveLength(1);
    const t = lines[0] as Record<string, number>;
    const steps = ['moduleLoaded', 'initStarted', 'registryMarked', 'engineReady', 'modelJson', 'weights', 'built', 'warmedUp', 'invoked', 'computeStart', 'computeEnd', 'answered'];
    for (const step of steps) expect(t[step], step).toBeGreaterThan(0);
    for (const [before, after] of [
      ['moduleLoaded', 'initStarted'],
      ['initStarted', 'modelJson'],
      ['initStarted', 'engineReady'],
      ['modelJson', 'weights'],
      ['weights', 'built'],
      ['engineReady', 'built'],
      ['registryMarked', 'built'],
      ['built', 'warmedUp'],
      ['warmedUp', 'computeStart'],
      ['invoked', 'computeStart'],
      ['computeStart', 'computeEnd'],
      ['computeEnd', 'answered'],
    ] as const) {
      expect(t[before], `${before} ≤ ${after}`).toBeLessThanOrEqual(t[after] as number);
    }
    expect(t.processStart).toBeCloseTo(performance.timeOrigin, 0);
    expect(t.weightFiles).toBe(fx.tailKeys.filter((k) => k.endsWith('.bin')).length);
    expect(t.weightBytes).toBeGreaterThan(0);
    expect(t.instance).toBe(runtime.instance);
  });

  it('runs a tail with batch norm and relu folded into its convolutions, folded in the downloaded files; OFFLOAD_HEAP_WEIGHTS=off and OFFLOAD_PIPELINE=off load it otherwise, OFFLOAD_FUSE=off runs every layer', async () => {
    // tinydag: conv → BN → relu chains, a padding before a strided conv, residual blocks; cut 1 starts at the stem's BN
    const readyLines = async (fx: SlicedFixture, extra: Record<string, string>) => {
      const handler = createTailHandler(new TailRuntime({ env: tailEnv(fx, extra) }));
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      let res: Result;
      let lines: Record<string, unknown>[];
      try {
        res = (await handler(inferEvent(fx, encodeTensors(fx.headOutputs)), lambdaContext())) as Result;
        lines = out.mock.calls
          .flatMap((c) => String(c[0]).split('\n'))
          .filter((l) => l.includes('"tail ready"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      } finally {
        out.mockRestore();
      }
      expectCorrectOutput(res, fx);
      expect(lines).toHaveLength(1);
      return lines[0]!;
    };
    for (const cut of [0, 1]) {
      const fx = await uploadSlicedTail(s3, BUCKET, 'tinydag', cut);
      const fused = await readyLines(fx, {});
      // built and warmed layer by layer while the weights downloaded (models/streamed-load.ts)
      expect(fused, `cut ${cut}`).toMatchObject({ foldedIn: 'files', streamed: true });
      expect(fused.warmedLayers, `cut ${cut}`).toBeGreaterThan(0);
      // zero-filled variables and a new tensor per weight instead of the weights copied into the engine's memory: the same answer
      const tensors = await readyLines(fx, { OFFLOAD_HEAP_WEIGHTS: 'off' });
      expect(tensors, `cut ${cut}`).toMatchObject({ foldedIn: 'files', streamed: true, fusedChains: fused.fusedChains });
      const serial = await readyLines(fx, { OFFLOAD_PIPELINE: 'off' });
      expect(serial, `cut ${cut}`).toMatchObject({ foldedIn: 'files', streamed: false, warmedLayers: 0, fusedChains: fused.fusedChains });
      // the blocks' 5 chains (conv → BN [→ relu], one with its padding, one the shortcut's) fold either way; the stem's
      // conv → BN → relu only at cut 0: at cut 1 the tail's input is the conv's output
      expect(fused.fusedChains, `cut ${cut}`).toBe(cut === 0 ? 6 : 5);
      const plain = await readyLines(fx, { OFFLOAD_FUSE: 'off' });
      expect(plain.fusedChains, `cut ${cut}`).toBe(0);
      expect(plain.foldedIn).toBeUndefined();
      expect(plain.streamed).toBe(false);
    }
  });

  it('answers 503 when a weight segment is missing', async () => {
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinychain', 5);
    const shard = fx.tailKeys.find((k) => k.endsWith('.bin'));
    expect(shard).toBe('models/tinychain/segments/5-7.bin');
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: shard }));
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = (await createTailHandler(new TailRuntime({ env: tailEnv(fx) }))(inferEvent(fx, encodeTensors(fx.headOutputs)), lambdaContext())) as Result;
    errors.mockRestore();
    expect(res.statusCode).toBe(503);
    expect(jsonOf(res)).toEqual({ code: 'unavailable', message: `artifact's weight file ${shard!.slice(fx.prefix.length)} missing from the artifact store` });
    expect(res.body).not.toContain(BUCKET);
  });

  it('a streamed load whose weight segment is missing answers the same 503, leaves no half-built model, and the next invocation retries', async () => {
    // tinydag is functional with float32 weights: its tail is built while the segments download
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinydag', 0);
    const segments = fx.tailKeys.filter((k) => k.endsWith('.bin'));
    expect(segments.length).toBeGreaterThan(0);
    const gone = segments.at(-1)!;
    const body = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: gone }))).Body!.transformToByteArray();
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: gone }));
    const runtime = new TailRuntime({ env: tailEnv(fx) });
    const handler = createTailHandler(runtime);
    const tensorsBefore = tf.memory().numTensors;
    const errors = captureStderr();
    const res = (await handler(inferEvent(fx, encodeTensors(fx.headOutputs)), lambdaContext())) as Result;
    errors.restore();
    expect(res.statusCode).toBe(503);
    expect(jsonOf(res)).toEqual({ code: 'unavailable', message: `artifact's weight file ${gone.slice(fx.prefix.length)} missing from the artifact store` });
    expect(tf.memory().numTensors, 'the half-built model is disposed').toBe(tensorsBefore);
    expect(errors.lines().some((l) => l.message === 'streamed load failed; building the tail from the downloaded files')).toBe(false);

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: gone, Body: body }));
    const ok = (await handler(inferEvent(fx, encodeTensors(fx.headOutputs)), lambdaContext())) as Result;
    expectCorrectOutput(ok, fx);
    expect(ok.headers?.['x-offload-cold']).toBe('true');
  });

  it('answers 503 naming the variable when its environment is incomplete', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const env: NodeJS.ProcessEnv = { ...tailEnv(chain) };
    delete env.ARTIFACT_BUCKET;
    const res = (await createTailHandler(new TailRuntime({ env }))(inferEvent(chain, encodeTensors(chain.headOutputs)), lambdaContext())) as Result;
    errors.mockRestore();
    expect(res.statusCode).toBe(503);
    expect(jsonOf(res)).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/^tail function misconfigured: ARTIFACT_BUCKET/) });
  });

  it('the bundled entry point (functions/tail/index.ts) starts init at module load and serves', async () => {
    const vars: NodeJS.ProcessEnv = tailEnv(chain);
    const saved: Record<string, string | undefined> = {};
    for (const key of ['MODEL_NAME', 'CUT', 'ARTIFACT_BUCKET', 'ARTIFACT_PREFIX', 'REGISTRY_TABLE', 'AWS_LAMBDA_FUNCTION_NAME']) {
      saved[key] = process.env[key];
      process.env[key] = vars[key];
    }
    try {
      const { handler } = await import('../../functions/tail/index');
      const res = (await handler(inferEvent(chain, encodeTensors(chain.headOutputs)), lambdaContext())) as Result;
      expectCorrectOutput(res, chain);
      expect(res.headers?.['x-offload-cold']).toBe('true');
      // init began at module load, so the registry records process start → ready as the measured cold start
      // (the registry writes travel in the background, so wait for them to land)
      await vi.waitFor(async () => {
        const key = { fn: fleetKey('tinychain', 2), instance: res.headers?.['x-offload-instance'] as string };
        const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: key }))).Item;
        expect(item?.state).toBe('idle');
        expect(item?.coldStartMs).toBeGreaterThanOrEqual(item?.initMs as number);
      });
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});

describe('an S3 object put through the SDK survives the stand-in byte for byte', () => {
  it('round-trips binary data (the checksum settings s3rver needs)', async () => {
    const stand = await startS3({ buckets: ['b'] });
    const restore = useStandInEnv({ s3: stand.endpoint });
    const s3 = createS3Client();
    try {
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) % 256);
      await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k.bin', Body: bytes }));
      const { getObjectBytes } = await import('../../functions/commons/artifacts');
      expect(Buffer.from(await getObjectBytes(s3, 'b', 'k.bin')).equals(Buffer.from(bytes))).toBe(true);
    } finally {
      s3.destroy();
      await stand.close();
      restore();
    }
  });
});
