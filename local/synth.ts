/**
 * Synthesis of the CDK app for the local stack, and the rule for reusing a
 * cloud assembly instead of synthesising again.
 *
 * Synthesis runs in this process through the app's own builder
 * (`resolveDeployment` + `OffloadStack`, what `cdk/app.ts` does), with the
 * feature flags of `cdk.json`: measured here, that takes about a third of the
 * time of `npx cdk synth` (no CLI start, no second Node process, no tsx
 * start for the app). Two things the CLI does are left out on purpose, both
 * deploy-time gates that do not change what the emulator runs: cdk-nag
 * (`npx cdk synth` and the CDK tests still run it) and CDK's built-in
 * CloudFormation template validation (`CDK_VALIDATION=false`, ~2 s).
 *
 * Fresh: a cloud assembly is reused when the stamp written after its
 * synthesis ({@link STAMP_FILE}) names the same resolved configuration and
 * the synthesis started after the last change to any input: the CDK app,
 * the handlers and everything they bundle (`cdk/`, `functions/`, `core/`,
 * `models/`, `layers/`), `package-lock.json` and `cdk.json`; the export
 * manifests the app reads count by content (part of the stamp's key), so a
 * manifest rewritten with the same content does not force a synthesis.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import type { OffloadConfig } from '../cdk/config';
import { newestMtime } from '../cdk/exports';

export { newestMtime } from '../cdk/exports';
import { OffloadError } from '../core/errors';

/** Folders of the project whose files end up in the assembly (templates or bundles). */
export const SYNTH_INPUT_DIRS = ['cdk', 'functions', 'core', 'models', 'layers'] as const;
/** Single files of the project that change what synthesis produces. */
export const SYNTH_INPUT_FILES = ['package-lock.json', 'cdk.json'] as const;
/** Written into the assembly after a successful synthesis. */
export const STAMP_FILE = 'offload-local.json';

const StampSchema = z.object({
  /** sha256 of the resolved configuration. */
  key: z.string(),
  /** Epoch ms at which the synthesis started (inputs changed later make the assembly stale). */
  startedAt: z.number(),
  stackName: z.string(),
});

export interface SynthOptions {
  projectRoot: string;
  /** The resolved configuration (cdk/config.ts `loadConfig`). */
  config: OffloadConfig;
  /** Where the cloud assembly goes (replaced on each synthesis). */
  outdir: string;
  /** More of what the templates depend on, e.g. the content hash of the export manifests the app reads. */
  extraKey?: string;
  /** Synthesise even when the assembly is fresh. */
  force?: boolean;
}

export interface SynthResult {
  outdir: string;
  reused: boolean;
  /** Why it was (re)synthesised or reused, for the user. */
  reason: string;
  ms: number;
}

/** sha256 of the configuration (and `extra`): equal keys mean synthesis would produce the same templates from the same code. */
export function configKey(config: OffloadConfig, extra = ''): string {
  return createHash('sha256').update(JSON.stringify(config)).update('\0').update(extra).digest('hex');
}

function synthInputs(projectRoot: string): string[] {
  return [...SYNTH_INPUT_DIRS.map((d) => join(projectRoot, d)), ...SYNTH_INPUT_FILES.map((f) => join(projectRoot, f))];
}

/** Whether the assembly in `outdir` can be reused, and why (not). */
export function assemblyFreshness(options: Omit<SynthOptions, 'force'>): { fresh: boolean; reason: string } {
  const stampPath = join(options.outdir, STAMP_FILE);
  if (!existsSync(join(options.outdir, 'manifest.json')) || !existsSync(stampPath)) {
    return { fresh: false, reason: 'no cloud assembly yet' };
  }
  let stamp: z.infer<typeof StampSchema>;
  try {
    stamp = StampSchema.parse(JSON.parse(readFileSync(stampPath, 'utf8')));
  } catch {
    return { fresh: false, reason: 'the assembly stamp is unreadable' };
  }
  if (stamp.key !== configKey(options.config, options.extraKey)) return { fresh: false, reason: 'the configuration or an export manifest changed' };
  const newest = newestMtime(synthInputs(options.projectRoot));
  if (newest.mtimeMs >= stamp.startedAt) {
    return { fresh: false, reason: `${newest.path ?? 'an input'} changed since the last synthesis` };
  }
  return { fresh: true, reason: 'the assembly is newer than every input' };
}

function cdkJsonContext(projectRoot: string): Record<string, unknown> {
  const file = join(projectRoot, 'cdk.json');
  if (!existsSync(file)) return {};
  const parsed = z.object({ context: z.record(z.string(), z.unknown()).optional() }).safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? (parsed.data.context ?? {}) : {};
}

/**
 * Synthesises the app into `outdir` unless the assembly there is fresh.
 * Bundling uses the local esbuild (NodejsFunction `forceDockerBundling: false`);
 * no network is needed.
 *
 * @example
 * const r = await synthesizeLocal({ projectRoot, config, outdir: '.offload/local/cdk.out' });
 * console.log(r.reused ? 'reused' : `synthesised in ${r.ms} ms`);
 */
export async function synthesizeLocal(options: SynthOptions): Promise<SynthResult> {
  const started = performance.now();
  const freshness = assemblyFreshness(options);
  if (freshness.fresh && !options.force) {
    return { outdir: options.outdir, reused: true, reason: freshness.reason, ms: performance.now() - started };
  }
  const startedAt = Date.now();
  const [{ App }, { OffloadStack }, { resolveDeployment }] = await Promise.all([
    import('aws-cdk-lib'),
    import('../cdk/stack'),
    import('../cdk/config'),
  ]);
  const deployment = resolveDeployment(options.config, options.projectRoot);
  if (existsSync(options.outdir) && readdirSync(options.outdir).length > 0 && !existsSync(join(options.outdir, 'manifest.json'))) {
    // never wipe a folder that is not a cloud assembly (a mistyped --state-dir)
    throw new OffloadError('invalid-input', `${options.outdir} is not empty and not a cloud assembly; refusing to replace it`);
  }
  rmSync(options.outdir, { recursive: true, force: true });
  mkdirSync(options.outdir, { recursive: true });
  const previous = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'false';
  try {
    const app = new App({ outdir: options.outdir, context: cdkJsonContext(options.projectRoot) });
    new OffloadStack(app, options.config.stackName, { deployment, projectRoot: options.projectRoot });
    app.synth();
  } catch (e) {
    rmSync(options.outdir, { recursive: true, force: true });
    throw new OffloadError('internal', `CDK synthesis failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    if (previous === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = previous;
  }
  const stamp: z.infer<typeof StampSchema> = { key: configKey(options.config, options.extraKey), startedAt, stackName: options.config.stackName };
  writeFileSync(join(options.outdir, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
  return {
    outdir: options.outdir,
    reused: false,
    reason: options.force ? 'synthesis forced' : freshness.reason,
    ms: performance.now() - started,
  };
}
