import { runNode, type NodeRun } from '../../testkit/node-process';
import { killWhenTestEnds } from '../../testkit/processes';

/** What one real `node bin/offload.js …` process did. */
export type OffloadRun = NodeRun;

/** Spawns the CLI as a user would (real process, repo as working directory); it dies with the test that started it. */
export function offload(args: string[], env: Record<string, string> = {}): Promise<OffloadRun> {
  return runNode(['bin/offload.js', ...args], { env: { ...process.env, ...env }, onSpawn: killWhenTestEnds });
}
