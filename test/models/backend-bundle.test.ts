import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The Lambda runs an ESM esbuild bundle without node_modules: the wasm backend's
 * default lookup (next to its own JS file) is gone, so OFFLOAD_WASM_DIR must work.
 * This bundles a tiny entry the way the tail function is bundled and runs it.
 */
const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BANNER =
  "import { createRequire as __cr } from 'module'; import { fileURLToPath as __fu } from 'url'; " +
  "import { dirname as __dn } from 'path'; const require = __cr(import.meta.url); " +
  'const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);';

let root: string;
let bundle: string;
let wasmDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'offload-bundle-'));
  bundle = join(root, 'out', 'index.mjs');
  await build({
    stdin: {
      contents: [
        "import * as tf from './models/tfjs';",
        "import { initBackend } from './models/backend';",
        "import { modelToFiles, loadModelFromFiles } from './models/artifacts';",
        "import { ZOO } from './models/zoo';",
        'const name = await initBackend();',
        // through model.json and back, as a tail loads its layers: the layer classes must survive bundling
        'const model = await loadModelFromFiles(await modelToFiles(ZOO.tinychain.build()));',
        'const y = model.predict(tf.ones([1, 16, 16, 3]));',
        'console.log(JSON.stringify({ name, backend: tf.getBackend(), finite: Array.from(y.dataSync()).every(Number.isFinite) }));',
      ].join('\n'),
      resolveDir: projectRoot,
      sourcefile: 'entry.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundle,
    banner: { js: BANNER },
    // as cdk/bundling.ts bundles the handlers
    mainFields: ['module', 'main'],
    external: ['@tensorflow/tfjs-node', 'node-fetch'],
    logLevel: 'silent',
  });
  wasmDir = join(root, 'wasm');
  await mkdir(wasmDir);
  const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  for (const f of (await readdir(dist)).filter((f) => f.endsWith('.wasm'))) await copyFile(join(dist, f), join(wasmDir, f));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function runBundle(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const { OFFLOAD_BACKEND: _b, OFFLOAD_WASM_DIR: _d, ...rest } = process.env;
  const r = spawnSync(process.execPath, [bundle], { cwd: root, env: { ...rest, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('initBackend inside an esbuild bundle', () => {
  it('runs on wasm with OFFLOAD_WASM_DIR pointing at the copied .wasm files', () => {
    const r = runBundle({ OFFLOAD_BACKEND: 'wasm', OFFLOAD_WASM_DIR: wasmDir });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ name: 'wasm', backend: 'wasm', finite: true });
  });

  it('picks wasm by default there too', () => {
    const r = runBundle({ OFFLOAD_WASM_DIR: wasmDir });
    expect(JSON.parse(r.stdout)).toEqual({ name: 'wasm', backend: 'wasm', finite: true });
  });

  it('says why a forced wasm backend cannot start when the .wasm files are nowhere', () => {
    const r = runBundle({ OFFLOAD_BACKEND: 'wasm' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/OFFLOAD_BACKEND=wasm: the wasm backend failed to initialise \(.*ENOENT.*tfjs-backend-wasm.*\.wasm/);
    expect(r.stderr).toContain('check OFFLOAD_WASM_DIR');
  });
});
