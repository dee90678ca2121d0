import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATTERY_FULL_LEVEL,
  BATTERY_LOW_LEVEL,
  batteryEnergyBudgetJ,
  batteryWeight,
} from '../../core/battery';
import { plan } from '../../core/planner';
import { parseScenario, type ScenarioInput } from '../../core/scenario';
import { handScenario } from './hand-scenario';
import { scenarioArbitrary } from './scenario-arbitrary';

describe('battery weight and budget', () => {
  it('slides linearly from 20 % to 80 %', () => {
    expect([BATTERY_LOW_LEVEL, BATTERY_FULL_LEVEL]).toEqual([0.2, 0.8]);
    expect(batteryWeight(0)).toBe(0);
    expect(batteryWeight(0.2)).toBe(0);
    // (0.5 − 0.2) / 0.6 = 0.5
    expect(batteryWeight(0.5)).toBeCloseTo(0.5, 15);
    expect(batteryWeight(0.8)).toBe(1);
    expect(batteryWeight(1)).toBe(1);
  });

  it('spans from the least energy to the objective choice energy', () => {
    // Emin 1 J, Eobj 3 J: level 0.5 → 1 + 0.5·2 = 2 J
    expect(batteryEnergyBudgetJ(0.5, 1, 3)).toBeCloseTo(2, 15);
    expect(batteryEnergyBudgetJ(0.1, 1, 3)).toBe(1);
    expect(batteryEnergyBudgetJ(0.9, 1, 3)).toBe(3);
  });
});

describe('battery rule on the hand scenario', () => {
  // Objective latency. Rows (hand-computed in cost.test.ts), with cut 0 throttled so the choice matters:
  //   cut 1: 228.5 ms, 0.1765 J · cut 2: 183.5 ms, 0.243 J · L: 120 ms, 0.24 J
  // base set {1, 2, L}: Emin = 0.1765 (cut 1), objective choice L (120 ms) with Eobj = 0.24
  function batteryPlan(level: number) {
    const input = handScenario();
    input.cloud.functions['0'] = { idleWarm: 1, inFlight: 5, limit: 5 };
    input.battery = { level };
    return plan(parseScenario(input));
  }

  it('plans as without a battery when full', () => {
    const record = batteryPlan(1);
    expect(record.cut).toBe(3);
    expect(record.battery).toEqual({ level: 1, weight: 1, energyBudgetJ: 0.24 });
  });

  it('allows only the least-energy cut when low', () => {
    const record = batteryPlan(0.1);
    // budget = Emin = 0.1765 → cut 2 (0.243) and L (0.24) break it
    expect(record.battery?.energyBudgetJ).toBe(0.1765);
    expect(record.cut).toBe(1);
    expect(record.candidates.find((r) => r.cut === 3)?.reasons).toEqual(['max-energy']);
  });

  it('slides between: at 50 % the budget is halfway', () => {
    // budget = 0.1765 + 0.5·(0.24 − 0.1765) = 0.20825 → L (0.24) out, cut 1 (0.1765) in, cut 2 (0.243) out
    const record = batteryPlan(0.5);
    expect(record.battery?.energyBudgetJ).toBeCloseTo(0.20825, 12);
    expect(record.cut).toBe(1);
  });
});

/** Scenarios without battery or energy constraint, so the battery can be added. */
const batteryFree = scenarioArbitrary({ constraints: true }).map((s): ScenarioInput => {
  const { battery: _drop, ...rest } = s;
  return { ...rest, constraints: { ...(s.constraints ?? {}), maxEnergyJ: null } };
});

describe('battery rule is monotone (property)', () => {
  it('a lower level never yields a plan that uses more device energy (3,000 scenarios × 2 levels)', () => {
    fc.assert(
      fc.property(batteryFree, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (s, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const eLow = plan(parseScenario({ ...s, battery: { level: low } })).predicted.energyJ;
        const eHigh = plan(parseScenario({ ...s, battery: { level: high } })).predicted.energyJ;
        if (!(eLow <= eHigh)) throw new Error(`level ${low}: ${eLow} J > level ${high}: ${eHigh} J`);
      }),
      { numRuns: 3000 },
    );
  });

  it('is non-increasing along a sweep of 21 levels, ends at the no-battery plan and at the least energy (1,000 scenarios)', () => {
    let bindingSweeps = 0;
    fc.assert(
      fc.property(batteryFree, (s) => {
        const energies = Array.from({ length: 21 }, (_, i) => plan(parseScenario({ ...s, battery: { level: i / 20 } })).predicted.energyJ);
        for (let i = 1; i < energies.length; i++) {
          if (!(energies[i - 1]! <= energies[i]!)) throw new Error(`sweep not monotone at ${i}: ${energies.join(', ')}`);
        }
        const unconstrained = plan(parseScenario(s));
        const full = plan(parseScenario({ ...s, battery: { level: 1 } }));
        if (full.cut !== unconstrained.cut) throw new Error(`full battery ${full.cut} ≠ no battery ${unconstrained.cut}`);
        if (unconstrained.feasible) {
          // empty battery: the least energy among the cuts that pass every other check
          const others = unconstrained.candidates.filter((r) => r.feasible);
          const least = Math.min(...others.map((r) => r.energyJ));
          if (energies[0] !== least) throw new Error(`empty battery ${energies[0]} J ≠ least ${least} J`);
        }
        if (energies[0]! < energies[20]!) bindingSweeps++;
      }),
      { numRuns: 1000 },
    );
    // the property is not vacuous: in many scenarios the battery changes the plan
    expect(bindingSweeps).toBeGreaterThan(50);
  });
});
