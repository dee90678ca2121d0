import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { plan } from '../../core/planner';
import {
  CLOUD_DEFAULTS,
  DEVICE_CLASSES,
  LAMBDA_COLD_ESTIMATE,
  LAMBDA_COLD_SOURCES,
  LAMBDA_PRICES,
  NETWORK_PRESETS,
  NETWORK_PRESET_NAMES,
  isNetworkPresetName,
  lambdaColdEstimate,
} from '../../core/presets';
import { DEFAULT_LIMITS, parseScenario } from '../../core/scenario';
import { handScenario } from './hand-scenario';

describe('network presets', () => {
  it('carry the spec uplinks and the Huang et al. radio parameters', () => {
    expect(NETWORK_PRESET_NAMES.map((n) => NETWORK_PRESETS[n].uplinkMbps)).toEqual([1.1, 5.85, 18.88]);
    expect(NETWORK_PRESETS['3g'].radio).toEqual({ alphaUp: 868.98, alphaDown: 122.12, beta: 817.88 });
    expect(NETWORK_PRESETS['4g'].radio).toEqual({ alphaUp: 438.39, alphaDown: 51.97, beta: 1288.04 });
    expect(NETWORK_PRESETS.wifi.radio).toEqual({ alphaUp: 283.17, alphaDown: 137.01, beta: 132.86 });
  });

  it('say where every figure comes from, and which are assumed', () => {
    for (const name of NETWORK_PRESET_NAMES) {
      const p = NETWORK_PRESETS[name];
      expect(p.sources.uplinkMbps).toMatch(/OpenSignal/);
      expect(p.sources.radio).toMatch(/unconfirmed/);
      expect(p.sources.radio).toMatch(/overridden by measurement/);
      expect(p.sources.rttMs).toMatch(/assumed/);
    }
    expect(NETWORK_PRESETS['4g'].sources.downlinkMbps).toMatch(/Huang/);
    expect(NETWORK_PRESETS['4g'].downlinkMbps).toBe(13);
    expect(NETWORK_PRESETS['3g'].sources.downlinkMbps).toMatch(/assumed/);
    expect(NETWORK_PRESETS.wifi.sources.downlinkMbps).toMatch(/assumed/);
  });

  it('recognises preset names', () => {
    expect(isNetworkPresetName('wifi')).toBe(true);
    expect(isNetworkPresetName('5g')).toBe(false);
  });
});

describe('cloud defaults', () => {
  it('use the x86_64 Lambda prices', () => {
    expect(CLOUD_DEFAULTS.requestUSD).toBeCloseTo(2e-7, 20);
    expect(CLOUD_DEFAULTS.gbSecondUSD).toBe(0.0000166667);
    expect(LAMBDA_PRICES.arm64.gbSecondUSD).toBe(0.0000133334);
    expect(CLOUD_DEFAULTS.memoryMB).toBe(1769);
  });

  it('match the spec payload limit default', () => {
    expect(DEFAULT_LIMITS.payloadBytes).toBe(6 * 1024 * 1024);
  });
});

describe('presets make valid scenarios', () => {
  it.each(NETWORK_PRESET_NAMES.flatMap((n) => Object.keys(DEVICE_CLASSES).map((d) => [n, d] as const)))(
    '%s with %s',
    (net, dev) => {
      const preset = NETWORK_PRESETS[net];
      const device = DEVICE_CLASSES[dev]!;
      const base = handScenario();
      const scenario = parseScenario({
        ...base,
        network: { uplinkMbps: preset.uplinkMbps, downlinkMbps: preset.downlinkMbps, rttMs: preset.rttMs },
        device: { computeW: device.computeW, idleW: device.idleW, radio: preset.radio },
        cloud: { ...CLOUD_DEFAULTS, functions: base.cloud.functions },
      });
      const record = plan(scenario);
      expect(record.candidates.every((r) => Number.isFinite(r.latencyMs) && Number.isFinite(r.energyJ))).toBe(true);
      expect(device.source.length).toBeGreaterThan(0);
    },
  );
});

describe('the Lambda cold-start estimate', () => {
  // Its sources, read where they are cited: the reference facts and this machine's measured phases.
  const oneLine = (file: string) => readFileSync(new URL(`../../docs/${file}`, import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const facts = oneLine('reference-facts.md');
  const stack = oneLine('local-stack.md');
  const range = (m: RegExpExecArray | null) => {
    expect(m).not.toBeNull();
    return [Number(m![1]), Number(m![2])] as const;
  };

  it('takes its inputs from the cited figures: the midpoints of the ranges, this machine\'s phases', () => {
    const [s3Low, s3High] = range(/S3: one request per ≈(\d+)–(\d+) MB\/s/.exec(facts));
    const [initLow, initHigh] = range(/Node\.js hello-world init duration, zip: ≈(\d+)–(\d+) ms average/.exec(facts));
    const [bootMobileNet, bootResNet] = range(/\| Node bootstrap \| (\d+) \| (\d+) \|/.exec(stack));
    const build = /what grows per MiB on the JavaScript thread fell from [\d.]+ to ([\d.]+) ms\/MiB/.exec(stack);
    expect(build).not.toBeNull();
    expect(LAMBDA_COLD_SOURCES).toEqual({
      s3MBps: (s3Low + s3High) / 2,
      lambdaNodeInitMs: (initLow + initHigh) / 2,
      localNodeBootstrapMs: (bootMobileNet + bootResNet) / 2,
      localBuildMsPerMiB: Number(build![1]),
    });
  });

  it('composes them: Lambda\'s init instead of the local Node bootstrap, and per MiB the slower of the S3 download and the build', () => {
    const s = LAMBDA_COLD_SOURCES;
    expect(LAMBDA_COLD_ESTIMATE.coldBaseMs).toBeCloseTo(CLOUD_DEFAULTS.coldBaseMs + s.lambdaNodeInitMs - s.localNodeBootstrapMs, 9);
    // 1 MiB at s3MBps × 10^6 bytes/s, in ms.
    const downloadMsPerMiB = 1000 / ((s.s3MBps * 1e6) / 2 ** 20);
    expect(downloadMsPerMiB).toBeGreaterThan(s.localBuildMsPerMiB);
    expect(LAMBDA_COLD_ESTIMATE.coldMsPerMB).toBeCloseTo(downloadMsPerMiB, 9);
    // A build slower than the download sets the pace instead.
    expect(lambdaColdEstimate({ ...s, localBuildMsPerMiB: 20 }).coldMsPerMB).toBe(20);
    // Slower than the local calibration on both counts: S3 over the network, not loopback.
    expect(LAMBDA_COLD_ESTIMATE.coldBaseMs).toBeGreaterThan(CLOUD_DEFAULTS.coldBaseMs);
    expect(LAMBDA_COLD_ESTIMATE.coldMsPerMB).toBeGreaterThan(CLOUD_DEFAULTS.coldMsPerMB);
  });
});
