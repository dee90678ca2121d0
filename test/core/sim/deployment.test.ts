import { describe, expect, it } from 'vitest';
import { coldStartFromWeights } from '../../../core/cost';
import { CLOUD_DEFAULTS, LAMBDA_COLD_ESTIMATE } from '../../../core/presets';
import { predictorFromProfiles } from '../../../core/profile-scenario';
import { simDeployment } from '../../../core/sim/deployment';
import { LOCAL_HOST } from '../../../core/sim/host';
import { recommend } from '../../../core/sim/recommend';
import { simulate } from '../../../core/sim/simulator';
import { generateWorkload, makeDevices } from '../../../core/workload';
import { loadProfile, loadProfiles } from '../../../models/profile-files';

const profile = loadProfile('resnet50');
const predictor = predictorFromProfiles(loadProfiles());
const models = [{ profile, cuts: [0, 60, 156], tail: { memoryMB: 3008, reservedConcurrency: 10, provisionedConcurrency: 0 } }];
const weightOf = (cut: number) => profile.candidates.find((c) => c.cut === cut)!.tailWeightBytes;

describe('simDeployment: the cold-start formula', () => {
  it('defaults to the local calibration, for the fleet and the planner', () => {
    const d = simDeployment({ models, predictor });
    for (const f of d.functions) expect(f.coldStartMs).toBe(coldStartFromWeights(CLOUD_DEFAULTS.coldBaseMs, CLOUD_DEFAULTS.coldMsPerMB, weightOf(f.cut)));
    expect(d.scenarioFor('resnet50', 'low-end-phone', 'wifi').cloud).toMatchObject({ coldBaseMs: CLOUD_DEFAULTS.coldBaseMs, coldMsPerMB: CLOUD_DEFAULTS.coldMsPerMB });
  });

  it('a given formula sets the true cold starts and the planner\'s pricing alike', () => {
    const d = simDeployment({ models, predictor, cold: LAMBDA_COLD_ESTIMATE });
    for (const f of d.functions) expect(f.coldStartMs).toBeCloseTo(LAMBDA_COLD_ESTIMATE.coldBaseMs + (LAMBDA_COLD_ESTIMATE.coldMsPerMB * weightOf(f.cut)) / 2 ** 20, 9);
    expect(d.scenarioFor('resnet50', 'low-end-phone', 'wifi').cloud).toMatchObject(LAMBDA_COLD_ESTIMATE);
  });

  it('the planner acts on it: a free cold start makes a cold fleet worth offloading to, the default one does not', () => {
    // Requests 11-13 min apart: every tail is reaped before the next one (10 min keep-alive).
    const arrivals = generateWorkload({ process: { kind: 'sparse', minGapMs: 660_000, meanExtraMs: 120_000 }, devices: makeDevices(20, [{ class: 'low-end-phone', network: 'wifi' }]), model: 'resnet50', seed: 2, durationMs: 86_400_000, maxRequests: 40 });
    const cloudShare = (cold?: { coldBaseMs: number; coldMsPerMB: number }) => {
      const { summary } = simulate({ arrivals, policy: { kind: 'planner' }, ...simDeployment({ models, predictor, ...(cold ? { cold } : {}) }) });
      expect(summary.requests).toBe(40);
      return summary.cloud / summary.requests;
    };
    expect(cloudShare()).toBe(0);
    expect(cloudShare({ coldBaseMs: 0, coldMsPerMB: 0 })).toBe(1);
  });

  it('refuses a negative or non-finite figure, naming it', () => {
    expect(() => simDeployment({ models, predictor, cold: { coldBaseMs: -1, coldMsPerMB: 5 } })).toThrow(/cold\.coldBaseMs: must be a number >= 0 \(got -1\)/);
    expect(() => simDeployment({ models, predictor, cold: { coldBaseMs: 100, coldMsPerMB: Number.NaN } })).toThrow(/cold\.coldMsPerMB: must be a number >= 0/);
  });
});

describe('recommend: the cold-start formula', () => {
  const arrivals = generateWorkload({ process: { kind: 'steady', ratePerS: 1.5 }, devices: makeDevices(200, [{ class: 'low-end-phone', network: 'wifi' }]), model: 'resnet50', seed: 4, durationMs: 3_600_000, maxRequests: 2000 });
  const base = { profile, predictor, arrivals, deployableCuts: [0, 60, 93, 156], memorySizes: [1769], provisioned: [0, 4], searchRequests: 1000, top: 2 };
  const figures = (r: ReturnType<typeof recommend>) => r.searched.map(({ p95Ms, meanMs, coldStarts, monthlyUSD }) => ({ p95Ms, meanMs, coldStarts, monthlyUSD }));

  it('the local calibration given is the default; another one reaches the simulated tails', () => {
    const plain = recommend(base);
    expect(figures(recommend({ ...base, cold: { coldBaseMs: CLOUD_DEFAULTS.coldBaseMs, coldMsPerMB: CLOUD_DEFAULTS.coldMsPerMB } }))).toEqual(figures(plain));
    expect(figures(recommend({ ...base, cold: LAMBDA_COLD_ESTIMATE }))).not.toEqual(figures(plain));
  });

  it('is refused with a host, whose measured cold starts apply', () => {
    expect(() => recommend({ ...base, host: LOCAL_HOST, cold: LAMBDA_COLD_ESTIMATE })).toThrow(/^cold: applies to tails on Lambda; on host local its measured cold starts apply/);
  });
});
