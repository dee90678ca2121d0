import { describe, expect, it } from 'vitest';
import { answerRatio, burstFit, COLD_OFFSETS_MS, fitScales, measuredBursts, RIDER_OFFSETS_MS, simulatedAnswers, simulatedRiderBurst, type RiderBurst } from '../../bench/burst-riders';
import type { ColdSample } from '../../bench/first-burst';
import { LOCAL_HOST, type HostModel } from '../../core/sim/host';

const burst = (over: Partial<RiderBurst>): RiderBurst => ({
  round: 0,
  riders: false,
  inits: [800, 800, 800, 800],
  computes: [100, 100, 100, 100],
  answersAt: [1000, 1010, 1150, 1170],
  colds: [true, true, true, true],
  riderStatus: [],
  riderAnswersAt: [],
  mainCpuMs: 500,
  clientCpuMs: 30,
  ...over,
});

const sample = (stack: number, b: number, cut: number, roundTripMs: number, cold = true): ColdSample => ({
  stack,
  burst: b,
  cut,
  k: 2,
  firstOnFunction: false,
  cold,
  initMs: cold ? roundTripMs - 100 : null,
  roundTripMs,
  computeMs: 50,
  sentAt: 0,
  timeline: null,
});

describe("burst-riders: the simulator's burst", () => {
  it('refuses the riders that reach the tail while all four environments initialise, and serves the four colds the same either way until then', () => {
    const alone = simulatedRiderBurst(false);
    const ridden = simulatedRiderBurst(true);
    expect([alone.inits.length, alone.answersAt.length, alone.refused]).toEqual([4, 4, 0]);
    // Every environment is still initialising when the first two riders come (their inits end past 700 ms after the first send).
    expect(Math.min(...alone.inits)).toBeGreaterThan(RIDER_OFFSETS_MS[1]!);
    expect(ridden.refused).toBeGreaterThanOrEqual(2);
    expect(ridden.refused).toBeLessThanOrEqual(RIDER_OFFSETS_MS.length);
    // A refusal costs the host nothing in the model: the first pair's inits are the same with riders.
    expect(ridden.inits.slice(0, 2)).toEqual(alone.inits.slice(0, 2));
  });

  it("the answers it gives are the offsets plus each request's round trip, later on a host whose bursts share more", () => {
    const slow: HostModel = { ...LOCAL_HOST, initBurstScaleByCut: { mobilenetv2: { ...LOCAL_HOST.initBurstScaleByCut?.mobilenetv2, 0: 2 } } };
    const base = simulatedAnswers(COLD_OFFSETS_MS, 0, LOCAL_HOST);
    const later = simulatedAnswers(COLD_OFFSETS_MS, 0, slow);
    for (const [i, at] of base.entries()) {
      expect(at).toBeGreaterThan(COLD_OFFSETS_MS[i]!);
      expect(later[i]!).toBeGreaterThan(at);
    }
    // Another cut's bursts do not read cut 0's scale.
    expect(simulatedAnswers(COLD_OFFSETS_MS, 63, slow)).toEqual(simulatedAnswers(COLD_OFFSETS_MS, 63, LOCAL_HOST));
  });
});

describe('burst-riders: bursts read for a fit', () => {
  it("takes a kept run's bursts whose four requests were all cold, at the trace's offsets, and a first-burst run's bursts sent together", () => {
    const riders = measuredBursts({ cut: 63, bursts: [burst({}), burst({ colds: [true, false, true, true] })] });
    expect(riders).toEqual([{ cut: 63, offsets: COLD_OFFSETS_MS, answersAt: [1000, 1010, 1150, 1170] }]);
    // The first kept run has no cut: it was cut 0.
    expect(measuredBursts({ bursts: [burst({})] })[0]!.cut).toBe(0);
    const together = measuredBursts({ samples: [sample(0, 0, 0, 900), sample(0, 0, 0, 950), sample(0, 1, 63, 700), sample(0, 1, 63, 720, false), sample(1, 0, 0, 910), sample(1, 0, 0, 930)] });
    expect(together).toEqual([
      { cut: 0, offsets: [0, 0], answersAt: [900, 950] },
      { cut: 0, offsets: [0, 0], answersAt: [910, 930] },
    ]);
  });

  it("is 1 against the simulator's own answers, and finds the scale that made them", () => {
    const made: HostModel = { ...LOCAL_HOST, initBurstScaleByCut: { mobilenetv2: { 0: 1.3 } } };
    const own = [{ cut: 0, offsets: COLD_OFFSETS_MS, answersAt: simulatedAnswers(COLD_OFFSETS_MS, 0, made) }];
    expect(burstFit(own, 0, made)).toEqual({ n: 4, ratio: 1 });
    const twice = [{ ...own[0]!, answersAt: own[0]!.answersAt.map((x) => x * 2) }];
    expect(burstFit(twice, 0, made).ratio).toBeCloseTo(0.5, 9);
    const [fit] = fitScales(own, [1, 1.2, 1.4, 1.6]);
    expect(fit!.cut).toBe(0);
    expect(fit!.ratios[0]!).toBeLessThan(1);
    expect(fit!.ratios[3]!).toBeGreaterThan(1);
    // Linear between 1.2 and 1.4 around the true 1.3: close, not exact.
    expect(Math.abs(fit!.fit! - 1.3)).toBeLessThan(0.03);
    expect(fitScales(own, [2, 3])[0]!.fit).toBeNull();
  });

  it("answerRatio: per position the median over bursts against the simulator's, as a geometric mean", () => {
    const xs = [burst({ answersAt: [1000, 1000, 1200, 1200] }), burst({ answersAt: [1200, 1200, 1400, 1400] }), burst({ answersAt: [1100, 1100, 1300, 1300] })];
    // Medians 1100, 1100, 1300, 1300 against 1000, 1000, 1300, 1300.
    expect(answerRatio(xs, [1000, 1000, 1300, 1300])).toBeCloseTo(Math.sqrt(1.1), 9);
  });
});
