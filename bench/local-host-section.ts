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
import type { HostModel } from '../core/sim/host';
import { poolRuns, type ContentionRun, type LoneColdRun } from './local-contention';
import { argValue, isMain } from './report';
import { validationMarkdown, type ValidationRow } from './sim-validation';

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

const la = (l: readonly number[]) => l.map((v) => v.toFixed(1)).join(' / ');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const pct = (s: number, r: number) => (r === 0 ? (s === 0 ? '0' : `+${s}`) : `${s >= r ? '+' : ''}${((100 * (s - r)) / r).toFixed(0)} %`);

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

/**
 * The 1-thread contention runs LOCAL_HOST was measured from (core/sim/host.ts): all of them for compute and overhead
 * (the warm path is the same engine); those on the tail with the early download (main b8913e2, 2026-12-01) for init
 * and a cold request's first compute; the two on the streamed tail before it (main f0229d3) for the mixed case.
 */
const MIXED_RUNS = ['a', 'b'].map((x) => `local-contention-1thread-streamed-${x}.json`);
const INIT_RUNS = ['a'].map((x) => `local-contention-1thread-early-${x}.json`);
/** Lone cold starts on the same tail after the same wait: their cut-0 inits join the init table's lone base (bench/local-contention.ts poolRuns). */
const LONE_COLD_RUNS = ['a'].map((x) => `lone-cold-1thread-early-${x}.json`);
const ONE_THREAD_RUNS = [...['a', 'b', 'c', 'd', 'e'].map((x) => `local-contention-1thread-fused-${x}.json`), ...MIXED_RUNS, ...INIT_RUNS];

/** The committed results, those present. */
export function committedResults(): {
  contention: { oneThread: Contention[]; oneThreadInit: Contention[]; oneThreadMixed: Contention[]; loneCold: LoneColdRun[]; twoThreads?: Contention };
  validation?: Validation;
  validationAgain?: Validation[];
  /** The runs pooled (bench/sim-validation.ts --pool). */
  validationPooled?: PooledValidation;
  replay?: Replay;
} {
  const read = (files: string[]) => files.flatMap((f) => readJson<Contention>(`${results}${f}`) ?? []);
  const twoThreads = readJson<Contention>(`${results}local-contention-2threads-fused.json`);
  const loneCold = LONE_COLD_RUNS.flatMap((f) => readJson<LoneColdRun>(`${results}${f}`) ?? []);
  const contention = { oneThread: read(ONE_THREAD_RUNS), oneThreadInit: read(INIT_RUNS), oneThreadMixed: read(MIXED_RUNS), loneCold, ...(twoThreads ? { twoThreads } : {}) };
  const validation = readJson<Validation>(`${results}sim-validation.json`);
  // The same trace and simulation again on the stack: how much the stack itself moves between runs.
  const validationAgain = ['run2', 'run3'].flatMap((n) => readJson<Validation>(`${results}sim-validation-${n}.json`) ?? []);
  const validationPooled = readJson<PooledValidation>(`${results}sim-validation-pooled.json`);
  const replay = readJson<Replay>(`${results}recommend-replay.json`);
  return {
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
  const mixedPool = x.oneThreadMixed.length ? poolRuns(x.oneThreadMixed) : undefined;
  const two = x.twoThreads;
  const lines = [
    `| k concurrent | 1 thread: compute ms (× alone) | 1 thread: rest ms | 1 thread: cold init ms (× alone) | 1 thread: cold first compute ms | 1 thread: warm beside k − 1 cold starts, compute ms (× alone) |${two ? ' 2 threads: compute ms (× alone) | 2 threads: cold init ms (× alone) |' : ''}`,
    `|---:|---:|---:|---:|---:|---:|${two ? '---:|---:|' : ''}`,
  ];
  one.computeSlowdown.forEach((s, i) => {
    const t = two?.rows[i];
    const cold = init ? `${f0(init.loneInitMs * init.initSlowdown[i]!)} (${init.initSlowdown[i]!.toFixed(2)})` : '–';
    const first = init ? f0(init.coldComputeMsByK[i] ?? NaN) : '–';
    const mixed = mixedPool?.besideInits.find((b) => b.c === i);
    const beside = mixed ? `${f0(mixedPool!.loneComputeMs * mixed.computeSlowdown)} (${mixed.computeSlowdown.toFixed(2)}; ${mixed.n} requests)` : '–';
    lines.push(
      `| ${i + 1} | ${f0(one.loneComputeMs * s)} (${s.toFixed(2)}) | ${f0(one.overheadMsByK[i]!)} | ${cold} | ${first} | ${beside} |${t ? ` ${f0(t.warm.computeMs)} (${t.warmComputeRatio.toFixed(2)}) | ${f0(t.cold.initMs)} (${t.coldInitRatio.toFixed(2)}) |` : ''}`,
    );
  });
  return `${lines.join('\n')}

1 thread: medians of ${x.oneThread.length} runs pooled (\`npx tsx bench/local-contention.ts --pool …\`; ${x.oneThread.map(when).join('; ')}); cold init and a cold request's first compute from the last ${x.oneThreadInit.length === 1 ? 'one' : x.oneThreadInit.length}, on the tail whose artifact download starts with the process (main b8913e2, 2026-12-01), the lone init the median of its lone cold starts and the cut-0 ones of the lone cold-start run (\`--lone-cold-cuts\`, after the same wait); the mixed case (\`--mixed-rounds\`: one environment serving request after request while k − 1 others start cold beside it; the requests that ended before the first of those inits could have) from the ${x.oneThreadMixed.length} before it, on the streamed tail (main f0229d3). Per run, the ratio at k = 3 ranged ${range(x.oneThread.map((c) => c.rows[2]!.warmComputeRatio))}, at k = 5 ${range(x.oneThread.map((c) => c.rows[4]!.warmComputeRatio))}: one run's lone median of 6–10 requests moves by ±20 %, hence the pooling.${two ? ` 2 threads: one run (${when(two)}).` : ''} Under the measurement lock.`;
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

const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

/** What the per-request comparison of the committed runs found (bench/sim-validation.ts --per-request), and what changed in the model for it. */
const VALIDATION_FINDINGS = `**What changed this round, each measured (the contention table and \`LOCAL_HOST\` above).** Two changes of the tail's cold start had landed under the model: the streamed load (main 028a864, a6287db) and, this session, the early download (b8913e2: the artifact download starts with the process, before the bundle loads). On \`offload local\` a lone cold start is now 809, 737, 700, 630, 472 ms at cuts 0, 36, 63, 125, 156 (the model held 825, 653, 743, 620, 459, measured before both after 3 s idle; on the streamed tail, before the early download, 880, 791, 833, 759, 602) and k concurrent ones take 1.75, 2.55, 2.75, 3.62× a lone one (1.30, 1.87, 2.32, 2.70 before both; 1.38, 1.97, 2.38, 2.88 on the streamed tail): a lone start now hides its download behind its module load, while a burst has no idle core to hide it in. The compute and overhead tables pool eight runs, three of them on the new tails. How long the host sat idle before a cold call matters on this machine: bench/cold-start.ts gives 580, 520, 482, 492, 336 ms after 3 s idle (bench/results/cold-start-mobilenetv2-1thread-streamed.txt) and 811, 734, 788, 685, 600 after 6.5 s (…-idle6500.txt), close to the figures above, which were taken 6.5 s after the last request as the trace's cold starts come after its 8 s pauses. The mixed case that last round suspected (a warm request slower beside starting environments than beside computing ones) was measured (\`--mixed-rounds\`): beside the first part of other environments' inits (the download and build) a warm request computes as beside computing ones, so the model keeps one count of busy environments. The simulator's own noise is gone from the comparison (median of 15 seeds), and the session probe is off by default (\`--probe\`): on this tail its 12-request reading of the cold start moved by 20 % within ten minutes and did not bring the simulation closer.

**What is left, request by request** (\`npx tsx bench/sim-validation.ts --per-request bench/results/sim-validation.json\`, the simulator's record of the same request beside the stack's, then per policy the medians of real / simulated over the requests cold on both sides and warm on both; runs 1, 2, 3). A cold request's whole round trip is right for cut:63 (1.02, 1.01, 0.99) and within 7–9 % for cloud-only in two runs (1.07, 1.09; 0.80 in run 3, whose cold starts ran fast), but its phases are not: on the stack its first inference takes 2.2, 2.0, 1.5× (cut:63 1.6, 1.7, 1.7×) what the simulator gives — the layers built while the weights arrived run their first inference cold, most of all in a burst (run 1's first 4-way burst: 116–287 ms for cloud-only, simulated 66–163) — and the simulator holds that extra in the cold start, shared as init. That leaves the totals right and the neighbours not: warm requests sent while a burst's environments run their first inferences take up to 2–3× their simulated round trip on the stack (run 1 cloud-only request 10: 255 ms against 176), 4 of 30–35 warm cloud-only requests over 2× in every run. Cloud-only's p50 is about the 80th percentile of its warm requests (some ten 429 fallbacks below them, ~32 cold requests above), so it lands among those slow ones: 7–20 % low. The same environments stay busy longer on the stack than in the simulator, so the stack refuses requests the simulator serves: cloud-only request 11 (3.2 s into the trace, the first burst's environments finishing their first inferences) and 61 in every run, and in run 2 seven more — the 429 counts differ by 1–7 a run, 41 against 30 pooled. Modelling the first inference's weight on its neighbours needs it measured apart from the init (the contention bench's cold bursts give it only as the cold requests' own compute: on this tail 80, 142, 128, 158, 246 ms at k = 1…5, a warm one 58–61), not done this round. Other small per-cut terms, measured and left: the profile's tail times are below the stack's warm compute (cut 63: 1.3–1.5×) while the simulator's hand-off (44 ms, measured at cut 0) is above cut 63's (20–40 ms: a smaller tensor to decode); for cut:63 the two cancel within a few ms (warm round trips 0.90–0.95×). The same validation on the streamed tail before the early download (three runs 05:07–05:35 UTC, in git history: bench/results/sim-validation*.json at ca0511d) had every p50 and p95 within 15 % pooled (cloud-only −10/−7 %, cut:63 −1/+11 %) and its 429 counts off by 16 and 24 %; the early download made the stack's bursts slower (cloud-only p95 2,669–3,010 ms against 2,490–2,698) and its lone cold starts faster, which the re-measured tables follow.`;

/** The section: contention, validation, replay. `heading` is the markdown level of its sub-headings. */
export function localHostMarkdown(x: ReturnType<typeof committedResults>, heading = '###'): string {
  const out: string[] = [];
  const c = x.contention;
  const one = c.oneThread.length ? poolRuns(c.oneThread) : undefined;
  const init = c.oneThreadInit.length ? poolRuns(c.oneThreadInit, c.loneCold) : undefined;
  const mixedPool = c.oneThreadMixed.length ? poolRuns(c.oneThreadMixed) : undefined;
  const two = c.twoThreads;
  const ratios = (xs: readonly number[]) => xs.slice(1).map((v) => v.toFixed(2)).join(', ');
  const bullets: string[] = [];
  if (one && two) {
    const t = (k: number) => two.rows[k - 1]!;
    bullets.push(
      `- **It is CPU sharing, and threads make it worse.** With the default engine (2 wasm threads per environment, what 1,769 MB gets) a burst of 2 computes ${t(2).warmComputeRatio.toFixed(1)}× slower than a lone request and a burst of 5 ${t(5).warmComputeRatio.toFixed(1)}× (${f0(t(5).warm.computeMs)} ms against ${f0(t(1).warm.computeMs)} alone): k environments × 2 threads on 2 cores oversubscribe the cores. With 1 thread per environment the same bursts cost ${ratios(one.computeSlowdown)}× at k = 2…5, close to 2 cores shared k ways (k/2 = 2.5 at k = 5), the stack's own processes (emulator, stand-ins, the client) taking their share. A second thread ${t(1).warm.computeMs < 0.85 * one.loneComputeMs ? 'does speed up' : 'barely speeds up'} a lone request (${f0(t(1).warm.computeMs)} vs ${f0(one.loneComputeMs)} ms), but in a burst of 2 one thread each is ${t(2).warm.computeMs > one.loneComputeMs * one.computeSlowdown[1]! ? 'faster' : 'not faster'} (${f0(one.loneComputeMs * one.computeSlowdown[1]!)} vs ${f0(t(2).warm.computeMs)} ms).`,
    );
  } else if (one) bullets.push(`- **It is CPU sharing.** With 1 thread per environment bursts of k = 2…5 compute ${ratios(one.computeSlowdown)}× slower than a lone request, close to 2 cores shared k ways.`);
  if (one) bullets.push(`- **The per-request overhead outside the tail is small and grows mildly**: ${f0(one.overheadMsByK[0]!)} ms alone, ${f0(one.overheadMsByK[one.overheadMsByK.length - 1]!)} ms at k = ${one.overheadMsByK.length} — not the cause.`);
  if (init) bullets.push(`- **Concurrent cold starts share the cores too**: k = 2…5 cold starts at once each take ${ratios(init.initSlowdown)}× a lone one (${f0(init.loneInitMs)} ms).`);
  if (mixedPool && one && mixedPool.besideInits.length) {
    bullets.push(
      `- **A starting environment weighs on a warm one as a computing one does** (measured on the streamed tail, before the early download): a warm request beside k − 1 = ${mixedPool.besideInits.map((b) => b.c).join(', ')} cold starts computes ${mixedPool.besideInits.map((b) => b.computeSlowdown.toFixed(2)).join(', ')}× a lone one, against ${mixedPool.besideInits.map((b) => (one.computeSlowdown[b.c] ?? NaN).toFixed(2)).join(', ')}× beside k − 1 computing ones — within the runs' spread, so the host model counts both kinds of busy environment alike.`,
    );
  }
  if (init) {
    bullets.push(
      `- **A cold request's first inference is slower than a warm one**: ${f0(init.coldComputeMsByK[0]!)} ms alone against ${f0(init.loneComputeMs)} for a warm one, and ${init.coldComputeMsByK.slice(1).map(f0).join(', ')} ms in cold bursts of k = 2…${init.coldComputeMsByK.length}: the layers built while the weights arrived run their first inference cold; the host model holds it in the cold start (cold − warm round trip), shared as init.`,
    );
  }
  out.push(`${heading} Why the local stack's tails slow down in bursts

\`npx tsx bench/local-contention.ts [--threads N] [--rounds R]\`: a warm cut-0 MobileNetV2 request alone and in bursts of k concurrent requests on k warm environments (6 or 10 bursts per k), then k concurrent cold starts (3 bursts per k), on this 2-core machine, on today's engine (batch norm and relu fused into the convolutions). "compute" is the tail's own \`${INFER_HEADERS.computeMs}\`, "rest" what the client waited beyond it (HTTP API, base64 event, the emulator's IPC, wire decode/encode): medians.

${contentionMarkdown(c)}

${bullets.join('\n')}

The simulator's host model (\`offload simulate|recommend --host local\`, core/sim/host.ts \`LOCAL_HOST\`) is built from this: busy environments (initialising or computing) share the host by processor sharing at the pooled 1-thread slowdowns (past k = 5 growing as ideal sharing), at this machine's profiled speed, with its lone cold start per cut (median cold − warm round trip of 7 pairs per tail on \`offload local\`, each cold call 6.5 s after the last request: \`bench/local-contention.ts --threads 1 --lone-cold-cuts 0,36,63,125,156\`, bench/results/lone-cold-1thread-early-a.json), invoke overhead (growing with the most environments busy while a request ran, as the "rest" column: the API, the emulator and the client share the cores too), and per-request spread (CV ${x.validation?.host?.spread.tailCv ?? '–'} compute, ${x.validation?.host?.spread.coldCv ?? '–'} init, among the requests of the same bursts). A promise for the local host holds for 1 wasm thread per environment (the snippet pins \`wasmThreads: 1\`).
`);
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
    out.push(`One seeded trace (${v.trace.requests} requests per policy: ${v.trace.process}) through \`offload load\` on the local stack (tails pinned to 1 wasm thread) and through the simulator with the host model as committed (\`LOCAL_HOST\` above, what \`offload simulate|recommend --host local\` use) and its spread, each simulated figure the median over ${seeds} seeds of the spread (one seed's p95 moves by a few % between seeds: the median is the simulator's expectation for the trace, not one draw). Nothing is taken from the trace's tails; only the plan and 429 round trips are the run's medians (${f0(cal.planMs ?? NaN)} and ${f0(cal.throttleOverheadMs ?? NaN)} ms), and device times are scaled as the deployed planner scales them (a predictor fitted on the model's own profile; \`offload simulate\` fits one on every committed profile). \`npx tsx bench/sim-validation.ts --requests ${v.trace.requests} --rate 2\`, ${all.length} times on the same code, each run alone under the measurement lock (${all.map(runLine).join('; ')}); ${v.date.slice(0, 10)}.

${all.map((g, i) => `Run ${i + 1}:\n\n${validationMarkdown(g.rows)}\n\n**${verdict(g.rows)}**`).join('\n\n')}
`);
    const pooled = x.validationPooled;
    if (pooled) {
      out.push(`The ${pooled.runs} runs pooled (\`npx tsx bench/sim-validation.ts --pool …\`: ${pooled.runs} × ${pooled.requests} requests per policy on the stack; the simulator ${pooled.simSeeds} seeds per run; counts summed over the runs, the simulator's median per run):

${validationMarkdown(pooled.rows)}

**${verdict(pooled.rows)}**
`);
    }
    out.push(`**How many requests.** A p95 of ${v.trace.requests} requests rests on its top ${Math.ceil(v.trace.requests * 0.05)}, and this trace's slow requests are the cold ones of a few bursts. Resampling a run's own requests (bootstrap, 2,000 draws; bench/sim-validation.ts \`bootstrapSpread\`) puts the 5th–95th percentile range of the stack's figures at: ${all.map((g, i) => `run ${i + 1}: ${spread(g)}`).join('. ')}. The same trace on the same code moved from run to run by ${runToRun(all)}. The p95's range is 8–24 % of its value wide (18 % on average over the six; 7–34 %, 20 % on average, in three runs on the streamed tail); last round's runs of 48 requests gave 8–49 % (26 % on average; the same resampling of their records), about as √(80/48) predicts: one run cannot tell a 15 % error from noise, so this round runs ${v.trace.requests} requests per policy (${all[0]!.wallS.toFixed(0)} s a run without the probe, under the 8-minute budget) and judges the pooled ${all.length} runs (the stack's p95 then rests on ${Math.ceil(v.trace.requests * all.length * 0.05)} requests), each run shown too.

${VALIDATION_FINDINGS}
`);
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
  const file = argValue('--splice');
  if (!file) {
    console.error('usage: npx tsx bench/local-host-section.ts --splice docs/evaluation.md');
    process.exitCode = 2;
  } else {
    splice(file, '## At scale', atScaleBody());
    console.error(`${file}: "## At scale" rewritten from bench/results/`);
  }
}
