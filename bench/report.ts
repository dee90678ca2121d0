/**
 * What every bench/ script shares: the shape of a measured figure, the
 * statistics the figures are taken from, and how results are printed — so the
 * scripts report alike and a figure reads the same in each of them.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One measured figure against its target. */
export interface BenchResult {
  /** What was measured, e.g. `plan p99`. */
  name: string;
  /** The measured figure. */
  value: number;
  unit: string;
  /** The target in the same unit. */
  target: number;
  /** target / value for times, value / target for throughputs: ≥ 1 meets the target. */
  ratio: number;
  met: boolean;
  /** How it was measured (sizes, repeats, spread). */
  detail: string;
}

/**
 * The element at quantile `q` of ascending `sorted` (nearest rank, rounding
 * down; the last element for q = 1).
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Median of `xs` (mean of the two middle values for an even count); `xs` is not modified. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * True when the module whose `import.meta.url` is given is the script node was
 * started with (`npx tsx bench/<file>.ts`), false when it is imported.
 */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;
}

/** The value after `--name` on the command line, or undefined. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** The command-line options a bench script reads with {@link argValue} / `argv.includes`. */
export interface KnownArgs {
  /** Options that take a value (`--rate 2`). */
  values: readonly string[];
  /** Options that stand alone (`--probe`). */
  flags?: readonly string[];
  /** One line of usage, printed by `--help` and after an error. */
  usage: string;
  /** Options that mean something only beside another (`--policy` reads a `--timeline`): given alone they would be ignored. */
  onlyWith?: Readonly<Record<string, string>>;
  /** Groups of options of which at most one may be given (each picks what the same run does). */
  exclusive?: readonly (readonly string[])[];
}

/**
 * What is wrong with `args` (the arguments after the script) against `known`, or undefined when nothing is:
 * an option the script does not read, or one that needs a value and has none. A bench run takes minutes and
 * holds the measurement lock, so a misspelt option must stop it before it starts, not be ignored.
 */
export function argsProblem(args: readonly string[], known: KnownArgs): string | undefined {
  const flags = known.flags ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (known.values.includes(a)) {
      const v = args[i + 1];
      if (v === undefined || (v.startsWith('--') && !/^--?\d/.test(v))) return `${a} needs a value`;
      i++;
    } else if (!flags.includes(a)) {
      const names = [...known.values, ...flags].join(', ');
      return a.startsWith('-') ? `unknown option ${a} (known: ${names || 'none'})` : `unexpected argument '${a}' (options: ${names || 'none'})`;
    }
  }
  for (const [option, needs] of Object.entries(known.onlyWith ?? {})) {
    if (args.includes(option) && !args.includes(needs)) return `${option} only goes with ${needs}`;
  }
  for (const group of known.exclusive ?? []) {
    const given = group.filter((o) => args.includes(o));
    if (given.length > 1) return `${given.join(' and ')}: give one of them`;
  }
  return undefined;
}

/**
 * Checks the process's arguments against `known` before the script does anything: `--help` prints the usage and
 * exits 0; a problem ({@link argsProblem}) prints one line and the usage to stderr and exits 2.
 */
export function checkArgs(known: KnownArgs): void {
  const args = argsOrHelp(known.usage);
  const problem = argsProblem(args, known);
  if (problem !== undefined) usageError(problem, known.usage);
}

/** The arguments after the script; on `--help` or `-h`, prints the usage and exits 0 instead. */
function argsOrHelp(usage: string): string[] {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  return args;
}

/** Prints `problem` and the usage to stderr and exits 2. */
function usageError(problem: string, usage: string): never {
  console.error(`error: ${problem}\nusage: ${usage}`);
  process.exit(2);
}

/**
 * `parseArgs` (node:util, strict) for the scripts that use it, with {@link checkArgs}'s manners: `--help` prints the
 * usage and exits 0; an unknown option, a stray argument or an option without its value prints one line and the usage
 * to stderr and exits 2, instead of node's stack trace.
 */
export function parseArgsOrExit<const T extends Omit<ParseArgsConfig, 'args' | 'strict' | 'allowPositionals' | 'tokens'>>(config: T, usage: string): ReturnType<typeof parseArgs<T & { strict: true }>>['values'] {
  const args = argsOrHelp(usage);
  try {
    return parseArgs({ ...config, args, strict: true, allowPositionals: false }).values as ReturnType<typeof parseArgs<T & { strict: true }>>['values'];
  } catch (e) {
    // node's messages name the option ("Unknown option '--x'", "Option '--runs <value>' argument missing"); their advice to use '--' does not apply
    usageError((e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/\. To specify a positional argument starting with a '-'.*$/, ''), usage);
  }
}

/** Length of the intersection of two time windows [start, end], ms (0 when they do not meet). */
export function overlap(a: readonly [number, number], b: readonly [number, number]): number {
  return Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
}

/** Renders rows under a header as aligned text columns, two spaces apart. */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/** How {@link formatResults} prints the figures. */
export interface FormatResultsOptions {
  /** Decimals of the measured value (default 3). */
  digits?: number;
  /** Decimals of the ratio (default 1). */
  ratioDigits?: number;
  /** `lower`: the target is a maximum (times, default); `higher`: a minimum (throughputs). */
  better?: 'lower' | 'higher';
}

/** Renders results as an aligned text table: figure, measured, target, ratio, verdict. */
export function formatResults(results: readonly BenchResult[], options: FormatResultsOptions = {}): string {
  const digits = options.digits ?? 3;
  const ratioDigits = options.ratioDigits ?? 1;
  const lower = (options.better ?? 'lower') === 'lower';
  const rows = results.map((r) => [
    r.name,
    `${r.value.toFixed(digits)} ${r.unit}`,
    `${lower ? '≤' : '≥'} ${r.target} ${r.unit}`,
    `${r.ratio.toFixed(ratioDigits)}×`,
    r.met ? 'ok' : lower ? 'ABOVE TARGET' : 'BELOW TARGET',
  ]);
  return formatTable(['figure', 'measured', 'target', 'ratio', ''], rows);
}
