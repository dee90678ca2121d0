/**
 * `npm start` (`offload local`) with its port busy: one clear line and a
 * non-zero exit before anything is exported, synthesised or started.
 * (How fast: `npx tsx bench/start-port.ts`; here only that nothing else ran.)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPortFree } from '../../local/port';
import { offload } from './spawn-offload';

let busy: Server;
let port: number;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offload-port-'));
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  port = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => busy.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('offload local with a busy port', () => {
  it('exits with one line naming the port, having prepared nothing', async () => {
    const stateDir = join(dir, 'state');
    const r = await offload(['local', '--port', String(port), '--state-dir', stateDir, '--config', 'local/offload.local.json']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`offload: port ${port} on 127.0.0.1 is in use: pick another with --port N (0 picks a free one)`);
    expect(r.stdout).toBe('');
    expect(existsSync(stateDir)).toBe(false); // no lock, no assembly, no S3 data: nothing started
  });

  it('lets a free port and port 0 through', async () => {
    await expect(assertPortFree(0, '127.0.0.1')).resolves.toBeUndefined();
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const free = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    await expect(assertPortFree(free, '127.0.0.1')).resolves.toBeUndefined();
    await expect(assertPortFree(port, '127.0.0.1')).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
  });
});
