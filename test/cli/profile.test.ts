import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelProfile } from '../../core/profiles';
import { offload } from './spawn-offload';

describe('offload profile', () => {
  it('--json prints the profile it writes to --out', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'offload-profile-')), 'tinychain.json');
    const r = await offload(['profile', 'tinychain', '--repeats', '2', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const printed = parseModelProfile(JSON.parse(r.stdout));
    const written = parseModelProfile(JSON.parse(readFileSync(out, 'utf8')));
    expect(written).toEqual(printed);
    expect(printed).toMatchObject({ model: 'tinychain', backend: 'wasm', repeats: 2, inputShape: [16, 16, 3] });
  });

  it('without --json prints the slowest layers and the isolated/whole ratio', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'offload-profile-')), 'p.json');
    const r = await offload(['profile', 'tinychain', '--repeats', '1', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ratio sum\/whole \d+\.\d{3}/);
    expect(r.stderr).toContain(`wrote ${out}`);
  });

  it('--threads 2 measures the threaded wasm engine on the wall clock and records the threads', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'offload-profile-')), 'tinychain-2t.json');
    const r = await offload(['profile', 'tinychain', '--repeats', '1', '--threads', '2', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(parseModelProfile(JSON.parse(r.stdout))).toMatchObject({ threads: 2, clock: 'wall', backend: 'wasm' });
    // the 1-thread profile records the parallel fraction measured against it (Amdahl over the two wall times)
    const one = join(mkdtempSync(join(tmpdir(), 'offload-profile-')), 'tinychain-1t.json');
    const paired = await offload(['profile', 'tinychain', '--repeats', '1', '--parallel-from', out, '--out', one]);
    expect(paired.code).toBe(0);
    const written = parseModelProfile(JSON.parse(readFileSync(one, 'utf8')));
    const threaded = parseModelProfile(JSON.parse(r.stdout));
    expect(written.parallelFractionFrom).toEqual({
      threads: 2,
      oneThreadMs: written.wholeModelWallMs,
      threadedMs: threaded.wholeModelWallMs,
      loadAverages: [written.machine.loadAverage, threaded.machine.loadAverage],
    });
    expect(written.parallelFraction).toBeGreaterThanOrEqual(0);
    expect(written.parallelFraction).toBeLessThanOrEqual(1);
    expect(paired.stderr).toMatch(/parallel fraction [\d.]+ \(1 thread [\d.]+ ms, 2 threads [\d.]+ ms/);
  });

  it('--parallel-from: a missing file, another backend or a profile of another model is refused before profiling', async () => {
    const missing = await offload(['profile', 'tinychain', '--parallel-from', join(tmpdir(), 'no-such-profile.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^offload: --parallel-from .*no-such-profile\.json: not a readable JSON file/);
    const cpu = await offload(['profile', 'tinychain', '--backend', 'cpu', '--parallel-from', 'profiles/mobilenetv2.wasm.json']);
    expect(cpu.code).toBe(2);
    expect(cpu.stderr).toContain('--parallel-from applies to the wasm backend only');
    const other = await offload(['profile', 'tinychain', '--repeats', '1', '--out', join(tmpdir(), 'never-pf.json'), '--parallel-from', 'profiles/mobilenetv2.wasm.json']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^offload: --parallel-from profiles\/mobilenetv2\.wasm\.json: a profile of mobilenetv2, not of tinychain/);
    expect(other.stderr).not.toContain('profiling tinychain');
  });

  it('--threads outside 1-8, or with another backend, is a usage error', async () => {
    const many = await offload(['profile', 'tinychain', '--threads', '9']);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('--threads must be an integer from 1 to 8 (got "9")');
    const cpu = await offload(['profile', 'tinychain', '--backend', 'cpu', '--threads', '2']);
    expect(cpu.code).toBe(2);
    expect(cpu.stderr).toContain('--threads applies to the wasm backend only');
  });

  it('a bad --backend is a usage error', async () => {
    const r = await offload(['profile', 'tinychain', '--backend', 'gpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--backend must be one of wasm, cpu, tensorflow/);
  });

  it('an unknown model lists the zoo', async () => {
    const r = await offload(['profile', 'lenet', '--out', join(tmpdir(), 'never.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^offload: unknown model "lenet".*alexnet/);
  });
});
