import { InvalidArgumentError } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isOffloadError } from '../../core/errors';
import { fraction, integer, nonNegativeInt, nonNegativeNumber, oneOf, parseCutList, positiveInt, readJsonFile } from '../../cli/options';
import { offload } from './spawn-offload';

describe('option parsers', () => {
  it('accept what their names say and reject the rest naming the flag and the value', () => {
    expect(positiveInt('--n')('3')).toBe(3);
    expect(() => positiveInt('--n')('0')).toThrow(/^--n must be a positive integer \(got "0"\)$/);
    expect(nonNegativeInt('--cut')('0')).toBe(0);
    expect(() => nonNegativeInt('--cut')('-1')).toThrow(InvalidArgumentError);
    expect(integer('--seed')('-4')).toBe(-4);
    expect(() => integer('--seed')('1.5')).toThrow(/^--seed must be an integer/);
    expect(nonNegativeNumber('--ms')('2.5')).toBe(2.5);
    expect(() => nonNegativeNumber('--ms')('')).toThrow(/finite number >= 0/);
    expect(fraction('--battery')('0.25')).toBe(0.25);
    expect(() => fraction('--battery')('1.5')).toThrow(/^--battery must be a level in 0\.\.1/);
    expect(oneOf('--dtype', ['float32', 'int8'])('int8')).toBe('int8');
    expect(() => oneOf('--dtype', ['float32', 'int8'])('int4')).toThrow(/^--dtype must be one of float32, int8 \(got "int4"\)$/);
    expect(parseCutList('all')).toBe('all');
    expect(parseCutList('0, 5,18')).toEqual([0, 5, 18]);
    expect(() => parseCutList('0,x')).toThrow(/comma-separated list/);
  });
});

describe('readJsonFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offload-options-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses a file and says which file and where it broke', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, '{"a": 1}');
    expect(readJsonFile(good, 'network file')).toEqual({ a: 1 });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "a": 1,\n}');
    expect(() => readJsonFile(bad, 'network file')).toThrow(/^network file .*bad\.json is not valid JSON \(line 3, column 1\)/);
    let missing: unknown;
    try {
      readJsonFile(join(dir, 'none.json'), 'device file');
    } catch (e) {
      missing = e;
    }
    expect(isOffloadError(missing) && missing.code).toBe('not-found');
  });
});

describe('offload infer flags', () => {
  it('rejects an empty --battery as a usage error before any request', async () => {
    const r = await offload(['infer', '--url', 'http://127.0.0.1:9', '--model', 'tinychain', '--battery', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--battery must be a level in 0\.\.1 \(got ""\)/);
  });
});
