/**
 * Builds the browser SDK and the demo page into a folder a static server (or
 * the local stack, under /_local/demo/) can serve as is:
 *
 * - `offload.js`: the SDK, ESM (esbuild, minified, no Node built-ins), with
 *   `offload-*.js` chunks it imports: the code shared with the WebGPU backend,
 *   and that backend, loaded only where the browser offers a WebGPU adapter;
 * - `demo.js`, `index.html`: the demo page, importing `./offload.js`;
 * - `tfjs-backend-wasm*.wasm`: the wasm backend's binaries, fetched on demand.
 *
 * `npm run build:browser [DIR]` writes it (default `dist/browser`).
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_BROWSER_OUT = resolve(HERE, '../../dist/browser');
/** Where the local stack builds the page it serves (state, not a deliverable). */
export const LOCAL_BROWSER_OUT = resolve(HERE, '../../.offload/browser');
/** Names of the SDK's code-split chunks (`offload.js` imports them). */
const CHUNK_PREFIX = 'offload-';

/**
 * Node built-ins reachable from shared modules but never called in a page
 * (models/artifacts.ts reads folders too): stand-ins that throw if they ever
 * are, so the bundle imports no Node module. A new import fails the build
 * with "No matching export", which is the cue to keep it out of the browser path.
 */
const NODE_STUBS: Record<string, string[]> = {
  'node:fs/promises': ['mkdir', 'readFile', 'writeFile'],
  'node:path': ['join'],
};

const nodeStubs: Plugin = {
  name: 'node-stubs',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (!Object.hasOwn(NODE_STUBS, args.path)) return { errors: [{ text: `${args.path} (imported by ${args.importer}) has no place in the browser bundle` }] };
      return { path: args.path, namespace: 'node-stub' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({
      contents: (NODE_STUBS[args.path] ?? [])
        .map((n) => `export function ${n}() { throw new Error(${JSON.stringify(`${args.path} ${n}() is not available in a browser`)}); }`)
        .join('\n'),
      loader: 'js',
    }));
  },
};

/**
 * zod's `z` namespace re-exports every locale (`z.locales`), and a namespace
 * used as an object cannot be tree-shaken: 40-odd error-message translations,
 * about a quarter of the bundle. The SDK's messages are English, so only `en`
 * (the one zod configures by default) is kept.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/]/.test(args.importer)) return undefined;
      return { path: join(args.resolveDir, '..', 'locales', 'en.js'), namespace: 'zod-locales' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, loader: 'js', resolveDir: dirname(args.path) }));
  },
};

/** The demo imports the SDK by its bundled name, so the page loads it once. */
const sdkExternal: Plugin = {
  name: 'sdk-external',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index$/ }, () => ({ path: './offload.js', external: true }));
  },
};

export interface BrowserBuild {
  outDir: string;
  /** File name → bytes. */
  files: Record<string, number>;
}

/**
 * @example
 * await buildBrowser({ outDir: 'dist/browser' });
 */
export async function buildBrowser(opts: { outDir?: string; minify?: boolean } = {}): Promise<BrowserBuild> {
  const outDir = opts.outDir ?? DEFAULT_BROWSER_OUT;
  const { build } = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  const common = {
    bundle: true,
    format: 'esm' as const,
    platform: 'browser' as const,
    target: ['es2022'],
    minify: opts.minify ?? true,
    legalComments: 'none' as const,
    logLevel: 'silent' as const,
    define: { 'process.env.NODE_ENV': '"production"' },
  };
  // chunks of an earlier build (their names change with their contents)
  for (const f of readdirSync(outDir)) if (f.startsWith(CHUNK_PREFIX) && f.endsWith('.js')) rmSync(join(outDir, f));
  await Promise.all([
    // split: the WebGPU backend is a chunk of its own, fetched only where the browser has a WebGPU adapter
    build({ ...common, entryPoints: { offload: join(HERE, 'index.ts') }, outdir: outDir, splitting: true, chunkNames: `${CHUNK_PREFIX}[name]-[hash]`, plugins: [nodeStubs, zodEnglishOnly] }),
    build({ ...common, entryPoints: [join(HERE, 'demo', 'demo.ts')], outfile: join(outDir, 'demo.js'), plugins: [sdkExternal, nodeStubs, zodEnglishOnly] }),
  ]);
  copyFileSync(join(HERE, 'demo', 'index.html'), join(outDir, 'index.html'));
  const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, f), join(outDir, f));
  const files: Record<string, number> = {};
  for (const f of readdirSync(outDir)) files[f] = statSync(join(outDir, f)).size;
  return { outDir, files };
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

/**
 * The demo page as the local stack serves it: built on first request (a
 * second or two), then read from `outDir`.
 */
export function browserPages(opts: { outDir?: string } = {}): (path: string) => Promise<{ body: Uint8Array; contentType: string } | null> {
  let built: Promise<BrowserBuild> | undefined;
  return async (path) => {
    built ??= buildBrowser({ outDir: opts.outDir ?? LOCAL_BROWSER_OUT });
    built.catch(() => (built = undefined)); // a failed build is retried on the next request
    const { outDir, files } = await built;
    if (!Object.hasOwn(files, path)) return null;
    return { body: readFileSync(join(outDir, path)), contentType: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream' };
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? DEFAULT_BROWSER_OUT);
  const result = await buildBrowser({ outDir });
  for (const [f, n] of Object.entries(result.files)) console.log(`${(n / 1024).toFixed(1).padStart(9)} KiB  ${f}`);
  console.log(`browser SDK and demo page in ${outDir}`);
}
