import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors';
import { REASONS, defaultFunctionName, plan } from '../../core/planner';
import { parseScenario, type Scenario, type ScenarioInput } from '../../core/scenario';
import { handScenario } from './hand-scenario';

// Hand figures of the scenario (see hand-scenario.ts and cost.test.ts):
//   cut  sent   latencyMs  energyJ  costUSD
//   0    10000  66.5       0.0385   3.2e-7
//   1    4000   228.5      0.1765   2.88e-6
//   2    2000   183.5      0.243    8.2e-7
//   3=L  0      120        0.24     0

function planOf(edit: (s: ScenarioInput & { cloud: { functions: Record<string, object> } }) => void = () => {}) {
  const input = handScenario();
  edit(input);
  return plan(parseScenario(input));
}

function row(record: ReturnType<typeof plan>, cut: number) {
  const r = record.candidates.find((c) => c.cut === cut);
  if (!r) throw new Error(`no row for cut ${cut}`);
  return r;
}

describe('plan record (docs/cost-model.md §6)', () => {
  it('lists every candidate in ascending order plus L, with layer names', () => {
    const record = planOf();
    expect(record.candidates.map((c) => [c.cut, c.layer])).toEqual([
      [0, 'input'],
      [1, 'conv1'],
      [2, 'conv2'],
      [3, 'fc'],
    ]);
    expect(record.L).toBe(3);
    expect(record.model).toBe('hand');
    expect(record.dtype).toBe('float32');
  });

  it('chooses the least latency: cut 0 at 66.5 ms, warm, on the default function name', () => {
    const record = planOf();
    expect(record).toMatchObject({ cut: 0, target: 'cloud', feasible: true, reasons: [], function: 'offload-hand-0' });
    expect(record.predicted.latencyMs).toBeCloseTo(66.5, 12);
    expect(record.predicted.energyJ).toBeCloseTo(0.0385, 12);
    expect(record.predicted.costUSD).toBeCloseTo(3.2e-7, 18);
    expect(record.candidates.every((c) => c.feasible && c.reasons.length === 0)).toBe(true);
  });

  it('reports the fleet entry name as the function', () => {
    // cut 0 throttled → next best by latency: L 120 < cut 2 183.5; make L too slow with a constraint
    const record = planOf((s) => {
      s.cloud.functions['0'] = { idleWarm: 1, inFlight: 5, limit: 5 };
      s.constraints = { maxLatencyMs: 190 };
      s.model.layers[2]!.deviceMs = 100; // L: 40+60+100 = 200 > 190; cut 2 unchanged at 183.5
    });
    expect(record).toMatchObject({ cut: 2, function: 'hand-fc', target: 'cloud' });
  });

  it('uses the documented default function name', () => {
    expect(defaultFunctionName('resnet50', 57)).toBe('offload-resnet50-57'); // as cdk deploy names it
  });

  it('chooses by energy and by cost', () => {
    // energy: cut 0 (0.0385) < L (0.24)
    expect(planOf((s) => { s.objective = 'energy'; }).cut).toBe(0);
    // cost: device-only costs 0
    expect(planOf((s) => { s.objective = 'cost'; })).toMatchObject({ cut: 3, target: 'device', function: null });
  });
});

describe('feasibility (docs/cost-model.md §4)', () => {
  it('marks a function at its concurrency limit as throttled and moves on', () => {
    // cut 0 throttled → L (120) beats cut 2 (183.5) and cut 1 (228.5)
    const record = planOf((s) => { s.cloud.functions['0'] = { idleWarm: 1, inFlight: 5, limit: 5 }; });
    expect(row(record, 0)).toMatchObject({ feasible: false, reasons: ['throttled'] });
    expect(record.cut).toBe(3);
  });

  it('treats limit 0 as always throttled', () => {
    const record = planOf((s) => { s.cloud.functions['1'] = { idleWarm: 0, inFlight: 0, limit: 0 }; });
    expect(row(record, 1).reasons).toEqual(['throttled']);
  });

  it('applies the payload limit with base64 inflation: sent·4/3 > payloadBytes', () => {
    // cut 0: 10000·4/3 = 13333.3 > 12000 → payload; cut 1: 4000·4/3 = 5333.3 ≤ 12000
    const record = planOf((s) => { s.limits = { payloadBytes: 12_000 }; });
    expect(row(record, 0).reasons).toEqual(['payload']);
    expect(row(record, 1).feasible).toBe(true);
    expect(record.cut).toBe(3);
  });

  it('is exact at the base64 boundary: sent·4/3 == payloadBytes is allowed', () => {
    // 9000·4/3 = 12000 exactly → not over
    const record = planOf((s) => { s.model.inputBytes = 9000; s.limits = { payloadBytes: 12_000 }; });
    expect(row(record, 0).feasible).toBe(true);
    const over = planOf((s) => { s.model.inputBytes = 9001; s.limits = { payloadBytes: 12_000 }; });
    expect(row(over, 0).reasons).toEqual(['payload']);
  });

  it('compares raw bytes without base64, and never rejects for payload with staging', () => {
    // 10000 ≤ 12000 without base64
    expect(row(planOf((s) => { s.limits = { payloadBytes: 12_000, base64: false }; }), 0).feasible).toBe(true);
    expect(row(planOf((s) => { s.limits = { payloadBytes: 9_999, base64: false }; }), 0).reasons).toEqual(['payload']);
    expect(row(planOf((s) => { s.limits = { payloadBytes: 1, staging: true }; }), 0).feasible).toBe(true);
  });

  it('lists a candidate without a deployed function with the single reason no-function', () => {
    const record = planOf((s) => {
      delete s.cloud.functions['1'];
      s.constraints = { maxLatencyMs: 1 };
    });
    expect(row(record, 1)).toMatchObject({ feasible: false, reasons: ['no-function'] });
    // without a function the cut is priced as a cold start: pCold 1, coldMs 130
    expect(row(record, 1)).toMatchObject({ pCold: 1, coldMs: 130 });
  });

  it('applies each constraint with its reason', () => {
    // maxLatencyMs 150: cut1 228.5, cut2 183.5 out; cut0 66.5, L 120 in
    const lat = planOf((s) => { s.constraints = { maxLatencyMs: 150 }; s.objective = 'cost'; });
    expect(lat.candidates.map((c) => c.reasons)).toEqual([[], ['max-latency'], ['max-latency'], []]);
    expect(lat.cut).toBe(3); // cost 0
    // maxEnergyJ 0.2: cut2 0.243, L 0.24 out
    const en = planOf((s) => { s.constraints = { maxEnergyJ: 0.2 }; });
    expect(en.candidates.map((c) => c.reasons)).toEqual([[], [], ['max-energy'], ['max-energy']]);
    // maxCostUSD 1e-6: cut1 2.88e-6 out
    const cost = planOf((s) => { s.constraints = { maxCostUSD: 1e-6 }; });
    expect(cost.candidates.map((c) => c.reasons)).toEqual([[], ['max-cost'], [], []]);
  });

  it('lets a constraint force a slower plan: cost objective under a latency cap picks cut 0', () => {
    // L (cost 0) breaks maxLatencyMs 100 (120 ms); of the rest, only cut 0 (66.5 ms) fits
    const record = planOf((s) => { s.objective = 'cost'; s.constraints = { maxLatencyMs: 100 }; });
    expect(record).toMatchObject({ cut: 0, feasible: true });
  });

  it('reports feasible: false with every reason and recommends device-only when nothing fits', () => {
    const record = planOf((s) => {
      s.cloud.functions['0'] = { idleWarm: 1, inFlight: 3, limit: 3 };
      delete s.cloud.functions['1'];
      s.constraints = { maxLatencyMs: 10 };
    });
    expect(record).toMatchObject({ feasible: false, cut: 3, target: 'device', function: null });
    expect(record.reasons).toEqual(['no-function', 'throttled', 'max-latency']);
    expect(row(record, 0).reasons).toEqual(['throttled', 'max-latency']);
    expect(row(record, 3).reasons).toEqual(['max-latency']);
    // predicted = the device-only row
    expect(record.predicted).toEqual({ latencyMs: 120, energyJ: 0.24, costUSD: 0 });
  });

  it('documents every reason string it can emit', () => {
    expect(REASONS).toEqual(['no-function', 'throttled', 'payload', 'max-latency', 'max-energy', 'max-cost']);
  });
});

/**
 * A two-layer scenario for the tie rule: zero device time for layer 0 makes
 * cut 0 and cut 1 send at the same moment; layer 1's 100 ms keeps device-only
 * out under maxLatencyMs 50. With the cost objective, cut 0 and cut 1 cost
 * request + gb·(remote), where remote differs only by cloudMs[0].
 */
function tieScenario(opts: { cloudMs0: number; crossing1: number; gbSecondUSD?: number }): Scenario {
  return parseScenario({
    model: {
      name: 'tie',
      inputBytes: 1000,
      outputBytes: 100,
      layers: [
        { name: 'a', deviceMs: 0, cloudMs: opts.cloudMs0, outputBytes: 0, weightBytes: 0 },
        { name: 'b', deviceMs: 100, cloudMs: 10, outputBytes: 0, weightBytes: 0 },
      ],
      candidates: [
        { cut: 0, crossingBytes: 1000 },
        { cut: 1, crossingBytes: opts.crossing1 },
      ],
    },
    network: { uplinkMbps: 10, downlinkMbps: 10, rttMs: 10 },
    device: { computeW: 1, idleW: 1, radio: { alphaUp: 0, alphaDown: 0, beta: 0 } },
    cloud: {
      memoryMB: 1024,
      coldBaseMs: 0,
      coldMsPerMB: 0,
      requestUSD: 1e-7,
      gbSecondUSD: opts.gbSecondUSD ?? 1e-5,
      functions: { '0': { idleWarm: 1, inFlight: 0, limit: 1 }, '1': { idleWarm: 1, inFlight: 0, limit: 1 } },
    },
    encoding: { dtype: 'float32' },
    constraints: { maxLatencyMs: 50 },
    objective: 'cost',
  });
}

describe('choice and tie rule (docs/cost-model.md §5)', () => {
  it('breaks an exact tie by the smaller sentBytes', () => {
    // cloudMs0 = 0: both cuts cost 1e-7 + 1e-5·1·10/1000 = 2e-7; cut 1 sends 500 < 1000
    expect(plan(tieScenario({ cloudMs0: 0, crossing1: 500 })).cut).toBe(1);
    // cut 1 sends 2000 > 1000 → cut 0
    expect(plan(tieScenario({ cloudMs0: 0, crossing1: 2000 })).cut).toBe(0);
  });

  it('breaks a tie on equal sentBytes by the larger cut', () => {
    expect(plan(tieScenario({ cloudMs0: 0, crossing1: 1000 })).cut).toBe(1);
  });

  it('treats a relative difference below 1e-9 as a tie, and above as a difference', () => {
    // cut 0 costs 2e-7 + 1e-8·cloudMs0; cut 1 costs 2e-7.
    // cloudMs0 = 1e-8 → cut 0 costs 2e-7·(1 + 5e-10): tied (5e-10 < 1e-9) → the smaller sentBytes (cut 0, 1000 < 2000)
    const tied = plan(tieScenario({ cloudMs0: 1e-8, crossing1: 2000 }));
    expect(tied.cut).toBe(0);
    // cloudMs0 = 1e-6 → 5e-8 relative: not tied → the cheaper cut 1 despite sending more
    expect(plan(tieScenario({ cloudMs0: 1e-6, crossing1: 2000 })).cut).toBe(1);
  });

  it('ties zero objective values (0 and 0 are equal, not 0/0)', () => {
    // free functions: both cost 0 → the smaller sentBytes
    expect(plan(tieScenario({ cloudMs0: 5, crossing1: 500, gbSecondUSD: 0 })).cut).toBe(1);
  });
});

describe('no NaN reaches a plan', () => {
  it('rejects totals that overflow to infinity', () => {
    const s = parseScenario(handScenario());
    s.model.layers[0]!.deviceMs = 1e308;
    s.model.layers[1]!.deviceMs = 1e308;
    expect(() => plan(s)).toThrow(ValidationError);
    // cut 1: energy = 2 W · 1e308 ms overflows first
    expect(() => plan(s)).toThrow(/cut 1 .*not finite/);
  });

  it('rejects a NaN smuggled past the schema', () => {
    const s = parseScenario(handScenario());
    s.network.uplinkMbps = Number.NaN;
    expect(() => plan(s)).toThrow(/not finite/);
  });

  it('sorts unsorted candidates', () => {
    const input = handScenario();
    input.model.candidates.reverse();
    expect(plan(parseScenario(input)).candidates.map((c) => c.cut)).toEqual([0, 1, 2, 3]);
  });

  it('plans a model with no candidates as device-only', () => {
    const record = planOf((s) => { s.model.candidates = []; s.cloud.functions = {}; });
    expect(record).toMatchObject({ cut: 3, feasible: true, target: 'device' });
    expect(record.candidates).toHaveLength(1);
  });
});
