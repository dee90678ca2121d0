/**
 * AWS Signature Version 4 for one kind of request: a POST of a body to the
 * root path of a service endpoint (DynamoDB's JSON protocol), with node:crypto
 * alone.
 *
 * The SDK's signer (@smithy/signature-v4) brings ~90 KB of @smithy/core with
 * it, and the tail's registry writes (./dynamo-http.ts) must not cost a cold
 * start that much parsing. test/functions/dynamo-http.test.ts checks that this
 * signs exactly as the SDK's signer does (same headers, same Authorization),
 * with and without a session token.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigV4Post {
  /** `host[:port]`, as the Host header says it. */
  host: string;
  service: string;
  region: string;
  /** Headers to sign besides host, the date, the payload hash and the token; names in lower case. */
  headers: Readonly<Record<string, string>>;
  body: string;
  credentials: SigV4Credentials;
  date?: Date;
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** The request's headers, signed: the given ones plus host, x-amz-date, x-amz-content-sha256, x-amz-security-token and authorization. */
export function signPost(req: SigV4Post): Record<string, string> {
  const longDate = (req.date ?? new Date()).toISOString().replace(/[:-]|\.\d{3}/g, ''); // 20261201T115500Z
  const shortDate = longDate.slice(0, 8);
  const payloadHash = sha256Hex(req.body);
  const headers: Record<string, string> = {
    ...req.headers,
    host: req.host,
    'x-amz-date': longDate,
    'x-amz-content-sha256': payloadHash,
    ...(req.credentials.sessionToken ? { 'x-amz-security-token': req.credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', '', ...names.map((n) => `${n}:${headers[n]!.trim().replace(/\s+/g, ' ')}`), '', names.join(';'), payloadHash].join('\n');
  const scope = `${shortDate}/${req.region}/${req.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', longDate, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${req.credentials.secretAccessKey}`, shortDate), req.region), req.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${req.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return headers;
}
