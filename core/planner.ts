/**
 * The planner: docs/cost-model.md §4 feasibility, §5 choice and §6 plan record over the
 * per-cut figures of `core/cost.ts`.
 *
 * One plan is O(L + C) for L layers and C candidates: one pass over the layers
 * for the prefix/suffix sums, one pass over the candidates for the figures
 * and the checks, one (two with a battery) for the choice.
 */
import { batteryEnergyBudgetJ, batteryWeight } from './battery';
import { computeCut, cutConstants, prepareModel, type CutFigures, type PreparedModel } from './cost';
import { ValidationError } from './errors';
import { DEFAULT_LIMITS, type Candidate, type DType, type Objective, type Scenario } from './scenario';

/**
 * Why a cut cannot be chosen, in the order they are reported:
 *
 * - `no-function`: no tail function is deployed for the cut (no entry in
 *   `cloud.functions`). Such a row carries this reason alone.
 * - `throttled`: `inFlight ≥ limit` — the reserved concurrency is exhausted, the request would get HTTP 429.
 * - `payload`: what the cut sends is over the direct request limit
 *   (`sentBytes × 4/3 > payloadBytes` with base64, `sentBytes > payloadBytes`
 *   without) and staging is off.
 * - `max-latency`: `latencyMs > constraints.maxLatencyMs`.
 * - `max-energy`: `energyJ > constraints.maxEnergyJ`, or above the battery's energy budget.
 * - `max-cost`: `costUSD > constraints.maxCostUSD`.
 *
 * Device-only (cut L) can only get the three constraint reasons.
 */
export const REASONS = ['no-function', 'throttled', 'payload', 'max-latency', 'max-energy', 'max-cost'] as const;
export type Reason = (typeof REASONS)[number];

const NO_FUNCTION = 1;
const THROTTLED = 2;
const PAYLOAD = 4;
const MAX_LATENCY = 8;
const MAX_ENERGY = 16;
const MAX_COST = 32;
/** Everything but the energy budget: the "base" feasible set of the battery rule. */
const BASE_MASK = NO_FUNCTION | THROTTLED | PAYLOAD | MAX_LATENCY | MAX_COST;

/** docs/cost-model.md §5: objective values whose relative difference is below this are tied. */
export const TIE_RELATIVE = 1e-9;

/** One row of the plan record: docs/cost-model.md §6 plus `coldStartMs` (so `coldMs = pCold × coldStartMs` can be checked). */
export interface CandidateRow extends CutFigures {
  cut: number;
  /** Name of layer cut−1, or 'input' for cut 0. */
  layer: string;
  feasible: boolean;
  reasons: Reason[];
}

/** docs/cost-model.md §6 plan record. */
export interface PlanRecord {
  model: string;
  objective: Objective;
  /** The chosen cut; L (device-only) when nothing is feasible. */
  cut: number;
  /** Number of layers: `cut === L` is device-only. */
  L: number;
  target: 'device' | 'cloud';
  /** The chosen tail function's name (see {@link defaultFunctionName}), null for device-only. */
  function: string | null;
  /** False when no cut passes every check; the plan then recommends device-only. */
  feasible: boolean;
  /** When `feasible` is false: every reason that ruled a cut out (in {@link REASONS} order); else empty. */
  reasons: Reason[];
  dtype: DType;
  predicted: { latencyMs: number; energyJ: number; costUSD: number };
  /** The battery rule's mapping, when the scenario gave a battery level. */
  battery?: { level: number; weight: number; energyBudgetJ: number | null };
  /** Every candidate cut in ascending order, then L. */
  candidates: CandidateRow[];
}

/** The stack name `cdk deploy` uses unless the configuration names another (cdk/config.ts `stackName`). */
export const DEFAULT_STACK_NAME = 'offload';

/**
 * The physical name of a tail function, `<stackName>-<model>-<cut>`, with
 * `-tfn` for the tfjs-node container image: the one rule `cdk deploy`
 * (cdk/config.ts) and the simulator name functions by. With the defaults it is
 * the name reported when the fleet entry carries no `name`, so an offline plan
 * names the function a user will find.
 */
export function defaultFunctionName(model: string, cut: number, stackName: string = DEFAULT_STACK_NAME, backend: 'wasm' | 'tfjs-node' = 'wasm'): string {
  return `${stackName}-${model}-${cut}${backend === 'tfjs-node' ? '-tfn' : ''}`;
}

/**
 * Prefix/suffix sums reused from plan to plan (plan() is synchronous, so one
 * buffer suffices); grown when a larger model comes.
 */
let scratch: PreparedModel | undefined;

function newRow(cut: number, layer: string): CandidateRow {
  // One literal with every field, so all rows share one hidden class.
  return {
    cut,
    layer,
    sentBytes: 0,
    headMs: 0,
    upMs: 0,
    tailMs: 0,
    pCold: 0,
    coldStartMs: 0,
    coldMs: 0,
    downMs: 0,
    latencyMs: 0,
    energyJ: 0,
    costUSD: 0,
    feasible: false,
    reasons: [],
  };
}

function objectiveValue(row: CandidateRow, objective: Objective): number {
  return objective === 'latency' ? row.latencyMs : objective === 'energy' ? row.energyJ : row.costUSD;
}

/**
 * docs/cost-model.md §5 over the rows whose `masks[i] & blocking` is 0: the minimum m of the
 * objective; the rows tied with it (`o === m` or `(o − m) / o < 1e-9`, all
 * values being ≥ 0); among those the smaller `sentBytes`, then the larger cut.
 * Returns the row index, or −1 when no row is allowed.
 */
function choose(rows: CandidateRow[], masks: Uint8Array, blocking: number, objective: Objective): number {
  let min = Infinity;
  for (let i = 0; i < rows.length; i++) {
    if ((masks[i]! & blocking) !== 0) continue;
    const o = objectiveValue(rows[i]!, objective);
    if (o < min) min = o;
  }
  if (min === Infinity) return -1;
  let best = -1;
  for (let i = 0; i < rows.length; i++) {
    if ((masks[i]! & blocking) !== 0) continue;
    const row = rows[i]!;
    const o = objectiveValue(row, objective);
    if (o !== min && !(o - min < TIE_RELATIVE * o)) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const b = rows[best]!;
    if (row.sentBytes < b.sentBytes || (row.sentBytes === b.sentBytes && row.cut > b.cut)) best = i;
  }
  return best;
}

function reasonsOf(mask: number): Reason[] {
  const out: Reason[] = [];
  if (mask & NO_FUNCTION) out.push('no-function');
  if (mask & THROTTLED) out.push('throttled');
  if (mask & PAYLOAD) out.push('payload');
  if (mask & MAX_LATENCY) out.push('max-latency');
  if (mask & MAX_ENERGY) out.push('max-energy');
  if (mask & MAX_COST) out.push('max-cost');
  return out;
}

function ascendingByCut(candidates: readonly Candidate[]): readonly Candidate[] {
  for (let i = 1; i < candidates.length; i++) {
    if (candidates[i]!.cut < candidates[i - 1]!.cut) return [...candidates].sort((a, b) => a.cut - b.cut);
  }
  return candidates;
}

/**
 * Plans one request: every candidate's figures (docs/cost-model.md §3), its feasibility
 * (§4), the choice (§5) and the record (§6). The scenario must come from
 * {@link parseScenario} (or satisfy the same checks); a total that overflows
 * to a non-finite number is reported as a ValidationError, so no NaN or
 * infinity ever reaches a plan.
 *
 * @example
 * const record = plan(parseScenario(JSON.parse(readFileSync('s.json', 'utf8'))));
 * record.cut; record.predicted.latencyMs;
 */
export function plan(s: Scenario): PlanRecord {
  const model = s.model;
  const layers = model.layers;
  const L = layers.length;
  const prepared = prepareModel(layers, scratch);
  scratch = prepared;
  const k = cutConstants(s, L);
  const candidates = ascendingByCut(model.candidates);
  const functions = s.cloud.functions;
  const limits = s.limits ?? DEFAULT_LIMITS;
  const constraints = s.constraints;
  const maxLatencyMs = constraints?.maxLatencyMs ?? Infinity;
  const maxCostUSD = constraints?.maxCostUSD ?? Infinity;

  const n = candidates.length + 1;
  const rows: CandidateRow[] = new Array<CandidateRow>(n);
  const masks = new Uint8Array(n);

  for (let i = 0; i < n; i++) {
    const device = i === n - 1;
    const cand = device ? undefined : candidates[i]!;
    const c = cand ? cand.cut : L;
    const fn = cand ? functions[c] : undefined;
    const row = newRow(c, c === 0 ? 'input' : layers[c - 1]!.name);
    computeCut(k, prepared, c, cand ? cand.crossingBytes : 0, fn ? fn.idleWarm : 0, fn?.coldStartMs, row);
    if (!(row.latencyMs < Infinity && row.energyJ < Infinity && row.costUSD < Infinity)) {
      throw new ValidationError('scenario', `the figures of cut ${c} are not finite numbers: some inputs are too large`);
    }
    rows[i] = row;
    let mask = 0;
    if (!device && !fn) mask = NO_FUNCTION;
    else {
      if (fn) {
        if (fn.inFlight >= fn.limit) mask |= THROTTLED;
        if (!limits.staging) {
          const over = limits.base64 ? (row.sentBytes * 4) / 3 > limits.payloadBytes : row.sentBytes > limits.payloadBytes;
          if (over) mask |= PAYLOAD;
        }
      }
      if (row.latencyMs > maxLatencyMs) mask |= MAX_LATENCY;
      if (row.costUSD > maxCostUSD) mask |= MAX_COST;
    }
    masks[i] = mask;
  }

  let energyLimitJ = constraints?.maxEnergyJ ?? Infinity;
  let battery: PlanRecord['battery'];
  if (s.battery) {
    const level = s.battery.level;
    const base = choose(rows, masks, BASE_MASK, s.objective);
    let budget: number | null = null;
    if (base >= 0) {
      let minEnergyJ = Infinity;
      for (let i = 0; i < n; i++) {
        if ((masks[i]! & BASE_MASK) === 0 && rows[i]!.energyJ < minEnergyJ) minEnergyJ = rows[i]!.energyJ;
      }
      budget = batteryEnergyBudgetJ(level, minEnergyJ, rows[base]!.energyJ);
      energyLimitJ = budget;
    }
    battery = { level, weight: batteryWeight(level), energyBudgetJ: budget };
  }
  if (energyLimitJ < Infinity) {
    for (let i = 0; i < n; i++) {
      if ((masks[i]! & NO_FUNCTION) === 0 && rows[i]!.energyJ > energyLimitJ) masks[i]! |= MAX_ENERGY;
    }
  }

  let chosen = choose(rows, masks, 0xff, s.objective);
  const feasible = chosen >= 0;
  let union = 0;
  for (let i = 0; i < n; i++) {
    const mask = masks[i]!;
    union |= mask;
    const row = rows[i]!;
    row.feasible = mask === 0;
    if (mask !== 0) row.reasons = reasonsOf(mask);
  }
  if (!feasible) chosen = n - 1;
  const pick = rows[chosen]!;
  const target = pick.cut === L ? 'device' : 'cloud';
  const record: PlanRecord = {
    model: model.name,
    objective: s.objective,
    cut: pick.cut,
    L,
    target,
    function: target === 'device' ? null : (functions[pick.cut]?.name ?? defaultFunctionName(model.name, pick.cut)),
    feasible,
    reasons: feasible ? [] : reasonsOf(union),
    dtype: s.encoding.dtype,
    predicted: { latencyMs: pick.latencyMs, energyJ: pick.energyJ, costUSD: pick.costUSD },
    candidates: rows,
  };
  if (battery) record.battery = battery;
  return record;
}
