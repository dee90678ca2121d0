import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killWhenTestEnds } from '../../testkit/processes';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** What one real `node bin/offload.js …` process did. */
export interface OffloadRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the CLI as a user would (real process, repo as working directory). */
export function offload(args: string[], env: Record<string, string> = {}): Promise<OffloadRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/offload.js', ...args], { cwd: repo, env: { ...process.env, ...env } });
    killWhenTestEnds(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
