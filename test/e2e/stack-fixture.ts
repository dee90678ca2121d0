/**
 * What the end-to-end tests share: a local stack on the test configuration
 * (tinychain and tinydag, a few cuts each, reserved concurrency 2), on
 * ephemeral ports, in a state folder of its own.
 *
 * The exports and the cloud assembly are prepared once per run in
 * `.offload/e2e/shared` (under the state folder's lock, so parallel test
 * files wait for the first), then each stack gets a copy of the assembly in
 * a temporary folder: a resynthesis of the shared one (someone changed the
 * code) can never pull the templates from under a running test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareLocalStack, startLocalStack, withStateLock, type LocalStack, type LocalStackOptions } from '../../local/stack';
import { killWhenTestEnds } from '../../testkit/processes';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const E2E_CONFIG = 'test/e2e/fixtures/e2e.config.json';
const SHARED_STATE = join(REPO, '.offload/e2e/shared');

/** A temporary state folder holding a fresh copy of the prepared cloud assembly. */
export async function preparedStateDir(): Promise<string> {
  await prepareLocalStack({ configFile: E2E_CONFIG, stateDir: SHARED_STATE });
  const dir = mkdtempSync(join(tmpdir(), 'offload-e2e-'));
  await withStateLock(SHARED_STATE, async () => {
    cpSync(join(SHARED_STATE, 'cdk.out'), join(dir, 'cdk.out'), { recursive: true });
  });
  return dir;
}

export interface E2EStack {
  stack: LocalStack;
  stateDir: string;
  /** Closes the stack and removes its state folder; returns the environment pids it had just before. */
  close(): Promise<number[]>;
}

/** Starts a stack on the test configuration; handler logs are dropped unless `logs` says otherwise. */
export async function startE2EStack(options: Omit<LocalStackOptions, 'configFile' | 'stateDir'> = {}): Promise<E2EStack> {
  const stateDir = await preparedStateDir();
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ logs: 'ignore', port: 0, ...options, configFile: E2E_CONFIG, stateDir });
  } catch (e) {
    rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }
  return {
    stack,
    stateDir,
    async close() {
      const pids = stack.emulator.pids();
      await stack.close();
      rmSync(stateDir, { recursive: true, force: true });
      return pids;
    },
  };
}

export { alive, commandLine, descendants, until } from '../../testkit/processes';

/** A real `node bin/offload.js …` process. */
export interface OffloadProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the CLI as a user would (repo as working directory). */
export function spawnOffload(args: string[], env: Record<string, string> = {}): OffloadProcess {
  const child = spawn(process.execPath, ['bin/offload.js', ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  killWhenTestEnds(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the CLI to the end. */
export async function runOffload(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnOffload(args, env);
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
