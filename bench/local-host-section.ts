/**
 * The simulator on this machine, as markdown: why the local stack's tails slow
 * down in bursts (bench/local-contention.ts), the simulator against the local
 * stack (bench/sim-validation.ts) and a recommendation for the local host
 * replayed on it (bench/recommend-replay.ts) — from their JSON in
 * bench/results/. Rendered into docs/evaluation.md ("At scale") by
 * bench/evaluation.ts and into docs/evaluation-at-scale.md by
 * bench/evaluation-at-scale.ts.
 *
 * `npx tsx bench/local-host-section.ts --splice docs/evaluation.md` rewrites
 * that section of an existing evaluation.md from the committed results
 * without re-running the 11-minute evaluation.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { INFER_HEADERS } from '../core/api';
import { firstInferenceFactor, LOCAL_HOST, type HostModel } from '../core/sim/host';
import { poolRuns, type ContentionRun, type LoneColdRun } from './local-contention';
import { floorLognormalFit, overlapRatios, phaseRatios, phaseTable, type Served } from './stack-cpu';
import { argValue, checkArgs, isMain, median } from './report';
import { validationMarkdown, type SweepCell, type ValidationRow } from './sim-validation';
import { byCutTable, type ColdSample } from './first-burst';
import { burstFit, fitScales, measuredBursts, simulatedRiderBurst, type RiderBurst } from './burst-riders';

const results = fileURLToPath(new URL('./results/', import.meta.url));

/** What bench/local-contention.ts --json writes (the parts shown). */
export interface Contention extends ContentionRun {
  date: string;
  loadAverage: { start: number[]; end: number[] };
  wasmThreadsPerEnvironment: number;
  rows: {
    k: number;
    warm: { roundTripMs: number; computeMs: number; overheadMs: number };
    cold: { roundTripMs: number; initMs: number };
    warmComputeRatio: number;
    coldInitRatio: number;
  }[];
}

/** What bench/sim-validation.ts --json writes. */
export interface Validation {
  /** The host model as committed (LOCAL_HOST), each simulated figure the median over `simSeeds` seeds; in files from before 2026-12-01 05:00, the host at the probe's speed, one seed. */
  rows: ValidationRow[];
  /** Seeds per simulated figure; absent: one. */
  simSeeds?: number;
  /** With --probe: the host at the session's speed. */
  rowsAtProbeSpeed?: ValidationRow[];
  probe?: { requests: number; policies: string[]; wallS: number; speed: { computeScale: number; coldScale: number; invokeOverheadMs?: number; warm: number; cold: number } };
  /** Last round's method (the run's medians, no host model); absent from older files. */
  rowsMedians?: ValidationRow[];
  /** The stack's own spread: 5th–95th percentiles of p50 and p95 over resamplings of the run's requests. */
  realSpread?: Record<string, { n: number; p50: [number, number]; p95: [number, number] }>;
  host?: HostModel;
  loadAverage: number[];
  wallS: number;
  calibration: unknown;
  trace: { requests: number; process: string };
  date: string;
  failures?: { server: number; timeout: number };
}

/** What bench/first-burst.ts --json writes (the parts shown), and the file it came from. */
export interface FirstBurstRun {
  file: string;
  date: string;
  loadAverage: { start: number[]; end: number[] };
  samples: ColdSample[];
}

/** What bench/sim-validation.ts --pool --json writes. */
export interface PooledValidation {
  runs: number;
  requests: number;
  simSeeds: number;
  rows: ValidationRow[];
}

/** bench/burst-riders.ts --json runs, and the first-burst --by-cut runs fitted with them, each with the file it came from. */
export interface BurstRuns {
  riders: { file: string; date: string; cut?: number; loadAverage: { start: number[]; end: number[] }; bursts: RiderBurst[] }[];
  together: { file: string; date: string; samples: ColdSample[] }[];
}

/** What bench/sim-validation.ts --pool … --sweep … --json writes. */
export interface SweepResult {
  date: string;
  wallS: number;
  simSeeds: number;
  runs: number;
  requests: number;
  cells: SweepCell[];
}

/** What bench/recommend-replay.ts --json writes. */
export interface Replay {
  date: string;
  host?: HostModel | 'lambda';
  loadAverage: { start: number[]; end: number[] };
  trace: { requests: number; process: string };
  recommended: {
    configuration: string;
    maxP95Ms: number;
    /** The reserved-concurrency caps the search tried besides the sized one, and its best without them. */
    reservedCaps?: number[];
    uncapped?: { configuration: string; p50: number; p95: number; rate429: number } | null;
  };
  promised: { p50: number; p95: number; rate429: number; throttled?: number; coldStarts: number };
  measured: { p50: number; p95: number; rate429: number; throttled?: number; coldStarts: number; errors: number; fallbacks: number };
  meetsPromise: boolean;
}

/** What bench/stack-cpu.ts --json writes for steady rates (the parts shown). */
export interface StackCpuRun {
  date: string;
  loadAverage: { start: number[]; end: number[] };
  loneComputeMs: number;
  phases: { rate: number; requests: number; cpuMsPerRequest: { client: number; main: number; tail: number; tailCompute: number; tailBesidesCompute: number }; coreShare: number; samples: Served[] }[];
}

/** What bench/stack-cpu.ts --bursty --json writes (the parts shown). */
export interface StackCpuBursty {
  date: string;
  loadAverage: { start: number[]; end: number[] };
  rate: number;
  seed: number;
  requests: number;
  loneComputeMs: number;
  coldStartMs: number;
  backMs: number;
  runs: Served[][];
}

const la = (l: readonly number[]) => l.map((v) => v.toFixed(1)).join(' / ');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const pct = (s: number, r: number) => (r === 0 ? (s === 0 ? '0' : `+${s}`) : `${s >= r ? '+' : ''}${((100 * (s - r)) / r).toFixed(0)} %`);

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

/**
 * The 1-thread contention runs LOCAL_HOST was measured from (core/sim/host.ts), on this session's machine (an Intel
 * Xeon since 2026-12-01; the EPYC's runs are in git history): two full runs for every table, two more with only the
 * mixed phase (--cold-rounds 0) for the weights of inits and first inferences, pooled with the full runs' mixed phases.
 */
const MIXED_RUNS = ['a', 'b'].map((x) => `first-inference-mixed-r8-${x}.json`);
const INIT_RUNS = ['c', 'd'].map((x) => `local-contention-1thread-xeon-${x}.json`);
/** Lone cold starts (with each warm call's compute) after the same wait: their cut-0 inits join the init table's lone base, their pairs give the first-inference factor (bench/local-contention.ts poolRuns). */
const LONE_COLD_RUNS = ['first-inference-lone-cold-r8-a.json', 'lone-cold-1thread-xeon-a.json'];
/** The EPYC's 1-thread runs of the same engine (2026-11-30): the 2-thread run's comparison, same machine. */
const EPYC_ONE_THREAD_RUNS = ['a', 'b', 'c', 'd', 'e'].map((x) => `local-contention-1thread-fused-${x}.json`);
/**
 * Round 12 (the current answer): the validation's trace at 4/s three times, each run after the host probe (--probe),
 * made after the per-cut init burst scale was fitted (on other requests: BURST_RUNS); pooled as committed and at each
 * run's probe speed; round 11's three runs of the same trace (same stack code) pooled with them on the current model;
 * and round 11's run at 2/s re-simulated, which is `validation` (npm run bench:evaluation-at-scale passes it).
 */
const NOW_RUNS = ['run1', 'run2', 'run3'].map((n) => `sim-validation-r12-rate4-${n}.json`);
const NOW_POOLED = 'sim-validation-r12-rate4-pooled.json';
const NOW_POOLED_PROBE = 'sim-validation-r12-rate4-pooled-probe.json';
/** Rounds 11 and 12's six runs of the trace, pooled on the current model. */
const ALL_POOLED = 'sim-validation-r11r12-rate4-pooled.json';
/** The same 3 runs pooled on LOCAL_HOST at other speeds (--sweep): how far the simulated figures move with the host's speed. */
const NOW_SWEEP = 'sim-validation-r12-rate4-sweep.json';
export const NOW_RATE2 = 'sim-validation-r11-rate2-run1.json';
/** bench/burst-riders.ts (round 12): four cold starts at the trace's first-burst offsets on fresh stacks, what `initBurstScaleByCut` was fitted on with FIRST_BURST_BY_CUT. */
const BURST_RUNS = [...['a', 'b', 'c', 'd'].map((x) => `burst-riders-r12-cut0-${x}.json`), ...['a', 'b'].map((x) => `burst-riders-r12-cut63-${x}.json`)];
/** bench/first-burst.ts --by-cut (round 11): four cold starts sent together at cuts 0 and 63. */
const FIRST_BURST_BY_CUT = ['a', 'b'].map((x) => `first-burst-bycut-r11-${x}.json`);
/** Round 11's runs as pooled then, on the model of then (history). */
const R11_POOLED = 'sim-validation-r11-rate4-pooled.json';
const R11_POOLED_PROBE = 'sim-validation-r11-rate4-pooled-probe.json';
const R11_SWEEP = 'sim-validation-r11-rate4-sweep.json';
/** Earlier rounds' validation, shown as history (each round's records stay in bench/results/sim-validation-records/). */
const R8_POOLED = 'sim-validation-r8-pooled.json';
const R8_RATE4_POOLED = 'sim-validation-r8-rate4-pooled.json';
const R9_RATE4_POOLED = 'sim-validation-r9-rate4-pooled.json';
const R9_RATE2 = 'sim-validation-r9-rate2-run1.json';
const R10_POOLED = 'sim-validation-r10-rate4-pooled.json';
const R10_POOLED_PROBE = 'sim-validation-r10-rate4-pooled-probe.json';
/** bench/first-burst.ts (round 10): bursts of cold starts sent together on fresh stacks. */
const FIRST_BURST_RUNS = ['first-burst-r10-a.json', 'first-burst-bycut-r10-a.json', 'first-burst-plan-r10-a.json', 'first-burst-ab-r10-a.json'];
/** bench/stack-cpu.ts: steady Poisson runs (CPU per request, the compute's spread) and the bursty run (phases against the host model). */
const STACK_CPU_RUNS = ['a', 'b'].map((x) => `stack-cpu-r9-${x}.json`);
const STACK_CPU_BURSTY = 'stack-cpu-bursty-r9-a.json';
/** The lone cold starts per cut LOCAL_HOST holds now (main 098079b). */
const LONE_COLD_NOW = ['a', 'b'].map((x) => `lone-cold-1thread-r9-${x}.json`);
/** Round 11: the init table and the lone cold starts measured again on main after permib's cold path (same commands). */
const RECHECK_CONTENTION = ['a', 'b'].map((x) => `local-contention-1thread-r11-${x}.json`);
const RECHECK_LONE_COLD = ['b', 'c'].map((x) => `lone-cold-1thread-r11-${x}.json`);
/** Round 11's mixed-phase-only runs (--cold-rounds 0), pooled with the full runs' mixed phases for the weights. */
const RECHECK_MIXED = ['a', 'b'].map((x) => `first-inference-mixed-r11-${x}.json`);

/** The committed results, those present. */
export function committedResults(): {
  contention: { oneThread: Contention[]; oneThreadInit: Contention[]; oneThreadMixed: Contention[]; loneCold: LoneColdRun[]; twoThreads?: Contention; twoThreadsBase: Contention[] };
  /** The current 2/s run (round 11's; evaluation-at-scale's --validation replaces it). */
  validation?: Validation;
  /** Round 12's 4/s runs with the probe, pooled as committed and at each run's probe speed; with round 11's; the bursts the model was fitted on. */
  now?: { runs: Validation[]; pooled?: PooledValidation; pooledProbe?: PooledValidation; all?: PooledValidation; sweep?: SweepResult; bursts?: BurstRuns };
  /** Rounds 8–11's pooled results, for the history paragraphs. */
  history: { r8?: PooledValidation; r8Rate4?: PooledValidation; r9Rate4?: PooledValidation; r9Rate2?: Validation; r10?: PooledValidation; r10Probe?: PooledValidation; r11?: PooledValidation; r11Probe?: PooledValidation; r11Sweep?: SweepResult; firstBurst: FirstBurstRun[] };
  /** Round 11's re-check of the host model's cold-path figures on the current tail. */
  recheck?: { contention: Contention[]; mixed: Contention[]; loneCold: LoneColdRun[]; loneColdBefore: LoneColdRun[] };
  stackCpu?: { steady: StackCpuRun[]; bursty?: StackCpuBursty };
  replay?: Replay;
} {
  const read = (files: string[]) => files.flatMap((f) => readJson<Contention>(`${results}${f}`) ?? []);
  const twoThreads = readJson<Contention>(`${results}local-contention-2threads-fused.json`);
  const loneCold = LONE_COLD_RUNS.flatMap((f) => readJson<LoneColdRun>(`${results}${f}`) ?? []);
  // this round's full runs hold every table: the same runs for compute, overhead and init
  const oneThread = read(INIT_RUNS);
  const contention = { oneThread, oneThreadInit: oneThread, oneThreadMixed: read(MIXED_RUNS), loneCold, ...(twoThreads ? { twoThreads } : {}), twoThreadsBase: read(EPYC_ONE_THREAD_RUNS) };
  const validation = readJson<Validation>(`${results}${NOW_RATE2}`);
  const nowRuns = NOW_RUNS.flatMap((f) => readJson<Validation>(`${results}${f}`) ?? []);
  const nowPooled = readJson<PooledValidation>(`${results}${NOW_POOLED}`);
  const nowProbe = readJson<PooledValidation>(`${results}${NOW_POOLED_PROBE}`);
  const nowSweep = readJson<SweepResult>(`${results}${NOW_SWEEP}`);
  const nowAll = readJson<PooledValidation>(`${results}${ALL_POOLED}`);
  const riders = BURST_RUNS.flatMap((f) => {
    const run = readJson<BurstRuns['riders'][number]>(`${results}${f}`);
    return run ? [{ ...run, file: f }] : [];
  });
  const together = FIRST_BURST_BY_CUT.flatMap((f) => {
    const run = readJson<{ date: string; samples: ColdSample[] }>(`${results}${f}`);
    return run ? [{ ...run, file: f }] : [];
  });
  const replay = readJson<Replay>(`${results}recommend-replay.json`);
  const pooled = (f: string) => readJson<PooledValidation>(`${results}${f}`);
  const firstBurst = FIRST_BURST_RUNS.flatMap((f) => {
    const run = readJson<Omit<FirstBurstRun, 'file'>>(`${results}${f}`);
    return run ? [{ ...run, file: f }] : [];
  });
  const r9Rate2 = readJson<Validation>(`${results}${R9_RATE2}`);
  const history = { r8: pooled(R8_POOLED), r8Rate4: pooled(R8_RATE4_POOLED), r9Rate4: pooled(R9_RATE4_POOLED), ...(r9Rate2 ? { r9Rate2 } : {}), r10: pooled(R10_POOLED), r10Probe: pooled(R10_POOLED_PROBE), r11: pooled(R11_POOLED), r11Probe: pooled(R11_POOLED_PROBE), r11Sweep: readJson<SweepResult>(`${results}${R11_SWEEP}`), firstBurst };
  const recheckRuns = read(RECHECK_CONTENTION);
  const recheckLone = RECHECK_LONE_COLD.flatMap((f) => readJson<LoneColdRun>(`${results}${f}`) ?? []);
  const steady = STACK_CPU_RUNS.flatMap((f) => readJson<StackCpuRun>(`${results}${f}`) ?? []);
  const bursty = readJson<StackCpuBursty>(`${results}${STACK_CPU_BURSTY}`);
  return {
    ...(nowRuns.length
      ? { now: { runs: nowRuns, ...(nowPooled ? { pooled: nowPooled } : {}), ...(nowProbe ? { pooledProbe: nowProbe } : {}), ...(nowAll ? { all: nowAll } : {}), ...(nowSweep ? { sweep: nowSweep } : {}), ...(riders.length ? { bursts: { riders, together } } : {}) } }
      : {}),
    history,
    ...(recheckRuns.length && recheckLone.length ? { recheck: { contention: recheckRuns, mixed: read(RECHECK_MIXED), loneCold: recheckLone, loneColdBefore: LONE_COLD_NOW.flatMap((f) => readJson<LoneColdRun>(`${results}${f}`) ?? []) } } : {}),
    ...(steady.length ? { stackCpu: { steady, ...(bursty ? { bursty } : {}) } } : {}),
    contention,
    ...(validation ? { validation } : {}),
    ...(replay ? { replay } : {}),
  };
}

type ContentionResults = ReturnType<typeof committedResults>['contention'];

/** When a kept run ended and the load average at its start and end (any run file with a date and its load). */
const when = (c: { date: string; loadAverage: { start: number[]; end: number[] } }) => `ended ${c.date.slice(11, 16)} UTC, load ${la(c.loadAverage.start)} → ${la(c.loadAverage.end)}`;

/** Why the local tails slow down in bursts: the pooled 1-thread runs (what LOCAL_HOST holds) beside the 2-thread run. */
export function contentionMarkdown(x: ContentionResults): string {
  if (x.oneThread.length === 0) return 'Not measured (no bench/results/local-contention-1thread-fused-*.json).';
  const one = poolRuns(x.oneThread);
  const init = x.oneThreadInit.length ? poolRuns(x.oneThreadInit, x.loneCold) : undefined;
  const mixedPool = mixedOf(x);
  const two = x.twoThreads;
  const lines = [
    `| k concurrent | 1 thread: compute ms (× alone) | 1 thread: rest ms | 1 thread: cold init ms (× alone) | 1 thread: cold first compute ms | 1 thread: warm beside k − 1 cold starts' inits, compute ms (× alone) | 1 thread: warm beside ~k − 1 first inferences (no init), compute ms (× alone) |${two ? ' 2 threads (EPYC): compute ms (× alone) | 2 threads (EPYC): cold init ms (× alone) |' : ''}`,
    `|---:|---:|---:|---:|---:|---:|---:|${two ? '---:|---:|' : ''}`,
  ];
  one.computeSlowdown.forEach((s, i) => {
    const t = two?.rows[i];
    const cold = init ? `${f0(init.loneInitMs * init.initSlowdown[i]!)} (${init.initSlowdown[i]!.toFixed(2)})` : '–';
    const first = init ? f0(init.coldComputeMsByK[i] ?? NaN) : '–';
    const mixed = mixedPool?.besideInits.find((b) => b.c === i);
    const beside = mixed ? `${f0(mixedPool!.loneComputeMs * mixed.computeSlowdown)} (${mixed.computeSlowdown.toFixed(2)}; ${mixed.n} requests)` : '–';
    const firsts = mixedPool?.besideFirsts.find((b) => b.m === i);
    const besideFirst = firsts ? `${f0(mixedPool!.loneComputeMs * firsts.computeSlowdown)} (${firsts.computeSlowdown.toFixed(2)}; ${firsts.n} requests)` : '–';
    lines.push(
      `| ${i + 1} | ${f0(one.loneComputeMs * s)} (${s.toFixed(2)}) | ${f0(one.overheadMsByK[i]!)} | ${cold} | ${first} | ${beside} | ${besideFirst} |${t ? ` ${f0(t.warm.computeMs)} (${t.warmComputeRatio.toFixed(2)}) | ${f0(t.cold.initMs)} (${t.coldInitRatio.toFixed(2)}) |` : ''}`,
    );
  });
  return `${lines.join('\n')}

1 thread, on this session's machine (2 vCPUs, an Intel Xeon under KVM; main 4b0832a, 2026-12-01): medians of ${x.oneThread.length} runs pooled (\`npx tsx bench/local-contention.ts --threads 1 --cold-rounds 3 --mixed-rounds 4\`, then \`--pool …\`; ${x.oneThread.map(when).join('; ')}), the lone init the median of their lone cold starts and the cut-0 ones of the lone cold-start runs (\`--lone-cold-cuts\`, after the same wait); the mixed case (\`--mixed-rounds\`: one environment serving request after request while k − 1 others start cold beside it) from those ${x.oneThread.length} and ${x.oneThreadMixed.length} more with only that phase (\`--cold-rounds 0 --mixed-rounds 6\` and \`8\`; ${x.oneThreadMixed.map(when).join('; ')}): beside the inits, the requests that ended before the first of those inits could have; beside first inferences, the requests whose compute overlapped no init and, on average over its span, about k − 1 first inferences (each window placed back from its response's arrival by its \`${INFER_HEADERS.computeMs}\` and \`${INFER_HEADERS.initMs}\`). Per run, the ratio at k = 3 ranged ${range(x.oneThread.map((c) => c.rows[2]!.warmComputeRatio))}, at k = 5 ${range(x.oneThread.map((c) => c.rows[4]!.warmComputeRatio))}.${two ? ` 2 threads: one run on the AMD EPYC this machine was until this session (${when(two)}), kept for the threads' comparison.` : ''} Under the measurement lock.`;
}

/** The mixed phases of every run pooled with the full runs' tables (the weights are read on the pooled compute table). */
function mixedOf(x: ContentionResults): ReturnType<typeof poolRuns> | undefined {
  return x.oneThread.length || x.oneThreadMixed.length ? poolRuns([...x.oneThread, ...x.oneThreadMixed], x.loneCold) : undefined;
}

const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

/**
 * Round 9's measurement of overlap (bench/stack-cpu.ts): CPU per request of each process under steady Poisson
 * arrivals, the spread of the warm computes that ran alone, and the bursty run's phases against the host model.
 */
export function overlapMarkdown(x: NonNullable<ReturnType<typeof committedResults>['stackCpu']>): string {
  const rates = [...new Set(x.steady.flatMap((r) => r.phases.map((p) => p.rate)))].sort((a, b) => a - b);
  const f1 = (v: number) => v.toFixed(1);
  // The computes of a phase's requests that overlapped no other's, read against the lone compute of the run it is in.
  const aloneIn = (r: StackCpuRun, p: StackCpuRun['phases'][number]) => overlapRatios(p.samples, r.loneComputeMs).filter((o) => o.n < 1.5).map((o) => o.computeMs);
  const rows = rates.map((rate) => {
    const runPhases = x.steady.flatMap((r) => r.phases.filter((p) => p.rate === rate).map((p) => ({ r, p })));
    const ps = runPhases.map(({ p }) => p);
    const mean = (f: (p: (typeof ps)[number]) => number) => ps.reduce((a, p) => a + f(p), 0) / ps.length;
    const alone = runPhases.flatMap(({ r, p }) => aloneIn(r, p));
    const sorted = [...alone].sort((a, b) => a - b);
    const med = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return `| ${rate} | ${ps.reduce((a, p) => a + p.requests, 0)} | ${f1(mean((p) => p.cpuMsPerRequest.client))} | ${f1(mean((p) => p.cpuMsPerRequest.main))} | ${f1(mean((p) => p.cpuMsPerRequest.tailBesidesCompute))} | ${f1(mean((p) => p.cpuMsPerRequest.tailCompute))} | ${(100 * mean((p) => p.coreShare)).toFixed(0)} % | ${f1(med)} (${alone.length}) | ${(alone.reduce((a, b) => a + b, 0) / alone.length / med).toFixed(2)} |`;
  });
  const fit = floorLognormalFit(x.steady.flatMap((r) => r.phases.flatMap((p) => aloneIn(r, p))));
  const out = [
    `\`npx tsx bench/stack-cpu.ts --rates 1,2,4,6 --requests 100\` (${x.steady.length} runs: ${x.steady.map(when).join('; ')}; Xeon): warm cut-0 requests (cloud-only, \`runLoad\` in the bench's own process as \`offload load\` runs it) with steady Poisson arrivals on a stack whose 4 environments were made warm first. CPU per request from /proc of each process (the stack's main process with its idle rate taken off, the tails) and process.cpuUsage() of the client, from its first request to its last answer; a request computing "alone" overlapped no other request's compute (its compute window placed back from its answer, overlap n < 1.5). Means of the runs' per-request figures:`,
    '',
    '| rate /s | requests | client CPU ms | stack main CPU ms | tail CPU besides its compute ms | tail compute ms | cores busy | compute alone: median ms (requests) | mean / median |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `- **The stack's own CPU per request is as large as the tail's compute, and does not slow the tails at these rates beyond what the tables hold.** The client, the API and emulator and stand-ins, and the tail's process besides its compute (event decode, registry marks, encode) spend together more CPU than the compute itself, but at 1 to 6/s a warm request computing alone takes the host's lone compute (${f1(fit.medianMs)} ms median against ${LOCAL_HOST.warmComputeMs?.mobilenetv2?.[0] ?? '–'} measured alone at cut 0), and the contention tables were measured with those parts running. Not modelled apart.`,
    `- **Its spread is skewed**: the 10th percentile of the computes alone is 0.9 × their median, the 95th ${fit.p95.toFixed(2)} ×, the mean ${fit.mean.toFixed(2)} ×, at 1/s as at 6/s (the tail's own variation, not sharing). The simulator drew a lognormal of CV 0.23 (the CV among one burst's requests), whose mean is 1.03 × its median, and freed environments early on average; it now draws ${fit.floor.toFixed(2)} + ${(1 - fit.floor).toFixed(2)} × a lognormal of CV ${fit.cv.toFixed(2)} (\`LOCAL_HOST.spread\`, \`tailFloor\`; \`bench/stack-cpu.ts --spread\`), exact at the 10th, 50th and 90th percentiles, mean ${fit.fitMean.toFixed(2)}, 95th ${fit.fitP95.toFixed(2)}.`,
  ];
  const b = x.bursty;
  if (b) {
    // The bursty run's stack ran the tail before 098079b: its cold start is the host's of then (in the file), its cut-0 first inference round 8's pairs (1.61).
    const then = (factorByCut: Record<number, number> | undefined): HostModel => ({ ...LOCAL_HOST, firstInference: { ...LOCAL_HOST.firstInference!, ...(factorByCut ? { factorByCut: { mobilenetv2: factorByCut } } : { factorByCut: {} }) } });
    const table = (h: HostModel) => phaseTable(b.runs.flatMap((r) => phaseRatios(r, h, b.loneComputeMs, b.coldStartMs, b.backMs)));
    const one = table(then(undefined));
    const perCut = table(then({ 0: 1.61 }));
    const r2 = (v: number) => v.toFixed(2);
    /** Every request's measured / predicted of one phase, median (the lower middle) / mean. */
    const allCell = (h: HostModel, phase: 'init' | 'first' | 'warm') => {
      const xs = b.runs.flatMap((r) => phaseRatios(r, h, b.loneComputeMs, b.coldStartMs, b.backMs)).filter((r) => r.phase === phase).map((r) => r.ms / r.predictedMs).sort((p, q) => p - q);
      return `${r2(xs[Math.floor((xs.length - 1) / 2)]!)} / ${r2(xs.reduce((p, q) => p + q, 0) / xs.length)}`;
    };
    const cell = (t: ReturnType<typeof table>, phase: string, band: string) => {
      const c = t.find((y) => y.phase === phase && y.band === band);
      return c ? `${r2(c.median)} / ${r2(c.mean)} (${c.n})` : '–';
    };
    const bands = [...new Set(one.map((t) => t.band))];
    out.push(
      '',
      `\`npx tsx bench/stack-cpu.ts --bursty ${b.rate} --requests ${b.requests} --runs ${b.runs.length} --seed ${b.seed}\` (${when(b)}; the tail before 098079b): the validation's kind of traffic (bursts at ${b.rate}/s for 4 s, 8 s off, 12 low-end phones on WiFi, cloud-only, the validation's stack) with another seed than the validation's, every phase of every request against what the host model predicts for the overlap it had: its lone time × s(n), n read on the host's table at the busy count around it over its window (an init as 1 on the init table; beside a compute, an init as \`initWeight\`, a first inference as \`firstInference.weight\`). Measured / predicted, median / mean (requests), by n:`,
      '',
      `| phase | ${bands.map((x) => `n ${x}`).join(' | ')} | all |`,
      `|---|${bands.map(() => '---:').join('|')}|---:|`,
      `| init | ${bands.map((x) => cell(one, 'init', x)).join(' | ')} | ${allCell(then(undefined), 'init')} |`,
      `| first inference, one factor (${LOCAL_HOST.firstInference!.factor}) | ${bands.map((x) => cell(one, 'first', x)).join(' | ')} | ${allCell(then(undefined), 'first')} |`,
      `| first inference, cut 0's own (1.61, the pairs of that code) | ${bands.map((x) => cell(perCut, 'first', x)).join(' | ')} | ${allCell(then({ 0: 1.61 }), 'first')} |`,
      `| warm compute | ${bands.map((x) => cell(one, 'warm', x)).join(' | ')} | ${allCell(then(undefined), 'warm')} |`,
      '',
      `- **Inits are where the model puts them; the first inference at cut 0 was not.** The one first-inference factor (${LOCAL_HOST.firstInference!.factor}, the median of the pairs at cuts 0, 36, 63) is low for the whole model's tail: the same lone pairs give cut 0 alone 1.61 (that code) and 1.58 (main after 098079b, \`bench/results/${LONE_COLD_NOW.join(', ')}\`; ${firstInferenceFactor(LOCAL_HOST, 'mobilenetv2', 0)} on the current tail, round 11), and with its own factor the burst's first inferences sit on the model (median 1.0). \`LOCAL_HOST.firstInference.factorByCut\` now holds cuts 0, 36, 63.`,
      `- **Cold starts in bursts, as the stack staggers them** (\`npx tsx bench/stagger-replay.ts\`): the same runs replayed on the model's processor sharing, every request entering when its init or compute began on the stack and the model saying when each phase ends (the predicted phases shift the overlap the next ones meet, as in the simulator), with the tail of then (lone cold start ${b.coldStartMs} ms, compute ${f1(b.loneComputeMs)}, first-inference factor 1.61). With the init table alone, the inits of bursts of 2–4 cold starts took 1.10, 1.06, 1.07, 1.15 × the model by their order in the burst (medians of 15, 15, 14, 5; all 49: 1.10 ×): the table's bursts were inits started together on an idle stack, these start staggered between warm requests. Three more runs of the same kind on the tail after 098079b (13:09–13:11 UTC, load 0.87 → 0.51, bench/results/stack-cpu-bursty-r9-b.json, lone cold start 321 ms, compute 26.9, factor 1.58) took 0.87, 1.00, 1.09, 1.14 × by order (all 43: 1.00 ×): the later inits of a burst run long in both sets, the first one is long in the first set and short in the second, so no order term is modelled. An init beside others reads 1 + s × (s(n) − 1) on the init table (\`LOCAL_HOST.initBurstScale\`; round 9 fitted 1.1 on the 92 inits of both sets, each replayed with its own tail: median 1.01 ×; 1.06 × at 1, 0.96 × at 1.2; the first set alone fits 1.2, the second 1.0; 0.95, 0.99, 1.02, 1.06 × by order, pooled; round 11's third set on the current tail fits 1.23 alone and the three pooled ${LOCAL_HOST.initBurstScale ?? 1}, what the model holds now, below). The first environment's first inference, beside the others' inits, is then 1.19 × and 1.27 × the model in the two sets (pooled 1.14 ×), the next ones' about 1 ×: no further term.`,
    );
  }
  return out.join('\n');
}

const within15 = (s: number, r: number) => (r === 0 ? s === 0 : Math.abs(s - r) / r <= 0.15);

/** The figures of `rows` not within 15 % of the stack's ("cut:63 429s", …). */
function missesOf(rows: readonly ValidationRow[]): string[] {
  return rows.flatMap((r) =>
    (
      [
        ['p50', r.sim.p50, r.real.p50],
        ['p95', r.sim.p95, r.real.p95],
        ['429s', r.sim.throttled, r.real.throttled],
        ['cold starts', r.sim.coldStarts, r.real.coldStarts],
      ] as const
    )
      .filter(([, s, re]) => !within15(s, re))
      .map(([what]) => `${r.policy} ${what}`),
  );
}

export function verdict(rows: readonly ValidationRow[]): string {
  const misses = missesOf(rows);
  return misses.length === 0 ? 'Every p50, p95, 429 count and cold-start count is within 15 %.' : `Not within 15 %: ${misses.join(', ')}.`;
}

/** The simulated figure's error against the stack's, signed, in whole %. */
const signedPct = (s: number, r: number) => `${s >= r ? '+' : '−'}${Math.abs((100 * (s - r)) / r).toFixed(0)} %`;

/** One line per offloading policy: p50 and p95 error, 429s and cold starts stack vs simulator (the planner keeps every request on the device here). */
export function briefOf(rows: readonly ValidationRow[]): string {
  const err = signedPct;
  return rows
    .filter((r) => r.policy !== 'planner')
    .map((r) => `${r.policy} p50 ${err(r.sim.p50, r.real.p50)}, p95 ${err(r.sim.p95, r.real.p95)}, 429s ${r.real.throttled} vs ${r.sim.throttled}, cold starts ${r.real.coldStarts} vs ${r.sim.coldStarts}`)
    .join('; ');
}

/** The stack's bootstrap p95 range over its p95, per run and policy (the planner's aside): min–max and mean. */
function p95Widths(runs: readonly Validation[]): string {
  const w = runs.flatMap((g) =>
    Object.entries(g.realSpread ?? {})
      .filter(([p]) => p !== 'planner')
      .map(([p, b]) => (b.p95[1] - b.p95[0]) / g.rows.find((r) => r.policy === p)!.real.p95),
  );
  if (w.length === 0) return '–';
  const pc = (x: number) => (100 * x).toFixed(0);
  return `${pc(Math.min(...w))}–${pc(Math.max(...w))} % (${pc(w.reduce((a, b) => a + b, 0) / w.length)} % on average over the ${w.length})`;
}

/**
 * The bursts the per-cut init burst scale was fitted on, as the docs tell it: per run the simulator's answer times over
 * the stack's (median over its cold requests) on the model with one scale for every cut (`initBurstScaleByCut` left out)
 * and as committed, the fit over all of them, and whether the refused requests changed a burst.
 */
export function burstsMarkdown(b: BurstRuns, host: HostModel = LOCAL_HOST): string {
  const one: HostModel = { ...host, initBurstScaleByCut: {} };
  const cutOf = (r: BurstRuns['riders'][number]) => r.cut ?? 0;
  const ratio = (bursts: ReturnType<typeof measuredBursts>, cut: number, h: HostModel) => burstFit(bursts, cut, h).ratio.toFixed(2);
  const runs = (cut: number) => b.riders.filter((r) => cutOf(r) === cut);
  const perRun = (cut: number, h: HostModel) => runs(cut).map((r) => ratio(measuredBursts(r), cut, h)).join(', ');
  const togetherAt = (cut: number, h: HostModel) => b.together.map((r) => ratio(measuredBursts(r).filter((x) => x.cut === cut), cut, h)).join(', ');
  const all = [...b.riders.flatMap((r) => measuredBursts(r)), ...b.together.flatMap((r) => measuredBursts(r))];
  const fits = fitScales(all, [1, 1.1, 1.15, 1.2, 1.3, 1.35, 1.4, 1.5], host);
  const byCut = host.initBurstScaleByCut?.mobilenetv2 ?? {};
  // The first pair's first inferences (they run beside the later pair's inits) at cut 0, where the runs kept them.
  const firstPair = runs(0).flatMap((r) => r.bursts.filter((x) => !x.riders && x.colds.every(Boolean)).flatMap((x) => (x.computes ?? []).slice(0, 2).filter((c): c is number => c !== null)));
  const simFirstPair = simulatedRiderBurst(false, one).computes.slice(0, 2);
  // Alone against with the refused requests, per run at one scale: each kind's answers over the simulator's for the same sends.
  const ridersEffect = b.riders
    .filter((r) => r.bursts.some((x) => x.riders) && r.bursts.some((x) => !x.riders))
    .map((r) => {
      const kind = (riders: boolean) => ratio(measuredBursts({ ...r, bursts: r.bursts.filter((x) => x.riders === riders) }), cutOf(r), one);
      return `${kind(false)} / ${kind(true)}`;
    });
  return `- **Whole bursts, measured apart from the trace** (\`npx tsx bench/burst-riders.ts --rounds 6 [--cut 63]\`: four cold requests on a fresh stack at the offsets where the trace's first burst reached the tail, 0, 4, 160 and 180 ms, and nothing else of the trace; every other burst with five more requests at the offsets of the trace's refused ones; each burst after every environment was reaped). Round 11 checked bursts by their inits only (four sent together: cut 0 1.02–1.03 × the model); what frees an environment is its answer, after the first inference, which runs long beside the later inits${firstPair.length ? ` (at cut 0 the first two environments' first inferences took a median ${f0(median(firstPair))} ms on the stack, ${firstPair.length} of them, against ${f0(median(simFirstPair))} simulated)` : ''}. On the model with one init burst scale for every cut (${host.initBurstScale ?? 1}, round 11's) the simulator answered at ${perRun(0, one)} × the stack's time at cut 0 (${runs(0).length} runs: ${runs(0).map(when).join('; ')}) and ${perRun(63, one)} × at cut 63 (${runs(63).map(when).join('; ')}); round 11's bursts sent together (${b.together.map((r) => r.file).join(', ')}) ${togetherAt(0, one)} × at cut 0 and ${togetherAt(63, one)} × at cut 63. The refused requests changed no burst beyond the runs' spread (alone / with them: ${ridersEffect.join('; ')}), so a refusal stays latency for its client only, as the simulator has it.
- **The fit** (\`--fit\` over those ${b.riders.length + b.together.length} files, pure computation): the median ratio is 1 at ${fits.map((f) => `${f.fit === null ? 'no scale in 1–1.5' : f.fit.toFixed(2)} at cut ${f.cut} (${f.n} requests)`).join(' and ')}. \`LOCAL_HOST.initBurstScaleByCut\` holds ${Object.entries(byCut).map(([c, k]) => `${k} at cut ${c}`).join(' and ')}; other tails keep the one ${host.initBurstScale ?? 1}. Lone cold starts do not change: the scale reads only beside other jobs. As committed the same runs read ${perRun(0, host)} × (cut 0) and ${perRun(63, host)} × (cut 63).`;
}

/** Round 12's findings on the runs below: what the model got wrong in round 11, how it was fitted, and what the new runs say. */
const nowFindings = (now: NonNullable<ReturnType<typeof committedResults>['now']>): string => {
  const count = (rows: readonly ValidationRow[] | undefined, policy: string, side: 'real' | 'sim') => rows?.find((r) => r.policy === policy)?.[side].throttled ?? '–';
  const pooled = now.pooled?.rows;
  const p95s = (policy: string) => now.runs.map((g) => {
    const r = g.rows.find((x) => x.policy === policy);
    return r ? signedPct(r.sim.p95, r.real.p95) : '–';
  });
  return [
    `**What differs, and whose fault it is** (round 12):`,
    '',
    ...(now.bursts ? [burstsMarkdown(now.bursts)] : []),
    `- **The runs above were made after the fit**, on the same stack code as round 11's: pooled, cloud-only's 429s are ${count(pooled, 'cloud-only', 'real')} on the stack against ${count(pooled, 'cloud-only', 'sim')} simulated, cut:63's ${count(pooled, 'cut:63', 'real')} against ${count(pooled, 'cut:63', 'sim')}${now.all ? `; round 11's three runs of the same trace pooled with them, on the current model (bench/results/${ALL_POOLED}): ${briefOf(now.all.rows)}. ${verdict(now.all.rows)}` : ''}`,
    `- **Per run the p95 still swings**: cut:63's simulated p95 is ${p95s('cut:63').join(', ')} from the stack's in the three runs, cloud-only's ${p95s('cloud-only').join(', ')}. A run's p95 rests on its top ${Math.ceil((now.runs[0]?.trace.requests ?? 80) * 0.05)} requests, the cold ones of a few bursts: the pooled runs are judged.`,
    `- **The session's speed**: the probe found computes ${range(now.runs.flatMap((g) => (g.probe?.speed ? [g.probe.speed.computeScale] : [])))} × and lone cold starts ${range(now.runs.flatMap((g) => (g.probe?.speed ? [g.probe.speed.coldScale] : [])))} × the model; at each run's probe speed cloud-only is ${count(now.pooledProbe?.rows, 'cloud-only', 'real')} against ${count(now.pooledProbe?.rows, 'cloud-only', 'sim')}, cut:63 ${count(now.pooledProbe?.rows, 'cut:63', 'real')} against ${count(now.pooledProbe?.rows, 'cut:63', 'sim')}.`,
  ].join('\n');
};

/** Per cut, medians over the lone cold/warm pairs of `runs`: cold − warm round trip, first inference / warm compute, warm compute, warm hand-off. */
export function loneByCut(runs: readonly LoneColdRun[]): { cut: number; coldStartMs: number; factor: number; warmComputeMs: number; handOffMs: number; n: number }[] {
  const pairs = runs.flatMap((r) => r.pairs);
  return [...new Set(pairs.map((p) => p.cut))]
    .sort((a, b) => a - b)
    .map((cut) => {
      const ps = pairs.filter((p) => p.cut === cut && p.coldRoundTripMs !== undefined && p.warmRoundTripMs !== undefined && p.coldComputeMs != null && p.warmComputeMs != null);
      return {
        cut,
        coldStartMs: median(ps.map((p) => p.coldRoundTripMs! - p.warmRoundTripMs!)),
        factor: median(ps.map((p) => p.coldComputeMs! / p.warmComputeMs!)),
        warmComputeMs: median(ps.map((p) => p.warmComputeMs!)),
        handOffMs: median(ps.map((p) => p.warmRoundTripMs! - p.warmComputeMs!)),
        n: ps.length,
      };
    });
}

/** What round 11's re-check decided, figure by figure (written from the table below). */
const RECHECK_FINDINGS = `**What changed in \`LOCAL_HOST\`** (a figure moved where both new runs fall outside the committed runs, by the procedure that made it): the lone cold start at cut 0 321 → 290 ms, cut 125 255 → 206, cut 156 181 → 161 (cuts 36 and 63 kept, one run of each inside); the first inference's factor at cut 0 1.58 → 1.71, cut 36 1.12 → 1.48, cut 63 1.30 → 1.24; the init table's s(2) 1.64 → 1.75 (s(3…5) kept); an init's weight beside a compute 1.68 → 1.43 and a first inference's 1.48 → 1 (measured 0.98 over the four runs' mixed phases with \`--cold-rounds 0 --mixed-rounds 6\` and \`8\`, bench/results/first-inference-mixed-r11-{a,b}.json, 17:01–17:05 and 17:10–17:15 UTC, load 1.2 → 1.9 and 1.2 → 1.4; the model takes no weight below 1); \`initBurstScale\` 1.1 → 1.15 (\`npx tsx bench/stack-cpu.ts --bursty 4 --runs 3 --seed 11\`, 16:50–16:54 UTC, load 0.5 → 0.8, bench/results/stack-cpu-bursty-r11-a.json, replayed on the new cut-0 figures: \`npx tsx bench/stagger-replay.ts --scan --file …r9-a.json,…r9-b.json,…r11-a.json@now\` fits 1.23 for the new run alone, beyond round 9's 1.19 and 0.99, and 1.15 for the three pooled). **In short: the new tail's cold path is faster alone and in bursts** (each of k inits together 11–17 % shorter, the lone init 274 ms against 329), its first inference relatively longer and lighter on its neighbours. **Not changed, not from the cold path: this session computes slower.** The same pairs put the lone warm compute at 28.9 ms at cut 0 (26.9 committed) and 19.0 at cut 63 (15.3), and the validation's probe (below) at 1.23–1.25 × the model's computes this session; the committed computes are the morning's, and a session's speed is what \`--probe\` is for. A first run of the lone cold starts (16:38–16:42 UTC) overlapped a type check of mine and was dropped.`;

/** Round 11's re-check of the figures LOCAL_HOST takes from the tail's cold path, against the committed runs. */
export function recheckMarkdown(r: NonNullable<ReturnType<typeof committedResults>['recheck']>, committed: ContentionResults, heading: string): string {
  const f2 = (v: number) => v.toFixed(2);
  const each = (runs: readonly Contention[], lone: readonly LoneColdRun[]) => runs.map((c) => poolRuns([c], lone));
  const before = poolRuns(committed.oneThreadInit, committed.loneCold);
  const beforeRuns = each(committed.oneThreadInit, committed.loneCold);
  const now = poolRuns(r.contention, r.loneCold);
  const nowRuns = each(r.contention, r.loneCold);
  const mixedBefore = mixedOf(committed);
  const mixedNow = poolRuns([...r.contention, ...r.mixed], r.loneCold);
  const ks = before.initSlowdown.map((_, i) => i).slice(1);
  const rows = [
    `| lone init, cut 0 (ms) | ${f0(before.loneInitMs)} | ${beforeRuns.map((p) => f0(p.loneInitMs)).join(', ')} | ${f0(now.loneInitMs)} | ${nowRuns.map((p) => f0(p.loneInitMs)).join(', ')} |`,
    ...ks.map((i) => `| init s(${i + 1}) | ${f2(before.initSlowdown[i]!)} | ${beforeRuns.map((p) => f2(p.initSlowdown[i]!)).join(', ')} | ${f2(now.initSlowdown[i]!)} | ${nowRuns.map((p) => f2(p.initSlowdown[i]!)).join(', ')} |`),
    ...ks.map((i) => `| ${i + 1} inits together, each (ms) | ${f0(before.loneInitMs * before.initSlowdown[i]!)} | ${beforeRuns.map((p) => f0(p.loneInitMs * p.initSlowdown[i]!)).join(', ')} | ${f0(now.loneInitMs * now.initSlowdown[i]!)} | ${nowRuns.map((p) => f0(p.loneInitMs * p.initSlowdown[i]!)).join(', ')} |`),
    `| an init's weight beside a compute (\`initWeight\` ${LOCAL_HOST.initWeight ?? 1}) | ${mixedBefore ? f2(mixedBefore.initWeight) : '–'} | ${beforeRuns.map((p) => f2(p.initWeight)).join(', ')} (full runs) | ${f2(mixedNow.initWeight)} | ${nowRuns.map((p) => f2(p.initWeight)).join(', ')} (full runs) |`,
    `| a first inference's weight (\`firstInference.weight\` ${LOCAL_HOST.firstInference?.weight ?? '–'}) | ${mixedBefore ? f2(mixedBefore.firstInferenceWeight) : '–'} | ${beforeRuns.map((p) => f2(p.firstInferenceWeight)).join(', ')} (full runs) | ${f2(mixedNow.firstInferenceWeight)} | ${nowRuns.map((p) => f2(p.firstInferenceWeight)).join(', ')} (full runs) |`,
  ];
  const lb = loneByCut(r.loneColdBefore);
  const lbRuns = r.loneColdBefore.map((x) => loneByCut([x]));
  const ln = loneByCut(r.loneCold);
  const lnRuns = r.loneCold.map((x) => loneByCut([x]));
  const cutRows = lb.flatMap((b) => {
    const n = ln.find((x) => x.cut === b.cut);
    if (!n) return [];
    const per = (runs: ReturnType<typeof loneByCut>[], f: (x: ReturnType<typeof loneByCut>[number]) => number, fmt: (v: number) => string) => runs.map((x) => x.find((y) => y.cut === b.cut)).filter((y) => y !== undefined).map((y) => fmt(f(y!))).join(', ');
    const out = [`| cold start, cut ${b.cut} (cold − warm round trip, ms) | ${f0(b.coldStartMs)} | ${per(lbRuns, (y) => y.coldStartMs, f0)} | ${f0(n.coldStartMs)} | ${per(lnRuns, (y) => y.coldStartMs, f0)} |`];
    if (b.warmComputeMs >= 10) out.push(`| first inference / warm compute, cut ${b.cut} | ${f2(b.factor)} | ${per(lbRuns, (y) => y.factor, f2)} | ${f2(n.factor)} | ${per(lnRuns, (y) => y.factor, f2)} |`);
    out.push(`| warm compute, cut ${b.cut} (ms) | ${b.warmComputeMs.toFixed(1)} | ${per(lbRuns, (y) => y.warmComputeMs, (v) => v.toFixed(1))} | ${n.warmComputeMs.toFixed(1)} | ${per(lnRuns, (y) => y.warmComputeMs, (v) => v.toFixed(1))} |`);
    return out;
  });
  const whenLone = (x: LoneColdRun) => (x.date ? `ended ${x.date.slice(11, 16)} UTC, load ${la(x.loadAverage?.start ?? [])} → ${la(x.loadAverage?.end ?? [])}` : '–');
  return `${heading} The host model on the current tail (round 11)

The contention tables and lone cold starts above were measured in the morning (09:44–12:10 UTC), before the tail's cold path changed (weights written once into the engine's memory, 1×1 convolutions as products: 6.5 → 5.6 ms per MiB of weights) and before the Xeon profiles. Round 11 measured the figures \`LOCAL_HOST\` takes from the cold path again on main, with the same commands: \`npx tsx bench/local-contention.ts --threads 1 --cold-rounds 3 --mixed-rounds 4\` twice (${r.contention.map(when).join('; ')}; bench/results/${RECHECK_CONTENTION.join(', ')}) and \`--lone-cold-cuts 0,36,63,125,156\` twice (${r.loneCold.map(whenLone).join('; ')}; bench/results/${RECHECK_LONE_COLD.join(', ')}), under the measurement lock on the same Xeon. "committed" is what \`LOCAL_HOST\` was built from (pooled as it was), with its runs one by one; "round 11" the new runs pooled the same way, then one by one.

| figure | committed, pooled | committed, per run | round 11, pooled | round 11, per run |
|---|---:|---:|---:|---:|
${[...rows, ...cutRows].join('\n')}

${RECHECK_FINDINGS}
`;
}

/** A simulated figure of a sweep's cell for one policy. */
type SweepFigure = 'throttled' | 'meanThrottled' | 'p95' | 'p50';

/**
 * How far `policy`'s simulated `figure` moves per 5 % of host speed along `axis`: over every pair of neighbouring
 * cells on that axis (the other axis fixed), |change| / the figure at 1.00 / 1.00, scaled to a 5 % step; the mean and
 * the largest, in %. NaN when the grid has no 1.00 / 1.00 cell, the figure is 0 there, or the axis has one value.
 */
export function movementPer5(cells: readonly SweepCell[], policy: string, figure: SweepFigure, axis: 'cold' | 'compute'): { mean: number; max: number } {
  const of = (c: SweepCell) => (figure === 'meanThrottled' ? (c.meanThrottled?.[policy] ?? NaN) : c.rows.find((r) => r.policy === policy)!.sim[figure]);
  const ref = cells.find((c) => c.cold === 1 && c.compute === 1);
  const base = ref ? of(ref) : 0;
  const other = axis === 'cold' ? 'compute' : 'cold';
  const moves: number[] = [];
  for (const fixed of new Set(cells.map((c) => c[other]))) {
    const line = cells.filter((c) => c[other] === fixed).sort((a, b) => a[axis] - b[axis]);
    for (let i = 1; i < line.length; i++) moves.push((Math.abs(of(line[i]!) - of(line[i - 1]!)) / base) * (0.05 / (line[i]![axis] - line[i - 1]![axis])));
  }
  if (!(base > 0) || moves.length === 0) return { mean: NaN, max: NaN };
  return { mean: (100 * moves.reduce((a, b) => a + b, 0)) / moves.length, max: 100 * Math.max(...moves) };
}

/**
 * The cold-start scale at which `policy`'s simulated 429 count (the mean over seeds where kept, else the validated
 * one) equals `real`, on the sweep's line at the model's computes: interpolated between neighbouring speeds, or
 * extrapolated from the two at the nearer end and marked `beyond` ('<' below the grid, '>' above). Undefined without that line.
 */
export function matchingCold(cells: readonly SweepCell[], policy: string, real: number): { at: number; beyond?: '<' | '>' } | undefined {
  const line = cells.filter((c) => c.compute === 1).sort((a, b) => a.cold - b.cold);
  if (line.length < 2) return undefined;
  const of = (c: SweepCell) => c.meanThrottled?.[policy] ?? c.rows.find((r) => r.policy === policy)!.sim.throttled;
  for (let i = 1; i < line.length; i++) {
    const [a, b] = [of(line[i - 1]!), of(line[i]!)];
    if ((a - real) * (b - real) <= 0 && a !== b) return { at: line[i - 1]!.cold + ((real - a) / (b - a)) * (line[i]!.cold - line[i - 1]!.cold) };
    if (a === real) return { at: line[i - 1]!.cold };
  }
  // Beyond the grid: extrapolated from the two speeds at that end, and marked so.
  const lo = [line[0]!, line[1]!] as const;
  const hi = [line[line.length - 2]!, line[line.length - 1]!] as const;
  const nearLo = Math.abs(of(lo[0]) - real) < Math.abs(of(hi[1]) - real);
  const [a, b] = nearLo ? lo : hi;
  if (of(a) === of(b)) return { at: nearLo ? a.cold : b.cold, beyond: nearLo ? '<' : '>' };
  return { at: a.cold + ((real - of(a)) / (of(b) - of(a))) * (b.cold - a.cold), beyond: nearLo ? '<' : '>' };
}

/** Where the stack's per-run counts fall against the simulator's per-run range over seeds at the model's speed. */
export function seedVerdict(stack: readonly number[], [lo, hi]: readonly [number, number]): string {
  const inside = stack.filter((n) => n >= lo && n <= hi).length;
  if (stack.length && stack.every((n) => n > hi)) return `every stack run (${stack.join(', ')}) above its highest draw, so the difference is not the simulator's draw`;
  if (stack.length && stack.every((n) => n < lo)) return `every stack run (${stack.join(', ')}) below its lowest draw, so the difference is not the simulator's draw`;
  return `${inside} of the ${stack.length} stack runs (${stack.join(', ')}) inside it`;
}

/**
 * The sweep as the docs show it: the two lines through 1.00 / 1.00 (cold starts at the model's computes, computes at
 * its cold starts) as a table of 429s and p95 for the policies that send to a tail, then sentences generated from
 * the whole grid: how far a count moves per 5 % of each speed against p50/p95, its range, and what that means for the
 * ±15 % count target on this trace (with `stackRuns`, the stack's count per run and the probe's cold-start range).
 */
export function sweepSection(sweep: SweepResult, stackRuns: readonly Validation[] = []): string {
  const policies = sweep.cells[0]!.rows.filter((r) => r.real.throttled > 0 || r.sim.throttled > 0 || r.real.coldStarts > 0).map((r) => r.policy);
  const line = [...sweep.cells.filter((c) => c.compute === 1).sort((a, b) => a.cold - b.cold), ...sweep.cells.filter((c) => c.cold === 1 && c.compute !== 1).sort((a, b) => a.compute - b.compute)];
  const row = (c: SweepCell, p: string) => c.rows.find((r) => r.policy === p)!;
  const colds = [...new Set(sweep.cells.map((c) => c.cold))].sort((a, b) => a - b);
  const computes = [...new Set(sweep.cells.map((c) => c.compute))].sort((a, b) => a - b);
  const span = (xs: number[]) => `×${xs[0]!.toFixed(2)}–${xs[xs.length - 1]!.toFixed(2)}`;
  const hasMean = sweep.cells.every((c) => c.meanThrottled !== undefined);
  const table = [
    `| cold starts × | computes × | ${policies.map((p) => `${p} 429 | ${p} p95 ms`).join(' | ')} |`,
    `|---:|---:|${policies.map(() => '---:|---:').join('|')}|`,
    `| **stack** | | ${policies.map((p) => `**${row(sweep.cells[0]!, p).real.throttled}** | **${f0(row(sweep.cells[0]!, p).real.p95)}**`).join(' | ')} |`,
    ...line.map((c) => `| ${c.cold.toFixed(2)} | ${c.compute.toFixed(2)} | ${policies.map((p) => `${row(c, p).sim.throttled}${hasMean ? ` (${c.meanThrottled![p]!.toFixed(1)})` : ''} | ${f0(row(c, p).sim.p95)}`).join(' | ')} |`),
  ];
  const per = policies.map((p) => {
    const m = (f: SweepFigure, a: 'cold' | 'compute') => movementPer5(sweep.cells, p, f, a);
    const count: SweepFigure = hasMean ? 'meanThrottled' : 'throttled';
    const counts = sweep.cells.map((c) => row(c, p).sim.throttled);
    const real = row(sweep.cells[0]!, p).real.throttled;
    const ref = sweep.cells.find((c) => c.cold === 1 && c.compute === 1);
    return {
      p,
      count: { cold: m(count, 'cold').mean, compute: m(count, 'compute').mean },
      p95: { cold: m('p95', 'cold').mean, compute: m('p95', 'compute').mean },
      p50: { cold: m('p50', 'cold').mean, compute: m('p50', 'compute').mean },
      lo: Math.min(...counts),
      hi: Math.max(...counts),
      real,
      perRun: stackRuns.map((g) => g.rows.find((r) => r.policy === p)?.real.throttled),
      at1: ref ? row(ref, p).sim.throttled : NaN,
      within: sweep.cells.filter((c) => within15(row(c, p).sim.throttled, real)).length,
      seedRange: ref?.seedRange?.[p],
    };
  });
  // Records pooled before each run had its own seeds (bench/sim-validation.ts pooledRows): the runs shared the
  // simulator's seeds, every cell's count was a multiple of the runs, and a stack count between two steps could not be met.
  const stepped = sweep.runs > 1 && sweep.cells.every((c) => c.rows.every((r) => r.sim.throttled % sweep.runs === 0));
  const sentence = (x: (typeof per)[number]) =>
    `**${x.p}**: per 5 % of speed its simulated 429 count${hasMean ? ' (mean over seeds)' : ''} moves by ${f0(x.count.cold)} % with the cold starts and ${f0(x.count.compute)} % with the computes, its p95 by ${f0(x.p95.cold)} % and ${f0(x.p95.compute)} %, its p50 by ${f0(x.p50.cold)} % and ${f0(x.p50.compute)} %; over the grid the validated count runs ${x.lo}–${x.hi} (${x.at1} at the model's speed) against the stack's ${x.real}${x.perRun.length ? ` (its runs: ${x.perRun.map((n) => n ?? '–').join(', ')})` : ''}, within 15 % of it at ${x.within} of ${sweep.cells.length} speeds.${x.seedRange ? ` At the model's speed one run's simulated count goes ${x.seedRange[0]}–${x.seedRange[1]} over the seeds${x.perRun.length ? `: ${seedVerdict(x.perRun.flatMap((n) => (n === undefined ? [] : [n])), x.seedRange)}` : ''}.` : ''}`;
  const coldMoves = per.map((x) => x.count.cold).filter(Number.isFinite);
  const computeMoves = per.map((x) => x.count.compute).filter(Number.isFinite);
  const latencyMoves = per.flatMap((x) => [x.p95.cold, x.p95.compute, x.p50.cold, x.p50.compute]).filter(Number.isFinite);
  const probeColds = stackRuns.flatMap((g) => (g.probe?.speed ? [g.probe.speed.coldScale] : []));
  const probeComputes = stackRuns.flatMap((g) => (g.probe?.speed ? [g.probe.speed.computeScale] : []));
  const sensitive = (xs: number[]) => xs.length > 0 && Math.min(...xs) >= 15 / 2;
  const pcts = (lo: number, hi: number) => (f0(lo) === f0(hi) ? f0(lo) : `${f0(lo)}–${f0(hi)}`);
  const matched = per.flatMap((x) => {
    const m = matchingCold(sweep.cells, x.p, x.real);
    return m ? [{ ...m, p: x.p, real: x.real }] : [];
  });
  const matches = matched.map((m) => `×${m.at.toFixed(2)}${m.beyond ? ' (beyond the grid, extrapolated)' : ''} (${m.p}'s ${m.real})`);
  // A policy whose every stack run lies inside the simulator's own per-run draw says nothing about which way to move.
  const inDraw = new Set(per.filter((x) => x.seedRange && x.perRun.length && x.perRun.every((n) => n !== undefined && n >= x.seedRange![0] && n <= x.seedRange![1])).map((x) => x.p));
  const readable = matched.filter((m) => !inDraw.has(m.p));
  const opposite = readable.some((m) => m.at > 1.025) && readable.some((m) => m.at < 0.975);
  const minCold = Math.min(...coldMoves);
  const maxCold = Math.max(...coldMoves);
  const meaning = [
    `**What that means for the ±15 % count target on this trace:**`,
    sensitive(coldMoves)
      ? `the 429 counts follow the cold starts' speed, ${pcts(minCold, maxCold)} % per 5 %, while the p50 and p95 move by ${f0(Math.max(...latencyMoves))} % at most per 5 % of either speed; for a count to land within 15 %, the model's cold starts in these bursts must be right to about ${pcts((5 * 15) / maxCold, (5 * 15) / minCold)} %. At the model's computes the mean simulated counts reach the stack's at cold starts ${matches.join(' and ')} the model's${probeColds.length ? `; the probe read this session's lone cold starts at ×${range(probeColds)}` : ''}.`
      : `the counts move by less than half the target per 5 % of the cold starts' speed (${f0(maxCold)} % at most).`,
    computeMoves.length && Math.max(...computeMoves) < 15 / 2
      ? `The computes' speed, which drifts most on this machine${probeComputes.length ? ` (the probe: ×${range(probeComputes)} the morning's)` : ''}, moves the counts by ${f0(Math.max(...computeMoves))} % per 5 % at most: the day's compute drift does not explain a count.`
      : `The computes' speed moves them by ${f0(Math.max(...computeMoves))} % per 5 %.`,
    stepped
      ? `And the runs share the trace and the simulator's seeds, so the validated count (the median per run, summed) moves in steps of ${sweep.runs}, one request per run: ${per.filter((x) => x.real % sweep.runs !== 0 && !within15(Math.round(x.real / sweep.runs) * sweep.runs, x.real)).map((x) => `${x.p}'s ${x.real}`).join(' and ') || 'no stack count here'} cannot be met within 15 % at any speed.`
      : '',
    sensitive(coldMoves)
      ? `So a simulated 429 count near the concurrency limit is as good as the cold starts behind it, a few % of which move it by a sixth or more: the p50 and p95 are the figures to hold the model to, and a count's miss is read as how far the bursts' cold starts are off${opposite ? "; here the two policies want them moved opposite ways (slower at one cut, faster at the other), which no speed of the day does: that miss is the model's, per cut" : ''}.`
      : `So the host's drift does not explain a count missed by more than 15 %: that miss is the model's.`,
    inDraw.size ? `${[...inDraw].join(' and ')}: every stack run inside the simulator's own per-run draw at the model's speed, so its pooled miss is that draw, nothing to fit.` : '',
  ]
    .filter((x) => x !== '')
    .join(' ');
  return [
    `**How far the counts move with the host's speed** (\`npx tsx bench/sim-validation.ts --pool …run1.json,…run2.json,…run3.json --sweep cold=${colds[0]}:${colds[colds.length - 1]}:…,compute=${computes[0]}:${computes[computes.length - 1]}:…\`, bench/results/${NOW_SWEEP}, simulated ${sweep.date.slice(0, 16).replace('T', ' ')} UTC): the same three runs pooled, the simulator on \`LOCAL_HOST\` with its lone cold starts scaled ${span(colds)} (× > 1: slower) and its computes ${span(computes)} (${sweep.cells.length} speeds, ${sweep.simSeeds} seeds per run each; sharing tables and overheads unchanged; core/sim/host.ts \`atSpeed\`). The lines through the model's speed; 429s as validated (the median over seeds per run, summed)${hasMean ? ' and, in brackets, the mean over seeds' : ''}:`,
    '',
    ...table,
    '',
    per.map(sentence).join(' '),
    '',
    meaning,
    '',
  ].join('\n');
}

/** The sweep in one sentence for the verdict: how far the counts and the latencies move per 5 % of each speed. */
export function sweepHeadline(sweep: SweepResult): string {
  return `How far that is the host's speed (below, "How far the counts move"): ${sweepMovement(sweep)}.`;
}

/** How far the counts and the latencies move per 5 % of each speed (a clause). */
export function sweepMovement(sweep: SweepResult): string {
  const policies = sweep.cells[0]!.rows.filter((r) => r.real.throttled > 0 || r.sim.throttled > 0).map((r) => r.policy);
  const count: SweepFigure = sweep.cells.every((c) => c.meanThrottled !== undefined) ? 'meanThrottled' : 'throttled';
  const of = (f: SweepFigure, a: 'cold' | 'compute') => policies.map((p) => movementPer5(sweep.cells, p, f, a).mean).filter(Number.isFinite);
  const span = (xs: number[]) => (xs.length ? (Math.min(...xs).toFixed(0) === Math.max(...xs).toFixed(0) ? Math.min(...xs).toFixed(0) : `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`) : '–');
  const latency = [...of('p50', 'cold'), ...of('p95', 'cold'), ...of('p50', 'compute'), ...of('p95', 'compute')];
  return `per 5 % of the cold starts' speed the simulated 429 counts move by ${span(of(count, 'cold'))} %, per 5 % of the computes' by ${span(of(count, 'compute'))} %, the p50 and p95 by ${latency.length ? Math.max(...latency).toFixed(0) : '–'} % at most`;
}

/** The current answer: round 11's runs at 4/s (per run, pooled as committed and at each run's probe speed) and at 2/s. */
export function currentMarkdown(now: NonNullable<ReturnType<typeof committedResults>['now']>, rate2: Validation | undefined, heading: string): string {
  const f2 = (v: number) => v.toFixed(2);
  const r = now.runs[0]!;
  const probe = now.runs.map((g) => g.probe?.speed).filter((s): s is NonNullable<typeof s> => s !== undefined);
  const cal = r.calibration as { planMs?: number; throttleOverheadMs?: number };
  const runLine = (g: Validation, i: number) => `run ${i + 1} ended ${g.date.slice(11, 16)} UTC, ${g.wallS.toFixed(0)} s, load average ${la(g.loadAverage)} at the end${g.failures && g.failures.server + g.failures.timeout > 0 ? `, ${g.failures.server} server errors and ${g.failures.timeout} timeouts` : ''}`;
  const lines = [
    `${heading} The simulator against the local stack: where it stands (round 12)
`,
    ...(now.pooled ? [`**At 4/s, pooled over ${now.pooled.runs} runs, with the host model as committed: ${verdict(now.pooled.rows)}**${now.pooledProbe ? ` At each run's probe speed: ${verdict(now.pooledProbe.rows)}` : ''}${rate2 ? ` At 2/s (one run): ${verdict(rate2.rows)}` : ''} (target: p50, p95, 429s and cold starts per policy within 15 %, or each difference explained.) Pooled as committed: ${briefOf(now.pooled.rows)}.${now.sweep ? ` ${sweepHeadline(now.sweep)}` : ''}`, ''] : []),
    `One seeded trace (${r.trace.requests} requests per policy: ${r.trace.process}) through \`offload load\` on the local stack (tails pinned to 1 wasm thread) and through the simulator with the host model as committed (\`LOCAL_HOST\`, what \`offload simulate|recommend --host local\` use, below) and its spread, each simulated figure the median over ${r.simSeeds ?? 1} seeds. Nothing is taken from the trace's tails; only the plan and 429 round trips are the run's medians (run 1: ${f0(cal.planMs ?? NaN)} and ${f0(cal.throttleOverheadMs ?? NaN)} ms); device times are scaled as the deployed planner scales them. On main after round 11's cold path (the tail's code is the same as round 11's runs) with round 12's host model (an init burst scale per cut, below), all on this Intel Xeon (2 vCPUs), ${r.date.slice(0, 10)}, each run alone under the measurement lock: \`npx tsx bench/sim-validation.ts --requests ${r.trace.requests} --rate 4 --probe\` (${now.runs.map(runLine).join('; ')}). The probe (other requests than the trace, on the same stack first) put the session's host at ${probe.map((s) => `cold starts ×${f2(s.coldScale)}, computes ×${f2(s.computeScale)}`).join('; ')} the model.`,
    '',
    ...now.runs.flatMap((g, i) => [`Run ${i + 1} (bench/results/${NOW_RUNS[i]}):`, '', validationMarkdown(g.rows), '']),
    ...(now.pooled ? [`Pooled (\`--pool\`, bench/results/${NOW_POOLED}: counts summed over the runs, the simulator's median per run):`, '', validationMarkdown(now.pooled.rows), '', `**${verdict(now.pooled.rows)}**`, ''] : []),
    ...(now.pooledProbe ? [`Pooled, each run on the host at its own probe's speed (\`--pool … --at-probe-speed\`, bench/results/${NOW_POOLED_PROBE}):`, '', validationMarkdown(now.pooledProbe.rows), '', `**${verdict(now.pooledProbe.rows)}**`, ''] : []),
    ...(now.all ? [`Rounds 11 and 12 pooled: round 11's three runs of the same trace (stack records as kept, simulated on the current model) with the three above (\`--pool\` over six files, bench/results/${ALL_POOLED}):`, '', validationMarkdown(now.all.rows), '', `**${verdict(now.all.rows)}**`, ''] : []),
    ...(now.sweep ? [sweepSection(now.sweep, now.runs)] : []),
    ...(rate2
      ? [`At 2/s, where this machine serves almost every request (round 11's run, its records simulated on the current model; \`npx tsx bench/sim-validation.ts --requests ${rate2.trace.requests} --rate 2\`, ended ${rate2.date.slice(11, 16)} UTC, ${rate2.wallS.toFixed(0)} s, load average ${la(rate2.loadAverage)} at the end; bench/results/${NOW_RATE2}):`, '', validationMarkdown(rate2.rows), '', `**${verdict(rate2.rows)}**`, '']
      : []),
    `**How many requests.** A p95 of ${r.trace.requests} requests rests on its top ${Math.ceil(r.trace.requests * 0.05)}, the cold requests of a few bursts: resampling a run's own requests (bootstrap, 2,000 draws) puts the stack's p95 range at ${p95Widths(now.runs)} of its value, so the pooled runs are judged (the stack's p95 on ${Math.ceil(r.trace.requests * now.runs.length * 0.05)} requests).`,
    '',
    nowFindings(now),
    '',
  ];
  return lines.join('\n');
}

/** Rounds 8–11 of the validation, one paragraph each: what they found, on the model and the tail of then. */
export function historyMarkdown(h: ReturnType<typeof committedResults>['history'], heading: string): string {
  const named = (f: string) => `bench/results/${f}`;
  const out = [`${heading} Earlier rounds of the validation (history)

Each on the model, tail and profiles of its day (the records stay in bench/results/ with their stack records in sim-validation-records/; re-simulating them on main mixes machines and tails, so the current answer above comes from new runs).
`];
  if (h.r8)
    out.push(`- **Round 8 (2/s, runs ended 10:10–10:23 UTC; 4/s 10:51–10:58).** The machine had changed from an AMD EPYC to this Xeon, and every figure of \`LOCAL_HOST\` was measured again on it (with the EPYC's model the simulator was +125–152 % at p95); the first inference became its own phase (factor, weights). Pooled over 3 runs (${named(R8_POOLED)}): ${briefOf(h.r8.rows)}. ${verdict(h.r8.rows)}${h.r8Rate4 ? ` At 4/s (${named(R8_RATE4_POOLED)}): ${briefOf(h.r8Rate4.rows)}.` : ''}`);
  if (h.r9Rate4)
    out.push(`- **Round 9 (4/s, runs ended 12:17–12:24 UTC, re-simulated as each term went in; one run at 2/s, 12:31).** Each term measured apart from the trace and then kept: the compute's skewed spread (bench/stack-cpu.ts), the first-inference factor per cut, the environment held for 77 % of the hand-off (\`--hold\`), the lone cold start, compute and hand-off per cut after the tail lost the AWS SDK, inits in staggered bursts 1.1 × the table's excess (\`initBurstScale\`, bench/stagger-replay.ts). Pooled over 3 runs (${named(R9_RATE4_POOLED)}): ${briefOf(h.r9Rate4.rows)}. ${verdict(h.r9Rate4.rows)}${h.r9Rate2 ? ` At 2/s (${named(R9_RATE2)}): ${verdict(h.r9Rate2.rows)}` : ''}`);
  if (h.r10)
    out.push(`- **Round 10 (4/s with the probe, runs ended 14:40–14:48 UTC; model unchanged).** Pooled (${named(R10_POOLED)}): ${briefOf(h.r10.rows)}. ${verdict(h.r10.rows)}${h.r10Probe ? ` At each run's probe speed (${named(R10_POOLED_PROBE)}): ${briefOf(h.r10Probe.rows)}. ${verdict(h.r10Probe.rows)}` : ''} The cut:63 requests the stack refused and the simulator served were always requests 6 and 7, in the trace's first burst of four cold starts; \`--timeline\` showed the first burst's inits at 1.17× the simulated (median of 24 over six runs). Bursts of cold starts sent together on fresh stacks (bench/first-burst.ts; ${h.firstBurst.map((b) => b.file).join(', ')}) ruled out the stack's or function's first use and the static plan before the clock; four inits at once ran 1.04–1.12× the model at cut 63 and 1.00–1.09× at cut 0 that afternoon. No term was fitted.`);
  if (h.r11)
    out.push(`- **Round 11 (4/s with the probe, runs ended 17:01–17:18 UTC; the cold path's figures of \`LOCAL_HOST\` measured again on the new tail).** Pooled on the model of then (${named(R11_POOLED)}): ${briefOf(h.r11.rows)}. ${verdict(h.r11.rows)}${h.r11Probe ? ` At each run's probe speed (${named(R11_POOLED_PROBE)}): ${briefOf(h.r11Probe.rows)}. ${verdict(h.r11Probe.rows)}` : ''} cut:63's first burst was no longer refused on the stack; cloud-only's first burst of four cut-0 cold starts freed its environments about 100 ms later than simulated, while four sent together apart from the trace matched the model by their inits (round 12 measured whole bursts: above).${h.r11Sweep ? ` Pooled at other speeds of the host (\`--sweep\`, ${named(R11_SWEEP)}): ${sweepMovement(h.r11Sweep)}; so a count within 15 % needs the bursts' cold starts right to a few %.` : ''}`);
  return `${out.join('\n')}\n`;
}

/** The section: contention, validation, replay. `heading` is the markdown level of its sub-headings. */
export function localHostMarkdown(x: ReturnType<typeof committedResults>, heading = '###'): string {
  const out: string[] = [];
  const c = x.contention;
  const one = c.oneThread.length ? poolRuns(c.oneThread) : undefined;
  const init = c.oneThreadInit.length ? poolRuns(c.oneThreadInit, c.loneCold) : undefined;
  const mixedPool = mixedOf(c);
  const epyc = c.twoThreadsBase.length ? poolRuns(c.twoThreadsBase) : undefined;
  const two = c.twoThreads;
  const ratios = (xs: readonly number[]) => xs.slice(1).map((v) => v.toFixed(2)).join(', ');
  const bullets: string[] = [];
  if (one && two) {
    const t = (k: number) => two.rows[k - 1]!;
    bullets.push(
      `- **It is CPU sharing, and threads make it worse.** With the default engine (2 wasm threads per environment, what 1,769 MB gets) a burst of 2 computes ${t(2).warmComputeRatio.toFixed(1)}× slower than a lone request and a burst of 5 ${t(5).warmComputeRatio.toFixed(1)}× (${f0(t(5).warm.computeMs)} ms against ${f0(t(1).warm.computeMs)} alone): k environments × 2 threads on 2 cores oversubscribe the cores. With 1 thread per environment the same bursts cost ${ratios(one.computeSlowdown)}× at k = 2…5, close to 2 cores shared k ways (k/2 = 2.5 at k = 5), the stack's own processes (emulator, stand-ins, the client) taking their share.${epyc ? ` On the EPYC (the 2-thread run's machine, ${epyc.loneComputeMs.toFixed(0)} ms alone with 1 thread) a second thread ${t(1).warm.computeMs < 0.85 * epyc.loneComputeMs ? 'did speed up' : 'barely sped up'} a lone request (${f0(t(1).warm.computeMs)} ms), but in a burst of 2 one thread each was ${t(2).warm.computeMs > epyc.loneComputeMs * epyc.computeSlowdown[1]! ? 'faster' : 'not faster'} (${f0(epyc.loneComputeMs * epyc.computeSlowdown[1]!)} vs ${f0(t(2).warm.computeMs)} ms).` : ''}`,
    );
  } else if (one) bullets.push(`- **It is CPU sharing.** With 1 thread per environment bursts of k = 2…5 compute ${ratios(one.computeSlowdown)}× slower than a lone request, close to 2 cores shared k ways.`);
  if (one) bullets.push(`- **The per-request overhead outside the tail is small and grows mildly**: ${f0(one.overheadMsByK[0]!)} ms alone, ${f0(one.overheadMsByK[one.overheadMsByK.length - 1]!)} ms at k = ${one.overheadMsByK.length} — not the cause.`);
  if (init) bullets.push(`- **Concurrent cold starts share the cores too**: k = 2…5 cold starts at once each take ${ratios(init.initSlowdown)}× a lone one (${f0(init.loneInitMs)} ms).`);
  if (mixedPool && one && mixedPool.besideInits.length) {
    bullets.push(
      `- **A starting environment weighs more on a warm one than a computing one does**: a warm request beside k − 1 = ${mixedPool.besideInits.map((b) => b.c).join(', ')} cold starts' inits computes ${mixedPool.besideInits.map((b) => b.computeSlowdown.toFixed(2)).join(', ')}× a lone one, against ${mixedPool.besideInits.map((b) => (one.computeSlowdown[b.c] ?? NaN).toFixed(2)).join(', ')}× beside k − 1 computing ones: read on the compute table, an init counts for ${mixedPool.initWeight.toFixed(2)} computing neighbours (median over ${mixedPool.besideInits.reduce((a, b) => a + b.n, 0)} requests; \`LOCAL_HOST.initWeight\` until round 11, ${LOCAL_HOST.initWeight ?? 1} since, on the current tail: below). On the EPYC, on the streamed tail before the early download (the model fetched and built while the process loads), two runs had given 0.93–2.26×, within that machine's compute spread, and the model had counted both alike; whether the machine or the early download makes the difference was not separated.`,
    );
  }
  if (init && mixedPool) {
    const firsts = mixedPool.besideFirsts.filter((b) => b.n >= 10);
    bullets.push(
      `- **A cold environment's first inference is slower than a warm one, and heavier on its neighbours**: alone it takes ${mixedPool.firstInferenceFactor.toFixed(2)}× the next warm call's compute (median of the lone cold/warm pairs at cuts 0, 36, 63), ${init.coldComputeMsByK.slice(1).map(f0).join(', ')} ms in cold bursts of k = 2…${init.coldComputeMsByK.length} (${f0(init.loneComputeMs)} warm alone); a warm request beside ${firsts.map((b) => `~${b.m}`).join(', ')} of them (no init running) computes ${firsts.map((b) => `${b.computeSlowdown.toFixed(2)}× (${b.n} requests)`).join(', ')} a lone one, against ${firsts.map((b) => b.besideWarm.toFixed(2)).join(', ')}× beside warm ones: a first inference counts for ${mixedPool.firstInferenceWeight.toFixed(2)} (\`LOCAL_HOST.firstInference\` until round 11, ${LOCAL_HOST.firstInference?.weight ?? 1} since: below). The simulator used to hold the first inference's extra in the cold start, shared as init; it now runs it as the first inference, taken out of the init so that a lone cold request still takes the measured cold start + the compute.`,
    );
  }
  out.push(x.now ? currentMarkdown(x.now, x.validation, heading) : `${heading} The simulator against the local stack\n\nNot run (no bench/results/${NOW_RUNS[0]}).\n`);
  out.push(`${heading} The host model: why the local stack's tails slow down in bursts

\`npx tsx bench/local-contention.ts [--threads N] [--rounds R]\`: a warm cut-0 MobileNetV2 request alone and in bursts of k concurrent requests on k warm environments (6 or 10 bursts per k), then k concurrent cold starts (3 bursts per k), on this 2-core machine, on today's engine (batch norm and relu fused into the convolutions). "compute" is the tail's own \`${INFER_HEADERS.computeMs}\`, "rest" what the client waited beyond it (HTTP API, base64 event, the emulator's IPC, wire decode/encode): medians.

${contentionMarkdown(c)}

${bullets.join('\n')}

The simulator's host model (\`offload simulate|recommend --host local\`, core/sim/host.ts \`LOCAL_HOST\`) is built from this: busy environments (initialising or computing) share the host by processor sharing at the pooled 1-thread slowdowns (past k = 5 growing as ideal sharing), a computing environment counting an init and a first inference by their weights, at this machine's speed (per cut the lone warm compute measured here, ${Object.entries(LOCAL_HOST.warmComputeMs?.mobilenetv2 ?? {}).map(([c, ms]) => `${ms} ms at cut ${c}`).join(', ')}, from the same lone cold/warm pairs as the cold starts; other tails the profile's layer times, measured on the same Intel Xeon on 2026-12-01, × ${LOCAL_HOST.computeScale ?? '–'}), with its lone cold start per cut (median cold − warm round trip of 12 pairs per tail on \`offload local\`, each cold call 6.5 s after the last request: \`bench/local-contention.ts --threads 1 --lone-cold-cuts 0,36,63,125,156\`, bench/results/${LONE_COLD_NOW.join(', ')} on main after 098079b took the AWS SDK out of the tail's cold start, and where round 11's pairs on the current tail fell outside those runs' range, bench/results/${RECHECK_LONE_COLD.join(', ')} (below): ${Object.values(LOCAL_HOST.coldStartMs.mobilenetv2 ?? {}).join(', ')} ms at cuts ${Object.keys(LOCAL_HOST.coldStartMs.mobilenetv2 ?? {}).join(', ')}) split into the init and the first inference (its factor per cut, ${Object.entries(LOCAL_HOST.firstInference?.factorByCut?.mobilenetv2 ?? {}).map(([c, f]) => `${f} at cut ${c}`).join(', ')}, from the same pairs), invoke overhead (per cut the lone warm round trip − compute of the same pairs, ${Object.entries(LOCAL_HOST.invokeOverheadMsByCut?.mobilenetv2 ?? {}).map(([c, ms]) => `${ms} ms at cut ${c}`).join(', ')}; growing with the most environments busy while a request ran, as the "rest" column: the API, the emulator and the client share the cores too; the environment held for ${LOCAL_HOST.handOffInHold ?? 0} of it, the part inside the invocation, below), inits beside others slowed ${LOCAL_HOST.initBurstScale ?? 1} × the init table's excess (the traffic's staggered bursts, below; per cut where whole bursts were measured: ${Object.entries(LOCAL_HOST.initBurstScaleByCut?.mobilenetv2 ?? {}).map(([c, k]) => `${k} at cut ${c}`).join(', ')}, above), and per-request spread (init CV ${LOCAL_HOST.spread.coldCv} among the requests of the same bursts; compute ${LOCAL_HOST.spread.tailFloor ?? 0} + ${(1 - (LOCAL_HOST.spread.tailFloor ?? 0)).toFixed(2)} × a lognormal of CV ${LOCAL_HOST.spread.tailCv}, skewed as the computes of requests that ran alone, below). A promise for the local host holds for 1 wasm thread per environment (the snippet pins \`wasmThreads: 1\`).
`);
  if (x.stackCpu) {
    out.push(`${heading} Under overlapping arrivals

The tables above come from rounds of at most 5 requests, each sent once all had answered. Round 9 measured the stack under overlapping arrivals instead:

${overlapMarkdown(x.stackCpu)}
`);
  }
  if (x.recheck) out.push(recheckMarkdown(x.recheck, c, heading));
  out.push(historyMarkdown(x.history, heading));
  const r = x.replay;
  out.push(`${heading} A recommendation for the local host, replayed on it
`);
  if (r) {
    const hostName = typeof r.host === 'object' ? r.host.name : 'lambda';
    const err = (s: number, m: number) => `${s >= m ? '+' : ''}${((100 * (s - m)) / m).toFixed(0)} %`;
    out.push(`\`npx tsx bench/recommend-replay.ts --host ${hostName}\` (${r.date.slice(0, 16)} UTC, load average ${la(r.loadAverage.start)} at the start, ${la(r.loadAverage.end)} at the end, under the measurement lock): \`offload recommend\`'s search${hostName === 'lambda' ? '' : ' for the local host (host model and spread as above)'} on one seeded trace (${r.trace.requests} requests, ${r.trace.process}; MobileNetV2, policy cloud-only, p95 ≤ ${r.recommended.maxP95Ms} ms, 1769 MB, no provisioned concurrency) recommends **${r.recommended.configuration}**; that configuration${hostName === 'lambda' ? '' : ' (with `wasmThreads: 1`)'} on the local stack, the same trace through \`offload load\`.

| | p50 ms | p95 ms | 429s | cold starts |
|---|---:|---:|---:|---:|
| promised (simulated) | ${f0(r.promised.p50)} | ${f0(r.promised.p95)} | ${r.promised.throttled ?? (r.promised.rate429 * r.trace.requests).toFixed(0)} | ${r.promised.coldStarts} |
| measured (local stack) | ${f0(r.measured.p50)} | ${f0(r.measured.p95)} | ${r.measured.throttled ?? (r.measured.rate429 * r.trace.requests).toFixed(0)} | ${r.measured.coldStarts} |
| promised vs measured | ${err(r.promised.p50, r.measured.p50)} | ${err(r.promised.p95, r.measured.p95)} | | ${pct(r.promised.coldStarts, r.measured.coldStarts)} |

**${r.meetsPromise ? 'The measured p95 is within 15 % of the promise.' : `The measured p95 is ${(r.measured.p95 / r.promised.p95).toFixed(2)}× the promised one: not within 15 %.`}**${r.measured.errors + r.measured.fallbacks > 0 ? ` (${r.measured.fallbacks} requests fell back to the device, ${r.measured.errors} errors.)` : ''} The p50 is not a target: the requests of these bursts are either cold or warm, so the median sits on the edge between the two groups and moves by hundreds of ms with a few requests. ${capsSentence(r)}A promise for Lambda (\`--host lambda\`, the default of \`offload recommend\`) is a promise for another machine: each environment its own vCPUs, tails at the cloud profile's speed.
`);
  } else out.push('Not run (no bench/results/recommend-replay.json).\n');
  return out.join('\n');
}

/** What the search's reserved-concurrency caps did to the recommendation (runs before the caps existed say nothing). */
function capsSentence(r: Replay): string {
  const caps = r.recommended.reservedCaps;
  if (!caps?.length) return '';
  const u = r.recommended.uncapped;
  const without = u ? ` Without them its best would have been ${u.configuration}, promising a p95 of ${f0(u.p95)} ms (429 rate ${u.rate429.toFixed(3)}).` : '';
  return `On a shared host the search also caps reserved concurrency (${caps.join(', ')}; core/sim/recommend.ts \`DEFAULT_HOST_CAPS\`): fewer tails at once run faster, and a throttled request finishes on the device.${without} `;
}

/** Replaces the text between `start` (a heading line) and the next `## ` heading in `file` with `body`. */
function splice(file: string, start: string, body: string): void {
  const text = readFileSync(file, 'utf8');
  const i = text.indexOf(`\n${start}\n`);
  if (i < 0) throw new Error(`${file}: no "${start}" heading`);
  const from = i + start.length + 2;
  const next = text.indexOf('\n## ', from);
  const end = next < 0 ? text.length : next + 1;
  writeFileSync(file, `${text.slice(0, from)}${body}\n${text.slice(end)}`);
}

/** The body of evaluation.md's "## At scale" section (bench/evaluation.ts renders the same). */
export function atScaleBody(): string {
  return `
The same policies for 10,000 devices over a simulated day (the fleet simulator, \`offload simulate\`; the planner as deployed (prewarm on) and with prewarm off, and with its fleet judged at the plan or at the arrival), a worked \`offload recommend\` and the speed: [evaluation-at-scale.md](evaluation-at-scale.md) (generated by \`npm run bench:evaluation-at-scale\`). The simulator on this machine (from bench/results/):

${localHostMarkdown(committedResults())}`;
}

if (isMain(import.meta.url)) {
  const usage = 'npx tsx bench/local-host-section.ts --splice docs/evaluation.md';
  checkArgs({ values: ['--splice'], flags: [], usage });
  const file = argValue('--splice');
  if (!file) {
    console.error(`usage: ${usage}`);
    process.exitCode = 2;
  } else {
    splice(file, '## At scale', atScaleBody());
    console.error(`${file}: "## At scale" rewritten from bench/results/`);
  }
}
