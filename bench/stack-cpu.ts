/**
 * Where the local stack's CPU goes per request, and how a warm tail's compute
 * grows with the overlap it actually had — under Poisson arrivals, not in the
 * rounds bench/local-contention.ts sends. Two questions about the simulator's
 * host model (core/sim/host.ts LOCAL_HOST), which counts only the tails'
 * inits and computes as users of the 2 cores:
 *
 * (a) CPU per request of each process: the stack's main process (API gateway
 *     emulator, Lambda emulator, S3 and DynamoDB stand-ins), the tail
 *     environments (their compute and what they do besides: event decode,
 *     IPC, wire encode), the planner's environments, and the load client
 *     itself (`runLoad`, the harness `offload load` runs, in this process).
 *     Stack processes from /proc/PID/stat (utime + stime, sampled every
 *     100 ms; an environment reaped between samples loses at most its last
 *     100 ms), the client from process.cpuUsage(), from its first `infer` to
 *     its last answer. The main process's idle rate (its timers) is measured
 *     first and taken off.
 * (b) each served warm request's compute (`x-offload-compute-ms`) against what
 *     the host model predicts from its overlap: its compute window placed back
 *     from when its answer arrived (as local-contention's mixed phase does),
 *     n = 1 + the time-averaged count of other requests computing in it, the
 *     prediction the lone compute × LOCAL_HOST.computeSlowdown at n; the ratio
 *     measured / predicted by rounded n.
 *
 * Each rate is its own phase on one stack: 4 warm environments made first (so
 * the phase has no cold start unless its overlap needs a 5th), then a steady
 * Poisson trace of cut-0 MobileNetV2 requests (cloud-only, 12 low-end phones
 * on WiFi; seed 11, not the validation's 3).
 *
 * (c) `--bursty RATE`: the validation's kind of bursts (another seed), where
 *     each burst opens cold environments beside warm ones; every phase of
 *     every request (init, first inference, warm compute) against the host
 *     model's prediction for the overlap it had ({@link phaseRatios}).
 *
 * Usage (bounded: about 40 s per rate with 120 requests; about 1 min per bursty run of 80; starts its own local stack
 * on an ephemeral port, and stops it):
 *   npx tsx bench/stack-cpu.ts [--rates 2,4,6] [--requests 120] [--seed 11] [--json FILE]
 *   npx tsx bench/stack-cpu.ts --bursty 4 [--requests 80] [--runs 1] [--seed 11] [--json FILE]
 * The compute spread of the steady runs' lone warm requests, as the simulator's jitter takes it ({@link floorLognormalFit}):
 *   npx tsx bench/stack-cpu.ts --spread A.json,B.json
 * How much of the hand-off the environment is held for ({@link hold}; about 1 min):
 *   npx tsx bench/stack-cpu.ts --hold [--cuts 0,63] [--warm 8] [--runs 3] [--json FILE]
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffloadApi } from '../client/api';
import { DeviceModel } from '../client/device';
import { runLoad } from '../client/load';
import { inferRoute } from '../core/catalog';
import { parsePolicy } from '../core/policies';
import { firstInferenceFactor, LOCAL_HOST, onHost, slowdownAt, type HostModel } from '../core/sim/host';
import { predictorFromProfiles } from '../core/profile-scenario';
import { simDeployment } from '../core/sim/deployment';
import { generateWorkload, makeDevices } from '../core/workload';
import { loadProfile } from '../models/profile-files';
import { startOffloadLocal, type OffloadLocalProcess } from '../testkit/node-process';
import { headPayloads, writeLocalConfig } from './local-stack-setup';
import { argValue, checkArgs, isMain, median, overlap } from './report';

const MODEL = 'mobilenetv2';
const KEEP_ALIVE_MS = 60_000;
const TICK_MS = 1000 / 100; // USER_HZ: /proc/PID/stat counts in 1/100 s on Linux
const WARM_ENVS = 4;

/** utime + stime of a process, ms; null when it is gone. */
export function cpuMsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/** The children of `pid` with the Lambda function each runs (from its environment), or `other`. */
export function childrenOf(pid: number): { pid: number; fn: string }[] {
  const out: { pid: number; fn: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const env = readFileSync(`/proc/${d}/environ`, 'utf8').split('\0');
      const fn = env.find((e) => e.startsWith('AWS_LAMBDA_FUNCTION_NAME='))?.slice('AWS_LAMBDA_FUNCTION_NAME='.length) ?? 'other';
      out.push({ pid: Number(d), fn });
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}

/** Polls the stack's processes: per pid the CPU ms last seen and at the mark. */
class CpuWatch {
  private readonly last = new Map<number, { fn: string; ms: number }>();
  private readonly atMark = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly root: number) {}

  sample(): void {
    const main = cpuMsOf(this.root);
    if (main !== null) this.last.set(this.root, { fn: 'main', ms: main });
    for (const c of childrenOf(this.root)) {
      const ms = cpuMsOf(c.pid);
      if (ms !== null) this.last.set(c.pid, { fn: c.fn, ms });
    }
  }

  start(): void {
    this.timer = setInterval(() => this.sample(), 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** From now on, {@link since} counts from here (processes born later from 0). */
  mark(): void {
    this.sample();
    this.atMark.clear();
    for (const [pid, x] of this.last) this.atMark.set(pid, x.ms);
  }

  /** CPU ms since the mark, summed per kind: `main`, `planner` (the function named …-planner), `tail` (any other function), `other` (a child that runs none). */
  since(): Record<string, number> {
    this.sample();
    const out: Record<string, number> = {};
    for (const [pid, x] of this.last) {
      const kind = x.fn === 'main' || x.fn === 'other' ? x.fn : x.fn.endsWith('-planner') ? 'planner' : 'tail';
      out[kind] = (out[kind] ?? 0) + x.ms - (this.atMark.get(pid) ?? 0);
    }
    return out;
  }
}

/** One request to a tail as the client timed it (`status` 429: refused, no compute). */
export interface Served {
  sentAt: number;
  endAt: number;
  computeMs: number;
  roundTripMs: number;
  cold: boolean;
  /** The tail's reported init (cold only), ms; absent in the steady phases' files. */
  initMs?: number | null;
  status?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Each warm request's overlap and prediction (module doc, (b)): `n` 1 + the time-averaged count of the other served
 * requests computing during its compute window, `predictedMs` lone × s(n) on `table`.
 */
export function overlapRatios(served: readonly Served[], loneMs: number, table: readonly number[] = LOCAL_HOST.computeSlowdown): { n: number; computeMs: number; predictedMs: number }[] {
  const windows = served.map((s) => [s.endAt - s.computeMs, s.endAt] as const);
  return served.flatMap((s, i) => {
    if (s.cold) return [];
    const w = windows[i]!;
    let others = 0;
    windows.forEach((o, j) => {
      if (j !== i) others += overlap(w, o);
    });
    const n = 1 + others / s.computeMs;
    return [{ n, computeMs: s.computeMs, predictedMs: loneMs * slowdownAt(table, n) }];
  });
}

/**
 * The compute spread of warm requests that computed alone (overlap n < 1.5) as the simulator's jitter draws it
 * (core/sim/jitter.ts with `tailFloor`): each compute over their median, fitted as f + (1 − f) × lognormal(median 1)
 * through the 10th, 50th and 90th percentiles (exact there; needs a right skew, p90 − 1 > 1 − p10). Returns the
 * floor f, the lognormal's σ and coefficient of variation, and the measured and fitted mean and p95 to check the fit.
 */
export function floorLognormalFit(computeMs: readonly number[]): { n: number; medianMs: number; floor: number; sigma: number; cv: number; mean: number; fitMean: number; p95: number; fitP95: number } {
  const xs = [...computeMs].sort((a, b) => a - b);
  const q = (p: number) => {
    const i = p * (xs.length - 1);
    const lo = Math.floor(i);
    return xs[lo]! + (xs[Math.min(lo + 1, xs.length - 1)]! - xs[lo]!) * (i - lo);
  };
  const m = q(0.5);
  const p10 = q(0.1) / m;
  const p90 = q(0.9) / m;
  const z90 = 1.2815515655446004;
  const u = (p90 - 1) / (1 - p10);
  if (!(u > 1)) throw new Error(`no right skew to fit (p10 ${p10.toFixed(3)}, p90 ${p90.toFixed(3)} of the median)`);
  const sigma = Math.log(u) / z90;
  const b = (p90 - 1) / (u - 1);
  return {
    n: xs.length,
    medianMs: m,
    floor: 1 - b,
    sigma,
    cv: Math.sqrt(Math.expm1(sigma * sigma)),
    mean: xs.reduce((a, x) => a + x, 0) / xs.length / m,
    fitMean: 1 - b + b * Math.exp((sigma * sigma) / 2),
    p95: q(0.95) / m,
    fitP95: 1 - b + b * Math.exp(1.6448536269514722 * sigma),
  };
}

/** One phase of one request of a bursty run: what it took, and what the host model says for the overlap it had. */
export interface PhaseRatio {
  phase: 'init' | 'first' | 'warm';
  /** The busy count its slowdown is read at (weights as the host's; an init's count is every busy job as 1). */
  n: number;
  ms: number;
  predictedMs: number;
}

/**
 * The bursty phase's requests, phase by phase, against `host` (module doc, (c)). Windows are placed back from each
 * answer's arrival, `backMs` before it (the return hand-off, the same for all): compute, and before it the init of a
 * cold one. A warm compute is predicted as the host's lone compute × s(n) on its compute table, n = 1 + the
 * time-averaged weights of the others (an init `initWeight`, a first inference `firstInference.weight`, a warm
 * compute 1); a first inference the same × the host's first-inference factor of the tail at `cut`; an init the lone cold start less the first
 * inference's extra × s(n) on its init table, n = 1 + the time-averaged count of the others busy.
 */
export function phaseRatios(served: readonly Served[], host: HostModel, loneMs: number, coldStartMs: number, backMs: number, cut = 0): PhaseRatio[] {
  const ok = served.filter((s) => (s.status ?? 200) === 200 && Number.isFinite(s.computeMs));
  const first = { weight: host.firstInference?.weight ?? 1, factor: firstInferenceFactor(host, MODEL, cut) };
  const iw = host.initWeight ?? 1;
  const win = ok.map((s) => {
    const end = s.endAt - backMs;
    const compute = [end - s.computeMs, end] as const;
    const init = s.cold ? ([compute[0] - (s.initMs ?? 0), compute[0]] as const) : null;
    return { s, compute, init };
  });
  const avg = (w: readonly [number, number], self: number, weightOf: (j: number, part: 'init' | 'compute') => number) => {
    let sum = 0;
    win.forEach((o, j) => {
      if (j === self) return;
      if (o.init) sum += weightOf(j, 'init') * overlap(w, o.init);
      sum += weightOf(j, 'compute') * overlap(w, o.compute);
    });
    return sum / (w[1] - w[0]);
  };
  const computeWeight = (j: number, part: 'init' | 'compute') => (part === 'init' ? iw : win[j]!.s.cold ? first.weight : 1);
  const out: PhaseRatio[] = [];
  win.forEach((x, i) => {
    const n = 1 + avg(x.compute, i, computeWeight);
    const factor = x.s.cold ? first.factor : 1;
    out.push({ phase: x.s.cold ? 'first' : 'warm', n, ms: x.s.computeMs, predictedMs: factor * loneMs * slowdownAt(host.computeSlowdown, n) });
    if (x.init && x.init[1] > x.init[0]) {
      const ni = 1 + avg(x.init, i, () => 1);
      out.push({ phase: 'init', n: ni, ms: x.init[1] - x.init[0], predictedMs: (coldStartMs - (first.factor - 1) * loneMs) * slowdownAt(host.initSlowdown, ni) });
    }
  });
  return out;
}

/** {@link phaseRatios} summarised: per phase and busy-count band, the requests, median and mean of measured / predicted. */
export function phaseTable(ratios: readonly PhaseRatio[]): { phase: PhaseRatio['phase']; band: string; n: number; median: number; mean: number }[] {
  const bands: [number, number][] = [[1, 1.5], [1.5, 2.5], [2.5, 3.5], [3.5, Infinity]];
  return (['init', 'first', 'warm'] as const).flatMap((phase) =>
    bands.flatMap(([lo, hi]) => {
      const xs = ratios.filter((r) => r.phase === phase && r.n >= lo && r.n < hi).map((r) => r.ms / r.predictedMs);
      return xs.length ? [{ phase, band: `${lo}–${hi === Infinity ? '' : hi}`, n: xs.length, median: median(xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length }] : [];
    }),
  );
}

/**
 * `--bursty RATE` (module doc, (c)): the validation's kind of traffic — bursts at RATE/s for 4 s, 8 s off, 12
 * low-end phones on WiFi, cloud-only, on the validation's stack (every cut deployed, reserved concurrency 4,
 * keep-alive 5 s, 1 wasm thread) — with another seed, so each burst opens cold environments while others serve.
 * Every request to the tail timed by the client; per phase, measured against the host model for the overlap it had.
 */
async function bursty(rate: number, requests: number, seed: number, runs: number): Promise<void> {
  const { burstyPhoneArrivals, KEEP_ALIVE_MS: VALIDATION_KEEP_ALIVE_MS, LOCAL_CUTS, LOCAL_RESERVED, LOCAL_MEMORY_MB } = await import('./sim-validation');
  const dep = simDeployment({ models: [{ profile: loadProfile(MODEL), cuts: LOCAL_CUTS, tail: { memoryMB: LOCAL_MEMORY_MB, reservedConcurrency: LOCAL_RESERVED, provisionedConcurrency: 0 } }], predictor: predictorFromProfiles([loadProfile(MODEL)]), ...onHost(LOCAL_HOST) });
  const cut0 = dep.functions.find((f) => f.cut === 0)!;
  const dir = mkdtempSync(join(tmpdir(), 'stack-cpu-'));
  const config = writeLocalConfig(dir, { wasmThreads: LOCAL_HOST.wasmThreads });
  const load0 = loadavg();
  const arrivals = burstyPhoneArrivals(rate, seed, requests);
  const all: Served[][] = [];
  let stack: OffloadLocalProcess | undefined;
  try {
    stack = await startOffloadLocal(['--config', config, '--models', MODEL, '--port', '0', '--keep-alive-ms', String(VALIDATION_KEEP_ALIVE_MS), '--state-dir', join(dir, 'state'), '--json', '--quiet'], { echoStderr: true });
    const api = new OffloadApi({ baseUrl: stack.url, timeoutMs: 120_000 });
    for (let r = 0; r < runs; r++) {
      // Every environment reaped before the run (as the validation's --pause-ms does between policies).
      await sleep(VALIDATION_KEEP_ALIVE_MS + 4000);
      const served: Served[] = [];
      const timed = new Proxy(api, {
        get(target, prop, receiver) {
          if (prop !== 'infer') return Reflect.get(target, prop, receiver) as unknown;
          return async (...args: Parameters<OffloadApi['infer']>) => {
            const sentAt = performance.now();
            try {
              const res = await target.infer(...args);
              served.push({ sentAt, endAt: performance.now(), computeMs: res.computeMs ?? NaN, roundTripMs: res.roundTripMs, cold: res.cold, initMs: res.initMs, status: 200 });
              return res;
            } catch (e) {
              served.push({ sentAt, endAt: performance.now(), computeMs: NaN, roundTripMs: performance.now() - sentAt, cold: false, initMs: null, status: (e as { status?: number }).status ?? 0 });
              throw e;
            }
          };
        },
      });
      await runLoad({ api: timed, arrivals, policy: parsePolicy('cloud-only'), models: { load: (m) => DeviceModel.load(m), profile: (m) => loadProfile(m, 'wasm') } });
      all.push(served);
      console.error(`bursty run ${r + 1} of ${runs}: ${served.length} requests, ${served.filter((x) => x.cold).length} cold, ${served.filter((x) => x.status === 429).length} refused`);
    }
  } finally {
    if (stack) await stack.close();
  }
  const warmHandOff = median(all.flat().filter((x) => x.status === 200 && !x.cold).map((x) => x.roundTripMs - x.computeMs));
  const ratios = all.flatMap((served) => phaseRatios(served, LOCAL_HOST, cut0.tailMs, cut0.coldStartMs, warmHandOff / 2));
  const table = phaseTable(ratios);
  for (const t of table) console.log(`${t.phase.padEnd(5)} n ${t.band.padEnd(8)} ${String(t.n).padStart(3)} requests: measured / host model median ${t.median.toFixed(2)}, mean ${t.mean.toFixed(2)}`);
  const byPhase = (['init', 'first', 'warm'] as const).map((phase) => {
    const xs = ratios.filter((r) => r.phase === phase).map((r) => r.ms / r.predictedMs);
    return { phase, n: xs.length, median: median(xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
  });
  for (const b of byPhase) console.log(`${b.phase}: ${b.n} requests, measured / host model median ${b.median.toFixed(2)}, mean ${b.mean.toFixed(2)}`);
  const end = loadavg();
  console.log(`host lone compute ${cut0.tailMs.toFixed(1)} ms, cold start ${cut0.coldStartMs.toFixed(0)} ms; back hand-off ${(warmHandOff / 2).toFixed(1)} ms; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${end.map((x) => x.toFixed(2)).join(' ')}`);
  const json = argValue('--json');
  if (json) writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), loadAverage: { start: load0, end }, mode: 'bursty', rate, seed, requests, host: LOCAL_HOST.name, loneComputeMs: cut0.tailMs, coldStartMs: cut0.coldStartMs, firstInferenceFactor: firstInferenceFactor(LOCAL_HOST, 'mobilenetv2', 0), backMs: warmHandOff / 2, byPhase, table, runs: all }, null, 2)}\n`);
}

/**
 * `--hold`: how much of a request's hand-off (round trip − compute) happens while its environment is held, i.e.
 * between the emulator taking the environment and getting its answer (its `invoked` lifecycle event's `durationMs`:
 * the event's decode, the registry's busy and idle marks, the answer's encode, the IPC) rather than before or after
 * (the client, the HTTP API). The simulator releases an environment when its compute ends and adds the whole hand-off
 * after. The stack in this process (to hear the emulator's events), the validation's configuration (1 wasm thread,
 * every cut), per cut a cold request (every environment reaped first) then warm ones 150 ms apart, sequential.
 */
async function hold(cuts: number[], warmPerCold: number, rounds: number): Promise<void> {
  const { startLocalStack } = await import('../local/stack');
  const { initBackend } = await import('../models/backend');
  await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'stack-hold-'));
  const config = writeLocalConfig(dir, { wasmThreads: LOCAL_HOST.wasmThreads });
  const load0 = loadavg();
  const stack = await startLocalStack({ port: 0, logs: 'ignore', configFile: config, models: [MODEL], keepAliveMs: KEEP_ALIVE_MS, stateDir: join(dir, 'state') });
  const rows: { cut: number; cold: boolean; roundTripMs: number; computeMs: number; initMs: number; heldMs: number }[] = [];
  try {
    const held: number[] = [];
    stack.emulator.on('lifecycle', (e) => {
      if (e.type === 'invoked') held.push(e.durationMs);
    });
    const api = new OffloadApi({ baseUrl: stack.url, timeoutMs: 120_000 });
    const payloads = await headPayloads(MODEL, cuts);
    for (let r = 0; r < rounds; r++) {
      for (const cut of cuts) {
        const tail = stack.tails.find((t) => t.model === MODEL && t.cut === cut)!;
        await stack.emulator.reapIdle(tail.function);
        await sleep(1500);
        for (let i = 0; i <= warmPerCold; i++) {
          held.length = 0;
          const res = await api.infer(inferRoute(MODEL, cut), payloads.get(cut)!);
          await sleep(20); // the lifecycle event is emitted before the answer leaves; let it land
          if (held.length !== 1) throw new Error(`--hold: expected one invoked event per request (got ${held.length})`);
          rows.push({ cut, cold: res.cold, roundTripMs: res.roundTripMs, computeMs: res.computeMs ?? NaN, initMs: res.initMs ?? 0, heldMs: held[0]! });
          await sleep(150);
        }
      }
      console.error(`hold round ${r + 1} of ${rounds} done`);
    }
  } finally {
    await stack.close();
  }
  const summary = cuts.flatMap((cut) =>
    [false, true].map((cold) => {
      const xs = rows.filter((x) => x.cut === cut && x.cold === cold);
      const handOff = median(xs.map((x) => x.roundTripMs - x.computeMs - x.initMs));
      // Cold: the emulator's duration runs from the spawn, which the tail's init (process start) does too.
      const inside = median(xs.map((x) => x.heldMs - x.computeMs - x.initMs));
      return { cut, cold, n: xs.length, handOffMs: handOff, insideMs: inside, share: median(xs.map((x) => (x.heldMs - x.computeMs - x.initMs) / (x.roundTripMs - x.computeMs - x.initMs))) };
    }),
  );
  for (const x of summary) console.log(`cut ${x.cut} ${x.cold ? 'cold' : 'warm'}: ${x.n} requests, hand-off ${x.handOffMs.toFixed(1)} ms, of it inside the environment's hold ${x.insideMs.toFixed(1)} ms (median share ${x.share.toFixed(2)})`);
  const end = loadavg();
  console.log(`load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${end.map((x) => x.toFixed(2)).join(' ')}`);
  const json = argValue('--json');
  if (json) writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), loadAverage: { start: load0, end }, mode: 'hold', summary, rows }, null, 2)}\n`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--hold')) return hold((argValue('--cuts') ?? '0,63').split(',').map(Number), Number(argValue('--warm') ?? 8), Number(argValue('--runs') ?? 3));
  const spreadOf = argValue('--spread');
  if (spreadOf) {
    // The steady phases' warm requests that computed alone, pooled over files and rates.
    const alone = spreadOf.split(',').flatMap((f) => {
      const run = JSON.parse(readFileSync(f, 'utf8')) as { phases: { samples: Served[] }[]; loneComputeMs: number };
      return run.phases.flatMap((p) => overlapRatios(p.samples, run.loneComputeMs).filter((r) => r.n < 1.5).map((r) => r.computeMs));
    });
    const fit = floorLognormalFit(alone);
    console.log(
      `${fit.n} warm requests computing alone: median ${fit.medianMs.toFixed(1)} ms; spread as tailFloor ${fit.floor.toFixed(2)} + lognormal σ ${fit.sigma.toFixed(2)} (tailCv ${fit.cv.toFixed(2)}); mean ${fit.mean.toFixed(3)} (fit ${fit.fitMean.toFixed(3)}), p95 ${fit.p95.toFixed(2)} (fit ${fit.fitP95.toFixed(2)}) × the median`,
    );
    return;
  }
  const burstRate = argValue('--bursty');
  if (burstRate !== undefined) {
    const rate = Number(burstRate);
    const requests = Number(argValue('--requests') ?? 80);
    const seed = Number(argValue('--seed') ?? 11);
    const runs = Number(argValue('--runs') ?? 1);
    if (!(rate > 0) || !(Number.isInteger(requests) && requests > 0) || !Number.isInteger(seed) || !(Number.isInteger(runs) && runs > 0)) {
      console.error('--bursty must be a number > 0, --requests, --runs and --seed whole numbers');
      process.exit(2);
    }
    return bursty(rate, requests, seed, runs);
  }
  const rates = (argValue('--rates') ?? '2,4,6').split(',').map(Number);
  const requests = Number(argValue('--requests') ?? 120);
  const seed = Number(argValue('--seed') ?? 11);
  if (rates.some((r) => !(r > 0)) || !(Number.isInteger(requests) && requests > 0) || !Number.isInteger(seed)) {
    console.error('--rates must be numbers > 0, --requests and --seed whole numbers');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'stack-cpu-'));
  // As the validation runs it (1 wasm thread), with room for more environments than the trace should need.
  const config = writeLocalConfig(dir, { wasmThreads: LOCAL_HOST.wasmThreads, reservedConcurrency: 8 }, { models: { [MODEL]: { cuts: [0] } } });
  const load0 = loadavg();
  let stack: OffloadLocalProcess | undefined;
  const phases = [];
  try {
    stack = await startOffloadLocal(['--config', config, '--models', MODEL, '--port', '0', '--keep-alive-ms', String(KEEP_ALIVE_MS), '--state-dir', join(dir, 'state'), '--json', '--quiet'], { echoStderr: true });
    const watch = new CpuWatch(stack.child.pid!);
    watch.start();
    const api = new OffloadApi({ baseUrl: stack.url, timeoutMs: 120_000 });
    const payload = (await headPayloads(MODEL, [0])).get(0)!;
    // Warm environments, then the lone compute (sequential requests on a quiet stack).
    await Promise.all(Array.from({ length: WARM_ENVS }, () => api.infer(inferRoute(MODEL, 0), payload)));
    const lone: number[] = [];
    for (let i = 0; i < 20; i++) lone.push((await api.infer(inferRoute(MODEL, 0), payload)).computeMs ?? NaN);
    const loneMs = median(lone);
    await sleep(1000);
    watch.mark();
    const idleWall0 = performance.now();
    await sleep(3000);
    const idleMainMsPerS = (watch.since().main ?? 0) / ((performance.now() - idleWall0) / 1000);

    for (const rate of rates) {
      const arrivals = generateWorkload({
        process: { kind: 'steady', ratePerS: rate },
        devices: makeDevices(12, [{ class: 'low-end-phone', network: 'wifi' }]),
        model: MODEL,
        seed,
        durationMs: 600_000,
        maxRequests: requests,
      });
      // Keep the environments warm across the client's preparation (it plans once before the clock).
      await Promise.all(Array.from({ length: WARM_ENVS }, () => api.infer(inferRoute(MODEL, 0), payload)));
      const served: Served[] = [];
      let cpu0: NodeJS.CpuUsage | undefined;
      let wall0 = 0;
      // The client's api: the first infer marks the clock (the client's preparation before it is not per-request work).
      const timed = new Proxy(api, {
        get(target, prop, receiver) {
          if (prop !== 'infer') return Reflect.get(target, prop, receiver) as unknown;
          return async (...args: Parameters<OffloadApi['infer']>) => {
            if (!cpu0) {
              watch.mark();
              cpu0 = process.cpuUsage();
              wall0 = performance.now();
            }
            const sentAt = performance.now();
            const res = await target.infer(...args);
            served.push({ sentAt, endAt: performance.now(), computeMs: res.computeMs ?? NaN, roundTripMs: res.roundTripMs, cold: res.cold });
            return res;
          };
        },
      });
      const { records } = await runLoad({ api: timed, arrivals, policy: parsePolicy('cloud-only'), models: { load: (m) => DeviceModel.load(m), profile: (m) => loadProfile(m, 'wasm') } });
      const wallS = (performance.now() - wall0) / 1000;
      const clientCpu = process.cpuUsage(cpu0);
      const stackCpu = watch.since();
      const ok = records.filter((r) => r.status === 200);
      const computeSum = served.reduce((a, s) => a + s.computeMs, 0);
      const per = (ms: number) => ms / records.length;
      const ratios = overlapRatios(served, loneMs);
      const byN = [1, 2, 3, 4].map((n) => {
        const xs = ratios.filter((r) => Math.min(4, Math.round(r.n)) === n);
        return { n, requests: xs.length, measuredOverPredicted: median(xs.map((x) => x.computeMs / x.predictedMs)), computeMs: median(xs.map((x) => x.computeMs)), meanN: xs.reduce((a, x) => a + x.n, 0) / (xs.length || 1) };
      });
      const phase = {
        rate,
        requests: records.length,
        served: ok.length,
        cold: records.filter((r) => r.cold).length,
        throttled: records.filter((r) => r.fallback === 'throttled').length,
        wallS,
        cpuMsPerRequest: {
          client: per((clientCpu.user + clientCpu.system) / 1000),
          main: per((stackCpu.main ?? 0) - idleMainMsPerS * wallS),
          tail: per(stackCpu.tail ?? 0),
          tailCompute: per(computeSum),
          tailBesidesCompute: per((stackCpu.tail ?? 0) - computeSum),
          planner: per(stackCpu.planner ?? 0),
          other: per(stackCpu.other ?? 0),
        },
        /** The share of the 2 cores the whole run used (stack + client) over its wall time. */
        coreShare: ((clientCpu.user + clientCpu.system) / 1000 + Object.values(stackCpu).reduce((a, b) => a + b, 0)) / (wallS * 1000 * 2),
        byN,
        samples: served,
      };
      phases.push(phase);
      const c = phase.cpuMsPerRequest;
      console.log(
        `rate ${rate}/s: ${phase.requests} requests (${phase.served} served, ${phase.cold} cold, ${phase.throttled} 429) in ${wallS.toFixed(1)} s; CPU ms per request: client ${c.client.toFixed(1)}, stack main ${c.main.toFixed(1)}, tails ${c.tail.toFixed(1)} (compute ${c.tailCompute.toFixed(1)}, besides ${c.tailBesidesCompute.toFixed(1)}), planner ${c.planner.toFixed(1)}, other children ${c.other.toFixed(1)}; cores busy ${(phase.coreShare * 100).toFixed(0)} %`,
      );
      for (const b of byN) if (b.requests) console.log(`  overlap n≈${b.n}${b.n === 4 ? '+' : ''}: ${b.requests} warm requests, compute ${b.computeMs.toFixed(1)} ms, measured / host model ${b.measuredOverPredicted.toFixed(2)} (mean n ${b.meanN.toFixed(2)})`);
      await sleep(1000);
    }
    watch.stop();
    console.log(`lone compute ${loneMs.toFixed(1)} ms; stack main idle ${idleMainMsPerS.toFixed(1)} CPU ms/s; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const json = argValue('--json');
    if (json) writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), loadAverage: { start: load0, end: loadavg() }, seed, loneComputeMs: loneMs, idleMainMsPerS, phases }, null, 2)}\n`);
  } finally {
    if (stack) await stack.close();
  }
}

if (isMain(import.meta.url)) {
  checkArgs({ values: ['--rates', '--requests', '--seed', '--json', '--bursty', '--runs', '--spread', '--cuts', '--warm'], flags: ['--hold'], usage: 'npx tsx bench/stack-cpu.ts [--rates 2,4,6] [--requests 120] [--seed 11] [--json FILE] | --bursty RATE [--requests 80] [--runs 1] [--seed 11] [--json FILE] | --spread A.json,B.json | --hold [--cuts 0,63] [--warm 8] [--runs 3] [--json FILE]' });
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  });
}
