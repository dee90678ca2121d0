/**
 * What every bench/ script shares: the shape of a measured figure, the
 * statistics the figures are taken from, and how results are printed — so the
 * scripts report alike and a figure reads the same in each of them.
 */
import { pathToFileURL } from 'node:url';

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
