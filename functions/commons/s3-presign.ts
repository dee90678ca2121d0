/**
 * The planner's S3 access without the S3 client: presigned GET URLs, and
 * reads that fetch one.
 *
 * The planner only ever reads small JSON objects (manifests, cloud profiles)
 * and hands out presigned artifact URLs. `@aws-sdk/client-s3` with its
 * presigner was 176 KB of the planner's 0.56 MiB bundle (its whole service
 * schema, XML, checksums) and is parsed at every planner cold start; the
 * planner already ships the SDK's SigV4 signer for prewarm's Invoke
 * (./prewarm.ts). So every read here is a GET of a URL presigned the way
 * `@aws-sdk/s3-request-presigner` presigns GetObject — the same signer, the
 * same canonical request; test/functions/s3-presign.test.ts compares the two
 * URLs byte for byte for the local stand-in and for AWS Regions. The tail
 * keeps the S3 client: it needs parallel ranged GETs streamed into its
 * buffers (./artifacts.ts).
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { OffloadError } from '../../core/errors';

/** How long one read may take before it is abandoned, ms: a planner request must not hang on S3. */
export const S3_READ_TIMEOUT_MS = 10_000;
/** Lifetime of the URL a read fetches, s. */
const READ_URL_SECONDS = 60;

export interface PresignedS3 {
  /** A GET URL for `key`, valid `expiresS` seconds. */
  presignGet(key: string, expiresS: number): Promise<string>;
  /** The object's JSON; OffloadError `unavailable` (503) when missing, unreadable or not JSON (`what` names it). */
  getJson(key: string, what: string): Promise<unknown>;
}

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

export interface PresignedS3Options {
  /** Default: the environment's (Lambda's execution role; the local emulator's stand-in keys). */
  credentials?: Credentials;
  /** Signing time (tests). */
  now?: () => Date;
  fetch?: typeof fetch;
}

/** Virtual-hosted addressing needs a bucket name that is a single DNS label set without dots (as the SDK decides for https). */
function virtualHostable(bucket: string): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket) && !bucket.includes('--');
}

/** RFC 3986 escaping (encodeURIComponent leaves !'()* alone). */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A key in a path, '/' kept (the SDK's `extendedEncodeURIComponent` per segment). */
function encodeKey(key: string): string {
  return key.split('/').map(escapeUri).join('/');
}

/**
 * S3 for one bucket, addressed as the project's S3 clients are (./aws.ts): path-style at
 * `AWS_ENDPOINT_URL_S3` when it is set (the local stand-in), else the Region's virtual-hosted endpoint.
 *
 * @throws OffloadError `unavailable` when no Region is configured (AWS_REGION / AWS_DEFAULT_REGION)
 */
export function presignedS3(bucket: string, env: NodeJS.ProcessEnv = process.env, opts: PresignedS3Options = {}): PresignedS3 {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new OffloadError('unavailable', 'no AWS Region configured (AWS_REGION)');
  const endpoint = env.AWS_ENDPOINT_URL_S3;
  const base = endpoint
    ? new URL(`${endpoint.replace(/\/+$/, '')}/${bucket}/`)
    : virtualHostable(bucket)
      ? new URL(`https://${bucket}.s3.${region}.amazonaws.com/`)
      : new URL(`https://s3.${region}.amazonaws.com/${bucket}/`);
  const signer = new SignatureV4({
    service: 's3',
    region,
    credentials: opts.credentials ?? defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
    applyChecksum: false,
  });
  const doFetch = opts.fetch ?? fetch;

  const presignGet = async (key: string, expiresS: number): Promise<string> => {
    const host = base.port ? `${base.hostname}:${base.port}` : base.hostname;
    const signed = await signer.presign(
      {
        method: 'GET',
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port ? { port: Number(base.port) } : {}),
        path: `${base.pathname}${encodeKey(key)}`,
        query: { 'x-id': 'GetObject' },
        // Hoisted into the query, as the SDK's presigner and a client with its default checksum
        // setting (WHEN_SUPPORTED, on AWS; ./aws.ts turns it off for the stand-in) put them there.
        headers: { host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', ...(endpoint ? {} : { 'x-amz-checksum-mode': 'ENABLED' }) },
      },
      { expiresIn: expiresS, unsignableHeaders: new Set(['content-type']), ...(opts.now ? { signingDate: opts.now() } : {}) },
    );
    // As the SDK's formatUrl writes it: keys sorted, RFC 3986 escapes.
    const q = signed.query ?? {};
    const query = Object.keys(q)
      .sort()
      .flatMap((k) => {
        const v = q[k];
        return (Array.isArray(v) ? v : v == null ? [] : [v]).map((x) => `${escapeUri(k)}=${escapeUri(x)}`);
      })
      .join('&');
    return `${base.protocol}//${host}${signed.path}?${query}`;
  };

  const getJson = async (key: string, what: string): Promise<unknown> => {
    const where = `s3://${bucket}/${key}`;
    let res: Response;
    try {
      res = await doFetch(await presignGet(key, READ_URL_SECONDS), { signal: AbortSignal.timeout(S3_READ_TIMEOUT_MS) });
    } catch (err) {
      throw new OffloadError('unavailable', `artifact store unreachable while reading the ${what}`, {
        cause: err,
        detail: `${where}: ${(err as Error).name ?? 'error'}: ${(err as Error).message}`,
      });
    }
    const body = await res.text().catch(() => '');
    if (res.status === 404) throw new OffloadError('unavailable', `${what} missing from the artifact store`, { detail: where });
    if (!res.ok) {
      const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? `HTTP ${res.status}`;
      throw new OffloadError('unavailable', `artifact store unreachable while reading the ${what}`, { detail: `${where}: ${code}` });
    }
    try {
      return JSON.parse(body);
    } catch (err) {
      throw new OffloadError('unavailable', `${what} in the artifact store is not valid JSON`, { cause: err, detail: where });
    }
  };

  return { presignGet, getJson };
}
