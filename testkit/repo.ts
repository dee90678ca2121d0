/**
 * The repository's own files, for checks over the tree (layering, references,
 * one home per contract). Walks the working tree rather than asking git, so
 * it works in any copy; generated and installed folders are left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/[\\/]$/, '');

/** Folders that are installed, generated or scratch, never source. */
const SKIPPED = new Set(['node_modules', 'cdk.out', 'coverage', 'tmp']);

/**
 * Repo-relative paths (with `/`) of the files whose name ends with one of
 * `extensions`, sorted.
 *
 * @example
 * repoFiles(['.ts']) // ['bench/cold-start.ts', …, 'test/…', …]
 */
export function repoFiles(extensions: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || SKIPPED.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && extensions.some((e) => entry.name.endsWith(e))) out.push(relative(REPO_ROOT, path).split(sep).join('/'));
    }
  };
  walk(REPO_ROOT);
  return out.sort();
}

/** The text of a repo-relative file. */
export function readRepoFile(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}
