/**
 * The tail's early download, next to its parts: the env switch, the request
 * the entry derives from the tail's environment, the weight layout and the
 * ranged GETs, and one download against the real s3rver stand-in (the worker
 * function run on this thread; the worker thread itself is exercised in
 * tail-prefetch.test.ts and through the emulator).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startS3, type StandIn } from '../../local/stand-ins';
import { createS3Client } from '../../functions/commons/aws';
import { isOffloadError } from '../../core/errors';
import { prefetchSetting, type PrefetchMessage, type PrefetchRequest } from '../../functions/commons/prefetch-protocol';
import { prefetchRequestFromEnv, siblingModule } from '../../functions/commons/prefetch-start';
import { prefetchEnabled } from '../../functions/commons/tail-prefetch';
import { layoutOf, partsOf, prefetch } from '../../functions/tail/prefetch-worker';

const encode = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

describe('OFFLOAD_PREFETCH', () => {
  it('is on unless off; any other value is refused by name at init, and read without throwing by the entry', () => {
    for (const v of [undefined, '', 'on', ' ON ']) expect(prefetchEnabled({ OFFLOAD_PREFETCH: v })).toBe(true);
    expect(prefetchEnabled({ OFFLOAD_PREFETCH: 'Off' })).toBe(false);
    expect(prefetchSetting({ OFFLOAD_PREFETCH: 'of' })).toBe('bad');
    let err: unknown;
    try {
      prefetchEnabled({ OFFLOAD_PREFETCH: 'of' });
    } catch (e) {
      err = e;
    }
    expect(isOffloadError(err) && err.code).toBe('invalid-input');
    expect((err as Error).message).toBe('OFFLOAD_PREFETCH: must be "on" or "off" (got "of")');
  });
});

describe('the early download request', () => {
  it("names the tail's model.json and weight folder as the tail's config does, and nothing when the environment is incomplete", () => {
    expect(prefetchRequestFromEnv({ MODEL_NAME: 'resnet50', CUT: '57', ARTIFACT_BUCKET: 'b' })).toMatchObject({
      bucket: 'b',
      modelJsonKey: 'models/resnet50/tails/57/model.json',
      weightPrefix: 'models/resnet50/',
    });
    expect(prefetchRequestFromEnv({ MODEL_NAME: 'm', CUT: '0', ARTIFACT_BUCKET: 'b', ARTIFACT_PREFIX: 'x/m' })).toMatchObject({ modelJsonKey: 'x/m/tails/0/model.json', weightPrefix: 'x/m' });
    for (const env of [{ CUT: '1', ARTIFACT_BUCKET: 'b' }, { MODEL_NAME: 'm', CUT: '-1', ARTIFACT_BUCKET: 'b' }, { MODEL_NAME: 'm', CUT: '', ARTIFACT_BUCKET: 'b' }, { MODEL_NAME: 'm', CUT: '1' }]) {
      expect(prefetchRequestFromEnv(env), JSON.stringify(env)).toBeUndefined();
    }
  });

  it("finds the entry's companions in the entry's own form: .mjs in the bundle, .ts from source", () => {
    expect(siblingModule('file:///var/task/index.mjs', 'main').href).toBe('file:///var/task/main.mjs');
    expect(siblingModule('file:///p/functions/tail/index.ts', 'prefetch-worker').href).toBe('file:///p/functions/tail/prefetch-worker.ts');
  });
});

describe('the weight layout and its ranged GETs', () => {
  const group = (path: string, ...shapes: number[][]) => ({ paths: [path], weights: shapes.map((shape, i) => ({ name: `${path}/${i}`, shape, dtype: 'float32' })) });

  it('lays one file per group back to back in manifest order, and refuses any other layout', () => {
    expect(layoutOf(encode({ weightsManifest: [group('a.bin', [3, 4]), group('b.bin', [5], [2, 2])] }))).toEqual({
      files: [
        ['a.bin', 0, 48],
        ['b.bin', 48, 36],
      ],
      bytes: 84,
    });
    expect(layoutOf(encode({ weightsManifest: [{ paths: ['s1.bin', 's2.bin'], weights: [] }] }))).toBeUndefined(); // converter shards
    expect(layoutOf(encode({ weightsManifest: [{ paths: ['a.bin'], weights: [{ name: 's', shape: [1], dtype: 'string' }] }] }))).toBeUndefined();
    expect(layoutOf(encode({ weightsManifest: [group('a.bin', [1]), group('a.bin', [1])] }))).toBeUndefined();
    expect(layoutOf(new TextEncoder().encode('{not json'))).toBeUndefined();
  });

  it('cuts each file into parts of at most partBytes, in file order', () => {
    expect(partsOf([['a', 0, 10], ['b', 10, 4], ['c', 14, 0]], 4)).toEqual([
      [0, 0, 4],
      [0, 4, 8],
      [0, 8, 10],
      [1, 0, 4],
    ]);
    expect(() => partsOf([], 0)).toThrow(/partBytes must be a positive integer/);
  });
});

describe('one early download against s3rver', () => {
  const BUCKET = 'artifacts';
  let stand: StandIn;
  let s3: S3Client;
  let env: NodeJS.ProcessEnv;
  const a = new Uint8Array(12_000).map((_, i) => (i * 7) % 251);
  const b = new Uint8Array(20_000).map((_, i) => (i * 13) % 253);
  const modelJson = encode({
    modelTopology: {},
    weightsManifest: [
      { paths: ['seg/a.bin'], weights: [{ name: 'a', shape: [3000], dtype: 'float32' }] },
      { paths: ['seg/b.bin'], weights: [{ name: 'b', shape: [5000], dtype: 'float32' }] },
    ],
  });
  const request: PrefetchRequest = { bucket: BUCKET, modelJsonKey: 'm/tails/0/model.json', weightPrefix: 'm/', partBytes: 4096, concurrency: 3 };

  const run = async (e: NodeJS.ProcessEnv, req = request) => {
    const messages: PrefetchMessage[] = [];
    await prefetch(req, e, (m) => messages.push(m));
    return messages;
  };

  beforeAll(async () => {
    stand = await startS3({ buckets: [BUCKET] });
    env = { AWS_ENDPOINT_URL_S3: stand.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
    s3 = new (createS3Client({ ...env }).constructor as typeof import('@aws-sdk/client-s3').S3Client)({
      endpoint: stand.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    for (const [Key, Body] of [
      [request.modelJsonKey, modelJson],
      ['m/seg/a.bin', a],
      ['m/seg/b.bin', b],
    ] as const) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
    }
  });
  afterAll(async () => {
    s3?.destroy();
    await stand?.close();
  });

  it('brings model.json, then every part of every weight file into one shared buffer, each reported once in place', async () => {
    const messages = await run(env);
    expect(messages.map((m) => m.type).filter((t, i, all) => t !== all[i - 1])).toEqual(['modelJson', 'layout', 'bytes', 'done']);
    const first = messages[0] as Extract<PrefetchMessage, { type: 'modelJson' }>;
    expect(Buffer.from(first.bytes).equals(Buffer.from(modelJson))).toBe(true);
    const layout = messages[1] as Extract<PrefetchMessage, { type: 'layout' }>;
    expect(layout.files).toEqual([
      ['seg/a.bin', 0, 12_000],
      ['seg/b.bin', 12_000, 20_000],
    ]);
    const parts = messages.filter((m): m is Extract<PrefetchMessage, { type: 'bytes' }> => m.type === 'bytes');
    expect(parts).toHaveLength(3 + 5);
    const covered = parts.map((p) => [p.start, p.end]).sort((x, y) => x[0]! - y[0]!);
    expect(covered.every(([start], i) => start === (i === 0 ? 0 : covered[i - 1]![1]))).toBe(true);
    expect(covered.at(-1)![1]).toBe(32_000);
    const bytes = new Uint8Array(layout.buffer);
    expect(Buffer.from(bytes.subarray(0, 12_000)).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(bytes.subarray(12_000)).equals(Buffer.from(b))).toBe(true);
  });

  it("reports a missing weight file with the message the SDK download gives, and stops", async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'm/seg/b.bin' }));
    try {
      const messages = await run(env);
      expect(messages.at(-1)).toEqual({ type: 'failed', message: "artifact's weight file seg/b.bin missing from the artifact store", detail: `s3://${BUCKET}/m/seg/b.bin` });
      expect(messages.some((m) => m.type === 'done')).toBe(false);
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'm/seg/b.bin', Body: b }));
    }
    const missingJson = await run(env, { ...request, modelJsonKey: 'm/tails/9/model.json' });
    expect(missingJson).toEqual([{ type: 'failed', message: "artifact's model.json missing from the artifact store", detail: `s3://${BUCKET}/m/tails/9/model.json` }]);
  });

  it('signs with the credentials in the environment: a key the store does not know is denied (503 material), none or no Region falls back', async () => {
    const denied = await run({ ...env, AWS_ACCESS_KEY_ID: 'NOT-A-KEY' });
    expect(denied).toEqual([
      { type: 'failed', message: "artifact store unreachable while reading the artifact's model.json", detail: `s3://${BUCKET}/${request.modelJsonKey}: InvalidAccessKeyId` },
    ]);
    const noKeys = { ...env };
    delete noKeys.AWS_ACCESS_KEY_ID;
    expect(await run(noKeys)).toEqual([{ type: 'fallback', reason: 'cannot sign S3 requests: no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)' }]);
    const noRegion = { ...env };
    delete noRegion.AWS_REGION;
    expect(await run(noRegion)).toEqual([{ type: 'fallback', reason: 'cannot sign S3 requests: no AWS Region configured (AWS_REGION)' }]);
  });

  it("sends presigned ranged GETs to the environment's endpoint, with its key id and session token", async () => {
    const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      if (req.url?.startsWith(`/${BUCKET}/${request.modelJsonKey}?`)) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from(modelJson));
        return;
      }
      res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const messages = await run({ AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDEARLY', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 'tok/en+1' });
      expect(messages.at(-1)).toMatchObject({ type: 'failed', message: "artifact store unreachable while reading the artifact's weight file seg/a.bin", detail: `s3://${BUCKET}/m/seg/a.bin: AccessDenied` });
      const ranged = seen.find((r) => r.url.startsWith(`/${BUCKET}/m/seg/a.bin?`));
      expect(ranged?.headers.range).toBe('bytes=0-4095');
      const query = new URL(ranged!.url, endpoint).searchParams;
      expect(query.get('X-Amz-Credential')).toMatch(/^AKIDEARLY\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
      expect(query.get('X-Amz-Security-Token')).toBe('tok/en+1');
      expect(query.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
