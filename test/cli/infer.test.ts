import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { offload } from './spawn-offload';

// This file builds models and waits on a planner that does not answer: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('offload infer (bad input and an unreachable API)', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offload-infer-cli-'));
    url = `http://127.0.0.1:${await closedPort()}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finishes on the device and says why when the API cannot be reached', async () => {
    const r = await offload(['infer', '--url', url, '--model', 'tinychain', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { target: string; cut: number; fallback: { reason: string; message: string } | null; output: { shape: number[] } };
    expect(out.target).toBe('device');
    expect(out.fallback?.reason).toBe('network');
    expect(out.fallback?.message).toMatch(/POST \/plan/);
    expect(out.output.shape).toEqual([1, 10]);
  });

  it.each([
    [['--cut', '-1'], /--cut must be a non-negative integer/],
    [['--timeout-ms', '0'], /--timeout-ms must be a positive integer/],
    [['--battery', '1.5'], /--battery must be a level in 0\.\.1/],
    [['--dtype', 'int4'], /--dtype/],
  ])('rejects %j as a usage error', async (extra, message) => {
    const r = await offload(['infer', '--url', url, '--model', 'tinychain', ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names a bad --input file in one line', async () => {
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, '[1, 2, 3]');
    const r = await offload(['infer', '--url', url, '--model', 'tinychain', '--input', wrong]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^offload: --input: has 3 values; the model input \[16, 16, 3\] needs 768$/);
  });

  it('rejects a cut that is not a candidate, listing the candidates', async () => {
    // tinydag's candidates are 0–3, 9, 10, 19, 20, 26, 27: cut 5 sits inside a residual block
    const r = await offload(['infer', '--url', url, '--model', 'tinydag', '--cut', '5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^offload: cut 5 is not a candidate of tinydag \(candidates: 0, 1, 2, 3, 9, /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('with --cut, still tries the tail when the planner is unreachable, and falls back when the tail is too', async () => {
    const r = await offload(['infer', '--url', url, '--model', 'tinydag', '--cut', '9', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { cut: number; target: string; fallback: { reason: string; message: string } | null };
    expect(out.cut).toBe(9);
    expect(out.target).toBe('device');
    expect(out.fallback?.reason).toBe('network');
    expect(out.fallback?.message).toMatch(/POST \/infer\/tinydag\/9/);
  });

  it('refuses a --url without a scheme as a usage error, suggesting the URL it meant', async () => {
    const r = await offload(['infer', '--url', '127.0.0.1:3017', '--model', 'tinychain']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--url must be an http\(s\) URL \(got "127\.0\.0\.1:3017"\); did you mean http:\/\/127\.0\.0\.1:3017\?/);
    const other = await offload(['infer', '--url', 'ftp://host', '--model', 'tinychain']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--url must be an http\(s\) URL \(got "ftp:\/\/host"\)/);
  });

  it.each([
    // API Gateway's own refusal of an unsigned (or not allowed) request: a message and no code
    [403, { message: 'Forbidden' }, 'POST /plan: HTTP 403: Forbidden (a deployed API needs --sigv4 <region> and credentials allowed by its ClientPolicy)'],
    // the planner's refusal: its code and message
    [400, { code: 'invalid-input', message: 'network.uplinkMbps: must be > 0', field: 'network.uplinkMbps' }, 'POST /plan: HTTP 400 invalid-input: network.uplinkMbps: must be > 0'],
  ])('prints an API refusal (HTTP %i) in one line naming its code and message, exit 1', async (status, body, line) => {
    // Prepare: a real HTTP server that refuses every request the way the API would
    const server = createHttpServer((_req, res) => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const api = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      // Act
      const r = await offload(['infer', '--url', api, '--model', 'tinychain']);
      // Assess
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(`offload: the API refused the request: ${line}`);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(r.stdout).toBe('');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('says a model is not deployed in one line, listing what is (GET /models)', async () => {
    // Prepare: an API whose planner knows no such model and whose catalog is empty
    const server = createHttpServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/plan') return void res.writeHead(404).end(JSON.stringify({ code: 'not-found', message: 'model "tinychain" is not deployed (deployed: )' }));
      if (req.url === '/models') return void res.writeHead(200).end(JSON.stringify({ models: [] }));
      res.writeHead(404).end(JSON.stringify({ code: 'not-found', message: 'no route' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const api = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      // Act
      const r = await offload(['infer', '--url', api, '--model', 'tinychain']);
      // Assess
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(`offload: model "tinychain" is not deployed at ${api}; deployed: nothing`);
      expect(r.stderr).not.toMatch(/unexpected error/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
