import { describe, expect, it } from 'vitest';
import { predictorFromProfiles } from '../../../core/profile-scenario';
import { configSnippet, InfeasibleError, recommend, usefulCuts } from '../../../core/sim/recommend';
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
