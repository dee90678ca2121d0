import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { describe, expect, it } from 'vitest';
import { signV4, webCryptoSigner } from '../../client/browser/sigv4';

/**
 * The WebCrypto signer against AWS's published SigV4 test suite (the vectors
 * and their source are in fixtures/aws-sigv4-test-suite/), then against the
 * AWS SDK's own signer on a request shaped like the API's.
 */
const SUITE = join(import.meta.dirname, 'fixtures', 'aws-sigv4-test-suite');
const vectors = readdirSync(SUITE, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

function parseRequest(text: string) {
  const [head, ...rest] = text.split('\n\n');
  const lines = (head ?? '').split('\n');
  // the request line is `METHOD target HTTP/1.1`; the target may hold spaces
  const first = lines[0] ?? '';
  const method = first.slice(0, first.indexOf(' '));
  const rawTarget = first.slice(method.length + 1, first.lastIndexOf(' HTTP/'));
  const q = rawTarget.indexOf('?');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const i = line.indexOf(':');
    headers[line.slice(0, i)] = line.slice(i + 1);
  }
  const body = rest.join('\n\n');
  return {
    method,
    path: q < 0 ? rawTarget : rawTarget.slice(0, q),
    query: q < 0 ? '' : rawTarget.slice(q + 1),
    headers,
    body,
  };
}

describe('SigV4 in WebCrypto (client/browser/sigv4.ts)', () => {
  it('covers the vectors kept in the fixtures', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(15);
  });

  it.each(vectors)('matches AWS test vector %s: canonical request, string to sign, signature', async (name) => {
    // Prepare
    const file = (f: string) => readFileSync(join(SUITE, name, f), 'utf8');
    const ctx = JSON.parse(file('context.json')) as {
      credentials: { access_key_id: string; secret_access_key: string; token?: string };
      region: string;
      service: string;
      sign_body: boolean;
      timestamp: string;
    };
    const req = parseRequest(file('request.txt'));
    const host = Object.entries(req.headers).find(([k]) => k.toLowerCase() === 'host')![1];
    // Act
    const signed = await signV4(
      { method: req.method, host, path: req.path, query: req.query, headers: req.headers, body: req.body },
      {
        accessKeyId: ctx.credentials.access_key_id,
        secretAccessKey: ctx.credentials.secret_access_key,
        ...(ctx.credentials.token ? { sessionToken: ctx.credentials.token } : {}),
      },
      { region: ctx.region, service: ctx.service, date: new Date(ctx.timestamp), signBody: ctx.sign_body },
    );
    // Assess
    expect(signed.canonicalRequest).toBe(file('header-canonical-request.txt'));
    expect(signed.stringToSign).toBe(file('header-string-to-sign.txt'));
    expect(signed.signature).toBe(file('header-signature.txt').trim());
  });

  it('signs an API request exactly as the AWS SDK signer does', async () => {
    const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'token/with+chars=' };
    const date = new Date('2026-11-30T10:00:00Z');
    const body = JSON.stringify({ model: 'mobilenetv2', device: 'flagship-phone', network: '4g' });
    const headers = { 'content-type': 'application/json' };
    const ours = await signV4({ method: 'POST', host: 'abc.execute-api.eu-west-1.amazonaws.com', path: '/plan', headers, body }, creds, {
      region: 'eu-west-1',
      service: 'execute-api',
      date,
      signBody: true, // the SDK always adds x-amz-content-sha256
    });
    const sdk = new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials: creds, sha256: Hash.bind(null, 'sha256') });
    const theirs = await sdk.sign(
      { method: 'POST', protocol: 'https:', hostname: 'abc.execute-api.eu-west-1.amazonaws.com', path: '/plan', query: {}, headers: { ...headers, host: 'abc.execute-api.eu-west-1.amazonaws.com' }, body },
      { signingDate: date },
    );
    expect(ours.headers['authorization']).toBe(theirs.headers['authorization']);
  });

  it('gives fetch the signed headers without host (the browser sets it)', async () => {
    const signer = webCryptoSigner({ region: 'us-east-1', credentials: async () => ({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'T' }) });
    const out = await signer({ method: 'GET', url: 'https://x.execute-api.us-east-1.amazonaws.com/models', headers: {} });
    expect(Object.keys(out).sort()).toEqual(['authorization', 'x-amz-date', 'x-amz-security-token']);
    expect(out['authorization']).toMatch(/SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
  });
});
