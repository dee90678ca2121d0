/**
 * Split overhead: does running a model as head + tail cost more than running it whole?
 *
 * For ResNet-50 and MobileNetV2 at 224×224 on the wasm backend, at the candidate
 * cuts nearest 25 %, 50 % and 75 % of the model's FLOPs, it times the full model,
 * the head and the tail (fed the head's output), interleaved in each repeat so that
 * drift hits all three alike, and prints medians, the ratio of the medians
 * (head + tail) / full, and the median of the per-repeat ratios. Target: ≤ 1.05. Read-back of each output (`data()`) is
 * included in every timing — a split must read the head's output to send it.
 *
 *   npx tsx bench/split-overhead.ts [--repeats N] [--warmup N] [--models resnet50,mobilenetv2]
 */
import type * as tf from '@tensorflow/tfjs';
import { checkArgs, isMain, median } from './report';

/** One (model, cut) measurement. */
export interface SplitOverheadResult {
  model: string;
  backend: string;
  inputSize: number;
  cut: number;
  layer: string;
  /** headFlops / total FLOPs at this cut. */
  flopsShare: number;
  fullMs: number;
  headMs: number;
  tailMs: number;
  /** (headMs + tailMs) / fullMs, of the medians. */
  ratio: number;
  /** Median over repeats of (head + tail) / full measured back to back: robust to load that drifts on a shared machine. */
  pairedRatio: number;
  repeats: number;
}

/** Options of {@link runSplitOverhead}. */
export interface SplitOverheadOptions {
  models?: readonly string[];
  repeats?: number;
  warmup?: number;
  inputSize?: number;
  /** Shares of FLOPs whose nearest candidate cuts are measured. */
  shares?: readonly number[];
  /** Called with each result as it is measured. */
  onResult?: (r: SplitOverheadResult) => void;
}

/** The target the issue sets for (head + tail) / full. */
export const SPLIT_OVERHEAD_TARGET = 1.05;

/** Runs the benchmark on the wasm backend and returns one result per (model, cut). */
export async function runSplitOverhead(opts: SplitOverheadOptions = {}): Promise<SplitOverheadResult[]> {
  process.env.OFFLOAD_BACKEND = 'wasm';
  const { initBackend } = await import('../models/backend');
  const backend = await initBackend();
  const tfm = await import('../models/tfjs');
  const { ZOO, isZooName } = await import('../models/zoo');
  const { analyzeModel } = await import('../models/graph');
  const { splitModel } = await import('../models/slice');
  const models = opts.models ?? ['resnet50', 'mobilenetv2'];
  const repeats = opts.repeats ?? 15;
  const warmup = opts.warmup ?? 3;
  const inputSize = opts.inputSize ?? 224;
  const shares = opts.shares ?? [0.25, 0.5, 0.75];
  const results: SplitOverheadResult[] = [];

  for (const name of models) {
    if (!isZooName(name)) throw new Error(`not a zoo model: ${name}`);
    const model = ZOO[name].build({ inputSize });
    const analysis = analyzeModel(model, { name });
    const cuts = [...new Set(shares.map((s) => nearestCut(analysis.candidates, s * analysis.flops)))].filter((c) => c > 0);
    const x = tfm.randomUniform([1, inputSize, inputSize, 3], -1, 1, 'float32', 7);
    for (const cut of cuts) {
      const candidate = analysis.candidates.find((c) => c.cut === cut)!;
      const { head, tail } = splitModel(model, analysis, cut);
      if (!head || !tail) throw new Error(`cut ${cut} has no head or tail`);
      const full: number[] = [];
      const heads: number[] = [];
      const tails: number[] = [];
      const paired: number[] = [];
      const runSplit = async (): Promise<[number, number]> => {
        let mid: tf.Tensor | tf.Tensor[] = [];
        const h = await timed(() => (mid = head.predict(x)), true);
        const t = await timed(() => tail.predict(mid));
        tfm.dispose(mid);
        return [h, t];
      };
      for (let i = 0; i < warmup + repeats; i++) {
        // Alternate which runs first, so that a systematic first/second effect cancels.
        let f: number;
        let h: number;
        let t: number;
        if (i % 2 === 0) {
          f = await timed(() => model.predict(x));
          [h, t] = await runSplit();
        } else {
          [h, t] = await runSplit();
          f = await timed(() => model.predict(x));
        }
        if (i >= warmup) {
          full.push(f);
          heads.push(h);
          tails.push(t);
          paired.push((h + t) / f);
        }
      }
      const [fullMs, headMs, tailMs] = [median(full), median(heads), median(tails)];
      const r: SplitOverheadResult = {
        model: name,
        backend,
        inputSize,
        cut,
        layer: candidate.layer,
        flopsShare: candidate.headFlops / analysis.flops,
        fullMs,
        headMs,
        tailMs,
        ratio: (headMs + tailMs) / fullMs,
        pairedRatio: median(paired),
        repeats,
      };
      results.push(r);
      opts.onResult?.(r);
      head.dispose();
      tail.dispose();
    }
    x.dispose();
    model.dispose();
  }
  return results;
}

/** Formats results as a table with the target verdict. */
export function formatSplitOverhead(results: readonly SplitOverheadResult[]): string {
  const lines = [
    'model        cut  layer                 share   full ms   head ms   tail ms   ratio  paired',
    ...results.map(
      (r) =>
        `${r.model.padEnd(11)} ${String(r.cut).padStart(4)}  ${r.layer.padEnd(20)} ${(r.flopsShare * 100).toFixed(0).padStart(4)}%  ${r.fullMs.toFixed(1).padStart(8)}  ${r.headMs
          .toFixed(1)
          .padStart(8)}  ${r.tailMs.toFixed(1).padStart(8)}  ${r.ratio.toFixed(3)}   ${r.pairedRatio.toFixed(3)}${
          Math.min(r.ratio, r.pairedRatio) <= SPLIT_OVERHEAD_TARGET ? '' : '  (above target)'
        }`,
    ),
  ];
  const worst = Math.max(...results.map((r) => r.ratio));
  const worstPaired = Math.max(...results.map((r) => r.pairedRatio));
  lines.push(
    `worst ratio ${worst.toFixed(3)}, worst paired ratio ${worstPaired.toFixed(3)} (target ≤ ${SPLIT_OVERHEAD_TARGET}) on ${results[0]?.backend ?? '?'}, medians of ${results[0]?.repeats ?? 0} repeats`,
  );
  return lines.join('\n');
}

/** Runs `fn`, reads back every output tensor it returns (and disposes them unless `keep`), returns the ms taken. */
async function timed(fn: () => tf.Tensor | tf.Tensor[], keep = false): Promise<number> {
  const t0 = performance.now();
  const out = fn();
  const list = Array.isArray(out) ? out : [out];
  for (const t of list) await t.data();
  const ms = performance.now() - t0;
  if (!keep) for (const t of list) t.dispose();
  return ms;
}

function nearestCut(candidates: readonly { cut: number; headFlops: number }[], flops: number): number {
  let best = candidates[0]!;
  for (const c of candidates) if (Math.abs(c.headFlops - flops) < Math.abs(best.headFlops - flops)) best = c;
  return best.cut;
}

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (isMain(import.meta.url)) {
  checkArgs({ values: ['--repeats', '--warmup', '--models'], flags: [], usage: 'npx tsx bench/split-overhead.ts [--repeats N] [--warmup N] [--models resnet50,mobilenetv2]' });
  const repeats = argValue('--repeats');
  const warmup = argValue('--warmup');
  const models = argValue('--models');
  const results = await runSplitOverhead({
    ...(repeats ? { repeats: Number(repeats) } : {}),
    ...(warmup ? { warmup: Number(warmup) } : {}),
    ...(models ? { models: models.split(',') } : {}),
    onResult: (r) => process.stderr.write(`  ${r.model} cut ${r.cut}: ratio ${r.ratio.toFixed(3)}\n`),
  });
  process.stdout.write(`${formatSplitOverhead(results)}\n`);
}
