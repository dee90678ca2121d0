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
  it('writes root and nested templates whose functions name their bundled asset directory', () => {
    const out = tempDir('cli-out');
    const r = cdkSynth(['-o', out, '-c', `exportDir=${exportDir}`, '-c', 'models=tinychain']);
    expect(r.status, r.stderr).toBe(0);
    const nestedFile = readdirSync(out).find((f) => f.endsWith('.nested.template.json'))!;
    const nested = JSON.parse(readFileSync(join(out, nestedFile), 'utf8')) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
    const fns = Object.values(nested.Resources).filter((x) => x.Type === 'AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(1);
    for (const f of fns) expect(existsSync(join(out, f.Metadata!['aws:asset:path']!, 'index.mjs'))).toBe(true);
    const root = JSON.parse(readFileSync(join(out, 'offload.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
    const nestedRes = Object.values(root.Resources).find((x) => x.Type === 'AWS::CloudFormation::Stack')!;
    expect(nestedRes.Metadata!['aws:asset:path']).toBe(nestedFile);
  });

  it('on a clean copy of the project (no .offload/), exports during synth, then reuses the export', () => {
    // Prepare: the project's files as git would check them out (tracked and new, nothing ignored), node_modules linked.
    const clone = tempDir('clone');
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(join(PROJECT_ROOT, f)));
    for (const f of files) {
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      cpSync(join(PROJECT_ROOT, f), join(clone, f));
    }
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    expect(existsSync(join(clone, '.offload'))).toBe(false);

    // Act: synth twice with the default exportDir (.offload/export), the tiny nets for a small CPU bill
    const first = cdkSynth(['-o', join(clone, 'cdk.out'), '-c', 'models=tinychain,tinydag'], clone);
    const second = cdkSynth(['-o', join(clone, 'cdk.out'), '-c', 'models=tinychain,tinydag'], clone);

    // Assess: the first exported both models, the second reused them; both synthesised
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/offload: exports tinychain \(written\), tinydag \(written\): [\d.]+ MiB in [\d.]+ s/);
    expect(existsSync(join(clone, '.offload', 'export', 'tinydag', 'manifest.json'))).toBe(true);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/offload: exports tinychain \(reused\), tinydag \(reused\)/);
    expect(existsSync(join(clone, 'cdk.out', 'offload.template.json'))).toBe(true);
  }, 600_000); // two real `cdk synth` runs (bundling, cdk-nag): about a minute each on a loaded 2-core machine

  it('fails with one clear line, not a stack trace, when the configuration names a model it cannot export', () => {
    const r = cdkSynth(['-o', tempDir('cli-out-missing'), '-c', `exportDir=${exportDir}`, '-c', 'models=tinychain,mymodel']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/offload cdk: model "mymodel" is not a zoo model and config\.models\.mymodel names no folder: add "source"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

afterAll(removeTempDirs);
