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
  /** Lone cold start per model and cut measured on this host (cold − warm round trip); wins over `cold`. */
  coldStartMs: Readonly<Record<string, Readonly<Record<number, number>>>>;
  /** Lone cold start by tail weight for tails not in `coldStartMs` (docs/cost-model.md §3 formula: base + per MiB of weights). */
  cold: { coldBaseMs: number; coldMsPerMB: number };
  /** Spread of one request's compute and init at a fixed sharing (coefficients of variation), for the simulator's jitter (./jitter.ts). */
  spread: { tailCv: number; coldCv: number };
}

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
 * engine with batch norm and relu fused at load (models/fuse.ts). All measured
 * 2026-11-30 under the measurement lock (quiet-run):
 * - compute slowdowns: bench/local-contention.ts --threads 1, five runs (ended
 *   18:56, 18:59, 19:02 UTC on main 99df4bd; 19:21, 19:24 on 3bc7a71, whose
 *   cold-start fold leaves warm compute alone; load average 0.3–1.6 at their
 *   starts, 1.3–3.2 at their ends), pooled by its `--pool`: the median compute
 *   (`x-offload-compute-ms`) of k concurrent cut-0 requests on k environments
 *   over the pooled lone median (56.0 ms; the profile says 56.7), k = 1…5. One
 *   run's lone median (6–10 requests) moved by ±20 % between runs, so the runs
 *   are pooled rather than their ratios averaged. Slower than ideal sharing of
 *   2 cores (1 at k = 2): the emulator, the stand-ins and the client use the
 *   same cores while the tails compute.
 * - init slowdowns: the same for `x-offload-init-ms` of k concurrent cold
 *   starts, the two runs on 3bc7a71 only (the fold moved out of the rebuild;
 *   lone 829 ms).
 * - invoke overhead: the pooled median of round trip − compute of a lone warm
 *   request over the five runs (45 ms; 40–57 per run).
 * - cold start: the five tails with 1 thread on 3bc7a71, median cold − warm
 *   round trip of 10 pairs each, each cold call after 3 s idle as traffic meets
 *   a cold fleet (bench/cold-start.ts --repeats 10 --idle-ms 3000, 19:16–19:19
 *   UTC, load average 0.42 → 0.27; bench/results/cold-start-mobilenetv2-1thread-fused.txt):
 *   825, 653, 743, 620, 459 ms at cuts 0, 36, 63, 125, 156 (runs on the engine
 *   before: 716–901 at cut 0). Other tails: core/presets.ts's local calibration
 *   (`CLOUD_DEFAULTS`, measured with 2 threads).
 * - spread: the median over runs and k of the coefficient of variation of
 *   compute among the requests of one run's bursts of k (median 0.26) and of
 *   init among the cold ones (median 0.09): the jitter left once the sharing
 *   is modelled.
 * With 2 threads per environment (the 1,769 MB default) bursts run much slower
 * than alone (oversubscribed thread pools; docs/evaluation.md), so the promise
 * is made for 1 thread.
 */
export const LOCAL_HOST: Readonly<HostModel> = Object.freeze({
  name: 'local',
  computeSlowdown: Object.freeze([1, 1.17, 1.67, 2.05, 2.41]),
  initSlowdown: Object.freeze([1, 1.3, 1.87, 2.32, 2.7]),
  wasmThreads: 1,
  invokeOverheadMs: 45,
  coldStartMs: Object.freeze({ mobilenetv2: Object.freeze({ 0: 825, 36: 653, 63: 743, 125: 620, 156: 459 }) }),
  cold: Object.freeze({ coldBaseMs: CLOUD_DEFAULTS.coldBaseMs, coldMsPerMB: CLOUD_DEFAULTS.coldMsPerMB }),
  spread: Object.freeze({ tailCv: 0.26, coldCv: 0.09 }),
});

/** s(n) from a table (see the module doc). */
export function slowdownAt(table: readonly number[], n: number): number {
  if (n <= 1) return 1;
  const k = table.length;
  return n <= k ? table[n - 1]! : (table[k - 1]! * n) / k;
}

/**
 * The simDeployment options (./deployment.ts) of tails on `host`: this machine's profiled tail times and the host's
 * lone cold starts (measured per cut where it has them, else its formula).
 */
export function onHost(host: HostModel): { tailTimes: 'this-machine'; cold: HostModel['cold']; coldStartMs: HostModel['coldStartMs'] } {
  return { tailTimes: 'this-machine', cold: host.cold, coldStartMs: host.coldStartMs };
}

/** Checks a host model's tables (CLI and library input). */
export function checkHost(host: HostModel): void {
  for (const key of ['computeSlowdown', 'initSlowdown'] as const) {
    const t = host[key];
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
