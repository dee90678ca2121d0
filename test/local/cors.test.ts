import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORS_REQUEST_HEADERS, EXPOSED_HEADERS } from '../../core/api';
import { LambdaEmulator } from '../../local/emulator';
import { startLocalServer, type LocalServer } from '../../local/server';
import type { CorsConfiguration } from '../../local/cors';

/** The local server's CORS against what API Gateway does with a CorsConfiguration (preflight answered without the route). */
const HANDLERS = resolve(import.meta.dirname, 'fixtures/handlers');
const CORS: CorsConfiguration = {
  AllowOrigins: ['https://app.example'],
  AllowMethods: ['GET', 'POST', 'OPTIONS'],
  AllowHeaders: [...CORS_REQUEST_HEADERS],
  ExposeHeaders: [...EXPOSED_HEADERS],
  MaxAge: 3600,
  AllowCredentials: false,
};

let emulator: LambdaEmulator;
let server: LocalServer;

beforeAll(async () => {
  emulator = new LambdaEmulator({ logs: 'ignore', functions: [{ name: 'api', handler: 'index.api', codeDir: HANDLERS, timeoutS: 5 }] });
  server = await startLocalServer({
    emulator,
    cors: CORS,
    routes: [{ apiId: 'a', routeKey: 'GET /models', method: 'GET', path: '/models', functionName: 'api', payloadFormatVersion: '2.0', timeoutMs: 5000 }],
  });
});

afterAll(async () => {
  await server?.close();
  await emulator?.close();
});

const preflight = (origin: string, method: string, headers: string) =>
  fetch(`${server.url}/models`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });

describe('CORS on the local HTTP API', () => {
  it('answers a preflight from an allowed origin itself, with the SigV4 headers allowed', async () => {
    const res = await preflight('https://app.example', 'POST', 'content-type,authorization,x-amz-date,x-amz-security-token');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type,authorization,x-amz-date,x-amz-security-token');
    expect(res.headers.get('access-control-max-age')).toBe('3600');
    expect(emulator.stats().functions[0]?.environments).toEqual([]);
  });

  it('gives a preflight from another origin, or asking for an unlisted header, no allow headers', async () => {
    for (const res of [await preflight('https://evil.example', 'GET', ''), await preflight('https://app.example', 'POST', 'x-secret')]) {
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('exposes the x-offload headers on answers to an allowed origin, errors included', async () => {
    const ok = await fetch(`${server.url}/models`, { headers: { origin: 'https://app.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-expose-headers')?.split(',')).toEqual(expect.arrayContaining(['x-offload-cold', 'x-offload-init-ms']));
    const missing = await fetch(`${server.url}/nope`, { headers: { origin: 'https://app.example' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await fetch(`${server.url}/models`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
