import { describe, expect, it } from 'vitest';
import { ValidationError, NotFoundError } from '../../core/errors';
import {
  DEVICE_PROFILES,
  DEVICE_PROFILE_NAMES,
  DeviceProfileSchema,
  CLOUD_GMAC_PER_VCPU,
  LAYER_OVERHEAD_MS,
  MB_PER_VCPU,
  cloudLayerMs,
  derivedCloudLayerMs,
  deviceProfile,
  parseDeviceProfile,
  parseModelProfile,
  vcpuShare,
  cloudTimeFactor,
  lambdaVisibleCores,
  parallelFractionFromRatio,
  measuredParallelFraction,
} from '../../core/profiles';
import { DEVICE_CLASSES } from '../../core/presets';
import { chainProfile } from './profile-fixtures';

describe('cloudLayerMs', () => {
  const profile = chainProfile();
  const measured = profile.layers.map((l) => l.ms);

  it('at one vCPU (1,769 MB) the tail runs at the measured speed', () => {
    expect(cloudLayerMs(profile, MB_PER_VCPU)).toEqual(measured);
  });

  it('at half a vCPU every layer takes twice as long', () => {
    cloudLayerMs(profile, MB_PER_VCPU / 2).forEach((ms, i) => expect(ms).toBeCloseTo(2 * measured[i]!, 12));
  });

  it('above one vCPU a single-threaded inference gains nothing', () => {
    expect(cloudLayerMs(profile, 3008)).toEqual(measured);
    expect(cloudLayerMs(profile, 10240)).toEqual(measured);
  });

  it('applies an assumed Lambda speed-up', () => {
    cloudLayerMs(profile, MB_PER_VCPU, { lambdaSpeedup: 2 }).forEach((ms, i) => expect(ms).toBeCloseTo(measured[i]! / 2, 12));
  });

  it('rescales a profile measured with less than one vCPU', () => {
    // measured at half a vCPU, planned at one: half the measured time
    cloudLayerMs(profile, MB_PER_VCPU, { measuredAtMB: MB_PER_VCPU / 2 }).forEach((ms, i) => expect(ms).toBeCloseTo(measured[i]! / 2, 12));
    expect(cloudLayerMs(profile, MB_PER_VCPU / 4, { measuredAtMB: MB_PER_VCPU / 4 })).toEqual(measured);
  });

  it('rejects a memory size that is not positive', () => {
    expect(() => vcpuShare(0)).toThrow(ValidationError);
    expect(() => cloudLayerMs(profile, Number.NaN)).toThrow(/memoryMB/);
  });
});

describe('derivedCloudLayerMs', () => {
  it('derives each layer from its multiply-adds at the vCPU share, plus the per-layer overhead', () => {
    const layers = [{ flops: 8e9 }, { flops: 0 }];
    expect(derivedCloudLayerMs(layers, MB_PER_VCPU)).toEqual([(8 / CLOUD_GMAC_PER_VCPU) * 1000 + LAYER_OVERHEAD_MS, LAYER_OVERHEAD_MS]);
    const half = derivedCloudLayerMs(layers, MB_PER_VCPU / 2);
    expect(half[0]! - LAYER_OVERHEAD_MS).toBeCloseTo(2 * (8 / CLOUD_GMAC_PER_VCPU) * 1000, 9);
    expect(derivedCloudLayerMs(layers, 10240)).toEqual(derivedCloudLayerMs(layers, MB_PER_VCPU));
  });
});

describe('parseModelProfile', () => {
  it('accepts a well-formed profile', () => {
    const p = parseModelProfile(JSON.parse(JSON.stringify(chainProfile())));
    expect(p.layers).toHaveLength(6);
  });

  it('names the bad field', () => {
    const bad = chainProfile() as unknown as { layers: { ms: number }[] };
    bad.layers[2]!.ms = -1;
    expect(() => parseModelProfile(bad, 'p.json')).toThrow(/^p\.json\.layers\[2\]\.ms: must be >= 0/);
  });

  it('rejects layers out of order and candidates out of range', () => {
    const swapped = chainProfile();
    swapped.layers[1]!.index = 5;
    expect(() => parseModelProfile(swapped, 'p')).toThrow(/p\.layers\[1\]\.index: must be 1/);
    const far = chainProfile();
    far.candidates.push({ cut: 6, crossingBytes: 1, tailWeightBytes: 0 });
    expect(() => parseModelProfile(far, 'p')).toThrow(/p\.candidates\[5\]\.cut: out of range 0\.\.5/);
  });
});

describe('device classes', () => {
  it('every built-in passes its own schema and carries sources', () => {
    for (const name of DEVICE_PROFILE_NAMES) {
      const d = DEVICE_PROFILES[name]!;
      expect(DeviceProfileSchema.parse(d)).toEqual(d);
      expect(Object.keys(d.sources).length).toBeGreaterThan(0);
    }
  });

  it('takes its power figures from the planner\'s device classes', () => {
    for (const name of DEVICE_PROFILE_NAMES) {
      expect(DEVICE_PROFILES[name]!.computeW).toBe(DEVICE_CLASSES[name]!.computeW);
      expect(DEVICE_PROFILES[name]!.idleW).toBe(DEVICE_CLASSES[name]!.idleW);
    }
  });

  it('derives GMAC/s from the published reference latency', () => {
    const d = DEVICE_PROFILES['flagship-phone']!;
    expect(d.gmacPerSecond).toBeCloseTo(d.reference!.gmac / (d.reference!.ms / 1000), 9);
  });

  it('an unknown name lists the built-in ones', () => {
    expect(() => deviceProfile('pixel-9')).toThrow(NotFoundError);
    expect(() => deviceProfile('pixel-9')).toThrow(/low-end-phone, flagship-phone, jetson-nano/);
  });

  it('a device file fills defaults and names bad fields', () => {
    const d = parseDeviceProfile({ name: 'mine', gmacPerSecond: 10, memGBps: 8, computeW: 3, idleW: 0.4 });
    expect(d.overheadMs).toBe(0.01);
    expect(d.fusesElementwise).toBe(true);
    expect(() => parseDeviceProfile({ name: 'mine', gmacPerSecond: 0, memGBps: 8, computeW: 3, idleW: 0.4 }, 'dev.json')).toThrow(
      /^dev\.json\.gmacPerSecond: must be > 0/,
    );
  });
});

describe('memory size as a lever: threads and vCPUs (issue 11)', () => {
  it('counts the cores a Lambda sees: 2 up to 3,008 MB, then one more per 1,769 MB, 6 at most', () => {
    expect([128, 1769, 3008, 3009, 5307, 5308, 7076, 7077, 8845, 8846, 10240].map(lambdaVisibleCores)).toEqual([2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    expect(() => lambdaVisibleCores(0)).toThrow(ValidationError);
  });

  it('inverts Amdahl: the parallel fraction of a measured speed-up', () => {
    expect(parallelFractionFromRatio(1.6, 2)).toBeCloseTo(0.75, 12);
    expect(parallelFractionFromRatio(2, 2)).toBe(1);
    expect(parallelFractionFromRatio(0.9, 2)).toBe(0); // a slow-down on a loaded machine: nothing parallel
    expect(() => parallelFractionFromRatio(1.5, 1)).toThrow(/threads/);
  });

  it('measures a model\'s parallel fraction from its 1- and 2-thread profiles (either order), and refuses profiles that do not pair', () => {
    const one = { ...chainProfile('m'), wholeModelWallMs: 100, wholeModelMs: 95 };
    const two = { ...chainProfile('m'), threads: 2, wholeModelWallMs: 62.5, machine: { ...one.machine, loadAverage: 1.2 } };
    // 100 / 62.5 = 1.6× on 2 threads: p = 0.75 (wall clocks, not the 1-thread profile's CPU clock)
    const expected = { parallelFraction: 0.75, parallelFractionFrom: { threads: 2, oneThreadMs: 100, threadedMs: 62.5, loadAverages: [0, 1.2] } };
    expect(measuredParallelFraction(one, two)).toEqual(expected);
    expect(measuredParallelFraction(two, one)).toEqual(expected);
    // the recorded fraction survives the profile schema
    expect(parseModelProfile({ ...one, ...expected }).parallelFraction).toBe(0.75);
    expect(() => measuredParallelFraction(one, one)).toThrow(/one profile on 1 thread and one on more \(got 1 and 1 threads\)/);
    expect(() => measuredParallelFraction(one, { ...two, model: 'other' })).toThrow(/different models/);
    expect(() => measuredParallelFraction(one, { ...two, backend: 'cpu' })).toThrow(/wasm engine/);
    expect(() => measuredParallelFraction(one, { ...two, inputShape: [64, 64, 3] })).toThrow(/input shapes/);
    expect(() => measuredParallelFraction(one, { ...two, fused: true })).toThrow(/measure both the same way/);
  });

  it('keeps the single-thread model when one thread runs: slower below one vCPU, flat above', () => {
    expect(cloudTimeFactor(MB_PER_VCPU)).toBe(1);
    expect(cloudTimeFactor(MB_PER_VCPU / 2)).toBeCloseTo(2, 12);
    expect(cloudTimeFactor(10240)).toBe(1);
    expect(cloudTimeFactor(3008, { threads: 1, parallelFraction: 0.9 })).toBe(1);
  });

  it('divides the parallel share among the threads, up to the vCPUs the memory buys', () => {
    const p = 0.8;
    // 3,008 MB: 1.70 vCPUs over 2 threads
    expect(cloudTimeFactor(3008, { threads: 2, parallelFraction: p })).toBeCloseTo(0.2 + 0.8 / (3008 / MB_PER_VCPU), 12);
    // 2 full vCPUs: Amdahl at 2
    expect(cloudTimeFactor(2 * MB_PER_VCPU, { threads: 2, parallelFraction: p })).toBeCloseTo(0.6, 12);
    // one vCPU: a second thread buys nothing
    expect(cloudTimeFactor(MB_PER_VCPU, { threads: 2, parallelFraction: p })).toBeCloseTo(1, 12);
    // 10,240 MB with 6 threads: faster than 3,008 MB with 2
    expect(cloudTimeFactor(10240, { threads: 6, parallelFraction: p })).toBeLessThan(cloudTimeFactor(3008, { threads: 2, parallelFraction: p }));
  });

  it('scales measured layer times by the threads, and brings a multi-threaded profile back to one thread first', () => {
    const profile = { layers: [{ ms: 10 }, { ms: 4 }] };
    const threads = { threads: 2, parallelFraction: 0.8 };
    cloudLayerMs(profile, 2 * MB_PER_VCPU, { threads }).forEach((ms, i) => expect(ms).toBeCloseTo(profile.layers[i]!.ms * 0.6, 12));
    // measured with 2 threads on 2 cores, priced at the same: unchanged
    cloudLayerMs(profile, 2 * MB_PER_VCPU, { threads, measuredThreads: 2 }).forEach((ms, i) => expect(ms).toBeCloseTo(profile.layers[i]!.ms, 12));
    expect(() => cloudTimeFactor(3008, { threads: 2, parallelFraction: 1.5 })).toThrow(/parallelFraction/);
  });
});
