/**
 * Planner prewarm: a side effect of a plan that gets the planner out of the
 * cold-fleet trap. On by default in every deployment (`planner.prewarm.enabled:
 * false` turns it off): it starts an environment only for traffic that recurs.
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
 * - the traffic recurs: this planner instance made at least one earlier plan
 *   within `recurrenceMs` (the keep-alive it assumes, 5 min by default) whose
 *   request would also have gone to c' had the fleet been warm. A request that
 *   comes alone (sparse traffic, gaps longer than the keep-alive) starts
 *   nothing: the environment would be reaped before anyone used it,
 * - no prewarm of c' was sent within its dedupe window (about its predicted
 *   cold start, bounded), so a burst of plans starts one environment, not one each.
 *
 * The first two conditions and the gain depend on the scenario only
 * ({@link prewarmCandidate}); the last two on this planner's history
 * ({@link admitPrewarm}), kept by {@link PrewarmMemory}: one timestamp per
 * tail function for each, so its memory is bounded by the deployed tails.
 *
 * Pure: no I/O, no clock (callers pass `now`).
 */
import { defaultFunctionName, plan, type PlanRecord } from './planner';
import type { Objective, Scenario } from './scenario';

// what the tail itself reads of it lives apart, free of the planner and zod (./tail-api.ts)
export { isPrewarmEvent, prewarmEvent, type PrewarmEvent } from './tail-api';

/** Tuning of {@link decidePrewarm}. */
export interface PrewarmOptions {
  /** Least relative improvement of the objective, (chosen − warm) / chosen, that pays for a cold start nobody asked for. */
  minGain: number;
  /** The dedupe window is `dedupeFactor × coldStartMs` of the cut's tail, clamped to [dedupeMinMs, dedupeMaxMs]. */
  dedupeFactor: number;
  dedupeMinMs: number;
  dedupeMaxMs: number;
  /**
   * A prewarm needs an earlier plan for the same tail at most this long ago, ms: the keep-alive the planner
   * assumes (`FLEET_KEEPALIVE_MS`), so a prewarm is sent only when requests for that tail come often enough
   * for a warm environment to still be there when the next one does.
   */
  recurrenceMs: number;
}

/**
 * Defaults: a 5 % gain; a window of twice the predicted cold start, at least
 * 2 s (predicted cold starts undershoot what a loaded host takes, and an
 * environment still initialising counts as busy, not idle) and at most 30 s;
 * recurrence within the planner's default keep-alive assumption, 5 min
 * (functions/commons/registry.ts DEFAULT_KEEPALIVE_MS; core cannot import it, a test keeps them equal).
 */
export const DEFAULT_PREWARM_OPTIONS: Readonly<PrewarmOptions> = Object.freeze({
  minGain: 0.05,
  dedupeFactor: 2,
  dedupeMinMs: 2_000,
  dedupeMaxMs: 30_000,
  recurrenceMs: 5 * 60_000,
});

/** Why no prewarm was decided (counted by callers). */
export const PREWARM_SKIPS = ['warm-same', 'device-best', 'no-gain', 'warm-idle', 'throttled', 'no-recurrence', 'recent'] as const;
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

/** What {@link admitPrewarm} needs to know of a planner's past plans (same clock as `now`). */
export interface PrewarmHistory {
  /** When a prewarm of `fn` was last sent, undefined if never (or forgotten). */
  lastSentAt(fn: string): number | undefined;
  /** When a plan last had `fn` as its warm choice (the request would have gone there warm), undefined if never (or forgotten). */
  lastDemandAt(fn: string): number | undefined;
}

/**
 * The part of the decision that depends on the scenario only: the decision
 * before the history checks, and the tail function this request would use
 * were the fleet warm (`demand`; null when it would stay on the device), which
 * the caller remembers for the next plans' recurrence check.
 */
export interface PrewarmCandidate {
  decision: PrewarmDecision;
  demand: string | null;
}

/** The scenario-only part of {@link decidePrewarm} (the simulator caches it per fleet state). */
export function prewarmCandidate(s: Scenario, record: PlanRecord, options: PrewarmOptions = DEFAULT_PREWARM_OPTIONS): PrewarmCandidate {
  const warm = plan(warmScenario(s));
  const warmCloud = warm.target === 'cloud' && warm.feasible;
  const fleet = warmCloud ? s.cloud.functions[String(warm.cut)]! : undefined; // the warm plan chose it: it is deployed
  const demand = fleet ? (fleet.name ?? defaultFunctionName(s.model.name, warm.cut)) : null;
  const skip = (reason: PrewarmSkip, cut?: number): PrewarmCandidate => ({ decision: { prewarm: false, reason, ...(cut === undefined ? {} : { cut }) }, demand });
  if (warm.cut === record.cut) return skip('warm-same');
  if (!fleet || !demand) return skip('device-best');
  const cut = warm.cut;
  const chosenValue = objectiveOf(record.predicted, s.objective);
  const warmValue = objectiveOf(warm.predicted, s.objective);
  const gain = chosenValue > 0 ? (chosenValue - warmValue) / chosenValue : 0;
  if (!(warmValue < chosenValue) || !(gain >= options.minGain)) return skip('no-gain', cut);
  if (fleet.idleWarm >= 1) return skip('warm-idle', cut);
  if (fleet.inFlight >= fleet.limit) return skip('throttled', cut);
  const row = record.candidates.find((r) => r.cut === cut)!;
  const dedupeMs = prewarmDedupeMs(row.coldStartMs, options);
  return { decision: { prewarm: true, cut, function: demand, chosenValue, warmValue, gain, dedupeMs }, demand };
}

/**
 * The history part of {@link decidePrewarm}: a candidate prewarm goes out only
 * when an earlier plan wanted the same tail within `recurrenceMs`, and none was
 * sent within its dedupe window. `history` must not include this plan yet.
 */
export function admitPrewarm(c: PrewarmCandidate, history: PrewarmHistory, now: number, options: PrewarmOptions = DEFAULT_PREWARM_OPTIONS): PrewarmDecision {
  const d = c.decision;
  if (!d.prewarm) return d;
  const demandAt = history.lastDemandAt(d.function);
  if (demandAt === undefined || now - demandAt > options.recurrenceMs) return { prewarm: false, reason: 'no-recurrence', cut: d.cut };
  const sentAt = history.lastSentAt(d.function);
  if (sentAt !== undefined && now - sentAt < d.dedupeMs) return { prewarm: false, reason: 'recent', cut: d.cut };
  return d;
}

/**
 * Whether the plan `record` of scenario `s` should prewarm a tail, and which,
 * given this planner's earlier plans and prewarms (`history`, not yet holding this plan).
 *
 * @example
 * const record = plan(s);
 * const d = decidePrewarm(s, record, memory, Date.now());
 * if (d.prewarm) invokeAsync(d.function);
 */
export function decidePrewarm(
  s: Scenario,
  record: PlanRecord,
  history: PrewarmHistory,
  now: number,
  options: PrewarmOptions = DEFAULT_PREWARM_OPTIONS,
): PrewarmDecision {
  return admitPrewarm(prewarmCandidate(s, record, options), history, now, options);
}

/**
 * A planner instance's prewarm history (or a simulated planner's): per tail
 * function, when a plan last wanted it warm and when it was last prewarmed.
 * A key is added only when a function is first met or was forgotten; each
 * addition first forgets every entry that can no longer count (older than
 * the recurrence window, or the longest dedupe window), so the memory holds
 * at most the functions wanted within the last `recurrenceMs` (and prewarmed
 * within the last `dedupeMaxMs`), plus the one added, and a plan for a function
 * already held costs two map lookups.
 */
export class PrewarmMemory implements PrewarmHistory {
  private readonly sent = new Map<string, number>();
  private readonly demand = new Map<string, number>();

  lastSentAt(fn: string): number | undefined {
    return this.sent.get(fn);
  }

  lastDemandAt(fn: string): number | undefined {
    return this.demand.get(fn);
  }

  /** How many timestamps are held (both kinds). */
  get size(): number {
    return this.sent.size + this.demand.size;
  }

  /** {@link admitPrewarm} on this memory, then remembers this plan's demand and the prewarm it decides. */
  admit(c: PrewarmCandidate, now: number, options: PrewarmOptions = DEFAULT_PREWARM_OPTIONS): PrewarmDecision {
    const d = admitPrewarm(c, this, now, options);
    const grows = (c.demand !== null && !this.demand.has(c.demand)) || (d.prewarm && !this.sent.has(d.function));
    if (grows) {
      forgetOlder(this.demand, now, options.recurrenceMs);
      forgetOlder(this.sent, now, options.dedupeMaxMs);
    }
    if (c.demand !== null) this.demand.set(c.demand, now);
    if (d.prewarm) this.sent.set(d.function, now);
    return d;
  }

  /** {@link decidePrewarm} with this memory; remembers this plan and the prewarm it decides. */
  decide(s: Scenario, record: PlanRecord, now: number, options: PrewarmOptions = DEFAULT_PREWARM_OPTIONS): PrewarmDecision {
    return this.admit(prewarmCandidate(s, record, options), now, options);
  }
}

function forgetOlder(map: Map<string, number>, now: number, keepMs: number): void {
  for (const [k, at] of map) if (now - at > keepMs) map.delete(k);
}

