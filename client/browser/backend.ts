/**
 * Picks the tfjs backend a page runs its head on: webgpu (loaded only where
 * the browser has an adapter), webgl, wasm, or cpu. A fixed order (webgl, then
 * wasm) is right with a GPU and wrong without one: Chromium then offers webgl
 * on SwiftShader, a software GL, 14× slower than wasm on MobileNetV2's head
 * (docs/browser.md). So by default every candidate that starts runs the same
 * short timed probe (one MobileNetV2-style inverted-residual block) and the
 * fastest is kept; the answer says which, and why, with the times. The
 * answer is remembered in localStorage, so a later visit starts that backend
 * without probing again (option `remember`).
 *
 * On wasm, the scalar batch norm, relu and minimum kernels are replaced by
 * XNNPACK ones (models/wasm-kernels.ts, as in Node): MobileNetV2's head to
 * its middle cut in Chromium went from 23.3 to 17.3 ms (fused, one run).
 */
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { quantile } from '../../core/predictor';
import * as tf from '../../models/tfjs';
import { installWasmKernels, restoreWasmKernels, wasmKernelsInstalled } from '../../models/wasm-kernels';

export const BROWSER_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BrowserBackend = (typeof BROWSER_BACKENDS)[number];

export interface BrowserBackendOptions {
  /** Backends to consider, in order of preference (default: all of {@link BROWSER_BACKENDS}); one name forces it. */
  candidates?: readonly BrowserBackend[];
  /**
   * `fastest` (default): time a short probe on each candidate that starts and keep the fastest
   * (cpu, pure JavaScript, is probed only when nothing else starts); `first`: the first that starts.
   */
  pick?: 'fastest' | 'first';
  /** On wasm, run batch norm, relu and minimum on XNNPACK (models/wasm-kernels.ts). Default true. */
  wasmKernels?: boolean;
  /**
   * `fastest` only: keep the probe's answer in `localStorage` (per origin, browser and options) and
   * start the remembered backend on the next visit instead of probing again (a probe of every
   * candidate takes seconds: 3.4 s in headless Chromium, docs/browser.md). The probe runs again when
   * the remembered backend no longer starts. Default true; false always probes and stores nothing.
   */
  remember?: boolean;
}

export interface BackendChoice {
  backend: BrowserBackend;
  /** Why this one, in one line (the probe times when there was a probe). */
  reason: string;
  /** Median probe time per candidate probed, fastest first; empty when nothing was timed. */
  probe: { backend: BrowserBackend; ms: number }[];
  /** Candidates that did not start, and why. */
  skipped: { backend: BrowserBackend; reason: string }[];
  /** Whether the XNNPACK batch norm / relu / minimum kernels are in place (wasm only). */
  wasmKernels: boolean;
  /** When the answer is an earlier visit's probe ({@link BrowserBackendOptions.remember}): when that probe ran (ISO time); `probe` holds its times. */
  rememberedFrom?: string;
}

/** One choice per page: later calls with the same options get the same answer without probing again. */
let cached: { key: string; choice: Promise<BackendChoice> } | undefined;

/**
 * Initialises the backend the options ask for (see the module comment) and
 * makes it tfjs's current backend.
 *
 * @param wasmBase URL of the folder holding tfjs-backend-wasm's `.wasm` files (the bundle ships them beside itself).
 * @example
 * const { backend, reason } = await initBrowserBackend(new URL('./', import.meta.url).href);
 */
export function initBrowserBackend(wasmBase: string, opts: BrowserBackendOptions = {}): Promise<BackendChoice> {
  const candidates = opts.candidates ?? BROWSER_BACKENDS;
  const unknown = candidates.filter((c) => !(BROWSER_BACKENDS as readonly string[]).includes(c));
  if (candidates.length === 0 || unknown.length > 0) {
    return Promise.reject(new Error(`unknown backend ${unknown.map((u) => `"${u}"`).join(', ') || '(none given)'}: choose from ${BROWSER_BACKENDS.join(', ')}`));
  }
  const key = JSON.stringify([wasmBase, candidates, opts.pick ?? 'fastest', opts.wasmKernels ?? true, opts.remember ?? true]);
  if (cached?.key === key) return cached.choice;
  const choice = choose(wasmBase, candidates, opts.pick ?? 'fastest', opts.wasmKernels ?? true, opts.remember ?? true);
  cached = { key, choice };
  choice.catch(() => {
    if (cached?.choice === choice) cached = undefined;
  });
  return choice;
}

async function choose(wasmBase: string, candidates: readonly BrowserBackend[], pick: 'fastest' | 'first', kernels: boolean, remember: boolean): Promise<BackendChoice> {
  setWasmPaths(wasmBase.endsWith('/') ? wasmBase : `${wasmBase}/`);
  const memoryKey = remember && pick === 'fastest' && candidates.length > 1 ? probeMemoryKey(wasmBase, candidates, kernels) : undefined;
  const earlier = memoryKey === undefined ? undefined : recall(memoryKey);
  if (earlier && (await start(earlier.backend, kernels)) === null) {
    return {
      backend: earlier.backend,
      reason: `fastest in a timed probe on an earlier visit (${probeTimes(earlier.probe)}, ${earlier.at}); not probed again`,
      probe: earlier.probe,
      skipped: [],
      wasmKernels: wasmKernelsInstalled(),
      rememberedFrom: earlier.at,
    };
  }
  const skipped: BackendChoice['skipped'] = [];
  const started: BrowserBackend[] = [];
  for (const backend of candidates) {
    if (backend === 'cpu' && pick === 'fastest' && started.length > 0) continue;
    const problem = await start(backend, kernels);
    if (problem === null) {
      started.push(backend);
      if (pick === 'first' || candidates.length === 1) break;
    } else {
      skipped.push({ backend, reason: problem });
    }
  }
  if (started.length === 0) throw new Error(`no tfjs backend works here (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`);
  const wasmKernels = wasmKernelsInstalled();
  if (started.length === 1) {
    const backend = started[0]!;
    await start(backend, kernels);
    const why = candidates.length === 1 ? 'the only candidate' : pick === 'first' ? 'the first candidate that starts' : 'the only candidate that starts';
    return { backend, reason: why + skippedNote(skipped), probe: [], skipped, wasmKernels };
  }
  const probe: BackendChoice['probe'] = [];
  for (const backend of started) {
    await start(backend, kernels);
    probe.push({ backend, ms: await timeProbe() });
  }
  probe.sort((a, b) => a.ms - b.ms);
  const backend = probe[0]!.backend;
  await start(backend, kernels);
  if (memoryKey !== undefined) store(memoryKey, { backend, probe, at: new Date().toISOString() });
  const cpuNote = candidates.includes('cpu') && !started.includes('cpu') ? '; cpu (pure JavaScript) not probed' : '';
  return { backend, reason: `fastest in a timed probe (${probeTimes(probe)})${cpuNote}${skippedNote(skipped)}`, probe, skipped, wasmKernels };
}

interface RememberedProbe {
  backend: BrowserBackend;
  probe: BackendChoice['probe'];
  at: string;
}

const PROBE_MEMORY_PREFIX = 'offload.backendProbe:';

/** What a remembered probe is valid for: this SDK's tfjs, this browser, these options. */
function probeMemoryKey(wasmBase: string, candidates: readonly BrowserBackend[], kernels: boolean): string {
  const agent = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? '';
  return PROBE_MEMORY_PREFIX + JSON.stringify([tf.version_core, agent, wasmBase, candidates, kernels]);
}

/** localStorage may be missing (a worker) or throw (storage disabled): then nothing is remembered. */
function storage(): { getItem(k: string): string | null; setItem(k: string, v: string): void } | undefined {
  try {
    return (globalThis as { localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
  } catch {
    return undefined;
  }
}

function recall(key: string): RememberedProbe | undefined {
  try {
    const raw = storage()?.getItem(key);
    if (!raw) return undefined;
    const v = JSON.parse(raw) as Partial<RememberedProbe>;
    const known = (b: unknown): b is BrowserBackend => typeof b === 'string' && (BROWSER_BACKENDS as readonly string[]).includes(b);
    const probeOk =
      Array.isArray(v.probe) && v.probe.length > 0 && v.probe.every((p) => known(p?.backend) && typeof p.ms === 'number' && Number.isFinite(p.ms));
    // anything else (another version's shape, a hand edit) is ignored: the probe runs again and overwrites it
    return known(v.backend) && probeOk && typeof v.at === 'string' ? { backend: v.backend, probe: v.probe!, at: v.at } : undefined;
  } catch {
    return undefined;
  }
}

function store(key: string, value: RememberedProbe): void {
  try {
    storage()?.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the next visit probes again
  }
}

/** `webgl 3.1 ms, wasm 1.2 ms`: the probe's times as the reason gives them. */
function probeTimes(probe: BackendChoice['probe']): string {
  return probe.map((p) => `${p.backend} ${p.ms.toFixed(1)} ms`).join(', ');
}

function skippedNote(skipped: BackendChoice['skipped']): string {
  return skipped.length ? `; ${skipped.map((s) => `${s.backend} unavailable: ${s.reason}`).join('; ')}` : '';
}

/** Makes `backend` current (initialising it the first time); null on success, else why not. */
async function start(backend: BrowserBackend, kernels: boolean): Promise<string | null> {
  if (backend === 'webgpu' && tf.findBackendFactory('webgpu') === null) {
    const problem = await loadWebGpu();
    if (problem !== null) return problem;
  }
  try {
    if (!(await tf.setBackend(backend))) return 'not available in this browser';
    await tf.ready();
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0]! : String(e);
  }
  if (backend === 'wasm') {
    if (kernels) installWasmKernels();
    else restoreWasmKernels();
  }
  return null;
}

/** The slice of the WebGPU API asked before fetching the backend's code. */
interface Gpu {
  requestAdapter(): Promise<object | null>;
}

/**
 * Loads tfjs-backend-webgpu (a chunk of its own, ~300 KiB: it registers the
 * backend), only once the browser has shown it has an adapter; else why not.
 */
async function loadWebGpu(): Promise<string | null> {
  const gpu = (globalThis as { navigator?: { gpu?: Gpu } }).navigator?.gpu;
  if (gpu === undefined) {
    return (globalThis as { isSecureContext?: boolean }).isSecureContext === false ? 'no WebGPU: the page is not a secure context (https or localhost)' : 'no WebGPU in this browser';
  }
  try {
    if ((await gpu.requestAdapter()) === null) return 'no WebGPU adapter (navigator.gpu.requestAdapter() answered null)';
  } catch (e) {
    return `no WebGPU adapter (${e instanceof Error ? e.message : String(e)})`;
  }
  try {
    await import('./webgpu');
  } catch (e) {
    return `tfjs-backend-webgpu did not load (${e instanceof Error ? e.message : String(e)})`;
  }
  return null;
}

/**
 * Median time of one MobileNetV2 inverted-residual block at 28×28 (1×1
 * expansion to 192 channels, batch norm, relu6, 3×3 depthwise, batch norm,
 * relu6, 1×1 projection to 32, batch norm), read back as the head's output
 * is: about 11 M multiply-adds, after one untimed run (shader compilation,
 * first allocations).
 */
async function timeProbe(): Promise<number> {
  const ts = tf.tidy(() => {
    const u = (shape: number[], seed: number, lo = -0.5, hi = 0.5) => tf.randomUniform(shape, lo, hi, 'float32', seed);
    const bn = (c: number, seed: number) => ({ mean: u([c], seed), variance: u([c], seed + 1, 0.5, 1.5), offset: u([c], seed + 2), scale: u([c], seed + 3, 0.5, 1.5) });
    const u4 = (shape: [number, number, number, number], seed: number, lo?: number, hi?: number) => u(shape, seed, lo, hi) as tf.Tensor4D;
    return { x: u4([1, 28, 28, 32], 1, -1, 1), expand: u4([1, 1, 32, 192], 2), depthwise: u4([3, 3, 192, 1], 3), project: u4([1, 1, 192, 32], 4), bn1: bn(192, 10), bn2: bn(192, 20), bn3: bn(32, 30) };
  });
  const norm = (h: tf.Tensor4D, p: (typeof ts)['bn1']) => tf.batchNorm4d(h, p.mean as tf.Tensor1D, p.variance as tf.Tensor1D, p.offset as tf.Tensor1D, p.scale as tf.Tensor1D, 1e-3);
  const relu6 = (h: tf.Tensor4D): tf.Tensor4D => tf.minimum(tf.relu(h), 6);
  const block = () =>
    tf.tidy(() => {
      let h = relu6(norm(tf.conv2d(ts.x, ts.expand, 1, 'same'), ts.bn1));
      h = relu6(norm(tf.depthwiseConv2d(h, ts.depthwise, 1, 'same'), ts.bn2));
      return norm(tf.conv2d(h, ts.project, 1, 'same'), ts.bn3);
    });
  const once = async () => {
    const t0 = performance.now();
    const y = block();
    await y.data();
    const ms = performance.now() - t0;
    y.dispose();
    return ms;
  };
  try {
    await once();
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push(await once());
    return quantile(times, 0.5);
  } finally {
    tf.dispose([ts.x, ts.expand, ts.depthwise, ts.project, ...[ts.bn1, ts.bn2, ts.bn3].flatMap((p) => [p.mean, p.variance, p.offset, p.scale])]);
  }
}
