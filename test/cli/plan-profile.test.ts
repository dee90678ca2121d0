import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { offload } from './spawn-offload';

interface Row { cut: number; headMs: number; tailMs: number; upMs: number; latencyMs: number; energyJ: number; feasible: boolean; reasons: string[] }
interface Record { model: string; cut: number; L: number; objective: string; feasible: boolean; candidates: Row[] }

const committed = JSON.parse(readFileSync(new URL('../../profiles/resnet50.wasm.json', import.meta.url), 'utf8')) as {
  layers: { ms: number }[];
  candidates: { cut: number }[];
};
const sumOfLayers = committed.layers.reduce((s, l) => s + l.ms, 0);
const tmp = mkdtempSync(join(tmpdir(), 'offload-plan-profile-'));

describe('offload plan --model (flag form)', () => {
  it('plans from the committed profile: one row per candidate plus device-only, cloud tail = measured layers at one vCPU', async () => {
    const r = await offload(['plan', '--model', 'resnet50', '--network', 'wifi', '--device', 'flagship-phone', '--json']);
    expect(r.code).toBe(0);
    const rec = JSON.parse(r.stdout) as Record;
    expect(rec.model).toBe('resnet50');
    expect(rec.L).toBe(committed.layers.length);
    expect(rec.candidates.map((c) => c.cut)).toEqual([...committed.candidates.map((c) => c.cut), committed.layers.length]);
    expect(rec.candidates[0]!.tailMs).toBeCloseTo(sumOfLayers, 6);
    const best = Math.min(...rec.candidates.filter((c) => c.feasible).map((c) => c.latencyMs));
    expect(rec.candidates.find((c) => c.cut === rec.cut)!.latencyMs).toBe(best);
  });

  it('--memory-mb at half a vCPU doubles the tail; the low-end phone is slower than the flagship', async () => {
    const half = JSON.parse((await offload(['plan', '--model', 'resnet50', '--network', '4g', '--device', 'low-end-phone', '--memory-mb', '884.5', '--json'])).stdout) as Record;
    expect(half.candidates[0]!.tailMs).toBeCloseTo(2 * sumOfLayers, 6);
    const flagship = JSON.parse((await offload(['plan', '--model', 'resnet50', '--network', '4g', '--device', 'flagship-phone', '--json'])).stdout) as Record;
    const L = flagship.L;
    expect(half.candidates.find((c) => c.cut === L)!.headMs).toBeGreaterThan(flagship.candidates.find((c) => c.cut === L)!.headMs);
  });

  it('--fleet marks a throttled function; --objective and --battery pass through', async () => {
    const fleet = join(tmp, 'fleet.json');
    writeFileSync(fleet, JSON.stringify({ '0': { idleWarm: 0, inFlight: 5, limit: 5 } }));
    const r = await offload(['plan', '--model', 'alexnet', '--network', 'wifi', '--device', 'low-end-phone', '--fleet', fleet, '--objective', 'energy', '--battery', '0.5', '--json']);
    expect(r.code).toBe(0);
    const rec = JSON.parse(r.stdout) as Record & { battery: { level: number } };
    expect(rec.objective).toBe('energy');
    expect(rec.battery.level).toBe(0.5);
    // At 50 % battery the energy budget may rule the cut out as well; throttled comes first.
    expect(rec.candidates.find((c) => c.cut === 0)!.reasons[0]).toBe('throttled');
    expect(rec.candidates.find((c) => c.cut === 1)!.reasons).toEqual(['no-function']);
  });

  it('takes a device profile from a JSON file', async () => {
    const dev = join(tmp, 'device.json');
    writeFileSync(dev, JSON.stringify({ gmacPerSecond: 1, memGBps: 2, computeW: 2, idleW: 0.3 }));
    const r = await offload(['plan', '--model', 'mobilenetv2', '--network', '3g', '--device', dev, '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Record).model).toBe('mobilenetv2');
  });

  it('without --json prints the table with the chosen row marked', async () => {
    const r = await offload(['plan', '--model', 'vgg16', '--network', '3g', '--device', 'flagship-phone']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^vgg16: objective latency/);
    expect(r.stdout).toMatch(/\n\*\s+24\s+fc8/);
  });

  it('an unknown device profile lists the valid names', async () => {
    const r = await offload(['plan', '--model', 'alexnet', '--network', '4g', '--device', 'pixel-9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('offload: unknown device profile "pixel-9" (built-in: low-end-phone, flagship-phone, jetson-nano; or a JSON file)\n');
  });

  it('an unknown network preset lists the presets', async () => {
    const r = await offload(['plan', '--model', 'alexnet', '--network', '5g', '--device', 'flagship-phone']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^offload: --network: unknown preset "5g" \(one of 3g, 4g, wifi, or a JSON file\)/);
  });

  it('a model without a profile says which command makes it', async () => {
    const r = await offload(['plan', '--model', 'tinychain', '--network', '4g', '--device', 'flagship-phone']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no wasm profile of "tinychain".*offload profile tinychain --backend wasm/);
  });

  it('--device is required with --model', async () => {
    const r = await offload(['plan', '--model', 'alexnet', '--network', '4g']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^offload: --device: required with --model/);
  });
});
