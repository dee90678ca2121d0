/**
 * cdk/exports.ts: what `cdk synth` and `npm start` run before they read the
 * manifests. Exports what is missing, reuses what is up to date, re-exports
 * only the model whose inputs changed, and takes a model of the user's from a
 * folder named in the configuration.
 */
import { readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, resolveDeployment, type OffloadConfig } from '../../cdk/config';
import { ensureExports, type ArtifactProgress } from '../../cdk/exports';
import { saveModelToDir } from '../../models/artifacts';
import { initBackend } from '../../models/backend';
import { ZOO } from '../../models/zoo';
import { PROJECT_ROOT, removeTempDirs, tempDir } from './helpers';

let work: string;
let folder: string;
let config: OffloadConfig;

beforeAll(async () => {
  await initBackend();
  work = tempDir('exports');
  folder = join(work, 'my-model');
  const mine = ZOO.tinydag.build({ seed: 4 });
  await saveModelToDir(mine, folder);
  mine.dispose();
  const overrides = { exportDir: join(work, 'export'), models: { tinychain: { cuts: [0, 2, 4] }, mine: { source: folder, cuts: 'default' } } };
  const context: Record<string, string> = { overrides: JSON.stringify(overrides), models: 'tinychain,mine' };
  config = loadConfig((k) => context[k], PROJECT_ROOT);
});

afterAll(removeTempDirs);

const run = (progress?: ArtifactProgress[]) =>
  ensureExports(config, { projectRoot: PROJECT_ROOT, exportDir: join(work, 'export'), ...(progress ? { onProgress: (p) => progress.push(p) } : {}) });

describe('ensureExports', () => {
  it('exports a zoo model and a model folder named in the configuration, so the deployment resolves', async () => {
    const progress: ArtifactProgress[] = [];
    const first = await run(progress);
    expect(first.map((m) => [m.model, m.export])).toEqual([
      ['tinychain', 'written'],
      ['mine', 'written'],
    ]);
    expect(first[1]!.manifest.source).toEqual({ kind: 'folder' });
    expect(progress.some((p) => p.phase === 'export' && p.model === 'mine')).toBe(true);
    const deployment = resolveDeployment(config, PROJECT_ROOT);
    expect(deployment.models.map((m) => m.model)).toEqual(['tinychain', 'mine']);
    expect(deployment.models[0]!.tails.map((t) => t.cut)).toEqual([0, 2, 4]);
  });

  it('reuses everything when nothing changed, and re-exports only the model whose folder changed', async () => {
    const manifests = ['tinychain', 'mine'].map((m) => join(work, 'export', m, 'manifest.json'));
    const before = manifests.map((p) => readFileSync(p, 'utf8'));
    const unchanged = await run();
    expect(unchanged.map((m) => m.export)).toEqual(['reused', 'reused']);

    // Act: the user's model gets other weights (a newer file in its folder)
    const other = ZOO.tinydag.build({ seed: 5 });
    await saveModelToDir(other, folder);
    other.dispose();
    const later = new Date(Date.now() + 2000);
    utimesSync(join(folder, 'model.json'), later, later);
    const tinychainAt = statSync(manifests[0]!).mtimeMs;
    const changed = await run();

    // Assess: only "mine" was written; tinychain's export is untouched
    expect(changed.map((m) => [m.model, m.export])).toEqual([
      ['tinychain', 'reused'],
      ['mine', 'written'],
    ]);
    expect(readFileSync(manifests[0]!, 'utf8')).toBe(before[0]);
    expect(statSync(manifests[0]!).mtimeMs).toBe(tinychainAt);
    expect(readFileSync(manifests[1]!, 'utf8')).not.toBe(before[1]);
  });

  it('names the fix when a model is neither in the zoo nor given a folder, or its folder holds no model', async () => {
    const opts = { projectRoot: PROJECT_ROOT, exportDir: join(work, 'export2') };
    await expect(ensureExports({ ...config, models: { mystery: { cuts: 'default' } } }, opts)).rejects.toThrow(
      /model "mystery" is not a zoo model and config\.models\.mystery names no folder: add "source"/,
    );
    await expect(ensureExports({ ...config, models: { mystery: { cuts: 'default', source: work } } }, opts)).rejects.toThrow(
      /config\.models\.mystery\.source .*model\.json: missing/,
    );
  });
});
