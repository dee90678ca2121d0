/**
 * `npm run bench`: runs the benchmarks that measure a target and prints each
 * one's figures as a table (bench/report.ts), then a one-line verdict per
 * benchmark. Each is also runnable alone (`npx tsx bench/<name>.ts`), with
 * more detail; the seed experiment (`npm run bench:seed`), the predictor
 * figures and the registry overhead (which starts S3 and DynamoDB stand-ins)
 * run on their own.
 *
 *   npx tsx bench/run.ts [plan] [codec] [emulator] [limits] [observability] [tails] [cold-start] [split-overhead]   (default: all eight)
 */
import { cpus, loadavg } from 'node:os';
import { formatResults } from './report';

type Bench = () => Promise<{ table: string; met: boolean }>;

const BENCHES: Record<string, Bench> = {
  plan: async () => {
    const { runPlanBench } = await import('./plan');
    const { results } = await runPlanBench();
    return { table: formatResults(results, { digits: 1 }), met: results.every((r) => r.met) };
  },
  codec: async () => {
    const codec = await import('./codec');
    const results = await codec.runCodecBench();
    return { table: codec.formatResults(results), met: results.every((r) => r.met) };
  },
  emulator: async () => {
    const { runEmulatorBench } = await import('./emulator');
    const results = await runEmulatorBench();
    return { table: formatResults(results), met: results.every((r) => r.met) };
  },
  limits: async () => {
    const { runLimitsBench } = await import('./limits');
    const results = await runLimitsBench();
    return { table: formatResults(results, { digits: 2 }), met: results.every((r) => r.met) };
  },
  observability: async () => {
    const { runObservabilityBench } = await import('./observability');
    const results = await runObservabilityBench();
    return { table: formatResults(results, { digits: 4 }), met: results.every((r) => r.met) };
  },
  tails: async () => {
    const { runTailsBench, formatTailsResults } = await import('./tails');
    const results = await runTailsBench();
    return { table: formatTailsResults(results), met: results.every((r) => r.met) };
  },
  'cold-start': async () => {
    const { runColdStart, formatColdStart, coldStartResults } = await import('./cold-start');
    const report = await runColdStart({ repeats: 3 });
    return { table: formatColdStart(report), met: coldStartResults(report).every((r) => r.met) };
  },
  'split-overhead': async () => {
    const { runSplitOverhead, formatSplitOverhead, SPLIT_OVERHEAD_TARGET } = await import('./split-overhead');
    const results = await runSplitOverhead();
    return { table: formatSplitOverhead(results), met: results.every((r) => r.pairedRatio <= SPLIT_OVERHEAD_TARGET) };
  },
};

const asked = process.argv.slice(2);
const unknown = asked.filter((n) => !Object.hasOwn(BENCHES, n));
if (unknown.length > 0) {
  process.stderr.write(`bench/run: unknown benchmark ${unknown.join(', ')} (one of ${Object.keys(BENCHES).join(', ')})\n`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : Object.keys(BENCHES);
const [load1] = loadavg();
process.stdout.write(
  `offload benchmarks — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${load1?.toFixed(2)} at start\n`,
);
const verdicts: string[] = [];
for (const name of names) {
  process.stdout.write(`\n## ${name}\n`);
  const { table, met } = await (BENCHES[name] as Bench)();
  process.stdout.write(`${table}\n`);
  verdicts.push(`${name}: ${met ? 'every target met' : 'a target NOT met'}`);
}
process.stdout.write(`\n${verdicts.join('\n')}\n`);
