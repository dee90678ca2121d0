/**
 * Build context of the tfjs-node tail image (see layers/tfjs-node/README.md): staged at
 * synth time, built by Docker only when `cdk deploy` publishes it.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BUNDLE_ALIASES, ESM_CJS_BANNER, LAMBDA_TASK_ROOT, tailCompanionSources } from './bundling';

/** Where the image keeps tfjs-backend-wasm's `.wasm` files (the fallback backend). */
export const TFJS_NODE_WASM_DIR = `${LAMBDA_TASK_ROOT}/node_modules/@tensorflow/tfjs-backend-wasm/dist`;

const staged = new Map<string, string>();

/**
 * Stages the context once per (project, entry, staging folder) and process:
 * Dockerfile and package.json from `layers/tfjs-node/`, and `index.mjs` (with the
 * modules it loads next to it) bundled here with the local esbuild. Every `@tensorflow/*` package stays
 * external: the image installs them, so tfjs-node registers its backend with
 * the same tfjs-core the handler imports. `stagingRoot` is the cloud assembly
 * folder, so the staged copy goes away with `cdk.out`.
 */
export function stageTfjsNodeContext(projectRoot: string, entry: string, stagingRoot: string): string {
  const key = `${projectRoot}\0${entry}\0${stagingRoot}`;
  const hit = staged.get(key);
  if (hit) return hit;
  const dir = join(stagingRoot, `.tfjs-node-context-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`);
  mkdirSync(dir, { recursive: true });
  for (const f of ['Dockerfile', 'package.json']) copyFileSync(join(projectRoot, 'layers', 'tfjs-node', f), join(dir, f));
  buildSync({
    // the entry and the modules it loads at run time (cdk/bundling.ts TAIL_COMPANIONS), side by side
    entryPoints: [entry, ...tailCompanionSources(entry)],
    absWorkingDir: projectRoot,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    minify: true,
    keepNames: true,
    banner: { js: ESM_CJS_BANNER },
    external: ['@tensorflow/*'],
    alias: { ...BUNDLE_ALIASES },
    logLevel: 'error',
  });
  staged.set(key, dir);
  return dir;
}

/** The image code of a tfjs-node tail. */
export function tfjsNodeImageCode(projectRoot: string, entry: string, architecture: lambda.Architecture, stagingRoot: string): lambda.DockerImageCode {
  return lambda.DockerImageCode.fromImageAsset(stageTfjsNodeContext(projectRoot, entry, stagingRoot), {
    platform: architecture === lambda.Architecture.ARM_64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
  });
}
