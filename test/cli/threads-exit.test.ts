import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { offload, type OffloadRun } from './spawn-offload';

/**
 * A CLI command that ran the threaded wasm engine must end by itself: its pool
 * workers once kept a finished process alive (a worker's message port stayed
 * referenced). Each run gets 60 s, far more than the work takes (seconds);
 * a process still there then has hung at exit.
 */
async function exitsByItself(args: string[], env: Record<string, string>): Promise<OffloadRun> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), 60_000);
  });
  const r = await Promise.race([offload(args, env), hung]);
  clearTimeout(timer);
  expect(r, `offload ${args.join(' ')} did not exit within 60 s`).not.toBe('hung');
  return r as OffloadRun;
}

const THREADED = { OFFLOAD_BACKEND: 'wasm', OFFLOAD_WASM_THREADS: '2' };

describe('CLI commands on the threaded wasm engine', () => {
  it('check-split exits by itself (code 0) after running 2 threads', async () => {
    const r = await exitsByItself(['check-split', 'tinychain', '--cuts', '1', '--json'], THREADED);
    expect(r.stderr).not.toContain('threads unavailable');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { cut: number }[]).map((x) => x.cut)).toEqual([1]);
  });

  it('export exits by itself (code 0) after running 2 threads', async () => {
    const out = mkdtempSync(join(tmpdir(), 'offload-threads-exit-'));
    const r = await exitsByItself(['export', 'tinychain', '--out', out, '--cuts', '0,1', '--json'], THREADED);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'tinychain', 'manifest.json'), 'utf8'))).toMatchObject({ model: 'tinychain' });
  });

  it('profile --threads 2 exits by itself without a forced exit, with the profile written', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'offload-threads-exit-')), 'p.json');
    const r = await exitsByItself(['profile', 'tinychain', '--repeats', '1', '--threads', '2', '--out', out], {});
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ threads: 2 });
  });

  it('a failing command still exits by itself with its error (code 1)', async () => {
    const r = await exitsByItself(['check-split', 'tinychain', '--cuts', '999'], THREADED);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/999/);
  });
});
