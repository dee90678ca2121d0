/**
 * The tail's early download, on a worker thread (started by functions/tail/index.ts
 * at process start): model.json, then every weight file as parallel ranged GETs
 * written straight into one SharedArrayBuffer, each part reported as it is in
 * place. The main thread meanwhile compiles and evaluates the handler bundle
 * and builds the model; Node reads a socket on the thread that owns it, so a
 * download there would wait behind all of that.
 *
 * The GETs are presigned with the SigV4 code the planner uses
 * (functions/commons/s3-presign.ts), from the credentials in the environment
 * (in the bundle the SDK's credential chain is its environment link:
 * cdk/bundling.ts BUNDLE_ALIASES) and `AWS_ENDPOINT_URL_S3` when set.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { s3Key, weightGroupBytes, type WeightSpecLike } from '../../core/artifact-layout';
import { presignedS3 } from '../commons/s3-presign';
import type { PrefetchFile, PrefetchMessage, PrefetchRequest } from '../commons/prefetch-protocol';

/** Lifetime of a presigned GET URL, s: the whole download signs once per object. */
const URL_SECONDS = 300;
/** A GET with no byte for this long is abandoned (S3 unreachable must not hang the init until Lambda's timeout). */
const IDLE_TIMEOUT_MS = 10_000;

/** A GET answered with an error status: S3's `<Code>` when it sent one. */
export class S3StatusError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`HTTP ${status} ${code}`);
    this.name = 'S3StatusError';
  }
}

/** An error answer's S3 `<Code>`, or `HTTP <status>` when its body has none. */
function statusError(status: number, body: Buffer): S3StatusError {
  return new S3StatusError(status, /<Code>([^<]+)<\/Code>/.exec(body.toString('utf8'))?.[1] ?? `HTTP ${status}`);
}

/** The early path cannot go on; the tail then loads the way it does without it. */
export class FallbackError extends Error {}

/** Each group of model.json's weights manifest as one file of a known size, laid out back to back; undefined for any other layout. */
export function layoutOf(modelJson: Uint8Array): { files: PrefetchFile[]; bytes: number } | undefined {
  let manifest: unknown;
  try {
    manifest = (JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest?: unknown }).weightsManifest;
  } catch {
    return undefined; // the handler names what is wrong with it
  }
  if (!Array.isArray(manifest)) return undefined;
  const files: PrefetchFile[] = [];
  let at = 0;
  for (const group of manifest as { paths?: unknown; weights?: unknown }[]) {
    const paths = group?.paths;
    const weights = group?.weights;
    if (!Array.isArray(paths) || paths.length !== 1 || typeof paths[0] !== 'string' || !Array.isArray(weights)) return undefined;
    const ok = (weights as WeightSpecLike[]).every((w) => typeof w?.dtype === 'string' && Array.isArray(w.shape) && w.shape.every((d) => Number.isInteger(d) && d >= 0));
    const bytes = ok ? weightGroupBytes(weights as WeightSpecLike[]) : null;
    if (bytes === null) return undefined;
    files.push([paths[0], at, bytes]);
    at += bytes;
  }
  if (new Set(files.map(([name]) => name)).size !== files.length) return undefined;
  return { files, bytes: at };
}

/** The ranged GETs of a layout: [file index, start within the file, end), in file order, `partBytes` each. */
export function partsOf(files: readonly PrefetchFile[], partBytes: number): [number, number, number][] {
  if (!(Number.isInteger(partBytes) && partBytes > 0)) throw new RangeError(`partBytes must be a positive integer (got ${partBytes})`);
  const parts: [number, number, number][] = [];
  files.forEach(([, , bytes], i) => {
    for (let start = 0; start < bytes; start += partBytes) parts.push([i, start, Math.min(bytes, start + partBytes)]);
  });
  return parts;
}

/** Bytes [start, end) of the object at a presigned URL, written at `into[offset…]`; resolves with the object's total size. */
export function getRange(url: string, start: number, end: number, into: Uint8Array, offset: number, agent: HttpAgent): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(u, { method: 'GET', agent, headers: { range: `bytes=${start}-${end - 1}` } }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status !== 206 && status !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(statusError(status, Buffer.concat(chunks))));
        res.on('error', reject);
        return;
      }
      // "bytes 0-4194303/41943040"; a server that ignores Range answers 200 with the whole object
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
      const total = range ? Number(range[3]) : Number(res.headers['content-length']);
      const from = range ? Number(range[1]) : 0;
      const to = range ? Number(range[2]) + 1 : total;
      if (from !== start || to !== Math.min(end, total)) {
        res.destroy();
        reject(new FallbackError(`unexpected ranged answer for bytes ${start}-${end - 1} (Content-Range ${res.headers['content-range'] ?? 'absent'})`));
        return;
      }
      let at = offset;
      const stop = offset + (to - from);
      res.on('data', (chunk: Buffer) => {
        if (at + chunk.byteLength > stop) {
          res.destroy(new Error(`ranged response longer than announced (${to - from} bytes from ${start})`));
          return;
        }
        into.set(chunk, at);
        at += chunk.byteLength;
      });
      res.on('end', () => (at === stop ? resolve(total) : reject(new Error(`ranged response cut short: ${at - offset} of ${to - from} bytes from ${start}`))));
      res.on('error', reject);
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The whole object at a presigned URL (model.json: small, one GET). */
function getWhole(url: string, agent: HttpAgent): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(u, { method: 'GET', agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        if (status === 200) resolve(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
        else reject(statusError(status, body));
      });
      res.on('error', reject);
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** What the tail reports for a failed GET: the messages functions/commons/artifacts.ts gives the same failures through the SDK. */
export function failureOf(err: unknown, where: string, what: string): Extract<PrefetchMessage, { type: 'failed' }> {
  if (err instanceof S3StatusError && (err.status === 404 || err.code === 'NoSuchKey')) {
    return { type: 'failed', message: `${what} missing from the artifact store`, detail: where };
  }
  const e = err as Error;
  const detail = err instanceof S3StatusError ? `${where}: ${err.code}` : `${where}: ${e?.name ?? 'error'}: ${e?.message ?? String(err)}`;
  return { type: 'failed', message: `artifact store unreachable while reading the ${what}`, detail };
}

/** Runs one early download, reporting through `post`; never throws. */
export async function prefetch(req: PrefetchRequest, env: NodeJS.ProcessEnv, post: (m: PrefetchMessage, transfer?: ArrayBuffer[]) => void): Promise<void> {
  const now = () => performance.timeOrigin + performance.now();
  const where = (key: string) => `s3://${req.bucket}/${key}`;
  // presigned URLs are https on AWS, http at a local stand-in's endpoint
  const agent = (env.AWS_ENDPOINT_URL_S3 ?? '').startsWith('http:')
    ? new HttpAgent({ keepAlive: true, maxSockets: req.concurrency })
    : new HttpsAgent({ keepAlive: true, maxSockets: req.concurrency });
  try {
    let sign: (key: string) => Promise<string>;
    let modelJsonUrl: string;
    try {
      // the function's credentials as Lambda sets them (the role's, with its session token), from the environment given
      const credentials = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
        : undefined;
      const s3 = presignedS3(req.bucket, env, credentials ? { credentials } : {});
      if (!credentials) throw new Error('no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
      sign = (key) => s3.presignGet(key, URL_SECONDS);
      modelJsonUrl = await sign(req.modelJsonKey);
    } catch (err) {
      post({ type: 'fallback', reason: `cannot sign S3 requests: ${(err as Error).message}` });
      return;
    }
    let modelJson: Uint8Array;
    try {
      modelJson = await getWhole(modelJsonUrl, agent);
    } catch (err) {
      post(failureOf(err, where(req.modelJsonKey), "artifact's model.json"));
      return;
    }
    const layout = layoutOf(modelJson);
    const copy = modelJson.slice(); // a transferable buffer of its own
    post({ type: 'modelJson', bytes: copy, at: now() }, [copy.buffer as ArrayBuffer]);
    if (!layout) {
      post({ type: 'fallback', reason: 'weights manifest not one file of a known size per group' });
      return;
    }
    const buffer = new SharedArrayBuffer(layout.bytes);
    const bytes = new Uint8Array(buffer);
    post({ type: 'layout', buffer, files: layout.files });
    const urls = await Promise.all(layout.files.map(([name]) => sign(s3Key(req.weightPrefix, name))));
    const parts = partsOf(layout.files, req.partBytes);
    let next = 0;
    let failed = false;
    const lane = async (): Promise<void> => {
      while (!failed && next < parts.length) {
        const [i, start, end] = parts[next++]!;
        const [name, offset, size] = layout.files[i]!;
        const key = s3Key(req.weightPrefix, name);
        try {
          const total = await getRange(urls[i]!, start, end, bytes, offset + start, agent);
          if (total !== size) throw new FallbackError(`${name} holds ${total} bytes, model.json lists ${size}`);
        } catch (err) {
          if (failed) return;
          failed = true;
          post(err instanceof FallbackError ? { type: 'fallback', reason: err.message } : failureOf(err, where(key), `artifact's weight file ${name}`));
          return;
        }
        post({ type: 'bytes', start: offset + start, end: offset + end });
      }
    };
    await Promise.all(Array.from({ length: Math.min(req.concurrency, parts.length) }, lane));
    if (!failed) post({ type: 'done', at: now() });
  } catch (err) {
    post({ type: 'fallback', reason: `early download: ${(err as Error).message}` });
  } finally {
    agent.destroy();
  }
}

if (!isMainThread && parentPort && (workerData as { prefetch?: PrefetchRequest } | undefined)?.prefetch) {
  const port = parentPort;
  void prefetch((workerData as { prefetch: PrefetchRequest }).prefetch, process.env, (m, transfer) => port.postMessage(m, transfer));
}
