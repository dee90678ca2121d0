/**
 * Fleet truth: does the planner see the fleet as it is, and does it predict
 * the cold start the client pays? Three figures from one local stack
 * (issue 8, "Measured", rows 1–3):
 *
 * 1. Fleet-view agreement. After a warm-up (the function's reserved
 *    concurrency of environments, idle), a bursty run (on/off: during an ON period
 *    `reserved + 1` closed-loop clients hit one tail, so the function runs
 *    at its reserved concurrency and the extra client meets 429s; OFF
 *    periods are quiet) while an observer plans every `planEveryMs`. Each
 *    plan's `fleet` for that function (idleWarm, inFlight) is compared with
 *    the emulator's truth (`GET /_local/functions`: idle, busy +
 *    initializing) read just before and just after the plan: exact when it
 *    equals either (the state may change while the plan is made), strict
 *    when before = plan = after. The observer's device computes for free,
 *    so its plans are device-only and reserve nothing: the view compared is
 *    the registry's, through the planner's cache (`FLEET_CACHE_MS`).
 *    Why plans miss: (lag) one request at a time to a warm tail, the
 *    emulator's count and the registry (no cache) polled: how long after the
 *    emulator counts the environment busy does the registry show it (the
 *    event's delivery, then the tail's awaited busy mark), and when does it
 *    show it idle again. A plan in that window counts a busy environment idle.
 * 2. A killed environment (`kill -9` of its process) and a reaped one
 *    (SIGTERM): time until the planner's view no longer counts it.
 * 3. Cold start: for every tail of the stack (≥ 8, of different weight),
 *    reap, call cold, call warm: the client-visible cold cost (cold − warm
 *    round trip, docs/cost-model.md §3) against the default prediction
 *    (`coldBaseMs + coldMsPerMB × tail MiB`, core/presets.ts) and against the
 *    measurement the tail reports to the registry (`coldStartMs`, also the
 *    `x-offload-init-ms` header). Median relative errors over the tails, and
 *    the least-squares line through the client-visible costs.
 *
 * Everything runs against this machine's local stack: compute, cold starts
 * and timings are this machine's under whatever load it carries (the
 * result records the load average before and after).
 *
 * @example
 * import { runFleetTruth, formatFleetTruth } from './fleet-truth';
 * const result = await runFleetTruth({ durationMs: 20_000 });
 * console.log(formatFleetTruth(result));
 *
 *   npx tsx bench/fleet-truth.ts [--duration-s 30] [--repeats 2] [--parts agreement,lag,kill,cold]
 *     [--config FILE] [--models a,b] [--state-dir DIR] [--burst model:cut] [--fleet-cache-ms MS] [--fleet-at-arrival on|off] [--json]
 */
import { loadavg } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OffloadApi, ApiError } from '../client/api';
import { DeviceModel } from '../client/device';
import { fitLine, type LinearFit } from '../core/cold-fit';
import { CLOUD_DEFAULTS } from '../core/presets';
import { encodeTensors } from '../core/wire';
import { DEFAULT_FLEET_CACHE_MS, FleetReader } from '../functions/commons/registry';
import type { EmulatorStats } from '../local/emulator';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack, type LocalTail } from '../local/stack';
import { coldThenWarm, startBenchStack } from '../testkit/bench-stack';
import { formatTable, isMain, median, parseArgsOrExit } from './report';

export type FleetTruthPart = 'agreement' | 'lag' | 'kill' | 'cold';

export interface FleetTruthOptions {
  /** Which measurements to run; default all four. */
  parts?: readonly FleetTruthPart[];
  /** Lone requests timed by the `lag` part (default 15). */
  lagRequests?: number;
  /** Length of the bursty run, ms (default 30,000). */
  durationMs?: number;
  /** ON period of a burst, ms (default 3,000). */
  burstOnMs?: number;
  /** OFF period between bursts, ms (default 2,000). */
  burstOffMs?: number;
  /** The observer plans this often, ms (default 100). */
  planEveryMs?: number;
  /** The planner's fleet cache period, ms, passed to the stack's functions as `FLEET_CACHE_MS` (default: the shipped default). */
  fleetCacheMs?: number;
  /**
   * The planner's `FLEET_AT_ARRIVAL` (default: the shipped default, on). On, a plan's `fleet` is the state
   * predicted at the request's arrival at the tail, not the registry's state at the plan: `false` measures
   * the registry view itself against the emulator.
   */
  fleetAtArrival?: boolean;
  /** The tail the bursts hit (default: the first tail of the stack, usually `<first model>` cut 0). */
  burst?: { model: string; cut: number };
  /** Cold/warm pairs per tail for the cold-start figures (default 2). */
  coldRepeats?: number;
  /** Local-stack configuration file (default local/offload.local.json: MobileNetV2 and ResNet-50, 10 tails). */
  configFile?: string;
  models?: string[];
  /** State folder of the stack (default `.offload/bench`, shared with bench/cold-start.ts). */
  stateDir?: string;
  /** Progress lines (default stderr). */
  log?: (line: string) => void;
}

export interface FleetView {
  idleWarm: number;
  inFlight: number;
}

export interface AgreementResult {
  function: string;
  model: string;
  cut: number;
  reservedConcurrency: number | null;
  /** The planner's fleet cache period the stack ran with, ms. */
  cacheMs: number;
  /** The planner's `FLEET_AT_ARRIVAL` the stack ran with: on, a plan's `fleet` is a prediction for the arrival, not the registry's view at the plan. */
  atArrival: boolean;
  planEveryMs: number;
  durationMs: number;
  plans: number;
  /** Plans whose view equals the truth just before or just after them. */
  exact: number;
  exactPct: number;
  /** Plans whose view equals the truth, unchanged across the plan. */
  strict: number;
  strictOf: number;
  strictPct: number;
  /** Requests the burst clients sent, and how they ended. */
  requests: { ok: number; throttled: number; failed: number; cold: number };
  /** Median and max time one `POST /plan` took, ms (a plan slower than `planEveryMs` thins the sampling). */
  planMs: { median: number; max: number };
  /** Up to 10 disagreements, for the curious. */
  misses: { atMs: number; before: FleetView; plan: FleetView; after: FleetView }[];
}

/**
 * Why a plan can miss: how far the registry's view of one invocation trails the
 * platform's. The emulator counts an environment busy from the moment it hands
 * it an invocation; the registry, once the tail's busy mark has landed (the
 * event's delivery, then one awaited write). Figures are medians over the
 * requests, ms from the client's send; `queryMs` (one registry query) is the
 * resolution of the registry side.
 */
export interface LagResult {
  function: string;
  requests: number;
  /** How long the emulator counted the environment busy. */
  platformBusyMs: number;
  /** How long the registry showed it busy. */
  registryBusyMs: number;
  /** Registry busy − emulator busy: the window in which a plan counts a busy environment idle. */
  busyMarkLagMs: number;
  /** Registry idle − emulator idle (negative: the idle mark lands before the emulator has the answer back). */
  idleMarkLagMs: number;
  queryMs: number;
}

export interface LeaveResult {
  /** How the environment ended. */
  how: 'kill -9' | 'reap';
  /** Time from the kill (or the reap call) until a plan no longer counted it, ms. */
  leaveMs: number;
  /** Time until the emulator itself no longer listed it, ms. */
  emulatorMs: number;
}

export interface ColdRow {
  /** Set when a call failed (e.g. a cold start past the 30 s integration timeout on a loaded machine); the figures are then NaN. */
  error?: string;
  model: string;
  cut: number;
  function: string;
  tailMiB: number;
  /** Median over the repeats of cold − warm round trip: what the client paid. */
  clientColdMs: number;
  /** Median of the tail's reported cold start (`x-offload-init-ms`, the registry's `coldStartMs`). */
  tailReportedMs: number;
  /** The default prediction, `coldBaseMs + coldMsPerMB × MiB`. */
  predictedMs: number;
  samples: { clientColdMs: number; tailReportedMs: number }[];
}

export interface ColdStartTruth {
  rows: ColdRow[];
  coldBaseMs: number;
  coldMsPerMB: number;
  /** Median over tails of |predicted − client| / client. */
  medianErrorPredicted: number;
  /** Median over tails of |tail-reported − client| / client. */
  medianErrorTailReported: number;
  /** Least squares through the tails' client-visible costs (the calibration these runs support). */
  fit: LinearFit;
}

export interface FleetTruthResult {
  startedAt: string;
  /** 1-minute load average before and after (os.loadavg). */
  loadAverage: { before: number; after: number };
  stackStartMs: number;
  agreement?: AgreementResult;
  lag?: LagResult;
  killed?: LeaveResult;
  reaped?: LeaveResult;
  coldStart?: ColdStartTruth;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const same = (a: FleetView, b: FleetView) => a.idleWarm === b.idleWarm && a.inFlight === b.inFlight;

/** The emulator's truth for one function: idle environments, and those holding an invocation (busy or in init). */
async function truthOf(url: string, fn: string): Promise<{ view: FleetView; pids: number[] }> {
  const stats = (await (await fetch(`${url}/_local/functions`)).json()) as EmulatorStats;
  const f = stats.functions.find((x) => x.name === fn);
  if (!f) throw new Error(`${fn} is not in /_local/functions`);
  return { view: { idleWarm: f.idle, inFlight: f.busy + f.initializing }, pids: f.environments.map((e) => e.pid) };
}

/** The planner's view of `tail`, from a device-only plan (a device that computes for free reserves nothing). */
async function planView(api: OffloadApi, tail: LocalTail, layerCount: number): Promise<FleetView> {
  const plan = await api.plan({
    model: tail.model,
    device: { computeW: 3.5, idleW: 0.5, deviceMs: new Array<number>(layerCount).fill(0) },
    network: 'wifi',
  });
  const f = plan.fleet[String(tail.cut)];
  if (!f) throw new Error(`the plan has no fleet entry for cut ${tail.cut}`);
  return { idleWarm: f.idleWarm, inFlight: f.inFlight };
}

async function crossing(model: string, cut: number): Promise<{ payload: Uint8Array; layerCount: number }> {
  const device = await DeviceModel.load(model);
  const x = device.randomInput(1);
  try {
    return { payload: encodeTensors(await device.runHead(cut, x)), layerCount: device.layerCount };
  } finally {
    x.dispose();
    device.dispose();
  }
}

async function measureAgreement(stack: LocalStack, api: OffloadApi, tail: LocalTail, o: Required<Pick<FleetTruthOptions, 'durationMs' | 'burstOnMs' | 'burstOffMs' | 'planEveryMs' | 'fleetCacheMs' | 'fleetAtArrival'>>, log: (l: string) => void): Promise<AgreementResult> {
  const { payload, layerCount } = await crossing(tail.model, tail.cut);
  const reserved = tail.reservedConcurrency ?? 4;
  const clients = reserved + 1;
  // Warm-up: the function at its reserved concurrency, every environment idle, and the planner warm, so
  // the bursts exercise busy/idle turns of a warm fleet (cold starts during the run are counted).
  log(`agreement: warming ${reserved} environments of ${tail.function}`);
  for (let attempt = 0; attempt < 5; attempt++) {
    await Promise.allSettled(Array.from({ length: reserved }, () => api.infer(tail.route, payload)));
    if ((await truthOf(stack.url, tail.function)).view.idleWarm >= reserved) break;
  }
  await planView(api, tail, layerCount);
  const requests = { ok: 0, throttled: 0, failed: 0, cold: 0 };
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  const on = () => {
    const t = (performance.now() - t0) % (o.burstOnMs + o.burstOffMs);
    return t < o.burstOnMs;
  };
  const client = async (): Promise<void> => {
    while (performance.now() < end) {
      if (!on()) {
        await sleep(20);
        continue;
      }
      try {
        const r = await api.infer(tail.route, payload);
        requests.ok += 1;
        if (r.cold) requests.cold += 1;
      } catch (e) {
        if (e instanceof ApiError && e.failure === 'throttled') requests.throttled += 1;
        else requests.failed += 1;
      }
      await sleep(Math.random() * 30); // a device's think time
    }
  };
  const misses: AgreementResult['misses'] = [];
  let plans = 0;
  let exact = 0;
  let strict = 0;
  let strictOf = 0;
  const planMs: number[] = [];
  const observer = async (): Promise<void> => {
    let next = performance.now();
    while (performance.now() < end) {
      const before = (await truthOf(stack.url, tail.function)).view;
      const p0 = performance.now();
      const plan = await planView(api, tail, layerCount);
      planMs.push(performance.now() - p0);
      const after = (await truthOf(stack.url, tail.function)).view;
      plans += 1;
      if (same(plan, before) || same(plan, after)) exact += 1;
      else misses.push({ atMs: Math.round(performance.now() - t0), before, plan, after });
      if (same(before, after)) {
        strictOf += 1;
        if (same(plan, before)) strict += 1;
      }
      next += o.planEveryMs;
      await sleep(Math.max(0, next - performance.now()));
    }
  };
  log(`agreement: ${clients} clients on ${tail.route} in ${o.burstOnMs}/${o.burstOffMs} ms bursts for ${(o.durationMs / 1000).toFixed(0)} s, a plan every ${o.planEveryMs} ms`);
  await Promise.all([observer(), ...Array.from({ length: clients }, client)]);
  const pct = (n: number, of: number) => (of === 0 ? 0 : (100 * n) / of);
  return {
    function: tail.function,
    model: tail.model,
    cut: tail.cut,
    reservedConcurrency: tail.reservedConcurrency,
    cacheMs: o.fleetCacheMs,
    atArrival: o.fleetAtArrival,
    planEveryMs: o.planEveryMs,
    durationMs: o.durationMs,
    plans,
    exact,
    exactPct: pct(exact, plans),
    strict,
    strictOf,
    strictPct: pct(strict, strictOf),
    requests,
    planMs: { median: planMs.length ? median(planMs) : Number.NaN, max: Math.max(...planMs) },
    misses,
  };
}

/**
 * One request at a time to a warm `tail` (a pause between them), while the
 * emulator's count (in process) and the registry (queried back to back, no
 * cache) are polled: when each first shows the environment busy, and idle again.
 */
async function measureLag(stack: LocalStack, api: OffloadApi, tail: LocalTail, requests: number): Promise<LagResult> {
  const { payload } = await crossing(tail.model, tail.cut);
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
  const reader = new FleetReader({ client: ddb, table: stack.table, cacheMs: 0, keepAliveMs: stack.keepAliveMs });
  const platformBusy = (): number => {
    const f = stack.emulator.stats().functions.find((x) => x.name === tail.function);
    return f ? f.busy + f.initializing : 0;
  };
  const queryMs: number[] = [];
  const registryBusy = async (): Promise<number> => {
    const q0 = performance.now();
    const fleet = await reader.read(tail.model);
    queryMs.push(performance.now() - q0);
    return fleet.get(tail.cut)?.inFlight ?? 0;
  };
  try {
    for (let i = 0; i < 2; i++) await api.infer(tail.route, payload); // warm, and past the first-request costs
    const rows: { platform: [number, number]; registry: [number, number] }[] = [];
    for (let i = 0; i < requests; i++) {
      await sleep(300);
      const t0 = performance.now();
      const platform: [number, number] = [Number.NaN, Number.NaN];
      const registry: [number, number] = [Number.NaN, Number.NaN];
      let answered = false;
      // Each side's first busy sighting, then its first idle one after it.
      const see = (edges: [number, number], busy: number): boolean => {
        const t = performance.now() - t0;
        if (busy > 0 && Number.isNaN(edges[0])) edges[0] = t;
        else if (busy === 0 && !Number.isNaN(edges[0])) edges[1] = t;
        return !Number.isNaN(edges[1]);
      };
      const request = api.infer(tail.route, payload).finally(() => (answered = true));
      const pollPlatform = async (): Promise<void> => {
        while (!see(platform, platformBusy()) && !(answered && Number.isNaN(platform[0]))) await new Promise((r) => setImmediate(r));
      };
      const pollRegistry = async (): Promise<void> => {
        while (!see(registry, await registryBusy()) && performance.now() - t0 < 5_000);
      };
      await Promise.all([request, pollPlatform(), pollRegistry()]);
      if ([...platform, ...registry].every(Number.isFinite)) rows.push({ platform, registry });
    }
    if (rows.length === 0) throw new Error(`lag: no request of ${tail.function} was seen busy by both the emulator and the registry`);
    return {
      function: tail.function,
      requests: rows.length,
      platformBusyMs: median(rows.map((r) => r.platform[1] - r.platform[0])),
      registryBusyMs: median(rows.map((r) => r.registry[1] - r.registry[0])),
      busyMarkLagMs: median(rows.map((r) => r.registry[0] - r.platform[0])),
      idleMarkLagMs: median(rows.map((r) => r.registry[1] - r.platform[1])),
      queryMs: median(queryMs),
    };
  } finally {
    ddb.destroy();
  }
}

/** Ends one idle environment of `tail` (`kill -9` or a reap of every idle one) and times how long the view takes to follow. */
async function measureLeave(stack: LocalStack, api: OffloadApi, tail: LocalTail, how: LeaveResult['how']): Promise<LeaveResult> {
  const { payload, layerCount } = await crossing(tail.model, tail.cut);
  // at least one warm idle environment, and a view that shows it
  let truth = await truthOf(stack.url, tail.function);
  if (truth.view.idleWarm === 0) await api.infer(tail.route, payload);
  for (let i = 0; i < 200; i++) {
    truth = await truthOf(stack.url, tail.function);
    if (truth.view.inFlight === 0 && same(await planView(api, tail, layerCount), truth.view)) break;
    await sleep(50);
  }
  const want: FleetView = how === 'reap' ? { idleWarm: 0, inFlight: 0 } : { idleWarm: truth.view.idleWarm - 1, inFlight: 0 };
  const t0 = performance.now();
  let emulatorMs = Number.NaN;
  if (how === 'kill -9') process.kill(truth.pids[0] as number, 'SIGKILL');
  else void stack.emulator.reapIdle(tail.function);
  for (;;) {
    const elapsed = performance.now() - t0;
    if (Number.isNaN(emulatorMs) && same((await truthOf(stack.url, tail.function)).view, want)) emulatorMs = performance.now() - t0;
    if (same(await planView(api, tail, layerCount), want)) return { how, leaveMs: performance.now() - t0, emulatorMs };
    if (elapsed > 60_000) throw new Error(`the planner still counts the ${how === 'reap' ? 'reaped' : 'killed'} environment after 60 s`);
    await sleep(20);
  }
}

async function measureColdStarts(stack: LocalStack, api: OffloadApi, repeats: number, log: (l: string) => void): Promise<ColdStartTruth> {
  const { coldBaseMs, coldMsPerMB } = CLOUD_DEFAULTS;
  const rows: ColdRow[] = [];
  for (const tail of stack.tails) {
    const { payload } = await crossing(tail.model, tail.cut);
    const samples: ColdRow['samples'] = [];
    let error: string | undefined;
    for (let i = 0; i < repeats && error === undefined; i++) {
      try {
        const { cold, warm } = await coldThenWarm(stack, api, tail, payload);
        samples.push({ clientColdMs: cold.roundTripMs - warm.roundTripMs, tailReportedMs: cold.initMs ?? Number.NaN });
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        log(`cold start ${tail.function}: ${error}`);
      }
    }
    await stack.emulator.reapIdle(tail.function); // one environment of a big tail at a time
    const tailMiB = tail.tailWeightBytes / 2 ** 20;
    const row: ColdRow = {
      ...(error === undefined ? {} : { error }),
      model: tail.model,
      cut: tail.cut,
      function: tail.function,
      tailMiB,
      clientColdMs: error === undefined ? median(samples.map((s) => s.clientColdMs)) : Number.NaN,
      tailReportedMs: error === undefined ? median(samples.map((s) => s.tailReportedMs)) : Number.NaN,
      predictedMs: coldBaseMs + coldMsPerMB * tailMiB,
      samples,
    };
    rows.push(row);
    log(`cold start ${tail.function}: ${tailMiB.toFixed(1)} MiB, client ${row.clientColdMs.toFixed(0)} ms, tail reports ${row.tailReportedMs.toFixed(0)} ms, predicted ${row.predictedMs.toFixed(0)} ms`);
  }
  const rel = (x: number, truth: number) => Math.abs(x - truth) / truth;
  const measured = rows.filter((r) => r.error === undefined);
  return {
    rows,
    coldBaseMs,
    coldMsPerMB,
    medianErrorPredicted: measured.length ? median(measured.map((r) => rel(r.predictedMs, r.clientColdMs))) : Number.NaN,
    medianErrorTailReported: measured.length ? median(measured.map((r) => rel(r.tailReportedMs, r.clientColdMs))) : Number.NaN,
    fit: fitLine(measured.map((r) => ({ x: r.tailMiB, y: r.clientColdMs }))),
  };
}

/** Runs the measurements on a local stack started (and stopped) here. Bounded: a few minutes with the defaults. */
export async function runFleetTruth(options: FleetTruthOptions = {}): Promise<FleetTruthResult> {
  const parts = new Set(options.parts ?? ['agreement', 'lag', 'kill', 'cold']);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const before = loadavg()[0] as number;
  const startedAt = new Date().toISOString();
  const { stack, api, stackStartMs } = await startBenchStack({
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.models ? { models: options.models } : {}),
    env: {
      ...(options.fleetCacheMs === undefined ? {} : { FLEET_CACHE_MS: String(options.fleetCacheMs) }),
      ...(options.fleetAtArrival === undefined ? {} : { FLEET_AT_ARRIVAL: options.fleetAtArrival ? 'on' : 'off' }),
    },
    log,
  });
  const result: FleetTruthResult = { startedAt, loadAverage: { before, after: Number.NaN }, stackStartMs };
  try {
    const wanted = options.burst;
    const tail = wanted ? stack.tails.find((t) => t.model === wanted.model && t.cut === wanted.cut) : stack.tails[0];
    if (!tail) throw new Error(wanted ? `the stack has no tail ${wanted.model} cut ${wanted.cut}` : 'the stack has no tail');
    if (parts.has('agreement')) {
      result.agreement = await measureAgreement(
        stack,
        api,
        tail,
        {
          durationMs: options.durationMs ?? 30_000,
          burstOnMs: options.burstOnMs ?? 3_000,
          burstOffMs: options.burstOffMs ?? 2_000,
          planEveryMs: options.planEveryMs ?? 100,
          fleetCacheMs: options.fleetCacheMs ?? DEFAULT_FLEET_CACHE_MS,
          // the shipped default (functions/commons/deployment.ts) when the option is not given
          fleetAtArrival: options.fleetAtArrival ?? true,
        },
        log,
      );
      log(`agreement: ${result.agreement.exact}/${result.agreement.plans} plans exact (${result.agreement.exactPct.toFixed(1)} %)`);
    }
    if (parts.has('lag')) {
      result.lag = await measureLag(stack, api, tail, options.lagRequests ?? 15);
      log(`lag: the registry shows a busy environment ${result.lag.busyMarkLagMs.toFixed(0)} ms after the emulator counts it busy`);
    }
    if (parts.has('kill')) {
      result.killed = await measureLeave(stack, api, tail, 'kill -9');
      log(`killed environment left the view in ${result.killed.leaveMs.toFixed(0)} ms`);
      result.reaped = await measureLeave(stack, api, tail, 'reap');
      log(`reaped environment left the view in ${result.reaped.leaveMs.toFixed(0)} ms`);
    }
    if (parts.has('cold')) result.coldStart = await measureColdStarts(stack, api, options.coldRepeats ?? 2, log);
  } finally {
    await stack.close();
  }
  result.loadAverage.after = loadavg()[0] as number;
  return result;
}

/** The result as text: one block per measurement. */
export function formatFleetTruth(r: FleetTruthResult): string {
  const out: string[] = [`fleet truth, ${r.startedAt}; load average ${r.loadAverage.before.toFixed(1)} before, ${r.loadAverage.after.toFixed(1)} after (2-core machine shared with other jobs)`];
  const a = r.agreement;
  if (a) {
    out.push(
      '',
      `fleet-view agreement (${a.function}, reserved ${a.reservedConcurrency ?? 'none'}, fleet cache ${a.cacheMs} ms, fleet judged ${a.atArrival ? 'at the arrival (a prediction)' : 'at the plan (the registry view)'}, a plan every ${a.planEveryMs} ms for ${(a.durationMs / 1000).toFixed(0)} s of bursts):`,
      `  exact ${a.exact}/${a.plans} plans = ${a.exactPct.toFixed(1)} % (target ≥ 95 %); strict (truth unchanged across the plan) ${a.strict}/${a.strictOf} = ${a.strictPct.toFixed(1)} %`,
      `  requests: ${a.requests.ok} answered (${a.requests.cold} cold), ${a.requests.throttled} throttled (429), ${a.requests.failed} failed; one plan took ${a.planMs.median.toFixed(0)} ms (median), ${a.planMs.max.toFixed(0)} ms at most`,
    );
    for (const m of a.misses.slice(0, 5)) out.push(`  miss at ${m.atMs} ms: emulator ${JSON.stringify(m.before)} → ${JSON.stringify(m.after)}, plan ${JSON.stringify(m.plan)}`);
  }
  const g = r.lag;
  if (g) {
    out.push(
      `registry lag (${g.function}, ${g.requests} lone requests, median): the emulator counts the environment busy for ${g.platformBusyMs.toFixed(0)} ms, the registry for ${g.registryBusyMs.toFixed(0)} ms;`,
      `  the busy mark shows ${g.busyMarkLagMs.toFixed(0)} ms after the emulator's busy (the event's delivery and one write), the idle mark ${g.idleMarkLagMs.toFixed(0)} ms after its idle; one registry query ${g.queryMs.toFixed(0)} ms`,
    );
  }
  for (const l of [r.killed, r.reaped]) {
    if (l) out.push(`environment ended by ${l.how}: gone from the planner's view in ${l.leaveMs.toFixed(0)} ms (target ≤ 2,000 ms), from the emulator's list in ${l.emulatorMs.toFixed(0)} ms`);
  }
  const c = r.coldStart;
  if (c) {
    out.push(
      '',
      `cold start: client-visible cost (cold − warm round trip) vs the default prediction ${c.coldBaseMs} + ${c.coldMsPerMB} ms/MiB and vs what the tail reports (median of ${c.rows[0]?.samples.length ?? 0} pairs per tail)`,
      formatTable(
        ['function', 'tail MiB', 'client ms', 'tail reports ms', 'predicted ms'],
        c.rows.map((row) => [row.function, row.tailMiB.toFixed(1), row.error ? 'failed' : row.clientColdMs.toFixed(0), row.error ? '-' : row.tailReportedMs.toFixed(0), row.predictedMs.toFixed(0)]),
      ),
      ...c.rows.filter((row) => row.error).map((row) => `  ${row.function}: ${row.error}`),
      `median error over ${c.rows.filter((row) => !row.error).length} tails: prediction ${(100 * c.medianErrorPredicted).toFixed(1)} % (target ≤ 20 %), tail-reported ${(100 * c.medianErrorTailReported).toFixed(1)} %`,
      `least squares through the client-visible costs: ${c.fit.coldBaseMs.toFixed(0)} + ${c.fit.coldMsPerMB.toFixed(2)} × MiB (r² ${c.fit.r2.toFixed(3)})`,
    );
  }
  out.push(`local stack start: ${(r.stackStartMs / 1000).toFixed(1)} s`);
  return out.join('\n');
}

if (isMain(import.meta.url)) {
  const values = parseArgsOrExit(
    {
      options: {
        'duration-s': { type: 'string' },
        repeats: { type: 'string' },
        parts: { type: 'string' },
        config: { type: 'string' },
        models: { type: 'string' },
        'state-dir': { type: 'string' },
        burst: { type: 'string' },
        'fleet-cache-ms': { type: 'string' },
        'fleet-at-arrival': { type: 'string' },
        json: { type: 'boolean' },
      },
    },
    'npx tsx bench/fleet-truth.ts [--duration-s 30] [--repeats 2] [--parts agreement,lag,kill,cold] [--config FILE] [--models a,b] [--state-dir DIR] [--burst model:cut] [--fleet-cache-ms MS] [--fleet-at-arrival on|off] [--json]',
  );
  const parts = values.parts?.split(',').map((p) => p.trim());
  const known: FleetTruthPart[] = ['agreement', 'lag', 'kill', 'cold'];
  const bad = parts?.find((p) => !known.includes(p as FleetTruthPart));
  if (bad !== undefined) {
    process.stderr.write(`--parts: unknown part "${bad}" (one of ${known.join(', ')})\n`);
    process.exit(2);
  }
  let burst: { model: string; cut: number } | undefined;
  if (values.burst !== undefined) {
    const m = /^([^:]+):(\d+)$/.exec(values.burst);
    if (!m) {
      process.stderr.write(`--burst: expected <model>:<cut>, got "${values.burst}"\n`);
      process.exit(2);
    }
    burst = { model: m[1] as string, cut: Number(m[2]) };
  }
  const cacheMs = values['fleet-cache-ms'] === undefined ? undefined : Number(values['fleet-cache-ms']);
  if (cacheMs !== undefined && !(Number.isInteger(cacheMs) && cacheMs >= 0)) {
    process.stderr.write(`--fleet-cache-ms: expected a whole number of ms ≥ 0, got "${values['fleet-cache-ms']}"\n`);
    process.exit(2);
  }
  const atArrival = values['fleet-at-arrival'];
  if (atArrival !== undefined && atArrival !== 'on' && atArrival !== 'off') {
    process.stderr.write(`--fleet-at-arrival: expected on or off, got "${atArrival}"\n`);
    process.exit(2);
  }
  const result = await runFleetTruth({
    ...(cacheMs === undefined ? {} : { fleetCacheMs: cacheMs }),
    ...(atArrival === undefined ? {} : { fleetAtArrival: atArrival === 'on' }),
    ...(values['duration-s'] ? { durationMs: Number(values['duration-s']) * 1000 } : {}),
    ...(values.repeats ? { coldRepeats: Number(values.repeats) } : {}),
    ...(parts ? { parts: parts as FleetTruthPart[] } : {}),
    ...(values.config ? { configFile: values.config } : {}),
    ...(values.models ? { models: values.models.split(',') } : {}),
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    ...(burst ? { burst } : {}),
  });
  process.stdout.write(`${values.json ? JSON.stringify(result, null, 2) : formatFleetTruth(result)}\n`);
  process.exit(0);
}
