/**
 * Why does a tail on the local stack take longer than its profile in a burst?
 * Times a warm cut-0 MobileNetV2 request alone and under a burst of k
 * concurrent requests (k = 1 … 5), each on its own warm environment, and
 * splits what the client sees into the tail's own compute
 * (`x-offload-compute-ms`) and the rest (HTTP API, base64 event, the
 * emulator's IPC, wire decode and encode in the handler, the answer back).
 * Then the same for k concurrent cold starts (`x-offload-init-ms`), once all
 * environments were reaped. The host's CPU busy share during each phase comes
 * from os.cpus(). Then the mixed case (`--mixed-rounds`): one warm environment
 * serving request after request while c = 1 … max-k − 1 others start cold beside
 * it — what a warm request meets when a burst opens new environments. Feeds the
 * host model of the simulator (core/sim/host.ts).
 *
 * Usage (bounded; starts its own local stack on an
 * ephemeral port, and stops it; about 3 minutes with the defaults):
 *   npx tsx bench/local-contention.ts [--max-k 5] [--rounds 6] [--cold-rounds 3] [--mixed-rounds 3] [--threads N] [--json FILE]
 * --threads: the tails' wasm threads (default: what 1,769 MB gets, 2).
 *
 * The lone cold start of each cut's tail on `offload local` (what LOCAL_HOST.coldStartMs holds):
 *   npx tsx bench/local-contention.ts --threads 1 --lone-cold-cuts 0,36,63,125,156 [--lone-cold-repeats 6] [--json FILE]
 *
 * The host model's tables from several runs' JSON (no stack started; --lone-cold-cuts files add lone cold starts to the init base):
 *   npx tsx bench/local-contention.ts --pool a.json,b.json,c.json
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffloadApi } from '../client/api';
import { inferRoute } from '../core/catalog';
import { tailWasmThreads } from '../core/profiles';
import { startOffloadLocal, type OffloadLocalProcess } from '../testkit/node-process';
import { headPayloads, writeLocalConfig } from './local-stack-setup';
import { argValue, checkArgs, isMain, median, overlap } from './report';

const MODEL = 'mobilenetv2';
/** Environments are reaped this long after their last request; the cold phases wait it out (plus the shutdown grace). */
const KEEP_ALIVE_MS = 3000;
/** local/offload.local.json's tail memory size (the emulator gives it no CPU, only the thread count it implies). */
const TAIL_MEMORY_MB = 1769;
const REAP_WAIT_MS = KEEP_ALIVE_MS + 2000 + 1500;

interface Sample {
  k: number;
  cold: boolean;
  roundTripMs: number;
  computeMs: number;
  initMs: number | null;
}

function cpuBusy(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Coefficient of variation (population σ over the mean); NaN below 2 values. */
function cv(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) / mean;
}

/**
 * A warm request of the mixed phase: served by the one warm environment while `cold` others were starting; it
 * counts as beside their inits (`besideInits`) when it ended before the first of those inits could have (the cold
 * requests' send time + the shortest `x-offload-init-ms` among them).
 */
export interface MixedSample {
  cold: number;
  besideInits: boolean;
  roundTripMs: number;
  computeMs: number;
  /**
   * Over this request's compute, the time-averaged count of the c others in their init and in their FIRST inference
   * (absent in runs before round 8). Windows are placed back from each response's arrival: compute ends one back
   * hand-off before it, the same for warm and cold, so it cancels; the init ends where the first inference starts.
   */
  initsAvg?: number;
  firstsAvg?: number;
}

/** What --json writes, the parts {@link poolRuns} reads. */
export interface ContentionRun {
  date: string;
  loadAverage: { start: number[]; end: number[] };
  samples: Sample[];
  /** Absent in runs before the mixed phase. */
  mixed?: MixedSample[];
}

/**
 * The host model's figures (core/sim/host.ts) from several runs: every sample of
 * the runs pooled, the medians per k over the pooled lone median (a lone median
 * of one run's 6–10 requests moves by ±20 % between runs; the pooled one less).
 * Spreads: the median over runs and k of the coefficient of variation among one
 * run's requests at one k (the sharing apart). `loneCold`: --lone-cold-cuts runs
 * whose cut-0 cold starts join the lone init base (3 lone cold starts per
 * contention run are few).
 */
/** What --lone-cold-cuts --json writes, the part {@link poolRuns} reads: lone cold starts per cut. */
export interface LoneColdRun {
  /** coldComputeMs and warmComputeMs: the cold call's first inference and the warm call's compute (absent before round 8). */
  pairs: { cut: number; initMs: number | null; coldComputeMs?: number | null; warmComputeMs?: number | null; coldRoundTripMs?: number; warmRoundTripMs?: number }[];
  date?: string;
  loadAverage?: { start: number[]; end: number[] };
}

export function poolRuns(runs: readonly ContentionRun[], loneCold: readonly LoneColdRun[] = []): {
  computeSlowdown: number[];
  initSlowdown: number[];
  loneComputeMs: number;
  loneInitMs: number;
  invokeOverheadMs: number;
  overheadMsByK: number[];
  tailCv: number;
  coldCv: number;
  /** Median first compute of the cold requests of a burst of k, ms, k = 1 … (on the streamed tail it pays for what the load left). */
  coldComputeMsByK: number[];
  /** Median hand-off (round trip − init − compute) of the cold requests of a burst of k, ms. */
  coldHandOffMsByK: number[];
  /** Mixed phase, c = 1 …: a warm request's compute beside c initialising environments over the lone compute; its overhead, ms; samples. */
  besideInits: { c: number; computeSlowdown: number; overheadMs: number; n: number; weight: number }[];
  /**
   * Mixed phase, m = 1 …: a warm request's compute while no other environment was in its init and about m were in
   * their FIRST inference (time-averaged count rounded), over the lone compute; the same for m warm computing
   * neighbours (the compute table at k = m + 1); and the weight w of a first inference in the busy count that
   * explains it (s(1 + w·m) = the slowdown, s the pooled compute table, linear between its entries).
   */
  besideFirsts: { m: number; computeSlowdown: number; besideWarm: number; weight: number; n: number }[];
  /** The host model's weights (core/sim/host.ts initWeight, firstInference.weight): the median over those requests of each one's weight. */
  initWeight: number;
  firstInferenceWeight: number;
  /** The host model's firstInference.factor: the median over the lone cold runs' pairs (cuts whose warm compute is ≥ 10 ms) of first inference / the warm call's compute. */
  firstInferenceFactor: number;
  /** The same per cut (firstInference.factorByCut), for the cuts whose warm compute is ≥ 10 ms. */
  firstInferenceFactorByCut: Record<number, { factor: number; pairs: number }>;
} {
  // A run without cold bursts (--cold-rounds 0, for its mixed phase) started one environment beside k − 1 warm ones in
  // its first burst at each k: its samples stay out of the tables, its mixed phase counts.
  const coldBurstless = (r: ContentionRun) => r.samples.some((s) => s.k >= 2 && s.cold && r.samples.filter((x) => x.k === s.k && x.cold).length < s.k);
  const tableRuns = runs.filter((r) => !coldBurstless(r));
  const all = tableRuns.flatMap((r) => r.samples);
  const ks = [...new Set(all.map((s) => s.k))].sort((a, b) => a - b);
  const warm = (k: number, from = all) => from.filter((s) => s.k === k && !s.cold);
  const inits = (k: number, from = all) => from.filter((s) => s.k === k && s.cold && s.initMs !== null).map((s) => s.initMs!);
  const loneComputeMs = median(warm(1).map((s) => s.computeMs));
  const mixed = runs.flatMap((r) => r.mixed ?? []).filter((m) => m.besideInits);
  // Lone cold starts of the same tail (cut 0) after the same wait, from --lone-cold-cuts runs: more samples for the base.
  const loneInitMs = median([...inits(1), ...loneCold.flatMap((r) => r.pairs.filter((p) => p.cut === 0 && p.initMs !== null).map((p) => p.initMs!))]);
  const computeSlowdown = ks.map((k) => (k === 1 ? 1 : median(warm(k).map((s) => s.computeMs)) / loneComputeMs));
  const firsts = runs.flatMap((r) => r.mixed ?? []).filter((m) => m.firstsAvg !== undefined && m.initsAvg! < 0.05 && m.firstsAvg >= 0.5);
  // Tails computing under 10 ms (cuts 125, 156) left out: a ms of timer and scheduling noise moves their ratio by 10 % or more.
  const firstPairs = loneCold.flatMap((r) =>
    r.pairs.flatMap((p) => (p.coldComputeMs != null && p.warmComputeMs != null && p.warmComputeMs >= 10 ? [{ cut: p.cut, ratio: p.coldComputeMs / p.warmComputeMs }] : [])),
  );
  const cvs = (f: (k: number, from: Sample[]) => number[]) => median(tableRuns.flatMap((r) => ks.map((k) => cv(f(k, r.samples))).filter(Number.isFinite)));
  return {
    computeSlowdown,
    initSlowdown: ks.map((k) => (k === 1 ? 1 : median(inits(k)) / loneInitMs)),
    loneComputeMs,
    loneInitMs,
    invokeOverheadMs: median(warm(1).map((s) => s.roundTripMs - s.computeMs)),
    overheadMsByK: ks.map((k) => median(warm(k).map((s) => s.roundTripMs - s.computeMs))),
    tailCv: cvs((k, from) => warm(k, from).map((s) => s.computeMs)),
    coldCv: cvs((k, from) => inits(k, from)),
    coldComputeMsByK: ks.map((k) => median(all.filter((s) => s.k === k && s.cold).map((s) => s.computeMs))),
    coldHandOffMsByK: ks.map((k) => median(all.filter((s) => s.k === k && s.cold && s.initMs !== null).map((s) => s.roundTripMs - s.initMs! - s.computeMs))),
    besideInits: [...new Set(mixed.map((m) => m.cold))]
      .sort((a, b) => a - b)
      .map((c) => {
        const m = mixed.filter((x) => x.cold === c);
        const slowdown = median(m.map((x) => x.computeMs)) / loneComputeMs;
        // The weight of an init in a computing neighbour's busy count that explains it, as for first inferences below.
        return { c, computeSlowdown: slowdown, overheadMs: median(m.map((x) => x.roundTripMs - x.computeMs)), n: m.length, weight: (busyAt(computeSlowdown, slowdown) - 1) / c };
      }),
    initWeight: median(mixed.map((m) => (busyAt(computeSlowdown, m.computeMs / loneComputeMs) - 1) / m.cold)),
    firstInferenceWeight: median(firsts.map((f) => (busyAt(computeSlowdown, f.computeMs / loneComputeMs) - 1) / f.firstsAvg!)),
    firstInferenceFactor: median(firstPairs.map((p) => p.ratio)),
    firstInferenceFactorByCut: Object.fromEntries(
      [...new Set(firstPairs.map((p) => p.cut))].sort((a, b) => a - b).map((cut) => {
        const xs = firstPairs.filter((p) => p.cut === cut).map((p) => p.ratio);
        return [cut, { factor: median(xs), pairs: xs.length }];
      }),
    ),
    besideFirsts: [...new Set(firsts.map((f) => Math.round(f.firstsAvg!)))]
      .sort((a, b) => a - b)
      .map((m) => {
        const f = firsts.filter((x) => Math.round(x.firstsAvg!) === m);
        const slowdown = median(f.map((x) => x.computeMs)) / loneComputeMs;
        return { m, computeSlowdown: slowdown, besideWarm: computeSlowdown[m] ?? NaN, weight: (busyAt(computeSlowdown, slowdown) - 1) / m, n: f.length };
      }),
  };
}

/** The busy count n (fractional, ≥ 1) at which the table s(n) (index n − 1, linear between entries) reaches `slowdown`; past its end, s grows as n. */
export function busyAt(table: readonly number[], slowdown: number): number {
  if (slowdown <= 1) return 1;
  for (let i = 1; i < table.length; i++) {
    const lo = table[i - 1]!;
    const hi = table[i]!;
    if (slowdown <= hi && hi > lo) return i + (slowdown - lo) / (hi - lo);
  }
  const k = table.length;
  return (slowdown * k) / table[k - 1]!;
}

async function main(): Promise<void> {
  const pool = argValue('--pool');
  if (pool) {
    const files = pool.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')) as ContentionRun | (LoneColdRun & { samples?: undefined }));
    const runs = files.filter((f): f is ContentionRun => f.samples !== undefined);
    const loneCold = files.filter((f): f is LoneColdRun & { samples?: undefined } => f.samples === undefined);
    const p = poolRuns(runs, loneCold);
    const r2 = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    console.log(`${runs.length} runs (${runs.map((r) => `${r.date.slice(11, 16)} UTC load ${r.loadAverage.start[0]} → ${r.loadAverage.end[0]}`).join('; ')})`);
    console.log(`computeSlowdown [${r2(p.computeSlowdown)}] over a lone ${p.loneComputeMs.toFixed(1)} ms`);
    console.log(`initSlowdown    [${r2(p.initSlowdown)}] over a lone ${p.loneInitMs.toFixed(0)} ms`);
    console.log(`invokeOverheadMs ${p.invokeOverheadMs.toFixed(0)} (by k: ${p.overheadMsByK.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`spread: tailCv ${p.tailCv.toFixed(2)}, coldCv ${p.coldCv.toFixed(2)}`);
    console.log(`cold requests by k: first compute ${p.coldComputeMsByK.map((x) => x.toFixed(0)).join(', ')} ms; hand-off ${p.coldHandOffMsByK.map((x) => x.toFixed(0)).join(', ')} ms`);
    for (const b of p.besideInits)
      console.log(`warm beside ${b.c} init(s): compute x${b.computeSlowdown.toFixed(2)} (beside ${b.c} warm: x${(p.computeSlowdown[b.c] ?? NaN).toFixed(2)}), weight of an init ${b.weight.toFixed(2)}, overhead ${b.overheadMs.toFixed(0)} ms (${b.n} requests)`);
    console.log(`weights in a computing neighbour's busy count (median over requests): an init ${p.initWeight.toFixed(2)}, a first inference ${p.firstInferenceWeight.toFixed(2)}; first inference alone x${p.firstInferenceFactor.toFixed(2)} a warm compute (by cut: ${Object.entries(p.firstInferenceFactorByCut).map(([c, f]) => `${c} x${f.factor.toFixed(2)}, ${f.pairs} pairs`).join('; ')})`);
    for (const b of p.besideFirsts)
      console.log(`warm beside ~${b.m} first inference(s), no init: compute x${b.computeSlowdown.toFixed(2)} (beside ${b.m} warm: x${b.besideWarm.toFixed(2)}), weight of a first inference ${b.weight.toFixed(2)} (${b.n} requests)`);
    return;
  }
  const loneCuts = argValue('--lone-cold-cuts');
  if (loneCuts) return loneColdStarts(loneCuts.split(',').map(Number), Number(argValue('--lone-cold-repeats') ?? 6));
  const maxK = Number(argValue('--max-k') ?? 5);
  const rounds = Number(argValue('--rounds') ?? 6);
  const coldRounds = Number(argValue('--cold-rounds') ?? 3);
  const mixedRounds = Number(argValue('--mixed-rounds') ?? 3);
  const threadsArg = argValue('--threads');
  const threads = tailWasmThreads(TAIL_MEMORY_MB, threadsArg === undefined ? undefined : Number(threadsArg));
  const dir = mkdtempSync(join(tmpdir(), 'local-contention-'));
  const config = writeLocalConfig(dir, { memoryMB: TAIL_MEMORY_MB, reservedConcurrency: maxK + 1, wasmThreads: threads }, { models: { [MODEL]: { cuts: [0] } } });
  const payload = (await headPayloads(MODEL, [0])).get(0)!;
  const route = inferRoute(MODEL, 0);

  let stack: OffloadLocalProcess | undefined;
  const samples: Sample[] = [];
  const mixed: MixedSample[] = [];
  const phases: { k: number; cold: boolean; cpuBusyShare: number; wallMs: number }[] = [];
  const load0 = loadavg();
  try {
    stack = await startOffloadLocal(
      ['--config', config, '--models', MODEL, '--port', '0', '--keep-alive-ms', String(KEEP_ALIVE_MS), '--state-dir', join(dir, 'state'), '--json', '--quiet'],
      { echoStderr: true },
    );
    const api = new OffloadApi({ baseUrl: stack.url, timeoutMs: 120_000 });
    const burst = async (k: number): Promise<Sample[]> => {
      const res = await Promise.all(Array.from({ length: k }, () => api.infer(route, payload)));
      return res.map((r) => ({ k, cold: r.cold, roundTripMs: r.roundTripMs, computeMs: r.computeMs ?? NaN, initMs: r.initMs }));
    };
    const phase = async (k: number, cold: boolean, run: () => Promise<void>) => {
      const c0 = cpuBusy();
      const t0 = performance.now();
      await run();
      const c1 = cpuBusy();
      phases.push({ k, cold, cpuBusyShare: (c1.busy - c0.busy) / (c1.total - c0.total), wallMs: performance.now() - t0 });
    };
    for (let k = 1; k <= maxK; k++) {
      for (let r = 0; r < coldRounds; r++) {
        await sleep(REAP_WAIT_MS); // every environment reaped: the next burst starts k cold
        await phase(k, true, async () => {
          samples.push(...(await burst(k)));
        });
      }
      await phase(k, false, async () => {
        for (let r = 0; r < rounds; r++) samples.push(...(await burst(k)));
      });
      console.error(`k=${k} done`);
    }
    // The mixed case: one environment warm, then c cold starts beside the requests it keeps serving.
    for (let c = 1; c < maxK; c++) {
      for (let r = 0; r < mixedRounds; r++) {
        await sleep(REAP_WAIT_MS);
        const first = await api.infer(route, payload); // the warm environment's own cold start
        if (!first.cold) throw new Error('mixed phase: expected every environment reaped');
        await sleep(300);
        // Its next request is in flight (the environment busy) before the c others are sent, so they start cold.
        const firstWarm = api.infer(route, payload);
        await sleep(20);
        const sentAt = performance.now();
        let coldDone = false;
        const coldEnds: number[] = [];
        const colds = Promise.all(
          Array.from({ length: c }, () =>
            api.infer(route, payload).then((x) => {
              coldEnds.push(performance.now());
              return x;
            }),
          ),
        ).finally(() => {
          coldDone = true;
        });
        const warmSamples: { end: number; res: Awaited<ReturnType<typeof api.infer>> }[] = [];
        let next = firstWarm;
        for (;;) {
          const res = await next;
          warmSamples.push({ end: performance.now(), res });
          if (coldDone) break;
          next = api.infer(route, payload);
        }
        const coldRes = await colds;
        if (coldRes.some((x) => !x.cold) || warmSamples.some((w) => w.res.cold)) {
          console.error(`mixed c=${c}: a request went to another environment than planned; round dropped`);
          continue;
        }
        const initEnd = sentAt + Math.min(...coldRes.map((x) => x.initMs ?? 0));
        // coldEnds are in completion order, coldRes in send order: pair them by sorting both by when they ended.
        coldEnds.sort((a, b) => a - b);
        const coldWindows = coldRes
          .map((x) => ({ computeMs: x.computeMs ?? NaN, initMs: x.initMs ?? 0, rt: x.roundTripMs }))
          .sort((a, b) => a.rt - b.rt)
          .map((x, j) => {
            const firstEnd = coldEnds[j]!;
            return { first: [firstEnd - x.computeMs, firstEnd] as const, init: [firstEnd - x.computeMs - x.initMs, firstEnd - x.computeMs] as const };
          });
        for (const w of warmSamples) {
          const span = [w.end - (w.res.computeMs ?? NaN), w.end] as const;
          const avg = (pick: 'first' | 'init') => coldWindows.reduce((a, cw) => a + overlap(span, cw[pick]), 0) / (span[1] - span[0]);
          mixed.push({ cold: c, besideInits: w.end <= initEnd, roundTripMs: w.res.roundTripMs, computeMs: w.res.computeMs ?? NaN, initsAvg: avg('init'), firstsAvg: avg('first') });
        }
      }
      console.error(`mixed c=${c} done`);
    }
  } finally {
    if (stack) await stack.close();
  }

  const rows = [];
  for (let k = 1; k <= maxK; k++) {
    const warm = samples.filter((s) => s.k === k && !s.cold);
    const cold = samples.filter((s) => s.k === k && s.cold);
    const overhead = warm.map((s) => s.roundTripMs - s.computeMs);
    rows.push({
      k,
      warm: {
        n: warm.length,
        roundTripMs: median(warm.map((s) => s.roundTripMs)),
        computeMs: median(warm.map((s) => s.computeMs)),
        overheadMs: median(overhead),
        /** Spread at a fixed k: what the simulator's jitter stands for (core/sim/jitter.ts), the sharing apart. */
        computeCv: cv(warm.map((s) => s.computeMs)),
        cpuBusyShare: phases.find((p) => p.k === k && !p.cold)!.cpuBusyShare,
      },
      cold: {
        n: cold.length,
        roundTripMs: median(cold.map((s) => s.roundTripMs)),
        initMs: median(cold.filter((s) => s.initMs !== null).map((s) => s.initMs!)),
        computeMs: median(cold.map((s) => s.computeMs)),
        initCv: cv(cold.filter((s) => s.initMs !== null).map((s) => s.initMs!)),
        cpuBusyShare: median(phases.filter((p) => p.k === k && p.cold).map((p) => p.cpuBusyShare)),
      },
      /** What a cold call costs the client over a warm one at this k (docs/cost-model.md §3): median cold − median warm round trip. */
      coldExtraMs: median(cold.map((s) => s.roundTripMs)) - median(warm.map((s) => s.roundTripMs)),
    });
  }
  const base = rows[0]!;
  const result = {
    date: new Date().toISOString(),
    loadAverage: { start: load0, end: loadavg() },
    cores: cpus().length,
    wasmThreadsPerEnvironment: threads,
    rows: rows.map((r) => ({
      ...r,
      warmComputeRatio: r.warm.computeMs / base.warm.computeMs,
      warmRoundTripRatio: r.warm.roundTripMs / base.warm.roundTripMs,
      coldInitRatio: r.cold.initMs / base.cold.initMs,
    })),
    samples,
    mixed,
  };
  for (const r of result.rows) {
    console.log(
      `k=${r.k}  warm: round trip ${r.warm.roundTripMs.toFixed(0)} ms (x${r.warmRoundTripRatio.toFixed(2)}), compute ${r.warm.computeMs.toFixed(0)} ms (x${r.warmComputeRatio.toFixed(2)}), rest ${r.warm.overheadMs.toFixed(0)} ms, cpu ${(r.warm.cpuBusyShare * 100).toFixed(0)} %` +
        `  | cold: round trip ${r.cold.roundTripMs.toFixed(0)} ms (+${r.coldExtraMs.toFixed(0)}), init ${r.cold.initMs.toFixed(0)} ms (x${r.coldInitRatio.toFixed(2)}), cpu ${(r.cold.cpuBusyShare * 100).toFixed(0)} %`,
    );
  }
  for (let c = 1; c < maxK; c++) {
    const m = mixed.filter((x) => x.cold === c && x.besideInits);
    if (m.length) console.log(`warm beside ${c} init(s): compute ${median(m.map((x) => x.computeMs)).toFixed(0)} ms (x${(median(m.map((x) => x.computeMs)) / base.warm.computeMs).toFixed(2)}), rest ${median(m.map((x) => x.roundTripMs - x.computeMs)).toFixed(0)} ms (${m.length} requests)`);
  }
  console.log(`${result.wasmThreadsPerEnvironment} wasm threads per environment, ${result.cores} cores; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${result.loadAverage.end.map((x) => x.toFixed(2)).join(' ')}`);
  const json = argValue('--json');
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
}

/**
 * `--lone-cold-cuts 0,36,…`: the lone cold start of each cut's tail on the stack as `offload local` runs it (a process
 * of its own, environments reaped by their keep-alive, not by a call into the emulator): per cut, `repeats` times, wait
 * until every environment is reaped, a cold request, then a warm one; the cold start is the median cold − warm round
 * trip (docs/cost-model.md §3), what the host model's `coldStartMs` holds.
 */
async function loneColdStarts(cuts: number[], repeats: number): Promise<void> {
  if (cuts.some((c) => !Number.isInteger(c) || c < 0) || !(Number.isInteger(repeats) && repeats >= 1)) {
    console.error('--lone-cold-cuts must be whole numbers >= 0, --lone-cold-repeats a whole number >= 1');
    process.exit(2);
  }
  const threadsArg = argValue('--threads');
  const threads = tailWasmThreads(TAIL_MEMORY_MB, threadsArg === undefined ? undefined : Number(threadsArg));
  const dir = mkdtempSync(join(tmpdir(), 'local-contention-'));
  const config = writeLocalConfig(dir, { memoryMB: TAIL_MEMORY_MB, wasmThreads: threads }, { models: { [MODEL]: { cuts } } });
  const payloads = await headPayloads(MODEL, cuts);
  const load0 = loadavg();
  const pairs: { cut: number; coldRoundTripMs: number; warmRoundTripMs: number; initMs: number | null; coldComputeMs: number | null; warmComputeMs: number | null }[] = [];
  let stack: OffloadLocalProcess | undefined;
  try {
    stack = await startOffloadLocal(['--config', config, '--models', MODEL, '--port', '0', '--keep-alive-ms', String(KEEP_ALIVE_MS), '--state-dir', join(dir, 'state'), '--json', '--quiet'], { echoStderr: true });
    const api = new OffloadApi({ baseUrl: stack.url, timeoutMs: 120_000 });
    for (let r = 0; r < repeats; r++) {
      for (const cut of cuts) {
        await sleep(REAP_WAIT_MS);
        const cold = await api.infer(inferRoute(MODEL, cut), payloads.get(cut)!);
        const warm = await api.infer(inferRoute(MODEL, cut), payloads.get(cut)!);
        if (!cold.cold || warm.cold) throw new Error(`cut ${cut}: expected a cold then a warm call (got cold=${cold.cold}, then ${warm.cold})`);
        pairs.push({ cut, coldRoundTripMs: cold.roundTripMs, warmRoundTripMs: warm.roundTripMs, initMs: cold.initMs, coldComputeMs: cold.computeMs, warmComputeMs: warm.computeMs });
      }
      console.error(`round ${r + 1} of ${repeats} done`);
    }
  } finally {
    if (stack) await stack.close();
  }
  const rows = cuts.map((cut) => {
    const p = pairs.filter((x) => x.cut === cut);
    return {
      cut,
      n: p.length,
      coldStartMs: median(p.map((x) => x.coldRoundTripMs - x.warmRoundTripMs)),
      initMs: median(p.filter((x) => x.initMs !== null).map((x) => x.initMs!)),
      coldRoundTripMs: median(p.map((x) => x.coldRoundTripMs)),
      warmRoundTripMs: median(p.map((x) => x.warmRoundTripMs)),
      /** The cold call's first inference over the warm call's compute, median of the pairs' ratios (runs before round 8 lack the warm one). */
      firstInferenceFactor: median(p.filter((x) => x.coldComputeMs !== null && x.warmComputeMs != null).map((x) => x.coldComputeMs! / x.warmComputeMs!)),
      coldComputeMs: median(p.filter((x) => x.coldComputeMs !== null).map((x) => x.coldComputeMs!)),
      warmComputeMs: median(p.filter((x) => x.warmComputeMs != null).map((x) => x.warmComputeMs!)),
    };
  });
  const end = loadavg();
  for (const r of rows) console.log(`cut ${r.cut}: cold start ${r.coldStartMs.toFixed(0)} ms (cold ${r.coldRoundTripMs.toFixed(0)}, warm ${r.warmRoundTripMs.toFixed(0)}, init ${r.initMs.toFixed(0)}; first inference ${r.coldComputeMs.toFixed(0)} ms vs warm ${r.warmComputeMs.toFixed(0)}, x${r.firstInferenceFactor.toFixed(2)}; ${r.n} pairs)`);
  console.log(`${threads} wasm threads per environment; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${end.map((x) => x.toFixed(2)).join(' ')}`);
  const json = argValue('--json');
  if (json) writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), loadAverage: { start: load0, end }, wasmThreadsPerEnvironment: threads, rows, pairs }, null, 2)}\n`);
}

if (isMain(import.meta.url)) {
  checkArgs({ values: ['--max-k', '--rounds', '--cold-rounds', '--mixed-rounds', '--threads', '--json', '--lone-cold-cuts', '--lone-cold-repeats', '--pool'], flags: [], usage: 'npx tsx bench/local-contention.ts [--max-k 5] [--rounds 6] [--cold-rounds 3] [--mixed-rounds 3] [--threads N] [--lone-cold-cuts 0,36,...] [--lone-cold-repeats 6] [--json FILE] | --pool a.json,b.json,...' });
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  });
}
