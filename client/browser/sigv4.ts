/**
 * AWS Signature Version 4 with WebCrypto only, so a page can call the
 * IAM-authorised API with temporary credentials (e.g. from a Cognito identity
 * pool, see ./cognito.ts). No Node built-ins, no AWS SDK: the browser bundle
 * stays small. Checked against AWS's published SigV4 test suite
 * (test/client/sigv4-vectors.test.ts).
 */
import type { RequestSigner } from '../api';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  host: string;
  /** The path, not percent-encoded (`/example space/`); the signer encodes it as AWS does. */
  path: string;
  /** `a=1&b=2`, without `?`. */
  query?: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface SignOptions {
  region: string;
  service: string;
  /** Signing time; default now. */
  date?: Date;
  /** Adds `x-amz-content-sha256` (S3 wants it; API Gateway does not). Default false. */
  signBody?: boolean;
}

export interface Signed {
  /** The request's headers plus `host`, `x-amz-date`, the session token and `authorization`. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  return hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

async function hmac(key: Uint8Array | ArrayBuffer, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, encoder.encode(data));
}

/** RFC 3986 encoding, as SigV4 wants it: everything but unreserved characters. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The canonical URI of a non-S3 service: dot segments and repeated slashes removed, each segment URI-encoded. */
function canonicalUri(path: string): string {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  const trailing = path.length > 1 && path.endsWith('/') && out.length > 0 ? '/' : '';
  return `/${out.map(uriEncode).join('/')}${trailing}`;
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs = query
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [uriEncode(safeDecode(k.replace(/\+/g, '%20'))), uriEncode(safeDecode(v.replace(/\+/g, '%20')))] as const;
    });
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * Signs a request (Authorization header form).
 *
 * @example
 * const { headers } = await signV4(
 *   { method: 'POST', host: 'abc.execute-api.eu-west-1.amazonaws.com', path: '/plan', headers: { 'content-type': 'application/json' }, body },
 *   credentials,
 *   { region: 'eu-west-1', service: 'execute-api' },
 * );
 */
export async function signV4(req: SignInput, creds: AwsCredentials, opts: SignOptions): Promise<Signed> {
  const when = amzDate(opts.date ?? new Date());
  const day = when.slice(0, 8);
  const payloadHash = await sha256Hex(req.body ?? '');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = v;
  const has = (name: string) => Object.keys(headers).some((k) => k.toLowerCase() === name);
  if (!has('host')) headers['host'] = req.host;
  headers['x-amz-date'] = when;
  if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
  if (opts.signBody) headers['x-amz-content-sha256'] = payloadHash;

  const grouped = new Map<string, string[]>();
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    const value = v.trim().replace(/\s+/g, ' ');
    grouped.set(name, [...(grouped.get(name) ?? []), value]);
  }
  const names = [...grouped.keys()].sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((n) => `${n}:${grouped.get(n)!.join(',')}\n`).join('');
  const canonicalRequest = [req.method.toUpperCase(), canonicalUri(req.path), canonicalQuery(req.query ?? ''), canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${opts.region}/${opts.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', when, scope, await sha256Hex(canonicalRequest)].join('\n');
  let key: ArrayBuffer = await hmac(encoder.encode(`AWS4${creds.secretAccessKey}`), day);
  for (const part of [opts.region, opts.service, 'aws4_request']) key = await hmac(key, part);
  const signature = hex(await hmac(key, stringToSign));
  headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign, signature };
}

/**
 * A {@link RequestSigner} for the deployed API (`execute-api`), credentials
 * fetched per request (a provider caches and refreshes them, e.g. ./cognito.ts).
 * The `host` header is signed but not returned: browsers set it themselves.
 */
export function webCryptoSigner(opts: { region: string; credentials: () => Promise<AwsCredentials>; service?: string }): RequestSigner {
  return async ({ method, url, headers, body }) => {
    const u = new URL(url);
    const signed = await signV4(
      { method, host: u.host, path: u.pathname.split('/').map(safeDecode).join('/'), query: u.search.slice(1), headers, ...(body === undefined ? {} : { body }) },
      await opts.credentials(),
      { region: opts.region, service: opts.service ?? 'execute-api' },
    );
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== 'host') out[k] = v;
    return out;
  };
}
