import { describe, expect, it } from 'vitest';
import type { LoadRecord } from '../../../core/load-record';
import type { Policy } from '../../../core/policies';
import { predictorFromProfiles } from '../../../core/profile-scenario';
import { simDeployment } from '../../../core/sim/deployment';
import { atSpeed, checkHost, firstInferenceFactor, HostCpu, initBurstScaleOf, invokeOverheadOf, LOCAL_HOST, onHost, sharedCores, slowdownAt, speedFromProbe, type HostModel, type ProbePair } from '../../../core/sim/host';
import { Jitter, lognormalSigma } from '../../../core/sim/jitter';
import { simulate, type SimulationInput } from '../../../core/sim/simulator';
import { generateWorkload, makeDevices, type Arrival } from '../../../core/workload';
import { loadProfile } from '../../../models/profile-files';
import { HAND_COLD, HAND_TAIL, handArrivals, handFunctions, handScenarioFor } from './hand-fleet';

/** An ideal host of `cores` with no invoke overhead, so that its records compare with Lambda's. */
const ideal = (cores: number) => ({ ...sharedCores(cores), invokeOverheadMs: 0 });

function run(over: Partial<SimulationInput> & { policy: Policy }) {
  const records: LoadRecord[] = [];
  const result = simulate({ arrivals: handArrivals([0]), functions: handFunctions(), scenarioFor: handScenarioFor, onRecord: (r) => records.push(r), ...over });
  return { result, records: records.sort((a, b) => a.i - b.i) };
}

/** Runs jobs of the given lone work, all started at 0, on a host; returns when each ends. */
function ends(host: Parameters<typeof sharedCores>[0] | typeof LOCAL_HOST, works: number[]): number[] {
  const cpu = new HostCpu<number>(typeof host === 'number' ? sharedCores(host) : host);
  works.forEach((w, i) => cpu.add({ phase: 'compute', work: w, phaseStart: 0, item: i }, 0));
  const out: number[] = [];
  for (let next = cpu.next(); next; next = cpu.next()) {
    cpu.advance(next.at);
    cpu.remove(next.job);
    out[next.job.item] = next.at;
  }
  return out;
}

describe('host model: processor sharing', () => {
  it('a lone job takes its own time; two on one core each take twice as long; two on two cores run at full speed', () => {
    expect(ends(1, [100])).toEqual([100]);
    expect(ends(1, [100, 100])).toEqual([200, 200]);
    expect(ends(2, [100, 100])).toEqual([100, 100]);
    // Three on two cores: each at 2/3 speed until the short one ends at 60 (40 ms of its work × 1.5), then the rest at full speed.
    const [a, b, c] = ends(2, [40, 100, 100]);
    expect(a).toBeCloseTo(60, 9);
    expect(b).toBeCloseTo(120, 9);
    expect(c).toBeCloseTo(120, 9);
  });

  it('the measured local table: s(n) from the table, then growing as processor sharing', () => {
    expect(slowdownAt(LOCAL_HOST.computeSlowdown, 1)).toBe(1);
    expect(slowdownAt(LOCAL_HOST.computeSlowdown, 2)).toBe(LOCAL_HOST.computeSlowdown[1]);
    const k = LOCAL_HOST.computeSlowdown.length;
    expect(slowdownAt(LOCAL_HOST.computeSlowdown, 2 * k)).toBeCloseTo(2 * LOCAL_HOST.computeSlowdown[k - 1]!, 12);
    for (const end of ends(LOCAL_HOST, [100, 100])) expect(end).toBeCloseTo(100 * LOCAL_HOST.computeSlowdown[1]!, 9);
  });

  it('a fractional busy count reads between the entries; a weighted job slows its neighbours, not itself', () => {
    expect(slowdownAt([1, 2, 4], 2.5)).toBeCloseTo(3, 12);
    expect(slowdownAt([1, 2, 4], 1.25)).toBeCloseTo(1.25, 12);
    // One core (s(n) = n): a job of weight 3 beside a warm one: the warm one sees 1 + 3 busy, the heavy one 1 + 1.
    const cpu = new HostCpu<string>(sharedCores(1));
    cpu.add({ phase: 'compute', work: 40, phaseStart: 0, item: 'warm' }, 0);
    cpu.add({ phase: 'compute', work: 120, phaseStart: 0, item: 'first', weight: 3 }, 0);
    const first = cpu.next()!;
    expect([first.job.item, first.at]).toEqual(['warm', 160]); // 40 ms of work at 1/4
    cpu.advance(first.at);
    cpu.remove(first.job);
    expect(cpu.next()!.at).toBeCloseTo(160 + (120 - 160 / 2), 9); // then alone at full speed
    // An init of weight 2 (host.initWeight) slows a computing neighbour as two would; the init itself sees a count of 2.
    const withInit = new HostCpu<string>({ ...sharedCores(1), initWeight: 2 });
    withInit.add({ phase: 'compute', work: 30, phaseStart: 0, item: 'warm' }, 0);
    withInit.add({ phase: 'init', work: 100, phaseStart: 0, item: 'init' }, 0);
    const done = withInit.next()!;
    expect([done.job.item, done.at]).toEqual(['warm', 90]); // 30 ms at 1/3
    withInit.advance(90);
    withInit.remove(done.job);
    expect(withInit.next()!.at).toBeCloseTo(90 + (100 - 90 / 2), 9);
    // Alone, its weight does not slow it.
    const lone = new HostCpu<string>(sharedCores(1));
    lone.add({ phase: 'compute', work: 120, phaseStart: 0, item: 'first', weight: 3 }, 0);
    expect(lone.next()!.at).toBe(120);
  });

  it('initBurstScale stretches an init\'s slowdown beside others, not a lone init nor a compute', () => {
    // One core (s(n) = n), two inits started together: each reads 1 + k × (2 − 1), so 100 ms of work ends at 100 × (1 + k).
    const pair = (k?: number) => {
      const cpu = new HostCpu<number>({ ...sharedCores(1), ...(k === undefined ? {} : { initBurstScale: k }) });
      cpu.add({ phase: 'init', work: 100, phaseStart: 0, item: 0 }, 0);
      cpu.add({ phase: 'init', work: 100, phaseStart: 0, item: 1 }, 0);
      return cpu.next()!.at;
    };
    expect(pair()).toBeCloseTo(200, 9);
    expect(pair(1.5)).toBeCloseTo(250, 9);
    expect(pair(0)).toBeCloseTo(100, 9);
    // Alone an init runs at its lone speed whatever the scale; a computing neighbour still reads the compute table.
    const lone = new HostCpu<string>({ ...sharedCores(1), initBurstScale: 1.5 });
    lone.add({ phase: 'init', work: 100, phaseStart: 0, item: 'init' }, 0);
    expect(lone.next()!.at).toBe(100);
    const mixed = new HostCpu<string>({ ...sharedCores(1), initBurstScale: 1.5 });
    mixed.add({ phase: 'init', work: 100, phaseStart: 0, item: 'init' }, 0);
    mixed.add({ phase: 'compute', work: 30, phaseStart: 0, item: 'warm' }, 0);
    expect([mixed.next()!.job.item, mixed.next()!.at]).toEqual(['warm', 60]); // 30 ms at 1/2; the init at 1/2.5 meanwhile
    mixed.advance(60);
    mixed.remove(mixed.next()!.job);
    expect(mixed.next()!.at).toBeCloseTo(60 + (100 - 60 / 2.5), 9);
    expect(() => checkHost({ ...LOCAL_HOST, initBurstScale: -1 })).toThrow(/host\.initBurstScale: must be a number >= 0 \(got -1\)/);
  });

  it("a job's own burstScale (its cut's) wins over the host's initBurstScale; initBurstScaleOf picks the cut's, else the host's, else 1", () => {
    // One core, two inits together: 100 ms of work each; the one that carries 0.5 reads 1 + 0.5 × (2 − 1) = 1.5, the other the host's 1.5 → 2.5.
    const cpu = new HostCpu<string>({ ...sharedCores(1), initBurstScale: 1.5 });
    cpu.add({ phase: 'init', work: 100, phaseStart: 0, item: 'host' }, 0);
    cpu.add({ phase: 'init', work: 100, phaseStart: 0, item: 'own', burstScale: 0.5 }, 0);
    expect([cpu.next()!.job.item, cpu.next()!.at]).toEqual(['own', 150]);
    const host: HostModel = { ...LOCAL_HOST, initBurstScale: 1.2, initBurstScaleByCut: { mobilenetv2: { 0: 1.4 } } };
    expect([initBurstScaleOf(host, 'mobilenetv2', 0), initBurstScaleOf(host, 'mobilenetv2', 63), initBurstScaleOf(host, 'resnet50', 0)]).toEqual([1.4, 1.2, 1.2]);
    expect(initBurstScaleOf(sharedCores(2), 'mobilenetv2', 0)).toBe(1);
    expect(() => checkHost({ ...LOCAL_HOST, initBurstScaleByCut: { mobilenetv2: { 0: -0.5 } } })).toThrow(/host\.initBurstScaleByCut\.mobilenetv2\.0: must be a number >= 0 \(got -0\.5\)/);
  });

  it('refuses a table that does not start at 1 or decreases, naming the entry', () => {
    expect(() => checkHost({ ...LOCAL_HOST, firstInference: { factor: 0.5, weight: 1 } })).toThrow(/host\.firstInference\.factor: must be a number >= 1 \(got 0\.5\)/);
    expect(() => checkHost({ ...LOCAL_HOST, firstInference: { factor: 2, weight: Number.NaN } })).toThrow(/host\.firstInference\.weight/);
    expect(() => checkHost({ ...LOCAL_HOST, initWeight: 0 })).toThrow(/host\.initWeight: must be a number >= 1 \(got 0\)/);
    expect(() => checkHost({ ...LOCAL_HOST, computeSlowdown: [2] })).toThrow(/host\.computeSlowdown: must start with 1/);
    expect(() => checkHost({ ...LOCAL_HOST, initSlowdown: [1, 2, 1.5] })).toThrow(/host\.initSlowdown\[2\]/);
    expect(() => sharedCores(0)).toThrow(/hostCores/);
  });
});

describe('simulate on a shared host', () => {
  it('a lone request is unchanged by the host', () => {
    const arrivals = handArrivals([0, 1000]);
    const lambda = run({ policy: { kind: 'cut', cut: 1 }, arrivals });
    const shared = run({ policy: { kind: 'cut', cut: 1 }, arrivals, host: ideal(1) });
    expect(shared.records.map((r) => r.measured)).toEqual(lambda.records.map((r) => r.measured));
    // The host's measured overhead is added to every served round trip unless the timing gives one.
    const local = run({ policy: { kind: 'cut', cut: 1 }, arrivals, host: LOCAL_HOST });
    expect(local.records.map((r) => r.measured.roundTripMs! - lambda.records[r.i]!.measured.roundTripMs!)).toEqual([LOCAL_HOST.invokeOverheadMs, LOCAL_HOST.invokeOverheadMs]);
  });

  it('two concurrent cold starts on one core take twice as long each, then share the compute', () => {
    const arrivals = handArrivals([0, 0]);
    const lambda = run({ policy: { kind: 'cloud-only' }, arrivals });
    const shared = run({ policy: { kind: 'cloud-only' }, arrivals, host: ideal(1) });
    expect(lambda.records.map((r) => [r.cold, r.measured.initMs, r.measured.computeMs])).toEqual([
      [true, HAND_COLD[0], HAND_TAIL[0]],
      [true, HAND_COLD[0], HAND_TAIL[0]],
    ]);
    for (const r of shared.records) {
      expect(r.cold).toBe(true);
      expect(r.measured.initMs).toBeCloseTo(2 * HAND_COLD[0], 9);
      expect(r.measured.computeMs).toBeCloseTo(2 * HAND_TAIL[0], 9);
      // The client waits the longer round trip; the bill follows it too.
      expect(r.measured.roundTripMs).toBeCloseTo(2 * (HAND_COLD[0] + HAND_TAIL[0]), 9);
    }
    expect(shared.records[0]!.measured.latencyMs - lambda.records[0]!.measured.latencyMs).toBeCloseTo(HAND_COLD[0] + HAND_TAIL[0], 9);
    expect(shared.result.summary.costUSD).toBeGreaterThan(lambda.result.summary.costUSD);
  });

  it('a host with a core per environment is Lambda: same records, same counts', () => {
    const arrivals = generateWorkload({
      process: { kind: 'bursty', ratePerS: 40, onMs: 2000, offMs: 10_000 },
      devices: makeDevices(30, [{ class: 'flagship-phone', network: 'wifi' }]),
      model: 'hand',
      seed: 5,
      durationMs: 60_000,
      maxRequests: 400,
    });
    for (const policy of [{ kind: 'planner' }, { kind: 'cut', cut: 1 }] as Policy[]) {
      const lambda = run({ policy, arrivals, functions: handFunctions({ reservedConcurrency: 3 }) });
      const shared = run({ policy, arrivals, functions: handFunctions({ reservedConcurrency: 3 }), host: ideal(9) });
      expect(shared.records.map((r) => [r.cut, r.cold, r.status])).toEqual(lambda.records.map((r) => [r.cut, r.cold, r.status]));
      shared.records.forEach((r, i) => expect(r.measured.latencyMs).toBeCloseTo(lambda.records[i]!.measured.latencyMs, 6));
      expect(shared.result.functions.map((f) => f.cold)).toEqual(lambda.result.functions.map((f) => f.cold));
    }
  });

  it('the hand-off slows down with the most environments busy during the invocation (overheadSlowdown)', () => {
    const host = { ...ideal(1), invokeOverheadMs: 40, overheadSlowdown: [1, 1.5, 2] };
    // Alone, then two at once (both see 2 busy), then three at once (each sees 3) after every environment is idle.
    const arrivals = handArrivals([0, 5000, 5000, 10_000, 10_000, 10_000]);
    const { records } = run({ policy: { kind: 'cut', cut: 1 }, arrivals, host });
    expect(records.map((r) => r.measured.roundTripMs! - (r.measured.initMs ?? 0) - r.measured.computeMs!).map((x) => Math.round(x * 1e6) / 1e6)).toEqual([40, 60, 60, 80, 80, 80]);
    // Without a table the overhead is the constant it was.
    const flat = run({ policy: { kind: 'cut', cut: 1 }, arrivals, host: { ...host, overheadSlowdown: undefined } });
    expect(flat.records.map((r) => Math.round((r.measured.roundTripMs! - (r.measured.initMs ?? 0) - r.measured.computeMs!) * 1e6) / 1e6)).toEqual([40, 40, 40, 40, 40, 40]);
    expect(() => checkHost({ ...LOCAL_HOST, overheadSlowdown: [1, 0.5] })).toThrow(/host\.overheadSlowdown\[1\]/);
  });

  describe("a cold environment's first inference (host.firstInference)", () => {
    // Cut 1 with a cold start of 200 ms and a tail of 40 ms, so the shares are easy to follow.
    const functions = handFunctions({ coldStartMs: 200, tailMs: 40 });
    const cut1 = { kind: 'cut', cut: 1 } as const;

    it('the first request of a cold environment computes factor × the tail, its init gives the extra back: the lone cold total is unchanged', () => {
      const arrivals = handArrivals([0, 5000]);
      const plain = run({ policy: cut1, arrivals, functions, host: ideal(1) }).records;
      const first = run({ policy: cut1, arrivals, functions, host: { ...ideal(1), firstInference: { factor: 2.5, weight: 3 } } }).records;
      expect(first.map((r) => [r.cold, r.measured.initMs, r.measured.computeMs])).toEqual([
        [true, 200 - 1.5 * 40, 2.5 * 40],
        [false, null, 40],
      ]);
      expect(first.map((r) => r.measured.roundTripMs)).toEqual(plain.map((r) => r.measured.roundTripMs));
      expect(plain[0]!.measured.computeMs).toBe(40);
      // Lambda (no host) keeps the whole cold start in the init.
      const lambda = run({ policy: cut1, arrivals, functions }).records;
      expect(lambda[0]!.measured.initMs).toBe(200);
    });

    it('a per-cut factor wins over the one factor for its tail only', () => {
      const arrivals = handArrivals([0]);
      const host: HostModel = { ...ideal(1), firstInference: { factor: 2, weight: 1, factorByCut: { [functions[0]!.model]: { 1: 3 } } } };
      expect(firstInferenceFactor(host, functions[0]!.model, 1)).toBe(3);
      expect(firstInferenceFactor(host, functions[0]!.model, 2)).toBe(2);
      expect(firstInferenceFactor(host, 'other-model', 1)).toBe(2);
      expect(firstInferenceFactor(ideal(1), functions[0]!.model, 1)).toBe(1);
      const [cut1Cold] = run({ policy: cut1, arrivals, functions, host }).records;
      // 3 × 40 of first inference; the init gives the extra back (200 − 2 × 40).
      expect([cut1Cold!.measured.initMs, cut1Cold!.measured.computeMs]).toEqual([120, 120]);
      const [cut2Cold] = run({ policy: { kind: 'cut', cut: 2 }, arrivals, functions, host }).records;
      expect(cut2Cold!.measured.computeMs).toBe(2 * functions.find((f) => f.cut === 2)!.tailMs);
      expect(() => checkHost({ ...host, firstInference: { factor: 2, weight: 1, factorByCut: { m: { 3: 0.9 } } } })).toThrow(/host\.firstInference\.factorByCut\.m\.3: must be a number >= 1 \(got 0\.9\)/);
    });

    it('a warm request beside a first inference slows by its weight', () => {
      // 2 cores. At 0 a cold start; at 1000 a warm request (environment 1) and a cold start (environment 2) together;
      // at 1120, when that init (200 − 2 × 40 = 120 ms) ends, a warm request beside its first inference (120 ms).
      const arrivals = handArrivals([0, 1000, 1000, 1120]);
      const warmBeside = (weight: number) => {
        const { records } = run({ policy: cut1, arrivals, functions, host: { ...ideal(2), firstInference: { factor: 3, weight } } });
        expect(records.map((r) => r.cold)).toEqual([true, false, true, false]);
        expect(records[2]!.measured.initMs).toBeCloseTo(120, 9);
        return records[3]!.measured.computeMs!;
      };
      // Weight 1: two busy on two cores, full speed. Weight 3: it sees 1 + 3 busy, s = 2.
      expect(warmBeside(1)).toBeCloseTo(40, 9);
      expect(warmBeside(3)).toBeCloseTo(80, 9);
    });
  });

  it('the hand-off share inside the invocation holds the environment after the compute; the round trip is unchanged', () => {
    const functions = handFunctions({ coldStartMs: 200, tailMs: 40, reservedConcurrency: 1 });
    const cut1 = { kind: 'cut', cut: 1 } as const;
    const host = (handOffInHold: number): HostModel => ({ ...sharedCores(1), invokeOverheadMs: 10, handOffInHold });
    // The earliest second arrival that finds the one environment free (served), in 1 ms steps.
    const firstServed = (share: number) => {
      for (let x = 1; x < 2000; x++) {
        const { records } = run({ policy: cut1, arrivals: handArrivals([0, x]), functions, host: host(share) });
        if (records[1]!.status === 200) return { x, records };
      }
      throw new Error('never served');
    };
    const free = firstServed(0);
    const held = firstServed(0.5);
    expect(held.x - free.x).toBe(5);
    expect(held.records[0]!.measured.roundTripMs).toBe(free.records[0]!.measured.roundTripMs);
    expect(() => checkHost({ ...LOCAL_HOST, handOffInHold: 1.5 })).toThrow(/host\.handOffInHold: must be a number from 0 to 1 \(got 1\.5\)/);
  });

  it('sharing slows a burst and, by holding environments longer, never lowers its 429 count', () => {
    const arrivals = handArrivals(Array.from({ length: 30 }, (_, i) => i * 2));
    const lambda = run({ policy: { kind: 'cloud-only' }, arrivals, functions: handFunctions({ reservedConcurrency: 4 }) }).result.summary;
    const shared = run({ policy: { kind: 'cloud-only' }, arrivals, functions: handFunctions({ reservedConcurrency: 4 }), host: ideal(1) }).result.summary;
    expect(shared.latencyMs.p95).toBeGreaterThan(lambda.latencyMs.p95);
    expect(shared.throttled).toBeGreaterThanOrEqual(lambda.throttled);
  });
});

describe('per-request spread (jitter)', () => {
  it('CV 0 draws nothing: the records are those of a run without spread', () => {
    const arrivals = handArrivals([0, 5, 1000, 1001]);
    const plain = run({ policy: { kind: 'cloud-only' }, arrivals });
    const zero = run({ policy: { kind: 'cloud-only' }, arrivals, jitter: { seed: 3, tailCv: 0, coldCv: 0 } });
    expect(zero.records).toEqual(plain.records);
  });

  it('lognormal multipliers with median 1 and the CV asked for; seeded', () => {
    const j = new Jitter({ seed: 11, tailCv: 0.5, coldCv: 0.2 });
    const xs = Array.from({ length: 40_000 }, () => j.tail()).sort((a, b) => a - b);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(xs[xs.length / 2]!).toBeCloseTo(1, 1);
    expect(sd / mean).toBeGreaterThan(0.45);
    expect(sd / mean).toBeLessThan(0.55);
    expect(lognormalSigma(0)).toBe(0);
    const again = new Jitter({ seed: 11, tailCv: 0.5, coldCv: 0.2 });
    const first = new Jitter({ seed: 11, tailCv: 0.5, coldCv: 0.2 });
    expect(Array.from({ length: 5 }, () => again.cold())).toEqual(Array.from({ length: 5 }, () => first.cold()));
  });

  it('with a floor: never under it, median 1, and a mean above a plain lognormal\'s of the same CV (a right-skewed tail, as measured)', () => {
    const draw = (tailFloor?: number) => {
      const j = new Jitter({ seed: 5, tailCv: 1.74, coldCv: 0, ...(tailFloor === undefined ? {} : { tailFloor }) });
      return Array.from({ length: 40_000 }, () => j.tail()).sort((a, b) => a - b);
    };
    const floored = draw(0.87);
    expect(floored[0]!).toBeGreaterThanOrEqual(0.87);
    expect(floored[floored.length / 2]!).toBeCloseTo(1, 2);
    const mean = floored.reduce((s, x) => s + x, 0) / floored.length;
    // 0.87 + 0.13 × e^(σ²/2), σ² = ln(1 + 1.74²)
    expect(mean).toBeCloseTo(0.87 + 0.13 * Math.sqrt(1 + 1.74 ** 2), 1);
    expect(mean).toBeGreaterThan(1.05);
    // Floor 0 is the plain lognormal, draw for draw.
    expect(draw(0)).toEqual(draw());
    expect(() => new Jitter({ seed: 1, tailCv: 0.2, coldCv: 0, tailFloor: 1 })).toThrow(/jitter\.tailFloor: must be a number from 0 to below 1 \(got 1\)/);
  });

  it('spreads each served request around the function\'s figure, reproducibly, and refuses a bad CV', () => {
    const arrivals = handArrivals(Array.from({ length: 200 }, (_, i) => i * 50));
    const a = run({ policy: { kind: 'cut', cut: 1 }, arrivals, jitter: { seed: 7, tailCv: 0.3, coldCv: 0 } });
    const b = run({ policy: { kind: 'cut', cut: 1 }, arrivals, jitter: { seed: 7, tailCv: 0.3, coldCv: 0 } });
    expect(a.records).toEqual(b.records);
    const compute = a.records.filter((r) => !r.cold).map((r) => r.measured.computeMs!);
    expect(new Set(compute).size).toBeGreaterThan(100);
    expect(compute.sort((x, y) => x - y)[compute.length >> 1]!).toBeGreaterThan(HAND_TAIL[1] * 0.85);
    expect(compute[compute.length >> 1]!).toBeLessThan(HAND_TAIL[1] * 1.15);
    expect(() => run({ policy: { kind: 'cut', cut: 1 }, jitter: { seed: 1, tailCv: -1, coldCv: 0 } })).toThrow(/jitter\.tailCv: must be a number from 0 to 10/);
  });
});

describe("a host at a session's speed", () => {
  const mnv2 = loadProfile('mobilenetv2');
  const predictor = predictorFromProfiles([mnv2]);
  /** MobileNetV2's five local tails (reserved 4) on `host`: each arrival's record, by i. */
  function onTheHost(host: HostModel, arrivals: Arrival[], policy: Policy = { kind: 'cloud-only' }): LoadRecord[] {
    const dep = simDeployment({ models: [{ profile: mnv2, cuts: [0, 36, 63, 125, 156], tail: { memoryMB: 1769, reservedConcurrency: 4, provisionedConcurrency: 0 } }], predictor, ...onHost(host) });
    const records: LoadRecord[] = [];
    simulate({ arrivals, policy, ...dep, fleet: { keepAliveMs: 5000 }, view: { keepAliveMs: 5000 }, host, onRecord: (r) => records.push(r) });
    return records.sort((a, b) => a.i - b.i);
  }
  const phone = (ts: number[]): Arrival[] => ts.map((t, i) => ({ t, device: `d${i}`, class: 'low-end-phone', network: 'wifi', model: 'mobilenetv2' }));

  it('scales the lone cold starts (per cut and the formula) and the compute; the sharing tables stay', () => {
    const fast = atSpeed(LOCAL_HOST, { computeScale: 0.75, coldScale: 0.8, invokeOverheadMs: 25 });
    expect(fast.coldStartMs.mobilenetv2![0]).toBeCloseTo(LOCAL_HOST.coldStartMs.mobilenetv2![0]! * 0.8, 9);
    expect(fast.coldStartMs.mobilenetv2![156]).toBeCloseTo(LOCAL_HOST.coldStartMs.mobilenetv2![156]! * 0.8, 9);
    expect(fast.cold).toEqual({ coldBaseMs: LOCAL_HOST.cold.coldBaseMs * 0.8, coldMsPerMB: LOCAL_HOST.cold.coldMsPerMB * 0.8 });
    const own = LOCAL_HOST.computeScale ?? 1;
    expect([fast.computeScale, fast.invokeOverheadMs]).toEqual([own * 0.75, 25]);
    expect([fast.computeSlowdown, fast.initSlowdown, fast.spread]).toEqual([LOCAL_HOST.computeSlowdown, LOCAL_HOST.initSlowdown, LOCAL_HOST.spread]);
    // Speeds compose; the overhead stays the host's unless given.
    const twice = atSpeed(fast, { computeScale: 2, coldScale: 1 });
    expect([twice.computeScale, twice.invokeOverheadMs]).toEqual([own * 1.5, 25]);
    expect(() => atSpeed(LOCAL_HOST, { computeScale: 0, coldScale: 1 })).toThrow(/speed\.computeScale: must be a number > 0 \(got 0\)/);
    expect(() => atSpeed(LOCAL_HOST, { computeScale: 1, coldScale: Number.NaN })).toThrow(/speed\.coldScale/);
    expect(() => atSpeed(LOCAL_HOST, { computeScale: 1, coldScale: 1, invokeOverheadMs: -1 })).toThrow(/speed\.invokeOverheadMs: must be a number >= 0/);
  });

  it("a cut's own init burst scale stretches that cut's bursts of cold starts only, never a lone cold start", () => {
    const burst = phone([0, 0, 0, 0]);
    const slowAt0: HostModel = { ...LOCAL_HOST, initBurstScaleByCut: { mobilenetv2: { 0: (LOCAL_HOST.initBurstScale ?? 1) + 0.5 } } };
    const plain: HostModel = { ...LOCAL_HOST, initBurstScaleByCut: {} };
    const rts = (host: HostModel, arrivals: Arrival[], policy?: Policy) => onTheHost(host, arrivals, policy).map((r) => r.measured.roundTripMs!);
    const [a, b] = [rts(slowAt0, burst), rts(plain, burst)];
    for (const [i, x] of a.entries()) expect(x).toBeGreaterThan(b[i]! + 50);
    expect(rts(slowAt0, burst, { kind: 'cut', cut: 63 })).toEqual(rts(plain, burst, { kind: 'cut', cut: 63 }));
    expect(rts(slowAt0, phone([0]))).toEqual(rts(plain, phone([0])));
  });

  it('per-cut warm compute and overhead win over the profile and the one overhead, for their tails only, and scale with the speed', () => {
    const arrivals = phone([0, 5000]);
    const plain: HostModel = { ...LOCAL_HOST, warmComputeMs: {}, invokeOverheadMsByCut: {} };
    const own: HostModel = { ...plain, warmComputeMs: { mobilenetv2: { 0: 50 } }, invokeOverheadMsByCut: { mobilenetv2: { 0: 10 } } };
    const [, warmPlain] = onTheHost(plain, arrivals);
    const [, warmOwn] = onTheHost(own, arrivals);
    expect(warmOwn!.measured.computeMs).toBeCloseTo(50, 9);
    expect(warmOwn!.measured.roundTripMs).toBeCloseTo(50 + 10, 9);
    expect(warmPlain!.measured.roundTripMs).toBeCloseTo(warmPlain!.measured.computeMs! + LOCAL_HOST.invokeOverheadMs, 9);
    // Another cut keeps the profile and the one overhead.
    const [, at63] = onTheHost(own, arrivals, { kind: 'cut', cut: 63 });
    const [, at63Plain] = onTheHost(plain, arrivals, { kind: 'cut', cut: 63 });
    expect(at63!.measured.roundTripMs).toBeCloseTo(at63Plain!.measured.roundTripMs!, 9);
    expect(atSpeed(own, { computeScale: 0.5, coldScale: 1 }).warmComputeMs!.mobilenetv2![0]).toBe(25);
    expect(atSpeed(own, { computeScale: 1, coldScale: 1 }).invokeOverheadMsByCut).toEqual(own.invokeOverheadMsByCut);
    expect(atSpeed(own, { computeScale: 1, coldScale: 1, invokeOverheadMs: 30 }).invokeOverheadMsByCut).toBeUndefined();
    expect(() => checkHost({ ...LOCAL_HOST, warmComputeMs: { m: { 1: -1 } } })).toThrow(/host\.warmComputeMs\.m\.1: must be a number >= 0 \(got -1\)/);
  });

  it("a lone cold request then a warm one: init × coldScale, compute × computeScale, the session's overhead", () => {
    const arrivals = phone([0, 5000]);
    const base = onTheHost(LOCAL_HOST, arrivals);
    const slow = onTheHost(atSpeed(LOCAL_HOST, { computeScale: 1.5, coldScale: 1.25, invokeOverheadMs: 60 }), arrivals);
    expect(base.map((r) => r.cold)).toEqual([true, false]);
    expect(slow.map((r) => r.cold)).toEqual([true, false]);
    // The lone cold start splits into the init and the first inference's extra ((factor − 1) × the warm compute).
    const factor = firstInferenceFactor(LOCAL_HOST, 'mobilenetv2', 0);
    expect(factor).toBe(LOCAL_HOST.firstInference!.factorByCut!.mobilenetv2![0]);
    expect(base[0]!.measured.computeMs).toBeCloseTo(factor * base[1]!.measured.computeMs!, 9);
    expect(base[0]!.measured.initMs).toBeCloseTo(LOCAL_HOST.coldStartMs.mobilenetv2![0]! - (factor - 1) * base[1]!.measured.computeMs!, 9);
    expect(slow[0]!.measured.initMs! + slow[0]!.measured.computeMs!).toBeCloseTo(1.25 * LOCAL_HOST.coldStartMs.mobilenetv2![0]! + 1.5 * base[1]!.measured.computeMs!, 9);
    for (const i of [0, 1]) expect(slow[i]!.measured.computeMs).toBeCloseTo(1.5 * base[i]!.measured.computeMs!, 9);
    expect(slow[1]!.measured.roundTripMs).toBeCloseTo(slow[1]!.measured.computeMs! + 60, 9);
    expect(base[1]!.measured.roundTripMs).toBeCloseTo(base[1]!.measured.computeMs! + invokeOverheadOf(LOCAL_HOST, 'mobilenetv2', 0), 9);
  });

  it('at speed 1 it is the host: the same records, and the profile\'s tail times', () => {
    const arrivals = phone([0, 50, 100, 150, 200, 3000, 3100, 9000]);
    const same = atSpeed(LOCAL_HOST, { computeScale: 1, coldScale: 1 });
    expect(onTheHost(same, arrivals).map((r) => r.measured)).toEqual(onTheHost(LOCAL_HOST, arrivals).map((r) => r.measured));
    const dep = (tailScale?: number) => simDeployment({ models: [{ profile: mnv2, cuts: [0], tail: { memoryMB: 1769, reservedConcurrency: 4, provisionedConcurrency: 0 } }], predictor, tailTimes: 'this-machine', ...(tailScale ? { tailScale } : {}) });
    expect(dep(2).functions[0]!.tailMs).toBeCloseTo(2 * dep().functions[0]!.tailMs, 9);
    expect(dep().functions[0]!.tailMs).toBeCloseTo(mnv2.wholeModelMs, 6);
    expect(() => dep(-1)).toThrow(/tailScale: must be a number > 0/);
    expect(() => simDeployment({ models: [{ profile: mnv2, cuts: [0], tail: { memoryMB: 1769, reservedConcurrency: 4, provisionedConcurrency: 0 } }], predictor, tailScale: 2 })).toThrow(/tailScale: applies to tailTimes 'this-machine' only/);
  });

  it('on Lambda (no host) nothing changes: the speed lives in the host only', () => {
    const arrivals = phone([0, 40, 80, 5000]);
    const lambda = (extra: object) => {
      const dep = simDeployment({ models: [{ profile: mnv2, cuts: [0, 63], tail: { memoryMB: 1769, reservedConcurrency: 4, provisionedConcurrency: 0 } }], predictor, ...extra });
      const records: LoadRecord[] = [];
      simulate({ arrivals, policy: { kind: 'cloud-only' }, ...dep, onRecord: (r) => records.push(r) });
      return records;
    };
    expect(lambda({})).toEqual(lambda({ tailTimes: 'cloud' }));
  });

  it('speedFromProbe: medians of real over simulated compute and cold start (cold − warm round trip of its cut), and the overhead', () => {
    const pair = (cut: number, cold: boolean, real: [number, number], sim: [number, number]): ProbePair => ({
      cut,
      cold,
      real: { roundTripMs: real[0], computeMs: real[1] },
      sim: { roundTripMs: sim[0], computeMs: sim[1] },
    });
    const speed = speedFromProbe([
      pair(0, false, [80, 50], [100, 55]),
      pair(0, false, [90, 60], [100, 55]),
      pair(0, true, [1080, 70], [900, 60]), // (1080 − 85) / (900 − 100)
      pair(63, false, [50, 27], [75, 30]),
      pair(63, true, [650, 40], [675, 30]), // (650 − 50) / (675 − 75) = 1
      pair(63, true, [1250, 40], [675, 30]), // 2
    ]);
    expect(speed.computeScale).toBeCloseTo(50 / 55, 9); // median of 50/55, 60/55, 27/30
    expect(speed.coldScale).toBeCloseTo(995 / 800, 9); // median of 1.24375, 1, 2
    expect(speed.invokeOverheadMs).toBe(30); // median of 30, 30, 23
    expect([speed.warm, speed.cold]).toEqual([3, 3]);
    expect(() => speedFromProbe([pair(0, false, [80, 50], [100, 55])])).toThrow(/probe: needs warm and cold requests on both sides \(got 1 warm, 0 cold\)/);
    expect(() => speedFromProbe([pair(0, false, [80, 50], [100, 55]), pair(63, true, [650, 40], [675, 30])])).toThrow(/probe: no cut has both cold and warm requests/);
  });

  it('speedFromProbe finds the speed of a host simulated at a known speed (lone and concurrent cold starts)', () => {
    const probe = phone([0, 1500, 2500, 9000, 10500, 11500, 18000, 18100, 18200, 18300, 21000, 21500]);
    const truth = atSpeed(LOCAL_HOST, { computeScale: 0.8, coldScale: 1.3, invokeOverheadMs: 30 });
    const pairs = (policy: Policy): ProbePair[] => {
      const real = onTheHost(truth, probe, policy);
      const sim = onTheHost(LOCAL_HOST, probe, policy);
      return real.map((r, i) => ({ cut: r.cut, cold: r.cold, real: { roundTripMs: r.measured.roundTripMs!, computeMs: r.measured.computeMs! }, sim: { roundTripMs: sim[i]!.measured.roundTripMs!, computeMs: sim[i]!.measured.computeMs! } }));
    };
    const speed = speedFromProbe([...pairs({ kind: 'cloud-only' }), ...pairs({ kind: 'cut', cut: 63 })]);
    expect(speed.computeScale).toBeCloseTo(0.8, 9);
    expect(speed.invokeOverheadMs).toBeCloseTo(30, 9);
    // The cold start as the client sees it also holds the first compute's extra, scaled by computeScale (at cut 0
    // 0.71 × 26.9 of its 290 ms since round 11's factor 1.71), and the probe's concurrent cold starts share more when
    // they run longer (LOCAL_HOST.initBurstScale): within 5 % (4.0 % off on the round-11 host).
    expect(Math.abs(speed.coldScale / 1.3 - 1)).toBeLessThan(0.05);
    expect([speed.warm, speed.cold]).toEqual([12, 12]);
  });
});
