import { describe, expect, it } from 'vitest';
import { plan } from '../../core/planner';
import { choosePolicyCut, fleetBlindChoice, fleetBlindScenario, parsePolicies, parsePolicy, policyName } from '../../core/policies';
import { parseScenario } from '../../core/scenario';
import { handScenario } from './hand-scenario';

/** The hand scenario with cut 0 at its limit and cold: the planner avoids it, a fleet-blind policy does not. */
function contended() {
  const s = handScenario();
  s.cloud.functions['0'] = { idleWarm: 0, inFlight: 5, limit: 5 };
  return parseScenario(s);
}

describe('parsePolicy', () => {
  it('parses every policy and writes it back the same', () => {
    for (const name of ['planner', 'fleet-blind', 'cloud-only', 'device-only', 'cut:0', 'cut:93']) expect(policyName(parsePolicy(name))).toBe(name);
    expect(parsePolicy('cut:93')).toEqual({ kind: 'cut', cut: 93 });
  });

  it('rejects unknown policies and bad cuts in one line naming the policies', () => {
    expect(() => parsePolicy('greedy')).toThrow(/^policy: unknown policy "greedy" \(one of planner, fleet-blind, cloud-only, device-only, cut:C\)$/);
    expect(() => parsePolicy('cut:-1')).toThrow(/^policy: cut:C needs a non-negative integer cut \(got "cut:-1"\)$/);
    expect(() => parsePolicy('cut:')).toThrow(/non-negative integer/);
    expect(() => parsePolicy('cut:01')).toThrow(/non-negative integer/);
  });

  it('parses lists; empty entries and duplicates are errors', () => {
    expect(parsePolicies('planner, fleet-blind,cut:2').map(policyName)).toEqual(['planner', 'fleet-blind', 'cut:2']);
    expect(() => parsePolicies('planner,,cut:2')).toThrow(/empty policy/);
    expect(() => parsePolicies('planner,planner')).toThrow(/planner is given twice/);
  });
});

describe('choosePolicyCut', () => {
  const record = plan(contended());

  it('planner takes the plan’s cut; the static policies their own', () => {
    // cut 0 throttled; cut 1 cold 228.5 ms; cut 2 cold 183.5 ms; device-only 120 ms.
    expect(choosePolicyCut({ kind: 'planner' }, record).cut).toBe(3);
    expect(choosePolicyCut({ kind: 'device-only' }, record).cut).toBe(3);
    expect(choosePolicyCut({ kind: 'cloud-only' }, record).cut).toBe(0);
    expect(choosePolicyCut({ kind: 'cut', cut: 2 }, record).cut).toBe(2);
    // A static policy believes its cut warm: cut 2 at 183.5 − 30 (its measured cold start) = 153.5 ms.
    expect(choosePolicyCut({ kind: 'cut', cut: 2 }, record).believed.latencyMs).toBe(153.5);
    expect(choosePolicyCut({ kind: 'planner' }, record).believed).toBe(record.candidates[3]);
  });

  it('fleet-blind takes the best warm cut whatever the fleet: cut 0 at 66.5 ms, believing it warm', () => {
    const c = choosePolicyCut({ kind: 'fleet-blind' }, record);
    expect(c.cut).toBe(0);
    expect(c.row.reasons).toEqual(['throttled']);
    expect(c.believed.coldMs).toBe(0);
    expect(c.believed.latencyMs).toBeCloseTo(66.5, 9);
  });

  it('fleet-blind from the rows agrees with planning the all-warm, unthrottled scenario', () => {
    const s = contended();
    expect(fleetBlindChoice(plan(s)).cut).toBe(plan(fleetBlindScenario(s)).cut);
    const slowCut0 = handScenario();
    slowCut0.network.uplinkMbps = 0.5; // warm: cut 0 216.5 ms, cut 1 158.5, cut 2 183.5; device-only 120 wins
    const s2 = parseScenario(slowCut0);
    expect(fleetBlindChoice(plan(s2)).cut).toBe(3);
    expect(plan(fleetBlindScenario(s2)).cut).toBe(3);
  });

  it('a cut that is not a candidate is an error naming the candidates', () => {
    expect(() => choosePolicyCut({ kind: 'cut', cut: 7 }, record)).toThrow(/^policy: cut 7 is not a candidate of hand \(candidates: 0, 1, 2; 3 is device-only\)$/);
  });

  it('fleet-blind over rows refuses objectives it cannot price warm', () => {
    const s = handScenario();
    s.objective = 'energy';
    expect(() => fleetBlindChoice(plan(parseScenario(s)))).toThrow(/latency objective only/);
  });
});
