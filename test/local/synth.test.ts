import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OffloadConfigSchema } from '../../cdk/config';
import { assemblyFreshness, configKey, STAMP_FILE } from '../../local/synth';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A project with a few inputs written `ageMs` ago, and an assembly stamped now. */
function project(ageMs = 60_000) {
  const root = mkdtempSync(join(tmpdir(), 'offload-synth-'));
  dirs.push(root);
  const past = new Date(Date.now() - ageMs);
  for (const file of ['cdk/app.ts', 'functions/tail/index.ts', 'core/cost.ts', 'models/zoo/index.ts', 'package-lock.json', 'cdk.json']) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '//');
    utimesSync(join(root, file), past, past);
  }
  const config = OffloadConfigSchema.parse({ models: { tinychain: { cuts: [0, 2] } } });
  const outdir = join(root, '.offload/local/cdk.out');
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, 'manifest.json'), '{}');
  const stamp = (key: string, startedAt = Date.now() - 1000) =>
    writeFileSync(join(outdir, STAMP_FILE), JSON.stringify({ key, startedAt, stackName: 'offload' }));
  return { root, config, outdir, stamp };
}

describe('assemblyFreshness: when a cloud assembly can be reused', () => {
  it('reuses an assembly stamped with the same configuration after the last input change', () => {
    const p = project();
    p.stamp(configKey(p.config, 'manifests'));
    expect(assemblyFreshness({ projectRoot: p.root, config: p.config, outdir: p.outdir, extraKey: 'manifests' })).toEqual({
      fresh: true,
      reason: 'the assembly is newer than every input',
    });
  });

  it('synthesises again when there is no assembly or no stamp', () => {
    const p = project();
    expect(assemblyFreshness({ projectRoot: p.root, config: p.config, outdir: p.outdir }).fresh).toBe(false);
    rmSync(join(p.outdir, 'manifest.json'));
    p.stamp(configKey(p.config));
    expect(assemblyFreshness({ projectRoot: p.root, config: p.config, outdir: p.outdir })).toMatchObject({ fresh: false, reason: 'no cloud assembly yet' });
  });

  it('synthesises again when the configuration or an export manifest changed', () => {
    const p = project();
    p.stamp(configKey(p.config, 'manifests'));
    const other = OffloadConfigSchema.parse({ models: { tinychain: { cuts: [0, 4] } } });
    expect(assemblyFreshness({ projectRoot: p.root, config: other, outdir: p.outdir, extraKey: 'manifests' }).fresh).toBe(false);
    expect(assemblyFreshness({ projectRoot: p.root, config: p.config, outdir: p.outdir, extraKey: 'other manifests' }).fresh).toBe(false);
  });

  it('synthesises again when an input changed after the synthesis started, and names it', () => {
    const p = project();
    p.stamp(configKey(p.config));
    writeFileSync(join(p.root, 'functions/tail/index.ts'), '// edited');
    const r = assemblyFreshness({ projectRoot: p.root, config: p.config, outdir: p.outdir });
    expect(r.fresh).toBe(false);
    expect(r.reason).toContain(join('functions', 'tail', 'index.ts'));
  });
});
