/**
 * Reads tfjs layers artifacts (model.json + weight shards) and export
 * manifests from S3. Only `s3:GetObject` is needed: the shard names come from
 * model.json itself, so no bucket listing (and no ListBucket grant) is involved.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { OffloadError } from '../../core/errors';
import { s3Key } from '../../core/artifact-layout';
import { parseWeightsManifest, weightFileViews, type WeightsManifest } from './weights-manifest';

export { s3Key };
// what the download reads of model.json, apart so that the tail's early path needs no S3 client (./weights-manifest.ts)
export { parseWeightsManifest, weightFileViews, type WeightsManifest } from './weights-manifest';

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/**
 * Downloads one object.
 * @throws OffloadError `unavailable` (503) when it is missing or cannot be read — a
 *   deployment problem, not the caller's. The message says which kind of file
 *   (`what`); `s3://bucket/key` and the SDK's error go to `detail` (the log only).
 */
export async function getObjectBytes(s3: S3Client, bucket: string, key: string, what = 'artifact'): Promise<Uint8Array> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) throw new Error('empty body');
    return await out.Body.transformToByteArray();
  } catch (err) {
    const where = `s3://${bucket}/${key}`;
    if (isMissing(err)) throw new OffloadError('unavailable', `${what} missing from the artifact store`, { cause: err, detail: where });
    throw new OffloadError('unavailable', `artifact store unreachable while reading the ${what}`, {
      cause: err,
      detail: `${where}: ${(err as Error).name ?? 'error'}: ${(err as Error).message}`,
    });
  }
}

/** Options of {@link getObjectsBytes}. */
export interface ParallelGetOptions {
  /** Requests in flight at once, across all objects (default {@link DEFAULT_GET_CONCURRENCY}). */
  concurrency?: number;
  /** Bytes per ranged GET (default {@link DEFAULT_PART_BYTES}); an object larger than this is fetched in parts. */
  partBytes?: number;
  /** Called as each part is in place: object `index`, bytes [start, end) of `target` (the object's buffer). */
  onBytes?: (index: number, start: number, end: number, target: Uint8Array) => void;
}

/**
 * Requests in flight at once. S3 serves each connection at tens of MB/s and
 * scales with parallel connections (AWS performance guidelines: ranged GETs,
 * 8–16 MB parts); a Lambda's network and one Node event loop saturate well
 * before 16 streams.
 */
export const DEFAULT_GET_CONCURRENCY = 16;
/** Part size of ranged GETs (AWS performance guidelines: 8 MB or 16 MB). */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

/**
 * Downloads several objects with parallel ranged GETs, each object streamed
 * straight into one buffer of its exact size: no chunk lists, no
 * concatenation, and a large object arrives over several connections at
 * once. The first part of each object tells its size (Content-Range); the
 * other parts then fetch in parallel, at most `concurrency` requests in
 * flight in all. Results are in the order of `objects`. An object given
 * `into` (a view of the size it is expected to have) is written there, so
 * that several objects can land in one buffer; one of another size gets a
 * buffer of its own.
 *
 * @throws OffloadError `unavailable` as {@link getObjectBytes}, naming the object (`what`);
 *   also when a part's length disagrees with its range (the object changed mid-download).
 *
 * @example
 * const [a, b] = await getObjectsBytes(s3, 'bucket', [{ key: 'w/seg-0.bin', what: 'segment 0' }, { key: 'w/seg-1.bin', what: 'segment 1' }]);
 */
export async function getObjectsBytes(
  s3: S3Client,
  bucket: string,
  objects: readonly { key: string; what?: string; into?: Uint8Array }[],
  opts: ParallelGetOptions = {},
): Promise<Uint8Array[]> {
  const partBytes = opts.partBytes ?? DEFAULT_PART_BYTES;
  const concurrency = opts.concurrency ?? DEFAULT_GET_CONCURRENCY;
  if (!(Number.isInteger(partBytes) && partBytes > 0)) throw new RangeError(`partBytes must be a positive integer (got ${partBytes})`);
  if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new RangeError(`concurrency must be a positive integer (got ${concurrency})`);
  const slot = semaphore(concurrency);
  const onBytes = opts.onBytes ?? (() => undefined);
  return Promise.all(
    objects.map(async ({ key, what = 'artifact', into }, index) => {
      const fail = (err: unknown): never => {
        throw toUnavailable(err, bucket, key, what);
      };
      const target = await slot(async () => {
        let first: RangeResponse;
        try {
          first = await getRange(s3, bucket, key, 0, partBytes);
        } catch {
          // S3 answers a range of an empty object with 416 (InvalidRange): one plain GET settles it,
          // and reports the real problem if there is one.
          const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          if (!out.Body) throw new Error('empty body');
          return out.Body.transformToByteArray();
        }
        // an object of another size than expected gets its own buffer: the caller's checks name the problem
        const buffer = into?.byteLength === first.total ? into : new Uint8Array(first.total);
        await first.into(buffer, 0);
        onBytes(index, 0, Math.min(partBytes, first.total), buffer);
        return buffer;
      }).catch(fail);
      const total = target.byteLength;
      const parts: Promise<void>[] = [];
      for (let start = partBytes; start < total; start += partBytes) {
        const end = Math.min(total, start + partBytes);
        parts.push(
          slot(async () => {
            const part = await getRange(s3, bucket, key, start, end - start);
            if (part.total !== total) throw new Error(`object size changed during the download (${total} → ${part.total} bytes)`);
            await part.into(target, start);
            onBytes(index, start, end, target);
          }).catch(fail),
        );
      }
      await Promise.all(parts);
      return target;
    }),
  );
}

/** One ranged GET whose headers have arrived: the object's total size, and how to stream its body into place. */
interface RangeResponse {
  total: number;
  into(target: Uint8Array, offset: number): Promise<void>;
}

async function getRange(s3: S3Client, bucket: string, key: string, start: number, length: number): Promise<RangeResponse> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${start + length - 1}` }));
  const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  if (!body) throw new Error('empty body');
  // "bytes 0-8388607/41943040"; a server that ignores Range answers 200 with the whole object
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? '');
  const total = range ? Number(range[3]) : Number(out.ContentLength ?? Number.NaN);
  if (total === 0) {
    // an empty object has no byte 0: S3 answers 416, s3rver "bytes 0-0/0" with a body it never sends
    body.destroy?.();
    return { total: 0, into: async () => undefined };
  }
  const expected = range ? Number(range[2]) - Number(range[1]) + 1 : total;
  if (!Number.isFinite(total) || (range && Number(range[1]) !== start)) {
    body.destroy?.();
    throw new Error(`unexpected ranged response (Content-Range ${out.ContentRange ?? 'absent'}, Content-Length ${out.ContentLength ?? 'absent'})`);
  }
  return {
    total,
    async into(target, offset) {
      let at = offset;
      const end = offset + expected;
      const take = (chunk: Uint8Array) => {
        if (at + chunk.byteLength > end) throw new Error(`ranged response longer than announced (${expected} bytes from ${start})`);
        target.set(chunk, at);
        at += chunk.byteLength;
      };
      if (isReadable(body)) {
        // 'data' events, not `for await`: a promise per 16-64 KiB chunk costs a third of the throughput
        await new Promise<void>((resolve, reject) => {
          body.on('data', (chunk: Uint8Array) => {
            try {
              take(chunk);
            } catch (e) {
              body.destroy?.();
              reject(e as Error);
            }
          });
          body.once('end', () => resolve());
          body.once('error', reject);
        });
      } else {
        for await (const chunk of body) take(chunk);
      }
      if (at !== end) throw new Error(`ranged response cut short: ${at - offset} of ${expected} bytes from ${start}`);
    },
  };
}

function isReadable(body: unknown): body is NodeJS.ReadableStream & { destroy?: () => void } {
  return typeof (body as { on?: unknown }).on === 'function' && typeof (body as { once?: unknown }).once === 'function';
}

/** At most `n` of the given tasks run at once. */
function semaphore(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

function toUnavailable(err: unknown, bucket: string, key: string, what: string): OffloadError {
  if (err instanceof OffloadError) return err;
  const where = `s3://${bucket}/${key}`;
  if (isMissing(err)) return new OffloadError('unavailable', `${what} missing from the artifact store`, { cause: err, detail: where });
  return new OffloadError('unavailable', `artifact store unreachable while reading the ${what}`, {
    cause: err,
    detail: `${where}: ${(err as Error).name ?? 'error'}: ${(err as Error).message}`,
  });
}

/**
 * Downloads objects of one bucket, all in parallel, in the order of `keys`
 * (`what[i]` names the kind of file in an error message, see {@link getObjectBytes}).
 * The one place a tail's weights are fetched: parallel ranged GETs streamed
 * into exact-size buffers ({@link getObjectsBytes}).
 */
export async function downloadObjects(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
  what: readonly string[] = [],
  into: readonly (Uint8Array | undefined)[] = [],
  opts: ParallelGetOptions = {},
): Promise<Uint8Array[]> {
  return getObjectsBytes(
    s3,
    bucket,
    keys.map((key, i) => ({ key, ...(what[i] === undefined ? {} : { what: what[i] }), ...(into[i] === undefined ? {} : { into: into[i] }) })),
    opts,
  );
}

/**
 * Downloads one part of an export (core/manifest.ts): its model.json at
 * `modelJsonKey`, then every weight file it names, which sit under
 * `weightPrefix` (the model's folder: the segments are shared by every part).
 * Keys of the map are the file names as model.json spells them (what
 * `loadModelFromFiles` expects). `onModelJson` is called when model.json has
 * arrived (the tail's cold-start timeline).
 *
 * @example
 * const files = await loadArtifactFiles(s3, 'bucket', 'models/resnet50/tails/57/model.json', 'models/resnet50/');
 * const tail = await loadModelFromFiles(files);
 */
export async function loadArtifactFiles(
  s3: S3Client,
  bucket: string,
  modelJsonKey: string,
  weightPrefix: string,
  opts: { onModelJson?: () => void } = {},
): Promise<Map<string, Uint8Array>> {
  const { bytes, manifest } = await getModelJson(s3, bucket, modelJsonKey);
  opts.onModelJson?.();
  return downloadWeightFiles(s3, bucket, weightPrefix, manifest, bytes, weightFileViews(manifest));
}

/**
 * Downloads a part's model.json and reads its weights manifest.
 * @throws OffloadError `unavailable` when it is missing, unreadable, or not a tfjs model.json
 */
export async function getModelJson(s3: S3Client, bucket: string, modelJsonKey: string): Promise<{ bytes: Uint8Array; manifest: WeightsManifest }> {
  const bytes = await getObjectBytes(s3, bucket, modelJsonKey, "artifact's model.json");
  return { bytes, manifest: parseWeightsManifest(bytes, bucket, modelJsonKey) };
}

/**
 * Downloads every weight file `manifest` names (under `weightPrefix`), each
 * into its view of `views` when given ({@link weightFileViews}); returns the
 * files as {@link loadArtifactFiles} does, model.json included. `onBytes`
 * reports each part as it is in place (file name, bytes [start, end) of the
 * buffer it landed in).
 */
export async function downloadWeightFiles(
  s3: S3Client,
  bucket: string,
  weightPrefix: string,
  manifest: WeightsManifest,
  modelJson: Uint8Array,
  views: ReadonlyMap<string, Uint8Array> | undefined,
  onBytes?: (name: string, start: number, end: number, target: Uint8Array) => void,
  get: Omit<ParallelGetOptions, 'onBytes'> = {},
): Promise<Map<string, Uint8Array>> {
  const names = [...new Set(manifest.flatMap((group) => group.paths))];
  const weights = await downloadObjects(
    s3,
    bucket,
    names.map((name) => s3Key(weightPrefix, name)),
    names.map((name) => `artifact's weight file ${name}`),
    names.map((name) => views?.get(name)),
    onBytes ? { ...get, onBytes: (i, start, end, target) => onBytes(names[i]!, start, end, target) } : get,
  );
  const files = new Map<string, Uint8Array>([['model.json', modelJson]]);
  names.forEach((name, i) => files.set(name, weights[i] as Uint8Array));
  return files;
}

/** Downloads and parses a JSON object (e.g. an export manifest). */
export async function getJsonObject(s3: S3Client, bucket: string, key: string, what = 'file'): Promise<unknown> {
  const bytes = await getObjectBytes(s3, bucket, key, what);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new OffloadError('unavailable', `${what} in the artifact store is not valid JSON`, { cause: err, detail: `s3://${bucket}/${key}` });
  }
}
