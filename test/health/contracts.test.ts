/**
 * One home for each contract: the dtype list and size factors live in
 * core/dtypes.ts, the infer route in core/tail-api.ts inferRoute, the registry's
 * key names in core/registry-keys.ts, the `x-offload-*` header names in
 * core/tail-api.ts INFER_HEADERS. Shipped code that spells one again fails here
 * (the independent reference planner in testkit/ keeps its own dtype factors
 * on purpose: it checks the planner, so it must not share its inputs).
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

  it('the infer route is built only by core/tail-api.ts inferRoute', () => {
    // anywhere in a template literal, also inside a message
    const route = /\/infer\/\$\{/;
    expect(offenders(route, 'core/tail-api.ts')).toEqual([]);
    expect(route.test(code('core/tail-api.ts'))).toBe(true);
  });

  it('the registry key names are spelled only in core/registry-keys.ts', () => {
    const home = 'core/registry-keys.ts';
    const keyName = `(fn|instance|model|expiresAt)`;
    const spellings = {
      // the index name anywhere in code
      index: /['"`]byModel['"`]/,
      // a table or GSI key schema: CloudFormation/SDK style or CDK style
      keySchema: new RegExp(`AttributeName:\\s*['"\`]${keyName}['"\`]|(partitionKey|sortKey)\\s*:\\s*(\\{\\s*name\\s*:\\s*)?['"\`]${keyName}['"\`]|timeToLiveAttribute\\s*:\\s*['"\`]`),
      // an item key built by hand, or a key attribute named in an expression
      itemKey: /Key:\s*\{\s*fn\s*:|attribute_(not_)?exists\(fn\)|['"`#]\s*expiresAt\s*=\s*:|['"]#model['"]\s*:\s*['"]model['"]/,
    };
    for (const [what, pattern] of Object.entries(spellings)) {
      expect({ what, files: offenders(pattern, home) }).toEqual({ what, files: [] });
    }
    // the patterns find the real ones
    expect(spellings.index.test(code(home))).toBe(true);
    expect(spellings.keySchema.test("partitionKey: { name: 'fn', type: STRING }")).toBe(true);
    expect(spellings.keySchema.test("{ AttributeName: 'instance', KeyType: 'RANGE' }")).toBe(true);
    expect(spellings.itemKey.test('Key: { fn: fleetKey(m, c), instance: i }')).toBe(true);
  });

  it('the partition key format <model>#<cut> is built only by core/registry-keys.ts fleetKey', () => {
    // Where the registry is used (the sim's "model#cut" is a display name in its messages, not a key).
    const format = /`\$\{[^`}]+\}#\$\{[^`}]+\}`/;
    const users = SHIPPED.filter((f) => /^(cdk|functions|local|client|cli)\//.test(f) && f !== 'core/registry-keys.ts');
    expect(users.filter((f) => format.test(code(f)))).toEqual([]);
    expect(format.test(code('core/registry-keys.ts'))).toBe(true);
  });

  it('the x-offload-* header names are spelled only in core/tail-api.ts INFER_HEADERS', () => {
    const header = /['"`]x-offload-/i;
    expect(offenders(header, 'core/tail-api.ts')).toEqual([]);
    expect(header.test(code('core/tail-api.ts'))).toBe(true);
  });
});
