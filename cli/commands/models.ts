import type { Command } from 'commander';
import { printJson, note, table } from '../output';
import { formatCount, formatShape } from '../model-command';

/** One row of `offload models --json` (`models[]`). */
export interface ZooModelRow {
  name: string;
  description: string;
  /** HWC, no batch dimension. */
  inputShape: number[];
  layers: number;
  /** Trainable parameters. */
  params: number;
  /** The published count the zoo is checked against, null for the tiny nets. */
  publishedParams: number | null;
  /** Bytes of all weights (float32), incl. batch-norm moving statistics. */
  weightBytes: number;
  /** Multiply-adds for one sample at the default input size. */
  flops: number;
  /** Candidate cuts with the default rule (one crossing tensor). */
  candidates: number;
}

/**
 * `offload models [--json]`: every zoo network with layer count, parameters,
 * FLOPs, input shape and candidate count. Builds each network (seconds for
 * the big ones: seeded weights are filled directly, not by tfjs initialisers).
 */
export function register(program: Command): void {
  program
    .command('models')
    .description('List the zoo networks: layers, parameters, FLOPs, input shape, candidate cuts')
    .option('--json', 'print { backend, models: [...] } as JSON on stdout only')
    .action(async (opts: { json?: boolean }) => {
      const { initBackend } = await import('../../models/backend');
      const backend = await initBackend();
      if (!opts.json) note(`backend: ${backend}`);
      const { ZOO, ZOO_NAMES } = await import('../../models/zoo');
      const { analyzeModel } = await import('../../models/graph');
      const rows: ZooModelRow[] = [];
      // Building the big networks takes tens of seconds in all: say what is happening (stderr, so --json stays clean).
      for (const [i, name] of ZOO_NAMES.entries()) {
        note(`building ${name} (${i + 1}/${ZOO_NAMES.length})…`);
        const entry = ZOO[name];
        const model = entry.build();
        try {
          const a = analyzeModel(model, { name });
          rows.push({
            name,
            description: entry.description,
            inputShape: a.inputShape,
            layers: a.layers.length,
            params: a.params,
            publishedParams: entry.publishedParams,
            weightBytes: a.layers.reduce((s, l) => s + l.weightBytes, 0),
            flops: a.flops,
            candidates: a.candidates.length,
          });
        } finally {
          model.dispose();
        }
      }
      if (opts.json) {
        printJson({ backend, models: rows });
        return;
      }
      process.stdout.write(
        `${table(
          rows.map((r) => ({
            model: r.name,
            input: formatShape(r.inputShape),
            layers: r.layers,
            params: r.params,
            'MACs': formatCount(r.flops),
            candidates: r.candidates,
            description: r.description,
          })),
        )}\n`,
      );
    });
}
