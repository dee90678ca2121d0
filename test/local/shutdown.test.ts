import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { onShutdownSignals } from '../../local/shutdown';
import { alive, until } from '../../testkit/processes';

const HOST = resolve(import.meta.dirname, 'fixtures/host.ts');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});



/** Starts the host fixture and resolves with its pids once its environment is warm. */
function startHost(): Promise<{ child: ChildProcess; host: number; env: number; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOST], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return new Promise((resolvePids, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        const { host, env } = JSON.parse(line) as { host: number; env: number };
        resolvePids({ child, host, env, exited });
      }
    });
    void exited.then(() => reject(new Error(`host exited before it was ready: ${err}`)));
  });
}

describe('shutdown of a long-running host', () => {
  it('SIGINT closes the emulator, kills the environments and exits 130', async () => {
    const { child, env, exited } = await startHost();
    expect(alive(env)).toBe(true);

    child.kill('SIGINT');
    const { code } = await exited;

    expect(code).toBe(130);
    expect(alive(env)).toBe(false);
  });

  it('SIGTERM exits 143 with no environment left', async () => {
    const { child, env, exited } = await startHost();

    child.kill('SIGTERM');

    expect((await exited).code).toBe(143);
    expect(alive(env)).toBe(false);
  });

  it('an environment exits by itself when its host dies abruptly (SIGKILL)', async () => {
    const { child, env, exited } = await startHost();

    child.kill('SIGKILL');
    await exited;

    await until(() => !alive(env), 'the orphaned environment to exit');
    expect(alive(env)).toBe(false);
  });

  it('a second signal exits at once, and the handlers can be removed', async () => {
    const exits: number[] = [];
    let closes = 0;
    const remove = onShutdownSignals(
      () => {
        closes += 1;
        return new Promise(() => undefined); // a close that never ends
      },
      { signals: ['SIGUSR2'], exit: (c) => exits.push(c) },
    );
    try {
      process.emit('SIGUSR2', 'SIGUSR2');
      process.emit('SIGUSR2', 'SIGUSR2');

      expect(closes).toBe(1);
      expect(exits).toEqual([128 + 12]);
    } finally {
      remove();
    }
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
