/**
 * `offload cold-fit` as a user with a deployment runs it: `offload load`
 * against the real local stack (MobileNetV2, three cuts, a 1 s keep-alive)
 * writes records with cold and warm requests at each cut; cold-fit turns them
 * into a line, and the `--cold-start` value it prints goes into
 * `offload simulate` unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { runOffload } from './stack-fixture';

/** MobileNetV2 at cuts 0, 125 and 156 (13.5, 10.8 and 4.9 MiB of tail weights); its export is kept in .offload/e2e between runs. */
const CONFIG = 'test/e2e/fixtures/cold-fit.config.json';
const KEEP_ALIVE_MS = 1000;

describe('offload cold-fit on records of the local stack', () => {
  let stack: LocalStack | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'offload-e2e-cold-fit-'));

  beforeAll(async () => {
    stack = await startLocalStack({ configFile: CONFIG, stateDir: join(dir, 'state'), port: 0, logs: 'ignore', keepAliveMs: KEEP_ALIVE_MS });
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fits a line with a positive base and slope from a warm run and a sparse run, and simulate takes it', async () => {
    const url = stack!.url;
    const common = ['load', '--url', url, '--model', 'mobilenetv2', '--policy', 'cut:0,cut:125,cut:156', '--devices', '1', '--network', 'wifi'];
    // One device, each request after the last: the first at each cut is cold, the rest warm.
    const warm = join(dir, 'warm.jsonl');
    const a = await runOffload([...common, '--sequential', '--requests', '4', '--rate', '10', '--out', warm]);
    expect(a.code, a.stderr).toBe(0);
    // Arrivals further apart than the keep-alive plus a request: every one cold.
    const cold = join(dir, 'cold.jsonl');
    const b = await runOffload([...common, '--arrival', 'sparse', '--gap-ms', String(KEEP_ALIVE_MS + 600), '--requests', '4', '--duration', '12', '--out', cold]);
    expect(b.code, b.stderr).toBe(0);

    const json = await runOffload(['cold-fit', warm, cold, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const fit = JSON.parse(json.stdout) as { points: { cut: number; cold: number; warm: number; coldStartMs: number }[]; fit: { coldBaseMs: number; coldMsPerMB: number; n: number } };
    expect(fit.points.map((p) => p.cut)).toEqual([0, 125, 156]);
    for (const p of fit.points) {
      expect(p.cold).toBeGreaterThanOrEqual(3);
      expect(p.warm).toBeGreaterThanOrEqual(1);
      expect(p.coldStartMs).toBeGreaterThan(0);
    }
    expect(fit.fit.n).toBe(3);
    for (const v of [fit.fit.coldBaseMs, fit.fit.coldMsPerMB]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
    }

    const text = await runOffload(['cold-fit', warm, cold]);
    expect(text.code, text.stderr).toBe(0);
    const printed = /--cold-start (\S+)/.exec(text.stdout)?.[1];
    expect(printed, text.stdout).toBeDefined();
    expect(text.stdout).toContain(`COLD_BASE_MS=${+fit.fit.coldBaseMs.toFixed(1)} COLD_MS_PER_MB=${+fit.fit.coldMsPerMB.toFixed(2)}`);
    const sim = await runOffload(['simulate', '--model', 'mobilenetv2', '--traffic', 'steady:rate=1', '--devices', '5', '--requests', '20', '--policy', 'cut:0', '--cold-start', printed!]);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toContain(`cold starts: ${+fit.fit.coldBaseMs.toFixed(1)} ms + ${+fit.fit.coldMsPerMB.toFixed(2)} ms/MiB of tail weights (given)`);
  });
});
