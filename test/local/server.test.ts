import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { InvokeCommand, LambdaClient, ResourceNotFoundException, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEmulator } from '../../local/emulator';
import { startLocalServer, type LocalServer } from '../../local/server';
import type { RouteSpec } from '../../local/template';

const HANDLERS = resolve(import.meta.dirname, 'fixtures/handlers');

const route = (routeKey: string, functionName: string, timeoutMs = 30_000): RouteSpec => {
  const [method, path] = routeKey.split(' ') as [string, string];
  return { apiId: 'localapi', routeKey, method, path, functionName, payloadFormatVersion: '2.0', timeoutMs };
};

let emulator: LambdaEmulator;
let server: LocalServer;
let lambda: LambdaClient;

beforeAll(async () => {
  emulator = new LambdaEmulator({
    logs: 'ignore',
    functions: [
      { name: 'echo', handler: 'index.handler', codeDir: HANDLERS, timeoutS: 5 },
      { name: 'narrow', handler: 'index.handler', codeDir: HANDLERS, timeoutS: 5, reservedConcurrency: 2 },
      { name: 'api', handler: 'index.api', codeDir: HANDLERS, timeoutS: 5 },
      { name: 'api-narrow', handler: 'index.api', codeDir: HANDLERS, timeoutS: 5, reservedConcurrency: 1 },
    ],
  });
  server = await startLocalServer({
    emulator,
    port: 0,
    routes: [
      route('POST /infer/{model}/{cut}', 'api'),
      route('GET /models', 'api'),
      route('POST /narrow/{cut}', 'api-narrow'),
      route('GET /slow', 'api', 200),
    ],
  });
  lambda = new LambdaClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1, // the SDK retries throttles by default; the tests look at single answers
  });
});

afterAll(async () => {
  lambda?.destroy();
  const pids = emulator?.pids() ?? [];
  await server?.close();
  await emulator?.close();
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
});

const decode = (bytes: Uint8Array | undefined) => JSON.parse(Buffer.from(bytes ?? []).toString('utf8')) as Record<string, unknown>;

describe('Invoke API through @aws-sdk/client-lambda', () => {
  it('invokes by name and by ARN and returns the payload', async () => {
    const byName = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: JSON.stringify({ q: 1 }) }));
    const byArn = await lambda.send(
      new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo', Payload: '{"q":2}' }),
    );

    expect(byName.StatusCode).toBe(200);
    expect(byName.FunctionError).toBeUndefined();
    expect(byName.ExecutedVersion).toBe('$LATEST');
    expect(decode(byName.Payload)).toMatchObject({ event: { q: 1 }, functionName: 'echo' });
    expect(decode(byArn.Payload)).toMatchObject({ event: { q: 2 } });
    expect(decode(byArn.Payload).instance).toBe(decode(byName.Payload).instance);
  });

  it('reports a function error as FunctionError Unhandled with the error payload', async () => {
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: '{"action":"throw","message":"no"}' }));

    expect(r.StatusCode).toBe(200);
    expect(r.FunctionError).toBe('Unhandled');
    expect(decode(r.Payload)).toMatchObject({ errorType: 'RangeError', errorMessage: 'no' });
  });

  it('raises ResourceNotFoundException for an unknown function', async () => {
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'nope', Payload: '{}' })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    expect((error as ResourceNotFoundException).message).toMatch(/Function not found: .*:function:nope/);
  });

  it('raises TooManyRequestsException past reserved concurrency, and every call ends', async () => {
    const calls = Array.from({ length: 6 }, () =>
      lambda.send(new InvokeCommand({ FunctionName: 'narrow', Payload: '{"action":"sleep","ms":300}' })).then(
        (r) => ({ ok: r }),
        (e: unknown) => ({ error: e }),
      ),
    );

    const settled = await Promise.all(calls);

    const throttled = settled.flatMap((s) => ('error' in s ? [s.error] : []));
    expect(settled.filter((s) => 'ok' in s)).toHaveLength(2);
    expect(throttled).toHaveLength(4);
    for (const e of throttled) {
      expect(e).toBeInstanceOf(TooManyRequestsException);
      expect(e).toMatchObject({
        name: 'TooManyRequestsException',
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        Type: 'User',
        message: 'Rate Exceeded.',
        $metadata: expect.objectContaining({ httpStatusCode: 429 }),
      });
    }
  });

  it('answers a throttle with the AWS wire shape (status, header, body)', async () => {
    const url = `${server.url}/2015-03-31/functions/narrow/invocations`;
    const post = () => fetch(url, { method: 'POST', body: '{"action":"sleep","ms":300}' });

    const responses = await Promise.all([post(), post(), post()]);

    const throttled = responses.find((r) => r.status === 429);
    expect(throttled?.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(await throttled?.json()).toEqual({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.' });
    expect(responses.filter((r) => r.status === 200)).toHaveLength(2);
  });

  it('rejects a body that is not JSON, and answers DryRun and Event invocations', async () => {
    const url = `${server.url}/2015-03-31/functions/echo/invocations`;

    const bad = await fetch(url, { method: 'POST', body: '{nope' });
    const dry = await fetch(url, { method: 'POST', body: '{}', headers: { 'x-amz-invocation-type': 'DryRun' } });
    const event = await fetch(url, { method: 'POST', body: '{}', headers: { 'x-amz-invocation-type': 'Event' } });

    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(dry.status).toBe(204);
    expect(event.status).toBe(202);
  });
});

describe('HTTP API routes (payload format 2.0)', () => {
  it('maps path, query, headers and body into the event and the structured result back', async () => {
    const r = await fetch(`${server.url}/infer/resnet50/17?x=1&x=2`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Device': 'phone', Cookie: 'a=b' },
      body: '{"hello":1}',
    });

    expect(r.status).toBe(200);
    expect(r.headers.get('apigw-requestid')).toBeTruthy();
    const { event } = (await r.json()) as { event: Record<string, any> };
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /infer/{model}/{cut}',
      rawPath: '/infer/resnet50/17',
      rawQueryString: 'x=1&x=2',
      queryStringParameters: { x: '1,2' },
      pathParameters: { model: 'resnet50', cut: '17' },
      cookies: ['a=b'],
      body: '{"hello":1}',
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-device': 'phone' });
    expect(event.requestContext).toMatchObject({
      apiId: 'localapi',
      stage: '$default',
      http: { method: 'POST', path: '/infer/resnet50/17', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      requestId: r.headers.get('apigw-requestid'),
    });
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(60_000);
  });

  it('round-trips a binary body through base64 both ways', async () => {
    const bytes = randomBytes(300_000);

    const r = await fetch(`${server.url}/infer/m/3?mode=binary`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.offload.tensors' },
      body: bytes,
    });

    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expect(r.headers.get('x-bytes')).toBe(String(bytes.length));
    expect(Buffer.from(await r.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('applies the shorthand for results without statusCode', async () => {
    const object = await fetch(`${server.url}/models?mode=object`);
    const string = await fetch(`${server.url}/models?mode=string`);

    expect(object.status).toBe(200);
    expect(object.headers.get('content-type')).toBe('application/json');
    expect(await object.json()).toEqual({ hello: 'world', n: 1 });
    expect(await string.text()).toBe('"just a string"');
  });

  it('passes status, custom headers and cookies of a structured result', async () => {
    const r = await fetch(`${server.url}/models?mode=status`);

    expect(r.status).toBe(418);
    expect(r.headers.get('x-custom')).toBe('tea');
    expect(r.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await r.text()).toBe('short and stout');
  });

  it('answers 500 JSON when the function fails, and 404 JSON for unknown routes', async () => {
    const failed = await fetch(`${server.url}/models?mode=throw`);
    const missing = await fetch(`${server.url}/nowhere`, { method: 'POST' });

    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ code: 'internal', message: 'Internal Server Error' });
    expect(failed.headers.get('x-local-function-error')).toBe('Error');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: 'not-found', message: 'Not Found: no route for POST /nowhere' });
  });

  it('answers 503 when the integration timeout passes first', async () => {
    const r = await fetch(`${server.url}/slow?mode=sleep&ms=1500`);

    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ code: 'unavailable' });
  });

  it('answers 429 JSON past reserved concurrency, quickly, and every request ends', async () => {
    const started = performance.now();
    const finished: { status: number; at: number }[] = [];
    const requests = Array.from({ length: 5 }, () =>
      fetch(`${server.url}/narrow/3?mode=sleep&ms=500`, { method: 'POST' }).then(async (r) => {
        finished.push({ status: r.status, at: performance.now() - started });
        return { status: r.status, body: (await r.json()) as Record<string, unknown>, header: r.headers.get('x-amzn-errortype') };
      }),
    );

    const results = await Promise.all(requests);

    expect(results.map((r) => r.status).sort()).toEqual([200, 429, 429, 429, 429]);
    const throttled = results.filter((r) => r.status === 429);
    for (const t of throttled) {
      expect(t.body).toMatchObject({ code: 'throttled', message: expect.stringMatching(/api-narrow/) });
      expect(t.header).toBe('TooManyRequestsException');
    }
    // every 429 arrived before the admitted request (which sleeps 500 ms) finished
    const admitted = finished.find((f) => f.status === 200);
    expect(finished.filter((f) => f.status === 429).every((f) => f.at < (admitted?.at ?? 0))).toBe(true);
  });

  it('exposes the emulator state at GET /_local/functions', async () => {
    const r = await fetch(`${server.url}/_local/functions`);

    const body = (await r.json()) as { functions: { name: string; coldStarts: number; reservedConcurrency: number | null }[] };
    expect(body.functions.map((f) => f.name)).toEqual(['echo', 'narrow', 'api', 'api-narrow']);
    expect(body.functions.find((f) => f.name === 'narrow')).toMatchObject({ reservedConcurrency: 2 });
    expect(body.functions.find((f) => f.name === 'echo')?.coldStarts).toBeGreaterThanOrEqual(1);
  });
});
