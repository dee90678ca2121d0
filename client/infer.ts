/**
 * One collaborative inference, end to end: plan → head on the device → send
 * the crossing tensors → tail in the cloud → output; and on 429, 5xx, a
 * timeout or a dropped connection, the tail on the device from the head's
 * output, so the caller always gets its answer.
 *
 * The device does not wait for its plan: it starts the model the moment it
 * asks (client/device-model.ts `runAhead`; every layer it runs is in the head
 * of every cut), so the plan's round trip overlaps its own compute. When the
 * whole model is done before the plan comes, that is the answer.
 * `waitForPlan` asks first and computes after, as before.
 */
import type * as tf from '@tensorflow/tfjs';
import { inferRoute } from '../core/catalog';
import { OffloadError } from '../core/errors';
import { decodeTensors, encodeTensors, type WireDType } from '../core/wire';
import { ApiError, type ApiFailure, type OffloadApi, type PlanRequestBody, type PlanResponse } from './api';
import type { AheadResult, DeviceModel, DeviceOutput } from './device-model';

export interface CollaborativeInferOptions {
  api: OffloadApi;
  device: DeviceModel;
  /** What the planner needs besides the model name. */
  request: Omit<PlanRequestBody, 'model'>;
  /** Overrides the planner's cut (debugging, tests); must be a candidate or L. */
  cut?: number;
  /** Batch-1 input of the model's shape; a seeded random one when omitted. */
  input?: tf.Tensor;
  /** Wait for the plan before running anything on the device. Default false: the head runs while the plan is in flight. */
  waitForPlan?: boolean;
  /**
   * When the whole model is done on the device before the plan's answer is read, wait for it after the answer (off
   * the clock: `measured` is as at the answer, `planMs` null) so that `plan` and `predicted` are there to report.
   * Default false: a caller that only wants the answer gets it at once.
   */
  settlePlan?: boolean;
}

/** Measured times of one inference, in ms. Cloud figures are null when no cloud call completed. */
export interface MeasuredTiming {
  /** POST /plan round trip; null when the device had its answer before the plan came (it was not waited for). */
  planMs: number | null;
  /** What of the total was spent waiting on the plan: all of `planMs` with `waitForPlan`; else what the plan took past the head at the cut (0 when the head got there later). */
  planWaitMs: number;
  deviceHeadMs: number;
  /** Send → answer, as the device saw it. */
  roundTripMs: number | null;
  /** Round trip less the tail's reported init and compute: upload + RTT + download + API overhead. */
  networkMs: number | null;
  cloudInitMs: number | null;
  cloudComputeMs: number | null;
  /** The tail (or the whole model) on the device after a fallback or for device-only. */
  deviceTailMs: number | null;
  totalMs: number;
}

export interface CollaborativeResult {
  model: string;
  cut: number;
  /** Where the tail actually ran. */
  target: 'device' | 'cloud';
  function: string | null;
  cold: boolean | null;
  instance: string | null;
  /** Set when the cloud failed and the device finished: why. */
  fallback: { reason: ApiFailure; message: string } | null;
  output: DeviceOutput;
  measured: MeasuredTiming;
  /** The plan's row for the cut used (the planner's prediction), when a plan was had. */
  predicted: PlanResponse['candidates'][number] | null;
  plan: PlanResponse | null;
}

/**
 * Per device model, the cuts its last plan could choose (deployed, payload within the limit): the crossing tensors
 * worth keeping while the next plan is in flight. Fewer kept cuts, fewer pieces: the model runs closer to its speed
 * in one piece (batch norm stays folded across the cuts not kept).
 */
const plannable = new WeakMap<DeviceModel, number[]>();

export async function collaborativeInfer(opts: CollaborativeInferOptions): Promise<CollaborativeResult> {
  const { api, device } = opts;
  const started = performance.now();
  const input = opts.input ?? device.randomInput();
  const ownsInput = opts.input === undefined;
  const L = device.layerCount;
  const dtype: WireDType = opts.request.dtype ?? 'float32';
  try {
    let plan: PlanResponse | null = null;
    let planFailure: ApiError | null = null;
    let planMs: number | null = null;
    const asked = api.plan({ model: device.name, ...opts.request }).then(
      (p) => {
        planMs = performance.now() - started;
        plan = p;
        plannable.set(device, p.candidates.filter((r) => r.cut !== p.L && !r.reasons.includes('no-function') && !r.reasons.includes('payload')).map((r) => r.cut));
      },
      (e: unknown) => {
        planMs = performance.now() - started;
        if (!(e instanceof ApiError) || !e.shouldFallBack) throw e;
        planFailure = e;
      },
    );
    // Whatever ends this call first, the plan's own failure is handled (awaited below, or no longer wanted).
    asked.catch(() => undefined);
    const checked = (cut: number): number => {
      if (cut !== L && !device.analysis.candidates.some((c) => c.cut === cut)) {
        const list = device.analysis.candidates.map((c) => c.cut).join(', ');
        // Bad input, not a failure of ours: an OffloadError, so the CLI prints it as one line without "unexpected error".
        throw new OffloadError('invalid-input', `cut ${cut} is not a candidate of ${device.name} (candidates: ${list}; ${L} is device-only)`, { field: 'cut' });
      }
      return cut;
    };
    // A cut the caller names is known now: the head goes to it (the plan still comes, for its prediction).
    if (opts.cut !== undefined) checked(opts.cut);
    /** The cut to use once the plan is in: the caller's, the plan's, or (no plan) the whole model. */
    const cutOf = (): number => (planFailure && opts.cut === undefined ? L : checked(opts.cut ?? plan?.cut ?? L));

    let ahead: AheadResult;
    let planWaitMs: number;
    if (opts.waitForPlan) {
      await asked;
      const cut = cutOf();
      const t0 = performance.now();
      const done = cut === L ? { cut, output: await device.runAll(input) } : { cut, crossing: await device.runHead(cut, input) };
      const ms = performance.now() - t0;
      ahead = { ...done, computedTo: cut, headMs: ms, readyMs: ms };
      planWaitMs = t0 - started;
    } else {
      const keep = plannable.get(device);
      ahead = await device.runAhead(input, opts.cut === undefined ? asked.then(cutOf) : Promise.resolve(opts.cut), keep ? { keep } : {});
      planWaitMs = ahead.readyMs - ahead.headMs;
      if (opts.cut !== undefined) {
        const w0 = performance.now();
        await asked;
        planWaitMs += performance.now() - w0;
      }
    }
    const cut = ahead.cut;
    const failure = planFailure as ApiError | null;
    const asking = { planMs: planMs as number | null, planWaitMs };
    const baseOf = () => {
      const planNow = plan as PlanResponse | null;
      return { model: device.name, cut, plan: planNow, predicted: planNow?.candidates.find((r) => r.cut === cut) ?? null };
    };

    // The whole model on the device: the plan said so, there was none, or the model was done before it came.
    if (ahead.output) {
      const measured = timing({ ...asking, deviceHeadMs: 0, deviceTailMs: ahead.headMs, totalMs: performance.now() - started });
      // A plan already answered but not yet read (the model's last chunk held the event loop) or still in flight:
      // awaited only for the report; a plan that fails now changes nothing about an answer already had.
      if (opts.settlePlan && plan === null && failure === null) await asked.catch(() => undefined);
      return {
        ...baseOf(),
        target: 'device',
        function: null,
        cold: null,
        instance: null,
        fallback: failure && opts.cut === undefined ? { reason: failure.failure, message: failure.message } : null,
        output: ahead.output,
        measured,
      };
    }
    const base = baseOf();
    const planNow = base.plan;

    const crossing = ahead.crossing;
    const deviceHeadMs = ahead.headMs;
    const route = opts.cut === undefined && planNow?.route ? planNow.route : inferRoute(encodeURIComponent(device.name), cut);
    const fn = opts.cut === undefined ? (planNow?.function ?? null) : null;
    try {
      const res = await api.infer(route, encodeTensors(crossing, dtype));
      let output: DeviceOutput;
      try {
        const [first] = decodeTensors(res.body);
        if (!first) throw new Error('no output tensor');
        output = { shape: first.shape, data: first.data };
      } catch (e) {
        throw new ApiError('server', `the tail's answer is not a valid tensor payload: ${e instanceof Error ? e.message : String(e)}`);
      }
      const cloud = (res.initMs ?? 0) + (res.computeMs ?? 0);
      return {
        ...base,
        target: 'cloud',
        // The function that answered; the plan's name when the tail does not say (with --cut there is no plan's name).
        function: res.functionName ?? fn,
        cold: res.cold,
        instance: res.instance,
        fallback: null,
        output,
        measured: timing({
          ...asking,
          deviceHeadMs,
          roundTripMs: res.roundTripMs,
          networkMs: Math.max(0, res.roundTripMs - cloud),
          cloudInitMs: res.initMs,
          cloudComputeMs: res.computeMs,
          totalMs: performance.now() - started,
        }),
      };
    } catch (e) {
      if (!(e instanceof ApiError) || !e.shouldFallBack) throw e;
      const t1 = performance.now();
      const output = await device.runTail(cut, crossing);
      const deviceTailMs = performance.now() - t1;
      return {
        ...base,
        target: 'device',
        function: fn,
        cold: null,
        instance: null,
        fallback: { reason: e.failure, message: e.message },
        output,
        measured: timing({ ...asking, deviceHeadMs, deviceTailMs, totalMs: performance.now() - started }),
      };
    }
  } finally {
    if (ownsInput) input.dispose();
  }
}

function timing(t: Partial<MeasuredTiming> & Pick<MeasuredTiming, 'planMs' | 'planWaitMs' | 'deviceHeadMs' | 'totalMs'>): MeasuredTiming {
  return {
    roundTripMs: null,
    networkMs: null,
    cloudInitMs: null,
    cloudComputeMs: null,
    deviceTailMs: null,
    ...t,
  };
}
