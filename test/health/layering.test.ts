/**
 * Folders depend one way. The allowed edges between top-level folders are
 * the "may import" column of docs/design.md ("Layers of the code"), read
 * here, so the doc and the check cannot drift; files import each other
 * without cycles.
 */
import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRepoFile, REPO_ROOT, repoFiles } from '../../testkit/repo';

const CODE = repoFiles(['.ts', '.mjs', '.js', '.cjs']);

/** The layering table of docs/design.md: folder → folders it may import. */
function allowedEdges(): Map<string, Set<string>> {
  const doc = readRepoFile('docs/design.md');
  const start = doc.indexOf('## Layers of the code');
  if (start < 0) throw new Error('docs/design.md has no "## Layers of the code" section');
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const rules = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const folder = /^`([\w-]+)\/`$/.exec(cells[1] ?? '')?.[1];
    if (!folder) continue;
    const may = [...(cells[3] ?? '').matchAll(/`([\w-]+)\/`/g)].map((m) => m[1] as string);
    rules.set(folder, new Set(may));
  }
  return rules;
}

interface Edge {
  from: string;
  to: string;
  spec: string;
}

/** Relative imports of a file (static, dynamic, re-exports, `import type`), resolved to repo paths. */
function importsOf(file: string): Edge[] {
  const text = readRepoFile(file);
  const edges: Edge[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm)) {
    const spec = m[1] as string;
    const base = normalize(join(dirname(file), spec)).split('\\').join('/');
    const to = [base, `${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts')].find((p) => existsSync(join(REPO_ROOT, p)) && /\.[cm]?[jt]s$|\.json$/.test(p));
    edges.push({ from: file, to: to ?? base, spec });
  }
  return edges;
}

const top = (path: string): string => (path.includes('/') ? (path.split('/')[0] as string) : '.');

describe('layering', () => {
  const rules = allowedEdges();
  const edges = CODE.flatMap(importsOf);

  it('docs/design.md names every top-level folder that holds code', () => {
    // Prepare
    const folders = new Set(CODE.map(top).filter((t) => t !== '.'));
    // Assess
    expect([...folders].filter((f) => !rules.has(f))).toEqual([]);
    expect(rules.get('core')).toEqual(new Set()); // the table was read: core/ imports no other folder
    expect(rules.get('bench')?.has('testkit')).toBe(true);
  });

  it('no import crosses folders against the table', () => {
    // Act
    const wrong = edges
      .filter((e) => top(e.from) !== top(e.to) && top(e.from) !== '.')
      .filter((e) => !rules.get(top(e.from))?.has(top(e.to)))
      .map((e) => `${e.from} imports ${e.spec} (${top(e.from)}/ → ${top(e.to)}/)`);
    // Assess
    expect(wrong).toEqual([]);
  });

  it('files import each other without cycles', () => {
    // Prepare
    const graph = new Map<string, string[]>();
    for (const e of edges) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
    // Act: Tarjan's strongly connected components; any with two or more files is a cycle.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    let next = 0;
    const visit = (v: string): void => {
      index.set(v, next);
      low.set(v, next);
      next++;
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        if (component.length > 1) cycles.push(component.sort());
      }
    };
    for (const v of graph.keys()) if (!index.has(v)) visit(v);
    // Assess
    expect(cycles).toEqual([]);
  });
});
