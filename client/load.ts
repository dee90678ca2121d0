/**
 * The load harness behind `offload load`: replays a workload (core/workload.ts)
 * against the offload HTTP API under one policy (core/policies.ts) and records
 * every request (core/load-record.ts).
 *
 * What is real and what is waited out:
 * - The tail compute is real: each request POSTs real crossing tensors of the
 *   right shape to `/infer/<model>/<cut>` and the answer is checked against
 *   the full model's output on the same input.
 * - A simulated device does not compute: it waits its device class's
 *   predicted head time (and, after a fallback, its predicted tail time), and
 *   waits out the RTT and the upload/download time of its network. The
 *   crossing tensors are computed once per (model, cut) on this machine before
 *   the clock starts (one seeded input per model) and the same bytes are sent
 *   by every request at that cut.
 * - With the `this-machine` device class and `computeHead`, the head (and a
 *   fallback tail, or the whole model for device-only) really runs here, on
 *   that request's clock; the network is still waited out.
 * - Policies that need the live fleet (`planner`) POST /plan for every request
 *   (that round trip plus the network RTT); the others decide on the device
 *   from one plan made before the clock starts (their choice does not depend
 *   on the fleet). The device starts its head as it asks, so the plan's round
 *   trip runs beside its compute (core/sim/simulator.ts `deviceStart`; the
 *   request waits only for what the plan takes past the head at its cut);
 *   `waitForPlan` makes it wait the plan out first, as before.
 */
import type * as tf from '@tensorflow/tfjs';
import { inferRoute } from '../core/catalog';
import { OffloadError } from '../core/errors';
import { measuredCostUSD, measuredEnergyJ, type EnergyPrices, type LoadRecord, type Measured } from '../core/load-record';
import type { CandidateRow } from '../core/planner';
import { choosePolicyCut, needsLivePlan, policyName, predictedOf, type Policy } from '../core/policies';
import { CLOUD_DEFAULTS, DEVICE_CLASSES, NETWORK_PRESETS, type NetworkPresetName } from '../core/presets';
import type { ModelProfile } from '../core/profiles';
import type { DType } from '../core/scenario';
import { THIS_MACHINE_POWER, thisMachineDevice } from '../core/this-machine';
import { decodeTensors, encodeTensors } from '../core/wire';
import { THIS_MACHINE, type Arrival } from '../core/workload';
import { ApiError, type OffloadApi, type PlanRequestBody, type PlanResponse } from './api';
import type { DeviceModel } from './device';
import type { AheadResult } from './device-model';

/** What the harness needs of the models: loading them and, for `this-machine`, their measured profiles. */
export interface LoadModels {
  load(model: string): Promise<DeviceModel>;
  profile(model: string): ModelProfile;
}

export interface LoadRunOptions {
  api: OffloadApi;
  arrivals: readonly Arrival[];
  policy: Policy;
  models: LoadModels;
  dtype?: DType;
  /** `this-machine` requests really compute the head (and any device tail) here. */
  computeHead?: boolean;
  /** Seed of each model's random input (default 7, as `offload infer`). */
  inputSeed?: number;
  /**
   * Keep this many planner environments warm for policies that plan every
   * request: that many concurrent plans that no cut can meet (so nothing is
   * reserved) before the clock starts and
   * every {@link PLANNER_PING_MS} during the run (what provisioned concurrency
   * on the planner function does in a deployment). Default 0: the planner
   * function's own cold starts count in the plan round trip.
   */
  keepPlannerWarm?: number;
  /**
   * Policies that plan every request: the device waits for the plan before it starts its head. Default false: it
   * starts at once and the plan's round trip overlaps its compute (the request pays only what the plan takes past
   * the head at its cut; device-only never waits for it).
   */
  waitForPlan?: boolean;
  /** Each request starts when the previous one has ended (and not before its arrival time): a closed loop of one device. */
  sequential?: boolean;
  /** Stops scheduling new arrivals; requests in flight are finished. */
  signal?: AbortSignal;
  /** Each record as soon as its request is done. */
  onRecord?: (record: LoadRecord) => void;
  /** Notes on what is being prepared. */
  onStep?: (message: string) => void;
}

export interface LoadRunResult {
  records: LoadRecord[];
  /** Arrivals not started because the run was stopped. */
  notStarted: number;
  /** True when the signal stopped the run. */
  stopped: boolean;
}

interface Prepared {
  device: DeviceModel;
  input: tf.Tensor;
  reference: Float32Array;
  /** Encoded crossing tensors by cut. */
  payloads: Map<number, Uint8Array>;
}

type PlanWithFleet = PlanResponse & { fleet?: Record<string, { idleWarm: number; inFlight: number; limit: number }> };

/** Period of the keep-warm pings of {@link LoadRunOptions.keepPlannerWarm}, ms. */
export const PLANNER_PING_MS = 1000;

/** Absolute tolerance of the output check for float32 crossings, relative to the largest reference value. */
export const OUTPUT_TOLERANCE = 1e-3;

/**
 * Runs one policy over the arrivals. Everything that burns CPU on this machine
 * (loading the models, the full-model reference outputs, the crossing
 * tensors) happens before the clock starts.
 *
 * @example
 * const { records } = await runLoad({ api, arrivals, policy: parsePolicy('planner'), models });
 * summarize(records);
 */
export async function runLoad(opts: LoadRunOptions): Promise<LoadRunResult> {
  const { api, arrivals, policy } = opts;
  const dtype = opts.dtype ?? 'float32';
  const prepared = new Map<string, Prepared>();
  const staticPlans = new Map<string, PlanWithFleet>();
  const bodies = new Map<string, Omit<PlanRequestBody, 'model'>>();
  const keyOf = (a: Arrival) => `${a.model}|${a.class}|${a.network}`;
  let pinger: NodeJS.Timeout | undefined;
  try {
    for (const a of arrivals) {
      if (!prepared.has(a.model)) {
        opts.onStep?.(`loading ${a.model} and computing its reference output`);
        const device = await opts.models.load(a.model);
        const input = device.randomInput(opts.inputSeed ?? 7);
        const reference = (await device.runAll(input)).data;
        prepared.set(a.model, { device, input, reference, payloads: new Map() });
      }
      const key = keyOf(a);
      if (staticPlans.has(key)) continue;
      const body: Omit<PlanRequestBody, 'model'> = {
        device: a.class === THIS_MACHINE ? { ...thisMachineDevice(opts.models.profile(a.model)) } : a.class,
        network: a.network as NetworkPresetName,
        dtype,
        objective: 'latency',
      };
      bodies.set(key, body);
      let plan: PlanWithFleet;
      try {
        // For a policy that plans every request this plan only lists the cuts: a latency cap no cut meets makes it
        // reserve nothing in the planner's ledger and start no tail (a planner with prewarm on would otherwise warm
        // one before the clock starts). The rows' figures do not depend on constraints.
        const probe = needsLivePlan(policy) ? { ...body, constraints: { maxLatencyMs: 0 } } : body;
        plan = (await api.plan({ model: a.model, ...probe })) as PlanWithFleet;
      } catch (e) {
        throw new OffloadError('unavailable', `cannot plan ${a.model} for ${a.class} on ${a.network} before the run: ${e instanceof Error ? e.message : String(e)}`);
      }
      staticPlans.set(key, plan);
      // Fails here, before the clock, for a cut:C that is not a candidate.
      const cuts = needsLivePlan(policy)
        ? plan.candidates.filter((r) => r.cut !== plan.L && !r.reasons.includes('no-function') && !r.reasons.includes('payload')).map((r) => r.cut)
        : [choosePolicyCut(policy, plan).cut];
      const p = prepared.get(a.model)!;
      for (const cut of cuts) {
        if (cut === plan.L || p.payloads.has(cut)) continue;
        opts.onStep?.(`computing the crossing tensors of ${a.model} at cut ${cut}`);
        p.payloads.set(cut, encodeTensors(await p.device.runHead(cut, p.input), dtype));
      }
    }
    // The plans above reserved instances in the planner's ledger; let those reservations lapse before the clock starts.
    const longest = Math.max(0, ...[...staticPlans.values()].map((p) => p.predicted.latencyMs));
    if (needsLivePlan(policy)) await sleep(Math.min(longest + 1000, 30_000), opts.signal);
    const warm = needsLivePlan(policy) ? (opts.keepPlannerWarm ?? 0) : 0;
    // A plan no cut can meet (maxLatencyMs 0) warms the planner's per-model caches without reserving anything in its ledger.
    const [first] = arrivals;
    const pingBody = first ? { model: first.model, ...bodies.get(keyOf(first))!, constraints: { maxLatencyMs: 0 } } : undefined;
    const ping = () => Promise.all(Array.from({ length: warm }, () => (pingBody ? api.plan(pingBody) : api.models()).catch(() => undefined)));
    if (warm > 0) {
      opts.onStep?.(`keeping ${warm} planner environment${warm > 1 ? 's' : ''} warm`);
      await ping();
      pinger = setInterval(() => void ping(), PLANNER_PING_MS);
    }

    const records: LoadRecord[] = [];
    const inFlight = new Set<Promise<void>>();
    const t0 = performance.now();
    let started = 0;
    for (const a of arrivals) {
      await sleep(t0 + a.t - performance.now(), opts.signal);
      if (opts.signal?.aborted) break;
      const i = started++;
      const job = runOne({
        ...opts,
        dtype,
        arrival: a,
        index: i,
        t0,
        prepared: prepared.get(a.model)!,
        staticPlan: staticPlans.get(keyOf(a))!,
        body: bodies.get(keyOf(a))!,
      }).then((r) => {
        records.push(r);
        opts.onRecord?.(r);
      });
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
      if (opts.sequential) await job;
    }
    await Promise.all(inFlight);
    records.sort((x, y) => x.i - y.i);
    return { records, notStarted: arrivals.length - started, stopped: opts.signal?.aborted ?? false };
  } finally {
    clearInterval(pinger);
    for (const p of prepared.values()) {
      p.input.dispose();
      p.device.dispose();
    }
  }
}

interface OneRequest extends LoadRunOptions {
  dtype: DType;
  arrival: Arrival;
  index: number;
  t0: number;
  prepared: Prepared;
  staticPlan: PlanWithFleet;
  body: Omit<PlanRequestBody, 'model'>;
}

/**
 * Power and prices of a device class on a network (docs/cost-model.md §3), with the default cloud prices
 * at `memoryMB` (the serving function's memory size when its answer says it; else CLOUD_DEFAULTS.memoryMB).
 */
export function energyPrices(deviceClass: string, network: NetworkPresetName, memoryMB: number = CLOUD_DEFAULTS.memoryMB): EnergyPrices {
  const power = deviceClass === THIS_MACHINE ? THIS_MACHINE_POWER : DEVICE_CLASSES[deviceClass];
  if (!power) throw new OffloadError('invalid-input', `unknown device class "${deviceClass}"`);
  const n = NETWORK_PRESETS[network];
  return {
    computeW: power.computeW,
    idleW: power.idleW,
    pUpW: (n.radio.alphaUp * n.uplinkMbps + n.radio.beta) / 1000,
    pDownW: (n.radio.alphaDown * n.downlinkMbps + n.radio.beta) / 1000,
    requestUSD: CLOUD_DEFAULTS.requestUSD,
    usdPerRemoteSecond: (CLOUD_DEFAULTS.gbSecondUSD * memoryMB) / 1024,
  };
}

async function runOne(o: OneRequest): Promise<LoadRecord> {
  const { api, arrival: a, prepared: p } = o;
  const net = NETWORK_PRESETS[a.network as NetworkPresetName];
  const prices = energyPrices(a.class, a.network as NetworkPresetName);
  const real = o.computeHead === true && a.class === THIS_MACHINE;
  const begin = performance.now();
  const base = {
    i: o.index,
    t: a.t,
    startMs: begin - o.t0,
    device: a.device,
    class: a.class,
    network: a.network,
    model: a.model,
    policy: policyName(o.policy),
  };

  let plan: PlanWithFleet = o.staticPlan;
  let planMs: number | null = null;
  let planFailure: ApiError | null = null;
  const live = needsLivePlan(o.policy);
  // The whole model on this device, as its class predicts it (the same in every plan: it does not depend on the fleet).
  const wholeMs = o.staticPlan.candidates.find((r) => r.cut === o.staticPlan.L)!.headMs;
  // The device starts its head as it asks: waited out, or run here segment by segment (DeviceModel.runAhead).
  const overlap = live && o.waitForPlan !== true;
  let refused: ApiError | null = null;
  let planIn = false;
  const asked = live
    ? (async () => {
        try {
          plan = (await api.plan({ model: a.model, ...o.body })) as PlanWithFleet;
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          if (!e.shouldFallBack) refused = e;
          else planFailure = e;
        }
        await sleep(net.rttMs);
        planMs = performance.now() - begin;
        planIn = true;
      })()
    : Promise.resolve();
  let ahead: AheadResult | undefined;
  if (overlap && real) {
    const cutOf = () => {
      if (refused) throw refused;
      return planFailure ? o.staticPlan.L : choosePolicyCut(o.policy, plan).cut;
    };
    try {
      ahead = await p.device.runAhead(p.input, asked.then(cutOf));
    } catch (e) {
      if (e === refused && refused) return errorRecord(base, o.staticPlan, refused, performance.now() - begin);
      throw e;
    }
    if (!planIn) {
      // The whole model was done before the plan came: the answer, the plan not waited for.
      const latencyMs = performance.now() - begin;
      const output = check(ahead.output!.data, p.reference, o.dtype);
      await asked;
      if (refused) return errorRecord(base, o.staticPlan, refused, latencyMs);
      return { ...wholeFirst(o, base, plan, planFailure, planMs!, latencyMs, prices), output };
    }
  } else if (overlap) {
    // The whole model done before the plan comes is the answer: the plan is not waited for.
    let wholeTimer: NodeJS.Timeout | undefined;
    const whole = new Promise<'whole'>((resolve) => (wholeTimer = setTimeout(() => resolve('whole'), wholeMs)));
    const first = await Promise.race([asked.then(() => 'plan' as const), whole]);
    clearTimeout(wholeTimer);
    if (first === 'whole') {
      const latencyMs = performance.now() - begin;
      await asked;
      if (refused) return errorRecord(base, o.staticPlan, refused, latencyMs);
      return wholeFirst(o, base, plan, planFailure, planMs!, latencyMs, prices);
    }
  } else await asked;
  if (refused) return errorRecord(base, o.staticPlan, refused, performance.now() - begin);
  const L = plan.L;
  // Without a plan the device keeps the whole model, as client/infer.ts does.
  const choice = planFailure ? choosePolicyCut({ kind: 'device-only' }, o.staticPlan) : choosePolicyCut(o.policy, plan);
  const row: CandidateRow = choice.row;
  const deviceOnly = plan.candidates.find((r) => r.cut === L)!;
  const predicted = predictedOf(choice.believed, choice.cut === L ? 0 : net.rttMs);
  const common = {
    ...base,
    cut: choice.cut,
    L,
    planCut: planFailure ? null : plan.cut,
    fleet: plan.fleet?.[String(choice.cut)] ?? null,
    predicted: planFailure ? null : predicted,
  };
  // Waiting for the plan: all of it, idle. Overlapped: from the head at the cut to the send, computing past the cut.
  const waited = (headMs: number, readyMs: number) => {
    if (!live) return { planWaitMs: null, idleMs: 0, pastCutMs: 0 };
    if (!overlap) return { planWaitMs: planMs, idleMs: planMs!, pastCutMs: 0 };
    return { planWaitMs: readyMs - headMs, idleMs: 0, pastCutMs: readyMs - headMs };
  };

  if (choice.cut === L) {
    const h0 = overlap ? begin : performance.now();
    let output: LoadRecord['output'] = 'simulated';
    if (ahead?.output) output = check(ahead.output.data, p.reference, o.dtype);
    else if (real) output = check((await p.device.runAll(p.input)).data, p.reference, o.dtype);
    else await sleep(h0 + deviceOnly.headMs - performance.now());
    const headMs = ahead ? ahead.headMs : performance.now() - h0;
    const w = waited(headMs, headMs);
    const measured = finish({ planMs, planWaitMs: w.planWaitMs, headMs, upMs: 0, roundTripMs: null, initMs: null, computeMs: null, downMs: 0, deviceTailMs: null }, begin, prices, {
      rttMs: 0,
      uploadMs: 0,
      cloudWaitMs: w.idleMs,
      pastCutMs: 0,
      served: null,
    });
    return { ...common, target: 'device', cold: false, status: null, fallback: planFailure ? fallbackOf(planFailure) : null, measured, output, error: null };
  }

  // Head: waited out from the device class's prediction (from the request's start when it ran beside the plan), or
  // computed here for this-machine.
  const h0 = overlap ? begin : performance.now();
  let payload = p.payloads.get(choice.cut);
  let crossing: Awaited<ReturnType<DeviceModel['runHead']>> | undefined;
  if (ahead?.crossing) {
    crossing = ahead.crossing;
    payload = encodeTensors(crossing, o.dtype);
  } else if (real) {
    crossing = await p.device.runHead(choice.cut, p.input);
    payload = encodeTensors(crossing, o.dtype);
  } else await sleep(h0 + row.headMs - performance.now());
  const readyMs = ahead ? ahead.readyMs : performance.now() - h0;
  // Overlapped and past the cut when the plan came: the head reached the cut then (its predicted time when waited out).
  const headMs = ahead ? ahead.headMs : overlap && planMs! > row.headMs ? row.headMs : readyMs;
  const w = waited(headMs, readyMs);
  if (!payload) throw new OffloadError('internal', `no crossing tensors prepared for ${a.model} cut ${choice.cut}`);

  // Half the RTT and the upload before the request reaches the tail, the other half on the way back.
  const u0 = performance.now();
  await sleep(net.rttMs / 2 + row.upMs);
  let upMs = performance.now() - u0;
  const route = plan.route && choice.cut === plan.cut ? plan.route : inferRoute(encodeURIComponent(a.model), choice.cut);
  const r0 = performance.now();
  try {
    const res = await api.infer(route, payload);
    const roundTripMs = res.roundTripMs;
    const b0 = performance.now();
    await sleep(net.rttMs / 2);
    upMs += performance.now() - b0;
    const d0 = performance.now();
    await sleep(row.downMs);
    const downMs = performance.now() - d0;
    let output: LoadRecord['output'];
    try {
      const [first] = decodeTensors(res.body);
      output = first ? check(first.data, p.reference, o.dtype) : 'mismatch';
    } catch {
      output = 'mismatch';
    }
    // Billed at the memory size of the function that served it (older tails do not say: the default size).
    const served = res.memoryMB ? energyPrices(a.class, a.network as NetworkPresetName, res.memoryMB) : prices;
    const measured = finish(
      { planMs, planWaitMs: w.planWaitMs, headMs, upMs, roundTripMs, initMs: res.initMs, computeMs: res.computeMs, downMs, deviceTailMs: null },
      begin,
      served,
      { rttMs: net.rttMs, uploadMs: row.upMs, cloudWaitMs: roundTripMs + w.idleMs, pastCutMs: w.pastCutMs, served: { initMs: res.initMs, computeMs: res.computeMs } },
    );
    return { ...common, target: 'cloud', cold: res.cold, status: 200, fallback: null, measured, output, error: null };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const roundTripMs = performance.now() - r0;
    if (!e.shouldFallBack) return errorRecord(base, plan, e, performance.now() - begin, { cut: choice.cut, predicted: common.predicted, planMs });
    const b0 = performance.now();
    await sleep(net.rttMs / 2);
    upMs += performance.now() - b0;
    const t1 = performance.now();
    let output: LoadRecord['output'] = 'simulated';
    if (real && crossing) output = check((await p.device.runTail(choice.cut, crossing)).data, p.reference, o.dtype);
    else await sleep(Math.max(0, deviceOnly.headMs - row.headMs));
    const deviceTailMs = performance.now() - t1;
    const measured = finish({ planMs, planWaitMs: w.planWaitMs, headMs, upMs, roundTripMs, initMs: null, computeMs: null, downMs: 0, deviceTailMs }, begin, prices, {
      rttMs: net.rttMs,
      uploadMs: row.upMs,
      cloudWaitMs: roundTripMs + w.idleMs,
      pastCutMs: w.pastCutMs,
      served: null,
    });
    return { ...common, target: 'device', cold: false, status: e.status, fallback: fallbackOf(e), measured, output, error: null };
  }
}

/**
 * The record of a request whose device finished the whole model before its plan came (overlapped): nothing was sent
 * and the plan was not waited for, whatever it said; `latencyMs` is when the model was done.
 */
function wholeFirst(
  o: OneRequest,
  base: Pick<LoadRecord, 'i' | 't' | 'startMs' | 'device' | 'class' | 'network' | 'model' | 'policy'>,
  plan: PlanWithFleet,
  planFailure: ApiError | null,
  planMs: number,
  latencyMs: number,
  prices: EnergyPrices,
): LoadRecord {
  const L = o.staticPlan.L;
  const choice = planFailure ? null : choosePolicyCut(o.policy, plan);
  const net = NETWORK_PRESETS[o.arrival.network as NetworkPresetName];
  const measured = finish({ planMs, planWaitMs: 0, headMs: latencyMs, upMs: 0, roundTripMs: null, initMs: null, computeMs: null, downMs: 0, deviceTailMs: null }, 0, prices, {
    rttMs: 0,
    uploadMs: 0,
    cloudWaitMs: 0,
    pastCutMs: 0,
    served: null,
    latencyMs,
  });
  return {
    ...base,
    cut: L,
    L,
    planCut: planFailure ? null : plan.cut,
    fleet: null,
    predicted: choice ? predictedOf(choice.believed, choice.cut === L ? 0 : net.rttMs) : null,
    target: 'device',
    cold: false,
    status: null,
    fallback: null,
    measured,
    output: 'simulated',
    error: null,
  };
}

/**
 * The measured figures of a request that ends now (or at `x.latencyMs`). Energy: compute power over the head, the
 * layers past the cut run while the plan was in flight (`pastCutMs`) and any device tail; idle power over the RTT
 * and `cloudWaitMs` (the wait for the cloud, and for the plan when the device waited for it).
 */
function finish(
  parts: Omit<Measured, 'latencyMs' | 'energyJ' | 'costUSD'>,
  begin: number,
  prices: EnergyPrices,
  x: { rttMs: number; uploadMs: number; cloudWaitMs: number; pastCutMs: number; served: { initMs: number | null; computeMs: number | null } | null; latencyMs?: number },
): Measured {
  return {
    ...parts,
    latencyMs: x.latencyMs ?? performance.now() - begin,
    energyJ: measuredEnergyJ(prices, {
      headMs: parts.headMs + x.pastCutMs,
      deviceTailMs: parts.deviceTailMs ?? 0,
      rttMs: x.rttMs,
      upMs: x.uploadMs,
      cloudWaitMs: x.cloudWaitMs,
      downMs: parts.downMs,
    }),
    costUSD: measuredCostUSD(prices, x.served),
  };
}

function fallbackOf(e: ApiError): LoadRecord['fallback'] {
  return e.failure === 'client' ? null : e.failure;
}

function errorRecord(
  base: Pick<LoadRecord, 'i' | 't' | 'startMs' | 'device' | 'class' | 'network' | 'model' | 'policy'>,
  plan: PlanWithFleet,
  e: ApiError,
  latencyMs: number,
  at: { cut: number; predicted: LoadRecord['predicted']; planMs: number | null } = { cut: plan.L, predicted: null, planMs: null },
): LoadRecord {
  return {
    ...base,
    cut: at.cut,
    L: plan.L,
    planCut: null,
    target: 'device',
    cold: false,
    status: e.status,
    fallback: null,
    fleet: null,
    predicted: at.predicted,
    measured: { planMs: at.planMs, planWaitMs: null, headMs: 0, upMs: 0, roundTripMs: null, initMs: null, computeMs: null, downMs: 0, deviceTailMs: null, latencyMs, energyJ: 0, costUSD: 0 },
    output: 'none',
    error: e.message,
  };
}

/**
 * `match` when the output has the reference's top class and, for float32
 * crossings, every value within {@link OUTPUT_TOLERANCE} × the largest
 * reference magnitude (quantised crossings are held to the top class only).
 */
export function check(output: Float32Array, reference: Float32Array, dtype: DType): 'match' | 'mismatch' {
  if (output.length !== reference.length) return 'mismatch';
  let top = 0;
  let refTop = 0;
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < output.length; i++) {
    if (output[i]! > output[top]!) top = i;
    if (reference[i]! > reference[refTop]!) refTop = i;
    scale = Math.max(scale, Math.abs(reference[i]!));
    diff = Math.max(diff, Math.abs(output[i]! - reference[i]!));
  }
  if (top !== refTop) return 'mismatch';
  return dtype !== 'float32' || diff <= OUTPUT_TOLERANCE * Math.max(scale, 1e-6) ? 'match' : 'mismatch';
}

/** Resolves after `ms` (at once for ms ≤ 0), or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!(ms > 0) || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
