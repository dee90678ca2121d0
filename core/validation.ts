import type * as z from 'zod';
import { ValidationError } from './errors';

/** Joins a zod issue path the way users write it: `layers[3].deviceMs`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/**
 * Parses `input` with `schema`; on failure throws a ValidationError naming the
 * first offending field (prefixed with `root` when given).
 *
 * @example
 * const scenario = parseWith(ScenarioSchema, JSON.parse(text));
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, root = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const inner = issue ? formatPath(issue.path) : '';
  const field = root && inner ? (inner.startsWith('[') ? root + inner : `${root}.${inner}`) : root || inner;
  throw new ValidationError(field || '(input)', issue?.message ?? 'invalid', result.error);
}

/**
 * `record[key]` when `key` is the record's own property, else undefined: a
 * name that comes from a request or the command line must never reach
 * `Object.prototype` (`"constructor"`, `"hasOwnProperty"`, `"__proto__"`).
 *
 * @example
 * const cls = ownValue(DEVICE_PROFILES, request.device); // undefined for "constructor"
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
