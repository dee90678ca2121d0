/**
 * `npx cdk synth` as a user (and the local stack) runs it: the real CLI,
 * offline (no telemetry, no version check, no notices), local esbuild only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportZoo, PROJECT_ROOT, tempDir, removeTempDirs } from './helpers';

// This file runs the CDK CLI (synth and esbuild bundling): minutes on a loaded 2-core machine; every other file keeps the 60 s default.
vi.setConfig({ testTimeout: 240_000 });

function cdkSynth(args: string[]) {
  return spawnSync('npx', ['cdk', 'synth', '--no-notices', '-q', ...args], {
    cwd: PROJECT_ROOT,
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

  it('fails with the export command, not a stack trace, when a manifest is missing', () => {
    const r = cdkSynth(['-o', tempDir('cli-out-missing'), '-c', `exportDir=${exportDir}`, '-c', 'models=tinychain,tinydag']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/offload cdk: No export manifest for model "tinydag" at .*\. Run `npx offload export tinydag --out /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

afterAll(removeTempDirs);
