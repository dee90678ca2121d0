import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { offload } from './spawn-offload';

describe('offload --version and the help texts', () => {
  it('prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await offload([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('names docs/cost-model.md wherever a help text cites the cost model', async () => {
    const help = new Map<string, string>();
    for (const command of ['plan', 'infer', 'profile', 'cuts']) {
      const r = await offload([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).not.toMatch(/(^|[^.\w])spec §/);
      help.set(command, r.stdout);
    }
    expect(help.get('plan')).toMatch(/docs\/cost-model\.md §7/);
  });
});
