/**
 * Lambda emulator overhead (issue 5): a warm invocation through the emulator
 * against calling the same handler in this process — p50 difference, target
 * ≤ 2 ms. The emulator path includes what a real one must do: serialise the
 * event, hand it to the environment process over IPC, parse it there, run
 * the handler, serialise the result and carry it back. The same is measured
 * through the HTTP server (Invoke API and an HTTP API route, with fetch as
 * the client), where the HTTP round trip adds to it.
 *
 * For the HTTP paths the baseline is a bare node HTTP server that reads the
 * same body and answers a small JSON, so the figure is what the emulator adds
 * on top of the HTTP round trip any server pays.
 *
 * Two events: a small API Gateway event (1 KB JSON body) and one carrying a
 * 256 KB binary body (base64 in the event, as a crossing tensor arrives).
 *
 * Run alone with `npx tsx bench/emulator.ts`, or call {@link runEmulatorBench}.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { eventJsonBytes } from '../local/apigw';
import { LambdaEmulator } from '../local/emulator';
import { startLocalServer } from '../local/server';
import { formatResults, isMain, quantile, type BenchResult } from './report';

export interface EmulatorBenchOptions {
  /** Timed invocations per path and event (default 400). */
  samples?: number;
  /** Untimed invocations first (default 50). */
  warmup?: number;
  log?: (line: string) => void;
}

const TARGET_OVERHEAD_MS = 2;
const HANDLERS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../test/local/fixtures/handlers');

type Handler = (event: unknown, context: object) => Promise<unknown>;

async function time(samples: number, warmup: number, once: () => Promise<unknown>): Promise<{ p50: number; p90: number }> {
  for (let i = 0; i < warmup; i++) await once();
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await once();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: quantile(ms, 0.5), p90: quantile(ms, 0.9) };
}

function apiEvent(body: string, isBase64Encoded: boolean): Record<string, unknown> {
  return {
    action: 'ack',
    version: '2.0',
    routeKey: 'POST /infer/{model}/{cut}',
    rawPath: '/infer/mobilenetv2/40',
    rawQueryString: '',
    headers: { 'content-type': isBase64Encoded ? 'application/vnd.offload.tensors' : 'application/json', host: 'localhost' },
    requestContext: { http: { method: 'POST', path: '/infer/mobilenetv2/40' }, requestId: 'r', timeEpoch: Date.now() },
    pathParameters: { model: 'mobilenetv2', cut: '40' },
    body,
    isBase64Encoded,
  };
}

/** Measures and returns one result per (path, event); logs progress lines. */
export async function runEmulatorBench(options: EmulatorBenchOptions = {}): Promise<BenchResult[]> {
  const samples = options.samples ?? 400;
  const warmup = options.warmup ?? 50;
  const log = options.log ?? (() => undefined);
  const mod = (await import(pathToFileURL(resolve(HANDLERS, 'index.mjs')).href)) as { handler: Handler; ack: Handler };
  const context = { functionName: 'bench', awsRequestId: 'r', getRemainingTimeInMillis: () => 3000 };

  const emulator = new LambdaEmulator({
    logs: 'ignore',
    functions: [
      { name: 'bench', handler: 'index.handler', codeDir: HANDLERS, timeoutS: 30 },
      { name: 'bench-api', handler: 'index.ack', codeDir: HANDLERS, timeoutS: 30 },
    ],
  });
  const server = await startLocalServer({
    emulator,
    routes: [{ apiId: 'bench', routeKey: 'POST /infer/{model}/{cut}', method: 'POST', path: '/infer/{model}/{cut}', functionName: 'bench-api', payloadFormatVersion: '2.0', timeoutMs: 30_000 }],
  });
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ack":true,"invocations":1}'));
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  const results: BenchResult[] = [];
  try {
    const events = [
      { label: '1 KB JSON body', event: apiEvent(JSON.stringify({ data: 'x'.repeat(1000) }), false), raw: Buffer.from(JSON.stringify({ data: 'x'.repeat(1000) })), type: 'application/json' },
      (() => {
        const bytes = randomBytes(256 * 1024);
        return { label: '256 KB binary body', event: apiEvent(bytes.toString('base64'), true), raw: bytes, type: 'application/vnd.offload.tensors' };
      })(),
    ];
    for (const { label, event, raw, type } of events) {
      const inProcess = await time(samples, warmup, () => mod.handler(event, context));
      log(`in-process ${label}: p50 ${inProcess.p50.toFixed(3)} ms`);
      const payload = JSON.stringify(event);
      const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) => async () =>
        (await fetch(url, { method: 'POST', body, headers })).arrayBuffer();
      const bareInvoke = await time(samples, warmup, post(bareUrl, payload));
      const bareRoute = await time(samples, warmup, post(bareUrl, raw, { 'content-type': type }));
      log(`bare HTTP server ${label}: p50 ${bareInvoke.p50.toFixed(3)} / ${bareRoute.p50.toFixed(3)} ms`);
      const paths: [string, () => Promise<unknown>, { p50: number; p90: number }, string][] = [
        ['emulator.invoke (JSON text)', () => emulator.invoke('bench', JSON.stringify(event)), inProcess, 'the handler called in process'],
        [
          'emulator.invokeEvent (value)',
          () => emulator.invokeEvent('bench', event, { sizeBytes: eventJsonBytes(event as unknown as APIGatewayProxyEventV2) }),
          inProcess,
          'the handler called in process',
        ],
        [
          'HTTP Invoke API (fetch)',
          post(`${server.url}/2015-03-31/functions/bench/invocations`, payload),
          bareInvoke,
          'a bare HTTP server (same body, fetch)',
        ],
        [
          'HTTP API route (fetch)',
          post(`${server.url}/infer/mobilenetv2/40`, raw, { 'content-type': type }),
          bareRoute,
          'a bare HTTP server (same body, fetch)',
        ],
      ];
      for (const [path, once, baseline, baselineName] of paths) {
        const t = await time(samples, warmup, once);
        const overhead = t.p50 - baseline.p50;
        log(`${path} ${label}: p50 ${t.p50.toFixed(3)} ms`);
        results.push({
          name: `warm ${path}, ${label}: overhead p50`,
          value: overhead,
          unit: 'ms',
          target: TARGET_OVERHEAD_MS,
          ratio: TARGET_OVERHEAD_MS / Math.max(overhead, 1e-3),
          met: overhead <= TARGET_OVERHEAD_MS,
          detail:
            `p50 ${t.p50.toFixed(3)} ms (p90 ${t.p90.toFixed(3)}) over ${baselineName}: p50 ${baseline.p50.toFixed(3)} ms ` +
            `(p90 ${baseline.p90.toFixed(3)}); ratio of p50s ${(t.p50 / Math.max(baseline.p50, 1e-3)).toFixed(1)}; ${samples} samples`,
        });
      }
    }
    const stats = emulator.stats().functions;
    const colds = stats.reduce((n, f) => n + f.coldStarts, 0);
    if (colds !== 2) throw new Error(`expected one cold start per function, saw ${colds}: the figures would include cold starts`);
  } finally {
    await new Promise<void>((r) => {
      bare.close(() => r());
      bare.closeAllConnections();
    });
    await server.close();
    await emulator.close();
  }
  return results;
}

/** Alias: the bench's run function. */
export const run = runEmulatorBench;

if (isMain(import.meta.url)) {
  const [load1] = loadavg();
  process.stdout.write(
    `Lambda emulator overhead bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
      `load average ${load1?.toFixed(2)} at start (figures rise when other work shares the cores)\n`,
  );
  const results = await runEmulatorBench({ log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${formatResults(results)}\n`);
  for (const r of results) process.stdout.write(`  ${r.name}: ${r.detail}\n`);
}
