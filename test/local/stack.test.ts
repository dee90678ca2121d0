import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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

  it('takes over a lock whose owner is gone, and releases it after a failure', async () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    mkdirSync(join(dir, '.lock'));
    writeFileSync(join(dir, '.lock', 'pid'), dead);
    await expect(withStateLock(dir, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(withStateLock(dir, async () => 'again')).resolves.toBe('again');
  });
});
