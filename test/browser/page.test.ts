import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { browserPages, buildBrowser } from '../../client/browser/build';
import { startE2EStack, type E2EStack } from '../e2e/stack-fixture';

/**
 * The demo page in headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against one local stack: served by the stack itself
 * (`npm start`'s /_local/demo/), and as static files from another origin
 * (a deployment's case: only the API URL, CORS on the API and the bucket).
 */
vi.setConfig({ testTimeout: 120_000 });

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MODEL = 'tinydag';
const CLOUD_CUT = 20;
const BURST_CUT = 10;

interface DemoState {
  backend: string | null;
  model: string | null;
  message: { kind: string; text: string };
  last: { cut: number; target: string; cold: boolean | null; fallback: { reason: string } | null; maxAbsDiff: number } | null;
  lastBurst: { target: string; fallback: { reason: string } | null; maxAbsDiff: number }[] | null;
}

let e2e: E2EStack;
let browser: Browser;
let statics: Server;
let staticOrigin: string;
let outDir: string;

const demo = (page: Page) =>
  page.evaluate(() => {
    const { backend, model, message, last, lastBurst } = (globalThis as unknown as { offloadDemo: DemoState }).offloadDemo;
    const brief = <T extends object | null>(r: T) => (r ? { ...r, output: undefined } : r);
    return { backend, model, message, last: brief(last), lastBurst: lastBurst?.map(brief) ?? null } as DemoState;
  });

/** Polls the page's state; an error line on the page ends the wait at once unless `pred` is waiting for one. */
async function until(page: Page, what: string, pred: (s: DemoState) => boolean, timeoutMs = 60_000): Promise<DemoState> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await demo(page);
    if (pred(s)) return s;
    if (s.message.kind === 'error' && !s.message.text.startsWith('burst') && !s.message.text.startsWith('fell back')) {
      throw new Error(`${what}: the page says "${s.message.text}"`);
    }
    if (Date.now() > end) throw new Error(`${what}: not reached in ${timeoutMs} ms; page says "${s.message.text}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * In the page, on its current backend: the loaded model's whole output and a batch norm with real statistics then
 * relu6 (the zoo's BN layers are freshly initialised: mean 0, variance 1), each against tfjs's cpu backend.
 */
function againstCpu(page: Page) {
  return page.evaluate(async () => {
    type Sdk = typeof import('../../client/browser/index');
    const page = globalThis as unknown as { location: { href: string }; offloadDemo: { device: import('../../client/browser/index').DeviceModel; backendChoice: { wasmKernels: boolean } } };
    // the page's own SDK module (the demo's tfjs engine); not `import()`, which vitest rewrites in this source
    const importInPage = new Function('url', 'return import(url)') as (url: string) => Promise<Sdk>;
    const { tf } = await importInPage(new URL('offload.js', page.location.href).href);
    const { device, backendChoice } = page.offloadDemo;
    const x = device.randomInput(3);
    // the block's inputs are made on each backend (seeded: the same values), not moved from one to the other
    const block = async () => {
      const y = tf.tidy(() => {
        const stats = (seed: number, lo: number, hi: number) => tf.randomUniform([24], lo, hi, 'float32', seed);
        const h = tf.randomUniform([1, 13, 11, 24], -8, 8, 'float32', 5);
        return tf.minimum(tf.relu(tf.batchNorm(h, stats(1, -2, 2), stats(2, 0.2, 3), stats(3, -1, 1), stats(4, 0.5, 2), 1e-3)), 6);
      });
      const data = await y.data();
      y.dispose();
      return data;
    };
    const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => (a.length !== b.length ? Infinity : Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0));
    const backend = tf.getBackend();
    const ours = { whole: (await device.runAll(x)).data, block: await block() };
    const weights = await Promise.all(device.model.getWeights().map(async (w) => ({ shape: w.shape, values: await w.data() })));
    x.dispose();
    // the reference: a copy of the model on the cpu backend (tfjs moves tensors between backends lazily, but what it
    // moved out of webgpu came back wrong in Chromium 156 on SwiftShader; so nothing is moved)
    await tf.setBackend('cpu');
    const copy = await tf.models.modelFromJSON(device.model.toJSON(undefined, false) as Parameters<typeof tf.models.modelFromJSON>[0]);
    const copied = weights.map((w) => tf.tensor(w.values, w.shape));
    copy.setWeights(copied);
    tf.dispose(copied);
    const xCpu = device.randomInput(3);
    const out = copy.predict(xCpu) as import('@tensorflow/tfjs').Tensor;
    const cpu = { whole: await out.data(), block: await block() };
    tf.dispose([xCpu, out]);
    copy.dispose();
    await tf.setBackend(backend);
    const clipped = Array.from(ours.block).filter((v) => v === 0 || v === 6).length;
    return { backend, kernels: backendChoice.wasmKernels, whole: maxAbs(ours.whole, cpu.whole), block: maxAbs(ours.block, cpu.block), size: ours.whole.length, clipped, blockSize: ours.block.length };
  });
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'offload-browser-'));
  const [stack, built] = await Promise.all([startE2EStack({ pages: browserPages({ outDir: join(outDir, 'stack') }) }), buildBrowser({ outDir: join(outDir, 'static') })]);
  e2e = stack;
  statics = createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0]!.slice(1) || 'index.html';
    if (!Object.hasOwn(built.files, name)) return void res.writeHead(404).end();
    const type = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' }[extname(name)] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(join(built.outDir, name)));
  });
  await new Promise<void>((r) => statics.listen(0, '127.0.0.1', r));
  staticOrigin = `http://127.0.0.1:${(statics.address() as AddressInfo).port}`;
  // webgl and WebGPU on SwiftShader where there is no GPU (Chromium offers them only when asked): the backend choice then has three candidates
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--enable-unsafe-webgpu'] });
});

afterAll(async () => {
  await browser?.close();
  statics?.closeAllConnections();
  await new Promise((r) => statics?.close(r));
  await e2e?.close();
  rmSync(outDir, { recursive: true, force: true });
});

describe('the demo page in headless Chromium', () => {
  it('is served by the local stack, picks a backend and loads the model from the presigned artifact URLs', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${e2e.stack.url}/_local/demo/?backend=wasm`);
      const s = await until(page, 'model loaded', (d) => d.model !== null);
      expect(s.backend).toBe('wasm');
      expect(s.message).toMatchObject({ kind: 'info' });
      expect(s.message.text).toMatch(/candidate cuts/);
    } finally {
      await page.close();
    }
  });

  it('from another origin: runs at a cloud cut matching the whole model, cold then warm', async () => {
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    try {
      await page.goto(`${staticOrigin}/index.html?api=${encodeURIComponent(e2e.stack.url)}&model=${MODEL}&backend=wasm&cut=${CLOUD_CUT}&network=wifi`);
      await until(page, 'model loaded', (d) => d.model === MODEL);
      await page.click('#plan');
      await until(page, 'plan shown', (d) => d.message.text.startsWith('plan:'));
      expect(await page.locator('#plan-table tr.chosen').count()).toBe(1);
      expect(await page.locator('#chart svg rect').count()).toBeGreaterThan(1);

      await page.click('#run');
      const first = (await until(page, 'first run', (d) => d.last !== null)).last!;
      expect(first, logs.join('\n')).toMatchObject({ cut: CLOUD_CUT, target: 'cloud', cold: true, fallback: null });
      expect(first.maxAbsDiff).toBeLessThanOrEqual(1e-4);
      expect(await page.locator('#result').innerText()).toContain('cold');

      await page.click('#run');
      const second = (await until(page, 'second run', (d) => d.last !== null && d.last.cold === false)).last!;
      expect(second).toMatchObject({ target: 'cloud', cold: false, fallback: null });
      expect(second.maxAbsDiff).toBeLessThanOrEqual(1e-4);
      if (process.env.OFFLOAD_SCREENSHOT) await page.screenshot({ path: process.env.OFFLOAD_SCREENSHOT, fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('with no backend asked for, times every candidate and keeps the fastest (wasm when webgl is software GL), and says why', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${staticOrigin}/index.html`);
      await until(page, 'a backend', (d) => d.backend !== null);
      const r = await page.evaluate(() => {
        const d = (globalThis as unknown as { offloadDemo: { backend: string; backendChoice: { reason: string; probe: { backend: string; ms: number }[]; wasmKernels: boolean } } }).offloadDemo;
        type Gl = { getExtension(n: string): { UNMASKED_RENDERER_WEBGL: number } | null; getParameter(p: number): unknown };
        const gl = (globalThis as unknown as { document: { createElement(t: 'canvas'): { getContext(k: 'webgl2'): Gl | null } } }).document.createElement('canvas').getContext('webgl2');
        const info = gl?.getExtension('WEBGL_debug_renderer_info');
        return { backend: d.backend, ...d.backendChoice, renderer: gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : null };
      });
      expect(r.probe.map((p) => p.backend).sort()).toEqual(['wasm', 'webgl', 'webgpu']);
      expect(r.probe.every((p) => p.ms > 0)).toBe(true);
      const fastest = r.probe.reduce((a, b) => (b.ms < a.ms ? b : a));
      expect(r.backend).toBe(fastest.backend);
      if (/swiftshader|llvmpipe|software/i.test(r.renderer ?? '')) expect(r.backend, `renderer ${r.renderer}`).toBe('wasm');
      expect(r.reason).toMatch(/^fastest in a timed probe \((webgpu|wasm|webgl) [\d.]+ ms(, (webgpu|wasm|webgl) [\d.]+ ms){2}\); cpu \(pure JavaScript\) not probed$/);
      expect(r.wasmKernels).toBe(true);
      expect(r.renderer, 'the renderer Chromium reports').not.toBeNull();
      expect(await page.locator('#backend').innerText()).toBe(r.backend);
      expect(await page.locator('#backend-why').innerText()).toContain(r.reason);

      // the next visit starts the probe's winner without probing again, and says so
      await page.goto(`${staticOrigin}/index.html`);
      await until(page, 'a remembered backend', (d) => d.backend !== null);
      const again = await page.evaluate(() => (globalThis as unknown as { offloadDemo: { backend: string; backendChoice: { reason: string; probe: { backend: string; ms: number }[]; rememberedFrom?: string } } }).offloadDemo);
      expect(again.backend).toBe(r.backend);
      expect(again.backendChoice.probe).toEqual(r.probe);
      expect(again.backendChoice.rememberedFrom).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(again.backendChoice.reason).toMatch(/^fastest in a timed probe on an earlier visit \((webgpu|wasm|webgl) [\d.]+ ms(, (webgpu|wasm|webgl) [\d.]+ ms){2}, \d{4}-[^)]*\); not probed again$/);
      expect(await page.locator('#backend-why').innerText()).toContain(again.backendChoice.reason);
      // a remembered answer that is not one (a hand edit, another version's shape) is ignored: the probe runs again
      await page.evaluate(() => {
        const ls = (globalThis as unknown as { localStorage: { length: number; key(i: number): string | null; setItem(k: string, v: string): void } }).localStorage;
        for (let i = 0; i < ls.length; i++) {
          const k = ls.key(i);
          if (k?.startsWith('offload.backendProbe:')) ls.setItem(k, '{"backend":"metal","probe":[],"at":"x"}');
        }
      });
      await page.goto(`${staticOrigin}/index.html`);
      await until(page, 'a probed backend', (d) => d.backend !== null);
      expect(await page.locator('#backend-why').innerText()).toMatch(/^fastest in a timed probe \(/);
      // `&remember=0` probes even with an answer stored
      await page.goto(`${staticOrigin}/index.html?remember=0`);
      await until(page, 'a probe on request', (d) => d.backend !== null);
      expect(await page.locator('#backend-why').innerText()).toMatch(/^fastest in a timed probe \(/);

      await page.goto(`${staticOrigin}/index.html?backend=webgl,wasm&pick=first`);
      const first = await until(page, 'the first candidate', (d) => d.backend !== null);
      expect(first.backend).toBe('webgl');
      expect(await page.locator('#backend-why').innerText()).toBe('the first candidate that starts');

      await page.goto(`${staticOrigin}/index.html?backend=metal`);
      const bad = await until(page, 'an unknown backend', (d) => d.message.kind === 'error', 20_000);
      expect(bad.message.text).toBe('backend: unknown backend "metal": choose from webgpu, webgl, wasm, cpu');
    } finally {
      await page.close();
    }
  });

  it('on wasm runs batch norm, relu and minimum on XNNPACK, and still matches tfjs\'s cpu backend within 1e-4', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${staticOrigin}/index.html?api=${encodeURIComponent(e2e.stack.url)}&model=${MODEL}&backend=wasm`);
      await until(page, 'model loaded', (d) => d.model === MODEL);
      const r = await againstCpu(page);
      expect(r).toMatchObject({ backend: 'wasm', kernels: true });
      expect(r.size).toBeGreaterThan(0);
      expect(r.whole).toBeLessThanOrEqual(1e-4);
      expect(r.block).toBeLessThanOrEqual(1e-4);
      // relu and relu6 bite: the block's values reach both clamps
      expect(r.clipped).toBeGreaterThan(0);
      expect(r.clipped).toBeLessThan(r.blockSize);
    } finally {
      await page.close();
    }
  });

  it('on WebGPU (SwiftShader here): matches tfjs\'s cpu backend within 1e-4 and runs at a cloud cut', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${staticOrigin}/index.html?api=${encodeURIComponent(e2e.stack.url)}&model=${MODEL}&backend=webgpu&cut=${CLOUD_CUT}`);
      await until(page, 'model loaded', (d) => d.model === MODEL);
      const r = await againstCpu(page);
      expect(r.backend).toBe('webgpu');
      expect(r.size).toBeGreaterThan(0);
      expect(r.whole).toBeLessThanOrEqual(1e-4);
      expect(r.block).toBeLessThanOrEqual(1e-4);
      await page.click('#run');
      const run = (await until(page, 'a run', (d) => d.last !== null)).last!;
      expect(run).toMatchObject({ cut: CLOUD_CUT, target: 'cloud', fallback: null });
      expect(run.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    } finally {
      await page.close();
    }
  });

  it('falls back on the device with the right output when a burst exceeds reserved concurrency', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${staticOrigin}/index.html?api=${encodeURIComponent(e2e.stack.url)}&model=${MODEL}&backend=wasm&cut=${BURST_CUT}`);
      await until(page, 'model loaded', (d) => d.model === MODEL);
      await page.fill('#burst', '6');
      await page.click('#run-burst');
      const burst = (await until(page, 'burst done', (d) => d.lastBurst !== null)).lastBurst!;
      expect(burst).toHaveLength(6);
      const throttled = burst.filter((r) => r.fallback?.reason === 'throttled');
      expect(throttled.length, JSON.stringify(burst)).toBeGreaterThan(0);
      expect(throttled.every((r) => r.target === 'device')).toBe(true);
      expect(burst.some((r) => r.target === 'cloud')).toBe(true);
      expect(Math.max(...burst.map((r) => r.maxAbsDiff))).toBeLessThanOrEqual(1e-4);
      expect(await page.locator('#message').innerText()).toContain('fell back (throttled)');
    } finally {
      await page.close();
    }
  });

  it('transfers page, SDK and tfjs in under 2 MiB before any weights, WebGPU chunk included where there is an adapter; none when wasm is forced', async () => {
    const firstLoad = async (query: string) => {
      const page = await browser.newPage();
      const sizes: Promise<{ name: string; bytes: number }>[] = [];
      page.on('requestfinished', (r) => sizes.push(r.sizes().then((s) => ({ name: new URL(r.url()).pathname, bytes: s.responseBodySize + s.responseHeadersSize }))));
      try {
        await page.goto(`${staticOrigin}/index.html${query}`);
        await until(page, 'a backend', (s) => s.backend !== null);
        await page.waitForLoadState('networkidle');
        const files = await Promise.all(sizes);
        return { names: files.map((f) => f.name.replace(/^\/(offload-\w+)-\w+\.js$/, '/$1.js')).sort(), bytes: files.reduce((s, f) => s + f.bytes, 0) };
      } finally {
        await page.close();
      }
    };
    // the default page starts every candidate: the largest case (one .wasm file, and the WebGPU backend's chunk)
    const all = await firstLoad('');
    expect(all.names).toEqual(['/demo.js', '/index.html', '/offload-chunk.js', '/offload-webgpu.js', '/offload.js', '/tfjs-backend-wasm-simd.wasm']);
    expect(all.bytes).toBeLessThanOrEqual(2 * 2 ** 20);
    // the SDK and the chunk it shares with the WebGPU backend; not that backend's own chunk
    const wasm = await firstLoad('?backend=wasm');
    expect(wasm.names).toEqual(['/demo.js', '/index.html', '/offload-chunk.js', '/offload.js', '/tfjs-backend-wasm-simd.wasm']);
  });

  it('says in one line what is wrong with the API URL or the model, never hanging', async () => {
    const page = await browser.newPage();
    try {
      const cases: [string, RegExp][] = [
        [`api=not%20a%20url`, /^API: "not a url" is not a URL/],
        [`api=${encodeURIComponent('http://127.0.0.1:1')}`, /^API: cannot reach the API/],
        [`api=${encodeURIComponent(staticOrigin)}`, /^API: GET \/models: HTTP 404/],
        [`api=${encodeURIComponent(e2e.stack.url)}&model=nope`, /^API: model "nope" is not listed by the API \(listed: tinychain, tinydag\)/],
      ];
      for (const [query, expected] of cases) {
        await page.goto(`${staticOrigin}/index.html?backend=wasm&timeoutMs=5000&${query}`);
        const s = await until(page, query, (d) => d.message.kind === 'error', 20_000);
        expect(s.message.text, query).toMatch(expected);
        expect(s.message.text).not.toContain('\n');
        expect(await page.locator('#message').getAttribute('class')).toBe('error');
      }
    } finally {
      await page.close();
    }
  });
});
