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
import { argValue, checkArgs, isMain } from './report';
import { validationMarkdown, type ValidationRow } from './sim-validation';
import { byCutTable, type ColdSample } from './first-burst';

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

/** What bench/sim-validation.ts --pool --json writes. */
/** What bench/first-burst.ts --json writes (the parts shown), and the file it came from. */
export interface FirstBurstRun {
  file: string;
  date: string;
  loadAverage: { start: number[]; end: number[] };
  samples: ColdSample[];
}

export interface PooledValidation {
  runs: number;
  requests: number;
  simSeeds: number;
  rows: ValidationRow[];
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
/** The validation runs of this round (bench/sim-validation.ts --json) and their pool; run 1 is `validation`. */
const VALIDATION_RUNS = ['run1', 'run2', 'run3'].map((n) => `sim-validation-r8-${n}.json`);
const VALIDATION_POOLED = 'sim-validation-r8-pooled.json';
/** The same trace at twice the rate (--rate 4), where this machine does refuse requests: a check of the 429 path. */
const STRESS_RUNS = ['run1', 'run2', 'run3'].map((n) => `sim-validation-r9-rate4-${n}.json`);
const STRESS_POOLED = 'sim-validation-r9-rate4-pooled.json';
/** Round 8's rate-4 runs pooled (the model and the tail as they were then), for the comparison. */
const STRESS_POOLED_BEFORE = 'sim-validation-r8-rate4-pooled.json';
/** One rate-2 run on the model as committed now: nothing regressed where round 8's runs above were judged. */
const RATE2_CHECK = 'sim-validation-r9-rate2-run1.json';
/** Round 10: the same trace at 4/s again, each run with the host probe first (--probe), pooled as committed and each run at its probe's speed. */
const STRESS10_RUNS = ['run1', 'run2', 'run3'].map((n) => `sim-validation-r10-rate4-${n}.json`);
const STRESS10_POOLED = 'sim-validation-r10-rate4-pooled.json';
const STRESS10_POOLED_PROBE = 'sim-validation-r10-rate4-pooled-probe.json';
/** bench/first-burst.ts: bursts of cold starts sent together on fresh stacks (first vs later, by cut, after a plan, cut 0 against cut 63 alternated). */
const FIRST_BURST_RUNS = ['first-burst-r10-a.json', 'first-burst-bycut-r10-a.json', 'first-burst-plan-r10-a.json', 'first-burst-ab-r10-a.json'];
/** bench/stack-cpu.ts: steady Poisson runs (CPU per request, the compute's spread) and the bursty run (phases against the host model). */
const STACK_CPU_RUNS = ['a', 'b'].map((x) => `stack-cpu-r9-${x}.json`);
const STACK_CPU_BURSTY = 'stack-cpu-bursty-r9-a.json';
/** The lone cold starts per cut LOCAL_HOST holds now (main 098079b). */
const LONE_COLD_NOW = ['a', 'b'].map((x) => `lone-cold-1thread-r9-${x}.json`);

/** The committed results, those present. */
export function committedResults(): {
  contention: { oneThread: Contention[]; oneThreadInit: Contention[]; oneThreadMixed: Contention[]; loneCold: LoneColdRun[]; twoThreads?: Contention; twoThreadsBase: Contention[] };
  validation?: Validation;
  validationAgain?: Validation[];
  /** The runs pooled (bench/sim-validation.ts --pool). */
  validationPooled?: PooledValidation;
  /** The rate-4 runs and their pool, and round 8's pool of the same trace. */
  stress?: { runs: Validation[]; pooled: PooledValidation; before?: PooledValidation };
  rate2Check?: Validation;
  /** Round 10's rate-4 runs (with the probe), pooled as committed and at each run's probe speed, and the first-burst probe runs. */
  stress10?: { runs: Validation[]; pooled: PooledValidation; pooledProbe?: PooledValidation; firstBurst: FirstBurstRun[] };
  stackCpu?: { steady: StackCpuRun[]; bursty?: StackCpuBursty };
  replay?: Replay;
} {
  const read = (files: string[]) => files.flatMap((f) => readJson<Contention>(`${results}${f}`) ?? []);
  const twoThreads = readJson<Contention>(`${results}local-contention-2threads-fused.json`);
  const loneCold = LONE_COLD_RUNS.flatMap((f) => readJson<LoneColdRun>(`${results}${f}`) ?? []);
  // this round's full runs hold every table: the same runs for compute, overhead and init
  const oneThread = read(INIT_RUNS);
  const contention = { oneThread, oneThreadInit: oneThread, oneThreadMixed: read(MIXED_RUNS), loneCold, ...(twoThreads ? { twoThreads } : {}), twoThreadsBase: read(EPYC_ONE_THREAD_RUNS) };
  const validation = readJson<Validation>(`${results}${VALIDATION_RUNS[0]}`);
  // The same trace and simulation again on the stack: how much the stack itself moves between runs.
  const validationAgain = VALIDATION_RUNS.slice(1).flatMap((f) => readJson<Validation>(`${results}${f}`) ?? []);
  const validationPooled = readJson<PooledValidation>(`${results}${VALIDATION_POOLED}`);
  const replay = readJson<Replay>(`${results}recommend-replay.json`);
  const stressRuns = STRESS_RUNS.flatMap((f) => readJson<Validation>(`${results}${f}`) ?? []);
  const stressPooled = readJson<PooledValidation>(`${results}${STRESS_POOLED}`);
  const stressBefore = readJson<PooledValidation>(`${results}${STRESS_POOLED_BEFORE}`);
  const rate2Check = readJson<Validation>(`${results}${RATE2_CHECK}`);
  const stress10Runs = STRESS10_RUNS.flatMap((f) => readJson<Validation>(`${results}${f}`) ?? []);
  const stress10Pooled = readJson<PooledValidation>(`${results}${STRESS10_POOLED}`);
  const stress10Probe = readJson<PooledValidation>(`${results}${STRESS10_POOLED_PROBE}`);
  const firstBurst = FIRST_BURST_RUNS.flatMap((f) => {
    const run = readJson<Omit<FirstBurstRun, 'file'>>(`${results}${f}`);
    return run ? [{ ...run, file: f }] : [];
  });
  const steady = STACK_CPU_RUNS.flatMap((f) => readJson<StackCpuRun>(`${results}${f}`) ?? []);
  const bursty = readJson<StackCpuBursty>(`${results}${STACK_CPU_BURSTY}`);
  return {
    ...(stressPooled && stressRuns.length ? { stress: { runs: stressRuns, pooled: stressPooled, ...(stressBefore ? { before: stressBefore } : {}) } } : {}),
    ...(rate2Check ? { rate2Check } : {}),
    ...(stress10Pooled && stress10Runs.length ? { stress10: { runs: stress10Runs, pooled: stress10Pooled, ...(stress10Probe ? { pooledProbe: stress10Probe } : {}), firstBurst } } : {}),
    ...(steady.length ? { stackCpu: { steady, ...(bursty ? { bursty } : {}) } } : {}),
    contention,
    ...(validation ? { validation } : {}),
    ...(validationAgain.length ? { validationAgain } : {}),
    ...(validationPooled ? { validationPooled } : {}),
    ...(replay ? { replay } : {}),
  };
}

type ContentionResults = ReturnType<typeof committedResults>['contention'];

const when = (c: Contention) => `ended ${c.date.slice(11, 16)} UTC, load ${la(c.loadAverage.start)} → ${la(c.loadAverage.end)}`;

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

/** How much the stack's own figures moved between runs of one trace (cloud-only and cut:63 rows). */
function runToRun(runs: readonly Validation[]): string {
  return runs[0]!.rows
    .filter((r) => r.policy !== 'planner')
    .map((r) => {
      const rows = runs.map((g) => g.rows.find((x) => x.policy === r.policy)!.real);
      return `${r.policy} p95 ${rows.map((x) => f0(x.p95)).join(', ')} ms, 429s ${rows.map((x) => x.throttled).join(', ')}`;
    })
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

const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

/**
 * Round 9's measurement of overlap (bench/stack-cpu.ts): CPU per request of each process under steady Poisson
 * arrivals, the spread of the warm computes that ran alone, and the bursty run's phases against the host model.
 */
export function overlapMarkdown(x: NonNullable<ReturnType<typeof committedResults>['stackCpu']>): string {
  const when = (r: { date: string; loadAverage: { start: number[]; end: number[] } }) => `ended ${r.date.slice(11, 16)} UTC, load ${la(r.loadAverage.start)} → ${la(r.loadAverage.end)}`;
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
      `- **Inits are where the model puts them; the first inference at cut 0 was not.** The one first-inference factor (${LOCAL_HOST.firstInference!.factor}, the median of the pairs at cuts 0, 36, 63) is low for the whole model's tail: the same lone pairs give cut 0 alone 1.61 (that code) and ${firstInferenceFactor(LOCAL_HOST, 'mobilenetv2', 0)} (main now, \`bench/results/${LONE_COLD_NOW.join(', ')}\`), and with its own factor the burst's first inferences sit on the model (median 1.0). \`LOCAL_HOST.firstInference.factorByCut\` now holds cuts 0, 36, 63.`,
      `- **Cold starts in bursts, as the stack staggers them** (\`npx tsx bench/stagger-replay.ts\`): the same runs replayed on the model's processor sharing, every request entering when its init or compute began on the stack and the model saying when each phase ends (the predicted phases shift the overlap the next ones meet, as in the simulator), with the tail of then (lone cold start ${b.coldStartMs} ms, compute ${f1(b.loneComputeMs)}, first-inference factor 1.61). With the init table alone, the inits of bursts of 2–4 cold starts took 1.10, 1.06, 1.07, 1.15 × the model by their order in the burst (medians of 15, 15, 14, 5; all 49: 1.10 ×): the table's bursts were inits started together on an idle stack, these start staggered between warm requests. Three more runs of the same kind on the tail after 098079b (13:09–13:11 UTC, load 0.87 → 0.51, bench/results/stack-cpu-bursty-r9-b.json, lone cold start 321 ms, compute 26.9, factor 1.58) took 0.87, 1.00, 1.09, 1.14 × by order (all 43: 1.00 ×): the later inits of a burst run long in both sets, the first one is long in the first set and short in the second, so no order term is modelled. An init beside others now reads 1 + ${LOCAL_HOST.initBurstScale ?? 1} × (s(n) − 1) on the init table (\`LOCAL_HOST.initBurstScale\`, fitted on the 92 inits of both sets, each replayed with its own tail: median 1.01 ×; 1.06 × at 1, 0.96 × at 1.2; the first set alone fits 1.2, the second 1.0): 0.95, 0.99, 1.02, 1.06 × by order, pooled. The first environment's first inference, beside the others' inits, is then 1.19 × and 1.27 × the model in the two sets (pooled 1.14 ×), the next ones' about 1 ×: no further term.`,
    );
  }
  return out.join('\n');
}

/** What the per-request comparison of the committed runs found (bench/sim-validation.ts --per-request), and what changed in the model for it. */
const VALIDATION_FINDINGS = `**What changed in round 8, each measured apart from the trace (the contention table and \`LOCAL_HOST\` above).** The machine: this session runs on an Intel Xeon (2 vCPUs under KVM), not the AMD EPYC \`LOCAL_HOST\` was measured on until then, and the same tails run about twice as fast on it (a lone cut-0 compute 27 ms against 58, a lone cold start 336 ms against 809), so every figure of \`LOCAL_HOST\` was measured again here: with the EPYC's \`LOCAL_HOST\` the simulator puts this session's three runs pooled at p50 +29 % (cloud-only) and +30 % (cut:63), p95 +125 % and +152 %, and 30 and 24 429s against the stack's 1 and 0. The model: a cold environment's first inference is now a phase of its own (1.39 × the compute alone, its extra taken out of the init, so a lone cold request still takes the measured cold start + the compute), and a computing environment counts an init as 1.68 and a first inference as 1.48 busy neighbours. Round 7's validation on the EPYC (cloud-only p50 and 429s low) stays in bench/results/sim-validation{,-run2,-run3,-pooled}.json; this round's runs are the -r8- files.

**What was left after round 8, request by request** (\`npx tsx bench/sim-validation.ts --per-request bench/results/sim-validation-r8-run1.json\`, the simulator's record of the same request beside the stack's, then per policy the medians of real / simulated over the requests cold on both sides and warm on both; runs 1, 2, 3). A cold request's first inference is now within 16–27 % of the stack's (real / simulated 1.22, 1.16, 1.19 for cloud-only, 1.27, 1.24, 1.23 for cut:63; round 7, without the model, 1.5–2.2×) and its round trip within 10 % (1.08, 1.08, 1.10; cut:63 0.95, 0.90, 0.90). What the first-inference model changes on this machine is small: the same three runs pooled on the host without it and without the weights (\`--pool … --no-first-inference\`) give cloud-only p95 1064 ms against 1082 with it, cut:63 911 against 919, the p50s and counts the same. This machine clears the trace's bursts before the next one comes (one 429 in 720 requests on the stack, none simulated), so round 7's chain (environments busy longer, refusing requests) does not arise; whether the model closes round 7's misses on the EPYC could not be tried, that machine being gone. Cloud-only's cold starts are 14 % low in every run (22 against 19): the same three requests (31, 38, 72) find every environment busy on the stack and one free in the simulator, by 50–100 ms — in bursts of three cold starts the stack's inits run up to 1.3× the simulated ones, and the session's first two 888–917 ms against 685–737. For cut:63 the simulator's init is 8–12 % long (the measured lone cold start at cut 63, 348 ms from 6 pairs, is above cut 0's 336), its warm compute short (the stack's is 1.34–1.43×: the profile's cut shares are the EPYC's, cut 63 0.47 of the whole model there, 0.55 here) and its hand-off (27 ms, measured at cut 0) long: warm round trips 0.80×, cold ones 0.90–0.95×, its p95 (on cold requests) 8–18 % high per run, 12 % pooled. Each is a per-cut figure of the host, measured and left as measured rather than fitted to the trace.`;

const STRESS_FINDINGS = `**What changed for this, each measured apart from the trace** (round 9; "Under overlapping arrivals" above and the host paragraph): the compute's spread is skewed as measured (mean 1.10× its median, where the lognormal drawn before had 1.03×); the first inference's factor is per cut (1.58 at cut 0 against the one 1.39); an environment stays held for 77 % of the hand-off, the part inside the invocation (\`bench/stack-cpu.ts --hold\`: the emulator's invocation time against the client's round trip), where the simulator released it at the compute's end and added the hand-off after; the lone cold start, warm compute and hand-off are measured per cut on main after the tail lost the AWS SDK (098079b), instead of the profile's cut shares (the EPYC's) and one overhead (27 ms, measured at cut 0 on back-to-back requests with the SDK's registry marks). The stack changed too: its cold starts are shorter, and it refused 20 cloud-only requests where round 8's runs refused 26. The simulated figures are the committed model's (the runs' simulations redone with \`--resimulate\` as each term went in, the stack's records untouched); the pooled cloud-only refusals went 12 (spread, factor, cold starts) → 18 (+ the hand-off held) → 15 (+ the per-cut compute and hand-off: cut 0's lone hand-off is 21.7 ms, not 27, so the held part is shorter) → 18 (+ inits beside others stretched as the seed-11 bursts measured, \`initBurstScale\`: 18 at the pooled fit 1.1 as at the first set's 1.2, 15 at 1), against the stack's 20; cut:63's stay 6 against 9. Each term was kept for its own measurement, not for the count.

**Per request** (\`--per-request\` on each run; bench/results/sim-validation-r9-rate4-run{1,2,3}.json): warm requests are where the simulator puts them — cloud-only's computes 1.10–1.13× the simulated (round 8: 1.27–1.29×), round trips 1.02–1.09×; cut:63's computes 1.08–1.16× (round 8: 1.34–1.43×), round trips 0.99–1.05× (0.68–0.74× with the one overhead). Cold requests: with the init table alone they took 1.03–1.13× the simulated round trip, nearly all of it in the init (the cold starts of a burst ran longer on the stack than processor sharing gave them); with inits beside others stretched as the seed-11 bursts measured (1.1), cloud-only's inits are 0.98–1.06× the simulated, cold round trips 0.98–1.06×; cut:63's inits 1.04–1.09×, round trips 1.07–1.08×. What the stack refused and the simulator served: cloud-only request 44 (the end of a burst) in runs 1 and 2; cut:63 requests 7 (runs 1 and 2) and 6 (run 2), in the trace's first burst, on a stack with no environment yet. Pooled, cloud-only's 429s are within 15 % (20 against 18), cut:63's not (9 against 6, −33 %); per run they are 2–7, one to two apart.`;

/** Round 10 (engineer firstburst): what decides cut:63's first-burst refusals. */
const FIRST_BURST_FINDINGS = `**The first burst, request by request** (\`npx tsx bench/sim-validation.ts --timeline FILE --policy cut:63\`: when each request reached its tail and when its answer came back, the stack beside the simulator's median over 15 seeds). In all six runs at 4/s (round 9's three, round 10's three) the cut:63 requests the stack refused and the simulator served are 6 and 7, in the trace's first burst: four cold starts, two sent 10 ms apart and two more 160 ms later. Requests 6 and 7 reach the tail at about 1,320 and 1,360 ms; the simulator has the first two environments' answers back at about 1,245 and 1,260 ms, some 115 and 55 ms before (17 % and 8 % of their ~700 ms inits), the stack had one or both still busy (round 10 run 2: the second environment's init 830 ms against 706, its answer at 1,399 ms). The first burst's inits took a median 1.17× the simulated (24 inits over the six runs, 0.99–1.25×; round 10 run 2: 719, 830, 884, 909 ms against 692, 706, 741, 772); cut:63's later cold starts 1.02× (63 inits), cloud-only's first burst 1.05× and later 0.98×. Concurrency is counted alike on both sides (an environment in its init holds one of the reserved 4; requests 4 and 5, sent while four inits run, are refused on the stack in every run and simulated in 15 and 13 of 15 seeds).

**Why the first burst's inits are long, measured apart from the trace** (the bursts above). Not the stack's or the function's first use: on four fresh stacks, bursts of four cold starts took a median 886 ms as the stack's first traffic, 953 ms as a function's first burst after another cut had served, 941 ms later (first-burst-r10-a). Not the static plan \`offload load\` makes just before each policy's clock (a cold planner 450 ms before the burst): 902 ms after one, 917 ms without, alternated (first-burst-plan-r10-a). What is left: four cut-63 cold starts sent together ran 1.04–1.12× the model in each of four runs (128 inits), cut 0's 1.00–1.09× (80 inits): on this afternoon's host a burst of four inits is slower than the model (measured 09:44–12:10), a little more at cut 63 (cut 63 over cut 0 in the same run, alternated: 0.89 against the model's 0.87). Four inits at once is the first burst's shape; the later bursts open two or three at a time, where the stack and the model agree. The probe in each validation run measures this session's cold starts at 1.08–1.12× the committed ones, and with each run at its probe's speed cut:63's refusals are 11 simulated against 10 (+10 %), cloud-only's 22 against 19 (+16 %).

**Not fitted, and why.** A term for cut 63 (its four-init bursts ~1.09×) would rest on the gap between cut 63 and cut 0 in the same runs, which the runs put at −4 to +10 %; the rest is the session's speed, which moves between the morning's measurements and the afternoon's runs and is what the probe measures. So the model stays as measured: as committed, cut:63's 429s are 10 against 6 (−40 %), cloud-only's 19 against 18 (−5 %); the difference in cut:63's is three requests in three runs, the first burst's, on margins of 55 and 115 ms.`

/** Round 10 at 4/s: the runs (as committed and at each run's probe speed), pooled, and what the first burst is. */
export function stress10Markdown(x: NonNullable<ReturnType<typeof committedResults>['stress10']>, verdict: (rows: readonly ValidationRow[]) => string): string {
  const r = x.runs[0]!;
  const f2 = (v: number) => v.toFixed(2);
  const probe = x.runs.map((g) => g.probe?.speed).filter((s): s is NonNullable<typeof s> => s !== undefined);
  const burstRows = x.firstBurst.flatMap((run) => byCutTable(run.samples).map((b) => ({ ...b, run })));
  const lines = [
    `**Round 10: three more runs at 4/s, each after the host probe** (\`npx tsx bench/sim-validation.ts --requests ${r.trace.requests} --rate 4 --probe\`, under the measurement lock, the model unchanged since round 9: ${x.runs.map((g, i) => `run ${i + 1} ${g.date.slice(11, 16)} UTC, load average ${la(g.loadAverage)} at the end`).join('; ')}; ${r.date.slice(0, 10)}, Intel Xeon). The probe (other requests than the trace, on the same stack first) put this session's host at ${probe.map((s) => `cold starts ×${f2(s.coldScale)}, computes ×${f2(s.computeScale)}`).join('; ')} the model. Per run, the host as committed, then at that run's probe speed:`,
    '',
    ...x.runs.flatMap((g, i) => [`Run ${i + 1}:`, '', validationMarkdown(g.rows), '', ...(g.rowsAtProbeSpeed ? ['At its probe speed:', '', validationMarkdown(g.rowsAtProbeSpeed), ''] : [])]),
    `Pooled (bench/results/${STRESS10_POOLED}):`,
    '',
    validationMarkdown(x.pooled.rows),
    '',
    `**${verdict(x.pooled.rows)}**`,
    '',
    ...(x.pooledProbe ? [`Pooled, each run on the host at its own probe's speed (\`--pool … --at-probe-speed\`, bench/results/${STRESS10_POOLED_PROBE}):`, '', validationMarkdown(x.pooledProbe.rows), '', `**${verdict(x.pooledProbe.rows)}**`, ''] : []),
    ...(burstRows.length
      ? [
          `**Bursts of cold starts sent together, against the model** (\`npx tsx bench/first-burst.ts\`: fresh stacks run as the validation runs them, every environment reaped before each burst; no trace; the simulated init the median of the same burst on the host as committed, no spread; ${x.firstBurst.map((run) => `${run.file} ${run.date.slice(11, 16)} UTC, load ${la(run.loadAverage.start)} → ${la(run.loadAverage.end)}`).join('; ')}):`,
          '',
          '| run | cut | cold together | after a plan | inits | median init (ms) | simulated | measured / simulated |',
          '|---|---:|---:|---|---:|---:|---:|---:|',
          ...burstRows.filter((b) => b.k > 1).map((b) => `| ${b.run.file.replace(/\.json$/, '')} | ${b.cut} | ${b.k} | ${b.plan ? 'yes' : ''} | ${b.n} | ${b.initMs.toFixed(0)} | ${b.simMs.toFixed(0)} | ${f2(b.ratio)} |`),
          '',
        ]
      : []),
    FIRST_BURST_FINDINGS,
    '',
  ];
  return lines.join('\n');
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
      `- **A starting environment weighs more on a warm one than a computing one does**: a warm request beside k − 1 = ${mixedPool.besideInits.map((b) => b.c).join(', ')} cold starts' inits computes ${mixedPool.besideInits.map((b) => b.computeSlowdown.toFixed(2)).join(', ')}× a lone one, against ${mixedPool.besideInits.map((b) => (one.computeSlowdown[b.c] ?? NaN).toFixed(2)).join(', ')}× beside k − 1 computing ones: read on the compute table, an init counts for ${mixedPool.initWeight.toFixed(2)} computing neighbours (median over ${mixedPool.besideInits.reduce((a, b) => a + b.n, 0)} requests; \`LOCAL_HOST.initWeight\`). On the EPYC, on the streamed tail before the early download (the model fetched and built while the process loads), two runs had given 0.93–2.26×, within that machine's compute spread, and the model had counted both alike; whether the machine or the early download makes the difference was not separated.`,
    );
  }
  if (init && mixedPool) {
    const firsts = mixedPool.besideFirsts.filter((b) => b.n >= 10);
    bullets.push(
      `- **A cold environment's first inference is slower than a warm one, and heavier on its neighbours**: alone it takes ${mixedPool.firstInferenceFactor.toFixed(2)}× the next warm call's compute (median of the lone cold/warm pairs at cuts 0, 36, 63), ${init.coldComputeMsByK.slice(1).map(f0).join(', ')} ms in cold bursts of k = 2…${init.coldComputeMsByK.length} (${f0(init.loneComputeMs)} warm alone); a warm request beside ${firsts.map((b) => `~${b.m}`).join(', ')} of them (no init running) computes ${firsts.map((b) => `${b.computeSlowdown.toFixed(2)}× (${b.n} requests)`).join(', ')} a lone one, against ${firsts.map((b) => b.besideWarm.toFixed(2)).join(', ')}× beside warm ones: a first inference counts for ${mixedPool.firstInferenceWeight.toFixed(2)} (\`LOCAL_HOST.firstInference\`). The simulator used to hold the first inference's extra in the cold start, shared as init; it now runs it as the first inference, taken out of the init so that a lone cold request still takes the measured cold start + the compute.`,
    );
  }
  out.push(`${heading} Why the local stack's tails slow down in bursts

\`npx tsx bench/local-contention.ts [--threads N] [--rounds R]\`: a warm cut-0 MobileNetV2 request alone and in bursts of k concurrent requests on k warm environments (6 or 10 bursts per k), then k concurrent cold starts (3 bursts per k), on this 2-core machine, on today's engine (batch norm and relu fused into the convolutions). "compute" is the tail's own \`${INFER_HEADERS.computeMs}\`, "rest" what the client waited beyond it (HTTP API, base64 event, the emulator's IPC, wire decode/encode): medians.

${contentionMarkdown(c)}

${bullets.join('\n')}

The simulator's host model (\`offload simulate|recommend --host local\`, core/sim/host.ts \`LOCAL_HOST\`) is built from this: busy environments (initialising or computing) share the host by processor sharing at the pooled 1-thread slowdowns (past k = 5 growing as ideal sharing), a computing environment counting an init and a first inference by their weights, at this machine's speed (per cut the lone warm compute measured here, ${Object.entries(LOCAL_HOST.warmComputeMs?.mobilenetv2 ?? {}).map(([c, ms]) => `${ms} ms at cut ${c}`).join(', ')}, from the same lone cold/warm pairs as the cold starts; other tails the profile's layer times, measured on the same Intel Xeon on 2026-12-01, × ${LOCAL_HOST.computeScale ?? '–'}), with its lone cold start per cut (median cold − warm round trip of 12 pairs per tail on \`offload local\`, each cold call 6.5 s after the last request: \`bench/local-contention.ts --threads 1 --lone-cold-cuts 0,36,63,125,156\`, bench/results/${LONE_COLD_NOW.join(', ')}, on main after 098079b took the AWS SDK out of the tail's cold start: ${Object.values(LOCAL_HOST.coldStartMs.mobilenetv2 ?? {}).join(', ')} ms at cuts ${Object.keys(LOCAL_HOST.coldStartMs.mobilenetv2 ?? {}).join(', ')}) split into the init and the first inference (its factor per cut, ${Object.entries(LOCAL_HOST.firstInference?.factorByCut?.mobilenetv2 ?? {}).map(([c, f]) => `${f} at cut ${c}`).join(', ')}, from the same pairs), invoke overhead (per cut the lone warm round trip − compute of the same pairs, ${Object.entries(LOCAL_HOST.invokeOverheadMsByCut?.mobilenetv2 ?? {}).map(([c, ms]) => `${ms} ms at cut ${c}`).join(', ')}; growing with the most environments busy while a request ran, as the "rest" column: the API, the emulator and the client share the cores too; the environment held for ${LOCAL_HOST.handOffInHold ?? 0} of it, the part inside the invocation, below), inits beside others slowed ${LOCAL_HOST.initBurstScale ?? 1} × the init table's excess (the traffic's staggered bursts, below), and per-request spread (init CV ${LOCAL_HOST.spread.coldCv} among the requests of the same bursts; compute ${LOCAL_HOST.spread.tailFloor ?? 0} + ${(1 - (LOCAL_HOST.spread.tailFloor ?? 0)).toFixed(2)} × a lognormal of CV ${LOCAL_HOST.spread.tailCv}, skewed as the computes of requests that ran alone, below). A promise for the local host holds for 1 wasm thread per environment (the snippet pins \`wasmThreads: 1\`).
`);
  if (x.stackCpu) {
    out.push(`${heading} Under overlapping arrivals

The tables above come from rounds of at most 5 requests, each sent once all had answered. Round 9 measured the stack under overlapping arrivals instead:

${overlapMarkdown(x.stackCpu)}
`);
  }
  const v = x.validation;
  out.push(`${heading} The simulator against the local stack
`);
  if (v) {
    const cal = v.calibration as { planMs?: number; throttleOverheadMs?: number };
    const within = (s: number, r: number) => (r === 0 ? s === 0 : Math.abs(s - r) / r <= 0.15);
    const missesOf = (rows: readonly ValidationRow[]) =>
      rows.flatMap((r) =>
        (
          [
            ['p50', r.sim.p50, r.real.p50],
            ['p95', r.sim.p95, r.real.p95],
            ['429s', r.sim.throttled, r.real.throttled],
            ['cold starts', r.sim.coldStarts, r.real.coldStarts],
          ] as const
        )
          .filter(([, s, re]) => !within(s, re))
          .map(([what]) => `${r.policy} ${what}`),
      );
    const verdict = (rows: readonly ValidationRow[]) => {
      const misses = missesOf(rows);
      return misses.length === 0 ? 'Every p50, p95, 429 count and cold-start count is within 15 %.' : `Not within 15 %: ${misses.join(', ')}.`;
    };
    const again = x.validationAgain ?? [];
    const all = [v, ...again];
    const seeds = v.simSeeds ?? 1;
    const spread = (g: Validation) =>
      g.realSpread
        ? Object.entries(g.realSpread)
            .filter(([p]) => p !== 'planner')
            .map(([p, b]) => `${p} p50 ${f0(b.p50[0])}–${f0(b.p50[1])}, p95 ${f0(b.p95[0])}–${f0(b.p95[1])} ms`)
            .join('; ')
        : '–';
    const runLine = (g: Validation, i: number) => `run ${i + 1}: ${g.date.slice(11, 16)} UTC, ${g.wallS.toFixed(0)} s, load average ${la(g.loadAverage)} at the end${g.failures && g.failures.server + g.failures.timeout > 0 ? `, ${g.failures.server} server errors and ${g.failures.timeout} timeouts` : ''}`;
    out.push(`Round 8's runs at 2/s (on the model and the tail of then; this round's check at 2/s and its runs at 4/s follow). One seeded trace (${v.trace.requests} requests per policy: ${v.trace.process}) through \`offload load\` on the local stack (tails pinned to 1 wasm thread) and through the simulator with the host model as committed (\`LOCAL_HOST\` above, what \`offload simulate|recommend --host local\` use) and its spread, each simulated figure the median over ${seeds} seeds of the spread (one seed's p95 moves by a few % between seeds: the median is the simulator's expectation for the trace, not one draw). Nothing is taken from the trace's tails; only the plan and 429 round trips are the run's medians (${f0(cal.planMs ?? NaN)} and ${f0(cal.throttleOverheadMs ?? NaN)} ms), and device times are scaled as the deployed planner scales them (a predictor fitted on the model's own profile; \`offload simulate\` fits one on every committed profile). \`npx tsx bench/sim-validation.ts --requests ${v.trace.requests} --rate 2\`, ${all.length} times on the same code, each run alone under the measurement lock (${all.map(runLine).join('; ')}); ${v.date.slice(0, 10)}.

${all.map((g, i) => `Run ${i + 1}:\n\n${validationMarkdown(g.rows)}\n\n**${verdict(g.rows)}**`).join('\n\n')}
`);
    const pooled = x.validationPooled;
    if (pooled) {
      out.push(`The ${pooled.runs} runs pooled (\`npx tsx bench/sim-validation.ts --pool …\`: ${pooled.runs} × ${pooled.requests} requests per policy on the stack; the simulator ${pooled.simSeeds} seeds per run; counts summed over the runs, the simulator's median per run):

${validationMarkdown(pooled.rows)}

**${verdict(pooled.rows)}**
`);
    }
    out.push(`**How many requests.** A p95 of ${v.trace.requests} requests rests on its top ${Math.ceil(v.trace.requests * 0.05)}, and this trace's slow requests are the cold ones of a few bursts. Resampling a run's own requests (bootstrap, 2,000 draws; bench/sim-validation.ts \`bootstrapSpread\`) puts the 5th–95th percentile range of the stack's figures at: ${all.map((g, i) => `run ${i + 1}: ${spread(g)}`).join('. ')}. The same trace on the same code moved from run to run by ${runToRun(all)}. The p95's range is ${p95Widths(all)} of its value wide: one run cannot tell a 15 % error from noise, so the runs are ${v.trace.requests} requests per policy (${all[0]!.wallS.toFixed(0)} s a run without the probe) and the pooled ${all.length} runs are judged (the stack's p95 then rests on ${Math.ceil(v.trace.requests * all.length * 0.05)} requests), each run shown too.

${VALIDATION_FINDINGS}
`);
    const c2 = x.rate2Check;
    if (c2) {
      out.push(`**This round at 2/s, on the model as committed** (one run, \`npx tsx bench/sim-validation.ts --requests ${c2.trace.requests} --rate 2\`, ${c2.date.slice(11, 16)} UTC, ${c2.wallS.toFixed(0)} s, load average ${la(c2.loadAverage)} at the end, under the measurement lock; a check that nothing regressed):

${validationMarkdown(c2.rows)}

**${verdict(c2.rows)}**
`);
    }
    const stress = x.stress;
    if (stress) {
      const r = stress.runs[0]!;
      out.push(`**Twice the rate, where this machine refuses requests.** At 2/s this machine serves almost every request, so the 429 count above checks little. The same trace at 4/s (\`npx tsx bench/sim-validation.ts --requests ${r.trace.requests} --rate 4\`, ${stress.runs.length} runs under the measurement lock on the model as committed: ${stress.runs.map((g, i) => `run ${i + 1} ${g.date.slice(11, 16)} UTC, load average ${la(g.loadAverage)} at the end`).join('; ')}; ${r.date.slice(0, 10)}). Per run:

${stress.runs.map((g, i) => `Run ${i + 1}:\n\n${validationMarkdown(g.rows)}`).join('\n\n')}

Pooled:

${validationMarkdown(stress.pooled.rows)}

**${verdict(stress.pooled.rows)}**
${stress.before ? `\nRound 8's three runs of the same trace, pooled (the model and the tail of then; bench/results/${STRESS_POOLED_BEFORE}):\n\n${validationMarkdown(stress.before.rows)}\n` : ''}
${STRESS_FINDINGS}
`);
    }
    if (x.stress10) out.push(stress10Markdown(x.stress10, verdict));
    if (v.rowsMedians) {
      out.push(`An earlier round's method on run 1 (every tail time, cold start and overhead the run's median, no host model, no spread), for comparison:

${validationMarkdown(v.rowsMedians)}

One median per part cannot show that a burst's requests slow each other down: the medians sit between the lone and the crowded times.
`);
    }
  } else out.push('Not run (no bench/results/sim-validation.json).\n');
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

**${r.meetsPromise ? 'The measured p95 is within 15 % of the promise.' : `The measured p95 is ${(r.measured.p95 / r.promised.p95).toFixed(2)}× the promised one: not within 15 %.`}**${r.measured.errors + r.measured.fallbacks > 0 ? ` (${r.measured.fallbacks} requests fell back to the device, ${r.measured.errors} errors.)` : ''} The p50 is not a target: the requests of these bursts are either cold (1–3 s) or warm (~0.4 s), so the median sits on the edge between the two groups and moves by hundreds of ms with a few requests. ${capsSentence(r)}A promise for Lambda (\`--host lambda\`, the default of \`offload recommend\`) is a promise for another machine: each environment its own vCPUs, tails at the cloud profile's speed.
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
