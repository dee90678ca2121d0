/**
 * Deployment advice: which cuts get tail functions, their memory size, and
 * their reserved and provisioned concurrency, chosen by simulating the
 * user's traffic through the planner against each candidate deployment.
 *
 * The search (docs/evaluation.md, "offload recommend"):
 *
 * 1. **Cut sets.** The cuts the planner would pick with every default-rule
 *    tail warm, for each (device class, network) of the traffic — the only
 *    cuts a warm fleet ever uses — give the "useful" set U. Candidates:
 *    {0} ∪ U, {0, u} for each u in U, and {0} (cut 0 is always deployed,
 *    as cdk/config.ts does).
 * 2. **Grid.** Each cut set × memory size × provisioned concurrency on the
 *    cut the warm planner uses most (0 … `provisioned` values), with
 *    reserved concurrency as high as the account allows (reserved
 *    concurrency costs nothing; it caps a function). Simulated on the first
 *    `searchRequests` arrivals.
 * 3. **Sizing.** Each configuration's reserved concurrency is set to its
 *    simulated peak concurrency plus `headroom` (at least its provisioned
 *    concurrency), so it protects the account without throttling the
 *    traffic it was sized on. On Lambda a lower cap only turns requests into
 *    429s, so that is the whole search there. Where environments share one
 *    machine (`host`) a cap can pay: fewer tails at once run faster and the
 *    throttled requests finish on the device. `reserved` adds such caps to
 *    the grid (each configuration also with each cap ≥ its provisioned
 *    concurrency); a capped configuration keeps its cap in the replay.
 * 4. **Replay.** The best `top` configurations (meeting `maxP95Ms` and
 *    `budgetUSD` where given; ranked by cost when a p95 target is given,
 *    else by p95, then mean latency, then cost) are simulated again on the whole traffic with their sized
 *    reserved concurrency: those are the figures reported.
 *
 * Monthly cost: the per-request charges of the simulated span (and the
 * planner prewarm's cold starts) scaled to 30 days, plus provisioned concurrency for 30 days (PROVISIONED_PRICES:
 * an assumption, see core/sim/simulator.ts).
 */
import { ValidationError } from '../errors';
import { plan } from '../planner';
import type { Policy } from '../policies';
import type { Predictor } from '../predictor';
import type { ModelProfile } from '../profiles';
import type { ColdStartModel } from '../presets';
import type { Arrival } from '../workload';
import { simDeployment, type ModelDeploymentSpec } from './deployment';
import { UNRESERVED_MINIMUM } from './fleet';
import type { FleetViewOptions } from './fleet-view';
import type { PrewarmOptions } from '../prewarm';
import { PROVISIONED_PRICES, simulate, type SimTiming, type SimulationResult } from './simulator';
import type { FleetOptions } from './fleet';
import { onHost, type HostModel } from './host';
import type { JitterSpec } from './jitter';

export const MONTH_S = 30 * 86_400;
export const DEFAULT_MEMORY_SIZES: readonly number[] = [1024, 1769, 3008];
export const DEFAULT_PROVISIONED: readonly number[] = [0, 1, 2, 4, 8, 16];
/** Reserved-concurrency caps the search tries on a shared host: its environments slow each other down past a few. */
export const DEFAULT_HOST_CAPS: readonly number[] = [1, 2, 4, 8];

/** One deployment of one model that the search tries. */
export interface Candidate {
  cuts: number[];
  memoryMB: number;
  reservedConcurrency: number;
  /** Provisioned concurrency per cut (cuts not listed: 0). */
  provisioned: Record<number, number>;
}

/** A candidate with its simulated figures. */
export interface Evaluated extends Candidate {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  rate429: number;
  coldStarts: number;
  /** Share of requests whose tail the cloud served. */
  cloudShare: number;
  /** USD per month: requests and duration (scaled from the span), provisioned concurrency (a full month). */
  monthlyUSD: { onDemand: number; provisioned: number; total: number };
  /** Peak concurrency per cut in the run. */
  peak: Record<number, number>;
  requests: number;
}

export interface RecommendInput {
  profile: ModelProfile;
  predictor: Predictor;
  arrivals: readonly Arrival[];
  /** All deployable cuts (the default CDK rule's), cut 0 included. */
  deployableCuts: readonly number[];
  /** Traffic span in ms (for the monthly scaling); default the last arrival's time. */
  spanMs?: number;
  budgetUSD?: number;
  maxP95Ms?: number;
  memorySizes?: readonly number[];
  provisioned?: readonly number[];
  /**
   * Reserved-concurrency caps to try besides the sized one (step 3): each configuration again with each cap.
   * Default: {@link DEFAULT_HOST_CAPS} with a `host`, none on Lambda (where a cap below the peak only adds 429s).
   */
  reserved?: readonly number[];
  accountConcurrency?: number;
  /** Stage 2's sample: the first this many arrivals (default 50,000). */
  searchRequests?: number;
  headroom?: number;
  top?: number;
  policy?: Policy;
  fleet?: FleetOptions;
  view?: FleetViewOptions;
  timing?: SimTiming;
  /** The planner's prewarm, as simulate() takes it: on by default (as deployed), `false` off. Its cold starts are in the monthly cost. */
  prewarm?: Partial<PrewarmOptions> | false;
  /** The device waits for its plan before its head (simulate's `waitForPlan`); default false. */
  waitForPlan?: boolean;
  /**
   * Recommend for a shared host (./host.ts) instead of Lambda: the tails run at this machine's profiled speed
   * (simDeployment `tailTimes: 'this-machine'`) and share the host's cores. Default: Lambda.
   */
  host?: HostModel;
  /**
   * The tails' cold-start formula on Lambda (simDeployment `cold`: the fleet's and the planner's); default the local
   * calibration (CLOUD_DEFAULTS). Not with `host`, whose measured cold starts apply.
   */
  cold?: ColdStartModel;
  /** Per-request spread of tail and cold-start times (./jitter.ts). */
  jitter?: JitterSpec;
  /** Called after each simulated configuration: (done, total, stage). */
  onProgress?: (done: number, total: number, stage: 'search' | 'replay') => void;
}

export interface Recommendation {
  /** The best configurations, best first (meeting the targets). */
  best: Evaluated[];
  /** Every configuration of the search stage, with figures on the sample. */
  searched: Evaluated[];
  usefulCuts: number[];
  mostUsedCut: number;
  /** The reserved-concurrency caps tried besides the sized one. */
  reservedCaps: number[];
  sampleRequests: number;
  wallMs: { search: number; replay: number };
}

/** No configuration meets the targets: how far the closest is. */
export class InfeasibleError extends ValidationError {
  readonly closest: Evaluated | undefined;
  constructor(field: string, message: string, closest: Evaluated | undefined) {
    super(field, message);
    this.closest = closest;
  }
}

function monthly(result: SimulationResult, spanMs: number, c: Candidate): Evaluated['monthlyUSD'] {
  // The prewarm's cold starts are billed like any invocation: on-demand charges too.
  const onDemand = ((result.summary.costUSD + result.prewarm.costUSD) * MONTH_S * 1000) / Math.max(spanMs, 1);
  let provisioned = 0;
  for (const n of Object.values(c.provisioned)) provisioned += n * (c.memoryMB / 1024) * MONTH_S * PROVISIONED_PRICES.gbSecondConfiguredUSD;
  return { onDemand, provisioned, total: onDemand + provisioned };
}

/** The warm planner's cut for each (device class, network) of the traffic, and how many requests each gets. */
export function usefulCuts(input: Pick<RecommendInput, 'profile' | 'predictor' | 'arrivals' | 'deployableCuts'>): { cuts: number[]; counts: Map<number, number> } {
  const { scenarioFor } = simDeployment({
    models: [{ profile: input.profile, cuts: input.deployableCuts, tail: { memoryMB: 1769, reservedConcurrency: 1, provisionedConcurrency: 0 } }],
    predictor: input.predictor,
  });
  const counts = new Map<number, number>();
  const pick = new Map<string, number>();
  for (const a of input.arrivals) {
    const key = `${a.class}/${a.network}`;
    let cut = pick.get(key);
    if (cut === undefined) {
      const s = scenarioFor(a.model, a.class, a.network);
      const functions: typeof s.cloud.functions = {};
      for (const c of input.deployableCuts) functions[String(c)] = { idleWarm: 1, inFlight: 0, limit: 1e9 };
      cut = plan({ ...s, cloud: { ...s.cloud, functions } }).cut;
      pick.set(key, cut);
    }
    counts.set(cut, (counts.get(cut) ?? 0) + 1);
  }
  const L = input.profile.layers.length;
  return { cuts: [...counts.keys()].filter((c) => c !== L).sort((a, b) => a - b), counts };
}

function cutSets(useful: readonly number[]): number[][] {
  const sets = new Map<string, number[]>();
  const add = (cuts: number[]) => {
    const s = [...new Set([0, ...cuts])].sort((a, b) => a - b);
    sets.set(s.join(','), s);
  };
  add(useful as number[]);
  for (const u of useful) add([u]);
  add([]);
  return [...sets.values()];
}

/**
 * Ranks by the targets: with a p95 target, the cheapest (then the lower mean);
 * else the lower p95, then the lower mean latency, then the cheaper.
 */
function rank(a: Evaluated, b: Evaluated, byCost: boolean): number {
  const cost = a.monthlyUSD.total - b.monthlyUSD.total;
  const mean = a.meanMs - b.meanMs;
  return byCost ? cost || mean : a.p95Ms - b.p95Ms || mean || cost;
}

/**
 * Searches the deployment choices for one model's traffic.
 *
 * @throws InfeasibleError naming `budget` or `p95` when no configuration meets the targets, with the closest one
 */
export function recommend(input: RecommendInput): Recommendation {
  const policy = input.policy ?? { kind: 'planner' };
  if (input.cold && input.host) throw new ValidationError('cold', `applies to tails on Lambda; on host ${input.host.name} its measured cold starts apply`);
  const caps = input.reserved ?? (input.host ? DEFAULT_HOST_CAPS : []);
  const badCap = caps.find((r) => !Number.isInteger(r) || r < 1);
  if (badCap !== undefined) throw new ValidationError('reserved', `reserved concurrency caps are whole numbers >= 1, got ${badCap}`);
  const account = input.accountConcurrency ?? 1000;
  const spanAll = input.spanMs ?? Math.max(1, input.arrivals[input.arrivals.length - 1]?.t ?? 1);
  const sample = input.arrivals.slice(0, input.searchRequests ?? 50_000);
  const spanSample = sample.length === input.arrivals.length ? spanAll : Math.max(1, sample[sample.length - 1]!.t);
  const headroom = input.headroom ?? 1.2;
  const { cuts: useful, counts } = usefulCuts(input);
  const mostUsed = useful.length ? useful.reduce((a, b) => ((counts.get(b) ?? 0) > (counts.get(a) ?? 0) ? b : a)) : 0;
  const sets = cutSets(useful);
  const memories = input.memorySizes ?? DEFAULT_MEMORY_SIZES;
  const provisionedValues = input.provisioned ?? DEFAULT_PROVISIONED;

  const run = (c: Candidate, arrivals: readonly Arrival[], spanMs: number): Evaluated => {
    const spec: ModelDeploymentSpec = {
      profile: input.profile,
      cuts: c.cuts,
      tail: { memoryMB: c.memoryMB, reservedConcurrency: c.reservedConcurrency, provisionedConcurrency: 0 },
      functions: Object.fromEntries(Object.entries(c.provisioned).map(([cut, n]) => [Number(cut), { provisionedConcurrency: n }])),
    };
    const dep = simDeployment({ models: [spec], predictor: input.predictor, ...(input.cold ? { cold: input.cold } : {}), ...(input.host ? onHost(input.host) : {}) });
    const result = simulate({
      arrivals,
      policy,
      functions: dep.functions,
      scenarioFor: dep.scenarioFor,
      fleet: { ...input.fleet, accountConcurrency: account },
      view: input.view,
      timing: input.timing,
      ...(input.prewarm !== undefined ? { prewarm: input.prewarm } : {}),
      waitForPlan: input.waitForPlan ?? false,
      ...(input.host ? { host: input.host } : {}),
      ...(input.jitter ? { jitter: input.jitter } : {}),
    });
    const s = result.summary;
    return {
      ...c,
      p50Ms: s.latencyMs.p50,
      p95Ms: s.latencyMs.p95,
      p99Ms: s.latencyMs.p99,
      meanMs: s.latencyMs.mean,
      rate429: s.rate429,
      coldStarts: s.coldStarts,
      cloudShare: s.requests ? s.cloud / s.requests : 0,
      monthlyUSD: monthly(result, spanMs, c),
      peak: Object.fromEntries(result.functions.map((f) => [f.cut, f.peakConcurrency])),
      requests: s.requests,
    };
  };

  // `sized`: reserved concurrency as high as the account allows in the search, then sized from the run's peak.
  const grid: (Candidate & { sized: boolean })[] = [];
  for (const cuts of sets) {
    const maxReserved = Math.floor((account - UNRESERVED_MINIMUM) / cuts.length);
    if (maxReserved < 1) continue;
    for (const memoryMB of memories) {
      for (const p of provisionedValues) {
        if (p > maxReserved) continue;
        const target = cuts.includes(mostUsed) ? mostUsed : 0;
        const provisioned = p > 0 ? { [target]: p } : {};
        grid.push({ cuts, memoryMB, reservedConcurrency: maxReserved, provisioned, sized: true });
        for (const cap of new Set(caps)) {
          if (cap >= Math.max(p, 1) && cap < maxReserved) grid.push({ cuts, memoryMB, reservedConcurrency: cap, provisioned, sized: false });
        }
      }
    }
  }
  const t0 = performance.now();
  const searched: Evaluated[] = [];
  const sizedOf = new Map<Evaluated, boolean>();
  for (const { sized, ...c } of grid) {
    const e = run(c, sample, spanSample);
    sizedOf.set(e, sized);
    searched.push(e);
    input.onProgress?.(searched.length, grid.length, 'search');
  }
  const t1 = performance.now();

  const byCost = input.maxP95Ms !== undefined;
  const meets = (e: Evaluated) => (input.maxP95Ms === undefined || e.p95Ms <= input.maxP95Ms) && (input.budgetUSD === undefined || e.monthlyUSD.total <= input.budgetUSD);
  // Replay more than `top` from the sample's ranking: the whole traffic may reorder them.
  const top = input.top ?? 5;
  const shortlist = [...searched].sort((a, b) => rank(a, b, byCost)).filter((e, i, all) => meets(e) || i < top * 2);
  const chosen = shortlist.filter(meets).slice(0, top * 2);
  const replayList = (chosen.length ? chosen : shortlist.slice(0, top * 2)).map((e): Candidate => {
    if (!sizedOf.get(e)) return { cuts: e.cuts, memoryMB: e.memoryMB, reservedConcurrency: e.reservedConcurrency, provisioned: e.provisioned };
    const maxP = Math.max(0, ...Object.values(e.provisioned));
    const peak = Math.max(1, ...Object.values(e.peak));
    const reserved = Math.min(e.reservedConcurrency, Math.max(maxP, Math.ceil(peak * headroom), 1));
    return { cuts: e.cuts, memoryMB: e.memoryMB, reservedConcurrency: reserved, provisioned: e.provisioned };
  });
  const replayed: Evaluated[] = [];
  for (const c of replayList) {
    replayed.push(run(c, input.arrivals, spanAll));
    input.onProgress?.(replayed.length, replayList.length, 'replay');
  }
  const t2 = performance.now();
  const best = replayed.filter(meets).sort((a, b) => rank(a, b, byCost)).slice(0, top);
  if (best.length === 0) {
    const all = [...replayed, ...searched];
    const fitsP95 = all.filter((e) => input.maxP95Ms === undefined || e.p95Ms <= input.maxP95Ms);
    if (input.budgetUSD !== undefined && fitsP95.length > 0) {
      const cheapest = fitsP95.sort((a, b) => a.monthlyUSD.total - b.monthlyUSD.total)[0]!;
      const over = cheapest.monthlyUSD.total - input.budgetUSD;
      throw new InfeasibleError(
        'budget',
        `no configuration meets $${input.budgetUSD}/month${input.maxP95Ms !== undefined ? ` with p95 <= ${input.maxP95Ms} ms` : ''}: the cheapest that ${input.maxP95Ms !== undefined ? 'meets the p95' : 'runs'} costs $${cheapest.monthlyUSD.total.toFixed(2)}/month, $${over.toFixed(2)} (${(cheapest.monthlyUSD.total / input.budgetUSD).toFixed(2)}x) over (${describeCandidate(cheapest)})`,
        cheapest,
      );
    }
    const fastest = all.filter((e) => input.budgetUSD === undefined || e.monthlyUSD.total <= input.budgetUSD).sort((a, b) => a.p95Ms - b.p95Ms)[0];
    throw new InfeasibleError(
      'p95',
      `no configuration reaches p95 <= ${input.maxP95Ms} ms${input.budgetUSD !== undefined ? ` within $${input.budgetUSD}/month` : ''}: the fastest reaches ${fastest ? `${fastest.p95Ms.toFixed(0)} ms (${describeCandidate(fastest)})` : 'nothing'}`,
      fastest,
    );
  }
  return { best, searched, usefulCuts: useful, mostUsedCut: mostUsed, reservedCaps: [...new Set(caps)].sort((a, b) => a - b), sampleRequests: sample.length, wallMs: { search: t1 - t0, replay: t2 - t1 } };
}

/** `cuts 0,57; 1769 MB; reserved 12; provisioned 2 on cut 57`. */
export function describeCandidate(c: Candidate): string {
  const prov = Object.entries(c.provisioned).filter(([, n]) => n > 0);
  return `cuts ${c.cuts.join(',')}; ${c.memoryMB} MB; reserved ${c.reservedConcurrency}; ${prov.length ? prov.map(([cut, n]) => `provisioned ${n} on cut ${cut}`).join(', ') : 'no provisioned concurrency'}`;
}

/**
 * The `models.<model>` entry of cdk/offload.config.json for a configuration (cdk/config.ts ModelConfigSchema).
 * `wasmThreads` pins the tails' engine threads (a promise made for a shared host holds for the threads its
 * host model was measured with: ./host.ts).
 */
export function configSnippet(model: string, c: Candidate, opts: { wasmThreads?: number } = {}): { models: Record<string, unknown> } {
  const functions = Object.fromEntries(
    Object.entries(c.provisioned)
      .filter(([, n]) => n > 0)
      .map(([cut, n]) => [cut, { provisionedConcurrency: n }]),
  );
  return {
    models: {
      [model]: {
        cuts: c.cuts,
        tail: { memoryMB: c.memoryMB, reservedConcurrency: c.reservedConcurrency, provisionedConcurrency: 0, ...(opts.wasmThreads === undefined ? {} : { wasmThreads: opts.wasmThreads }) },
        ...(Object.keys(functions).length ? { functions } : {}),
      },
    },
  };
}
