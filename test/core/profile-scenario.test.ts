import { describe, expect, it } from 'vitest';
import { plan } from '../../core/planner';
import { NETWORK_PRESETS } from '../../core/presets';
import { ALL_WARM_LIMIT, allWarmFleet, buildScenario, deviceLayerMs, parseFleet, predictorFromProfiles } from '../../core/profile-scenario';
import { MB_PER_VCPU, parseDeviceProfile } from '../../core/profiles';
import { parseScenario } from '../../core/scenario';
import { chainProfile } from './profile-fixtures';

const profiles = [chainProfile('a'), chainProfile('b', 1.2), chainProfile('c', 0.9)];
const predictor = predictorFromProfiles(profiles);
const host = predictor.host;

describe('buildScenario', () => {
  const profile = profiles[0]!;
  const device = parseDeviceProfile({ name: 'half', gmacPerSecond: host.gmacPerSecond / 2, memGBps: host.memGBps / 2, computeW: 2, idleW: 0.3, overheadMs: 0, fusesElementwise: false });
  const wifi = NETWORK_PRESETS.wifi;

  it('builds a scenario the planner accepts, every candidate deployed and warm by default', () => {
    const s = parseScenario(buildScenario({ profile, predictor, device, network: wifi, radio: wifi.radio }));
    expect(s.model.layers.map((l) => l.name)).toEqual(profile.layers.map((l) => l.name));
    expect(Object.keys(s.cloud.functions)).toEqual(profile.candidates.map((c) => String(c.cut)));
    expect(s.cloud.functions['0']).toEqual({ idleWarm: 1, inFlight: 0, limit: ALL_WARM_LIMIT });
    expect(s.model.candidates).toEqual(profile.candidates.map((c) => ({ cut: c.cut, crossingBytes: c.crossingBytes })));
    const record = plan(s);
    expect(record.candidates).toHaveLength(profile.candidates.length + 1);
  });

  it('a device half as fast in compute and bandwidth, with no dispatch overhead, takes twice the measured time (the fit gives these layers no overhead)', () => {
    const s = parseScenario(buildScenario({ profile, predictor, device, network: wifi, radio: wifi.radio }));
    s.model.layers.forEach((l, i) => expect(l.deviceMs).toBeCloseTo(2 * profile.layers[i]!.ms, 9));
  });

  it('with a threaded tail profile, cloud times are its own at 2 vCPUs, slower at 1 vCPU, and the device side keeps the main profile', () => {
    // the same model measured with 2 threads: every layer 0.6× of the 1-thread time
    const threaded = { ...profile, threads: 2, layers: profile.layers.map((l) => ({ ...l, ms: 0.6 * l.ms })) };
    const base = { profile, predictor, device, network: wifi, radio: wifi.radio, cloudProfile: threaded };
    const two = parseScenario(buildScenario({ ...base, memoryMB: 2 * MB_PER_VCPU }));
    const one = parseScenario(buildScenario({ ...base, memoryMB: MB_PER_VCPU }));
    const plain = parseScenario(buildScenario({ profile, predictor, device, network: wifi, radio: wifi.radio }));
    two.model.layers.forEach((l, i) => {
      expect(l.cloudMs).toBeCloseTo(threaded.layers[i]!.ms, 9);
      // at one vCPU the 2 threads share one core: back to one thread (p = WASM_PARALLEL_FRACTION 0.8: 0.6 → 1.0)
      expect(one.model.layers[i]!.cloudMs).toBeCloseTo(profile.layers[i]!.ms, 9);
      expect(l.deviceMs).toBe(plain.model.layers[i]!.deviceMs);
    });
    const other = { ...threaded, model: 'other' };
    expect(() => buildScenario({ ...base, cloudProfile: other })).toThrow(/does not have the layers of/);
  });

  it('a cloud profile that measured its parallel fraction is priced with it; without one, with WASM_PARALLEL_FRACTION', () => {
    // MobileNetV2-like: 2 threads barely faster (p = 0.2). At one vCPU the threaded profile is brought back to one thread
    const threaded = { ...profile, threads: 2, parallelFraction: 0.2, layers: profile.layers.map((l) => ({ ...l, ms: 0.9 * l.ms })) };
    const base = { profile, predictor, device, network: wifi, radio: wifi.radio, memoryMB: MB_PER_VCPU };
    const own = parseScenario(buildScenario({ ...base, cloudProfile: threaded }));
    const { parallelFraction: _measured, ...withoutFraction } = threaded;
    const stated = parseScenario(buildScenario({ ...base, cloudProfile: withoutFraction }));
    own.model.layers.forEach((l, i) => {
      expect(l.cloudMs).toBeCloseTo(profile.layers[i]!.ms, 9); // 0.9 / (0.8 + 0.2 / 2) = 1
      expect(stated.model.layers[i]!.cloudMs).toBeCloseTo((0.9 * profile.layers[i]!.ms) / 0.6, 9); // p = 0.8: 0.9 / 0.6
    });
  });

  it('cloud times are the measured ones at one vCPU and double at half a vCPU', () => {
    const one = parseScenario(buildScenario({ profile, predictor, device, network: wifi, radio: wifi.radio, memoryMB: MB_PER_VCPU }));
    const half = parseScenario(buildScenario({ profile, predictor, device, network: wifi, radio: wifi.radio, memoryMB: MB_PER_VCPU / 2 }));
    one.model.layers.forEach((l, i) => {
      expect(l.cloudMs).toBe(profile.layers[i]!.ms);
      expect(half.model.layers[i]!.cloudMs).toBeCloseTo(2 * l.cloudMs, 12);
    });
  });

  it('a device that fuses element-wise layers spends nothing on batch norm and relu', () => {
    const fused = { ...device, fusesElementwise: true };
    const ms = deviceLayerMs(profile, fused, predictor);
    expect(ms[1]).toBe(0);
    expect(ms[2]).toBe(0);
    expect(ms[0]).toBeGreaterThan(0);
  });

  it('takes a fleet state and carries it to the plan', () => {
    const fleet = parseFleet({ '0': { idleWarm: 0, inFlight: 4, limit: 4 } });
    const s = parseScenario(buildScenario({ profile, predictor, device, network: wifi, radio: wifi.radio, fleet }));
    const rows = plan(s).candidates;
    expect(rows.find((r) => r.cut === 0)!.reasons).toEqual(['throttled']);
    expect(rows.find((r) => r.cut === 1)!.reasons).toEqual(['no-function']);
  });

  it('a bad fleet file names the field', () => {
    expect(() => parseFleet({ '3': { idleWarm: -1, inFlight: 0, limit: 1 } }, 'fleet.json')).toThrow(/^fleet\.json\.3\.idleWarm: must be >= 0/);
  });

  it('allWarmFleet has one warm entry per candidate', () => {
    expect(Object.keys(allWarmFleet([{ cut: 0 }, { cut: 7 }]))).toEqual(['0', '7']);
  });
});
