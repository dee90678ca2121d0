import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withStateLock } from '../../local/stack';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'offload-lock-'));
  dirs.push(d);
  return d;
}

describe('withStateLock: one preparer per state folder', () => {
  it('runs overlapping callers one after the other', async () => {
    const dir = tempDir();
    const log: string[] = [];
    const job = (name: string) =>
      withStateLock(dir, async () => {
        log.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 150));
        log.push(`${name} out`);
      });
    await Promise.all([job('a'), job('b')]);
    expect(log).toEqual(['a in', 'a out', 'b in', 'b out']);
  });

  it('takes over a lock its owner stopped refreshing (it died), and releases it after a failure', async () => {
    // Prepare: a lock as a killed process leaves it, last refreshed 10 minutes ago
    const dir = tempDir();
    mkdirSync(join(dir, '.lock'));
    const past = new Date(Date.now() - 10 * 60_000);
    utimesSync(join(dir, '.lock'), past, past);
    // Act, Assess
    await expect(withStateLock(dir, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    await expect(withStateLock(dir, async () => 'again')).resolves.toBe('again');
  });

  it('waits for a live owner and says so once', async () => {
    // Prepare: another process holds the lock (a child, as another offload would)
    const dir = tempDir();
    const holder = spawn(
      process.execPath,
      ['-e', `require('proper-lockfile').lock(${JSON.stringify(dir)}, { lockfilePath: ${JSON.stringify(join(dir, '.lock'))}, realpath: false }).then((release) => { process.stdout.write('held'); setTimeout(() => release().then(() => process.exit(0)), 600); })`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    let waits = 0;
    // Act
    const t = Date.now();
    const value = await withStateLock(dir, async () => 'mine', () => waits++);
    // Assess
    expect(value).toBe('mine');
    expect(waits).toBe(1);
    expect(Date.now() - t).toBeGreaterThan(300);
    expect(holder.exitCode ?? (await new Promise((r) => holder.once('exit', r)))).toBe(0);
  });
});
