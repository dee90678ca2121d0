/**
 * References in code and docs resolve: a cited Markdown file exists, a cited
 * section (`docs/cost-model.md §3`) is a numbered heading of that file, and no
 * comment cites "the spec" without naming the file.
 */
import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRepoFile, REPO_ROOT, repoFiles } from '../../testkit/repo';

const SOURCES = repoFiles(['.ts', '.md', '.js', '.mjs']);

/** Mentions of `.md` files that are not files of this repository, each with why. */
const NOT_IN_REPO: Readonly<Record<string, string>> = {
  'research/slim/nets/mobilenet_v1.md': 'a file of tensorflow/models, cited as a source',
  'DIR/seed.md': 'a placeholder for the --out directory',
};

/**
 * Docs that code already on main cites and that work in flight writes (the
 * load generator, the browser client); remove each entry once the file lands.
 */
const BEING_WRITTEN: ReadonlySet<string> = new Set(['docs/browser.md']);

/** Where a cited path may be relative to: the citing file's folder, the root, docs/. */
function resolveCited(from: string, cited: string): string | undefined {
  const candidates = [join(dirname(from), cited), cited, join('docs', cited)].map((p) => normalize(p));
  return candidates.find((p) => !p.startsWith('..') && existsSync(join(REPO_ROOT, p)));
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

describe('references', () => {
  it('every cited Markdown file exists', () => {
    // Prepare
    const dangling: string[] = [];
    // Act
    for (const file of SOURCES) {
      if (file === 'test/health/references.test.ts') continue; // its own patterns and messages
      const text = readRepoFile(file);
      for (const m of text.matchAll(/(?<![\w@/.-])((?:\.{1,2}\/)*[\w./-]*[\w-]\.md)\b/g)) {
        const cited = m[1] as string;
        if (cited in NOT_IN_REPO || BEING_WRITTEN.has(cited) || /https?:\/\/\S*$/.test(text.slice(Math.max(0, m.index - 200), m.index))) continue;
        if (!resolveCited(file, cited)) dangling.push(`${file}:${lineOf(text, m.index)} cites ${cited}`);
      }
    }
    // Assess
    expect(dangling).toEqual([]);
  });

  it('every "file.md §N" names a numbered section of that file', () => {
    // Prepare
    const wrong: string[] = [];
    let checked = 0;
    // Act
    for (const file of SOURCES) {
      const text = readRepoFile(file);
      for (const m of text.matchAll(/([\w./-]+\.md)\]?(?:\([^)\s]*\))?\s+§(\d+)/g)) {
        const [, cited, section] = m as unknown as [string, string, string];
        const target = resolveCited(file, cited);
        checked++;
        if (!target) {
          wrong.push(`${file}:${lineOf(text, m.index)} cites ${cited}, which does not exist`);
          continue;
        }
        if (!new RegExp(`^#+ ${section}\\. `, 'm').test(readRepoFile(target))) {
          wrong.push(`${file}:${lineOf(text, m.index)} cites ${cited} §${section}, which has no heading "${section}. …"`);
        }
      }
    }
    // Assess
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(40); // the planner code cites the cost model throughout
  });

  it('no comment cites "spec §N" or CONTRACTS.md without a file that exists', () => {
    // Prepare
    const bare: string[] = [];
    // Act
    for (const file of SOURCES) {
      if (file === 'test/health/references.test.ts') continue; // its own patterns and messages
      const text = readRepoFile(file);
      for (const m of text.matchAll(/\b[Ss]pec(?:'s)? §\d|\bCONTRACTS\b/g)) bare.push(`${file}:${lineOf(text, m.index)}: ${m[0]}`);
    }
    // Assess
    expect(bare).toEqual([]);
  });
});
