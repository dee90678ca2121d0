/**
 * The seed-11 bursty runs (bench/stack-cpu.ts --bursty 4 --seed 11, bench/results/stack-cpu-bursty-r9-a.json) replayed
 * on the host model's processor sharing ({@link HostCpu}, as the simulator runs it): every served request enters at the
 * moment its init (cold) or compute (warm) began on the stack, with the host's lone work, and the model says when each
 * phase ends. The cold starts are grouped into bursts (inits that overlap on the stack) and compared by their order in
 * the burst: what the stack measured (`x-offload-init-ms`, the compute header) against what the model gives them.
 * Unlike stack-cpu's phase table (each phase against s(n) at its measured overlap), the predicted phases shift the
 * overlap the next ones meet, as they do in the simulator. `--scan` prints the median over all inits for several
 * `initBurstScale`s (the fit of {@link LOCAL_HOST}'s).
 *
 * Usage (pure computation, a second):
 *   npx tsx bench/stagger-replay.ts [--scale 1.3] [--scan] [--file A.json[,B.json…]]   (default: both seed-11 files, r9-a on
 *   the tail before 098079b, r9-b on the tail after it; each replayed on its own tail's figures; a name ending in
 *   @now: on LOCAL_HOST's cut-0 figures as they are now, for a run made on the current tail before the model took them)
 */
import { readFileSync } from 'node:fs';
import { firstInferenceFactor, HostCpu, LOCAL_HOST, type HostModel } from '../core/sim/host';
import { argValue, checkArgs, isMain, median } from './report';

interface Served {
  endAt: number;
  computeMs: number;
  cold: boolean;
  initMs: number | null;
  status: number;
}

/** One cold start of a burst: measured and replayed init and first inference, and its order in the burst (0 = first). */
export interface BurstColdStart {
  run: number;
  burst: number;
  rank: number;
  initMs: number;
  modelInitMs: number;
  firstMs: number;
  modelFirstMs: number;
}

/** The runs' cold starts replayed on `host` (module doc); `loneMs` and `coldStartMs` the lone cut-0 compute and cold start. */
export function replayBursts(runs: readonly (readonly Served[])[], backMs: number, host: HostModel, loneMs: number, coldStartMs: number): BurstColdStart[] {
  const factor = firstInferenceFactor(host, 'mobilenetv2', 0);
  const extra = (factor - 1) * loneMs;
  const out: BurstColdStart[] = [];
  runs.forEach((run, r) => {
    const jobs = run
      .filter((s) => s.status === 200 && Number.isFinite(s.computeMs))
      .map((s) => {
        const computeStart = s.endAt - backMs - s.computeMs;
        return { s, start: s.cold ? computeStart - (s.initMs ?? 0) : computeStart, modelInit: NaN, modelCompute: NaN };
      })
      .sort((a, b) => a.start - b.start);
    const cpu = new HostCpu<(typeof jobs)[number]>(host);
    let i = 0;
    for (;;) {
      const next = cpu.next();
      const arrival = i < jobs.length ? jobs[i]!.start : Infinity;
      if (!next && arrival === Infinity) break;
      if (arrival <= (next?.at ?? Infinity)) {
        const j = jobs[i++]!;
        const first = j.s.cold ? host.firstInference : undefined;
        cpu.add({ phase: j.s.cold ? 'init' : 'compute', work: j.s.cold ? coldStartMs - extra : loneMs, phaseStart: arrival, item: j, ...(first ? { weight: first.weight } : {}) }, arrival);
        continue;
      }
      cpu.advance(next!.at);
      const job = next!.job;
      if (job.phase === 'init') {
        job.item.modelInit = next!.at - job.phaseStart;
        job.phase = 'compute';
        job.work = loneMs * factor;
        job.phaseStart = next!.at;
      } else {
        job.item.modelCompute = next!.at - job.phaseStart;
        cpu.remove(job);
      }
    }
    let burst = -1;
    let end = -Infinity;
    let rank = 0;
    for (const j of jobs.filter((x) => x.s.cold)) {
      if (j.start > end) {
        burst++;
        rank = 0;
      }
      end = Math.max(end, j.start + (j.s.initMs ?? 0));
      out.push({ run: r, burst, rank: rank++, initMs: j.s.initMs ?? 0, modelInitMs: j.modelInit, firstMs: j.s.computeMs, modelFirstMs: j.modelCompute });
    }
  });
  return out;
}

/** Per order in a burst (bursts of two or more): count and medians of measured, modelled and their ratio. */
export function byRank(xs: readonly BurstColdStart[]): { rank: number; n: number; initMs: number; modelInitMs: number; init: number; firstMs: number; modelFirstMs: number; first: number }[] {
  const multi = new Set(xs.filter((x) => x.rank > 0).map((x) => `${x.run}/${x.burst}`));
  const inBursts = xs.filter((x) => multi.has(`${x.run}/${x.burst}`));
  const ranks = [...new Set(inBursts.map((x) => x.rank))].sort((a, b) => a - b);
  return ranks.map((rank) => {
    const g = inBursts.filter((x) => x.rank === rank);
    const m = (f: (x: BurstColdStart) => number) => median(g.map(f));
    return { rank, n: g.length, initMs: m((x) => x.initMs), modelInitMs: m((x) => x.modelInitMs), init: m((x) => x.initMs / x.modelInitMs), firstMs: m((x) => x.firstMs), modelFirstMs: m((x) => x.modelFirstMs), first: m((x) => x.firstMs / x.modelFirstMs) };
  });
}

/** Cut 0's first-inference factor of round 8's lone pairs: the tail of the first seed-11 runs (r9-a), which predate the file's own field. */
const FIRST_THEN = 1.61;

export interface BurstyFile {
  backMs: number;
  loneComputeMs: number;
  coldStartMs: number;
  /** The host model's cut-0 first-inference factor when the runs were made (files from 13:11 UTC on). */
  firstInferenceFactor?: number;
  runs: Served[][];
}

/**
 * The cold starts of several bursty files replayed at `initBurstScale` k, each on its own tail: the lone compute and
 * cold start the file carries (the host's of then) and its first-inference factor, so files made before and after a
 * change to the tail pool into one fit.
 */
export function replayFiles(files: readonly BurstyFile[], k: number): BurstColdStart[] {
  return files.flatMap((d) => {
    const host: HostModel = { ...LOCAL_HOST, initBurstScale: k, firstInference: { ...LOCAL_HOST.firstInference!, factorByCut: { mobilenetv2: { 0: d.firstInferenceFactor ?? FIRST_THEN } } } };
    return replayBursts(d.runs, d.backMs, host, d.loneComputeMs, d.coldStartMs);
  });
}

/** LOCAL_HOST's cut-0 figures, as a bursty file carries the host's of its day. */
export function cut0Now(host: HostModel = LOCAL_HOST): Pick<BurstyFile, 'coldStartMs' | 'loneComputeMs' | 'firstInferenceFactor'> {
  const coldStartMs = host.coldStartMs.mobilenetv2?.[0];
  const loneComputeMs = host.warmComputeMs?.mobilenetv2?.[0];
  if (coldStartMs === undefined || loneComputeMs === undefined) throw new Error('the host has no cut-0 MobileNetV2 cold start or compute');
  return { coldStartMs, loneComputeMs, firstInferenceFactor: firstInferenceFactor(host, 'mobilenetv2', 0) };
}

/**
 * Bursty files by name; a name ending in `@now` (a run made on the current tail before `host` took that tail's
 * figures) is replayed on `host`'s cut-0 figures ({@link cut0Now}) rather than those the file carries.
 */
export function readBurstyFiles(paths: readonly string[], host: HostModel = LOCAL_HOST): BurstyFile[] {
  return paths.map((f) => {
    const now = f.endsWith('@now');
    const d = JSON.parse(readFileSync(now ? f.slice(0, -'@now'.length) : f, 'utf8')) as BurstyFile;
    return now ? { ...d, ...cut0Now(host) } : d;
  });
}

function main(): void {
  const usage = 'npx tsx bench/stagger-replay.ts [--scale 1.3] [--scan] [--file A.json[,B.json@now…]]';
  checkArgs({ values: ['--scale', '--file'], flags: ['--scan'], usage });
  const paths = (argValue('--file') ?? 'bench/results/stack-cpu-bursty-r9-a.json,bench/results/stack-cpu-bursty-r9-b.json').split(',');
  const files = readBurstyFiles(paths);
  const scaleArg = argValue('--scale');
  const scale = scaleArg === undefined ? (LOCAL_HOST.initBurstScale ?? 1) : Number(scaleArg);
  if (!(Number.isFinite(scale) && scale >= 0)) {
    console.error('--scale must be a number >= 0');
    process.exit(2);
  }
  if (process.argv.includes('--scan')) {
    for (const k of [1, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.4, 1.5]) {
      const per = files.map((d) => median(replayFiles([d], k).map((x) => x.initMs / x.modelInitMs)).toFixed(3));
      const xs = replayFiles(files, k);
      console.log(`initBurstScale ${k.toFixed(2)}: ${xs.length} inits, measured / model median ${median(xs.map((x) => x.initMs / x.modelInitMs)).toFixed(3)}${files.length > 1 ? ` (per file ${per.join(', ')})` : ''}`);
    }
    return;
  }
  const xs = replayFiles(files, scale);
  console.log(`${paths.join(' + ')}, initBurstScale ${scale}: cold starts by order in their burst (bursts of 2 or more), medians`);
  for (const r of byRank(xs)) {
    console.log(`#${r.rank + 1}: ${String(r.n).padStart(2)} inits ${r.initMs.toFixed(0)} vs model ${r.modelInitMs.toFixed(0)} ms (${r.init.toFixed(2)}x); first inference ${r.firstMs.toFixed(0)} vs ${r.modelFirstMs.toFixed(0)} ms (${r.first.toFixed(2)}x)`);
  }
}

if (isMain(import.meta.url)) main();
