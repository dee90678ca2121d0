/**
 * Shared set-up of the CDK tests: real exports of the tiny zoo nets, fixture
 * exports for scale tests, and a synth that runs exactly what `cdk synth`
 * runs (config from context, cdk-nag aspect, asset metadata on).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig, resolveDeployment, type Deployment } from '../../cdk/config';
import { OffloadStack } from '../../cdk/stack';
import type { Manifest } from '../../core/manifest';
import type { ModelAnalysis } from '../../models/graph';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const made: string[] = [];

/** A fresh temporary folder, removed by {@link removeTempDirs}. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `offload-cdktest-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every folder {@link tempDir} made in this test file (call from afterAll). */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Real `offload export` output of zoo models (tinychain, tinydag: well under a second each). */
export async function exportZoo(dir: string, names: readonly ('tinychain' | 'tinydag')[]): Promise<void> {
  const [{ ZOO }, { exportModel }, { initBackend }] = await Promise.all([
    import('../../models/zoo/index'),
    import('../../models/export'),
    import('../../models/backend'),
  ]);
  await initBackend();
  for (const name of names) {
    const model = ZOO[name].build();
    await exportModel(model, dir, { name });
    model.dispose();
  }
}

/**
 * A fixture export from a real analysis: the manifest as `offload export`
 * writes it, every candidate marked exported, each tail a small stand-in
 * `model.json` (the scale test needs the manifest and the file list, not
 * gigabytes of weights).
 */
export function writeFixtureExport(dir: string, analysis: ModelAnalysis): Manifest {
  const modelDir = join(dir, analysis.name);
  const files: Manifest['files'] = {};
  for (const c of analysis.candidates) {
    const rel = `tails/${c.cut}/model.json`;
    const body = JSON.stringify({ fixture: true, cut: c.cut });
    mkdirSync(join(modelDir, 'tails', String(c.cut)), { recursive: true });
    writeFileSync(join(modelDir, rel), body);
    files[rel] = { bytes: Buffer.byteLength(body), sha256: createHash('sha256').update(body).digest('hex') };
  }
  const manifest: Manifest = {
    manifestVersion: 2,
    model: analysis.name,
    inputShape: analysis.inputShape,
    inputBytes: analysis.inputBytes,
    outputBytes: analysis.outputBytes,
    layers: analysis.layers,
    candidates: analysis.candidates,
    exportedCuts: analysis.candidates.map((c) => c.cut),
    files,
    segments: [],
    maxCrossing: 1,
  };
  writeFileSync(join(modelDir, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}

export interface Synthesized {
  app: App;
  stack: OffloadStack;
  deployment: Deployment;
  assembly: CloudAssembly;
  outdir: string;
  root: Template;
  /** Template of each nested stack of tails, by construct id (`Tails-<model>`). */
  nested: Map<string, Template>;
}

/**
 * Synthesises the app the way `cdk synth` does, with `context` as `-c` values.
 * `entries` may point the handlers at stand-ins (default: the real handlers).
 */
export function synth(context: Record<string, unknown>, entries?: { tail?: string; planner?: string }): Synthesized {
  const outdir = tempDir('out');
  // cdk.json's feature flags, as the CLI passes them, plus what the CLI adds by default (asset metadata).
  const flags = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const app = new App({ outdir, context: { ...flags, 'aws:cdk:enable-asset-metadata': true, ...context } });
  const config = loadConfig((k) => app.node.tryGetContext(k), PROJECT_ROOT);
  const deployment = resolveDeployment(config, PROJECT_ROOT);
  const stack = new OffloadStack(app, config.stackName, { deployment, projectRoot: PROJECT_ROOT, entries });
  Aspects.of(app).add(new AwsSolutionsChecks());
  const assembly = app.synth();
  const nested = new Map(stack.fleet.stacks.map((s) => [s.node.id, Template.fromStack(s)]));
  return { app, stack, deployment, assembly, outdir, root: Template.fromStack(stack), nested };
}

/** cdk-nag errors (unsuppressed AwsSolutions findings) of a top-level stack and its nested stacks, as `finding at path` lines. */
export function nagErrors(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))
    .map((m) => `${String(m.entry.data).slice(0, 160)} at ${m.id}`);
}

/** Resources of one type in a template, by logical id. */
export function resourcesOf(t: Template, type: string): Record<string, { Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }> {
  return t.findResources(type) as never;
}

/** The nested-stack parameter that carries a root value whose name matches `pattern`. */
export function paramMatching(t: Template, pattern: RegExp): string {
  const names = Object.keys(t.toJSON().Parameters ?? {}).filter((n) => pattern.test(n));
  if (names.length !== 1) throw new Error(`expected one parameter matching ${pattern}, got ${names.join(', ') || 'none'}`);
  return names[0]!;
}

/** Whether an IAM resource pattern matches a name: `?` is one character, `*` any run, the rest literal. */
export function iamMatch(pattern: string, name: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\?/g, '.').replace(/\*/g, '.*');
  return new RegExp(`^${source}$`).test(name);
}
