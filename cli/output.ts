/** What every subcommand shares: JSON alone on stdout with --json, human text otherwise. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Informational lines go to stderr so that `--json` output stays machine-readable. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Renders rows as an aligned text table; numbers are right-aligned. */
export function table(rows: ReadonlyArray<Record<string, string | number | boolean | null>>, columns?: string[]): string {
  const first = rows[0];
  if (!first) return '(none)';
  const cols = columns ?? Object.keys(first);
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const numeric = cols.map((c) => rows.every((r) => typeof r[c] === 'number' || r[c] === null));
  const line = (vals: string[]) =>
    vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function formatCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  return String(v);
}
