import type { Command } from 'commander';
import { note, printJson, table } from '../output';
import { formatBytes, loadModel } from '../model-command';
import { nonNegativeInt, positiveInt } from '../options';

/**
 * `offload split MODEL --cut C --out DIR`: writes the head (`DIR/head/`, absent at
 * cut 0) and the tail (`DIR/tail/`) as tfjs artifacts and reports their bytes.
 *
 * JSON: `{ model, backend, cut, layer, crossing, head: { dir, files, modelJsonBytes, weightBytes } | null, tail: {…} }`.
 */
export function register(program: Command): void {
  program
    .command('split')
    .description('Write the head and tail of a model at one candidate cut')
    .argument('<model>', 'zoo name or folder with model.json')
    .requiredOption('--cut <c>', 'candidate cut (see `offload cuts`)', nonNegativeInt('--cut'))
    .requiredOption('--out <dir>', 'output folder (gets head/ and tail/)')
    .option('--max-crossing <n>', 'candidate rule (see `offload cuts --help`)', positiveInt('--max-crossing'), 1)
    .option('--input-size <n>', 'build a zoo network at this input size', positiveInt('--input-size'))
    .option('--json', 'print the result as JSON on stdout only')
    .action(async (modelArg: string, opts: { cut: number; out: string; maxCrossing: number; inputSize?: number; json?: boolean }) => {
      const loaded = await loadModel(modelArg, { quiet: Boolean(opts.json), ...(opts.inputSize ? { inputSize: opts.inputSize } : {}) });
      const { analyzeModel, candidateAt } = await import('../../models/graph');
      const { splitToDir } = await import('../../models/export');
      const analysis = analyzeModel(loaded.model, { name: loaded.name, maxCrossing: opts.maxCrossing });
      candidateAt(analysis, opts.cut);
      const r = await splitToDir(loaded.model, analysis, opts.cut, opts.out);
      if (opts.json) {
        printJson({ model: loaded.name, backend: loaded.backend, ...r });
        return;
      }
      note(`${loaded.name} at cut ${r.cut} (after ${r.layer}); crossing: ${r.crossing.map((t) => t.name).join(', ')}`);
      const rows = [
        ...(r.head ? [{ part: 'head', dir: r.head.dir, modelJson: formatBytes(r.head.modelJsonBytes), weights: formatBytes(r.head.weightBytes) }] : []),
        { part: 'tail', dir: r.tail.dir, modelJson: formatBytes(r.tail.modelJsonBytes), weights: formatBytes(r.tail.weightBytes) },
      ];
      process.stdout.write(`${table(rows)}\n`);
    });
}
