import { describe, expect, it } from 'vitest';
import { predictorFromProfiles } from '../../../core/profile-scenario';
import { configSnippet, DEFAULT_HOST_CAPS, InfeasibleError, recommend, usefulCuts } from '../../../core/sim/recommend';
import { LOCAL_HOST } from '../../../core/sim/host';
import { UNRESERVED_MINIMUM } from '../../../core/sim/fleet';
import { generateWorkload, makeDevices } from '../../../core/workload';
import { OffloadConfigSchema } from '../../../cdk/config';
import { loadProfile, loadProfiles } from '../../../models/profile-files';

const profile = loadProfile('resnet50');
const predictor = predictorFromProfiles(loadProfiles());
const arrivals = generateWorkload({
  process: { kind: 'steady', ratePerS: 1.5 },
  devices: makeDevices(200, [{ class: 'low-end-phone', network: 'wifi' }]),
  model: 'resnet50',
  seed: 4,
  durationMs: 3_600_000,
  maxRequests: 4000,
});
const base = { profile, predictor, arrivals, deployableCuts: [0, 60, 93, 156], memorySizes: [1769], provisioned: [0, 4, 16], searchRequests: 2000, top: 3 };

describe('recommend', () => {
  it('finds the cuts the warm planner uses for the traffic', () => {
    // A low-end phone on WiFi: warm cloud-only beats the device for ResNet-50 (profiles/resnet50.wasm.json).
    expect(usefulCuts(base).cuts).toEqual([0]);
  });

  it('with a p95 target, ranks the configurations that meet it by monthly cost, and sizes reserved concurrency from the run', () => {
    // 1 s: on-demand tails reach ~1.2 s at the p95 (cold starts), warm ones ~0.8 s (committed profiles of 16:43 UTC).
    // With the planner's prewarm off, it never warms an on-demand tail (a cold one loses to the phone).
    const r = recommend({ ...base, maxP95Ms: 1000, prewarm: false });
    expect(r.best.length).toBeGreaterThan(0);
    for (const e of r.best) expect(e.p95Ms).toBeLessThanOrEqual(1000);
    const costs = r.best.map((e) => e.monthlyUSD.total);
    expect(costs).toEqual([...costs].sort((a, b) => a - b));
    // Meeting the p95 takes warm capacity: provisioned concurrency, so the month costs its charge.
    const best = r.best[0]!;
    expect(Object.values(best.provisioned).some((n) => n > 0)).toBe(true);
    expect(best.monthlyUSD.provisioned).toBeGreaterThan(0);
    expect(best.reservedConcurrency).toBeGreaterThanOrEqual(Math.max(...Object.values(best.provisioned)));
    expect(r.searched.length).toBe(3);
    // The snippet is a valid model entry of cdk/offload.config.json.
    const config = OffloadConfigSchema.parse(configSnippet('resnet50', best));
    expect(config.models.resnet50).toMatchObject({ cuts: best.cuts, tail: { memoryMB: 1769, reservedConcurrency: best.reservedConcurrency } });
  });

  it('with the planner as deployed (prewarm on), on-demand tails meet the same p95 for less: prewarm warms them, its cold starts billed', () => {
    const on = recommend({ ...base, maxP95Ms: 1000 });
    const off = recommend({ ...base, maxP95Ms: 1000, prewarm: false });
    const best = on.best[0]!;
    expect(best.p95Ms).toBeLessThanOrEqual(1000);
    expect(Object.values(best.provisioned).every((n) => n === 0)).toBe(true);
    expect(best.cloudShare).toBeGreaterThan(0.9);
    expect(best.monthlyUSD.total).toBeLessThan(off.best[0]!.monthlyUSD.total);
    // the same configuration without prewarm: nothing offloaded, nothing billed
    const same = off.searched.find((e) => e.cuts.join() === best.cuts.join() && Object.values(e.provisioned).every((n) => n === 0))!;
    expect(same.cloudShare).toBe(0);
    expect(same.monthlyUSD.total).toBe(0);
  });

  it('an infeasible budget says how far the cheapest configuration that meets the p95 is from it', () => {
    let error: unknown;
    try {
      recommend({ ...base, maxP95Ms: 1000, budgetUSD: 0.01 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InfeasibleError);
    const e = error as InfeasibleError;
    expect(e.field).toBe('budget');
    expect(e.message).toMatch(/^budget: no configuration meets \$0\.01\/month with p95 <= 1000 ms: the cheapest that meets the p95 costs \$[\d.]+\/month, \$[\d.]+ \([\d.]+x\) over/);
    expect(e.closest!.p95Ms).toBeLessThanOrEqual(1000);
  });

  it('an unreachable p95 names the fastest configuration', () => {
    expect(() => recommend({ ...base, maxP95Ms: 10 })).toThrow(/^p95: no configuration reaches p95 <= 10 ms: the fastest reaches \d+ ms/);
  });
});

describe('recommend on a shared host: reserved-concurrency caps', () => {
  // The bench's trace (bench/recommend-replay.ts): MobileNetV2, 12 low-end phones on WiFi, bursts of 2/s for 4 s, 8 s off.
  const mnv2 = loadProfile('mobilenetv2');
  const bursty = generateWorkload({
    process: { kind: 'bursty', ratePerS: 2, onMs: 4000, offMs: 8000 },
    devices: makeDevices(12, [{ class: 'low-end-phone', network: 'wifi' }]),
    model: 'mobilenetv2',
    seed: 5,
    durationMs: 600_000,
    maxRequests: 48,
  });
  const onHost = {
    profile: mnv2,
    predictor,
    arrivals: bursty,
    deployableCuts: [0, 36, 63, 125, 156],
    memorySizes: [1769],
    provisioned: [0],
    policy: { kind: 'cloud-only' } as const,
    fleet: { keepAliveMs: 5000 },
    view: { keepAliveMs: 5000 },
    host: LOCAL_HOST,
    top: 10,
  };

  it('tries each cap beside the sized configuration, and a capped configuration keeps its cap in the replay', () => {
    const r = recommend({ ...onHost, reserved: [1, 3] });
    expect(r.reservedCaps).toEqual([1, 3]);
    // 1 cut set x 1 memory x 1 provisioned value: the sized configuration and one per cap.
    expect(r.searched.map((e) => e.reservedConcurrency).sort((a, b) => a - b)).toEqual([1, 3, 1000 - UNRESERVED_MINIMUM]);
    const capped = r.best.find((e) => e.reservedConcurrency === 1);
    expect(capped).toBeDefined();
    // Sized configurations come out of the replay at peak + headroom, below the account's share they were searched at.
    const sized = r.best.filter((b) => b.reservedConcurrency > 3);
    expect(sized).toHaveLength(1);
    expect(sized[0]!.reservedConcurrency).toBeLessThan(1000 - UNRESERVED_MINIMUM);
  });

  it('on two shared cores a low cap wins: fewer tails at once, the throttled requests finish on the device', () => {
    const uncapped = recommend({ ...onHost, reserved: [] });
    const capped = recommend(onHost); // the host's default caps
    expect(capped.reservedCaps).toEqual([...DEFAULT_HOST_CAPS]);
    const u = uncapped.best[0]!;
    const c = capped.best[0]!;
    expect(c.reservedConcurrency).toBeLessThan(u.reservedConcurrency);
    expect(c.rate429).toBeGreaterThan(0);
    expect(c.p95Ms).toBeLessThan(u.p95Ms);
  });

  it('on Lambda no cap is tried unless asked for', () => {
    const r = recommend({ ...base, maxP95Ms: 1000 });
    expect(r.reservedCaps).toEqual([]);
  });

  it('a cap that is not a whole number >= 1 is refused, naming the field', () => {
    expect(() => recommend({ ...onHost, reserved: [0] })).toThrow(/^reserved: reserved concurrency caps are whole numbers >= 1, got 0/);
    expect(() => recommend({ ...onHost, reserved: [1.5] })).toThrow(/got 1\.5/);
  });
});
