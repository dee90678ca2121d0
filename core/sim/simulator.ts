/**
 * The fleet simulator: a workload (core/workload.ts arrivals) through a policy
 * (core/policies.ts) against a simulated Lambda fleet (./fleet.ts) seen by the
 * planner through its stale view (./fleet-view.ts), one request at a time, in
 * simulated time. Each request yields the load harness's record
 * (core/load-record.ts) and the run the harness's summary, so one trace runs
 * through both and the figures compare line by line.
 *
 * A request, as the harness waits it (docs/evaluation.md, "the simulator"):
 *
 * ```
 * t            arrival; the plan is made on the fleet view at t
 * + headMs     head on the device (the device class's predicted layer times), started at
 *              once: for policy `planner` the POST /plan round trip (planMs) runs beside it
 *              (see {@link deviceStart}); `waitForPlan` waits the plan out first (+ planMs)
 * + rttMs/2+upMs the crossing tensors go up (the other half of the RTT is on the way back)
 *              → the tail function: an environment is taken (warm, provisioned, cold) or 429
 *   served:    + coldStartMs (cold only) + tailMs + invokeOverheadMs, then + downMs
 *   429:       + throttleOverheadMs, then the tail on the device (Σ deviceMs of layers ≥ cut)
 * ```
 *
 * Energy and cost of a record follow docs/cost-model.md §3 on the parts that happened
 * (core/load-record.ts `measuredEnergyJ`); a request on a provisioned
 * environment is billed at the provisioned duration price, and the run's
 * fixed provisioned-concurrency charge is reported beside the summary.
 *
 * Plans are cached: a plan depends on the fleet only through, per deployed
 * function, whether `idleWarm ≥ 1` and whether `inFlight ≥ limit` (docs/cost-model.md §3,
 * §4), so the plan of a (model, device class, network) scenario is keyed by
 * those bits. The cache returns exactly what `plan()` would, at a hash
 * lookup per request instead of ~10 µs of planning.
 *
 * Pure: no I/O, no clock, no randomness (the workload carries the seed).
 */
import { ValidationError } from '../errors';
import { measuredEnergyJ, type EnergyPrices, type LoadRecord, type LoadSummary } from '../load-record';
import { defaultFunctionName, plan, type PlanRecord } from '../planner';
import { choosePolicyCut, policyName, predictedOf, type Policy, type PolicyChoice } from '../policies';
import type { Scenario } from '../scenario';
import type { Arrival } from '../workload';
import { radioPowerW, transferMs } from '../cost';
import { DTYPE_FACTOR } from '../dtypes';
import { DEFAULT_PREWARM_OPTIONS, PrewarmMemory, prewarmCandidate, type PrewarmCandidate, type PrewarmOptions } from '../prewarm';
import { EventQueue } from './event-queue';
import { Fleet, type Acquired, type FleetOptions, type FunctionCounters, type TailFunctionSpec } from './fleet';
import { FleetView, PLANNER_KEEPALIVE_MS, type ArrivalWindow, type FleetViewOptions, type Reservation } from './fleet-view';
import { checkHost, firstInferenceFactor, HostCpu, initBurstScaleOf, invokeOverheadOf, type HostModel } from './host';
import { Jitter, type JitterSpec } from './jitter';
import { SummaryAccumulator } from './summary';

/**
 * Provisioned-concurrency prices, x86_64, US East (N. Virginia): $0.0000041667
 * per GB-s configured, and $0.0000097222 per GB-s of duration on provisioned
 * environments (instead of the on-demand $0.0000166667). ASSUMED from the
 * figures widely quoted from the AWS Lambda pricing page, whose tables were
 * not readable here: check aws.amazon.com/lambda/pricing before relying on
 * them. Requests cost the same $0.20 per million either way.
 */
export const PROVISIONED_PRICES = Object.freeze({ gbSecondConfiguredUSD: 0.0000041667, gbSecondDurationUSD: 0.0000097222 });

/**
 * Assumed service time of `POST /plan` at the planner (warm, fleet read
 * cached), ms; the round trip adds the device's network RTT. An assumption,
 * not a measurement of a deployment: give `timing.planMs` when one is known.
 */
export const PLANNER_SERVICE_MS = 10;

/** Fixed times of a request that the cost model leaves out. */
export interface SimTiming {
  /** `POST /plan` round trip of a device on a network with `rttMs`; default rttMs + {@link PLANNER_SERVICE_MS}. */
  planMs?: (rttMs: number) => number;
  /** Added to a served invocation's round trip (API and runtime overhead), ms; default 0 (on a shared host: the host's, per cut where it has one). */
  invokeOverheadMs?: number;
  /** Round trip of a refused (429) invocation past the RTT already waited, ms; default 0. */
  throttleOverheadMs?: number;
}

/** Inputs of {@link simulate}. */
export interface SimulationInput {
  /** Arrivals in time order (a trace, or core/workload.ts generateWorkload). */
  arrivals: readonly Arrival[];
  policy: Policy;
  /** The deployed tail functions: what the fleet runs (their true cold start and warm tail time). */
  functions: readonly TailFunctionSpec[];
  /**
   * The planner's scenario for a request of `model` from a device of `deviceClass`
   * on `network` (layers, candidates, network, device, cloud prices; its fleet
   * part is replaced per request). Called once per distinct triple.
   */
  scenarioFor: (model: string, deviceClass: string, network: string) => Scenario;
  fleet?: FleetOptions;
  view?: FleetViewOptions;
  /**
   * The planner's prewarm (core/prewarm.ts; `PREWARM_TAILS` on the planner function): a plan may start one
   * environment of the tail that would win were every tail warm, as an asynchronous invocation sent at the
   * plan, when an earlier plan wanted that tail within the planner's keep-alive. On by default, as in every
   * deployment (options default to core/prewarm.ts DEFAULT_PREWARM_OPTIONS, `recurrenceMs` to the view's
   * keep-alive); `false` turns it off (`planner.prewarm.enabled: false`). Only with the `planner` policy.
   */
  prewarm?: Partial<PrewarmOptions> | false;
  timing?: SimTiming;
  /**
   * The device waits for the plan before it starts its head (the client's `waitForPlan`). Default false: it runs
   * the model from layer 0 while `POST /plan` is in flight ({@link deviceStart}). Only with the `planner` policy.
   */
  waitForPlan?: boolean;
  /**
   * Where the tails run (./host.ts). Default: Lambda, every environment on its own vCPUs, so a tail takes its
   * `tailMs` (and a cold start its `coldStartMs`) whatever else runs. With a host, the busy environments of ALL
   * functions share its cores: each advances at 1/s(n) of its lone speed while n are busy, and a record is made
   * when its invocation ends (records then come in end order, not arrival order).
   */
  host?: HostModel;
  /** Per-request spread of tail and cold-start times (./jitter.ts); default none: every request takes the median. */
  jitter?: JitterSpec;
  /** Receives every record as it is made (JSONL output, tests). Without it no record object is built. */
  onRecord?: (record: LoadRecord) => void;
  /** Called every `progressEvery` arrivals with (arrivals done, total). */
  onProgress?: (done: number, total: number) => void;
  progressEvery?: number;
}

/** Per-function figures of a run. */
export interface FunctionReport extends FunctionCounters {
  model: string;
  cut: number;
  memoryMB: number;
  reservedConcurrency: number | null;
  provisionedConcurrency: number;
  /** Provisioned concurrency charge over the simulated span, USD. */
  provisionedUSD: number;
}

/** What a run gives. */
export interface SimulationResult {
  /** The load harness's summary of the run's records. */
  summary: LoadSummary;
  functions: FunctionReport[];
  /** Simulated span: from 0 to the last event, ms. */
  spanMs: number;
  /** Fixed provisioned-concurrency charge over the span, USD (not in summary.costUSD, which is per request). */
  provisionedUSD: number;
  /** Plans computed (cache misses) and plan lookups. */
  plans: { computed: number; lookups: number };
  /** Registry reads of the planner's view. */
  viewReads: number;
  /** Prewarm invocations sent, how many started an environment (cold), and their billed init, USD (not in summary.costUSD). */
  prewarm: { sent: number; cold: number; costUSD: number };
}

/** Precomputed figures of one (model, device class, network). */
interface Entry {
  model: string;
  deviceClass: string;
  network: string;
  scenario: Scenario;
  L: number;
  rttMs: number;
  downMs: number;
  planMs: number;
  /** Device and radio power of the class on the network (cloud prices unused: a record's cost is the function's). */
  prices: EnergyPrices;
  /** By cut 0 … L. */
  headMs: Float64Array;
  deviceTailMs: Float64Array;
  upMs: Float64Array;
  /** Deployed cut → position in the model's view, −1 when not deployed. */
  viewIndexOfCut: Int32Array;
  /** Position in the model's view → the scenario's fleet entry to fill. */
  fleetEntries: Scenario['cloud']['functions'][string][];
  /**
   * Position in the model's view → ms from the arrival to the request reaching that tail as the planner believes it
   * (functions/commons/planner.ts reachMs: a device that computes while it asks, the default, whatever this run's
   * devices do), plan round trip included when the policy plans live.
   */
  reachMs: Float64Array;
  /** The window passed to the view (rewritten at each read). */
  window: ArrivalWindow;
  model_: ModelState;
  cache: Map<number | string, CachedPlan>;
}

/** A plan for one fleet-bits key, and its prewarm candidate (the scenario-only part; null: prewarm off). */
type CachedPlan = PolicyChoice & { record: PlanRecord; prewarm: PrewarmCandidate | null };

interface ModelState {
  view: FleetView;
  /** View position → fleet index. */
  fleetIndex: number[];
  /** View position → cut. */
  cuts: number[];
}

type Pending =
  | { kind: 'invoke' | 'init-done' | 'release'; req: Req }
  | { kind: 'prewarm-done'; prewarm: PrewarmInvocation }
  /** The host's next phase end, valid while `version` is the host's current one (host mode). */
  | { kind: 'host'; version: number };

/** What a job on a shared host stands for: a served invocation, or a prewarm's init. */
type HostItem = { req: Req; invokeAt: number; initMs: number | null; tailMs: number } | { prewarm: PrewarmInvocation; invokeAt: number };

/** A prewarm invocation in flight: what its end must release. */
interface PrewarmInvocation {
  fleetIndex: number;
  how: Acquired;
  billedMs: number;
  view: FleetView;
  viewPos: number;
  /** Its busy mark's predicted end. */
  busyMark: number;
}

interface Req {
  i: number;
  arrival: Arrival;
  entry: Entry;
  cut: number;
  planCut: number;
  viewPos: number;
  fleetIndex: number;
  planMs: number | null;
  /** The device's side up to the send (or to the answer, when it ran the whole model): {@link deviceStart}. */
  start: DeviceStart;
  choice: PolicyChoice;
  fleetSeen: { idleWarm: number; inFlight: number; limit: number } | null;
  how: Acquired | null;
  billedMs: number;
  reservation: Reservation | null;
  /** The end its busy mark in the planner's view predicts (what ends the mark when it ends). */
  busyMark: number;
}

/** A request's device side, from its arrival to the moment it has something to send (or its answer). */
export interface DeviceStart {
  /** The cut the request goes on with: the plan's, or L when the device finished the whole model before the plan came. */
  cut: number;
  /** The head's own compute at that cut (the whole model at L), ms. */
  headMs: number;
  /** From the arrival to the crossing tensors ready to send (the answer, at L), plan included, ms. */
  readyMs: number;
  /** Of `readyMs`, what the device computed (layers past the cut, run while the plan was in flight, included), ms. */
  computeMs: number;
  /** Of `readyMs`, how long the request waited on the plan (null without a live plan), ms: what is not inference. */
  planWaitMs: number | null;
  /** Of that wait, how long the device sat idle, ms. */
  planIdleMs: number;
}

/**
 * When a request's device has its crossing tensors for `cut` (docs/load.md "Asking while computing").
 *
 * Without a live plan (`planMs` null) the head runs from the arrival. With one and `waitForPlan`, the device idles
 * through the plan round trip, then runs the head. By default it starts the model at layer 0 while the plan is in
 * flight: every layer it runs is in the head of every cut, so it loses nothing and
 * - cut L: goes on to the end; the plan is never waited for;
 * - 0 < cut < L: sends at max(planMs, head(cut)): if the plan comes first the head goes on to the cut, else it sends
 *   the crossing tensors it kept at the cut, the layers it ran past it wasted (compute, not idle);
 * - cut 0: sends the input when the plan comes, everything it computed wasted;
 * - any cut: when the whole model is done before the plan comes, that is the answer (cut L, nothing sent).
 *
 * @param headMs cumulative device time by cut, 0 … L (headMs[L] the whole model)
 * @example
 * deviceStart(Float64Array.of(0, 40, 100, 120), 1, 60, false); // { cut: 1, headMs: 40, readyMs: 60, computeMs: 60, planWaitMs: 20, planIdleMs: 0 }
 */
export function deviceStart(headMs: Float64Array, cut: number, planMs: number | null, waitForPlan: boolean): DeviceStart {
  const L = headMs.length - 1;
  const head = headMs[cut]!;
  if (planMs === null) return { cut, headMs: head, readyMs: head, computeMs: head, planWaitMs: null, planIdleMs: 0 };
  if (waitForPlan) return { cut, headMs: head, readyMs: planMs + head, computeMs: head, planWaitMs: planMs, planIdleMs: planMs };
  const whole = headMs[L]!;
  if (cut === L || whole <= planMs) return { cut: L, headMs: whole, readyMs: whole, computeMs: whole, planWaitMs: 0, planIdleMs: 0 };
  const readyMs = Math.max(planMs, head);
  return { cut, headMs: head, readyMs, computeMs: readyMs, planWaitMs: readyMs - head, planIdleMs: 0 };
}

const USD_PER_MB_S = (gbSecondUSD: number, memoryMB: number) => (gbSecondUSD * memoryMB) / 1024;

/**
 * Runs one policy over the arrivals.
 *
 * @example
 * const result = simulate({ arrivals, policy: { kind: 'planner' }, functions, scenarioFor });
 * result.summary.latencyMs.p95;
 */
export function simulate(input: SimulationInput): SimulationResult {
  const { arrivals, policy } = input;
  const fleet = new Fleet(input.functions, input.fleet);
  const timing = input.timing ?? {};
  const planMsOf = timing.planMs ?? ((rtt: number) => rtt + PLANNER_SERVICE_MS);
  // On a shared host the overhead is the host's measured one unless given.
  const invokeOverheadMs = timing.invokeOverheadMs ?? input.host?.invokeOverheadMs ?? 0;
  const throttleOverheadMs = timing.throttleOverheadMs ?? 0;
  const livePlan = policy.kind === 'planner';
  const prewarmOptions: PrewarmOptions | null =
    livePlan && input.prewarm !== false ? { ...DEFAULT_PREWARM_OPTIONS, recurrenceMs: input.view?.keepAliveMs ?? PLANNER_KEEPALIVE_MS, ...input.prewarm } : null;
  const waitForPlan = input.waitForPlan ?? false;
  const name = policyName(policy);
  if (input.host) checkHost(input.host);
  const cpu = input.host ? new HostCpu<HostItem>(input.host) : null;
  const jitter = input.jitter ? new Jitter(input.jitter) : null;
  let hostVersion = 0;
  const acc = new SummaryAccumulator(name, arrivals.length);

  // Functions by model, in cut order: the model's view.
  const models = new Map<string, ModelState>();
  const byModel = new Map<string, number[]>();
  input.functions.forEach((f, i) => byModel.set(f.model, [...(byModel.get(f.model) ?? []), i]));
  for (const [model, indexes] of byModel) {
    indexes.sort((a, b) => input.functions[a]!.cut - input.functions[b]!.cut);
    const cuts = indexes.map((i) => input.functions[i]!.cut);
    const dup = cuts.find((c, k) => cuts.indexOf(c) !== k);
    if (dup !== undefined) throw new ValidationError(`functions.${model}#${dup}`, 'is deployed twice');
    models.set(model, { view: new FleetView(fleet, indexes, input.view), fleetIndex: indexes, cuts });
  }

  const entries = new Map<string, Entry>();
  const entryOf = (a: Arrival): Entry => {
    const key = `${a.model}\u0000${a.class}\u0000${a.network}`;
    let e = entries.get(key);
    if (!e) {
      e = makeEntry(a, models, input, planMsOf);
      if (policy.kind === 'cut' && policy.cut !== e.L && (policy.cut >= e.viewIndexOfCut.length || e.viewIndexOfCut[policy.cut]! < 0)) {
        throw new ValidationError('policy', `cut:${policy.cut}: no tail function of ${a.model} is deployed at cut ${policy.cut} (deployed: ${models.get(a.model)!.cuts.join(', ')}; ${e.L} is device-only)`);
      }
      if (policy.kind === 'cloud-only' && e.viewIndexOfCut[0]! < 0) {
        throw new ValidationError('policy', `cloud-only: ${a.model} has no tail function at cut 0`);
      }
      entries.set(key, e);
    }
    return e;
  };

  let computed = 0;
  let lookups = 0;
  const choose = (e: Entry, now: number): { choice: PolicyChoice; record: PlanRecord; prewarm: CachedPlan['prewarm']; viewed: ReturnType<FleetView['read']> } => {
    const m = e.model_;
    for (let k = 0; k < e.reachMs.length; k++) e.window.atMs[k] = now + e.reachMs[k]!;
    const viewed = m.view.read(now, e.window);
    // Two bits per function; past 26 functions the number would lose bits, so the key becomes a string.
    let key: number | string = 0;
    if (viewed.length <= 26) {
      for (let k = 0; k < viewed.length; k++) {
        const v = viewed[k]!;
        key = key * 4 + (v.idleWarm >= 1 ? 1 : 0) + (v.inFlight >= v.limit ? 2 : 0);
      }
    } else {
      key = viewed.map((v) => (v.idleWarm >= 1 ? 1 : 0) + (v.inFlight >= v.limit ? 2 : 0)).join('');
    }
    lookups++;
    let hit = e.cache.get(key);
    if (!hit) {
      computed++;
      for (let k = 0; k < viewed.length; k++) {
        const f = e.fleetEntries[k]!;
        f.idleWarm = viewed[k]!.idleWarm >= 1 ? 1 : 0;
        f.inFlight = viewed[k]!.inFlight >= viewed[k]!.limit ? f.limit : 0;
      }
      const record = plan(e.scenario);
      // The prewarm candidate depends on the fleet through the same bits; its recurrence and dedupe depend on time (applied per request).
      const prewarm = prewarmOptions ? prewarmCandidate(e.scenario, record, prewarmOptions) : null;
      hit = { ...choosePolicyCut(policy, record), record, prewarm };
      e.cache.set(key, hit);
    }
    return { choice: hit, record: hit.record, prewarm: hit.prewarm, viewed };
  };

  const queue = new EventQueue<Pending>();
  let lastTime = 0;
  const progressEvery = input.progressEvery ?? 10_000;

  const finish = (req: Req, end: {
    target: 'cloud' | 'device';
    cold: boolean;
    status: number | null;
    fallback: 'throttled' | null;
    initMs: number | null;
    computeMs: number | null;
    roundTripMs: number | null;
    deviceTailMs: number | null;
    costUSD: number;
  }): void => {
    const e = req.entry;
    const c = req.cut;
    const device = c === e.L;
    const { headMs, readyMs, computeMs, planWaitMs, planIdleMs } = req.start;
    const upMs = device ? 0 : e.rttMs + e.upMs[c]!;
    const downMs = end.target === 'cloud' ? e.downMs : 0;
    const latencyMs = readyMs + upMs + (end.roundTripMs ?? 0) + downMs + (end.deviceTailMs ?? 0);
    // As the load harness measures it: compute power while the device computed (layers past the cut run while the
    // plan was in flight included), idle power over the RTT, every wait for the cloud and any wait for the plan.
    const energyJ = measuredEnergyJ(e.prices, {
      headMs: computeMs,
      deviceTailMs: end.deviceTailMs ?? 0,
      rttMs: device ? 0 : e.rttMs,
      upMs: device ? 0 : e.upMs[c]!,
      cloudWaitMs: (end.roundTripMs ?? 0) + planIdleMs,
      downMs,
    });
    const believed = req.choice.believed;
    const predictedLatency = believed.latencyMs;
    const warmServed = end.target === 'cloud' && !end.cold && end.fallback === null;
    acc.add(latencyMs, energyJ, end.costUSD, !device, end.fallback !== null, end.cold, end.target === 'cloud', predictedLatency, warmServed, planWaitMs);
    if (input.onRecord) {
      // the prediction is of the plan's cut, which is not the served one when the device finished first
      const predicted = predictedOf(believed, req.choice.cut === e.L ? 0 : e.rttMs);
      input.onRecord({
        i: req.i,
        t: req.arrival.t,
        startMs: req.arrival.t,
        device: req.arrival.device,
        class: req.arrival.class,
        network: req.arrival.network,
        model: req.arrival.model,
        policy: name,
        cut: c,
        L: e.L,
        planCut: req.planCut,
        target: end.target,
        cold: end.cold,
        status: end.status,
        fallback: end.fallback,
        fleet: req.fleetSeen,
        predicted,
        measured: {
          planMs: req.planMs,
          planWaitMs,
          headMs,
          upMs,
          roundTripMs: end.roundTripMs,
          initMs: end.initMs,
          computeMs: end.computeMs,
          downMs,
          deviceTailMs: end.deviceTailMs,
          latencyMs,
          energyJ,
          costUSD: end.costUSD,
        },
        output: 'simulated',
        error: null,
      });
    }
  };

  /** The one planner instance's prewarm history. */
  const prewarmMemory = new PrewarmMemory();
  const prewarmStats = { sent: 0, cold: 0, costUSD: 0 };
  /** A prewarm invocation of the tail at `viewPos`, sent at the plan: a cold start with no compute (billed init), or nothing to do on a warm environment. */
  const sendPrewarm = (e: Entry, viewPos: number, now: number): void => {
    prewarmStats.sent++;
    const fleetIndex = e.model_.fleetIndex[viewPos]!;
    const how = fleet.acquire(fleetIndex, now);
    if (how !== 'cold' && how !== 'warm' && how !== 'provisioned') return; // refused: Lambda retries an async invoke; not modelled
    const spec = fleet.functions[fleetIndex]!.spec;
    const billedMs = how === 'cold' ? spec.coldStartMs : 0;
    // Every accepted invocation pays the request charge; one that starts an environment pays its init too.
    prewarmStats.costUSD += e.scenario.cloud.requestUSD;
    if (how === 'cold') {
      prewarmStats.cold++;
      prewarmStats.costUSD += (USD_PER_MB_S(e.scenario.cloud.gbSecondUSD, spec.memoryMB) * billedMs) / 1000;
    }
    const view = e.model_.view;
    const invocation: PrewarmInvocation = { fleetIndex, how, billedMs, view, viewPos, busyMark: now + billedMs };
    view.busyFrom(viewPos, invocation.busyMark);
    if (cpu && how === 'cold') {
      cpu.add({ phase: 'init', work: billedMs, phaseStart: now, item: { prewarm: invocation, invokeAt: now }, burstScale: initBurstScaleOf(cpu.host, spec.model, spec.cut) }, now);
      scheduleHost();
      return;
    }
    queue.push(now + billedMs, { kind: 'prewarm-done', prewarm: invocation });
  };

  const arrive = (i: number): void => {
    const a = arrivals[i]!;
    if (i > 0 && a.t < arrivals[i - 1]!.t) {
      throw new ValidationError(`arrivals[${i}].t`, `must be >= ${arrivals[i - 1]!.t} (the previous arrival's t): a trace must be in time order`);
    }
    const e = entryOf(a);
    const { choice, record, prewarm, viewed } = choose(e, a.t);
    if (prewarm) {
      const d = prewarmMemory.admit(prewarm, a.t, prewarmOptions!);
      if (d.prewarm) sendPrewarm(e, e.viewIndexOfCut[d.cut]!, a.t);
    }
    const planMs = livePlan ? e.planMs : null;
    const start = deviceStart(e.headMs, choice.cut, planMs, waitForPlan);
    // The device may have finished the whole model before the plan came: then it sends nothing.
    const cut = start.cut;
    const viewPos = cut === e.L ? -1 : e.viewIndexOfCut[cut]!;
    const req: Req = {
      i,
      arrival: a,
      entry: e,
      cut,
      planCut: record.cut,
      viewPos,
      fleetIndex: viewPos < 0 ? -1 : e.model_.fleetIndex[viewPos]!,
      planMs,
      start,
      choice,
      fleetSeen: viewPos < 0 ? null : { ...viewed[viewPos]! },
      how: null,
      billedMs: 0,
      reservation: null,
      busyMark: 0,
    };
    if (livePlan && choice.cut !== e.L) {
      // The planner's ledger holds the tail from when it believes the request gets there (a device that computes while
      // it asks, functions/commons/planner.ts reachMs), whether or not the device then sends.
      const pos = e.viewIndexOfCut[choice.cut]!;
      const startsAt = a.t + e.reachMs[pos]!;
      const busyUntil = startsAt + choice.believed.coldMs + choice.believed.tailMs;
      req.reservation = e.model_.view.reserve(pos, a.t, record.predicted.latencyMs, { startsAt, busyUntil });
    }
    if (viewPos < 0) {
      // Device-only: the whole model here, nothing sent.
      finish(req, { target: 'device', cold: false, status: null, fallback: null, initMs: null, computeMs: null, roundTripMs: null, deviceTailMs: null, costUSD: 0 });
      return;
    }
    // The request reaches the tail after half the RTT and the upload (the other half is on the way back).
    const sendAt = a.t + start.readyMs + e.rttMs / 2 + e.upMs[cut]!;
    queue.push(sendAt, { kind: 'invoke', req });
  };

  const invoke = (req: Req, now: number): void => {
    const how = fleet.acquire(req.fleetIndex, now);
    req.how = how;
    const e = req.entry;
    if (how === 'throttled-reserved' || how === 'throttled-account' || how === 'throttled-scaling') {
      finish(req, {
        target: 'device',
        cold: false,
        status: 429,
        fallback: 'throttled',
        initMs: null,
        computeMs: null,
        roundTripMs: throttleOverheadMs,
        deviceTailMs: e.deviceTailMs[req.cut]!,
        costUSD: 0,
      });
      return;
    }
    if (req.reservation) req.reservation.arrivedAt = now;
    const spec = fleet.functions[req.fleetIndex]!.spec;
    const cold = how === 'cold';
    // The request's own times: the function's medians, spread when asked (tail first, then the cold start).
    const tailMs = jitter ? spec.tailMs * jitter.tail() : spec.tailMs;
    const initMs = cold ? (jitter ? spec.coldStartMs * jitter.cold() : spec.coldStartMs) : 0;
    // Its busy mark, with the end the planner predicts from it (the planner knows the medians, not this request's draw or the host's sharing).
    req.busyMark = now + ((cold ? spec.coldStartMs : 0) + spec.tailMs);
    e.model_.view.busyFrom(req.viewPos, req.busyMark);
    if (cpu) {
      // On a host that models it, a cold environment's first inference takes factor × the compute and weighs more on its
      // neighbours; its extra comes out of the init, so a lone cold request still takes the measured cold start + compute.
      const first = cold ? cpu.host.firstInference : undefined;
      const extra = first ? Math.min(initMs, (firstInferenceFactor(cpu.host, spec.model, spec.cut) - 1) * tailMs) : 0;
      const item = { req, invokeAt: now, initMs: null, tailMs: tailMs + extra };
      const burstScale = cold ? { burstScale: initBurstScaleOf(cpu.host, spec.model, spec.cut) } : {};
      cpu.add({ phase: cold ? 'init' : 'compute', work: cold ? initMs - extra : tailMs, phaseStart: now, item, ...burstScale, ...(first ? { weight: first.weight } : {}) }, now);
      scheduleHost();
      return;
    }
    const billedMs = initMs + tailMs;
    req.billedMs = billedMs;
    if (cold) queue.push(now + initMs, { kind: 'init-done', req });
    queue.push(now + billedMs, { kind: 'release', req });
    served(req, cold ? initMs : null, tailMs, billedMs);
  };

  /** The record of a served invocation that spent `initMs` (cold) and `computeMs`, billed `billedMs`, and waited `overheadMs` beyond it. */
  const served = (req: Req, initMs: number | null, computeMs: number, billedMs: number, overheadMs = invokeOverheadMs): void => {
    const e = req.entry;
    const spec = fleet.functions[req.fleetIndex]!.spec;
    const price = req.how === 'provisioned' ? PROVISIONED_PRICES.gbSecondDurationUSD : e.scenario.cloud.gbSecondUSD;
    finish(req, {
      target: 'cloud',
      cold: req.how === 'cold',
      status: 200,
      fallback: null,
      initMs,
      computeMs,
      roundTripMs: billedMs + overheadMs,
      deviceTailMs: null,
      costUSD: e.scenario.cloud.requestUSD + (USD_PER_MB_S(price, spec.memoryMB) * billedMs) / 1000,
    });
  };

  /** Frees a served request's environment at `now`: the fleet's and its model's view of it. */
  const release = (req: Req, now: number): void => {
    fleet.release(req.fleetIndex, now, req.how!, req.billedMs);
    req.entry.model_.view.busyEnded(req.viewPos, req.busyMark);
  };

  /** Host mode: (re)schedules the host's next phase end; earlier schedules go stale. */
  const scheduleHost = (): void => {
    hostVersion++;
    const next = cpu!.next();
    if (next) queue.push(next.at, { kind: 'host', version: hostVersion });
  };

  /** Host mode: at `now`, ends every phase that is done (init → compute; compute → release and record). */
  const hostStep = (now: number): void => {
    const host = cpu!;
    host.advance(now);
    // A phase is done when its work is spent, up to float rounding of the sharing rates.
    const done = host.jobs.filter((j) => j.work <= 1e-6);
    for (const job of done) {
      const it = job.item;
      if ('prewarm' in it) {
        host.remove(job);
        const p = it.prewarm;
        fleet.initDone(p.fleetIndex);
        fleet.release(p.fleetIndex, now, p.how, now - it.invokeAt);
        p.view.busyEnded(p.viewPos, p.busyMark);
        continue;
      }
      if (job.phase === 'init') {
        fleet.initDone(it.req.fleetIndex);
        it.initMs = now - job.phaseStart;
        job.phase = 'compute';
        job.work = it.tailMs;
        job.phaseStart = now;
        continue;
      }
      host.remove(job);
      const req = it.req;
      const billedMs = now - it.invokeAt;
      req.billedMs = billedMs;
      // The hand-off shares the host too: its overhead grows with the most environments busy while it ran.
      // On a host, its lone overhead for this tail (per cut where it has one) unless the timing gives one for all.
      const spec = fleet.functions[req.fleetIndex]!.spec;
      const baseMs = timing.invokeOverheadMs ?? invokeOverheadOf(host.host, spec.model, spec.cut);
      const overheadMs = host.overheadMs(baseMs, job.peak ?? 1);
      // The part of the hand-off that happens inside the invocation (decode, registry marks, encode) holds the environment.
      const heldMs = (host.host.handOffInHold ?? 0) * overheadMs;
      if (heldMs > 0) queue.push(now + heldMs, { kind: 'release', req });
      else release(req, now);
      served(req, it.initMs, now - job.phaseStart, billedMs, overheadMs);
    }
    scheduleHost();
  };

  let next = 0;
  const n = arrivals.length;
  while (next < n || queue.size > 0) {
    // Events due at an arrival's time go first: an environment freed at t serves a request arriving at t.
    if (next < n && arrivals[next]!.t < queue.peekTime()) {
      lastTime = Math.max(lastTime, arrivals[next]!.t);
      arrive(next++);
      if (input.onProgress && next % progressEvery === 0) input.onProgress(next, n);
      continue;
    }
    const now = queue.peekTime();
    const ev = queue.pop()!;
    lastTime = Math.max(lastTime, now);
    if (ev.kind === 'host') {
      if (ev.version === hostVersion) hostStep(now);
    } else if (ev.kind === 'prewarm-done') {
      const p = ev.prewarm;
      if (p.how === 'cold') fleet.initDone(p.fleetIndex);
      fleet.release(p.fleetIndex, now, p.how, p.billedMs);
      p.view.busyEnded(p.viewPos, p.busyMark);
    } else if (ev.kind === 'invoke') invoke(ev.req, now);
    else if (ev.kind === 'init-done') fleet.initDone(ev.req.fleetIndex);
    else release(ev.req, now);
  }
  input.onProgress?.(n, n);

  const spanS = lastTime / 1000;
  const functions: FunctionReport[] = fleet.functions.map((f) => ({
    model: f.spec.model,
    cut: f.spec.cut,
    memoryMB: f.spec.memoryMB,
    reservedConcurrency: f.spec.reservedConcurrency,
    provisionedConcurrency: f.spec.provisionedConcurrency,
    ...f.counters,
    provisionedUSD: f.spec.provisionedConcurrency * (f.spec.memoryMB / 1024) * spanS * PROVISIONED_PRICES.gbSecondConfiguredUSD,
  }));
  let viewReads = 0;
  for (const m of models.values()) viewReads += m.view.reads;
  return {
    summary: acc.summary(),
    functions,
    spanMs: lastTime,
    provisionedUSD: functions.reduce((s, f) => s + f.provisionedUSD, 0),
    plans: { computed, lookups },
    viewReads,
    prewarm: prewarmStats,
  };
}

function makeEntry(a: Arrival, models: Map<string, ModelState>, input: SimulationInput, planMsOf: (rtt: number) => number): Entry {
  const m = models.get(a.model);
  if (!m) {
    throw new ValidationError('model', `no tail function of model ${JSON.stringify(a.model)} is deployed (deployed models: ${[...models.keys()].join(', ') || 'none'})`);
  }
  const base = input.scenarioFor(a.model, a.class, a.network);
  const layers = base.model.layers;
  const L = layers.length;
  const headMs = new Float64Array(L + 1);
  const deviceTailMs = new Float64Array(L + 1);
  for (let l = 0; l < L; l++) headMs[l + 1] = headMs[l]! + layers[l]!.deviceMs;
  for (let l = L - 1; l >= 0; l--) deviceTailMs[l] = deviceTailMs[l + 1]! + layers[l]!.deviceMs;
  const upMs = new Float64Array(L + 1);
  const factor = DTYPE_FACTOR[base.encoding.dtype];
  const candidates = new Map(base.model.candidates.map((c) => [c.cut, c.crossingBytes]));
  for (let c = 0; c < L; c++) {
    const bytes = c === 0 ? base.model.inputBytes : (candidates.get(c) ?? 0) * factor;
    upMs[c] = transferMs(bytes, base.network.uplinkMbps);
  }
  const viewIndexOfCut = new Int32Array(L + 1).fill(-1);
  const functions: Scenario['cloud']['functions'] = {};
  const fleetEntries: Entry['fleetEntries'] = [];
  const reachMs = new Float64Array(m.cuts.length);
  const tailMs = new Float64Array(m.cuts.length);
  const livePlanMs = input.policy.kind === 'planner' ? planMsOf(base.network.rttMs) : 0;
  m.cuts.forEach((cut, k) => {
    if (cut >= L || (cut !== 0 && !candidates.has(cut)) || (cut === 0 && !candidates.has(0))) {
      throw new ValidationError(`functions.${a.model}#${cut}`, `cut ${cut} is not a candidate of ${a.model}`);
    }
    viewIndexOfCut[cut] = k;
    const spec = input.functions[m.fleetIndex[k]!]!;
    reachMs[k] = Math.max(livePlanMs, headMs[cut]!) + base.network.rttMs / 2 + upMs[cut]!;
    tailMs[k] = spec.tailMs;
    const limit = m.view.viewed[k]!.limit;
    const entry = { idleWarm: 0, inFlight: 0, limit, coldStartMs: spec.coldStartMs, name: spec.name ?? defaultFunctionName(a.model, cut) };
    functions[String(cut)] = entry;
    fleetEntries.push(entry);
  });
  const scenario: Scenario = { ...base, cloud: { ...base.cloud, functions } };
  const { network, device } = base;
  return {
    model: a.model,
    deviceClass: a.class,
    network: a.network,
    scenario,
    L,
    rttMs: network.rttMs,
    downMs: transferMs(base.model.outputBytes, network.downlinkMbps),
    planMs: planMsOf(network.rttMs),
    prices: {
      computeW: device.computeW,
      idleW: device.idleW,
      pUpW: radioPowerW(device.radio.alphaUp, network.uplinkMbps, device.radio.beta),
      pDownW: radioPowerW(device.radio.alphaDown, network.downlinkMbps, device.radio.beta),
      requestUSD: base.cloud.requestUSD,
      usdPerRemoteSecond: (base.cloud.gbSecondUSD * base.cloud.memoryMB) / 1024,
    },
    headMs,
    deviceTailMs,
    upMs,
    viewIndexOfCut,
    fleetEntries,
    reachMs,
    window: { atMs: new Float64Array(m.cuts.length), busyMs: tailMs },
    model_: m,
    cache: new Map(),
  };
}
