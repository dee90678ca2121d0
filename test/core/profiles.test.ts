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
