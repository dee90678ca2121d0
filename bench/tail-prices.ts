/**
 * Price/latency of the default tails per Lambda memory size (docs/profiles.md,
 * "Memory size"), from the quiet-machine profiles in bench/results/quiet-profiles
 * (`offload profile <model> --threads 1|2 --clock wall`, one process each):
 *
 * - 1 thread and 2 threads on 2 full cores: measured whole-model times;
 * - the model's parallel fraction p from their ratio (Amdahl, core/profiles.ts
 *   `parallelFractionFromRatio`), per model;
 * - at each memory size: the threads the tail runs (`tailWasmThreads`) and
 *   `cloudTimeFactor(memoryMB, { threads, p })` × the 1-thread time, and the
 *   1-thread engine for comparison; µUSD per inference = request fee +
 *   GB-s × time (x86_64 prices, core/presets.ts).
 *
 * Pure computation over committed files: nothing is timed here.
 *
 *   npx tsx bench/tail-prices.ts        prints the markdown table
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLOUD_DEFAULTS } from '../core/presets';
import { cloudTimeFactor, parallelFractionFromRatio, parseModelProfile, tailWasmThreads } from '../core/profiles';
import { isMain } from './report';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'results', 'quiet-profiles');
export const PRICE_MODELS = ['resnet50', 'mobilenetv2'] as const;
export const PRICE_MEMORY_MB = [1024, 1769, 3008, 3538, 5307, 7076, 10240] as const;

/** One model's measured 1- and 2-thread whole-model times and the parallel fraction they imply. */
export interface MeasuredThreads {
  model: string;
  oneMs: number;
  twoMs: number;
  parallelFraction: number;
  /** Load average when each profile started. */
  loads: [number, number];
}

export function measuredThreads(model: string, dir = DIR): MeasuredThreads {
  const read = (t: 1 | 2) => parseModelProfile(JSON.parse(readFileSync(join(dir, `${model}.wasm.t${t}.json`), 'utf8')));
  const [one, two] = [read(1), read(2)];
  if ((one.threads ?? 1) !== 1 || two.threads !== 2) throw new Error(`${model}: the profiles in ${dir} are not of 1 and 2 threads`);
  const oneMs = one.wholeModelWallMs;
  const twoMs = two.wholeModelWallMs;
  return { model, oneMs, twoMs, parallelFraction: parallelFractionFromRatio(oneMs / twoMs, 2), loads: [one.machine.loadAverage, two.machine.loadAverage] };
}

/** µUSD of one warm inference of `ms` at `memoryMB`. */
function microUSD(ms: number, memoryMB: number): number {
  return (CLOUD_DEFAULTS.requestUSD + (CLOUD_DEFAULTS.gbSecondUSD * memoryMB * ms) / 1024 / 1000) * 1e6;
}

export function priceTable(dir = DIR): string {
  const lines = [
    '| model | memory MB | threads | 1-thread engine ms | threaded engine ms | 1-thread µUSD | threaded µUSD |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  const notes: string[] = [];
  for (const model of PRICE_MODELS) {
    const m = measuredThreads(model, dir);
    notes.push(
      `${model}: 1 thread ${m.oneMs.toFixed(0)} ms, 2 threads ${m.twoMs.toFixed(0)} ms (${(m.oneMs / m.twoMs).toFixed(2)}×, p = ${m.parallelFraction.toFixed(2)}; load ${m.loads[0]} and ${m.loads[1]} at the start of each profile)`,
    );
    for (const mb of PRICE_MEMORY_MB) {
      const threads = tailWasmThreads(mb);
      const single = m.oneMs * cloudTimeFactor(mb);
      const threaded = m.oneMs * cloudTimeFactor(mb, { threads, parallelFraction: m.parallelFraction });
      lines.push(`| ${model} | ${mb} | ${threads} | ${single.toFixed(0)} | ${threaded.toFixed(0)} | ${microUSD(single, mb).toFixed(2)} | ${microUSD(threaded, mb).toFixed(2)} |`);
    }
  }
  return [...lines, '', ...notes.map((n) => `- ${n}`)].join('\n');
}

if (isMain(import.meta.url)) process.stdout.write(`${priceTable()}\n`);
