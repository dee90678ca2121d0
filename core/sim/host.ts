/**
 * The host model of the simulator: an option for when the tails do NOT each
 * get their own vCPUs, as they do on Lambda (docs/cost-model.md, the default),
 * but share one machine's cores — the local stack, whose emulator runs every
 * execution environment as a process on this machine.
 *
 * Processor sharing with a measured slowdown. A busy environment (in its init
 * or computing) is a job holding `work` ms of lone time; while n jobs are busy
 * on the host, each advances at 1/s(n) of its lone speed, with s from the
 * host's table (s(1) = 1) and, past the table's end, growing as ideal
 * processor sharing does (s(n) = s(K)·n/K). The ideal host of C cores is
 * s(n) = max(1, n/C) ({@link sharedCores}); {@link LOCAL_HOST} is this
 * machine's table, measured by bench/local-contention.ts.
 *
 * Init and compute have their own tables (concurrent cold starts also share
 * the S3 and DynamoDB stand-ins and start a node process each), both indexed
 * by the count of all busy jobs.
 */
import { ValidationError } from '../errors';
import { quantile } from '../predictor';
import { CLOUD_DEFAULTS } from '../presets';

/** How environments share a host. */
export interface HostModel {
  /** `local`, or `cores:N` for {@link sharedCores}. */
  name: string;
  /** s(n) of a computing job, index n − 1; s(1) = 1, non-decreasing. */
  computeSlowdown: readonly number[];
  /** s(n) of an initialising job (a cold start), index n − 1. */
  initSlowdown: readonly number[];
  /** Wasm threads per environment the table was measured with (the configuration the promise holds for). */
  wasmThreads: number;
  /** A lone request's round trip beyond the tail's compute on this host (HTTP API, event encoding, the emulator's IPC, wire decode), ms. */
  invokeOverheadMs: number;
  /**
   * s(n) of that overhead, index n − 1, n the most busy environments the invocation saw while it ran: the API,
   * the emulator and the client run on the same cores, so the hand-off slows down in a burst too. Absent: constant.
   */
  overheadSlowdown?: readonly number[];
  /** Lone cold start per model and cut measured on this host (cold − warm round trip); wins over `cold`. */
  coldStartMs: Readonly<Record<string, Readonly<Record<number, number>>>>;
  /** Lone cold start by tail weight for tails not in `coldStartMs` (docs/cost-model.md §3 formula: base + per MiB of weights). */
  cold: { coldBaseMs: number; coldMsPerMB: number };
  /** Spread of one request's compute and init at a fixed sharing (coefficients of variation), for the simulator's jitter (./jitter.ts). */
  spread: { tailCv: number; coldCv: number };
  /**
   * A tail's lone compute on this host over the profile's layer times (`tailTimes: 'this-machine'`); default 1.
   * Set by {@link atSpeed} when a session's probe finds the host faster or slower than when it was profiled.
   */
  computeScale?: number;
}

/**
 * How fast the host runs in one session relative to its model: the same machine ran the same trace with every
 * phase (lone and shared, cold and warm) ~30 % faster one night than the night before (docs/evaluation.md
 * "The simulator against the local stack"), so a figure measured on one day is off by that much on another.
 */
export interface HostSpeed {
  /** Measured over modelled compute of lone warm requests. */
  computeScale: number;
  /** Measured over modelled cold start (cold − warm round trip). */
  coldScale: number;
  /** The session's invoke overhead (round trip − compute of warm requests), ms; default the host's. */
  invokeOverheadMs?: number;
}

/**
 * The host at a session's speed: its sharing tables unchanged (they are ratios), its lone cold starts (per cut and
 * the formula) × `coldScale`, its tails' compute × `computeScale`, and the session's invoke overhead.
 *
 * @example
 * atSpeed(LOCAL_HOST, { computeScale: 0.8, coldScale: 0.85 }).coldStartMs.mobilenetv2[0]; // 880 × 0.85
 */
export function atSpeed(host: HostModel, speed: HostSpeed): HostModel {
  for (const key of ['computeScale', 'coldScale'] as const) {
    const v = speed[key];
    if (!(Number.isFinite(v) && v > 0)) throw new ValidationError(`speed.${key}`, `must be a number > 0 (got ${v})`);
  }
  const overhead = speed.invokeOverheadMs ?? host.invokeOverheadMs;
  if (!(Number.isFinite(overhead) && overhead >= 0)) throw new ValidationError('speed.invokeOverheadMs', `must be a number >= 0 (got ${overhead})`);
  const coldStartMs: Record<string, Record<number, number>> = {};
  for (const [model, byCut] of Object.entries(host.coldStartMs)) {
    coldStartMs[model] = Object.fromEntries(Object.entries(byCut).map(([cut, ms]) => [cut, ms * speed.coldScale]));
  }
  return {
    ...host,
    name: `${host.name}@speed`,
    invokeOverheadMs: overhead,
    coldStartMs,
    cold: { coldBaseMs: host.cold.coldBaseMs * speed.coldScale, coldMsPerMB: host.cold.coldMsPerMB * speed.coldScale },
    computeScale: (host.computeScale ?? 1) * speed.computeScale,
  };
}

/** One request of a probe as the stack served it and as the simulator did (both 200). */
export interface ProbePair {
  cut: number;
  cold: boolean;
  real: { roundTripMs: number; computeMs: number };
  sim: { roundTripMs: number; computeMs: number };
}

/**
 * A session's {@link HostSpeed} from a probe (requests that are NOT the traffic to be predicted) run on the host and
 * simulated on the host model without spread: `computeScale` the median over warm requests of real / simulated
 * compute; `coldScale` the median over cold requests of real / simulated cold start, each taken as the request's
 * round trip − the median warm round trip of its cut (docs/cost-model.md §3: what a cold call costs over a warm
 * one); the invoke overhead the median real round trip − compute of warm requests. Requests cold on one side
 * only are left out. Throws when the probe has no warm pair or no cold pair.
 */
export function speedFromProbe(pairs: readonly ProbePair[]): HostSpeed & { warm: number; cold: number } {
  const both = (cold: boolean) => pairs.filter((p) => p.cold === cold);
  const warm = both(false);
  const cold = both(true);
  if (warm.length === 0 || cold.length === 0) throw new ValidationError('probe', `needs warm and cold requests on both sides (got ${warm.length} warm, ${cold.length} cold)`);
  const warmRt = new Map<number, { real: number; sim: number }>();
  for (const cut of new Set(pairs.map((p) => p.cut))) {
    const w = warm.filter((p) => p.cut === cut);
    if (w.length) warmRt.set(cut, { real: medianOf(w.map((p) => p.real.roundTripMs)), sim: medianOf(w.map((p) => p.sim.roundTripMs)) });
  }
  const coldRatios = cold.flatMap((p) => {
    const w = warmRt.get(p.cut);
    return w ? [(p.real.roundTripMs - w.real) / (p.sim.roundTripMs - w.sim)] : [];
  });
  if (coldRatios.length === 0) throw new ValidationError('probe', 'no cut has both cold and warm requests');
  return {
    computeScale: medianOf(warm.map((p) => p.real.computeMs / p.sim.computeMs)),
    coldScale: medianOf(coldRatios),
    invokeOverheadMs: medianOf(warm.map((p) => p.real.roundTripMs - p.real.computeMs)),
    warm: warm.length,
    cold: coldRatios.length,
  };
}

const medianOf = (xs: readonly number[]): number => quantile(xs, 0.5);

/**
 * Ideal processor sharing on `cores` cores: n ≤ cores busy jobs run at full speed, more share the cores equally;
 * the lone figures (overhead, cold start) are this machine's ({@link LOCAL_HOST}).
 */
export function sharedCores(cores: number): HostModel {
  if (!(Number.isInteger(cores) && cores >= 1)) throw new ValidationError('hostCores', `must be a whole number >= 1 (got ${cores})`);
  const s = Array.from({ length: cores + 1 }, (_, i) => Math.max(1, (i + 1) / cores));
  return { name: `cores:${cores}`, computeSlowdown: s, initSlowdown: s, wasmThreads: 1, invokeOverheadMs: LOCAL_HOST.invokeOverheadMs, coldStartMs: LOCAL_HOST.coldStartMs, cold: LOCAL_HOST.cold, spread: LOCAL_HOST.spread };
}

/**
 * This machine (2 vCPUs, AMD EPYC under KVM) running the local stack's
 * MobileNetV2 tails with ONE wasm thread each (`wasmThreads: 1`), on the
 * engine with batch norm and relu fused at load (models/fuse.ts) and the
 * streamed tail load (the model built while its weights arrive). All under
 * the measurement lock (quiet-run):
 * - compute slowdowns: bench/local-contention.ts --threads 1, seven runs
 *   pooled by its `--pool` (2026-11-30 18:56–19:24 UTC, five runs on main
 *   99df4bd/3bc7a71; 2026-12-01 04:44 and 04:50 UTC on main f0229d3, the
 *   streamed tail; load average 0.3–1.6 at their starts, 1.3–3.2 at their
 *   ends): the median compute (`x-offload-compute-ms`) of k concurrent cut-0
 *   requests on k environments over the pooled lone median (58.3 ms; the
 *   profile says 56.7), k = 1…5. One run's lone median (6–10 requests) moved
 *   by ±20 % between runs, so the runs are pooled rather than their ratios
 *   averaged. Slower than ideal sharing of 2 cores (1 at k = 2): the
 *   emulator, the stand-ins and the client use the same cores while the tails
 *   compute.
 * - init slowdowns: the same for `x-offload-init-ms` of k concurrent cold
 *   starts, the two runs on the streamed tail only (lone 715 ms). The same
 *   runs measured the mixed case (a warm request beside k − 1 initialising
 *   environments: 0.96, 1.37, 1.68, 2.34 × alone at k = 2…5), within the
 *   compute table's spread, so an initialising environment weighs on a
 *   computing one as a computing one does: one count of busy jobs for both.
 * - invoke overhead: the pooled median of round trip − compute of a lone warm
 *   request over the seven runs (45 ms); its slowdowns the same for k
 *   concurrent warm requests (48, 73, 84, 100 ms at k = 2…5).
 * - cold start: the five tails with 1 thread on the streamed tail (main
 *   f0229d3) on the stack as `offload local` runs it, median cold − warm
 *   round trip of 12 pairs each, each cold call 6.5 s after the last request
 *   (its environment reaped after 3 s), as traffic meets a cold fleet
 *   (bench/local-contention.ts --lone-cold-cuts, two runs 2026-12-01
 *   04:57–05:04 and 05:14–05:18 UTC, load average 1.48 → 0.21 and
 *   0.80 → 1.03; bench/results/lone-cold-1thread-streamed-{a,b}.json):
 *   880, 791, 833, 759, 602 ms at cuts 0, 36, 63, 125, 156. It holds the
 *   first inference's extra and the spawn, which the simulator shares as
 *   init. The idle before the call matters on this machine: bench/cold-start.ts
 *   (its stack inside the bench's process) gave 580, 520, 482, 492, 336 ms
 *   after 3 s idle (04:52–04:55, 10 pairs) and 811, 734, 788, 685, 600 after
 *   6.5 s (05:47–05:50, 4 pairs; bench/results/cold-start-mobilenetv2-1thread-
 *   streamed{,-idle6500}.txt), close to these; the validation trace's cold
 *   starts come after its 8 s pauses, so the 6.5 s figures are the ones kept.
 *   Other tails: core/presets.ts's local calibration (`CLOUD_DEFAULTS`,
 *   measured with 2 threads).
 * - spread: the median over runs and k of the coefficient of variation of
 *   compute among the requests of one run's bursts of k (median 0.25, seven
 *   runs) and of init among the cold ones (median 0.11, the streamed runs):
 *   the jitter left once the sharing is modelled.
 * With 2 threads per environment (the 1,769 MB default) bursts run much slower
 * than alone (oversubscribed thread pools; docs/evaluation.md), so the promise
 * is made for 1 thread.
 */
export const LOCAL_HOST: Readonly<HostModel> = Object.freeze({
  name: 'local',
  computeSlowdown: Object.freeze([1, 1.11, 1.56, 1.93, 2.29]),
  initSlowdown: Object.freeze([1, 1.38, 1.97, 2.38, 2.88]),
  wasmThreads: 1,
  invokeOverheadMs: 45,
  overheadSlowdown: Object.freeze([1, 1.07, 1.61, 1.86, 2.2]),
  coldStartMs: Object.freeze({ mobilenetv2: Object.freeze({ 0: 880, 36: 791, 63: 833, 125: 759, 156: 602 }) }),
  cold: Object.freeze({ coldBaseMs: CLOUD_DEFAULTS.coldBaseMs, coldMsPerMB: CLOUD_DEFAULTS.coldMsPerMB }),
  spread: Object.freeze({ tailCv: 0.25, coldCv: 0.11 }),
});

/** s(n) from a table (see the module doc). */
export function slowdownAt(table: readonly number[], n: number): number {
  if (n <= 1) return 1;
  const k = table.length;
  return n <= k ? table[n - 1]! : (table[k - 1]! * n) / k;
}

/**
 * The simDeployment options (./deployment.ts) of tails on `host`: this machine's profiled tail times (× the host's
 * `computeScale`) and the host's lone cold starts (measured per cut where it has them, else its formula).
 */
export function onHost(host: HostModel): { tailTimes: 'this-machine'; tailScale: number; cold: HostModel['cold']; coldStartMs: HostModel['coldStartMs'] } {
  return { tailTimes: 'this-machine', tailScale: host.computeScale ?? 1, cold: host.cold, coldStartMs: host.coldStartMs };
}

/** Checks a host model's tables (CLI and library input). */
export function checkHost(host: HostModel): void {
  for (const key of ['computeSlowdown', 'initSlowdown', 'overheadSlowdown'] as const) {
    const t = host[key];
    if (t === undefined) continue;
    if (t.length === 0 || t[0] !== 1) throw new ValidationError(`host.${key}`, 'must start with 1 (a lone job runs at its own speed)');
    t.forEach((v, i) => {
      if (!Number.isFinite(v) || (i > 0 && v < t[i - 1]!)) throw new ValidationError(`host.${key}[${i}]`, `must be finite and >= the entry before (got ${v})`);
    });
  }
}

/** One job on the host: an environment busy with `work` ms of lone time left in its current phase. */
export interface HostJob<T> {
  phase: 'init' | 'compute';
  /** Lone-speed ms left in this phase. */
  work: number;
  /** When this phase started (simulated ms). */
  phaseStart: number;
  item: T;
  /** The most jobs busy at once since it was added (itself included); kept by {@link HostCpu.add}. */
  peak?: number;
}

/**
 * Processor-sharing bookkeeping: the busy jobs and their progress. Calls come
 * in time order; between calls every job advances at 1/s(n).
 */
export class HostCpu<T> {
  readonly jobs: HostJob<T>[] = [];
  private last = 0;

  constructor(readonly host: HostModel) {}

  private rate(phase: HostJob<T>['phase'], n: number): number {
    return 1 / slowdownAt(phase === 'init' ? this.host.initSlowdown : this.host.computeSlowdown, n);
  }

  /** Moves every job forward to `now`. */
  advance(now: number): void {
    const dt = now - this.last;
    if (dt > 0) {
      const n = this.jobs.length;
      for (const j of this.jobs) j.work -= dt * this.rate(j.phase, n);
    }
    this.last = Math.max(this.last, now);
  }

  add(job: HostJob<T>, now: number): void {
    this.advance(now);
    this.jobs.push(job);
    const n = this.jobs.length;
    for (const j of this.jobs) if ((j.peak ?? 0) < n) j.peak = n;
  }

  /** The invoke overhead of a job that saw at most `peak` busy jobs ({@link HostModel.overheadSlowdown}). */
  overheadMs(baseMs: number, peak: number): number {
    const t = this.host.overheadSlowdown;
    return t ? baseMs * slowdownAt(t, peak) : baseMs;
  }

  remove(job: HostJob<T>): void {
    const i = this.jobs.indexOf(job);
    if (i >= 0) this.jobs.splice(i, 1);
  }

  /** The job whose phase ends first at the current sharing, and when; null when idle. */
  next(): { job: HostJob<T>; at: number } | null {
    const n = this.jobs.length;
    let best: HostJob<T> | null = null;
    let at = Infinity;
    for (const j of this.jobs) {
      const t = this.last + Math.max(0, j.work) / this.rate(j.phase, n);
      if (t < at) {
        at = t;
        best = j;
      }
    }
    return best ? { job: best, at } : null;
  }
}
