/**
 * The simulated Lambda fleet: per tail function, execution environments with
 * cold starts, warm reuse, keep-alive and reaping; reserved concurrency, the
 * account's unreserved pool and the per-function scaling rate, each of which
 * refuses an invocation with HTTP 429; provisioned concurrency, whose
 * environments are initialised ahead and never reaped.
 *
 * Pure bookkeeping driven by the simulator's clock: every call carries `now`,
 * and calls come in time order. Reaping is lazy (an idle environment whose
 * keep-alive ran out is dropped the next time its function is touched at or
 * after that time): nothing observable happens between touches, so the state
 * at every touch is the state an eager reaper would have produced.
 *
 * The rules and where they come from (docs/reference-facts.md, "AWS Lambda"
 * and "Lambda lifecycle details"):
 * - An environment serves one request at a time. A request takes a
 *   provisioned environment if one is idle, else the most recently used idle
 *   on-demand one (as the local emulator and Lambda do), else starts a new
 *   one (a cold start: the environment is busy for `coldStartMs` before it
 *   computes).
 * - Concurrency counts busy environments (initialising ones included). A
 *   function with reserved concurrency R throttles at R; functions without
 *   share what reserved ones leave of the account quota (1,000 per Region by
 *   default). Lambda requires 100 to stay unreserved (checked by
 *   {@link checkAccount}, as cdk/config.ts does for a deployment).
 * - Scaling: each function can add 1,000 environments per 10 s; modelled as a
 *   token bucket (capacity 1,000, refilled at 100/s) spent by cold starts. A
 *   cold start with no token left is throttled.
 * - Idle on-demand environments are reaped `keepAliveMs` after their last
 *   request (10 min by default: mikhail.io 2019, and the local emulator's
 *   default). Lambda also recycles environments every few hours under load;
 *   that is not modelled.
 */
import { ValidationError } from '../errors';

/** Lambda's default account concurrency per Region (reference facts). */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;
/** Reserved concurrency must leave this much of the account quota unreserved (Lambda rule; cdk/config.ts UNRESERVED_MINIMUM). */
export const UNRESERVED_MINIMUM = 100;
/** Idle environments are reaped after this long (the local emulator's default; ~10 min measured in 2019). */
export const DEFAULT_FLEET_KEEPALIVE_MS = 10 * 60_000;
/** Lambda scales a function by at most 1,000 environments per 10 s. */
export const DEFAULT_SCALING = Object.freeze({ burst: 1000, perSecond: 100 });

/** One deployed tail function as the fleet sees it. */
export interface TailFunctionSpec {
  model: string;
  cut: number;
  /** The function's physical name; default `offload-<model>-<cut>` (core/planner.ts defaultFunctionName, as `cdk deploy` names it). */
  name?: string;
  memoryMB: number;
  /** Caps concurrent executions; null draws on the account's unreserved pool. */
  reservedConcurrency: number | null;
  /** Environments initialised ahead on the alias; never cold, never reaped. At most the reserved concurrency. */
  provisionedConcurrency: number;
  /** What a cold call costs the client over a warm one (docs/cost-model.md §3 definition), ms. */
  coldStartMs: number;
  /** Warm compute time of the tail, ms. */
  tailMs: number;
}

export interface FleetOptions {
  accountConcurrency?: number;
  keepAliveMs?: number;
  scaling?: { burst: number; perSecond: number };
}

/** How an invocation was served. */
export type Acquired = 'provisioned' | 'warm' | 'cold' | 'throttled-reserved' | 'throttled-account' | 'throttled-scaling';

/** Counters of one function over a run. */
export interface FunctionCounters {
  invocations: number;
  provisioned: number;
  warm: number;
  cold: number;
  throttledReserved: number;
  throttledAccount: number;
  throttledScaling: number;
  reaped: number;
  peakConcurrency: number;
  /** Σ billed ms of on-demand executions (init included: billed since Aug 2025). */
  onDemandMs: number;
  /** Σ billed ms of executions on provisioned environments. */
  provisionedMs: number;
}

/** Mutable state of one function. Exposed read-only to the fleet view. */
export class FunctionState {
  readonly spec: TailFunctionSpec;
  readonly index: number;
  /** lastUsed times of idle on-demand environments, oldest first (a deque: reuse at the end, reap at the start). */
  idle: Float64Array = new Float64Array(16);
  idleStart = 0;
  idleEnd = 0;
  provisionedIdle: number;
  provisionedBusy = 0;
  /** Busy on-demand environments, initialising ones included. */
  onDemandBusy = 0;
  /** On-demand environments still in their init phase (part of onDemandBusy). */
  initialising = 0;
  tokens: number;
  tokensAt = 0;
  readonly counters: FunctionCounters = {
    invocations: 0,
    provisioned: 0,
    warm: 0,
    cold: 0,
    throttledReserved: 0,
    throttledAccount: 0,
    throttledScaling: 0,
    reaped: 0,
    peakConcurrency: 0,
    onDemandMs: 0,
    provisionedMs: 0,
  };

  constructor(spec: TailFunctionSpec, index: number, burst: number) {
    this.spec = spec;
    this.index = index;
    this.provisionedIdle = spec.provisionedConcurrency;
    this.tokens = burst;
  }

  /**
   * lastUsed of reaped environments, oldest first, kept only while a fleet
   * view may still count them (see {@link Fleet.trackReaped}).
   */
  private reaped: number[] = [];
  private reapedStart = 0;

  /** Records reaped environments (their lastUsed times, ascending). */
  noteReaped(from: number, to: number): void {
    for (let i = from; i < to; i++) this.reaped.push(this.idle[i]!);
  }

  /** Reaped environments whose lastUsed is ≥ `since`; forgets older ones (`since` must not decrease between calls). */
  reapedSince(since: number): number {
    const r = this.reaped;
    let start = this.reapedStart;
    while (start < r.length && r[start]! < since) start++;
    if (start > 1024 && start * 2 > r.length) {
      this.reaped = r.slice(start);
      start = 0;
    }
    this.reapedStart = start;
    return this.reaped.length - start;
  }

  get idleCount(): number {
    return this.idleEnd - this.idleStart;
  }

  /** Concurrent executions now. */
  get concurrency(): number {
    return this.provisionedBusy + this.onDemandBusy;
  }

  /** lastUsed of the i-th oldest idle on-demand environment. */
  idleAt(i: number): number {
    return this.idle[this.idleStart + i]!;
  }

  pushIdle(lastUsed: number): void {
    if (this.idleEnd === this.idle.length) {
      const live = this.idleEnd - this.idleStart;
      if (this.idleStart > 0 && live < this.idle.length / 2) {
        this.idle.copyWithin(0, this.idleStart, this.idleEnd);
      } else {
        const grown = new Float64Array(this.idle.length * 2);
        grown.set(this.idle.subarray(this.idleStart, this.idleEnd));
        this.idle = grown;
      }
      this.idleStart = 0;
      this.idleEnd = live;
    }
    this.idle[this.idleEnd++] = lastUsed;
  }
}

/**
 * Checks the account rules a deployment must meet: provisioned ≤ reserved per
 * function, and the reserved total leaves {@link UNRESERVED_MINIMUM} of the
 * account unreserved. Throws a ValidationError naming the function.
 */
export function checkAccount(specs: readonly TailFunctionSpec[], accountConcurrency: number): void {
  let reserved = 0;
  for (const s of specs) {
    const name = `${s.model}#${s.cut}`;
    if (s.reservedConcurrency !== null) {
      if (!Number.isInteger(s.reservedConcurrency) || s.reservedConcurrency < 1) {
        throw new ValidationError(`functions.${name}.reservedConcurrency`, `must be an integer >= 1 (got ${s.reservedConcurrency})`);
      }
      reserved += s.reservedConcurrency;
    }
    if (!Number.isInteger(s.provisionedConcurrency) || s.provisionedConcurrency < 0) {
      throw new ValidationError(`functions.${name}.provisionedConcurrency`, `must be an integer >= 0 (got ${s.provisionedConcurrency})`);
    }
    const cap = s.reservedConcurrency ?? accountConcurrency - UNRESERVED_MINIMUM;
    if (s.provisionedConcurrency > cap) {
      throw new ValidationError(`functions.${name}.provisionedConcurrency`, `${s.provisionedConcurrency} exceeds the function's concurrency ${cap}`);
    }
  }
  if (reserved > accountConcurrency - UNRESERVED_MINIMUM) {
    throw new ValidationError(
      'reservedConcurrency',
      `the functions reserve ${reserved} of an account quota of ${accountConcurrency}; Lambda keeps ${UNRESERVED_MINIMUM} unreserved (at most ${accountConcurrency - UNRESERVED_MINIMUM})`,
    );
  }
}

/**
 * The fleet of one simulated account.
 *
 * @example
 * const fleet = new Fleet([{ model: 'm', cut: 3, memoryMB: 1769, reservedConcurrency: 2, provisionedConcurrency: 0, coldStartMs: 500, tailMs: 40 }]);
 * fleet.acquire(0, 0);    // 'cold'  (busy until the caller releases it)
 * fleet.release(0, 540, 'cold', 540);
 * fleet.acquire(0, 1000); // 'warm'
 */
export class Fleet {
  readonly functions: FunctionState[];
  readonly accountConcurrency: number;
  readonly keepAliveMs: number;
  readonly scaling: { burst: number; perSecond: number };
  /** Account quota minus every reservation: what unreserved functions share. */
  readonly unreservedPool: number;
  /** Busy environments of unreserved functions, all together. */
  unreservedBusy = 0;
  /** Keep the lastUsed times of reaped environments (a fleet view that shows reaped environments for a while sets this). */
  trackReaped = false;

  constructor(specs: readonly TailFunctionSpec[], opts: FleetOptions = {}) {
    this.accountConcurrency = opts.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY;
    this.keepAliveMs = opts.keepAliveMs ?? DEFAULT_FLEET_KEEPALIVE_MS;
    this.scaling = opts.scaling ?? DEFAULT_SCALING;
    if (!(this.keepAliveMs >= 0)) throw new ValidationError('keepAliveMs', `must be >= 0 (got ${this.keepAliveMs})`);
    checkAccount(specs, this.accountConcurrency);
    this.functions = specs.map((s, i) => new FunctionState(s, i, this.scaling.burst));
    const reserved = specs.reduce((sum, s) => sum + (s.reservedConcurrency ?? 0), 0);
    this.unreservedPool = this.accountConcurrency - reserved;
  }

  /** Drops idle on-demand environments of `fn` whose keep-alive ran out by `now`. */
  reap(fn: FunctionState, now: number): void {
    const horizon = now - this.keepAliveMs;
    let start = fn.idleStart;
    while (start < fn.idleEnd && fn.idle[start]! <= horizon) start++;
    if (this.trackReaped && start > fn.idleStart) fn.noteReaped(fn.idleStart, start);
    fn.counters.reaped += start - fn.idleStart;
    fn.idleStart = start;
    if (start === fn.idleEnd) {
      fn.idleStart = 0;
      fn.idleEnd = 0;
    }
  }

  /**
   * One invocation of function `index` at `now`: takes an environment (marked
   * busy) or refuses with the reason of the 429. The caller must
   * {@link release} every environment it got.
   */
  acquire(index: number, now: number): Acquired {
    const fn = this.functions[index]!;
    this.reap(fn, now);
    fn.counters.invocations++;
    if (fn.provisionedIdle > 0) {
      fn.provisionedIdle--;
      fn.provisionedBusy++;
      fn.counters.provisioned++;
      this.peak(fn);
      return 'provisioned';
    }
    const reserved = fn.spec.reservedConcurrency;
    // Unreserved functions share the pool whether or not they have an idle environment.
    if (reserved === null && this.unreservedBusy >= this.unreservedPool) {
      fn.counters.throttledAccount++;
      return 'throttled-account';
    }
    if (fn.idleEnd > fn.idleStart) {
      fn.idleEnd--;
      this.takeOnDemand(fn);
      fn.counters.warm++;
      return 'warm';
    }
    // A function never holds more environments than its reservation, so a warm reuse never passes it.
    if (reserved !== null && fn.concurrency >= reserved) {
      fn.counters.throttledReserved++;
      return 'throttled-reserved';
    }
    const { burst, perSecond } = this.scaling;
    fn.tokens = Math.min(burst, fn.tokens + ((now - fn.tokensAt) * perSecond) / 1000);
    fn.tokensAt = now;
    if (fn.tokens < 1) {
      fn.counters.throttledScaling++;
      return 'throttled-scaling';
    }
    fn.tokens -= 1;
    fn.initialising++;
    this.takeOnDemand(fn);
    fn.counters.cold++;
    return 'cold';
  }

  /** The init phase of a cold environment of function `index` ended (it now computes). */
  initDone(index: number): void {
    this.functions[index]!.initialising--;
  }

  /**
   * The invocation that `acquire` answered with `how` ended at `now`, having
   * billed `billedMs`; its environment is idle from now on.
   */
  release(index: number, now: number, how: Acquired, billedMs: number): void {
    const fn = this.functions[index]!;
    if (how === 'provisioned') {
      fn.provisionedBusy--;
      fn.provisionedIdle++;
      fn.counters.provisionedMs += billedMs;
      return;
    }
    if (how !== 'warm' && how !== 'cold') throw new RangeError(`release of a ${how} invocation`);
    this.reap(fn, now);
    fn.onDemandBusy--;
    if (fn.spec.reservedConcurrency === null) this.unreservedBusy--;
    fn.counters.onDemandMs += billedMs;
    fn.pushIdle(now);
  }

  private takeOnDemand(fn: FunctionState): void {
    fn.onDemandBusy++;
    if (fn.spec.reservedConcurrency === null) this.unreservedBusy++;
    this.peak(fn);
  }

  private peak(fn: FunctionState): void {
    const c = fn.concurrency;
    if (c > fn.counters.peakConcurrency) fn.counters.peakConcurrency = c;
  }
}
