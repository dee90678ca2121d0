/**
 * Measures a model on this machine: every layer alone on a concrete tensor of
 * its real input shape, and the whole model, each as the median of repeats
 * after warm-up. The result is the profile file of `core/profiles.ts`.
 *
 * Why layers in isolation: the planner needs one time per layer so that any
 * cut's head and tail time is a sum. Running a layer alone adds a little
 * (each call allocates its output, the layer's own dispatch) and removes a
 * little (its input is already in cache from the previous repeat), so the
 * sum of the isolated times differs from one run of the whole model; the
 * profile records both and their ratio (docs/profiles.md).
 */
import { cpus, loadavg, platform, arch } from 'node:os';
import * as tf from './tfjs';
import { PROFILE_FORMAT, type Clock, type LayerProfile, type ModelProfile } from '../core/profiles';
import { OffloadError } from '../core/errors';
import { analyzeModel, modelGraph, type GraphNode } from './graph';
import { wasmThreads, type BackendName } from './backend';
import { fuseModel, fusionEnabled, type FoldedChain } from './fuse';

/** Options of {@link profileModel}. */
export interface ProfileOptions {
  /** Model name written in the profile. */
  name: string;
  backend: BackendName;
  /** Timed calls per layer and for the whole model; the median is kept. Default 5. */
  repeats?: number;
  /** Untimed calls first (kernel setup, caches). Default 1. */
  warmup?: number;
  /** Called after each layer (for a progress bar). */
  onLayer?: (done: number, total: number, name: string) => void;
  /** Seed of the random inputs. */
  seed?: number;
  /** Which clock `ms` reports (both are recorded); default {@link defaultClock} of the backend. */
  clock?: Clock;
  /**
   * Measure the model as heads and tails run it, batch norm and relu folded
   * into the convolutions (models/fuse.ts). Default: {@link fusionEnabled}
   * (on unless `OFFLOAD_FUSE=off`). A folded chain is timed as its one fused
   * kernel and the time is the convolution's; the folded layers record 0 ms
   * and `foldedInto` (docs/profiles.md "Folded layers").
   */
  fuse?: boolean;
}

/**
 * `wall`: elapsed time. `cpu`: CPU time of this process during the call. For
 * a single-threaded backend (wasm and cpu under Node) on an idle machine they
 * agree; on a shared, loaded machine the wall clock also counts the time other
 * processes held the core, and the CPU clock does not. Multi-threaded backends
 * (tensorflow) must use the wall clock: their CPU time adds up every thread.
 */
export function defaultClock(backend: BackendName): Clock {
  return backend === 'tensorflow' ? 'wall' : 'cpu';
}

const FLOAT32_BYTES = 4;

/**
 * Profiles `model` on the active tfjs backend.
 *
 * tfjs's wasm and cpu backends run each kernel synchronously, so a call has
 * finished computing when it returns; the output is still read back (the
 * `tensorflow` backend may be asynchronous) but only one element of it, so
 * the copy does not count.
 */
export async function profileModel(model: tf.LayersModel, opts: ProfileOptions): Promise<ModelProfile> {
  const repeats = opts.repeats ?? 5;
  const warmup = opts.warmup ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) throw new OffloadError('invalid-input', `repeats: must be an integer >= 1 (got ${repeats})`, { field: 'repeats' });
  if (!Number.isInteger(warmup) || warmup < 0) throw new OffloadError('invalid-input', `warmup: must be an integer >= 0 (got ${warmup})`, { field: 'warmup' });
  const startLoad = loadavg()[0] ?? 0;
  // a multi-threaded wasm engine adds up every thread's CPU time: only the wall clock shows the speed-up
  const threads = opts.backend === 'wasm' ? (wasmThreads()?.threads ?? 1) : 1;
  if (threads > 1 && opts.clock === 'cpu') {
    throw new OffloadError('invalid-input', `clock: the cpu clock sums the time of all ${threads} wasm threads; use the wall clock with threads`, { field: 'clock' });
  }
  const clock = opts.clock ?? (threads > 1 ? 'wall' : defaultClock(opts.backend));
  const memGBps = measureCopyBandwidth(clock);
  const analysis = analyzeModel(model, { name: opts.name });
  const graph = modelGraph(model);
  const seed = opts.seed ?? 1;
  const fused = (opts.fuse ?? fusionEnabled()) ? fuseModel(model) : { model, chains: [] as FoldedChain[] };
  const chainOfConv = new Map(fused.chains.map((c) => [c.conv, c]));
  const foldedInto = new Map(fused.chains.flatMap((c) => c.folded.map((name) => [name, c.conv] as const)));
  const layers: LayerProfile[] = [];
  for (const node of graph.nodes) {
    const info = analysis.layers[node.index]!;
    const chain = chainOfConv.get(node.layer.name);
    const into = foldedInto.get(node.layer.name);
    // the fused kernel runs on the conv's input: its time is the chain's, the folded layers' is in it
    // (on the padding's input when a ZeroPadding2D was folded in as the convolution's own padding)
    const inputShapes = chain?.pad !== undefined ? graph.nodes.find((n) => n.layer.name === chain.pad)!.inputShapes : node.inputShapes;
    const timed = chain ? { ...node, layer: fused.model.getLayer(chain.name), callArgs: {}, inputShapes } : node;
    const t = into !== undefined ? { wallMs: 0, cpuMs: 0 } : timeLayer(timed, repeats, warmup, seed + node.index);
    const inputBytes = node.inputShapes.reduce((s, shape) => s + product(shape) * FLOAT32_BYTES, 0);
    const kernel = kernelOf(node.layer);
    const activation = (node.layer.getConfig() as Record<string, unknown>).activation;
    layers.push({
      index: info.index,
      name: info.name,
      className: info.className,
      ms: clock === 'cpu' ? t.cpuMs : t.wallMs,
      wallMs: t.wallMs,
      cpuMs: t.cpuMs,
      flops: info.flops,
      inputBytes,
      outputBytes: info.outputBytes,
      weightBytes: info.weightBytes,
      ...(kernel ? { kernel } : {}),
      ...(typeof activation === 'string' ? { activation } : {}),
      ...(chain ? { fusedWith: chain.folded } : {}),
      ...(into !== undefined ? { foldedInto: into } : {}),
      inputShapes: node.inputShapes,
      outputShape: info.outputShape,
    });
    opts.onLayer?.(layers.length, graph.nodes.length, info.name);
  }
  const whole = timeWholeModel(fused.model, graph.input.shape, repeats, warmup, seed);
  if (fused.model !== model) fused.model.dispose();
  const wholeModelMs = clock === 'cpu' ? whole.cpuMs : whole.wallMs;
  const sumOfLayersMs = layers.reduce((s, l) => s + l.ms, 0);
  const cpu = cpus();
  return {
    format: PROFILE_FORMAT,
    model: opts.name,
    backend: opts.backend,
    machine: {
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      cores: cpu.length,
      platform: `${platform()}-${arch()}`,
      node: process.version,
      tfjs: tf.version.tfjs,
      loadAverage: round(startLoad, 2),
      memGBps: round(memGBps, 2),
    },
    date: new Date().toISOString(),
    inputShape: graph.input.shape,
    inputBytes: analysis.inputBytes,
    outputBytes: analysis.outputBytes,
    candidates: analysis.candidates.map((c) => ({ cut: c.cut, crossingBytes: c.crossingBytes, tailWeightBytes: c.tailWeightBytes })),
    repeats,
    warmup,
    clock,
    ...(threads > 1 ? { threads } : {}),
    ...(fused.chains.length > 0 ? { fused: true } : {}),
    layers,
    wholeModelMs: round(wholeModelMs, 4),
    wholeModelWallMs: round(whole.wallMs, 4),
    wholeModelCpuMs: round(whole.cpuMs, 4),
    sumOfLayersMs: round(sumOfLayersMs, 4),
    isolationRatio: wholeModelMs > 0 ? round(sumOfLayersMs / wholeModelMs, 4) : 0,
  };
}

/** Medians of one call on both clocks, ms. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Runs `call` warm-up + repeats times; returns the median of each clock over the timed runs. */
function timeCalls(call: () => tf.Tensor, repeats: number, warmup: number): Timing {
  const once = (): [number, number] => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = call();
    settle(out);
    const t1 = performance.now();
    const c = process.cpuUsage(c0);
    out.dispose();
    return [t1 - t0, (c.user + c.system) / 1000];
  };
  for (let i = 0; i < warmup; i++) once();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const [w, c] = once();
    wall.push(w);
    cpu.push(c);
  }
  return { wallMs: round(median(wall), 4), cpuMs: round(median(cpu), 4) };
}

/** One call of the layer on random inputs of its real shapes (batch of one). */
function timeLayer(node: GraphNode, repeats: number, warmup: number, seed: number): Timing {
  const inputs = node.inputShapes.map((shape, i) => tf.randomUniform([1, ...shape], -1, 1, 'float32', seed * 31 + i));
  const arg = inputs.length === 1 ? inputs[0]! : inputs;
  const kwargs = { ...node.callArgs, training: false } as tf.serialization.ConfigDict;
  try {
    return timeCalls(() => node.layer.apply(arg, kwargs) as tf.Tensor, repeats, warmup);
  } finally {
    for (const t of inputs) t.dispose();
  }
}

/** One `predict` of the whole model on a random input. */
function timeWholeModel(model: tf.LayersModel, inputShape: number[], repeats: number, warmup: number, seed: number): Timing {
  const x = tf.randomUniform([1, ...inputShape], -1, 1, 'float32', seed);
  try {
    return timeCalls(() => model.predict(x) as tf.Tensor, repeats, warmup);
  } finally {
    x.dispose();
  }
}

/** Forces the computation to have finished: read one element (the whole output's copy would be timed otherwise). */
function settle(out: tf.Tensor): void {
  if (out.size === 0) return;
  // the op functions, not tensor methods: models/tfjs.ts does not register tfjs's chained ops
  const first = tf.tidy(() => tf.slice(tf.reshape(out, [-1]), 0, 1));
  first.dataSync();
  first.dispose();
}

/**
 * Copy bandwidth of one core: a 64 MiB Float32Array copied a few times,
 * counted as bytes read plus bytes written (GB/s), median over the copies on
 * the given clock. The predictor scales the memory-bound share of each layer
 * by a device's bandwidth over this one.
 */
export function measureCopyBandwidth(clock: Clock = 'wall'): number {
  const n = 16 * 1024 * 1024;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i += 1024) a[i] = i;
  b.set(a); // touch the pages before timing
  const times: number[] = [];
  for (let r = 0; r < 7; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    b.set(a);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    times.push(clock === 'cpu' ? (c.user + c.system) / 1000 : wall);
  }
  const ms = median(times);
  return (2 * n * 4) / (ms / 1000) / 1e9;
}

function kernelOf(layer: tf.layers.Layer): number[] | undefined {
  const config = layer.getConfig() as Record<string, unknown>;
  const k = config.kernelSize ?? config.poolSize;
  if (typeof k === 'number') return [k, k];
  if (Array.isArray(k) && k.every((v) => typeof v === 'number')) return k as number[];
  return undefined;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
