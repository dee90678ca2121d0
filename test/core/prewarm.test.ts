/**
 * Planner prewarm (core/prewarm.ts): the hand scenario's cold-fleet trap
 * worked by hand, and properties against the brute-force reference planner
 * (testkit/reference-planner.ts, no code shared with core/) on random scenarios.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plan } from '../../core/planner';
import { decidePrewarm, DEFAULT_PREWARM_OPTIONS, PrewarmMemory, prewarmCandidate, prewarmDedupeMs, type PrewarmDecision, type PrewarmHistory } from '../../core/prewarm';
import { DEFAULT_KEEPALIVE_MS } from '../../functions/commons/registry';
import { parseScenario, type Scenario, type ScenarioInput } from '../../core/scenario';
import { referencePlan, type RefPlan } from '../../testkit/reference-planner';
import { handScenario } from './hand-scenario';
import { scenarioArbitrary } from './scenario-arbitrary';

/**
 * The hand scenario with every tail cold (test/core/hand-scenario.ts gives the figures):
 * latency cold / warm: cut 0 206.5 / 66.5 (cold start 100 + 10×4 = 140), cut 1 228.5 / 98.5 (130),
 * cut 2 183.5 / 153.5 (measured 30), device-only 120. The planner picks device-only; warm, cut 0 wins.
 */
function trap(edit: (s: ReturnType<typeof handScenario>) => void = () => undefined): Scenario {
  const s = handScenario();
  s.cloud.functions = {
    '0': { idleWarm: 0, inFlight: 0, limit: 5 },
    '1': { idleWarm: 0, inFlight: 0, limit: 5 },
    '2': { idleWarm: 0, inFlight: 0, limit: 5, coldStartMs: 30, name: 'hand-fc' },
  };
  edit(s);
  return parseScenario(s);
}

/** A history in which the same tail was wanted just before (traffic recurs) and nothing was prewarmed: the scenario alone decides. */
const never: PrewarmHistory = { lastSentAt: () => undefined, lastDemandAt: () => 0 };

describe('decidePrewarm on the hand scenario', () => {
  it('prewarms the cut that would win warm when the planner stays on the device because every tail is cold', () => {
    // Prepare
    const s = trap();
    const record = plan(s);
    // Act
    const d = decidePrewarm(s, record, never, 0);
    // Assess: the plan itself is untouched (device-only at 120 ms), the prewarm targets cut 0
    expect(record.cut).toBe(3);
    expect(record.predicted.latencyMs).toBe(120);
    expect(d).toEqual({ prewarm: true, cut: 0, function: 'offload-hand-0', chosenValue: 120, warmValue: 66.5, gain: (120 - 66.5) / 120, dedupeMs: 2000 });
  });

  it('names the function as the fleet entry does', () => {
    // cuts 0 and 1 throttled; device-only 170 ms: cut 2 cold 183.5 loses, warm 153.5 wins
    const s = trap((x) => {
      x.cloud.functions['0'] = { idleWarm: 0, inFlight: 5, limit: 5 };
      x.cloud.functions['1'] = { idleWarm: 0, inFlight: 5, limit: 5 };
      x.model.layers[2]!.deviceMs = 70;
    });
    const record = plan(s);
    expect(record.cut).toBe(3);
    expect(decidePrewarm(s, record, never, 0)).toEqual({ prewarm: true, cut: 2, function: 'hand-fc', chosenValue: 170, warmValue: 153.5, gain: 16.5 / 170, dedupeMs: 2000 });
  });

  it('leaves alone a cold tail the plan chooses anyway: its request warms it', () => {
    const s = trap((x) => {
      x.cloud.functions['0'] = { idleWarm: 0, inFlight: 5, limit: 5 };
      x.cloud.functions['1'] = { idleWarm: 0, inFlight: 5, limit: 5 };
      x.model.layers[2]!.deviceMs = 200; // device-only 300 ms: cut 2 cold (183.5 ms) is chosen
    });
    const record = plan(s);
    expect(record.cut).toBe(2);
    expect(decidePrewarm(s, record, never, 0)).toEqual({ prewarm: false, reason: 'warm-same' });
  });

  it('never prewarms a throttled function: the warm choice keeps the same feasibility', () => {
    // cut 0 is at its limit: warm, cut 1 (98.5 ms) beats the device (120 ms)
    const s = trap((x) => {
      x.cloud.functions['0'] = { idleWarm: 0, inFlight: 5, limit: 5 };
    });
    const d = decidePrewarm(s, plan(s), never, 0);
    expect(d).toMatchObject({ prewarm: true, cut: 1, function: 'offload-hand-1', warmValue: 98.5 });
    // every function at its limit: nothing to prewarm
    const all = trap((x) => {
      for (const k of ['0', '1', '2']) x.cloud.functions[k] = { idleWarm: 0, inFlight: 1, limit: 1 };
    });
    expect(decidePrewarm(all, plan(all), never, 0)).toEqual({ prewarm: false, reason: 'warm-same' });
  });

  it('does nothing when a warm tail is already chosen', () => {
    const s = trap((x) => {
      x.cloud.functions['0'] = { idleWarm: 1, inFlight: 0, limit: 5 };
    });
    const record = plan(s);
    expect(record.cut).toBe(0);
    expect(decidePrewarm(s, record, never, 0)).toEqual({ prewarm: false, reason: 'warm-same' });
  });

  it('does nothing when the gain is below minGain (44.6 % here)', () => {
    const s = trap();
    const record = plan(s);
    expect(decidePrewarm(s, record, never, 0, { ...DEFAULT_PREWARM_OPTIONS, minGain: 0.45 })).toEqual({ prewarm: false, reason: 'no-gain', cut: 0 });
    expect(decidePrewarm(s, record, never, 0, { ...DEFAULT_PREWARM_OPTIONS, minGain: 0.44 }).prewarm).toBe(true);
  });

  it('judges constraints on the warm figures: a latency cap that rules out every cold tail does not rule out warming one', () => {
    const s = trap((x) => {
      x.constraints = { maxLatencyMs: 150, maxEnergyJ: null, maxCostUSD: null };
    });
    const record = plan(s);
    expect(record.cut).toBe(3);
    expect(record.candidates.find((r) => r.cut === 0)!.reasons).toEqual(['max-latency']);
    expect(decidePrewarm(s, record, never, 0)).toMatchObject({ prewarm: true, cut: 0 });
  });

  it('never prewarms for the cost objective when the device is free', () => {
    const s = trap((x) => {
      x.objective = 'cost';
    });
    expect(decidePrewarm(s, plan(s), never, 0)).toEqual({ prewarm: false, reason: 'warm-same' });
  });

  it('prewarms for the energy objective on the warm energy figures', () => {
    // idle power 2 W: device-only 2 W × 120 ms = 0.24 J; cut 0 cold 1 W × 10 ms + 2 W × (50 + 6 + 140) ms + 1 W × 0.5 ms
    // = 0.4025 J, warm 0.0105 + 2 × 0.056 = 0.1225 J (cuts 1 and 2 are worse either way)
    const s = trap((x) => {
      x.objective = 'energy';
      x.device.idleW = 2;
    });
    const record = plan(s);
    const d = decidePrewarm(s, record, never, 0);
    expect(record.cut).toBe(3);
    expect(d.prewarm && d.cut).toBe(0);
    expect(d.prewarm && d.warmValue).toBeCloseTo(0.1225, 12);
  });
});

describe('dedupe', () => {
  it('clamps twice the predicted cold start to [2 s, 30 s]', () => {
    expect(prewarmDedupeMs(140)).toBe(2000);
    expect(prewarmDedupeMs(4000)).toBe(8000);
    expect(prewarmDedupeMs(60_000)).toBe(30_000);
  });

  it('sends one prewarm per window and function, then again once the window has passed', () => {
    const s = trap((x) => {
      x.cloud.coldBaseMs = 1960; // cut 0: 1960 + 40 = 2000 ms → window 4000 ms
    });
    const record = plan(s);
    const dedupe = new PrewarmMemory();
    expect(dedupe.decide(s, record, 9_000)).toEqual({ prewarm: false, reason: 'no-recurrence', cut: 0 });
    expect(dedupe.decide(s, record, 10_000)).toMatchObject({ prewarm: true, cut: 0, dedupeMs: 4000 });
    expect(dedupe.decide(s, record, 10_001)).toEqual({ prewarm: false, reason: 'recent', cut: 0 });
    expect(dedupe.decide(s, record, 13_999)).toEqual({ prewarm: false, reason: 'recent', cut: 0 });
    expect(dedupe.decide(s, record, 14_000)).toMatchObject({ prewarm: true, cut: 0 });
    expect(dedupe.lastSentAt('offload-hand-0')).toBe(14_000);
  });

});

describe('recurrence (the traffic must come back within the keep-alive)', () => {
  const s = trap();
  const record = plan(s);
  const fn = 'offload-hand-0';

  it('assumes the planner\'s default keep-alive (functions/commons/registry.ts)', () => {
    expect(DEFAULT_PREWARM_OPTIONS.recurrenceMs).toBe(DEFAULT_KEEPALIVE_MS);
  });

  it('fires on the second of two plans within the keep-alive, not on the first', () => {
    const memory = new PrewarmMemory();
    expect(memory.decide(s, record, 1_000)).toEqual({ prewarm: false, reason: 'no-recurrence', cut: 0 });
    expect(memory.lastDemandAt(fn)).toBe(1_000);
    expect(memory.decide(s, record, 1_000 + DEFAULT_KEEPALIVE_MS)).toMatchObject({ prewarm: true, cut: 0, function: fn });
    expect(memory.lastSentAt(fn)).toBe(1_000 + DEFAULT_KEEPALIVE_MS);
  });

  it('never fires on plans further apart than the keep-alive (sparse traffic), however many', () => {
    const memory = new PrewarmMemory();
    for (let k = 0; k < 50; k++) expect(memory.decide(s, record, k * (DEFAULT_KEEPALIVE_MS + 1))).toEqual({ prewarm: false, reason: 'no-recurrence', cut: 0 });
    expect(memory.lastSentAt(fn)).toBeUndefined();
    // the window is the planner's own setting
    const short = { ...DEFAULT_PREWARM_OPTIONS, recurrenceMs: 10_000 };
    const m2 = new PrewarmMemory();
    m2.decide(s, record, 0, short);
    expect(m2.decide(s, record, 10_001, short)).toEqual({ prewarm: false, reason: 'no-recurrence', cut: 0 });
    expect(m2.decide(s, record, 20_001, short)).toMatchObject({ prewarm: true, cut: 0 });
  });

  it('counts a plan that went to the tail (warm) as demand for it', () => {
    const warm = trap((x) => {
      x.cloud.functions['0'] = { idleWarm: 1, inFlight: 0, limit: 5 };
    });
    const memory = new PrewarmMemory();
    expect(memory.decide(warm, plan(warm), 0)).toEqual({ prewarm: false, reason: 'warm-same' });
    // the environment was reaped meanwhile: the next plan stays on the device and warms the tail again
    expect(memory.decide(s, record, 60_000)).toMatchObject({ prewarm: true, cut: 0 });
  });

  it('does not count a plan whose warm choice is another tail, or the device', () => {
    const memory = new PrewarmMemory();
    // cut 0 throttled: the warm choice is cut 1
    const other = trap((x) => {
      x.cloud.functions['0'] = { idleWarm: 0, inFlight: 5, limit: 5 };
    });
    expect(memory.decide(other, plan(other), 0)).toEqual({ prewarm: false, reason: 'no-recurrence', cut: 1 });
    const device = trap((x) => {
      x.objective = 'cost';
    });
    expect(memory.decide(device, plan(device), 1)).toEqual({ prewarm: false, reason: 'warm-same' });
    expect(prewarmCandidate(device, plan(device)).demand).toBeNull();
    expect(memory.decide(s, record, 2)).toEqual({ prewarm: false, reason: 'no-recurrence', cut: 0 });
    expect(memory.decide(s, record, 3)).toMatchObject({ prewarm: true, cut: 0 });
  });

  it('keeps one timestamp per function and forgets those that can no longer count', () => {
    const memory = new PrewarmMemory();
    const named = (name: string) =>
      trap((x) => {
        x.cloud.functions['0'] = { idleWarm: 0, inFlight: 0, limit: 5, name };
      });
    // 1,000 plans over 100 functions, each function every 100 s: one demand timestamp per function (and a prewarm each)
    for (let k = 0; k < 1_000; k++) {
      const sc = named(`fn-${k % 100}`);
      memory.decide(sc, plan(sc), k * 1_000);
    }
    expect(memory.size).toBeLessThanOrEqual(100 + 31); // 100 demands, prewarms of the last 30 s (one a second) + 1
    // long after, one new function: every entry past its window is dropped first
    const late = named('fn-late');
    memory.decide(late, plan(late), 10_000_000);
    expect(memory.size).toBe(1);
    expect(memory.lastDemandAt('fn-late')).toBe(10_000_000);
    expect(memory.lastDemandAt('fn-0')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// Properties against the reference planner

function objectiveOfRef(ref: RefPlan, objective: Scenario['objective']): number {
  const row = ref.rows.find((r) => r.cut === ref.cut)!;
  return objective === 'latency' ? row.latencyMs : objective === 'energy' ? row.energyJ : row.costUSD;
}

/** The warm scenario written independently of core/prewarm.ts warmScenario. */
function warmedByHand(s: Scenario): Scenario {
  const copy = structuredClone(s);
  for (const f of Object.values(copy.cloud.functions)) if (f.idleWarm === 0) f.idleWarm = 1;
  return copy;
}

const seen = { prewarm: 0, noGain: 0, warmSame: 0, deviceBest: 0 };

function checkProperty(input: ScenarioInput, minGain: number): void {
  const s = parseScenario(input);
  const record = plan(s);
  const options = { ...DEFAULT_PREWARM_OPTIONS, minGain };
  const d: PrewarmDecision = decidePrewarm(s, record, never, 0, options);
  const ref = referencePlan(warmedByHand(s));
  const L = s.model.layers.length;
  const chosen = s.objective === 'latency' ? record.predicted.latencyMs : s.objective === 'energy' ? record.predicted.energyJ : record.predicted.costUSD;
  const warmValue = objectiveOfRef(ref, s.objective);
  const gain = chosen > 0 ? (chosen - warmValue) / chosen : 0;
  if (d.prewarm) {
    seen.prewarm++;
    const fleet = s.cloud.functions[String(d.cut)]!;
    // the warm choice, a cloud cut other than the plan's, with room under its limit and no idle environment
    if (d.cut !== ref.cut || !ref.feasible) throw new Error(`prewarm cut ${d.cut}, reference warm choice ${ref.cut}`);
    if (d.cut === record.cut || d.cut >= L) throw new Error(`prewarm of the chosen cut or device-only: ${d.cut}`);
    if (fleet.idleWarm !== 0 || fleet.inFlight >= fleet.limit) throw new Error(`prewarm of a warm or throttled function: ${JSON.stringify(fleet)}`);
    // it pays: warm, the cut beats the plan by at least minGain
    if (!(warmValue <= chosen * (1 - minGain) * (1 + 1e-9))) throw new Error(`prewarm that does not pay: warm ${warmValue} vs chosen ${chosen}`);
  } else {
    if (d.reason === 'no-gain') seen.noGain++;
    if (d.reason === 'warm-same') seen.warmSame++;
    if (d.reason === 'device-best') seen.deviceBest++;
    // and nothing that pays is missed (away from the minGain boundary, where rounding decides)
    const fleet = ref.cut < L ? s.cloud.functions[String(ref.cut)] : undefined;
    const pays = ref.feasible && ref.cut < L && ref.cut !== record.cut && gain > minGain + 1e-9 && warmValue < chosen;
    if (pays && fleet && fleet.idleWarm === 0 && fleet.inFlight < fleet.limit) {
      throw new Error(`missed prewarm of cut ${ref.cut}: ${d.reason}, gain ${gain}`);
    }
  }
}

describe('decidePrewarm properties (against the reference planner)', () => {
  it('prewarms exactly the warm choice when it pays, never a throttled, warm or chosen tail (3,000 scenarios)', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ constraints: true, battery: true }), fc.constantFrom(0, 0.05, 0.3), (input, minGain) => checkProperty(input, minGain)),
      { numRuns: 3000 },
    );
    // the generators reach every branch (over 40 seeds: prewarm 24–44, no-gain 15–44, warm-same ≥ 2,917 times)
    expect(seen.prewarm).toBeGreaterThanOrEqual(5);
    expect(seen.noGain).toBeGreaterThanOrEqual(5);
    expect(seen.warmSame).toBeGreaterThanOrEqual(50);
  });

  it('a run of plans never prewarms one function twice within its window', () => {
    fc.assert(
      fc.property(scenarioArbitrary(), fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 40 }), (input, gaps) => {
        const s = parseScenario(input);
        const record = plan(s);
        const dedupe = new PrewarmMemory();
        const sent = new Map<string, number>();
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          const d = dedupe.decide(s, record, now);
          if (!d.prewarm) continue;
          const last = sent.get(d.function);
          if (last !== undefined && now - last < d.dedupeMs) throw new Error(`${d.function} prewarmed at ${last} and ${now}, window ${d.dedupeMs}`);
          sent.set(d.function, now);
        }
      }),
      { numRuns: 500 },
    );
  });
});
