import type { Command } from 'commander';
import { note, printJson } from '../output';
import { positiveInt } from '../options';

/**
 * `offload bench seed [--draws N] [--out DIR] [--json]`: the seed experiment
 * (bench/seed.ts) over the committed profiles; writes DIR/seed.md and
 * DIR/seed.svg (default docs/).
 */
export function register(program: Command): void {
  const bench = program.command('bench').description('Reproducible experiments over the committed profiles');
  bench
    .command('seed')
    .description('The seed paper\'s experiment: 5 models × 3G/4G/WiFi × 2 phones, planner vs device-only, cloud-only, status quo and Neurosurgeon-style; writes docs/seed.md and docs/seed.svg')
    .option('--draws <n>', 'contended fleet draws per grid point', positiveInt('--draws'))
    .option('--out <dir>', 'where seed.md and seed.svg go (default docs/)')
    .option('--json', 'print the headline figures as JSON on stdout only')
    .action(async (opts: { draws?: number; out?: string; json?: boolean }) => {
      const { runSeedBench, PAPER } = await import('../../bench/seed');
      const result = await runSeedBench({ ...(opts.draws ? { draws: opts.draws } : {}), ...(opts.out ? { outDir: opts.out } : {}) });
      if (opts.json) {
        printJson({ paper: PAPER, summary: result.summary, whatIf: result.whatIf, files: [result.markdownPath, result.svgPath] });
        return;
      }
      for (const s of result.summary.filter((x) => x.baseline === 'statusQuo' || x.baseline === 'neurosurgeon')) {
        process.stdout.write(
          `${s.objective === 'latency' ? 'speedup' : 'energy reduction'} vs ${s.baseline} (${s.fleet} fleet): ${s.average.toFixed(2)}× avg, ${s.max.toFixed(2)}× max (${s.maxAt})\n`,
        );
      }
      process.stdout.write(`paper: ${PAPER.speedupAvg}× / ${PAPER.speedupMax}× speedup, ${PAPER.energyAvg}× / ${PAPER.energyMax}× energy reduction\n`);
      note(`wrote ${result.markdownPath} and ${result.svgPath}`);
    });
}
