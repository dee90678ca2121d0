import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoadRecordSchema, summarize, type LoadRecord } from '../../../core/load-record';
import type { Policy } from '../../../core/policies';
import { DEFAULT_PREWARM_OPTIONS } from '../../../core/prewarm';
import { simulate, type SimulationInput } from '../../../core/sim/simulator';
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
    expect(planner.measured.latencyMs).toBe(60 + 120);
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
    expect(on.summary.latencyMs.mean).toBeLessThan(off.summary.latencyMs.mean);
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
