/**
 * The planner's picture of the fleet, with the staleness of the real one
 * (functions/commons/registry.ts and planner.ts), rebuilt from the simulated
 * fleet instead of DynamoDB:
 *
 * - **Registry.** An environment is busy from the moment an invocation
 *   reaches it (before its init, when that invocation started it:
 *   `initVisible`) until its compute ends, then idle. An idle environment
 *   counts as warm while its last write is within the planner's keep-alive
 *   assumption (`keepAliveMs`, FLEET_KEEPALIVE_MS); a reaped one leaves the
 *   view `reapVisibleMs` after the reap (0: it marks itself gone on SIGTERM),
 *   or when the keep-alive rule drops it, whichever comes first. Provisioned
 *   environments count as idle whenever they are not busy.
 * - **Cache.** The planner reuses one registry read for `cacheMs`
 *   (DEFAULT_FLEET_CACHE_MS, 100 ms): a snapshot is taken at the first plan
 *   after the previous one is that old, and every plan until the next one
 *   sees it.
 * - **Ledger.** Every cloud plan reserves its function: it takes one idle
 *   instance if one is left and counts as in flight, on top of the snapshot.
 *   It expires at the plan's predicted latency plus `reservationSlackMs`
 *   (RESERVATION_SLACK_MS, 500 ms). With `retireOnArrival`, a reservation
 *   whose request reached its tail is retired at the first registry read
 *   after that (the read shows the invocation, which then counts as busy
 *   there); without it, a request already visible as busy counts twice until
 *   its reservation expires.
 * - **At the arrival** (`atArrival`, default true). A plan asks whether an
 *   environment will be free when its request reaches the tail, not at the
 *   plan: the caller gives, per function, the request's predicted arrival A
 *   there and its predicted busy time B. A busy mark whose predicted end (its
 *   start plus the tail's predicted time, as the registry's `lastSeen` and the
 *   planner's tail estimate give it) is after the plan and at or before A
 *   counts as idle (one the cached read shows past its end stays busy); a
 *   reservation holds an environment over its own predicted tail interval
 *   [start, end) and counts only when that overlaps [A, A + B). Without it
 *   (the earlier rule) every busy mark and every reservation counts at the
 *   plan, so an environment is held from the plan until the request shows,
 *   on top of its tail: in bursts the planner then sees full environments
 *   that will be free by the time its request gets there.
 * - **Provisioned.** `idleWarm = max(idleWarm, provisioned − inFlight)`
 *   after the ledger, as functions/commons/scenario.ts does.
 *
 * One planner instance (one cache, one ledger) is modelled; a deployment
 * whose planner runs several environments has one ledger per environment,
 * so its plans see less of each other than here.
 */
import type { Fleet, FunctionState } from './fleet';

/** functions/commons/registry.ts DEFAULT_FLEET_CACHE_MS (core cannot import functions/; a test keeps them equal). */
export const PLANNER_FLEET_CACHE_MS = 100;
/** functions/commons/registry.ts DEFAULT_KEEPALIVE_MS: the planner's default keep-alive assumption in AWS. */
export const PLANNER_KEEPALIVE_MS = 5 * 60_000;
/** functions/commons/planner.ts RESERVATION_SLACK_MS. */
export const PLANNER_RESERVATION_SLACK_MS = 500;

export interface FleetViewOptions {
  cacheMs?: number;
  /** The planner's keep-alive rule; default {@link PLANNER_KEEPALIVE_MS}. */
  keepAliveMs?: number;
  /**
   * How long a reaped environment stays in the registry. Default 0: it marks
   * itself `gone` on SIGTERM in Lambda's Shutdown phase (and the local
   * emulator sends SIGTERM on reap), so the next read no longer counts it.
   * Infinity models a tail without that path (only the keep-alive rule drops it).
   */
  reapVisibleMs?: number;
  reservationSlackMs?: number;
  /** Count initialising environments as busy: a tail marks itself busy as soon as an invocation reaches it, before its init. Default true. */
  initVisible?: boolean;
  /** Retire a reservation at the first registry read that shows its request (the planner's ledger does). Default true. */
  retireOnArrival?: boolean;
  /** Judge the fleet at each request's predicted arrival at the tail (see the module comment). Default true, as functions/commons/planner.ts. */
  atArrival?: boolean;
}

/** Per function (view order): the request's predicted arrival at the tail (absolute ms) and how long it would keep an environment busy there. */
export interface ArrivalWindow {
  atMs: Float64Array;
  busyMs: Float64Array;
}

/** One plan's hold on a function, until it expires or (with `retireOnArrival`) its request shows. */
export interface Reservation {
  expiresAt: number;
  /** When its request reached the tail and was served; Infinity until then (and for a 429). */
  arrivedAt: number;
  /** Predicted tail interval of its request: arrival at the tail, and the end of its compute there. */
  startsAt: number;
  busyUntil: number;
}

/** What one plan sees of one function (docs/cost-model.md §2 fleet state). */
export interface ViewedFunction {
  idleWarm: number;
  inFlight: number;
  limit: number;
}

/** The planner's view of the functions of one model. */
export class FleetView {
  readonly cacheMs: number;
  readonly keepAliveMs: number;
  readonly reapVisibleMs: number;
  readonly reservationSlackMs: number;
  readonly initVisible: boolean;
  readonly retireOnArrival: boolean;
  readonly atArrival: boolean;
  private readonly fleet: Fleet;
  /** Per function: predicted ends of the invocations busy now, ascending (the registry's busy marks with the planner's tail estimate). */
  private readonly busyEnds: number[][];
  /** The same at the last registry read. */
  private readonly snapBusyEnds: number[][];
  private readonly fns: FunctionState[];
  private snapshotAt = -Infinity;
  private readonly snapIdle: Float64Array;
  private readonly snapBusy: Float64Array;
  private readonly ledgers: Reservation[][];
  /** The view of the last {@link read}, one entry per function (reused between calls). */
  readonly viewed: ViewedFunction[];
  /** Snapshots taken (registry reads). */
  reads = 0;

  /** @param functionIndexes the fleet indexes of this model's functions, in the order the view reports them */
  constructor(fleet: Fleet, functionIndexes: readonly number[], opts: FleetViewOptions = {}) {
    this.fleet = fleet;
    this.fns = functionIndexes.map((i) => fleet.functions[i]!);
    this.cacheMs = opts.cacheMs ?? PLANNER_FLEET_CACHE_MS;
    this.keepAliveMs = opts.keepAliveMs ?? PLANNER_KEEPALIVE_MS;
    this.reapVisibleMs = opts.reapVisibleMs ?? 0;
    this.reservationSlackMs = opts.reservationSlackMs ?? PLANNER_RESERVATION_SLACK_MS;
    this.initVisible = opts.initVisible ?? true;
    this.retireOnArrival = opts.retireOnArrival ?? true;
    this.atArrival = opts.atArrival ?? true;
    this.busyEnds = this.fns.map(() => []);
    this.snapBusyEnds = this.fns.map(() => []);
    this.snapIdle = new Float64Array(this.fns.length);
    this.snapBusy = new Float64Array(this.fns.length);
    this.ledgers = this.fns.map(() => []);
    if (Math.min(this.keepAliveMs, fleet.keepAliveMs + this.reapVisibleMs) > fleet.keepAliveMs) fleet.trackReaped = true;
    this.viewed = this.fns.map((f) => ({ idleWarm: 0, inFlight: 0, limit: f.spec.reservedConcurrency ?? fleet.unreservedPool }));
  }

  /**
   * How long after its last request an idle environment still counts as warm:
   * alive ones while within the planner's keep-alive; reaped ones (the fleet
   * reaps at its own keep-alive) until `reapVisibleMs` after the reap.
   */
  private visibleIdle(fn: FunctionState, now: number): number {
    this.fleet.reap(fn, now);
    // Idle times are sorted oldest first: count those with now − lastUsed ≤ keepAliveMs.
    const horizon = now - this.keepAliveMs;
    let lo = 0;
    let hi = fn.idleCount;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (fn.idleAt(mid) < horizon) lo = mid + 1;
      else hi = mid;
    }
    let count = fn.idleCount - lo;
    // Reaped environments still in the registry: reaped at lastUsed + fleet keep-alive, visible while
    // within both the planner's keep-alive and reapVisibleMs of the reap.
    const ghostWindow = Math.min(this.keepAliveMs, this.fleet.keepAliveMs + this.reapVisibleMs);
    if (ghostWindow > this.fleet.keepAliveMs) count += fn.reapedSince(now - ghostWindow);
    return count + fn.provisionedIdle;
  }

  /** Takes a registry snapshot now if the cached one is `cacheMs` old. */
  private refresh(now: number): void {
    if (now - this.snapshotAt < this.cacheMs) return;
    this.snapshotAt = now;
    this.reads++;
    for (let i = 0; i < this.fns.length; i++) {
      const fn = this.fns[i]!;
      this.snapIdle[i] = this.visibleIdle(fn, now);
      this.snapBusy[i] = fn.provisionedBusy + fn.onDemandBusy - (this.initVisible ? 0 : fn.initialising);
      if (this.atArrival) {
        const snap = this.snapBusyEnds[i]!;
        const live = this.busyEnds[i]!;
        snap.length = live.length;
        for (let k = 0; k < live.length; k++) snap[k] = live[k]!;
      }
    }
  }

  /** An invocation of function `i` (view order) reached its tail and keeps an environment busy until `endsAt` (what its registry busy mark and the tail estimate predict). */
  busyFrom(i: number, endsAt: number): void {
    insertSorted(this.busyEnds[i]!, endsAt);
  }

  /** The invocation {@link busyFrom} recorded with `endsAt` ended. */
  busyEnded(i: number, endsAt: number): void {
    removeSorted(this.busyEnds[i]!, endsAt);
  }

  /**
   * The fleet state a plan at `now` uses: cached snapshot, minus the ledger, plus provisioned. With
   * `arrival` (and `atArrival`), each function is judged at the request's predicted arrival there.
   * Returns {@link viewed}.
   */
  read(now: number, arrival?: ArrivalWindow): ViewedFunction[] {
    this.refresh(now);
    const window = this.atArrival ? arrival : undefined;
    for (let i = 0; i < this.fns.length; i++) {
      const held = this.held(i, now, window);
      let idle = this.snapIdle[i]!;
      let busy = this.snapBusy[i]!;
      if (window) {
        // Busy marks whose tail is predicted to end by the arrival free their environment for it.
        // (A mark the cached read shows past its predicted end stays busy, as the planner does not trust it.)
        const ends = this.snapBusyEnds[i]!;
        const freed = Math.min(busy, countAtMost(ends, window.atMs[i]!) - countAtMost(ends, now));
        idle += freed;
        busy -= freed;
      }
      const taken = Math.min(idle, held);
      idle -= taken;
      busy += held;
      const provisioned = this.fns[i]!.spec.provisionedConcurrency;
      const v = this.viewed[i]!;
      v.idleWarm = Math.max(idle, provisioned - busy);
      v.inFlight = busy;
    }
    return this.viewed;
  }

  /**
   * A cloud plan to function `i` (view order) at `now`, predicted to take `predictedMs` in all; its
   * request is predicted to reach the tail at `tail.startsAt` and keep it busy until `tail.busyUntil`
   * (without it, from the plan to its expiry).
   */
  reserve(i: number, now: number, predictedMs: number, tail?: { startsAt: number; busyUntil: number }): Reservation {
    const expiresAt = now + Math.max(0, predictedMs + this.reservationSlackMs);
    const r: Reservation = { expiresAt, arrivedAt: Infinity, startsAt: tail?.startsAt ?? now, busyUntil: tail?.busyUntil ?? expiresAt };
    this.ledgers[i]!.push(r);
    return r;
  }

  /**
   * Reservations of function `i` held at `now` (expired and retired ones are dropped); with a
   * window, only those whose predicted tail interval overlaps it.
   */
  private held(i: number, now: number, window: ArrivalWindow | undefined): number {
    const ledger = this.ledgers[i]!;
    const seen = this.retireOnArrival ? this.snapshotAt : -Infinity;
    let kept = 0;
    let held = 0;
    const from = window ? window.atMs[i]! : -Infinity;
    const to = window ? from + window.busyMs[i]! : Infinity;
    for (let k = 0; k < ledger.length; k++) {
      const r = ledger[k]!;
      if (r.expiresAt > now && !(r.arrivedAt <= seen)) {
        ledger[kept++] = r;
        if (r.startsAt < to && from < r.busyUntil) held++;
      }
    }
    ledger.length = kept;
    return held;
  }
}

/** Index of the first element > x in an ascending array. */
function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function countAtMost(a: readonly number[], x: number): number {
  return upperBound(a, x);
}

function insertSorted(a: number[], x: number): void {
  a.splice(upperBound(a, x), 0, x);
}

function removeSorted(a: number[], x: number): void {
  const k = upperBound(a, x) - 1;
  if (k < 0 || a[k] !== x) throw new RangeError(`no busy invocation ending at ${x}`);
  a.splice(k, 1);
}
