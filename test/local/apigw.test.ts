import { describe, expect, it } from 'vitest';
import { eventJsonBytes, fromResultV2, isTextContentType, MalformedResultError, RouteTable, toEventV2 } from '../../local/apigw';
import type { RouteSpec } from '../../local/template';

const route = (routeKey: string, functionName = routeKey): RouteSpec => {
  const [method, path] = routeKey === '$default' ? ['ANY', null] : (routeKey.split(' ') as [string, string]);
  return { apiId: 'api', routeKey, method, path, functionName, payloadFormatVersion: '2.0', timeoutMs: 30_000 };
};

describe('RouteTable', () => {
  const table = new RouteTable([
    route('POST /infer/{model}/{cut}'),
    route('POST /infer/resnet50/17'),
    route('POST /infer/resnet50/{cut}'),
    route('GET /models'),
    route('ANY /models'),
    route('ANY /files/{proxy+}'),
    route('$default'),
  ]);

  it('prefers the exact path, then the most literal segments, then variables', () => {
    expect(table.match('POST', '/infer/resnet50/17')?.route.routeKey).toBe('POST /infer/resnet50/17');
    expect(table.match('POST', '/infer/resnet50/3')).toEqual({
      route: expect.objectContaining({ routeKey: 'POST /infer/resnet50/{cut}' }),
      pathParameters: { cut: '3' },
    });
    expect(table.match('POST', '/infer/vgg16/0')?.pathParameters).toEqual({ model: 'vgg16', cut: '0' });
  });

  it('prefers a specific method over ANY', () => {
    expect(table.match('GET', '/models')?.route.routeKey).toBe('GET /models');
    expect(table.match('DELETE', '/models')?.route.routeKey).toBe('ANY /models');
  });

  it('matches a greedy variable over the rest of the path, decoding parameters', () => {
    expect(table.match('PUT', '/files/a/b%20c.txt')?.pathParameters).toEqual({ proxy: 'a/b c.txt' });
  });

  it('falls back to $default, or to nothing', () => {
    expect(table.match('GET', '/nowhere')?.route.routeKey).toBe('$default');
    expect(table.match('GET', '/infer/resnet50/17')?.route.routeKey).toBe('$default');
    expect(new RouteTable([route('GET /models')]).match('GET', '/model')).toBeNull();
    expect(new RouteTable([route('POST /infer/{model}/{cut}')]).match('POST', '/infer/m/')).toBeNull();
  });
});

describe('toEventV2', () => {
  const match = { route: route('POST /infer/{model}/{cut}'), pathParameters: { model: 'm', cut: '3' } };
  const base = {
    method: 'post',
    rawPath: '/infer/m/3',
    rawQueryString: 'a=1&a=2&b=x%20y',
    headers: { host: 'localhost:3000', 'content-type': 'application/json', 'x-multi': ['1', '2'], cookie: 'k=v; s=t', 'user-agent': 'ua' },
    sourceIp: '127.0.0.1',
    protocol: 'HTTP/1.1',
  };

  it('builds the payload format 2.0 event', () => {
    const event = toEventV2({ ...base, body: Buffer.from('{"x":1}') }, match, {
      apiId: 'api1',
      accountId: '000000000000',
      requestId: 'req1',
      timeEpoch: Date.UTC(2020, 2, 12, 19, 3, 58),
    });

    expect(event).toEqual({
      version: '2.0',
      routeKey: 'POST /infer/{model}/{cut}',
      rawPath: '/infer/m/3',
      rawQueryString: 'a=1&a=2&b=x%20y',
      cookies: ['k=v', 's=t'],
      headers: { host: 'localhost:3000', 'content-type': 'application/json', 'x-multi': '1,2', 'user-agent': 'ua' },
      queryStringParameters: { a: '1,2', b: 'x y' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'api1',
        domainName: 'localhost:3000',
        domainPrefix: 'localhost:3000',
        http: { method: 'POST', path: '/infer/m/3', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'ua' },
        requestId: 'req1',
        routeKey: 'POST /infer/{model}/{cut}',
        stage: '$default',
        time: '12/Mar/2020:19:03:58 +0000',
        timeEpoch: Date.UTC(2020, 2, 12, 19, 3, 58),
      },
      pathParameters: { model: 'm', cut: '3' },
      body: '{"x":1}',
      isBase64Encoded: false,
    });
  });

  it('base64-encodes binary bodies and omits empty parts', () => {
    const bytes = Buffer.from([0, 255, 1, 254]);
    const binary = toEventV2(
      { ...base, rawQueryString: '', headers: { 'content-type': 'application/vnd.offload.tensors' }, body: bytes },
      { ...match, pathParameters: {} },
      { apiId: 'a', accountId: '0', requestId: 'r', timeEpoch: 0 },
    );

    expect(binary.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.body as string, 'base64')).toEqual(bytes);
    expect(binary).not.toHaveProperty('queryStringParameters');
    expect(binary).not.toHaveProperty('pathParameters');
    expect(binary).not.toHaveProperty('cookies');

    const empty = toEventV2({ ...base, body: Buffer.alloc(0) }, match, { apiId: 'a', accountId: '0', requestId: 'r', timeEpoch: 0 });
    expect(empty).not.toHaveProperty('body');
    expect(empty.isBase64Encoded).toBe(false);
  });

  it('measures the JSON size of an event without serialising its body', () => {
    const ctx = { apiId: 'a', accountId: '0', requestId: 'r', timeEpoch: 0 };
    const events = [
      toEventV2({ ...base, body: Buffer.from('{"quote":"\\"é\\n"}') }, match, ctx),
      toEventV2({ ...base, headers: { 'content-type': 'image/png' }, body: Buffer.from([1, 2, 3, 250]) }, match, ctx),
      toEventV2({ ...base, body: Buffer.alloc(0) }, match, ctx),
    ];

    for (const event of events) expect(eventJsonBytes(event)).toBe(Buffer.byteLength(JSON.stringify(event)));
  });

  it('treats text-like content types as text and everything else as binary', () => {
    for (const t of ['text/plain', 'application/json; charset=utf-8', 'application/problem+json', 'application/xml', 'application/x-www-form-urlencoded']) {
      expect(isTextContentType(t)).toBe(true);
    }
    for (const t of [undefined, 'application/octet-stream', 'image/png', 'application/vnd.offload.tensors']) {
      expect(isTextContentType(t)).toBe(false);
    }
  });
});

describe('fromResultV2', () => {
  it('maps a structured result: status, lower-cased headers, cookies, base64 body', () => {
    const r = fromResultV2(
      JSON.stringify({ statusCode: 201, headers: { 'X-A': 'b', 'x-n': 3 }, cookies: ['c=1'], body: Buffer.from([9, 8]).toString('base64'), isBase64Encoded: true }),
    );

    expect(r).toEqual({ statusCode: 201, headers: { 'x-a': 'b', 'x-n': '3' }, cookies: ['c=1'], body: Buffer.from([9, 8]) });
  });

  it('sends any result without statusCode as JSON with status 200', () => {
    expect(fromResultV2('{"hello":"world"}')).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from('{"hello":"world"}'),
    });
    expect(fromResultV2('"text"').body.toString()).toBe('"text"');
    expect(fromResultV2('null').statusCode).toBe(200);
  });

  it('rejects a status that is not an HTTP status', () => {
    expect(() => fromResultV2('{"statusCode":"abc"}')).toThrow(MalformedResultError);
    expect(() => fromResultV2('{"statusCode":99}')).toThrow(MalformedResultError);
  });
});
