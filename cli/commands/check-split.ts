import type { Command } from 'commander';
import { OffloadError } from '../../core/errors';
import type { WireDType } from '../../core/wire';
import { note, printJson, table } from '../output';
import { formatBytes, loadModel, progressBar } from '../model-command';
import { oneOf, parseCutList, positiveInt } from '../options';
import { DTYPES } from '../../core/dtypes';

/**
 * `offload check-split MODEL [--cuts all|LIST] [--dtype float32|float16|int8] [--input-size N] [--json]`:
 * full model vs head → wire → tail per cut, on one seeded input.
 *
 * JSON: an array of `{ cut, layer, dtype, maxAbsDiff, maxRelDiff, crossingBytes, sentBytes, model, backend }`.
 * Exits 1 when a float32 difference exceeds 1e-4 (after printing the rows).
 */
export function register(program: Command): void {
  program
    .command('check-split')
    .description('Check that head → wire → tail reproduces the full model at each cut')
    .argument('<model>', 'zoo name or folder with model.json')
    .option('--cuts <list>', 'all, or comma-separated candidate cuts', parseCutList, 'all')
    .option('--dtype <dtype>', `wire dtype: ${DTYPES.join(' | ')}`, oneOf<WireDType>('--dtype', DTYPES), 'float32')
    .option('--input-size <n>', 'build a zoo network at this input size (height = width)', positiveInt('--input-size'))
    .option('--max-crossing <n>', 'candidate rule (see `offload cuts --help`)', positiveInt('--max-crossing'), 1)
    .option('--seed <n>', 'seed of the uniform [-1, 1) input', positiveInt('--seed'), 7)
    .option('--json', 'print the rows as a JSON array on stdout only')
    .action(
      async (
        modelArg: string,
        opts: { cuts: number[] | 'all'; dtype: WireDType; inputSize?: number; maxCrossing: number; seed: number; json?: boolean },
      ) => {
        const loaded = await loadModel(modelArg, { quiet: Boolean(opts.json), ...(opts.inputSize ? { inputSize: opts.inputSize } : {}) });
        const { analyzeModel } = await import('../../models/graph');
        const { checkSplit, float32Failures, FLOAT32_TOLERANCE } = await import('../../models/check-split');
        const analysis = analyzeModel(loaded.model, { name: loaded.name, maxCrossing: opts.maxCrossing });
        const progress = await progressBar(!opts.json);
        let rows: Awaited<ReturnType<typeof checkSplit>>;
        try {
          rows = await checkSplit(loaded.model, analysis, {
            dtype: opts.dtype,
            seed: opts.seed,
            ...(opts.cuts === 'all' ? {} : { cuts: opts.cuts }),
            onCut: (row, done, total) => progress.update(done, total, `cut ${row.cut}`),
          });
        } finally {
          progress.stop();
        }
        if (opts.json) {
          printJson(rows.map((r) => ({ ...r, model: loaded.name, backend: loaded.backend })));
        } else {
          process.stdout.write(
            `${table(
              rows.map((r) => ({
                cut: r.cut,
                layer: r.layer,
                maxAbsDiff: r.maxAbsDiff,
                maxRelDiff: r.maxRelDiff,
                crossing: formatBytes(r.crossingBytes),
                sent: formatBytes(r.sentBytes),
              })),
            )}\n`,
          );
          note(`${loaded.name}: ${rows.length} cuts, ${opts.dtype}, worst maxAbsDiff ${Math.max(0, ...rows.map((r) => r.maxAbsDiff)).toExponential(2)}`);
        }
        {
          const bad = float32Failures(rows);
          if (bad.length > 0) {
            throw new OffloadError(
              'internal',
              `split differs from the full model by more than ${FLOAT32_TOLERANCE} in float32 at cut${bad.length > 1 ? 's' : ''} ${bad.map((r) => `${r.cut} (${r.maxAbsDiff.toExponential(2)})`).join(', ')}`,
            );
          }
        }
      },
    );
}
