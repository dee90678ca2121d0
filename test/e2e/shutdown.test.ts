/**
 * `offload local` as a user runs it (`npm start` runs the same command): a
 * real process that serves until Ctrl-C, then leaves no process behind.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DeviceModel } from '../../client/device';
import { encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { startOffloadLocal } from '../../testkit/node-process';
import { killWhenTestEnds } from '../../testkit/processes';
import { alive, commandLine, descendants, E2E_CONFIG, preparedStateDir, until } from './stack-fixture';

// This file starts and stops a whole local stack: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

interface Ready {
  url: string;
  bucket: string;
  table: string;
  tails: { model: string; cut: number; function: string; route: string }[];
  report: { synth: { reused: boolean }; timings: { totalMs: number } };
  example: string;
}

describe('offload local (a real process) and Ctrl-C', () => {
  let run: ChildProcess | undefined;
  let stateDir = '';

  afterAll(() => {
    if (run && run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('serves the API, then SIGINT stops the server, every environment and the stand-ins, and exits 130', async () => {
    // Prepare: a state folder with a fresh assembly, so the process reuses it
    stateDir = await preparedStateDir();
    await initBackend();
    const device = await DeviceModel.load('tinydag');
    const x = device.randomInput(1);
    const bodies = await Promise.all([0, 20].map(async (cut) => ({ cut, body: encodeTensors(await device.runHead(cut, x)) })));
    x.dispose();
    device.dispose();

    // Act: start it, use two tails, then Ctrl-C
    const p = await startOffloadLocal(['--config', E2E_CONFIG, '--state-dir', stateDir, '--port', '0', '--keep-alive-ms', '60000', '--quiet', '--json'], {
      readyTimeoutMs: 120_000,
      onSpawn: (child) => {
        killWhenTestEnds(child);
        run = child;
      },
    });
    const ready = p.ready as unknown as Ready;
    expect(ready.report.synth.reused).toBe(true);
    expect(ready.example).toBe(`npx offload infer --url ${ready.url} --model tinychain`);
    expect(ready.tails.map((t) => `${t.model}/${t.cut}`)).toEqual([
      'tinychain/0', 'tinychain/2', 'tinychain/4', 'tinychain/6',
      'tinydag/0', 'tinydag/10', 'tinydag/20', 'tinydag/27',
    ]);
    for (const { cut, body } of bodies) {
      const res = await fetch(`${ready.url}/infer/tinydag/${cut}`, { method: 'POST', headers: { 'content-type': WIRE_CONTENT_TYPE }, body });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-offload-cold')).toBe('true');
      await res.arrayBuffer();
    }
    const state = (await (await fetch(`${ready.url}/_local/functions`)).json()) as { functions: { environments: { pid: number }[] }[] };
    const envPids = state.functions.flatMap((f) => f.environments.map((env) => env.pid));
    const tree = descendants(p.child.pid as number);
    const { code } = await p.close(); // SIGINT

    // Assess: exit 130, no environment and no other child left, the port closed
    expect(code, p.stderr()).toBe(130);
    expect(envPids).toHaveLength(2);
    for (const pid of envPids) expect(tree).toContain(pid);
    // children that exit on their own when their parent goes (tsx's esbuild service) get a moment to do so
    await until(() => (tree.every((pid) => !alive(pid)) ? true : undefined), 'the process tree to end', 3000).catch(() => undefined);
    for (const pid of tree) expect(alive(pid), `pid ${pid} (${commandLine(pid)}) outlived offload local`).toBe(false);
    await expect(fetch(`${ready.url}/_local/health`)).rejects.toThrow();
  });
});
