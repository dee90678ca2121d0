/**
 * The shutdown extension (layers/shutdown-extension) as Lambda runs it: a
 * real process talking HTTP to a stand-in of the Extensions API. What AWS
 * itself does with it (SIGTERM to the runtime in the Shutdown phase) cannot
 * be checked here.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const EXTENSION = fileURLToPath(new URL('../../layers/shutdown-extension/extensions/offload-shutdown', import.meta.url));

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** An Extensions API stand-in: registers, then answers event/next with `events` in turn. */
async function extensionsApi(events: object[], registerStatus = 200): Promise<{ address: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/2020-01-01/extension/register') {
        res.writeHead(registerStatus, { 'Lambda-Extension-Identifier': 'ext-id-1', 'content-type': 'application/json' });
        res.end(registerStatus === 200 ? '{"functionName":"f","functionVersion":"$LATEST","handler":"index.handler"}' : '{"errorType":"Extension.Invalid"}');
        return;
      }
      const next = events.shift();
      // a little later, as Lambda answers when the event happens
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(next));
      }, 50);
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return { address: `127.0.0.1:${(server?.address() as AddressInfo).port}`, seen };
}

function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [EXTENSION], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((r) => child.once('close', (code) => r({ code, stderr })));
}

describe('the shutdown extension', () => {
  it('registers for SHUTDOWN under its file name, waits for events, and exits 0 at SHUTDOWN', async () => {
    const api = await extensionsApi([{ eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs: Date.now() + 2000 }]);

    const { code, stderr } = await run({ AWS_LAMBDA_RUNTIME_API: api.address });

    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(api.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /2020-01-01/extension/register', 'GET /2020-01-01/extension/event/next']);
    expect(api.seen[0]?.headers['lambda-extension-name']).toBe('offload-shutdown');
    expect(JSON.parse(api.seen[0]?.body ?? '')).toEqual({ events: ['SHUTDOWN'] });
    expect(api.seen[1]?.headers['lambda-extension-identifier']).toBe('ext-id-1');
  });

  it('keeps waiting through other events', async () => {
    const api = await extensionsApi([{ eventType: 'INVOKE', requestId: 'r1' }, { eventType: 'SHUTDOWN', shutdownReason: 'timeout' }]);
    const { code } = await run({ AWS_LAMBDA_RUNTIME_API: api.address });
    expect(code).toBe(0);
    expect(api.seen.filter((s) => s.url.endsWith('/event/next'))).toHaveLength(2);
  });

  it('fails with one line when registration is refused or it is not in Lambda', async () => {
    const api = await extensionsApi([], 403);
    const refused = await run({ AWS_LAMBDA_RUNTIME_API: api.address });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^\[offload-shutdown\] register: HTTP 403 /);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    const outside = await run({});
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/AWS_LAMBDA_RUNTIME_API is not set/);
  });
});
