/**
 * `offload local` as a user runs it (`npm start` runs the same command): a
 * real process that serves until Ctrl-C, then leaves no process behind.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DeviceModel } from '../../client/device';
import { encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { alive, commandLine, descendants, E2E_CONFIG, preparedStateDir, spawnOffload, until, type OffloadProcess } from './stack-fixture';

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
  let run: OffloadProcess | undefined;
  let stateDir = '';

  afterAll(() => {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
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
    const p = spawnOffload(['local', '--config', E2E_CONFIG, '--state-dir', stateDir, '--port', '0', '--keep-alive-ms', '60000', '--quiet', '--json']);
    run = p;
    const ready = await until(() => {
      const line = p.stdout().split('\n')[0];
      if (p.child.exitCode !== null) throw new Error(`offload local exited ${p.child.exitCode}: ${p.stderr()}`);
      return p.stdout().includes('\n') && line ? (JSON.parse(line) as Ready) : undefined;
    }, 'offload local to print its ready line', 120_000);
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
    p.child.kill('SIGINT');
    const { code } = await p.exited;

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
