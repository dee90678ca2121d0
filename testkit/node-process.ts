/**
 * Real `node …` processes in the repository, as a user starts them: the CLI
 * (`bin/offload.js …`), a benchmark script (`--import tsx bench/….ts`), or a
 * long-running `offload local`. Shared by the CLI tests and the benchmarks,
 * so it imports nothing of vitest; a test passes `onSpawn: killWhenTestEnds`
 * (testkit/processes.ts) so a hung child dies with its test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './repo';

/** What one finished process did. */
export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunNodeOptions {
  /** The child's whole environment; default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Called with the child once it is spawned (e.g. to kill it when a test ends). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs `node <args>` with the repository as working directory and collects its output. */
export function runNode(args: readonly string[], options: RunNodeOptions = {}): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], { cwd: REPO_ROOT, env: options.env ?? process.env });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A running `offload local`. */
export interface OffloadLocalProcess {
  /** The API's base URL from its ready line. */
  url: string;
  /** The whole ready line (cli/commands/local.ts `--json`). */
  ready: Record<string, unknown>;
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Ctrl-C, and waits for it to exit (at once when it already has); resolves with how it ended. */
  close(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface OffloadLocalOptions {
  /** Copy its stderr to ours as it comes (its progress and warnings); it is kept for the error message either way. */
  echoStderr?: boolean;
  /** Give up (and kill it) after this long without a ready line; default 10 minutes (export and synth of a big model on a loaded machine). */
  readyTimeoutMs?: number;
  /** Called with the child once it is spawned (e.g. to kill it when a test ends). */
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * Starts `offload local <args>` as its own process (so its servers do not share
 * the caller's event loop) and resolves once it prints its `--json` ready line.
 * `args` must hold `--json`; pass `--port 0` for a free port. Rejects, with
 * the end of its stderr, when it exits first or stays silent past the limit.
 */
export async function startOffloadLocal(args: readonly string[], options: OffloadLocalOptions = {}): Promise<OffloadLocalProcess> {
  const child = spawn(process.execPath, ['bin/offload.js', 'local', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  options.onSpawn?.(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (options.echoStderr) process.stderr.write(d);
  });
  const limitMs = options.readyTimeoutMs ?? 600_000;
  let timer: NodeJS.Timeout | undefined;
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = '';
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`offload local printed no ready line within ${Math.round(limitMs / 1000)} s:\n${err.slice(-2000)}`));
    }, limitMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.trim().startsWith('{'));
      if (line && out.includes('\n')) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    void exited.then(({ code, signal }) => reject(new Error(`offload local exited (${code ?? signal}) before it was ready:\n${err.slice(-2000)}`)));
  }).finally(() => clearTimeout(timer));
  if (typeof ready.url !== 'string') {
    child.kill('SIGKILL');
    throw new Error(`offload local's ready line has no url: ${JSON.stringify(ready)}`);
  }
  return {
    url: ready.url,
    ready,
    child,
    stderr: () => err,
    close: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}
