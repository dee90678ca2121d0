/**
 * Wire codec throughput: encode and decode of one 4 MiB float32 activation
 * tensor in each wire dtype, against the targets of issue 2 (float32 ≥ 1 GB/s,
 * float16/int8 conversions ≥ 300 MB/s). Throughput is always counted in
 * float32 bytes (the tensor's size in memory), so the dtypes compare directly.
 *
 * Run alone with `npx tsx bench/codec.ts`, or call {@link runCodecBench}.
 */
import { cpus, loadavg } from 'node:os';
import { DTYPES } from '../core/dtypes';
import { seededRandom } from '../core/random';
import { decodeTensors, encodeTensors, type WireDType, type WireTensor } from '../core/wire';
import { formatTable, isMain, median, quantile, type BenchResult } from './report';

/** A throughput figure (value = median MB/s) with its fast decile. */
export interface CodecBenchResult extends BenchResult {
  /**
   * The 10th-percentile-fastest sample in the same unit: on shared cores the
   * median drops with other load, the fast decile shows what the code does
   * when it gets a core.
   */
  bestDecile: number;
}

export interface CodecBenchOptions {
  /** float32 elements in the tensor (default 1 Mi = 4 MiB). */
  elements?: number;
  /** Timed samples per figure; the median is reported (default 41). */
  samples?: number;
  /** Minimum duration of one sample in ms; fast operations run several times per sample (default 5). */
  minSampleMs?: number;
  /** Where progress lines go (default: nowhere). */
  log?: (line: string) => void;
}

const FLOAT32_TARGET_MBPS = 1000;
const CONVERSION_TARGET_MBPS = 300;

/** A post-ReLU-like activation: about half zeros, the rest spread over a few orders of magnitude. Seeded. */
function activation(n: number, seed = 42): Float32Array {
  const next = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = next();
    out[i] = u < 0.5 ? 0 : -Math.log(1 - next()) * 2;
  }
  return out;
}

interface Timing {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  calls: number;
}

/**
 * Times several operations and returns each one's per-call durations (ms):
 * warm each up (JIT), pick how many calls make one sample last ≥ minSampleMs,
 * then take `samples` rounds, one sample of every operation per round. The
 * interleaving matters on shared cores: a burst of other load then slows every
 * figure a little instead of wrecking whichever one ran during it.
 */
function timeInterleaved(ops: readonly (() => unknown)[], samples: number, minSampleMs: number): Timing[] {
  const calls = ops.map((op) => {
    const warmUntil = performance.now() + 200;
    for (let n = 0; performance.now() < warmUntil || n < 20; n++) op();
    let k = 1;
    for (;;) {
      const start = performance.now();
      for (let i = 0; i < k; i++) op();
      if (performance.now() - start >= minSampleMs || k >= 1 << 16) return k;
      k *= 2;
    }
  });
  const perCall: number[][] = ops.map(() => []);
  for (let s = 0; s < samples; s++) {
    ops.forEach((op, j) => {
      const k = calls[j] as number;
      const start = performance.now();
      for (let i = 0; i < k; i++) op();
      (perCall[j] as number[]).push((performance.now() - start) / k);
    });
  }
  return perCall.map((values, j) => {
    const sorted = [...values].sort((x, y) => x - y);
    return {
      medianMs: median(values),
      p10Ms: quantile(sorted, 0.1),
      p90Ms: quantile(sorted, 0.9),
      calls: calls[j] as number,
    };
  });
}

/** Fails loudly if the codec under measurement is not round-tripping, so a fast-but-wrong path cannot pass. */
function checkRoundTrip(tensor: WireTensor, dtype: WireDType): void {
  const out = decodeTensors(encodeTensors([tensor], dtype))[0];
  if (!out || out.data.length !== tensor.data.length) throw new Error(`codec bench: ${dtype} round trip lost data`);
  const tolerance = dtype === 'float32' ? 0 : dtype === 'float16' ? 2 ** -11 : 1 / 255;
  let max = 0;
  for (const x of tensor.data) max = Math.max(max, Math.abs(x));
  for (let i = 0; i < tensor.data.length; i++) {
    const x = tensor.data[i] as number;
    const err = Math.abs(x - (out.data[i] as number));
    const bound = dtype === 'int8' ? tolerance * max : tolerance * Math.abs(x) + 2 ** -25;
    if (err > bound) throw new Error(`codec bench: ${dtype} element ${i} off by ${err} (> ${bound})`);
  }
}

/**
 * Measures encode and decode MB/s per dtype for one tensor of `elements`
 * float32 values and returns one {@link BenchResult} per figure.
 */
export async function runCodecBench(options: CodecBenchOptions = {}): Promise<CodecBenchResult[]> {
  const elements = options.elements ?? 1 << 20;
  const samples = options.samples ?? 41;
  const minSampleMs = options.minSampleMs ?? 5;
  const log = options.log ?? (() => {});
  const tensor: WireTensor = { name: 'activation', shape: [1, elements], data: activation(elements) };
  const bytes = elements * 4;
  const megabytes = bytes / 1e6;
  const results: CodecBenchResult[] = [];

  const figures: { name: string; target: number; op: () => unknown }[] = [];
  for (const dtype of DTYPES) {
    checkRoundTrip(tensor, dtype);
    const target = dtype === 'float32' ? FLOAT32_TARGET_MBPS : CONVERSION_TARGET_MBPS;
    const encoded = encodeTensors([tensor], dtype);
    figures.push({ name: `codec ${dtype} encode`, target, op: () => encodeTensors([tensor], dtype) });
    figures.push({ name: `codec ${dtype} decode`, target, op: () => decodeTensors(encoded) });
    if (dtype === 'float32') {
      // The default float32 decode is a zero-copy view; report the copying one too.
      figures.push({ name: 'codec float32 decode (copy)', target, op: () => decodeTensors(encoded, { copy: true }) });
    }
  }
  log(`measuring ${figures.length} figures, ${samples} interleaved rounds …`);
  // Let pending async work run before the timed section.
  await new Promise((resolve) => setImmediate(resolve));
  const timings = timeInterleaved(
    figures.map((f) => f.op),
    samples,
    minSampleMs,
  );
  figures.forEach((f, j) => {
    const t = timings[j] as Timing;
    const value = megabytes / (t.medianMs / 1000);
    results.push({
      name: f.name,
      value,
      unit: 'MB/s',
      target: f.target,
      ratio: value / f.target,
      bestDecile: megabytes / (t.p10Ms / 1000),
      met: value >= f.target,
      detail:
        `${(bytes / 2 ** 20).toFixed(0)} MiB float32, median of ${samples} samples × ${t.calls} call(s); ` +
        `per call ${t.medianMs.toFixed(3)} ms (p10 ${t.p10Ms.toFixed(3)}, p90 ${t.p90Ms.toFixed(3)})`,
    });
  });
  return results;
}

/** Renders results as an aligned text table. */
export function formatResults(results: readonly CodecBenchResult[]): string {
  const rows = results.map((r) => [
    r.name,
    `${r.value.toFixed(0)} ${r.unit}`,
    `${r.bestDecile.toFixed(0)} ${r.unit}`,
    `${r.target} ${r.unit}`,
    `${r.ratio.toFixed(2)}×`,
    r.met ? 'ok' : 'BELOW TARGET',
  ]);
  return formatTable(['figure', 'median', 'fast decile', 'target', 'ratio (median)', ''], rows);
}

if (isMain(import.meta.url)) {
  const [load1] = loadavg();
  process.stdout.write(
    `wire codec bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
      `load average ${load1?.toFixed(2)} at start (figures drop when other work shares the cores)\n`,
  );
  const results = await runCodecBench({ log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${formatResults(results)}\n`);
  for (const r of results) process.stdout.write(`  ${r.name}: ${r.detail}\n`);
}
