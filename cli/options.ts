/**
 * Option parsing every `offload` subcommand shares: commander parsers for
 * numbers and choices (a bad value is a usage error, exit 2, naming the flag
 * and the value), and reading a JSON file named by a flag (a bad file is an
 * OffloadError, exit 1, naming the file and where it broke).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { OffloadError } from '../core/errors';
import { parsePolicies, type Policy } from '../core/policies';

/** commander parser for a positive integer option. */
export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${flag} must be a positive integer (got "${value}")`);
    }
    return n;
  };
}

/** commander parser for a non-negative integer option. */
export function nonNegativeInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`${flag} must be a non-negative integer (got "${value}")`);
    }
    return n;
  };
}

/** commander parser for an integer option of either sign. */
export function integer(flag: string): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be an integer (got "${value}")`);
    return Number(value);
  };
}

/** commander parser for a finite, non-negative number option. */
export function nonNegativeNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`${flag} must be a finite number >= 0 (got "${value}")`);
    }
    return n;
  };
}

/** commander parser for a finite number > 0 (rates, durations). */
export function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} must be a number > 0 (got "${value}")`);
    }
    return n;
  };
}

/** commander parser for a level in 0..1 (a battery level). */
export function fraction(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new InvalidArgumentError(`${flag} must be a level in 0..1 (got "${value}")`);
    }
    return n;
  };
}

/** commander parser for one of a fixed set of values. */
export function oneOf<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${flag} must be one of ${choices.join(', ')} (got "${value}")`);
    }
    return value as T;
  };
}

/**
 * True when a flag value that may be a built-in name or a file (`--network`,
 * `--device`) names a file: it holds `.`, `/` or `\`, which no built-in name does.
 */
export function looksLikePath(value: string): boolean {
  return /[./\\]/.test(value);
}

/** `all` → every candidate; `0,5,18` → [0, 5, 18]. */
export function parseCutList(value: string): number[] | 'all' {
  const v = value.trim();
  if (v === 'all') return 'all';
  const parts = v.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new InvalidArgumentError(`cuts must be "all" or a comma-separated list of cut indices such as 0,5,18 (got "${value}")`);
  }
  return parts.map(Number);
}

/**
 * Reads a file (or stdin for `-`) and parses it as JSON; errors say which
 * file (`what path`) and, for bad JSON, the line and column.
 */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? e);
    throw new OffloadError(code === 'ENOENT' ? 'not-found' : 'invalid-input', `cannot read ${what} ${path}: ${why}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const at = /position (\d+)/.exec(message);
    let where = '';
    if (at) {
      const before = text.slice(0, Number(at[1]));
      const line = before.split('\n').length;
      where = ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
    }
    throw new OffloadError('invalid-input', `${what} ${path} is not valid JSON${where}: ${message}`);
  }
}

/**
 * commander parser for `--url`: an http(s) URL, else a usage error. A value
 * without a scheme (`127.0.0.1:3017`) is refused with the URL it probably
 * meant: fetch would fail on it and the CLI would fall back to the device in silence.
 */
export function httpUrl(flag: string): (value: string) => string {
  return (value) => {
    let u: URL | undefined;
    try {
      u = new URL(value);
    } catch {
      u = undefined;
    }
    if (u?.protocol === 'http:' || u?.protocol === 'https:') return value;
    const hint = /^[\w.-]+(:\d+)?(\/.*)?$/.test(value) ? `; did you mean http://${value}?` : ' such as http://127.0.0.1:3000';
    throw new InvalidArgumentError(`${flag} must be an http(s) URL (got "${value}")${hint}`);
  };
}

/** A comma-separated policy list (`planner,cut:93`), as `offload load` and `offload simulate` take it. */
export function policiesArg(value: string): Policy[] {
  try {
    return parsePolicies(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}
