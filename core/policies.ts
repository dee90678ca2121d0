/**
 * Policies of the load harness and the fleet simulator: which cut a request
 * uses, given the plan the planner made for it (with the fleet view as the API
 * reports it).
 *
 * - `planner`: the plan's own cut (cold starts and concurrency limits folded in).
 * - `fleet-blind`: the best cut as if every tail were warm and unthrottled
 *   (Neurosurgeon-style): the plan's rows with the cold-start term removed and
 *   throttling ignored.
 * - `cloud-only`: cut 0, the whole model in the cloud.
 * - `device-only`: cut L, the whole model on the device.
 * - `cut:C`: always cut C.
 *
 * The static policies send to their cut whatever the fleet says: a throttled
 * function answers 429 and the device finishes the inference itself.
 */
import { ValidationError } from './errors';
import { TIE_RELATIVE, type CandidateRow, type PlanRecord } from './planner';
import type { Predicted } from './load-record';
import type { Scenario } from './scenario';

export const POLICY_NAMES = ['planner', 'fleet-blind', 'cloud-only', 'device-only', 'cut:C'] as const;

export type Policy =
  | { kind: 'planner' }
  | { kind: 'fleet-blind' }
  | { kind: 'cloud-only' }
  | { kind: 'device-only' }
  | { kind: 'cut'; cut: number };

/**
 * Parses a policy name; an unknown one is a one-line ValidationError listing the policies.
 *
 * @example
 * parsePolicy('cut:93'); // { kind: 'cut', cut: 93 }
 */
export function parsePolicy(text: string): Policy {
  const v = text.trim();
  if (v === 'planner' || v === 'fleet-blind' || v === 'cloud-only' || v === 'device-only') return { kind: v };
  const m = /^cut:(.*)$/.exec(v);
  if (m) {
    if (!/^(0|[1-9][0-9]*)$/.test(m[1]!) || !Number.isSafeInteger(Number(m[1]))) {
      throw new ValidationError('policy', `cut:C needs a non-negative integer cut (got ${JSON.stringify(v)})`);
    }
    return { kind: 'cut', cut: Number(m[1]) };
  }
  throw new ValidationError('policy', `unknown policy ${JSON.stringify(v)} (one of ${POLICY_NAMES.join(', ')})`);
}

/** Parses a comma-separated list of policies (`planner,fleet-blind,cut:6`); duplicates are an error. */
export function parsePolicies(text: string): Policy[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new ValidationError('policy', `empty policy in ${JSON.stringify(text)}`);
  const out = parts.map(parsePolicy);
  const names = out.map(policyName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ValidationError('policy', `${dup} is given twice`);
  return out;
}

/** The name a policy is written as (`planner`, `cut:93`): the inverse of {@link parsePolicy}. */
export function policyName(p: Policy): string {
  return p.kind === 'cut' ? `cut:${p.cut}` : p.kind;
}

/** True for the policies that need the live fleet for each request (a fresh `POST /plan`). */
export function needsLivePlan(p: Policy): boolean {
  return p.kind === 'planner';
}

/** What a policy decided for one request. */
export interface PolicyChoice {
  cut: number;
  /** The plan's row of that cut (live fleet figures: pCold and coldMs as the planner saw them). */
  row: CandidateRow;
  /**
   * What the policy itself expects of that cut: the row for `planner` (the
   * fleet folded in); for every other policy, which does not look at the
   * fleet, the row as if its tail were warm (cold-start term removed).
   */
  believed: Believed;
}

/** The figures a policy expects of its cut. */
export type Believed = Pick<CandidateRow, 'headMs' | 'upMs' | 'tailMs' | 'coldMs' | 'downMs' | 'latencyMs' | 'energyJ' | 'costUSD'>;

/** A record's prediction (core/load-record.ts) from what its policy believed, with the network RTT it counts (0 when nothing is sent). */
export function predictedOf(b: Believed, rttMs: number): Predicted {
  return { headMs: b.headMs, rttMs, upMs: b.upMs, coldMs: b.coldMs, tailMs: b.tailMs, downMs: b.downMs, latencyMs: b.latencyMs, energyJ: b.energyJ, costUSD: b.costUSD };
}

/** The cut a policy takes from the plan's rows; throws a ValidationError for a cut that is not a candidate. */
export function choosePolicyCut(policy: Policy, record: Pick<PlanRecord, 'cut' | 'L' | 'model' | 'candidates' | 'objective'>): PolicyChoice {
  const rowOf = (cut: number): CandidateRow => {
    const row = record.candidates.find((r) => r.cut === cut);
    if (!row) {
      const cuts = record.candidates.map((r) => r.cut).filter((c) => c !== record.L);
      throw new ValidationError('policy', `cut ${cut} is not a candidate of ${record.model} (candidates: ${cuts.join(', ')}; ${record.L} is device-only)`);
    }
    return row;
  };
  switch (policy.kind) {
    case 'planner': {
      const row = rowOf(record.cut);
      return { cut: row.cut, row, believed: row };
    }
    case 'device-only':
      return warmChoice(rowOf(record.L));
    case 'cloud-only':
      return warmChoice(rowOf(0));
    case 'cut':
      return warmChoice(rowOf(policy.cut));
    case 'fleet-blind':
      return fleetBlindChoice(record);
  }
}

/** A row as a policy that assumes a warm tail sees it. Energy and cost keep the row's cold-start share: a row lacks the idle power and price to remove it. */
function warmChoice(row: CandidateRow): PolicyChoice {
  return {
    cut: row.cut,
    row,
    believed: { headMs: row.headMs, upMs: row.upMs, tailMs: row.tailMs, coldMs: 0, downMs: row.downMs, latencyMs: row.latencyMs - row.coldMs, energyJ: row.energyJ, costUSD: row.costUSD },
  };
}

/**
 * The warm, unthrottled choice from a plan's rows: every deployed cut whose
 * payload fits (and device-only) may be chosen, at its latency without the
 * cold-start term; ties as docs/cost-model.md §5 breaks them (less sent, then the larger
 * cut). User constraints are not applied (the harness sends none). The latency objective only: a row does not carry the power figures
 * needed to remove the cold start from energy (use {@link fleetBlindScenario}
 * with the planner for other objectives).
 */
export function fleetBlindChoice(record: Pick<PlanRecord, 'L' | 'candidates' | 'objective'>): PolicyChoice {
  if (record.objective !== 'latency') {
    throw new ValidationError('objective', `fleet-blind from a plan's rows supports the latency objective only (got ${record.objective})`);
  }
  let best: { row: CandidateRow; latencyMs: number } | undefined;
  for (const row of record.candidates) {
    if (row.reasons.includes('no-function') || row.reasons.includes('payload')) continue;
    const latencyMs = row.latencyMs - row.coldMs;
    if (!best || better(row, latencyMs, best.row, best.latencyMs)) best = { row, latencyMs };
  }
  // Device-only never has no-function or payload, so there is always a choice.
  return warmChoice(best!.row);
}

/** docs/cost-model.md §5 order on warm latency: lower, then (tied) fewer bytes sent, then the larger cut. */
function better(row: CandidateRow, latencyMs: number, best: CandidateRow, bestMs: number): boolean {
  const tied = latencyMs === bestMs || Math.abs(latencyMs - bestMs) < TIE_RELATIVE * Math.max(latencyMs, bestMs);
  if (!tied) return latencyMs < bestMs;
  return row.sentBytes < best.sentBytes || (row.sentBytes === best.sentBytes && row.cut > best.cut);
}

/** Limit given to every function by {@link fleetBlindScenario}: nothing is ever throttled. */
export const UNTHROTTLED_LIMIT = 1e9;

/**
 * The scenario as a fleet-blind policy sees it: every deployed tail warm
 * (one idle instance) and unthrottled; `plan()` of it gives the fleet-blind
 * cut for any objective.
 */
export function fleetBlindScenario(s: Scenario): Scenario {
  const functions: Scenario['cloud']['functions'] = {};
  for (const [cut, f] of Object.entries(s.cloud.functions)) {
    functions[cut] = { ...f, idleWarm: Math.max(1, f.idleWarm), inFlight: 0, limit: UNTHROTTLED_LIMIT };
    delete functions[cut]!.coldStartMs;
  }
  return { ...s, cloud: { ...s.cloud, functions } };
}
