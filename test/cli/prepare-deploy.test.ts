import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, resolveDeployment } from '../../cdk/config';
import { offload } from './spawn-offload';

const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('offload prepare-deploy', () => {
  let dir: string;
  let configFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'offload-prepare-'));
    configFile = join(dir, 'deploy.json');
    writeFileSync(
      configFile,
      JSON.stringify({ exportDir: join(dir, 'export'), models: { tinychain: { cuts: 'default' }, tinydag: { cuts: [0, 10] } } }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exports exactly what the configuration deploys, so the deployment resolves (what cdk synth checks first)', async () => {
    // Prepare: before, the deployment cannot resolve: no manifests
    const config = loadConfig((k) => (k === 'config' ? configFile : undefined), repo);
    expect(() => resolveDeployment(config, repo)).toThrow(/No export manifest for model "tinychain".*`npx cdk synth` exports it.*offload prepare-deploy/);
    // Act
    const r = await offload(['prepare-deploy', '--config', configFile, '--json']);
    // Assess
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { exportDir: string; models: { model: string; cuts: number[]; export: string; cloudProfile: boolean }[] };
    expect(out.exportDir).toBe(join(dir, 'export'));
    const deployment = resolveDeployment(config, repo);
    for (const m of deployment.models) {
      const row = out.models.find((x) => x.model === m.model);
      expect(row?.cuts).toEqual(m.tails.map((t) => t.cut));
      expect(row?.cloudProfile).toBe(false); // no committed profile for the tiny nets
    }
    expect(out.models.find((m) => m.model === 'tinydag')?.cuts).toEqual([0, 10]);
    // only the configured tails were written
    expect(existsSync(join(dir, 'export', 'tinydag', 'tails', '10'))).toBe(true);
    expect(existsSync(join(dir, 'export', 'tinydag', 'tails', '9'))).toBe(false);

    const again = await offload(['prepare-deploy', '--config', configFile, '--json']);
    expect((JSON.parse(again.stdout) as { models: { export: string }[] }).models.every((m) => m.export !== 'written')).toBe(true);
  });

  it('names a configuration file that does not exist', async () => {
    const r = await offload(['prepare-deploy', '--config', join(dir, 'missing.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^offload: .*missing\.json/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
