/**
 * One home for each contract: the dtype list and size factors live in
 * core/dtypes.ts, the infer route in core/catalog.ts inferRoute. Shipped code
 * that spells either again fails here (the independent reference planner in
 * testkit/ keeps its own copy on purpose: it checks the planner, so it must
 * not share its inputs).
 */
import { describe, expect, it } from 'vitest';
import { readRepoFile, repoFiles } from '../../testkit/repo';

const SHIPPED = repoFiles(['.ts']).filter((f) => /^(bin|cli|client|core|models|functions|cdk|local|bench)\//.test(f));

/** Code with comments removed, so prose about the dtypes or routes does not count. */
function code(file: string): string {
  return readRepoFile(file)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function offenders(pattern: RegExp, home: string): string[] {
  return SHIPPED.filter((f) => f !== home && pattern.test(code(f)));
}

describe('one home per contract', () => {
  it('the dtype list is spelled only in core/dtypes.ts', () => {
    // three dtype literals in one list or enum
    const list = /\[\s*'float32'\s*,\s*'float16'\s*,\s*'int8'\s*\]|'float32'\s*\|\s*'float16'\s*\|\s*'int8'/;
    expect(offenders(list, 'core/dtypes.ts')).toEqual([]);
    expect(list.test(code('core/dtypes.ts'))).toBe(true); // the pattern finds the real one
  });

  it('the dtype size factors are spelled only in core/dtypes.ts', () => {
    const factors = /float16\s*:\s*(0\.5|1\s*\/\s*2)\b[\s\S]{0,40}int8\s*:\s*(0\.25|1\s*\/\s*4)\b|float16\s*:\s*2\s*,\s*int8\s*:\s*1\b/;
    expect(offenders(factors, 'core/dtypes.ts')).toEqual([]);
    expect(factors.test(code('core/dtypes.ts'))).toBe(true);
  });

  it('the infer route is built only by core/catalog.ts inferRoute', () => {
    const route = /`\/infer\/\$\{/;
    expect(offenders(route, 'core/catalog.ts')).toEqual([]);
    expect(route.test(code('core/catalog.ts'))).toBe(true);
  });
});
