import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The Lambda bundles stay lean only if no module they may reach imports the
 * heavy entries (issue 11): all of `@tensorflow/tfjs` bundles the webgl
 * backend and the converter; `import { z } from 'zod'` defeats esbuild's
 * tree-shaking and bundles every zod locale. test/cdk/stack.test.ts checks the
 * synthesised bundles; this names the offending file directly.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLED_DIRS = ['core', 'models', 'functions'];
const FORBIDDEN: { pattern: RegExp; instead: string }[] = [
  { pattern: /^import \* as \w+ from '@tensorflow\/tfjs';/m, instead: "import tfjs values from models/tfjs.ts (`import type` from '@tensorflow/tfjs' is fine)" },
  { pattern: /import\(\s*'@tensorflow\/tfjs'\s*\)/, instead: 'import models/tfjs.ts' },
  { pattern: /^import \{[^}]*\bz\b[^}]*\} from 'zod';/m, instead: "import * as z from 'zod'" },
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('modules the Lambda bundles may reach', () => {
  it('import neither all of @tensorflow/tfjs nor zod through its locale-carrying named export', () => {
    const offences = BUNDLED_DIRS.flatMap((d) => tsFiles(join(root, d))).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return FORBIDDEN.filter((f) => f.pattern.test(text)).map((f) => `${relative(root, file)}: ${f.instead}`);
    });
    expect(offences).toEqual([]);
  });
});

/**
 * What a tail's cold start parses and runs before main.mjs's first line (issue 11): the modules main.mjs
 * imports statically, transitively, bundled as cdk/bundling.ts bundles them. The AWS SDK clients and their
 * signer come with import() when used (functions/commons/dynamo-http.ts, tail-model.ts), and the core modules
 * that build the planner's zod schemas at load stay out (core/tail-api.ts, core/lambda-cores.ts).
 */
describe("the tail's handler bundle at load", () => {
  it('holds no AWS SDK client, no SDK signer and none of the core modules that build schemas the tail does not read', async () => {
    const { build } = await import('esbuild');
    const { BUNDLE_ALIASES, BUNDLE_EXTERNALS, BUNDLE_MAIN_FIELDS } = await import('../../cdk/bundling');
    const main = join(root, 'functions', 'tail', 'main.ts');
    const { metafile } = await build({
      entryPoints: [main],
      bundle: true,
      platform: 'node',
      format: 'esm',
      splitting: true,
      write: false,
      outdir: join(root, 'unused-out'),
      metafile: true,
      external: [...BUNDLE_EXTERNALS],
      mainFields: [...BUNDLE_MAIN_FIELDS],
      alias: { ...BUNDLE_ALIASES },
      logLevel: 'silent',
    });
    const atLoad = new Set<string>();
    const visit = (file: string): void => {
      if (atLoad.has(file)) return;
      atLoad.add(file);
      for (const i of metafile.inputs[file]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) visit(i.path);
    };
    visit(relative(process.cwd(), main));
    const files = [...atLoad].map((f) => relative(root, join(process.cwd(), f)));
    expect(files).toContain('functions/commons/tail.ts'); // the walk found the handler's graph
    expect(files.some((f) => f.includes('node_modules/@tensorflow/tfjs-layers/'))).toBe(true);
    const sdk = files.filter((f) => /node_modules\/(@aws-sdk\/(client-|lib-dynamodb)|@smithy\/(core|signature-v4)\/)/.test(f));
    expect(sdk).toEqual([]);
    const schemas = ['core/api.ts', 'core/catalog.ts', 'core/presets.ts', 'core/profiles.ts', 'core/manifest.ts', 'core/prewarm.ts', 'core/scenario.ts', 'core/planner.ts'];
    expect(files.filter((f) => schemas.includes(f))).toEqual([]);
  });
});
