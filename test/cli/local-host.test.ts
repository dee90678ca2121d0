import { describe, expect, it } from 'vitest';
import { isLoopbackHost, remoteWarning } from '../../cli/commands/local';
import { offload } from './spawn-offload';

describe('offload local beyond loopback', () => {
  it('refuses a --host other machines can reach without --allow-remote, before any work', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
      const started = Date.now();
      const r = await offload(['local', '--host', host, '--port', '0', '--state-dir', '/nonexistent/never-created']);
      expect(r.code, host).toBe(2);
      expect(r.stderr).toContain(`--host ${host} is reachable from other machines and the local stack has no authentication; add --allow-remote`);
      expect(r.stdout).toBe('');
      expect(Date.now() - started).toBeLessThan(20_000); // no export, synth or stand-in was started
    }
  });

  it('tells loopback from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '::ffff:10.0.0.1', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('warns, with --allow-remote, that the Invoke API and the state endpoint are open', () => {
    expect(remoteWarning('0.0.0.0')).toMatch(/^WARNING: listening on 0\.0\.0\.0, beyond loopback: the local stack has no authentication.*Invoke API.*\/_local\/functions/);
  });
});
