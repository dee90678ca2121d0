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
