/**
 * The browser as a device, measured in one run (issue 12's figures):
 *
 * 1. First load: what the demo page transfers before any model weights (page,
 *    SDK bundle, tfjs, the wasm binary), counted by Chromium per response,
 *    with the gzip size each file would have (the local server does not
 *    compress; a CDN would).
 *    The default page picks its backend by a timed probe: which, why, how long.
 * 2. MobileNetV2's head to its middle deployed cut in headless Chromium
 *    (wasm with the XNNPACK kernels of models/wasm-kernels.ts and with tfjs's
 *    own; webgl and webgpu where the browser offers them) vs the same head in Node
 *    (this process, the CLI's backend): median of `runs` after two warm-ups;
 *    the ratio browser/Node.
 * 3. Browser end-to-end at that cut with the tail warm (SDK collaborativeInfer
 *    in the page, measured.totalMs) vs `offload infer --cut` (a real CLI
 *    process per run, its --json measured.totalMs), and vs the Node client
 *    in-process (collaborativeInfer, warm): the ratios.
 *
 * One local stack (MobileNetV2 only), Debian's chromium via playwright-core
 * (as test/browser/page.test.ts). Timing: run it through
 * /work/notes/bin/quiet-run and record the load average it prints.
 *
 *   npx tsx bench/browser.ts [--runs N] [--cut C] [--json]
 */
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { OffloadApi } from '../client/api';
import { DeviceModel } from '../client/device';
import { collaborativeInfer } from '../client/infer';
import { buildBrowser } from '../client/browser/build';
import { initBackend, wasmThreads } from '../models/backend';
import { startLocalStack } from '../local/stack';
import { formatTable, isMain, median, parseArgsOrExit } from './report';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MODEL = 'mobilenetv2';
/** The same plan request from every client (the cut is forced; the plan only gives the prediction). */
const REQUEST = { device: 'flagship-phone', network: 'wifi' } as const;
/** Head runs in Chromium: backend forced, extra page parameters (the wasm run with tfjs's own scalar kernels shows what models/wasm-kernels.ts buys). */
const HEAD_CASES: [string, string][] = [
  ['wasm', ''],
  ['wasm', 'wasmKernels=0'],
  ['webgl', ''],
  ['webgpu', ''],
];
const HEAD_VARIANTS: Record<string, string> = { 'wasmKernels=0': "tfjs's scalar batch norm/relu/minimum" };

export interface BrowserBenchReport {
  load: string;
  firstLoad: {
    files: { name: string; bytes: number; gzipBytes: number }[];
    transferredBytes: number;
    gzipBytes: number;
    /** Without the WebGPU backend's chunk: what a browser without a WebGPU adapter loads. */
    withoutWebGpuBytes: number;
    backend: string;
  };
  cut: number;
  layers: number;
  head: { node: { backend: string; threads: number | null; medianMs: number }; browser: { backend: string; variant: string; medianMs: number; ratioToNode: number }[] };
  /** What the page picks by default (the timed probe), and why. */
  defaultChoice: { backend: string; reason: string; pickMs: number };
  /** The next visit to the same page (same browser profile): the remembered choice. */
  revisitChoice: BrowserBenchReport['defaultChoice'];
  endToEnd: { browserMs: number; cliMs: number; nodeClientMs: number; browserToCli: number; browserToNodeClient: number; browserBackend: string };
  runs: number;
}

function loadAvg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** What the page evaluates: the SDK from the page's own origin, a model from the API, timed head runs and collaborative runs. */
interface PageResult {
  backend: string;
  headMs: number[];
  e2e: { totalMs: number; target: string; cold: boolean | null; fallback: string | null }[];
}

/** Waits for the demo page to have chosen its backend, and reads the choice and how long it took. */
async function backendChoiceOf(page: Page): Promise<BrowserBenchReport['defaultChoice']> {
  await page.waitForFunction(() => (globalThis as unknown as { offloadDemo?: { backend: string | null } }).offloadDemo?.backend != null, undefined, { timeout: 60_000 });
  return page.evaluate(() => {
    const d = (globalThis as unknown as { offloadDemo: { backend: string; backendChoice: { reason: string }; backendMs: number } }).offloadDemo;
    return { backend: d.backend, reason: d.backendChoice.reason, pickMs: d.backendMs };
  });
}

async function inPage(page: Page, api: string, cut: number, runs: number, e2e: boolean): Promise<PageResult> {
  return page.evaluate(
    async ({ api, cut, runs, e2e, request, model }) => {
      const sdk = (await import(new URL('offload.js', (globalThis as unknown as { location: { href: string } }).location.href).href)) as typeof import('../client/browser/index');
      const off = new sdk.OffloadApi({ baseUrl: api, timeoutMs: 60_000 });
      const device = await sdk.loadDeviceModel(sdk.catalogEntry(await off.models(), model));
      const x = device.randomInput(1);
      const headMs: number[] = [];
      for (let i = 0; i < runs + 2; i++) {
        const t0 = performance.now();
        await device.runHead(cut, x);
        if (i >= 2) headMs.push(performance.now() - t0);
      }
      const out: PageResult['e2e'] = [];
      // first call warms the tail (cold), the rest are warm
      for (let i = 0; e2e && i < runs + 1; i++) {
        const r = await sdk.collaborativeInfer({ api: off, device, input: x, cut, request });
        out.push({ totalMs: r.measured.totalMs, target: r.target, cold: r.cold, fallback: r.fallback ? `${r.fallback.reason}: ${r.fallback.message}` : null });
      }
      return { backend: sdk.tf.getBackend(), headMs, e2e: out };
    },
    { api, cut, runs, e2e, request: REQUEST, model: MODEL },
  );
}

function runCli(url: string, cut: number): Promise<{ totalMs: number; target: string; cold: boolean | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/offload.js', 'infer', '--url', url, '--model', MODEL, '--cut', String(cut), '--device', REQUEST.device, '--network', REQUEST.network, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`offload infer exited ${code}: ${err.trim().split('\n').at(-1)}`));
      const r = JSON.parse(out) as { measured: { totalMs: number }; target: string; cold: boolean | null };
      resolve({ totalMs: r.measured.totalMs, target: r.target, cold: r.cold });
    });
  });
}

export async function runBrowserBench(opts: { runs?: number; cut?: number; log?: (line: string) => void } = {}): Promise<BrowserBenchReport> {
  const runs = opts.runs ?? 10;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loadStart = loadAvg();
  const outDir = mkdtempSync(join(tmpdir(), 'offload-bench-browser-'));
  const built = await buildBrowser({ outDir });
  const statics = createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0]!.slice(1) || 'index.html';
    if (!Object.hasOwn(built.files, name)) return void res.writeHead(404).end();
    const type = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' }[extname(name)] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(join(built.outDir, name)));
  });
  await new Promise<void>((r) => statics.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(statics.address() as AddressInfo).port}`;
  log('starting the local stack (MobileNetV2)…');
  const stack = await startLocalStack({ port: 0, logs: 'ignore', stateDir: '.offload/bench-browser', models: [MODEL], onStep: log });
  let browser: Browser | undefined;
  try {
    const deployedCuts = stack.tails.filter((t) => t.model === MODEL).map((t) => t.cut);
    await initBackend();
    const node = await DeviceModel.load(MODEL);
    const layers = node.layerCount;
    // the middle cut: the deployed cut nearest half the layers (MobileNetV2: 63 of 157)
    const cut = opts.cut ?? deployedCuts.filter((c) => c > 0).reduce((a, b) => (Math.abs(b - layers / 2) < Math.abs(a - layers / 2) ? b : a));
    if (!deployedCuts.includes(cut)) throw new Error(`cut ${cut} is not deployed (deployed: ${deployedCuts.join(', ')})`);

    // webgl and WebGPU on SwiftShader (no GPU here): Chromium offers them only when asked
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--enable-unsafe-webgpu'] });

    // 1. first load as a user gets it (no parameters: every candidate starts, the probe picks), which also loads the .wasm
    log('first load…');
    const first = await browser.newPage();
    const responses: Promise<{ name: string; bytes: number }>[] = [];
    first.on('requestfinished', (r) => responses.push(r.sizes().then((s) => ({ name: new URL(r.url()).pathname.slice(1), bytes: s.responseBodySize + s.responseHeadersSize }))));
    await first.goto(`${origin}/index.html`);
    const defaultChoice = await backendChoiceOf(first);
    await first.waitForLoadState('networkidle');
    const firstBackend = defaultChoice.backend;
    const files = (await Promise.all(responses)).map((f) => ({ ...f, gzipBytes: Object.hasOwn(built.files, f.name) ? gzipSync(readFileSync(join(built.outDir, f.name))).length : f.bytes }));
    // the same user's next visit: the SDK starts the remembered winner instead of probing again
    await first.goto(`${origin}/index.html`);
    const revisitChoice = await backendChoiceOf(first);
    await first.close();

    // 2. head in Node (this process), same cut, same number of runs
    log(`head to cut ${cut} of ${layers} in Node…`);
    const x = node.randomInput(1);
    const nodeHead: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const t0 = performance.now();
      await node.runHead(cut, x);
      if (i >= 2) nodeHead.push(performance.now() - t0);
    }
    const nodeMedian = median(nodeHead);

    // 2+3. head in Chromium per backend; end-to-end in the wasm page
    const browserHeads: BrowserBenchReport['head']['browser'] = [];
    let pageE2e: PageResult['e2e'] = [];
    let e2eBackend = '';
    for (const [backend, query] of HEAD_CASES) {
      log(`head to cut ${cut} in Chromium (${backend}${query ? `, ${query}` : ''})…`);
      const page = await browser.newPage();
      await page.goto(`${origin}/index.html?backend=${backend}${query ? `&${query}` : ''}`);
      const chosen = await page.waitForFunction(
        () => {
          const d = (globalThis as unknown as { offloadDemo?: { backend: string | null; message: { kind: string; text: string } } }).offloadDemo;
          return d && (d.backend ?? (d.message.kind === 'error' ? `error: ${d.message.text}` : null));
        },
        undefined,
        { timeout: 60_000 },
      );
      const name = String(await chosen.jsonValue());
      if (name !== backend) {
        log(`  ${backend} is not available in this Chromium (${name}); skipped`);
        await page.close();
        continue;
      }
      const e2eHere = backend === 'wasm' && query === '';
      const r = await inPage(page, stack.url, cut, runs, e2eHere);
      browserHeads.push({ backend: r.backend, variant: query ? HEAD_VARIANTS[query]! : r.backend === 'wasm' ? 'XNNPACK batch norm/relu/minimum' : '', medianMs: median(r.headMs), ratioToNode: median(r.headMs) / nodeMedian });
      if (e2eHere) {
        pageE2e = r.e2e;
        e2eBackend = r.backend;
      }
      await page.close();
    }
    const warmPage = pageE2e.slice(1);
    const bad = warmPage.find((r) => r.target !== 'cloud' || r.cold !== false);
    if (bad) throw new Error(`a browser run was not a warm cloud run: ${JSON.stringify(bad)}`);

    // 3. the Node client in-process, then the CLI (a process per run), same cut, tail warm
    log('end to end: Node client and offload infer…');
    const api = new OffloadApi({ baseUrl: stack.url, timeoutMs: 60_000 });
    const nodeE2e: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const r = await collaborativeInfer({ api, device: node, input: x, cut, request: REQUEST });
      if (i > 0) {
        if (r.target !== 'cloud' || r.cold !== false) throw new Error(`a Node client run was not a warm cloud run (${r.target}, cold ${r.cold})`);
        nodeE2e.push(r.measured.totalMs);
      }
    }
    const cli: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await runCli(stack.url, cut);
      if (r.target !== 'cloud' || r.cold !== false) throw new Error(`an offload infer run was not a warm cloud run (${r.target}, cold ${r.cold})`);
      cli.push(r.totalMs);
    }
    x.dispose();
    node.dispose();
    const browserMs = median(warmPage.map((r) => r.totalMs));
    const report: BrowserBenchReport = {
      load: `${loadStart} → ${loadAvg()}`,
      firstLoad: {
        files,
        transferredBytes: files.reduce((s, f) => s + f.bytes, 0),
        gzipBytes: files.reduce((s, f) => s + f.gzipBytes, 0),
        withoutWebGpuBytes: files.filter((f) => !f.name.startsWith('offload-webgpu-')).reduce((s, f) => s + f.bytes, 0),
        backend: firstBackend,
      },
      defaultChoice,
      revisitChoice,
      cut,
      layers,
      head: { node: { backend: 'wasm', threads: wasmThreads()?.threads ?? null, medianMs: nodeMedian }, browser: browserHeads },
      endToEnd: {
        browserMs,
        cliMs: median(cli),
        nodeClientMs: median(nodeE2e),
        browserToCli: browserMs / median(cli),
        browserToNodeClient: browserMs / median(nodeE2e),
        browserBackend: e2eBackend,
      },
      runs,
    };
    return report;
  } finally {
    await browser?.close();
    await stack.close();
    statics.closeAllConnections();
    await new Promise((r) => statics.close(r));
    rmSync(outDir, { recursive: true, force: true });
  }
}

function kib(n: number): string {
  return (n / 1024).toFixed(1);
}

export function formatBrowserBench(r: BrowserBenchReport): string {
  const MiB = 2 ** 20;
  const lines = [
    `load average (1/5/15 min) ${r.load}; ${r.runs} runs each, medians`,
    '',
    `First load before weights (default page, picked ${r.firstLoad.backend}): ${kib(r.firstLoad.transferredBytes)} KiB transferred (${(r.firstLoad.transferredBytes / MiB).toFixed(2)} MiB; target ≤ 2 MiB), ${kib(r.firstLoad.gzipBytes)} KiB if gzipped; ${(r.firstLoad.withoutWebGpuBytes / MiB).toFixed(2)} MiB without a WebGPU adapter`,
    formatTable(
      ['file', 'KiB', 'gzip KiB'],
      r.firstLoad.files.map((f) => [f.name, kib(f.bytes), kib(f.gzipBytes)]),
    ),
    `Default backend choice: ${r.defaultChoice.backend} in ${r.defaultChoice.pickMs.toFixed(0)} ms: ${r.defaultChoice.reason}`,
    `Next visit: ${r.revisitChoice.backend} in ${r.revisitChoice.pickMs.toFixed(0)} ms: ${r.revisitChoice.reason}`,
    '',
    `MobileNetV2 head to cut ${r.cut} of ${r.layers}:`,
    formatTable(
      ['where', 'backend', 'median ms', 'ratio to Node'],
      [
        ['Node', `${r.head.node.backend}${r.head.node.threads ? `, ${r.head.node.threads} thread(s)` : ''}`, r.head.node.medianMs.toFixed(1), '1.00'],
        ...r.head.browser.map((b) => ['Chromium', `${b.backend}${b.variant ? ` (${b.variant})` : ''}`, b.medianMs.toFixed(1), b.ratioToNode.toFixed(2)]),
      ],
    ),
    '',
    `End to end at cut ${r.cut}, tail warm (measured.totalMs):`,
    formatTable(
      ['client', 'median ms', 'browser ÷ it'],
      [
        [`browser SDK (${r.endToEnd.browserBackend})`, r.endToEnd.browserMs.toFixed(1), '1.00'],
        ['offload infer (a process per run)', r.endToEnd.cliMs.toFixed(1), r.endToEnd.browserToCli.toFixed(2)],
        ['Node client, in-process', r.endToEnd.nodeClientMs.toFixed(1), r.endToEnd.browserToNodeClient.toFixed(2)],
      ],
    ),
    `target: browser within 1.2× of offload infer → ${r.endToEnd.browserToCli <= 1.2 ? 'met' : 'NOT met'}`,
  ];
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const values = parseArgsOrExit({ options: { runs: { type: 'string' }, cut: { type: 'string' }, json: { type: 'boolean' } } }, 'npx tsx bench/browser.ts [--runs N] [--cut C] [--json]');
  const r = await runBrowserBench({
    ...(values.runs ? { runs: Number(values.runs) } : {}),
    ...(values.cut ? { cut: Number(values.cut) } : {}),
  });
  console.log(values.json ? JSON.stringify(r, null, 2) : formatBrowserBench(r));
  process.exit(0);
}
