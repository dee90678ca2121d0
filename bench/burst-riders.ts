/**
 * Do requests refused with 429 while a burst of cold starts initialises slow those inits down? (issue 9: the
 * validation's cloud-only trace at 4/s. Its first four cut-0 environments answer ~100 ms later on the stack than
 * simulated, which turns requests 6–8 into 429s on the stack in every run, while four cut-0 inits sent together
 * apart from the trace run at the model's speed (bench/first-burst.ts --by-cut). One thing the trace has beside
 * its burst and first-burst has not: five requests refused during the inits. The simulator counts a refusal as
 * latency for its client only (`throttleOverheadMs`), not as work on the host; on the stack every refused request
 * still crosses the API Gateway stand-in with its 602 KB body, which builds the base64 Lambda event before the
 * emulator refuses it.)
 *
 * On one fresh local stack run as the validation runs it (every cut of MobileNetV2, 1 wasm thread, reserved
 * concurrency 4, keep-alive 5 s): per round, two bursts of four cold cut-0 requests at the trace's offsets
 * ({@link COLD_OFFSETS_MS}: when the trace's requests 0–3 reached the tail), each after every environment was reaped,
 * one alone and one with five more requests at the offsets where the trace's refused requests 4–8 reached the tail
 * ({@link RIDER_OFFSETS_MS}); which comes first alternates between rounds. Per burst: the inits
 * (`x-offload-init-ms`), when each answer came back, the riders' statuses, and the CPU the stack's own process spent
 * from the first send to the last answer. Each kind is printed beside the simulator's (LOCAL_HOST as committed, no
 * spread: the same requests at the same offsets).
 *
 * No trace is replayed: only the offsets come from the validation (bench/results/sim-validation-r11-rate4-run*.json).
 *
 * Usage (bounded: about 23 s per round; starts its own local stack on an ephemeral port, stops it):
 *   npx tsx bench/burst-riders.ts [--rounds 4] [--cut 0] [--json FILE]   (--cut: another of the validation's tails, e.g. 63)
 *   npx tsx bench/burst-riders.ts --report FILE   # a kept run's table again
 *   npx tsx bench/burst-riders.ts --fit FILE,FILE… [--scales 1,1.15,1.35]   # kept runs of this bench and of
 *     bench/first-burst.ts: per cut, simulated / measured answer times by the cut's init burst scale, and where it is 1
 *     (how LOCAL_HOST.initBurstScaleByCut was fitted; pure computation, a few seconds)
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, OffloadApi } from '../client/api';
import { inferRoute } from '../core/catalog';
import { LOCAL_HOST, type HostModel } from '../core/sim/host';
import { burstsOf, type ColdSample } from './first-burst';
import { startOffloadLocal, type OffloadLocalProcess } from '../testkit/node-process';
import { headPayloads, writeLocalConfig } from './local-stack-setup';
import { argValue, checkArgs, formatTable, isMain, median } from './report';
import { KEEP_ALIVE_MS, LOCAL_CUTS, MODEL, simulatedSends } from './sim-validation';
import { cpuMsOf } from './stack-cpu';

/** When the validation trace's cloud-only requests 0–3 reached the tail, ms after the first (r11 rate-4 runs, all three). */
export const COLD_OFFSETS_MS = [0, 4, 160, 180];
/** When its requests 4–8 (refused in every stack run) reached the tail, ms after request 0. */
export const RIDER_OFFSETS_MS = [544, 706, 876, 920, 989];
/** Every environment reaped before the next burst (keep-alive, then the 2 s shutdown grace, as the validation pauses). */
const REAP_WAIT_MS = KEEP_ALIVE_MS + 4000;

export interface RiderBurst {
  round: number;
  riders: boolean;
  /** Per cold request (offset order): init and when its answer came back, ms after the first send. */
  inits: (number | null)[];
  /** Per cold request: its first inference (`x-offload-compute-ms`; absent in the first run kept). */
  computes?: (number | null)[];
  answersAt: number[];
  colds: boolean[];
  /** Per rider: its HTTP status (429 when refused) and when its answer came back. */
  riderStatus: number[];
  riderAnswersAt: number[];
  /** CPU of the stack's own process (API Gateway stand-in, emulator, S3/DynamoDB stand-ins) and of this client, first send to last answer. */
  mainCpuMs: number;
  clientCpuMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One request sent `offset` ms after `t0`: its status, init and when its answer came back (ms after t0). */
async function sendAt(api: OffloadApi, route: string, payload: Uint8Array, t0: number, offset: number): Promise<{ status: number; cold: boolean; initMs: number | null; computeMs: number | null; at: number }> {
  await sleep(t0 + offset - performance.now());
  try {
    const r = await api.infer(route, payload);
    return { status: 200, cold: r.cold, initMs: r.initMs, computeMs: r.computeMs, at: performance.now() - t0 };
  } catch (e) {
    if (e instanceof ApiError && e.failure === 'throttled') return { status: 429, cold: false, initMs: null, computeMs: null, at: performance.now() - t0 };
    throw e;
  }
}

/** The simulator's burst at the trace's offsets (with the riders or not): the cold requests' inits, first inferences and answer times, and how many riders it refused. */
export function simulatedRiderBurst(riders: boolean, host = LOCAL_HOST, cut = 0): { inits: number[]; computes: number[]; answersAt: number[]; refused: number } {
  const sends = simulatedSends([...COLD_OFFSETS_MS, ...(riders ? RIDER_OFFSETS_MS : [])], cut, host);
  const colds = sends.filter((x) => x.cold && x.answerAt !== null);
  return {
    inits: colds.flatMap((x) => (x.initMs === null ? [] : [x.initMs])),
    computes: colds.flatMap((x) => (x.computeMs === null ? [] : [x.computeMs])),
    answersAt: colds.map((x) => x.answerAt!),
    refused: sends.filter((x) => x.status === 429).length,
  };
}

async function run(rounds: number, cut: number): Promise<RiderBurst[]> {
  const dir = mkdtempSync(join(tmpdir(), 'burst-riders-'));
  const config = writeLocalConfig(dir, { wasmThreads: LOCAL_HOST.wasmThreads });
  const payload = (await headPayloads(MODEL, [cut])).get(cut)!;
  const route = inferRoute(MODEL, cut);
  const bursts: RiderBurst[] = [];
  let stack: OffloadLocalProcess | undefined;
  try {
    stack = await startOffloadLocal(['--config', config, '--models', MODEL, '--port', '0', '--keep-alive-ms', String(KEEP_ALIVE_MS), '--state-dir', join(dir, 'state'), '--json', '--quiet'], {});
    const api = new OffloadApi({ baseUrl: stack.url, timeoutMs: 120_000 });
    const pid = stack.child.pid!;
    for (let round = 0; round < rounds; round++) {
      for (const riders of round % 2 === 0 ? [false, true] : [true, false]) {
        await sleep(REAP_WAIT_MS);
        const main0 = cpuMsOf(pid) ?? 0;
        const client0 = process.cpuUsage();
        const t0 = performance.now() + 20;
        const colds = COLD_OFFSETS_MS.map((o) => sendAt(api, route, payload, t0, o));
        const extra = riders ? RIDER_OFFSETS_MS.map((o) => sendAt(api, route, payload, t0, o)) : [];
        const [c, r] = await Promise.all([Promise.all(colds), Promise.all(extra)]);
        const used = process.cpuUsage(client0);
        const b: RiderBurst = {
          round,
          riders,
          inits: c.map((x) => x.initMs),
          computes: c.map((x) => x.computeMs),
          answersAt: c.map((x) => x.at),
          colds: c.map((x) => x.cold),
          riderStatus: r.map((x) => x.status),
          riderAnswersAt: r.map((x) => x.at),
          mainCpuMs: (cpuMsOf(pid) ?? 0) - main0,
          clientCpuMs: (used.user + used.system) / 1000,
        };
        bursts.push(b);
        console.error(
          `round ${round + 1}, ${riders ? 'with riders' : 'alone'}: inits ${b.inits.map((x) => (x ?? NaN).toFixed(0)).join(', ')} ms; first inferences ${c.map((x) => x.computeMs).map((x) => (x ?? NaN).toFixed(0)).join(', ')} ms; answers at ${b.answersAt.map((x) => x.toFixed(0)).join(', ')} ms` +
            `${riders ? `; riders ${b.riderStatus.join(', ')}` : ''}; CPU: stack ${b.mainCpuMs.toFixed(0)} ms, client ${b.clientCpuMs.toFixed(0)} ms`,
        );
      }
    }
  } finally {
    if (stack) await stack.close();
  }
  return bursts;
}

/**
 * How much later the stack's burst answered than the simulator's: per position in the burst (0–3, by offset), the
 * median over bursts of when its answer came back, over the simulated one; the geometric mean of the four.
 */
export function answerRatio(bursts: readonly RiderBurst[], simAnswersAt: readonly number[]): number {
  const logs = COLD_OFFSETS_MS.map((_, pos) => Math.log(median(bursts.map((b) => b.answersAt[pos]!)) / simAnswersAt[pos]!));
  return Math.exp(logs.reduce((a, x) => a + x, 0) / logs.length);
}

/** Per kind (alone / with riders): median init, median answer time of the four, the simulator's, and CPU. */
export function ridersTable(bursts: readonly RiderBurst[], cut = 0, host = LOCAL_HOST): string[][] {
  return [false, true].map((riders) => {
    const xs = bursts.filter((b) => b.riders === riders && b.colds.every(Boolean));
    const sim = simulatedRiderBurst(riders, host, cut);
    const inits = xs.flatMap((b) => b.inits.filter((x): x is number => x !== null));
    const ans = xs.flatMap((b) => b.answersAt);
    const firstFree = xs.map((b) => Math.min(...b.answersAt));
    const m = median(inits);
    const sm = median(sim.inits);
    const comps = xs.flatMap((b) => (b.computes ?? []).filter((x): x is number => x !== null));
    return [
      riders ? 'with 5 riders' : 'alone',
      String(xs.length),
      m.toFixed(0),
      sm.toFixed(0),
      (m / sm).toFixed(2),
      comps.length ? median(comps).toFixed(0) : '–',
      median(sim.computes).toFixed(0),
      median(ans).toFixed(0),
      median(sim.answersAt).toFixed(0),
      median(firstFree).toFixed(0),
      Math.min(...sim.answersAt).toFixed(0),
      xs.length ? answerRatio(xs, sim.answersAt).toFixed(2) : '–',
      riders ? `${median(xs.map((b) => b.riderStatus.filter((s) => s === 429).length)).toFixed(0)} / ${sim.refused}` : '–',
      median(xs.map((b) => b.mainCpuMs)).toFixed(0),
      median(xs.map((b) => b.clientCpuMs)).toFixed(0),
    ];
  });
}

/** A burst of cold starts measured on the stack, for a fit: its cut, when each request was sent (ms after the first) and when its answer came back. */
export interface MeasuredBurst {
  cut: number;
  offsets: number[];
  answersAt: number[];
}

/** The bursts of a kept burst-riders run (the four colds; riders are not cold starts) and of a first-burst run (k sent together). */
export function measuredBursts(file: { cut?: number; bursts: RiderBurst[] } | { samples: ColdSample[] }): MeasuredBurst[] {
  if ('bursts' in file) return file.bursts.filter((b) => b.colds.every(Boolean)).map((b) => ({ cut: file.cut ?? 0, offsets: COLD_OFFSETS_MS, answersAt: b.answersAt }));
  return burstsOf(file.samples).filter((xs) => xs.every((x) => x.cold)).map((xs) => ({ cut: xs[0]!.cut, offsets: xs.map(() => 0), answersAt: xs.map((x) => x.roundTripMs) }));
}

/** The simulator's answer times (ms after the first send; NaN for a refused request) to cold requests sent at `offsets` to the tail at `cut`. */
export function simulatedAnswers(offsets: readonly number[], cut: number, host: HostModel): number[] {
  return simulatedSends(offsets, cut, host).map((x) => x.answerAt ?? Number.NaN);
}

/**
 * How far `host` is from the measured bursts of one cut: the median over every cold request of simulated / measured
 * answer time (each request against the simulator's answer for its position in the same pattern of sends).
 */
export function burstFit(bursts: readonly MeasuredBurst[], cut: number, host: HostModel): { n: number; ratio: number } {
  const mine = bursts.filter((b) => b.cut === cut);
  const cache = new Map<string, number[]>();
  const ratios = mine.flatMap((b) => {
    const key = b.offsets.join(',');
    if (!cache.has(key)) cache.set(key, simulatedAnswers(b.offsets, cut, host));
    const sim = cache.get(key)!;
    return b.answersAt.map((a, i) => sim[i]! / a);
  });
  return { n: ratios.length, ratio: median(ratios) };
}

/**
 * `--fit`: per cut, how far the simulator is from the measured bursts at each init burst scale of `scales` (that cut's
 * only), and the scale where the median ratio crosses 1 (linear between the two scales around it; null when it does
 * not cross in the range).
 */
export function fitScales(bursts: readonly MeasuredBurst[], scales: readonly number[], host = LOCAL_HOST): { cut: number; n: number; ratios: number[]; fit: number | null }[] {
  return [...new Set(bursts.map((b) => b.cut))].sort((a, b) => a - b).map((cut) => {
    const fits = scales.map((k) => burstFit(bursts, cut, { ...host, initBurstScaleByCut: { ...host.initBurstScaleByCut, [MODEL]: { ...host.initBurstScaleByCut?.[MODEL], [cut]: k } } }));
    const ratios = fits.map((f) => f.ratio);
    let fit: number | null = null;
    for (let i = 1; i < scales.length && fit === null; i++) {
      const [r0, r1] = [ratios[i - 1]!, ratios[i]!];
      if ((r0 - 1) * (r1 - 1) <= 0 && r0 !== r1) fit = scales[i - 1]! + ((1 - r0) / (r1 - r0)) * (scales[i]! - scales[i - 1]!);
    }
    return { cut, n: fits[0]?.n ?? 0, ratios, fit };
  });
}

function report(result: { date: string; cut?: number; loadAverage: { start: number[]; end: number[] }; bursts: RiderBurst[] }): void {
  console.log(`${result.bursts.length} bursts at cut ${result.cut ?? 0}; ${result.date}, load ${result.loadAverage.start.map((x) => x.toFixed(2)).join(' ')} → ${result.loadAverage.end.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    formatTable(
      ['burst', 'bursts', 'median init (ms)', 'simulated', 'measured / simulated', 'first inference (ms)', 'simulated', 'median answer at (ms)', 'simulated', 'first env free at', 'simulated', 'answers / simulated', 'riders refused (stack / sim)', 'stack CPU (ms)', 'client CPU (ms)'],
      ridersTable(result.bursts, result.cut ?? 0),
    ),
  );
}

async function main(): Promise<void> {
  const fitFiles = argValue('--fit');
  if (fitFiles) {
    const scales = (argValue('--scales') ?? '1,1.1,1.15,1.2,1.3,1.35,1.4,1.5').split(',').map(Number);
    if (scales.some((k) => !(Number.isFinite(k) && k >= 0)) || scales.some((k, i) => i > 0 && k <= scales[i - 1]!)) {
      console.error(`--scales must be increasing numbers >= 0 (got ${argValue('--scales')})`);
      process.exit(2);
    }
    const bursts = fitFiles.split(',').filter((f) => f.trim() !== '').flatMap((f) => measuredBursts(JSON.parse(readFileSync(f, 'utf8')) as Parameters<typeof measuredBursts>[0]));
    console.log(`${bursts.length} bursts of cold starts (${fitFiles}); simulated / measured answer time, median over their requests, by the cut's init burst scale (LOCAL_HOST otherwise):`);
    console.log(
      formatTable(
        ['cut', 'requests', ...scales.map((k) => `scale ${k}`), 'ratio 1 at'],
        fitScales(bursts, scales).map((r) => [String(r.cut), String(r.n), ...r.ratios.map((x) => x.toFixed(3)), r.fit === null ? 'outside the range' : r.fit.toFixed(2)]),
      ),
    );
    return;
  }
  const kept = argValue('--report');
  if (kept) return report(JSON.parse(readFileSync(kept, 'utf8')) as Parameters<typeof report>[0]);
  const rounds = Number(argValue('--rounds') ?? 4);
  if (!(Number.isInteger(rounds) && rounds >= 1)) {
    console.error('--rounds must be a whole number >= 1');
    process.exit(2);
  }
  const cut = Number(argValue('--cut') ?? 0);
  if (!LOCAL_CUTS.includes(cut)) {
    console.error(`--cut must be one of the validation's tails ${LOCAL_CUTS.join(', ')} (got ${argValue('--cut')})`);
    process.exit(2);
  }
  const load0 = loadavg();
  const bursts = await run(rounds, cut);
  const result = { date: new Date().toISOString(), cut, loadAverage: { start: load0, end: loadavg() }, bursts };
  report(result);
  const json = argValue('--json');
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
}

if (isMain(import.meta.url)) {
  checkArgs({ values: ['--rounds', '--cut', '--json', '--report', '--fit', '--scales'], usage: 'npx tsx bench/burst-riders.ts [--rounds 4] [--cut 0] [--json FILE] | --report FILE | --fit FILE,FILE… [--scales 1,1.15,1.35]' });
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  });
}
