import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dynamoEndpoint, httpRegistryWriter, registryHttpEnabled } from '../../functions/commons/dynamo-http';
import { signPost } from '../../functions/commons/sigv4';
import type { RegistryUpdate } from '../../functions/commons/registrar';

/**
 * The tail's registry writes without the DynamoDB client (issue 11): the
 * request must be the one the SDK sends, signed as the SDK signs it, and its
 * errors named as the SDK names them. test/functions/registry.test.ts runs the
 * registrar's own tests through both against the DynamoDB stand-in.
 */
const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret/example+key', sessionToken: 'token/with+chars=' };
const date = new Date('2026-12-01T11:55:07Z');

const update: RegistryUpdate = {
  TableName: 'offload-registry',
  Key: { fn: 'mobilenetv2#0', instance: '3f1c2a9b' },
  UpdateExpression: 'SET #model = :model, cut = :cut, #state = :state, busyUntil = :busyUntil, initMs = :initMs',
  ConditionExpression: 'attribute_not_exists(seq) OR boot < :boot',
  ExpressionAttributeNames: { '#model': 'model', '#state': 'state' },
  ExpressionAttributeValues: { ':model': 'mobilenetv2', ':cut': 0, ':state': 'busy', ':busyUntil': 1796125734541, ':initMs': 212.5, ':boot': 1796125730314 },
};

describe('SigV4 for the registry writes (functions/commons/sigv4.ts)', () => {
  const cases = [
    { name: 'with a session token (Lambda)', host: 'dynamodb.us-east-1.amazonaws.com', region: 'us-east-1', creds: credentials },
    { name: 'without one, at a local endpoint with a port', host: '127.0.0.1:45685', region: 'eu-west-1', creds: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
  ];
  for (const c of cases) {
    it(`signs exactly as the SDK's signer: ${c.name}`, async () => {
      const body = '{"TableName":"t","Key":{"fn":{"S":"m#0"}}}';
      const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.UpdateItem', 'content-length': String(body.length) };
      const [hostname, port] = c.host.split(':');
      const sdk = await new SignatureV4({ service: 'dynamodb', region: c.region, credentials: c.creds, sha256: Hash.bind(null, 'sha256') }).sign(
        { method: 'POST', protocol: 'https:', hostname: hostname!, ...(port ? { port: Number(port) } : {}), path: '/', query: {}, headers: { ...headers, host: c.host }, body },
        { signingDate: date },
      );
      const ours = signPost({ host: c.host, service: 'dynamodb', region: c.region, headers, body, credentials: c.creds, date });
      expect(ours).toEqual(sdk.headers);
      expect(ours.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=\w+\/20261201\//);
    });
  }
});

/** A DynamoDB stand-in that records each request and answers with `reply`. */
interface Seen {
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('the registry writer over HTTP (functions/commons/dynamo-http.ts)', () => {
  let server: Server;
  let endpoint: string;
  let seen: Seen[] = [];
  let reply: (n: number) => { status: number; body: string } = () => ({ status: 200, body: '{}' });
  const env = () => ({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken });

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const { status, body } = reply(seen.length);
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen = [];
    reply = () => ({ status: 200, body: '{}' });
  });

  it("sends the SDK document client's UpdateItem: same target, content type, body and signed scope", async () => {
    // Prepare: the request as the registry's SDK client sent it (functions/commons/aws.ts)
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 }), { marshallOptions: { removeUndefinedValues: true } });
    await client.send(new UpdateCommand(update));
    client.destroy();
    const [sdk] = seen;

    // Act
    await httpRegistryWriter(env(), { now: () => date })(update);
    const ours = seen[1]!;

    // Assess
    expect(seen).toHaveLength(2);
    expect(ours.url).toBe(sdk!.url);
    expect(ours.body).toBe(sdk!.body); // byte for byte: members in the same order, numbers written the same way
    for (const h of ['x-amz-target', 'content-type', 'content-length', 'host', 'x-amz-security-token']) expect(ours.headers[h], h).toBe(sdk!.headers[h]);
    const scope = (a: string | undefined) => /Credential=[^/]+\/\d{8}\/([^,]+)/.exec(a ?? '')?.[1];
    expect(scope(ours.headers.authorization)).toBe(scope(sdk!.headers.authorization));
    expect(scope(ours.headers.authorization)).toBe('us-east-1/dynamodb/aws4_request');
  });

  it("names a DynamoDB error by its code as the SDK does, and retries only what the SDK's client retries", async () => {
    const write = httpRegistryWriter(env());
    reply = () => ({ status: 400, body: '{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}' });
    await expect(write(update)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException', message: 'The conditional request failed', status: 400 });
    expect(seen).toHaveLength(1);

    seen = [];
    reply = () => ({ status: 400, body: '{"__type":"com.amazon.coral.validate#ValidationException","message":"bad expression"}' });
    await expect(write(update)).rejects.toMatchObject({ name: 'ValidationException' });
    expect(seen).toHaveLength(1);

    // a throttled or failing service gets one more try (maxAttempts 2), which can succeed
    seen = [];
    reply = (n) => (n === 1 ? { status: 400, body: '{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}' } : { status: 200, body: '{}' });
    await expect(write(update)).resolves.toBeUndefined();
    expect(seen).toHaveLength(2);
    seen = [];
    reply = () => ({ status: 500, body: 'oops' });
    await expect(write(update)).rejects.toMatchObject({ name: 'HTTP500', status: 500 });
    expect(seen).toHaveLength(2);
  });

  it('rejects a write without a Region or with an unreachable endpoint, and refuses values it cannot write', async () => {
    await expect(httpRegistryWriter({})(update)).rejects.toThrow(/Region is missing/);
    await expect(httpRegistryWriter({ ...env(), AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' })(update)).rejects.toThrow(/ECONNREFUSED/);
    const bad = { ...update, ExpressionAttributeValues: { ':x': Number.NaN } };
    await expect(httpRegistryWriter(env())(bad)).rejects.toThrow(':x is not a string or a finite number');
    expect(seen).toHaveLength(0);
  });

  it("writes where the SDK would: its endpoint variables, else the Region's endpoint", () => {
    expect(dynamoEndpoint({ AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:8000' }, 'us-east-1').href).toBe('http://localhost:8000/');
    expect(dynamoEndpoint({ AWS_ENDPOINT_URL: 'http://localhost:4566' }, 'us-east-1').href).toBe('http://localhost:4566/');
    expect(dynamoEndpoint({}, 'eu-central-1').href).toBe('https://dynamodb.eu-central-1.amazonaws.com/');
    expect(dynamoEndpoint({}, 'cn-north-1').href).toBe('https://dynamodb.cn-north-1.amazonaws.com.cn/');
  });

  it('OFFLOAD_REGISTRY_HTTP: on by default, off, and a bad value refused by name', () => {
    expect(registryHttpEnabled({})).toBe(true);
    expect(registryHttpEnabled({ OFFLOAD_REGISTRY_HTTP: 'off' })).toBe(false);
    expect(() => registryHttpEnabled({ OFFLOAD_REGISTRY_HTTP: 'of' })).toThrow('OFFLOAD_REGISTRY_HTTP: must be "on" or "off" (got "of")');
  });
});
