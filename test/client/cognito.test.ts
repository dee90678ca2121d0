/**
 * The browser SDK's Cognito credentials provider against a real HTTP server
 * playing Cognito Identity and STS (a fake provider, not AWS): the calls and
 * their order for both flows, caching, refresh before expiry, one refresh
 * for a burst, logins passed through, clear errors; and a request signed
 * with the credentials it hands out, checked by the server with the AWS
 * SDK's own signer.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cognitoCredentials } from '../../client/browser/cognito';
import { webCryptoSigner } from '../../client/browser/sigv4';

const POOL = 'eu-west-1:0b6f5e2c-1d2a-4c3b-9e8f-7a6b5c4d3e2f';
const IDENTITY = 'eu-west-1:aaaaaaaa-1111-2222-3333-444444444444';
const ROLE = 'arn:aws:iam::123456789012:role/offload-IdentityPoolUnauthenticatedRole';

interface Seen {
  path: string;
  target: string | undefined;
  contentType: string | undefined;
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
/** Seconds from now the next credentials expire at. */
let lifetimeS = 3600;
/** When set, the fake answers this error to GetCredentialsForIdentity. */
let refuse: { status: number; type: string; message: string } | null = null;
let issued = 0;
/** When set, GetOpenIdToken hands out a token the fake STS does not accept. */
let staleToken = false;
/** What the fake's "API" route saw: the request and whether the AWS SDK's signer gives the same Authorization. */
let apiCheck: { authorization: string | undefined; expected: string; token: string | undefined } | null = null;

const creds = (n: number) => ({ accessKeyId: `ASIAFAKE${n}`, secretAccessKey: `secret-${n}`, sessionToken: `token-${n}` });

async function read(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await read(req);
    const path = req.url ?? '';
    seen.push({ path, target: req.headers['x-amz-target'] as string | undefined, contentType: req.headers['content-type'], body });
    const json = (status: number, value: object) => void res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(value));
    if (path === '/cognito/') {
      const target = String(req.headers['x-amz-target']).replace('AWSCognitoIdentityService.', '');
      if (target === 'GetId') return json(200, { IdentityId: IDENTITY });
      if (target === 'GetOpenIdToken') return json(200, { IdentityId: IDENTITY, Token: staleToken ? 'stale-token' : 'open-id-token' });
      if (target === 'GetCredentialsForIdentity') {
        if (refuse) return json(refuse.status, { __type: refuse.type, message: refuse.message });
        const c = creds(++issued);
        return json(200, {
          IdentityId: IDENTITY,
          Credentials: { AccessKeyId: c.accessKeyId, SecretKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: Date.now() / 1000 + lifetimeS },
        });
      }
      return json(400, { __type: 'UnknownOperationException', message: target });
    }
    if (path === '/sts/') {
      const form = new URLSearchParams(body);
      if (form.get('WebIdentityToken') !== 'open-id-token') {
        return void res
          .writeHead(400, { 'content-type': 'text/xml' })
          .end('<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Couldn\'t verify the token</Message></Error></ErrorResponse>');
      }
      const c = creds(++issued);
      const exp = new Date(Date.now() + lifetimeS * 1000).toISOString();
      return void res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId>` +
            `<SecretAccessKey>${c.secretAccessKey}</SecretAccessKey><SessionToken>${c.sessionToken}</SessionToken><Expiration>${exp}</Expiration>` +
            `</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
        );
    }
    if (path === '/plan') {
      // Check the signature the way API Gateway would: recompute it with the issued secret (AWS SDK's signer).
      const n = Number(String(req.headers['x-amz-security-token']).replace('token-', ''));
      const amzDate = String(req.headers['x-amz-date']);
      const date = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
      // applyChecksum off: API Gateway does not need x-amz-content-sha256, and the page does not send it.
      const sdk = new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials: creds(n), sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
      const signed = await sdk.sign(
        { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/plan', query: {}, headers: { host: String(req.headers.host), 'content-type': String(req.headers['content-type']) }, body },
        { signingDate: date },
      );
      apiCheck = { authorization: req.headers.authorization, expected: String(signed.headers['authorization']), token: req.headers['x-amz-security-token'] as string | undefined };
      return json(200, {});
    }
    json(404, { message: 'no route' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => {
  seen.length = 0;
  lifetimeS = 3600;
  refuse = null;
  apiCheck = null;
  staleToken = false;
});

const targets = () => seen.map((s) => s.target?.replace('AWSCognitoIdentityService.', '') ?? s.path);

describe('cognitoCredentials, enhanced flow (the default)', () => {
  it('gets a guest identity, then its credentials, with the Cognito JSON protocol, and caches them', async () => {
    const provider = cognitoCredentials({ identityPoolId: POOL, endpoint: `${base}/cognito/` });
    const first = await provider();
    expect(targets()).toEqual(['GetId', 'GetCredentialsForIdentity']);
    expect(seen.every((s) => s.contentType === 'application/x-amz-json-1.1')).toBe(true);
    expect(JSON.parse(seen[0]!.body)).toEqual({ IdentityPoolId: POOL });
    expect(JSON.parse(seen[1]!.body)).toEqual({ IdentityId: IDENTITY });
    expect(first).toEqual(creds(issued));
    expect(await provider()).toBe(first);
    expect(seen).toHaveLength(2);
  });

  it('refreshes credentials about to expire, keeping the identity', async () => {
    lifetimeS = 60; // inside the five-minute margin: stale at once
    const provider = cognitoCredentials({ identityPoolId: POOL, endpoint: `${base}/cognito/` });
    const a = await provider();
    const b = await provider();
    expect(b.accessKeyId).not.toBe(a.accessKeyId);
    expect(targets()).toEqual(['GetId', 'GetCredentialsForIdentity', 'GetCredentialsForIdentity']);
  });

  it('asks Cognito once for a burst of requests signed at the same time', async () => {
    const provider = cognitoCredentials({ identityPoolId: POOL, endpoint: `${base}/cognito/` });
    const all = await Promise.all(Array.from({ length: 6 }, () => provider()));
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    expect(targets()).toEqual(['GetId', 'GetCredentialsForIdentity']);
  });

  it('passes a signed-in user’s logins to both calls', async () => {
    const logins = { 'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123': 'id-token' };
    await cognitoCredentials({ identityPoolId: POOL, endpoint: `${base}/cognito/`, logins })();
    expect(seen.map((s) => (JSON.parse(s.body) as { Logins?: unknown }).Logins)).toEqual([logins, logins]);
  });

  it('says what Cognito refused, in one line', async () => {
    refuse = { status: 400, type: 'NotAuthorizedException', message: 'Unauthenticated access is not supported for this identity pool.' };
    await expect(cognitoCredentials({ identityPoolId: POOL, endpoint: `${base}/cognito/` })()).rejects.toThrow(
      /^Cognito GetCredentialsForIdentity: HTTP 400 NotAuthorizedException: Unauthenticated access is not supported for this identity pool\.$/,
    );
  });

  it('signs API requests with the credentials it hands out (session token included), as AWS’s own signer would', async () => {
    const signer = webCryptoSigner({ region: 'eu-west-1', credentials: cognitoCredentials({ identityPoolId: POOL, endpoint: `${base}/cognito/` }) });
    const body = JSON.stringify({ model: 'mobilenetv2', device: 'flagship-phone', network: '4g' });
    const headers = await signer({ method: 'POST', url: `${base}/plan`, headers: { 'content-type': 'application/json' }, body });
    const res = await fetch(`${base}/plan`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect(res.status).toBe(200);
    expect(apiCheck?.token).toBe(`token-${issued}`);
    expect(apiCheck?.authorization).toBe(apiCheck?.expected);
    expect(apiCheck?.authorization).toContain(`Credential=ASIAFAKE${issued}/`);
  });
});

describe('cognitoCredentials, basic flow', () => {
  it('gets an OpenID token for the identity and exchanges it with STS for the role’s credentials', async () => {
    const provider = cognitoCredentials({ identityPoolId: POOL, endpoint: `${base}/cognito/`, stsEndpoint: `${base}/sts/`, flow: 'basic', roleArn: ROLE });
    const c = await provider();
    expect(targets()).toEqual(['GetId', 'GetOpenIdToken', '/sts/']);
    const form = new URLSearchParams(seen[2]!.body);
    expect(seen[2]!.contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(form)).toMatchObject({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: ROLE, WebIdentityToken: 'open-id-token' });
    expect(form.get('RoleSessionName')).toMatch(/^offload-page-[0-9a-f]{8}$/);
    expect(c).toEqual(creds(issued));
    expect(await provider()).toBe(c);
  });

  it('says what STS refused, in one line', async () => {
    staleToken = true;
    const provider = cognitoCredentials({ identityPoolId: POOL, endpoint: `${base}/cognito/`, stsEndpoint: `${base}/sts/`, flow: 'basic', roleArn: ROLE });
    await expect(provider()).rejects.toThrow(/^STS AssumeRoleWithWebIdentity: HTTP 400 InvalidIdentityToken: Couldn't verify the token$/);
  });
});

describe('cognitoCredentials, bad options', () => {
  it('refuses what is not an identity pool id, and the basic flow without a role', () => {
    expect(() => cognitoCredentials({ identityPoolId: 'eu-west-1_AbCdEf123' })).toThrow(/is not a Cognito identity pool id/);
    expect(() => cognitoCredentials({ identityPoolId: POOL, flow: 'basic' })).toThrow(/needs roleArn/);
  });
});
