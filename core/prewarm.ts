/**
 * Planner prewarm: an opt-in side effect of a plan that gets the planner out
 * of the cold-fleet trap.
 *
 * The trap: with no provisioned concurrency, a tail whose cold start makes
 * offloading worse than the device is never chosen (docs/cost-model.md §5
 * folds the cold start in), so it never warms, so it is never chosen — even
 * in steady traffic where a warm tail would beat the device every time.
 *
 * Prewarm leaves the plan exactly as the spec makes it (cut, record,
 * prediction) and only decides whether to start one environment of a tail in
 * the background: the cut c' that would win were every tail warm (the same
 * scenario with `idleWarm ≥ 1` everywhere, so the same throttling and payload
 * checks, constraints judged on the warm figures) when
 *
 * - c' is a cloud cut other than the chosen one,
 * - c' improves the chosen cut's objective by at least `minGain` (relative),
 * - c' has no idle warm environment and `inFlight < limit` (a throttled
 *   function is left alone; a prewarm holds one slot of the reserved
 *   concurrency while its environment initialises, like any invocation),
 * - no prewarm of c' was sent within its dedupe window (about its predicted
 *   cold start, bounded), so a burst of plans starts one environment, not one each.
 *
 * Pure: no I/O, no clock (callers pass `now`).
 */
import { defaultFunctionName, plan, type PlanRecord } from './planner';
import type { Objective, Scenario } from './scenario';

/** Tuning of {@link decidePrewarm}. */
export interface PrewarmOptions {
  /** Least relative improvement of the objective, (chosen − warm) / chosen, that pays for a cold start nobody asked for. */
  minGain: number;
  /** The dedupe window is `dedupeFactor × coldStartMs` of the cut's tail, clamped to [dedupeMinMs, dedupeMaxMs]. */
  dedupeFactor: number;
  dedupeMinMs: number;
  dedupeMaxMs: number;
}

/**
 * Defaults: a 5 % gain; a window of twice the predicted cold start, at least
 * 2 s (predicted cold starts undershoot what a loaded host takes, and an
 * environment still initialising counts as busy, not idle) and at most 30 s.
 */
export const DEFAULT_PREWARM_OPTIONS: Readonly<PrewarmOptions> = Object.freeze({
  minGain: 0.05,
  dedupeFactor: 2,
  dedupeMinMs: 2_000,
  dedupeMaxMs: 30_000,
});

/** Why no prewarm was decided (counted by callers). */
export const PREWARM_SKIPS = ['warm-same', 'device-best', 'no-gain', 'warm-idle', 'throttled', 'recent'] as const;
export type PrewarmSkip = (typeof PREWARM_SKIPS)[number];

export type PrewarmDecision =
  | {
      prewarm: true;
      cut: number;
      /** The tail function to invoke (the fleet entry's `name`, else the default name). */
      function: string;
      /** The objective of the chosen cut, and of c' warm. */
      chosenValue: number;
      warmValue: number;
      /** (chosen − warm) / chosen. */
      gain: number;
      /** No other prewarm of this function for this long after this one, ms. */
      dedupeMs: number;
    }
  | { prewarm: false; reason: PrewarmSkip; cut?: number };

/** The scenario with every deployed tail warm (`idleWarm ≥ 1`); in-flight counts, limits and everything else unchanged. */
export function warmScenario(s: Scenario): Scenario {
  const functions: Scenario['cloud']['functions'] = {};
  for (const [cut, f] of Object.entries(s.cloud.functions)) functions[cut] = { ...f, idleWarm: Math.max(1, f.idleWarm) };
  return { ...s, cloud: { ...s.cloud, functions } };
}

function objectiveOf(p: PlanRecord['predicted'], objective: Objective): number {
  return objective === 'latency' ? p.latencyMs : objective === 'energy' ? p.energyJ : p.costUSD;
}

/** The dedupe window of a tail whose predicted cold start is `coldStartMs`. */
export function prewarmDedupeMs(coldStartMs: number, o: PrewarmOptions = DEFAULT_PREWARM_OPTIONS): number {
  return Math.min(o.dedupeMaxMs, Math.max(o.dedupeMinMs, o.dedupeFactor * coldStartMs));
}

/**
 * Whether the plan `record` of scenario `s` should prewarm a tail, and which.
 * `lastSentAt(fn)` is when a prewarm of that function was last sent (ms, same
 * clock as `now`), undefined if never.
 *
 * @example
 * const record = plan(s);
 * const d = decidePrewarm(s, record, (fn) => sent.get(fn), Date.now());
 * if (d.prewarm) invokeAsync(d.function);
 */
export function decidePrewarm(
  s: Scenario,
  record: PlanRecord,
  lastSentAt: (fn: string) => number | undefined,
  now: number,
  options: PrewarmOptions = DEFAULT_PREWARM_OPTIONS,
): PrewarmDecision {
  const warm = plan(warmScenario(s));
  if (warm.cut === record.cut) return { prewarm: false, reason: 'warm-same' };
  if (warm.target !== 'cloud' || !warm.feasible) return { prewarm: false, reason: 'device-best' };
  const cut = warm.cut;
  const chosenValue = objectiveOf(record.predicted, s.objective);
  const warmValue = objectiveOf(warm.predicted, s.objective);
  const gain = chosenValue > 0 ? (chosenValue - warmValue) / chosenValue : 0;
  if (!(warmValue < chosenValue) || !(gain >= options.minGain)) return { prewarm: false, reason: 'no-gain', cut };
  const fleet = s.cloud.functions[String(cut)]!; // the warm plan chose it: it is deployed
  if (fleet.idleWarm >= 1) return { prewarm: false, reason: 'warm-idle', cut };
  if (fleet.inFlight >= fleet.limit) return { prewarm: false, reason: 'throttled', cut };
  const fn = fleet.name ?? defaultFunctionName(s.model.name, cut);
  const row = record.candidates.find((r) => r.cut === cut)!;
  const dedupeMs = prewarmDedupeMs(row.coldStartMs, options);
  const last = lastSentAt(fn);
  if (last !== undefined && now - last < dedupeMs) return { prewarm: false, reason: 'recent', cut };
  return { prewarm: true, cut, function: fn, chosenValue, warmValue, gain, dedupeMs };
}

/**
 * When each function was last prewarmed, for {@link decidePrewarm}: one per
 * planner instance (or simulated planner). Entries older than the longest
 * window are dropped, so the map stays as small as the set of tails warmed lately.
 */
export class PrewarmDedupe {
  private readonly sent = new Map<string, number>();
  private readonly maxMs: number;

  constructor(options: Pick<PrewarmOptions, 'dedupeMaxMs'> = DEFAULT_PREWARM_OPTIONS) {
    this.maxMs = options.dedupeMaxMs;
  }

  /** When `fn` was last prewarmed, if within the longest window. */
  lastSentAt(fn: string): number | undefined {
    return this.sent.get(fn);
  }

  /** Records a prewarm of `fn` at `now` and forgets the entries past every window. */
  record(fn: string, now: number): void {
    for (const [name, at] of this.sent) if (now - at >= this.maxMs) this.sent.delete(name);
    this.sent.set(fn, now);
  }

  /** {@link decidePrewarm} with this memory; records the prewarm it decides. */
  decide(s: Scenario, record: PlanRecord, now: number, options: PrewarmOptions = DEFAULT_PREWARM_OPTIONS): PrewarmDecision {
    const d = decidePrewarm(s, record, (fn) => this.lastSentAt(fn), now, options);
    if (d.prewarm) this.record(d.function, now);
    return d;
  }
}

/**
 * The payload the planner sends a tail with Lambda's asynchronous Invoke
 * (`InvocationType: Event`): a direct-invoke event, not an API Gateway one,
 * so the tail tells it apart by this one key.
 */
export interface PrewarmEvent {
  offloadPrewarm: { model: string; cut: number; /** When the planner decided it, ms since the epoch. */ at: number };
}

/** The prewarm event for one tail. */
export function prewarmEvent(model: string, cut: number, at: number): PrewarmEvent {
  return { offloadPrewarm: { model, cut, at } };
}

/** True for a {@link PrewarmEvent} (an HTTP API event never has the key). */
export function isPrewarmEvent(event: unknown): event is PrewarmEvent {
  if (typeof event !== 'object' || event === null || !('offloadPrewarm' in event)) return false;
  const p = (event as { offloadPrewarm: unknown }).offloadPrewarm;
  return typeof p === 'object' && p !== null && typeof (p as { model?: unknown }).model === 'string' && typeof (p as { cut?: unknown }).cut === 'number';
}
