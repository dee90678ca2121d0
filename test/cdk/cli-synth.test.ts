/**
 * `npx cdk synth` as a user (and the local stack) runs it: the real CLI,
 * offline (no telemetry, no version check, no notices), local esbuild only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportZoo, PROJECT_ROOT, tempDir, removeTempDirs } from './helpers';

// This file runs the CDK CLI (synth and esbuild bundling): minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

function cdkSynth(args: string[], cwd = PROJECT_ROOT) {
  return spawnSync('npx', ['cdk', 'synth', '--no-notices', '-q', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: '1', CDK_DISABLE_VERSION_CHECK: '1' },
    timeout: 300_000,
  });
}

let exportDir: string;
beforeAll(async () => {
  exportDir = tempDir('cli-export');
  await exportZoo(exportDir, ['tinychain']);
});

describe('npx cdk synth', () => {
  // One clean copy of the project, synthesized twice, serves the first two tests: each
  // `cdk synth` bundles every function and runs cdk-nag (about 20 s of CPU), so the
  // templates are checked on the copy's output rather than on a synth of their own.
  let clone = '';
  let hadStateBefore = true;
  let first: ReturnType<typeof cdkSynth>;
  let second: ReturnType<typeof cdkSynth>;
  beforeAll(() => {
    // Prepare: the project's files as git would check them out (tracked and new, nothing ignored), node_modules linked.
    clone = tempDir('clone');
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(join(PROJECT_ROOT, f)));
    for (const f of files) {
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      cpSync(join(PROJECT_ROOT, f), join(clone, f));
    }
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    hadStateBefore = existsSync(join(clone, '.offload'));
    // Act: synth twice with the default exportDir (.offload/export), the tiny nets for a small CPU bill
    first = cdkSynth(['-o', join(clone, 'cdk.out'), '-c', 'models=tinychain,tinydag'], clone);
    second = cdkSynth(['-o', join(clone, 'cdk.out'), '-c', 'models=tinychain,tinydag'], clone);
  }, 600_000); // two real `cdk synth` runs (bundling, cdk-nag): about a minute each on a loaded 2-core machine

  it('writes root and nested templates whose functions name their bundled asset directory', () => {
    expect(second.status, second.stderr).toBe(0);
    const out = join(clone, 'cdk.out');
    const root = JSON.parse(readFileSync(join(out, 'offload.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
    const nestedFiles = Object.values(root.Resources)
      .filter((x) => x.Type === 'AWS::CloudFormation::Stack')
      .map((x) => x.Metadata!['aws:asset:path']!);
    expect(nestedFiles.length).toBeGreaterThan(0);
    expect(nestedFiles.sort()).toEqual(readdirSync(out).filter((f) => f.endsWith('.nested.template.json')).sort());
    for (const nestedFile of nestedFiles) {
      const nested = JSON.parse(readFileSync(join(out, nestedFile), 'utf8')) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
      const fns = Object.values(nested.Resources).filter((x) => x.Type === 'AWS::Lambda::Function');
      expect(fns.length).toBeGreaterThan(1);
      for (const f of fns) expect(existsSync(join(out, f.Metadata!['aws:asset:path']!, 'index.mjs'))).toBe(true);
    }
  });

  it('on a clean copy of the project (no .offload/), exports during synth, then reuses the export', () => {
    // Assess: the first exported both models, the second reused them; both synthesised
    expect(hadStateBefore).toBe(false);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/offload: exports tinychain \(written\), tinydag \(written\): [\d.]+ MiB in [\d.]+ s/);
    expect(existsSync(join(clone, '.offload', 'export', 'tinydag', 'manifest.json'))).toBe(true);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/offload: exports tinychain \(reused\), tinydag \(reused\)/);
    expect(existsSync(join(clone, 'cdk.out', 'offload.template.json'))).toBe(true);
  });

  it('fails with one clear line, not a stack trace, when the configuration names a model it cannot export', () => {
    const r = cdkSynth(['-o', tempDir('cli-out-missing'), '-c', `exportDir=${exportDir}`, '-c', 'models=tinychain,mymodel']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/offload cdk: model "mymodel" is not a zoo model and config\.models\.mymodel names no folder: add "source"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

afterAll(removeTempDirs);
