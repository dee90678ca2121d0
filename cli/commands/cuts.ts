import type { Command } from 'commander';
import { note, printJson, table } from '../output';
import { formatBytes, formatCount, formatShape, loadModel } from '../model-command';
import { positiveInt } from '../options';

/**
 * `offload cuts MODEL [--max-crossing N] [--input-size N] [--json]`: the candidate
 * cuts of a zoo network or of a folder holding model.json, one row per candidate.
 *
 * JSON: `{ model, source, backend, maxCrossing, inputShape, layers, candidates: CutCandidate[] }`
 * where `layers` is the layer count and each candidate is
 * `{ cut, layer, crossing: [{ name, shape, bytes }], crossingBytes, headFlops, tailFlops, tailWeightBytes }`.
 */
export function register(program: Command): void {
  program
    .command('cuts')
    .description('List the candidate cuts of a model and what crosses each')
    .argument('<model>', 'zoo name or folder with model.json')
    .option('--max-crossing <n>', 'a cut is a candidate when at most n tensors cross it (1 = between blocks only)', positiveInt('--max-crossing'), 1)
    .option('--input-size <n>', 'build a zoo network at this input size (height = width)', positiveInt('--input-size'))
    .option('--json', 'print the analysis as JSON on stdout only')
    .action(async (modelArg: string, opts: { maxCrossing: number; inputSize?: number; json?: boolean }) => {
      const loaded = await loadModel(modelArg, { quiet: Boolean(opts.json), ...(opts.inputSize ? { inputSize: opts.inputSize } : {}) });
      const { analyzeModel } = await import('../../models/graph');
      const a = analyzeModel(loaded.model, { name: loaded.name, maxCrossing: opts.maxCrossing });
      if (opts.json) {
        printJson({
          model: a.name,
          source: loaded.source,
          backend: loaded.backend,
          maxCrossing: opts.maxCrossing,
          inputShape: a.inputShape,
          layers: a.layers.length,
          candidates: a.candidates,
        });
        return;
      }
      note(`${a.name}: ${a.layers.length} layers, ${a.candidates.length} candidate cuts (max crossing ${opts.maxCrossing}); cut ${a.layers.length} = device only`);
      process.stdout.write(
        `${table(
          a.candidates.map((c) => ({
            cut: c.cut,
            layer: c.layer,
            crossing: c.crossing.map((t) => `${t.name} [${formatShape(t.shape)}]`).join(', '),
            crossingBytes: formatBytes(c.crossingBytes),
            headMACs: formatCount(c.headFlops),
            tailMACs: formatCount(c.tailFlops),
            tailWeights: formatBytes(c.tailWeightBytes),
          })),
        )}\n`,
      );
    });
}
