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
 * MobileNetV2 cut-0 tails with ONE wasm thread each (`wasmThreads: 1`),
 * measured by bench/local-contention.ts --threads 1 (two runs, 2026-11-30
 * 15:45 and 15:56 UTC, load average 1.6 and 1.5 before each):
 * - slowdowns: median compute (`x-offload-compute-ms`) and init
 *   (`x-offload-init-ms`) of k concurrent requests on k environments over
 *   the lone one, k = 1…5, the mean of the two runs (compute 1, 1.62/1.51,
 *   2.02/3.14, 2.38/2.96, 2.72/3.83; init 1, 1.41/1.37, 2.11/1.97,
 *   3.24/2.77, 3.55/3.16). Slower than ideal sharing of 2 cores (≈ 1.5 at
 *   k = 2, not 1): the emulator, the stand-ins and the client use the same
 *   cores while the tails compute.
 * - invoke overhead: median round trip − compute of a lone warm request
 *   (70 and 38 ms; 54).
 * - cold start: MobileNetV2's five tails with 1 thread, median cold − warm
 *   round trip of 5 pairs each (bench/cold-start.ts --repeats 5, 16:41 UTC,
 *   load average 2.0 at the end): 969, 778, 768, 608, 469 ms at cuts 0, 36,
 *   63, 125, 156 — not a function of the weights alone (cuts 0–63 load the
 *   same 13.2–13.5 MiB; cut 0's init also warms up the whole model on a
 *   224×224 input), so the per-cut figures are kept. The contention runs'
 *   lone cut-0 cold starts agree (971, 1,027 ms). Other tails: core/presets.ts's
 *   local calibration (`CLOUD_DEFAULTS`, measured with 2 threads).
 * These figures predate the load-time fusion (models/fuse.ts, 16:10–16:33):
 * docs/evaluation.md ("Re-check on today's faster engine") says what still holds on the fused engine.
 * - spread: coefficient of variation of compute among the k requests of
 *   the same bursts (k = 1…5, both runs: 0.09–0.45, median 0.19) and of init
 *   among the cold ones (0.06–0.15, median 0.09): the jitter left once the
 *   sharing is modelled.
 * With the default 2 threads per environment (1,769 MB) the same bursts ran
 * 4.4× (k = 2) to 12× (k = 5) slower than alone — oversubscribed thread
 * pools — so the promise is made for 1 thread.
 */
export const LOCAL_HOST: Readonly<HostModel> = Object.freeze({
  name: 'local',
  computeSlowdown: Object.freeze([1, 1.57, 2.58, 2.67, 3.28]),
  initSlowdown: Object.freeze([1, 1.39, 2.04, 3.01, 3.36]),
  wasmThreads: 1,
  invokeOverheadMs: 54,
  coldStartMs: Object.freeze({ mobilenetv2: Object.freeze({ 0: 969, 36: 778, 63: 768, 125: 608, 156: 469 }) }),
  cold: Object.freeze({ coldBaseMs: CLOUD_DEFAULTS.coldBaseMs, coldMsPerMB: CLOUD_DEFAULTS.coldMsPerMB }),
  spread: Object.freeze({ tailCv: 0.19, coldCv: 0.09 }),
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
