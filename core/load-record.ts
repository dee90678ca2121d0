/**
 * What a load run (`offload load`) or a fleet simulation records per request,
 * and the figures summarised from those records: latency percentiles, device
 * energy, cloud cost, throttling, fallbacks, cold starts, and how far the
 * prediction was from what happened.
 *
 * One schema for both, so a trace run through the harness and through the
 * simulator can be compared record by record and summary by summary.
 */
import * as z from 'zod';
import { ValidationError } from './errors';
import { quantile } from './predictor';
import { parseWith } from './validation';

const ms = () => z.number().min(0, 'must be >= 0');
const nullableMs = () => ms().nullable();

/** The figures a policy expected of its request (docs/cost-model.md §3 parts of the cut it used). */
export const PredictedSchema = z.strictObject({
  headMs: ms(),
  rttMs: ms(),
  /** Upload of the crossing tensors, without the RTT. */
  upMs: ms(),
  /** Expected cold-start share (pCold × coldStartMs); 0 for policies that assume a warm fleet. */
  coldMs: ms(),
  tailMs: ms(),
  downMs: ms(),
  latencyMs: ms(),
  energyJ: ms(),
  costUSD: ms(),
});
export type Predicted = z.infer<typeof PredictedSchema>;

/**
 * What happened. In the harness the device's own parts are waited out, not
 * computed (unless the head really runs here, `this-machine`), so `headMs`,
 * `upMs`, `downMs` and `deviceTailMs` are the waits as timed; the cloud parts
 * are real.
 */
export const MeasuredSchema = z.strictObject({
  /** `POST /plan` round trip, when the policy asked for a live plan; else null. */
  planMs: nullableMs(),
  /**
   * Of `latencyMs`, the time the request waited on the plan (null without a live plan): all of `planMs` when the
   * device waited for the plan before its head (`--wait-for-plan`); with the head run while the plan was in flight
   * (the default), only what the plan took past the head at the cut (0 when the head got there later, or for
   * device-only, which never waits). Absent in records written before it existed: there the device waited all of `planMs`.
   */
  planWaitMs: nullableMs().optional(),
  headMs: ms(),
  /** RTT + upload, as waited. */
  upMs: ms(),
  /** `POST /infer` sent → answer read (real); null when nothing was sent. */
  roundTripMs: nullableMs(),
  /** Init the tail reported (cold start), ms; null when warm or not reported. */
  initMs: nullableMs(),
  /** Compute the tail reported, ms. */
  computeMs: nullableMs(),
  downMs: ms(),
  /** The tail finished on the device after a fallback (or the whole model, device-only), ms. */
  deviceTailMs: nullableMs(),
  /** The whole request, as the device saw it. */
  latencyMs: ms(),
  energyJ: ms(),
  costUSD: ms(),
});
export type Measured = z.infer<typeof MeasuredSchema>;

/** The state of the chosen cut's function in the plan the request used. */
export const FleetSeenSchema = z.strictObject({ idleWarm: z.number().int().min(0), inFlight: z.number().int().min(0), limit: z.number().int().min(0) });

export const OUTPUT_CHECKS = ['match', 'mismatch', 'simulated', 'none'] as const;
export const FALLBACK_REASONS = ['throttled', 'server', 'timeout', 'network'] as const;

/** One request of a load run or a simulation. */
export const LoadRecordSchema = z.strictObject({
  /** Index of the arrival in the workload. */
  i: z.number().int().min(0),
  /** Scheduled arrival, ms from the start. */
  t: ms(),
  /** When it actually started, ms from the start (later than `t` when the harness fell behind). */
  startMs: ms(),
  device: z.string().min(1),
  class: z.string().min(1),
  network: z.string().min(1),
  model: z.string().min(1),
  policy: z.string().min(1),
  /** The cut used; `L` is device-only. */
  cut: z.number().int().min(0),
  L: z.number().int().min(1),
  /** The planner's cut in the plan this request saw (equal to `cut` for `planner`, unless its device finished the whole model before the plan came: then `cut` is L); null without a plan. */
  planCut: z.number().int().min(0).nullable(),
  /** Where the tail ran in the end. */
  target: z.enum(['cloud', 'device']),
  /** True when the cloud answered the tail with a cold start. */
  cold: z.boolean(),
  /** HTTP status of `POST /infer` (null when nothing was sent or no answer came). */
  status: z.number().int().nullable(),
  /** Why the device finished the tail itself after sending it, if it did. */
  fallback: z.enum(FALLBACK_REASONS).nullable(),
  fleet: FleetSeenSchema.nullable(),
  predicted: PredictedSchema.nullable(),
  measured: MeasuredSchema,
  /**
   * The output against the full model's on the same input: `match` (same
   * top class and max |Δ| within tolerance), `mismatch`, `simulated` (the
   * device's part was waited out: nothing to compare), `none` (not checked).
   */
  output: z.enum(OUTPUT_CHECKS),
  /** Set when the request failed in a way no fallback covers (a 4xx); then the record counts as an error. */
  error: z.string().nullable(),
});
export type LoadRecord = z.infer<typeof LoadRecordSchema>;

/** Parses one record (e.g. a line of a JSONL file); errors name the field. */
export function parseLoadRecord(input: unknown, source = 'record'): LoadRecord {
  return parseWith(LoadRecordSchema, input, source);
}

/** The records of a JSONL file `offload load --out` wrote (blank lines skipped); `file` names it in errors, with the line. */
export function parseLoadRecords(jsonl: string, file: string): LoadRecord[] {
  return jsonl.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      // A bare SyntaxError names neither the file nor the line of a file that may hold a million.
      throw new ValidationError(`${file} line ${i + 1}`, `not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    return [parseLoadRecord(json, `${file} line ${i + 1}`)];
  });
}

/** Power and prices to turn measured times into device energy and cloud cost (docs/cost-model.md §3 formulas). */
export interface EnergyPrices {
  computeW: number;
  idleW: number;
  /** Radio power while uploading / downloading, W. */
  pUpW: number;
  pDownW: number;
  requestUSD: number;
  /** gbSecondUSD × memoryMB / 1024. */
  usdPerRemoteSecond: number;
}

/**
 * Device energy of measured parts, by docs/cost-model.md §3's formula: compute power over
 * device compute, upload/download radio power over the transfers, idle power
 * over the RTT and the wait for the cloud.
 */
export function measuredEnergyJ(
  p: EnergyPrices,
  parts: { headMs: number; deviceTailMs: number; rttMs: number; upMs: number; cloudWaitMs: number; downMs: number },
): number {
  return (p.computeW * (parts.headMs + parts.deviceTailMs) + p.pUpW * parts.upMs + p.idleW * (parts.rttMs + parts.cloudWaitMs) + p.pDownW * parts.downMs) / 1000;
}

/** Cloud cost of one served tail: the request price plus the billed init and compute time. Refused (429) requests cost nothing. */
export function measuredCostUSD(p: EnergyPrices, served: { initMs: number | null; computeMs: number | null } | null): number {
  if (!served) return 0;
  return p.requestUSD + (p.usdPerRemoteSecond * ((served.initMs ?? 0) + (served.computeMs ?? 0))) / 1000;
}

// ---------------------------------------------------------------------------
// Summaries

/** The figures of a set of records (one policy, usually). */
export interface LoadSummary {
  policy: string;
  requests: number;
  /** Records with an error (excluded from every other figure). */
  errors: number;
  latencyMs: { mean: number; p50: number; p95: number; p99: number };
  /** Mean device energy per request, J. */
  energyJ: number;
  /** Total cloud cost of the run, USD. */
  costUSD: number;
  /** Share of the requests sent to a tail (an HTTP status came back) that were refused with 429. */
  rate429: number;
  throttled: number;
  /** Requests finished on the device after sending (429, 5xx, timeout, network). */
  fallbacks: number;
  /** Requests the cloud served cold. */
  coldStarts: number;
  /** Requests served by the cloud. */
  cloud: number;
  /** Outputs checked against the full model that did not match. */
  mismatches: number;
  /**
   * |predicted − measured| / measured of the whole-request latency without
   * the wait for the plan (the cost model predicts the inference, not the
   * asking; see {@link inferenceMs}): median over all records with a
   * prediction, and over warm cloud-served ones (the cost model's warm path
   * alone). NaN when there are none.
   */
  latencyError: { median: number; warmMedian: number };
}

/**
 * Summarises records: latency percentiles (linear interpolation), mean
 * energy, total cost, 429 rate, fallbacks, cold starts, prediction error.
 * Errors are counted and left out of the figures.
 *
 * @example
 * const s = summarize(records.filter((r) => r.policy === 'planner'));
 * s.latencyMs.p95;
 */
export function summarize(records: readonly LoadRecord[], policy = policyOf(records)): LoadSummary {
  const ok = records.filter((r) => r.error === null);
  const lat = ok.map((r) => r.measured.latencyMs);
  // Sent to a tail: an HTTP status came back. A failed POST /plan (device-only, no status) is not a tail's 429.
  const sent = ok.filter((r) => r.status !== null);
  const throttled = ok.filter((r) => r.status === 429).length;
  const relErr = (r: LoadRecord) => Math.abs(r.predicted!.latencyMs - inferenceMs(r)) / inferenceMs(r);
  const predicted = ok.filter((r) => r.predicted !== null && inferenceMs(r) > 0);
  const warm = predicted.filter((r) => r.target === 'cloud' && !r.cold && r.fallback === null);
  return {
    policy,
    requests: records.length,
    errors: records.length - ok.length,
    latencyMs: {
      mean: lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : NaN,
      p50: quantile(lat, 0.5),
      p95: quantile(lat, 0.95),
      p99: quantile(lat, 0.99),
    },
    energyJ: ok.length ? ok.reduce((a, r) => a + r.measured.energyJ, 0) / ok.length : NaN,
    costUSD: ok.reduce((a, r) => a + r.measured.costUSD, 0),
    rate429: sent.length ? throttled / sent.length : 0,
    throttled,
    fallbacks: ok.filter((r) => r.fallback !== null).length,
    coldStarts: ok.filter((r) => r.cold).length,
    cloud: ok.filter((r) => r.target === 'cloud').length,
    mismatches: ok.filter((r) => r.output === 'mismatch').length,
    latencyError: { median: quantile(predicted.map(relErr), 0.5), warmMedian: quantile(warm.map(relErr), 0.5) },
  };
}

/** A request's measured latency less the time it waited on `POST /plan`: what the cost model's `latencyMs` predicts. */
export function inferenceMs(r: LoadRecord): number {
  return r.measured.latencyMs - (r.measured.planWaitMs ?? r.measured.planMs ?? 0);
}

function policyOf(records: readonly LoadRecord[]): string {
  const names = [...new Set(records.map((r) => r.policy))];
  return names.length === 1 ? names[0]! : names.length === 0 ? '(none)' : 'mixed';
}

/** One summary per policy, in the order the policies first appear. */
export function summarizeByPolicy(records: readonly LoadRecord[]): LoadSummary[] {
  const groups = new Map<string, LoadRecord[]>();
  for (const r of records) {
    const g = groups.get(r.policy);
    if (g) g.push(r);
    else groups.set(r.policy, [r]);
  }
  return [...groups].map(([policy, rs]) => summarize(rs, policy));
}

/** Columns of the summary table, in order. */
export const SUMMARY_COLUMNS = [
  'policy',
  'requests',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'mean ms',
  'energy J',
  'cost $/1k',
  '429 rate',
  'fallbacks',
  'cold',
  'cloud',
  'errors',
  'pred err',
  'warm err',
] as const;

const round = (v: number, digits: number): number | null => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

/** The summaries as table rows (numbers rounded for reading; null where a figure has no value). */
export function summaryRows(summaries: readonly LoadSummary[]): Record<(typeof SUMMARY_COLUMNS)[number], string | number | null>[] {
  return summaries.map((s) => ({
    policy: s.policy,
    requests: s.requests,
    'p50 ms': round(s.latencyMs.p50, 0),
    'p95 ms': round(s.latencyMs.p95, 0),
    'p99 ms': round(s.latencyMs.p99, 0),
    'mean ms': round(s.latencyMs.mean, 0),
    'energy J': round(s.energyJ, 3),
    'cost $/1k': round(s.requests - s.errors > 0 ? (s.costUSD / (s.requests - s.errors)) * 1000 : NaN, 4),
    '429 rate': round(s.rate429, 3),
    fallbacks: s.fallbacks,
    cold: s.coldStarts,
    cloud: s.cloud,
    errors: s.errors,
    'pred err': round(s.latencyError.median, 3),
    'warm err': round(s.latencyError.warmMedian, 3),
  }));
}

/** The summaries as a Markdown table (docs/evaluation.md and the simulator's reports). */
export function formatSummaryMarkdown(summaries: readonly LoadSummary[]): string {
  const rows = summaryRows(summaries);
  const cell = (v: string | number | null) => (v === null ? '–' : String(v));
  return [
    `| ${SUMMARY_COLUMNS.join(' | ')} |`,
    `|${SUMMARY_COLUMNS.map((c, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${SUMMARY_COLUMNS.map((c) => cell(r[c])).join(' | ')} |`),
  ].join('\n');
}
