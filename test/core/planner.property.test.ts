/**
 * Exactness: the planner (prefix sums, bit masks, one pass) against the
 * brute-force reference written from the spec text (reference-planner.ts),
 * on 12,000 random scenarios in all. Every row and the choice agree to 1e-9
 * relative; reasons, feasibility, the chosen cut and function agree exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plan, type PlanRecord } from '../../core/planner';
import { parseScenario } from '../../core/scenario';
import { referencePlan, type RefPlan } from '../../testkit/reference-planner';
import { scenarioArbitrary } from './scenario-arbitrary';

const FIGURES = [
  'sentBytes', 'headMs', 'upMs', 'tailMs', 'pCold', 'coldStartMs', 'coldMs', 'downMs', 'latencyMs', 'energyJ', 'costUSD',
] as const;

function close(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Throws (with the first difference) unless the record agrees with the
 * reference. Plain comparisons, not expect(): it runs ~2 million times.
 */
function assertAgrees(record: PlanRecord, ref: RefPlan): void {
  const fail = (what: string, a: unknown, b: unknown) => {
    throw new Error(`${what}: planner ${JSON.stringify(a)} vs reference ${JSON.stringify(b)}`);
  };
  if (record.candidates.length !== ref.rows.length) fail('rows', record.candidates.length, ref.rows.length);
  record.candidates.forEach((row, i) => {
    const r = ref.rows[i]!;
    if (row.cut !== r.cut || row.layer !== r.layer) fail(`row ${i}`, [row.cut, row.layer], [r.cut, r.layer]);
    for (const key of FIGURES) {
      if (!Number.isFinite(row[key])) fail(`cut ${row.cut} ${key} finite`, row[key], r[key]);
      if (!close(row[key], r[key])) fail(`cut ${row.cut} ${key}`, row[key], r[key]);
    }
    if (!same(row.reasons, r.reasons)) fail(`cut ${row.cut} reasons`, row.reasons, r.reasons);
    if (row.feasible !== r.feasible) fail(`cut ${row.cut} feasible`, row.feasible, r.feasible);
  });
  if (record.cut !== ref.cut) fail('chosen cut', record.cut, ref.cut);
  if (record.feasible !== ref.feasible) fail('feasible', record.feasible, ref.feasible);
  if (record.function !== ref.function) fail('function', record.function, ref.function);
  if (!same(record.reasons, ref.reasons)) fail('reasons', record.reasons, ref.reasons);
  if (record.target !== (ref.cut === record.L ? 'device' : 'cloud')) fail('target', record.target, ref.cut);
  const chosen = ref.rows.find((r) => r.cut === ref.cut)!;
  if (!close(record.predicted.latencyMs, chosen.latencyMs)) fail('predicted.latencyMs', record.predicted, chosen);
  if (!close(record.predicted.energyJ, chosen.energyJ)) fail('predicted.energyJ', record.predicted, chosen);
  if (!close(record.predicted.costUSD, chosen.costUSD)) fail('predicted.costUSD', record.predicted, chosen);
  const budget = record.battery?.energyBudgetJ ?? null;
  if (budget === null ? ref.energyBudgetJ !== null : ref.energyBudgetJ === null || !close(budget, ref.energyBudgetJ)) {
    fail('battery budget', budget, ref.energyBudgetJ);
  }
}

/** How often each situation came up, so the test proves the generators reach them. */
const seen = {
  scenarios: 0, throttled: 0, payload: 0, noFunction: 0, maxLatency: 0, maxEnergy: 0, maxCost: 0,
  infeasible: 0, cloudChosen: 0, deviceChosen: 0, cutZeroChosen: 0, cold: 0, warm: 0, battery: 0, staging: 0,
  exactTies: 0,
};

function check(input: Parameters<typeof parseScenario>[0]): void {
  const scenario = parseScenario(input);
  const record = plan(scenario);
  assertAgrees(record, referencePlan(scenario));
  seen.scenarios++;
  const reasons = new Set(record.candidates.flatMap((r) => r.reasons));
  if (reasons.has('throttled')) seen.throttled++;
  if (reasons.has('payload')) seen.payload++;
  if (reasons.has('no-function')) seen.noFunction++;
  if (reasons.has('max-latency')) seen.maxLatency++;
  if (reasons.has('max-energy')) seen.maxEnergy++;
  if (reasons.has('max-cost')) seen.maxCost++;
  if (!record.feasible) seen.infeasible++;
  if (record.target === 'cloud') seen.cloudChosen++;
  else seen.deviceChosen++;
  if (record.cut === 0 && record.target === 'cloud') seen.cutZeroChosen++;
  if (record.candidates.some((r) => r.cut < record.L && !r.reasons.includes('no-function') && r.pCold === 1)) seen.cold++;
  if (record.candidates.some((r) => r.cut < record.L && r.pCold === 0)) seen.warm++;
  if (record.battery) seen.battery++;
  if (scenario.limits.staging) seen.staging++;
  const feasible = record.candidates.filter((r) => r.feasible);
  const key = scenario.objective === 'latency' ? 'latencyMs' : scenario.objective === 'energy' ? 'energyJ' : 'costUSD';
  const best = Math.min(...feasible.map((r) => r[key]));
  if (feasible.filter((r) => r[key] === best).length > 1) seen.exactTies++;
}

describe('planner = brute-force reference', () => {
  it('on chains and sparse (DAG) candidate sets without constraints (3,000 scenarios)', () => {
    fc.assert(fc.property(scenarioArbitrary(), check), { numRuns: 3000 });
  });

  it('with constraints that bind or not (4,000 scenarios)', () => {
    fc.assert(fc.property(scenarioArbitrary({ constraints: true }), check), { numRuns: 4000 });
  });

  it('with battery levels and the other constraints (3,000 scenarios)', () => {
    fc.assert(fc.property(scenarioArbitrary({ constraints: true, battery: true }), check), { numRuns: 3000 });
  });

  it('on large models (1,000 scenarios of up to 300 layers)', () => {
    fc.assert(fc.property(scenarioArbitrary({ maxLayers: 300, constraints: true, battery: true }), check), {
      numRuns: 1000,
    });
  });

  it('reached every situation many times', () => {
    expect(seen.scenarios).toBe(11_000);
    for (const [situation, count] of Object.entries(seen)) {
      expect.soft(count, situation).toBeGreaterThanOrEqual(100);
    }
  });
});
