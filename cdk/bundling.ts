/**
 * How the Lambda handlers are bundled: NodejsFunction with the LOCAL esbuild
 * (never Docker), ESM output `index.mjs`, one bundle per distinct entry.
 *
 * Every tail function gets the same entry and the same bundling options, so
 * CDK's asset cache bundles the tail once per synth and every tail function
 * points at the same `asset.<hash>` directory: one bundle, many functions,
 * differing only by environment.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { CATALOG_FILE_NAME, type DeploymentCatalog } from '../core/catalog';

const require = createRequire(import.meta.url);

/** Handler entry files, absolute or relative to the project root. */
export interface HandlerEntries {
  tail: string;
  planner: string;
}

export const DEFAULT_ENTRIES: HandlerEntries = {
  tail: 'functions/tail/index.ts',
  planner: 'functions/planner/index.ts',
};

/** Where Lambda puts the code; the tail's `OFFLOAD_WASM_DIR`. The local emulator maps it to the asset directory. */
export const LAMBDA_TASK_ROOT = '/var/task';

/**
 * Bundled CommonJS dependencies (tfjs, its emscripten glue) call `require`,
 * `__dirname` and `__filename`, which an ES module does not have: the banner
 * defines them from `import.meta.url`.
 */
export const ESM_CJS_BANNER = [
  "import { createRequire as __offloadCreateRequire } from 'node:module';",
  "import { fileURLToPath as __offloadFileURLToPath } from 'node:url';",
  "import { dirname as __offloadDirname } from 'node:path';",
  'const require = __offloadCreateRequire(import.meta.url);',
  'const __filename = __offloadFileURLToPath(import.meta.url);',
  'const __dirname = __offloadDirname(__filename);',
].join(' ');

/**
 * Left out of the handler bundles. tfjs-node is optional and absent here: models/backend.ts imports it
 * dynamically and falls back to wasm. node-fetch: tfjs-core's Node platform requires it only where no
 * global fetch exists (Node < 18), never on nodejs20+; bundled, it drags in tr46/whatwg-url (~300 KiB)
 * that every cold start would parse.
 */
export const BUNDLE_EXTERNALS = ['@tensorflow/tfjs-node', 'node-fetch'] as const;

/**
 * Modules replaced inside the handler bundles, by absolute path. The AWS SDK's
 * default credential chain (`@aws-sdk/credential-provider-node`: ini files,
 * SSO, web identity, process, container and instance metadata, and the STS/SSO
 * clients behind them) becomes the environment-variable provider that is the
 * chain's first link and the only one a Lambda handler reaches
 * (functions/commons/lambda-credentials.ts): ~120 KB less in each bundle.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  '@aws-sdk/credential-provider-node': join(dirname(fileURLToPath(import.meta.url)), '..', 'functions', 'commons', 'lambda-credentials.ts'),
});

/**
 * The ES module builds (package.json `module`) before the CommonJS `main`: esbuild can drop what the
 * handlers never reach (AWS SDK v3, tfjs), where the CommonJS builds come as one indivisible file.
 */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'] as const;

/** The folder holding tfjs-backend-wasm's `.wasm` files in this checkout. */
export function wasmDistDir(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Whether a handler's bundle keeps function and class names through minification. The tail's must:
 * tfjs finds layer and kernel classes by name. The planner runs no tfjs, and every error it throws or
 * tests sets its `name` itself (core/errors.ts, the AWS SDK's exceptions), so its bundle drops the
 * ~25 KB of name-keeping wrappers esbuild adds (issue 11's 0.4 MiB planner bundle).
 */
export const BUNDLE_KEEP_NAMES = Object.freeze({ tail: true, planner: false });

/** Options both handlers share. */
function common(keepNames: boolean): BundlingOptions {
  return {
    forceDockerBundling: false,
    format: OutputFormat.ESM,
    // Lambda runs nodejs22.x; the local emulator and tests run the same bundle on Node 20.
    target: 'node20',
    minify: true,
    keepNames,
    sourceMap: false,
    banner: ESM_CJS_BANNER,
    // Bundle the AWS SDK instead of using the runtime's copy: the version we test is the version we ship,
    // and the local emulator (Node 20, no Lambda runtime) runs the very same files.
    externalModules: [...BUNDLE_EXTERNALS],
    mainFields: [...BUNDLE_MAIN_FIELDS],
    esbuildArgs: { '--alias': Object.entries(BUNDLE_ALIASES).map(([from, to]) => `${from}=${to}`) },
  };
}

/**
 * The threaded engine's main script in this checkout: its pthread workers read it from disk
 * (models/wasm-threads.ts), so it ships next to the `.wasm` files.
 */
export function wasmThreadedMainScript(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
}

/**
 * Modules the tail's entry loads itself at run time (functions/tail/index.ts), each bundled on its own next
 * to `index.mjs` as `<name>.mjs`: the handler bundle, loaded once the entry has started the early download,
 * and the download's worker thread. `index.mjs` itself holds only what starts the download.
 */
export const TAIL_COMPANIONS = ['main', 'prefetch-worker'] as const;

/**
 * The companions are built as ESM with code splitting, chunks under `chunks/`: what main.mjs loads only with
 * `import()` stays out of what every cold start parses before its first line runs — the AWS SDK's S3 client
 * (the early download's fallback), its DynamoDB client (`OFFLOAD_REGISTRY_HTTP=off`), the wasm backend
 * (loaded when the engine starts) — and what main.mjs and the worker share is one chunk, not two copies.
 */
export const TAIL_CHUNK_NAMES = 'chunks/[name]-[hash]';

/** The companion sources next to a tail entry (`functions/tail/main.ts`, …); an entry without them (a stand-in) has none. */
export function tailCompanionSources(entry: string): string[] {
  return TAIL_COMPANIONS.map((name) => join(dirname(entry), `${name}.ts`)).filter((path) => existsSync(path));
}

/** The esbuild options of a tail bundle, as arguments of the esbuild CLI (as NodejsFunction passes them). */
export function tailEsbuildArgs(): string[] {
  const o = common(BUNDLE_KEEP_NAMES.tail);
  return [
    '--bundle',
    '--platform=node',
    `--format=${o.format}`,
    `--target=${o.target}`,
    ...(o.minify ? ['--minify'] : []),
    ...(o.keepNames ? ['--keep-names'] : []),
    `--main-fields=${BUNDLE_MAIN_FIELDS.join(',')}`,
    ...BUNDLE_EXTERNALS.map((m) => `--external:${m}`),
    ...Object.entries(BUNDLE_ALIASES).map(([from, to]) => `--alias:${from}=${to}`),
    `--banner:js=${ESM_CJS_BANNER}`,
    '--log-level=warning',
  ];
}

/**
 * Bundling of the tail handler: the entry (`index.mjs`), its companions ({@link TAIL_COMPANIONS}) built with
 * the same options, and the `.wasm` files and the threaded engine's main script copied next to them.
 */
export function tailBundling(entry: string = DEFAULT_ENTRIES.tail): BundlingOptions {
  const wasmDir = wasmDistDir();
  const companions = tailCompanionSources(entry);
  const esbuild = join(dirname(require.resolve('esbuild/package.json')), 'bin', 'esbuild');
  return {
    ...common(BUNDLE_KEEP_NAMES.tail),
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => [
        ...(companions.length
          ? [[esbuild, ...companions, ...tailEsbuildArgs(), '--splitting', `--chunk-names=${TAIL_CHUNK_NAMES}`, `--outdir=${outputDir}`, '--out-extension:.js=.mjs'].map(shellQuote).join(' ')]
          : []),
        `cp ${shellQuote(wasmDir)}/*.wasm ${shellQuote(outputDir)}/`,
        `cp ${shellQuote(wasmThreadedMainScript())} ${shellQuote(outputDir)}/`,
      ],
    },
  };
}

/**
 * Bundling of the planner handler: `catalog.json` is written next to `index.mjs`.
 * The catalog travels in the bundling environment (base64) rather than in the
 * hook's closure: CDK caches bundles by their serialised options, and functions
 * do not serialise, so a catalog only in a closure would let a second synth in
 * the same process reuse a bundle holding the first one's catalog.
 */
export function plannerBundling(catalog: DeploymentCatalog): BundlingOptions {
  const b64 = Buffer.from(JSON.stringify(catalog, null, 2)).toString('base64');
  const write = `require('node:fs').writeFileSync(process.argv[1], Buffer.from(process.env.OFFLOAD_CATALOG_B64, 'base64'))`;
  return {
    ...common(BUNDLE_KEEP_NAMES.planner),
    environment: { OFFLOAD_CATALOG_B64: b64 },
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => [
        `node -e ${shellQuote(write)} ${shellQuote(join(outputDir, CATALOG_FILE_NAME))}`,
      ],
    },
  };
}
