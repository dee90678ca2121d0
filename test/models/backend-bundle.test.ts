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
let threadsBundle: string;
let earlyBundle: string;
let wasmDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'offload-bundle-'));
  bundle = join(root, 'out', 'index.mjs');
  threadsBundle = join(root, 'out', 'threads.mjs');
  earlyBundle = join(root, 'out', 'early.mjs');
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
  await build({
    stdin: {
      contents: [
        "import * as tf from './models/tfjs';",
        "import { initBackend, wasmThreads } from './models/backend';",
        "import { ZOO } from './models/zoo';",
        'const name = await initBackend();',
        // MobileNetV2 at 224: convolutions, depthwise convolutions and a dense layer, large enough for XNNPACK to split work
        'const model = ZOO.mobilenetv2.build();',
        'const x = tf.randomUniform([1, 224, 224, 3], 0, 1, "float32", 11);',
        'const y = model.predict(x);',
        'console.log(JSON.stringify({ name, threads: wasmThreads(), output: Array.from(y.dataSync()) }));',
        'process.exit(0);',
      ].join('\n'),
      resolveDir: projectRoot,
      sourcefile: 'threads.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: threadsBundle,
    banner: { js: BANNER },
    mainFields: ['module', 'main'],
    external: ['@tensorflow/tfjs-node', 'node-fetch'],
    logLevel: 'silent',
  });
  await build({
    stdin: {
      contents: [
        // the pthread workers start before the engine (here even before tfjs loads)
        "import { startEarlyEngine } from './functions/commons/early-engine';",
        "import { startEarlyPthreadWorkers, threadedMainScript } from './models/wasm-threads';",
        "import { wasmWorkerContents } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';",
        'const notStarted = [];',
        // EARLY=tail: what the tail starts; EARLY=<n>: workers for n threads, whatever the engine will want
        "const early = process.env.EARLY === 'tail' ? startEarlyEngine(process.env, (m) => notStarted.push(m))",
        '  : process.env.EARLY ? startEarlyPthreadWorkers(Number(process.env.EARLY), wasmWorkerContents, threadedMainScript(process.env.OFFLOAD_WASM_DIR)) : undefined;',
        "const { runThreads } = await import('./test/models/early-engine-run');",
        'console.log(JSON.stringify({ ...(await runThreads(early)), notStarted }));',
        'process.exit(0);',
      ].join('\n'),
      resolveDir: projectRoot,
      sourcefile: 'early.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: earlyBundle,
    banner: { js: BANNER },
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

function runBundle(env: Record<string, string>, file = bundle): { status: number | null; stdout: string; stderr: string } {
  const { OFFLOAD_BACKEND: _b, OFFLOAD_WASM_DIR: _d, OFFLOAD_WASM_THREADS: _t, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: _m, ...rest } = process.env;
  const r = spawnSync(process.execPath, [file], { cwd: root, env: { ...rest, ...env }, encoding: 'utf8', timeout: 120_000 });
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

interface ThreadsRun {
  name: string;
  threads: { threads: number; requested: number; source: string; fallback?: string } | null;
  output: number[];
}

function runThreads(env: Record<string, string>): ThreadsRun {
  const r = runBundle({ OFFLOAD_WASM_DIR: wasmDir, ...env }, threadsBundle);
  if (r.status !== 0) throw new Error(`threads bundle failed (${r.status}): ${r.stderr.slice(0, 2000)}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as ThreadsRun), stderr: r.stderr } as ThreadsRun & { stderr: string };
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

describe('the multi-threaded wasm engine inside a bundle (issue 11)', () => {
  it('runs 2 threads when asked, with the output of the single-threaded engine (maxAbsDiff <= 1e-5)', async () => {
    // Prepare: the threaded main script sits next to the .wasm files, as cdk/bundling.ts copies it
    const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    await copyFile(join(dist, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'), join(wasmDir, 'tfjs-backend-wasm-threaded-simd.js'));
    // Act
    const one = runThreads({ OFFLOAD_WASM_THREADS: '1' });
    const two = runThreads({ OFFLOAD_WASM_THREADS: '2' });
    // Assess
    expect(one.threads).toEqual({ threads: 1, requested: 1, source: 'OFFLOAD_WASM_THREADS' });
    expect(two.threads).toEqual({ threads: 2, requested: 2, source: 'OFFLOAD_WASM_THREADS' });
    expect(two.output.length).toBe(1000);
    expect(maxAbsDiff(one.output, two.output)).toBeLessThanOrEqual(1e-5);
  }, 300_000);

  it('follows the Lambda memory size: 2 threads at 3,008 MB', () => {
    const r = runThreads({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008' });
    expect(r.threads).toEqual({ threads: 2, requested: 2, source: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE=3008' });
  }, 300_000);

  it('falls back to one thread, loudly, when the threaded main script is missing', async () => {
    await rm(join(wasmDir, 'tfjs-backend-wasm-threaded-simd.js'), { force: true });
    const r = runThreads({ OFFLOAD_WASM_THREADS: '2' }) as ThreadsRun & { stderr: string };
    expect(r.name).toBe('wasm');
    expect(r.threads).toMatchObject({ threads: 1, requested: 2 });
    expect(r.threads?.fallback).toContain('tfjs-backend-wasm-threaded-simd.js is neither in OFFLOAD_WASM_DIR');
    expect(r.stderr).toContain('tfjs wasm threads unavailable: running single-threaded');
  }, 300_000);

  it('rejects a thread count it cannot run, naming the variable', () => {
    const r = runBundle({ OFFLOAD_WASM_DIR: wasmDir, OFFLOAD_WASM_THREADS: 'many' }, threadsBundle);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('OFFLOAD_WASM_THREADS');
    expect(r.stderr).toContain('must be an integer from 1 to 8');
  });
});

describe('the threaded engine on pthread workers started before tfjs loads (OFFLOAD_EARLY_ENGINE)', () => {
  function runEarly(env: Record<string, string>): ThreadsRun & { notStarted: string[]; stderr: string } {
    const r = runBundle({ OFFLOAD_WASM_DIR: wasmDir, ...env }, earlyBundle);
    if (r.status !== 0) throw new Error(`early bundle failed (${r.status}): ${r.stderr.slice(0, 2000)}`);
    return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as ThreadsRun & { notStarted: string[] }), stderr: r.stderr };
  }

  beforeAll(async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    await copyFile(join(dist, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'), join(wasmDir, 'tfjs-backend-wasm-threaded-simd.js'));
  });

  it('runs its thread on the early worker, with the output of the engine that starts its own', () => {
    const early = runEarly({ EARLY: 'tail', OFFLOAD_WASM_THREADS: '2' });
    const own = runEarly({ OFFLOAD_WASM_THREADS: '2' });
    expect(early.notStarted).toEqual([]);
    expect(early.threads).toEqual({ threads: 2, requested: 2, source: 'OFFLOAD_WASM_THREADS', earlyWorkers: 1 });
    expect(own.threads).toEqual({ threads: 2, requested: 2, source: 'OFFLOAD_WASM_THREADS' });
    expect(early.output.length).toBe(1000);
    expect(early.output).toEqual(own.output);
    expect(early.stderr).toBe('');
  }, 300_000);

  it('starts none for one thread, nor when switched off', () => {
    expect(runEarly({ EARLY: 'tail', OFFLOAD_WASM_THREADS: '1' }).threads).toEqual({ threads: 1, requested: 1, source: 'OFFLOAD_WASM_THREADS' });
    const off = runEarly({ EARLY: 'tail', OFFLOAD_WASM_THREADS: '2', OFFLOAD_EARLY_ENGINE: 'off' });
    expect(off.threads).toEqual({ threads: 2, requested: 2, source: 'OFFLOAD_WASM_THREADS' });
    expect(off.notStarted).toEqual([]);
  }, 300_000);

  it('workers started for another thread count are stopped, said once, and the engine starts its own', () => {
    const r = runEarly({ EARLY: '3', OFFLOAD_WASM_THREADS: '2' });
    expect(r.threads).toEqual({ threads: 2, requested: 2, source: 'OFFLOAD_WASM_THREADS', earlyWorkers: 0 });
    expect(r.stderr.match(/early pthread workers not used: the engine starts its own/g)).toHaveLength(1);
    expect(r.stderr).toContain('for 3 threads; the engine wants');
  }, 300_000);

  it('says why when the threaded main script is not in OFFLOAD_WASM_DIR, and the engine falls back as before', async () => {
    await rm(join(wasmDir, 'tfjs-backend-wasm-threaded-simd.js'), { force: true });
    const r = runEarly({ EARLY: 'tail', OFFLOAD_WASM_THREADS: '2' });
    expect(r.notStarted).toEqual(['the threaded main script is not in OFFLOAD_WASM_DIR']);
    expect(r.threads).toMatchObject({ threads: 1, requested: 2 });
  }, 300_000);
});
