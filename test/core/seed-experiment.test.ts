import { describe, expect, it } from 'vitest';
import { NETWORK_PRESETS } from '../../core/presets';
import { plan } from '../../core/planner';
import { buildScenario, predictorFromProfiles } from '../../core/profile-scenario';
import { parseDeviceProfile } from '../../core/profiles';
import { parseScenario } from '../../core/scenario';
import { seededRandom } from '../../core/random';
import { BASELINES, drawFleet, gain, outcomeOf, runSeedExperiment, summarize } from '../../core/seed-experiment';
import { chainProfile } from './profile-fixtures';

const profiles = [chainProfile('a'), chainProfile('b', 3)];
const predictor = predictorFromProfiles(profiles);
// A slow device, so that offloading is worth something on a fast network.
const slow = parseDeviceProfile({ name: 'slow', gmacPerSecond: predictor.host.gmacPerSecond / 20, memGBps: 1, computeW: 2, idleW: 0.3 });
const fast = parseDeviceProfile({ name: 'fast', gmacPerSecond: predictor.host.gmacPerSecond * 4, memGBps: 40, computeW: 3, idleW: 0.5 });
const networks = [NETWORK_PRESETS['3g'], NETWORK_PRESETS.wifi];

describe('runSeedExperiment', () => {
  const cells = runSeedExperiment({ profiles, predictor, models: ['a', 'b'], networks, devices: [slow, fast], draws: 8 });

  it('covers the grid: models × networks × devices × objectives × (1 warm + draws)', () => {
    expect(cells).toHaveLength(2 * 2 * 2 * 2 * 9);
  });

  it('the planner is never worse than any baseline on its objective', () => {
    for (const c of cells) for (const b of BASELINES) expect(gain(c, b)).toBeGreaterThanOrEqual(1 - 1e-9);
  });

  it('with every function warm the Neurosurgeon-style choice is the optimum', () => {
    for (const c of cells.filter((x) => x.fleet === 'warm')) expect(c.neurosurgeon.cut).toBe(c.optimal.cut);
  });

  it('the status quo is the better of device-only and cloud-only', () => {
    for (const c of cells) {
      const v = (o: { latencyMs: number; energyJ: number }) => (c.objective === 'latency' ? o.latencyMs : o.energyJ);
      expect(v(c.statusQuo)).toBe(Math.min(v(c.deviceOnly), v(c.cloudOnly)));
    }
  });

  it('the slow device offloads somewhere on WiFi, and the contended fleet costs the fleet-blind policy something', () => {
    expect(cells.some((c) => c.device === 'slow' && c.network === 'wifi' && c.optimal.cut < c.L)).toBe(true);
    const s = summarize(cells);
    const ns = s.find((x) => x.fleet === 'contended' && x.objective === 'latency' && x.baseline === 'neurosurgeon')!;
    expect(ns.max).toBeGreaterThan(1);
    expect(s.find((x) => x.fleet === 'warm' && x.baseline === 'neurosurgeon')!.max).toBeCloseTo(1, 12);
  });
});

describe('outcomeOf a throttled cut', () => {
  it('pays the round trip and the upload, then runs the tail on the device', () => {
    const profile = profiles[0]!;
    const wifi = NETWORK_PRESETS.wifi;
    const s = parseScenario(
      buildScenario({ profile, predictor, device: slow, network: wifi, radio: wifi.radio, fleet: { '0': { idleWarm: 0, inFlight: 1, limit: 1 } } }),
    );
    const record = plan(s);
    const o = outcomeOf(s, record, 0);
    const deviceAll = s.model.layers.reduce((a, l) => a + l.deviceMs, 0);
    const upMs = (8 * profile.inputBytes) / (wifi.uplinkMbps * 1e6) * 1000;
    expect(o.throttled).toBe(true);
    expect(o.latencyMs).toBeCloseTo(wifi.rttMs + upMs + deviceAll, 9);
    const pUp = (wifi.radio.alphaUp * wifi.uplinkMbps + wifi.radio.beta) / 1000;
    expect(o.energyJ).toBeCloseTo((slow.computeW * deviceAll + pUp * upMs + slow.idleW * wifi.rttMs) / 1000, 12);
    expect(o.costUSD).toBe(0);
  });
});

describe('fleet draws', () => {
  it('are reproducible from the seed and roughly follow the probabilities', () => {
    const cands = Array.from({ length: 4000 }, (_, cut) => ({ cut }));
    const a = drawFleet(cands, seededRandom(1));
    expect(drawFleet(cands, seededRandom(1))).toEqual(a);
    const states = Object.values(a);
    const warm = states.filter((f) => f.idleWarm >= 1).length / states.length;
    const throttled = states.filter((f) => f.inFlight >= f.limit).length / states.length;
    expect(warm).toBeGreaterThan(0.45);
    expect(warm).toBeLessThan(0.55);
    expect(throttled).toBeGreaterThan(0.16);
    expect(throttled).toBeLessThan(0.24);
  });
});
