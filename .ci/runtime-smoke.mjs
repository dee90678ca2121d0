// Proves `dependencies` is enough for what ships: run in a copy installed with
// `npm ci --omit=dev`. `npx offload --help`, then `offload local` (as `npm start`
// runs it) with one small model on a free port, one request through the
// emulated API, Ctrl-C, exit 130.
// Every wait is bounded; the stack is killed whatever happens.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const READY_MS = 600_000;
const STOP_MS = 60_000;

function fail(message) {
  process.stderr.write(`runtime smoke: ${message}\n`);
  process.exit(1);
}

const help = spawnSync('npx', ['--no-install', 'offload', '--help'], { encoding: 'utf8', timeout: 120_000 });
if (help.status !== 0 || !/Usage: offload/.test(help.stdout)) fail(`npx offload --help exited ${help.status}: ${help.stderr}`);
process.stdout.write('runtime smoke: npx offload --help ok\n');

const stateDir = mkdtempSync(join(tmpdir(), 'offload-smoke-'));
const child = spawn(process.execPath, ['bin/offload.js', 'local', '--models', 'tinychain', '--port', '0', '--state-dir', stateDir, '--quiet', '--json'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true, // its own process group, so a failed run can kill it with its environments
});
let stdout = '';
let stderr = '';
child.stdout.on('data', (d) => (stdout += d));
child.stderr.on('data', (d) => (stderr += d));
let stopping = false;
const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
const killAll = () => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
};
process.on('exit', () => {
  killAll();
  rmSync(stateDir, { recursive: true, force: true });
});

const ready = await Promise.race([
  new Promise((resolve) => {
    const check = () => (stdout.includes('\n') ? resolve(JSON.parse(stdout.split('\n')[0])) : child.stdout.once('data', check));
    check();
  }),
  exited.then(({ code }) => {
    if (!stopping) fail(`offload local exited ${code} before it was ready:\n${stderr}`);
  }),
  // unref'd: a pending timer would keep this script alive for READY_MS after it has finished
  new Promise((_, reject) => setTimeout(() => reject(new Error('not ready in time')), READY_MS).unref()),
]).catch((e) => fail(`${e.message}:\n${stderr}`));

const res = await fetch(`${ready.url}/models`, { signal: AbortSignal.timeout(120_000) }).catch((e) => fail(`GET /models: ${e.message}`));
const body = await res.text();
if (res.status !== 200 || !body.includes('tinychain')) fail(`GET /models answered ${res.status}: ${body.slice(0, 300)}`);
process.stdout.write(`runtime smoke: offload local ready at ${ready.url}, GET /models ok\n`);

stopping = true;
child.kill('SIGINT');
const stopped = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(undefined), STOP_MS).unref())]);
if (!stopped) fail(`offload local did not stop within ${STOP_MS / 1000} s of SIGINT`);
if (stopped.code !== 130) fail(`offload local exited ${stopped.code} (${stopped.signal}) after SIGINT, expected 130:\n${stderr}`);
process.stdout.write('runtime smoke: offload local stopped on SIGINT (exit 130)\n');
