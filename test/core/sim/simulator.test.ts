import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoadRecordSchema, summarize, type LoadRecord } from '../../../core/load-record';
import type { Policy } from '../../../core/policies';
import { DEFAULT_PREWARM_OPTIONS } from '../../../core/prewarm';
import { deviceStart, simulate, type SimulationInput } from '../../../core/sim/simulator';
import { generateWorkload, makeDevices } from '../../../core/workload';
import { handArrivals, handFunctions, handScenarioFor } from './hand-fleet';

function run(over: Partial<SimulationInput> & { policy: Policy }) {
  const records: LoadRecord[] = [];
  const result = simulate({
    arrivals: handArrivals([0]),
    functions: handFunctions(),
    scenarioFor: handScenarioFor,
    onRecord: (r) => records.push(r),
    ...over,
  });
  return { result, records };
}

describe('simulate: one request at a time, by hand', () => {
  it('a cold start then warm reuse at a static cut', () => {
    // cut 1: head 40 + RTT 50 + up 4 + (cold 130) + tail 4 + down 0.5
    const { records, result } = run({ policy: { kind: 'cut', cut: 1 }, arrivals: handArrivals([0, 1000]) });
    expect(records.map((r) => [r.cold, r.measured.latencyMs, r.measured.initMs, r.measured.computeMs])).toEqual([
      [true, 228.5, 130, 4],
      [false, 98.5, null, 4],
    ]);
    // cost: 2e-7 + 1e-5 × 2 GB × billed s
    expect(records[0]!.measured.costUSD).toBeCloseTo(2e-7 + 2e-5 * 0.134, 15);
    expect(result.functions.find((f) => f.cut === 1)).toMatchObject({ cold: 1, warm: 1, invocations: 2 });
  });

  it('a 429 at the reserved concurrency: the device finishes the tail (fallback as the client does)', () => {
    const { records, result } = run({
      policy: { kind: 'cut', cut: 2 },
      functions: handFunctions({ reservedConcurrency: 1 }),
      arrivals: handArrivals([0, 0]),
    });
    const refused = records[1]!;
    expect(refused).toMatchObject({ status: 429, fallback: 'throttled', target: 'device', cold: false });
    // head 100 + RTT 50 + up 2 + device tail 20; energy 2 W × 120 ms + 1 W × 2 ms + 0.5 W × 50 ms
    expect(refused.measured.latencyMs).toBe(172);
    expect(refused.measured.energyJ).toBeCloseTo(0.267, 12);
    expect(refused.measured.costUSD).toBe(0);
    expect(result.summary).toMatchObject({ throttled: 1, fallbacks: 1, rate429: 0.5, coldStarts: 1 });
  });

  it('provisioned concurrency is never cold, and its fixed charge is reported', () => {
    const functions = handFunctions({ provisionedConcurrency: 2 });
    const { records, result } = run({ policy: { kind: 'cloud-only' }, functions, arrivals: handArrivals([0, 0, 3_600_000]) });
    expect(records.every((r) => r.target === 'cloud' && !r.cold)).toBe(true);
    // 3 functions × 2 environments × 2 GB × 3,600 s (and a little) × $0.0000041667
    expect(result.provisionedUSD).toBeCloseTo(3 * 2 * 2 * (result.spanMs / 1000) * 0.0000041667, 9);
  });

  it('the planner sees a cold fleet and keeps the model on the device; fleet-blind sends it and pays the cold start', () => {
    const planner = run({ policy: { kind: 'planner' } }).records[0]!;
    const blind = run({ policy: { kind: 'fleet-blind' } }).records[0]!;
    // All cold: cut 0 costs 206.5 ms, device-only 120 ms. Warm, cut 0 would be 66.5 ms.
    expect([planner.cut, planner.target, planner.measured.planMs]).toEqual([3, 'device', 60]);
    // The device ran the model while it asked: the plan's round trip is hidden behind it.
    expect(planner.measured.latencyMs).toBe(120);
    expect([blind.cut, blind.cold, blind.measured.latencyMs, blind.predicted!.latencyMs]).toEqual([0, true, 206.5, 66.5]);
  });

  it('the planner avoids a function it sees throttled, within its cache period', () => {
    // Two provisioned at cut 0 with reserved 2: after two plans the ledger shows the function full.
    const functions = handFunctions({ reservedConcurrency: 2, provisionedConcurrency: 2 }, [0]);
    const records = run({ policy: { kind: 'planner' }, functions, arrivals: handArrivals([0, 1, 2]) }).records.sort((a, b) => a.i - b.i);
    expect(records.map((r) => r.cut)).toEqual([0, 0, 3]);
    expect(records[2]!.fleet).toBeNull();
    expect(records[1]!.fleet).toEqual({ idleWarm: 1, inFlight: 1, limit: 2 });
  });
});

describe('simulate: the device starts its head while the plan is in flight (waitForPlan: false, the default)', () => {
  // Hand scenario: layers 40, 60, 20 ms on the device (head(1) 40, head(2) 100, whole 120); RTT 50 ms, so the plan
  // takes 60 ms; compute 2 W, idle 0.5 W, upload radio 1 W; cut 1 uploads 4 ms, cut 0 10 ms; download 0.5 ms.
  const both = (over: Partial<SimulationInput>) => {
    const byI = (r: { records: LoadRecord[] }) => [...r.records].sort((a, b) => a.i - b.i);
    return { on: byI(run({ policy: { kind: 'planner' }, ...over })), off: byI(run({ policy: { kind: 'planner' }, ...over, waitForPlan: true })) };
  };
  const parts = (r: LoadRecord) => [r.cut, r.planCut, r.target, r.measured.latencyMs, r.measured.planMs, r.measured.planWaitMs];

  it('device-only: the device never waits for the plan; waiting for it costs its round trip at idle power', () => {
    const { on, off } = both({});
    expect(parts(on[0]!)).toEqual([3, 3, 'device', 120, 60, 0]);
    expect(parts(off[0]!)).toEqual([3, 3, 'device', 180, 60, 60]);
    expect(on[0]!.measured.energyJ).toBeCloseTo((2 * 120) / 1000, 12);
    expect(off[0]!.measured.energyJ).toBeCloseTo((2 * 120 + 0.5 * 60) / 1000, 12);
  });

  it('a mid cut whose head is done before the plan: it sends when the plan comes, having computed (and wasted) layers past the cut', () => {
    // One provisioned environment at cut 1: warm, cut 1 (98.5 ms) beats the device (120 ms).
    const { on, off } = both({ functions: handFunctions({ provisionedConcurrency: 1 }, [1]) });
    // max(60, 40) + RTT 50 + up 4 + tail 4 + down 0.5
    expect(parts(on[0]!)).toEqual([1, 1, 'cloud', 118.5, 60, 20]);
    expect(parts(off[0]!)).toEqual([1, 1, 'cloud', 60 + 98.5, 60, 60]);
    // Overlapped: 60 ms of compute (20 of them past the cut) and no idle wait; waiting: 40 ms of compute and 60 ms idle.
    expect(on[0]!.measured.energyJ - off[0]!.measured.energyJ).toBeCloseTo((2 * 60 - 2 * 40 - 0.5 * 60) / 1000, 12);
  });

  it('a mid cut whose head is not done when the plan comes: the plan costs nothing', () => {
    const { on, off } = both({ functions: handFunctions({ provisionedConcurrency: 1 }, [1]), timing: { planMs: () => 30 } });
    expect(parts(on[0]!)).toEqual([1, 1, 'cloud', 98.5, 30, 0]);
    expect(parts(off[0]!)).toEqual([1, 1, 'cloud', 30 + 98.5, 30, 30]);
    expect(on[0]!.measured.energyJ - off[0]!.measured.energyJ).toBeCloseTo(-(0.5 * 30) / 1000, 12);
    // The prediction is of the inference: it matches once the wait for the plan is taken out, overlapped or not.
    expect(run({ policy: { kind: 'planner' }, functions: handFunctions({ provisionedConcurrency: 1 }, [1]), timing: { planMs: () => 30 } }).result.summary.latencyError.median).toBe(0);
  });

  it('cut 0: the input goes when the plan comes; what the device computed meanwhile is energy only', () => {
    const { on, off } = both({ functions: handFunctions({ provisionedConcurrency: 1 }, [0]) });
    // 60 + RTT 50 + up 10 + tail 6 + down 0.5, either way
    expect(parts(on[0]!)).toEqual([0, 0, 'cloud', 126.5, 60, 60]);
    expect(parts(off[0]!)).toEqual([0, 0, 'cloud', 126.5, 60, 60]);
    expect(on[0]!.measured.energyJ - off[0]!.measured.energyJ).toBeCloseTo((2 * 60 - 0.5 * 60) / 1000, 12);
  });

  it('the whole model done before the plan comes is the answer: nothing is sent, whatever the plan says', () => {
    const over = { functions: handFunctions({ provisionedConcurrency: 1 }, [1]), timing: { planMs: () => 200 } };
    const { on, off } = both(over);
    expect(parts(on[0]!)).toEqual([3, 1, 'device', 120, 200, 0]);
    expect(on[0]!.status).toBeNull();
    // The record's prediction is the plan's (cut 1, sent over the network), as the load harness writes it.
    expect([on[0]!.predicted!.rttMs, on[0]!.predicted!.upMs]).toEqual([50, 4]);
    expect(parts(off[0]!)).toEqual([1, 1, 'cloud', 200 + 98.5, 200, 200]);
    expect(run({ policy: { kind: 'planner' }, ...over }).result.functions[0]!.invocations).toBe(0);
  });

  it('a 429 at a mid cut: the device finishes the tail from the cut, after max(plan, head) instead of plan + head', () => {
    // One environment (provisioned, reserved 1) and tail times spread wide: some requests find it still busy.
    const { on, off } = both({
      functions: handFunctions({ provisionedConcurrency: 1, reservedConcurrency: 1 }, [1]),
      arrivals: handArrivals(Array.from({ length: 40 }, (_, i) => i * 5)),
      jitter: { seed: 1, tailCv: 3, coldCv: 0 },
    });
    for (const records of [on, off]) expect(records.filter((r) => r.status === 429).length).toBeGreaterThan(3);
    // max(60, 40) + RTT 50 + up 4 + device tail 80; compute 60 + 80 ms, upload 4 ms, idle over the RTT
    for (const r of on.filter((x) => x.status === 429)) {
      expect([r.cut, r.fallback, r.measured.latencyMs, r.measured.planWaitMs, r.measured.deviceTailMs]).toEqual([1, 'throttled', 194, 20, 80]);
      expect(r.measured.energyJ).toBeCloseTo((2 * 140 + 1 * 4 + 0.5 * 50) / 1000, 12);
    }
    // 60 + 40 + 50 + 4 + 80; compute 40 + 80 ms, idle over the RTT and the plan
    for (const r of off.filter((x) => x.status === 429)) {
      expect([r.cut, r.fallback, r.measured.latencyMs, r.measured.planWaitMs, r.measured.deviceTailMs]).toEqual([1, 'throttled', 234, 60, 80]);
      expect(r.measured.energyJ).toBeCloseTo((2 * 120 + 1 * 4 + 0.5 * 110) / 1000, 12);
    }
  });

  it('static policies never plan live: the option changes nothing for them', () => {
    const arrivals = handArrivals([0, 10, 500]);
    for (const policy of [{ kind: 'cut', cut: 1 }, { kind: 'device-only' }, { kind: 'fleet-blind' }] as Policy[]) {
      expect(run({ policy, arrivals, waitForPlan: true }).records).toEqual(run({ policy, arrivals }).records);
      expect(run({ policy, arrivals }).records.every((r) => r.measured.planMs === null && r.measured.planWaitMs === null)).toBe(true);
    }
  });
});

describe('deviceStart', () => {
  const head = Float64Array.of(0, 40, 100, 120);
  it('keeps the crossing tensors of the cut the plan names, or the answer when the model is done first', () => {
    expect(deviceStart(head, 2, 60, false)).toEqual({ cut: 2, headMs: 100, readyMs: 100, computeMs: 100, planWaitMs: 0, planIdleMs: 0 });
    expect(deviceStart(head, 1, 60, false)).toEqual({ cut: 1, headMs: 40, readyMs: 60, computeMs: 60, planWaitMs: 20, planIdleMs: 0 });
    expect(deviceStart(head, 0, 60, false)).toEqual({ cut: 0, headMs: 0, readyMs: 60, computeMs: 60, planWaitMs: 60, planIdleMs: 0 });
    expect(deviceStart(head, 1, 120, false)).toEqual({ cut: 3, headMs: 120, readyMs: 120, computeMs: 120, planWaitMs: 0, planIdleMs: 0 });
    expect(deviceStart(head, 1, 60, true)).toEqual({ cut: 1, headMs: 40, readyMs: 100, computeMs: 40, planWaitMs: 60, planIdleMs: 60 });
    expect(deviceStart(head, 1, null, false)).toEqual({ cut: 1, headMs: 40, readyMs: 40, computeMs: 40, planWaitMs: null, planIdleMs: 0 });
  });

  it('never costs latency: overlapped, a request is never ready later than waiting for the plan, nor computes less', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 8 }), fc.double({ min: 0, max: 500, noNaN: true }), fc.nat(), (layers, planMs, pick) => {
        const h = new Float64Array(layers.length + 1);
        layers.forEach((ms, l) => (h[l + 1] = h[l]! + ms));
        const cut = pick % h.length;
        const on = deviceStart(h, cut, planMs, false);
        const off = deviceStart(h, cut, planMs, true);
        expect(on.readyMs).toBeLessThanOrEqual(off.readyMs);
        expect(on.computeMs).toBeGreaterThanOrEqual(off.computeMs);
        expect(on.planWaitMs!).toBeLessThanOrEqual(off.planWaitMs!);
        expect(on.planIdleMs).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('simulate: the planner judges the fleet at the arrival', () => {
  it('plans a request onto the environment another one will have left by the time it gets there (the earlier rule holds it)', () => {
    // One provisioned environment at cut 0 (reserved 1). The request of 0 reaches the tail at 60 + 25 + 10 = 95 and
    // leaves it at 101; the one of 20 gets there at 115, so it can have it. Judged at the plan, it is held.
    const functions = handFunctions({ reservedConcurrency: 1, provisionedConcurrency: 1 }, [0]);
    const arrivals = handArrivals([0, 20]);
    const atArrival = run({ policy: { kind: 'planner' }, functions, arrivals }).records.sort((a, b) => a.i - b.i);
    const atPlan = run({ policy: { kind: 'planner' }, functions, arrivals, view: { atArrival: false } }).records.sort((a, b) => a.i - b.i);
    expect(atArrival.map((r) => [r.cut, r.target, r.cold, r.status])).toEqual([
      [0, 'cloud', false, 200],
      [0, 'cloud', false, 200],
    ]);
    expect(atPlan.map((r) => [r.cut, r.target])).toEqual([
      [0, 'cloud'],
      [3, 'device'],
    ]);
    // 5 ms apart, the second would reach the tail at 100, before the first leaves at 101: held, it stays on the device.
    const close = run({ policy: { kind: 'planner' }, functions, arrivals: handArrivals([0, 5]) }).records.sort((a, b) => a.i - b.i);
    expect(close.map((r) => r.cut)).toEqual([0, 3]);
  });
});

describe('simulate: the planner\'s prewarm (core/prewarm.ts), on by default', () => {
  it('starts the tail that would win warm once a second plan wants it within the keep-alive, once per dedupe window; the next request finds it warm', () => {
    // Cold, every cut loses to the device (120 ms); warm, cut 0 wins (66.5 ms): the trap. The plan at 0 is the first
    // to want cut 0: nothing. The one at 50 is the second within 5 min: it starts cut 0 (cold start 140 ms, busy until
    // 190); the one at 60 would reach it at 155, still initialising, and sends nothing more (2 s window); the one at
    // 1,000 offloads warm.
    const arrivals = handArrivals([0, 50, 60, 1000]);
    const on = run({ policy: { kind: 'planner' }, arrivals });
    const off = run({ policy: { kind: 'planner' }, arrivals, prewarm: false });
    const byI = (r: { records: LoadRecord[] }) => [...r.records].sort((a, b) => a.i - b.i).map((x) => [x.cut, x.target, x.cold]);
    expect(byI(on)).toEqual([
      [3, 'device', false],
      [3, 'device', false],
      [3, 'device', false],
      [0, 'cloud', false],
    ]);
    expect(byI(off)).toEqual([
      [3, 'device', false],
      [3, 'device', false],
      [3, 'device', false],
      [3, 'device', false],
    ]);
    // one init billed at 2 GB: 2e-7 + 1e-5 × 2 × 0.14 s
    expect(on.result.prewarm).toEqual({ sent: 1, cold: 1, costUSD: expect.closeTo(2e-7 + 2e-5 * 0.14, 15) });
    expect(off.result.prewarm).toEqual({ sent: 0, cold: 0, costUSD: 0 });
    expect(on.result.functions.find((f) => f.cut === 0)).toMatchObject({ cold: 1, warm: 1, invocations: 2 });
    // the same options given explicitly are the default
    expect(run({ policy: { kind: 'planner' }, arrivals, prewarm: DEFAULT_PREWARM_OPTIONS }).result.prewarm).toEqual(on.result.prewarm);
  });

  it('recurrence uses the planner\'s keep-alive (the view\'s): two requests 6 min apart start nothing, or do with a 10 min keep-alive', () => {
    const arrivals = handArrivals([0, 360_000]);
    expect(run({ policy: { kind: 'planner' }, arrivals }).result.prewarm.sent).toBe(0);
    expect(run({ policy: { kind: 'planner' }, arrivals, view: { keepAliveMs: 600_000 } }).result.prewarm.sent).toBe(1);
  });

  it('is the planner\'s only: a static policy sends none', () => {
    const r = run({ policy: { kind: 'fleet-blind' }, arrivals: handArrivals([0, 50, 100]), prewarm: DEFAULT_PREWARM_OPTIONS });
    expect(r.result.prewarm.sent).toBe(0);
  });

  const devices = makeDevices(20, [{ class: 'flagship-phone', network: 'wifi' }]);
  const workload = (process: Parameters<typeof generateWorkload>[0]['process']) =>
    generateWorkload({ process, devices, model: 'hand', seed: 7, durationMs: 6 * 3_600_000, maxRequests: 5_000 });

  it('on sparse traffic (gaps longer than the keep-alive) the default planner spends no prewarm', () => {
    const arrivals = workload({ kind: 'sparse', minGapMs: 360_000, meanExtraMs: 60_000 });
    expect(arrivals.length).toBeGreaterThan(30);
    const { result } = run({ policy: { kind: 'planner' }, arrivals });
    expect(result.prewarm).toEqual({ sent: 0, cold: 0, costUSD: 0 });
    expect(result.summary.cloud).toBe(0);
  });

  it('on steady traffic the default planner gets out of the cold-fleet trap; with prewarm off it never offloads', () => {
    const arrivals = workload({ kind: 'steady', ratePerS: 0.5 });
    const on = run({ policy: { kind: 'planner' }, arrivals }).result;
    const off = run({ policy: { kind: 'planner' }, arrivals, prewarm: false }).result;
    expect(off.summary.cloud).toBe(0);
    expect(off.prewarm.sent).toBe(0);
    expect(on.summary.cloud / on.summary.requests).toBeGreaterThan(0.5);
    expect(on.prewarm.sent).toBeGreaterThan(0);
    // the requests it sends find the tail warm: the prewarms paid the cold starts
    expect(on.summary.coldStarts).toBe(0);
    expect(on.prewarm.cold).toBeGreaterThan(0);
  });
});

describe('simulate: seeded and reproducible', () => {
  const arrivals = generateWorkload({
    process: { kind: 'bursty', ratePerS: 40, onMs: 2000, offMs: 30_000 },
    devices: makeDevices(50, [{ class: 'flagship-phone', network: 'wifi' }]),
    model: 'hand',
    seed: 42,
    durationMs: 600_000,
    maxRequests: 5000,
  });

  it('reproduces its summary exactly, and the summary is the load harness summary of its records', () => {
    for (const policy of [{ kind: 'planner' }, { kind: 'fleet-blind' }, { kind: 'cut', cut: 1 }] as Policy[]) {
      const a = run({ policy, arrivals, functions: handFunctions({ reservedConcurrency: 3 }) });
      const b = run({ policy, arrivals, functions: handFunctions({ reservedConcurrency: 3 }) });
      expect(a.result).toEqual(b.result);
      expect(a.records).toEqual(b.records);
      expect(a.result.summary).toEqual(summarize(a.records));
      expect(a.records).toHaveLength(arrivals.length);
      for (const r of a.records.slice(0, 50)) expect(LoadRecordSchema.parse(JSON.parse(JSON.stringify(r)))).toEqual(r);
    }
  });

  it('caches plans: far fewer plans computed than looked up, the same records as without reuse', () => {
    const { result } = run({ policy: { kind: 'planner' }, arrivals, functions: handFunctions({ reservedConcurrency: 3 }) });
    expect(result.plans.lookups).toBe(arrivals.length);
    expect(result.plans.computed).toBeLessThanOrEqual(4 ** 3);
  });

  it('refuses arrivals out of time order, naming the arrival', () => {
    expect(() => run({ policy: { kind: 'device-only' }, arrivals: handArrivals([5, 4]) })).toThrow(/arrivals\[1\]\.t: must be >= 5/);
  });

  it('refuses a model with no deployed function and a cut with none', () => {
    expect(() => run({ policy: { kind: 'device-only' }, arrivals: [{ ...handArrivals([0])[0]!, model: 'other' }] })).toThrow(/model: no tail function of model "other"/);
    expect(() => run({ policy: { kind: 'cut', cut: 2 }, functions: handFunctions({}, [0, 1]) })).toThrow(/policy: cut:2: no tail function/);
  });
});

describe('simulate: properties', () => {
  const arrivalsArb = fc
    .array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 120 })
    .map((ts) => handArrivals([...ts].sort((a, b) => a - b)));

  it('more reserved concurrency never raises the 429 count of a static policy', () => {
    fc.assert(
      fc.property(arrivalsArb, fc.constantFrom(0, 1, 2), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), (arrivals, cut, reserved, more) => {
        const at = (r: number) => simulate({ arrivals, policy: { kind: 'cut', cut }, functions: handFunctions({ reservedConcurrency: r }), scenarioFor: handScenarioFor }).summary.throttled;
        expect(at(reserved + more)).toBeLessThanOrEqual(at(reserved));
      }),
      { numRuns: 150 },
    );
  });

  it('a policy that never offloads sees no cold start, no 429 and no cloud cost', () => {
    fc.assert(
      fc.property(arrivalsArb, fc.integer({ min: 1, max: 3 }), (arrivals, reserved) => {
        const { summary, functions } = simulate({ arrivals, policy: { kind: 'device-only' }, functions: handFunctions({ reservedConcurrency: reserved }), scenarioFor: handScenarioFor });
        expect([summary.coldStarts, summary.throttled, summary.cloud, summary.costUSD]).toEqual([0, 0, 0, 0]);
        expect(functions.every((f) => f.invocations === 0)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});
