import type { Command } from 'commander';
import { note, printJson, table } from '../output';
import { formatBytes, loadModel, progressBar } from '../model-command';
import { parseCutList, positiveInt } from '../options';

/**
 * `offload export MODEL --out DIR [--cuts all|LIST] [--no-heads] [--force]`: the
 * serving layout (see docs/graph-analysis.md): `DIR/<model>/manifest.json`,
 * `full/`, `tails/<cut>/`, `heads/<cut>/`. Without `--cuts`, every candidate is
 * exported (the deployment config decides which get a function). An export
 * that already matches is left alone.
 *
 * JSON: `{ model, backend, dir, upToDate, exportedCuts, written, reused, partBytes, totalBytes, cloudProfile }`;
 * `cloudProfile` is `profiles/cloud.json` when the committed profile of the model fits the export (see models/profile-files.ts).
 */
export function register(program: Command): void {
  program
    .command('export')
    .description('Export the whole model, and the tails and heads of chosen cuts, with a manifest')
    .argument('<model>', 'zoo name or folder with model.json')
    .requiredOption('--out <dir>', 'output folder; the model goes to <dir>/<model>/')
    .option('--cuts <list>', 'all, or comma-separated candidate cuts', parseCutList, 'all')
    .option('--name <name>', 'name of the export folder and manifest model (default: the zoo name or the folder name)')
    .option('--no-heads', 'do not write heads/<cut>/')
    .option('--force', 'rewrite even when the export is up to date')
    .option('--max-crossing <n>', 'candidate rule (see `offload cuts --help`)', positiveInt('--max-crossing'), 1)
    .option('--input-size <n>', 'build a zoo network at this input size', positiveInt('--input-size'))
    .option('--json', 'print the result as JSON on stdout only')
    .action(
      async (
        modelArg: string,
        opts: { out: string; name?: string; cuts: number[] | 'all'; heads: boolean; force?: boolean; maxCrossing: number; inputSize?: number; json?: boolean },
      ) => {
        const loaded = await loadModel(modelArg, { quiet: Boolean(opts.json), ...(opts.inputSize ? { inputSize: opts.inputSize } : {}) });
        const { exportModel } = await import('../../models/export');
        const progress = await progressBar(!opts.json);
        let r: Awaited<ReturnType<typeof exportModel>>;
        try {
          r = await exportModel(loaded.model, opts.out, {
            name: opts.name ?? loaded.name,
            heads: opts.heads,
            maxCrossing: opts.maxCrossing,
            force: Boolean(opts.force),
            source: loaded.source === 'zoo' ? { kind: 'zoo', ...(opts.inputSize ? { inputSize: opts.inputSize } : {}) } : { kind: 'folder' },
            ...(opts.cuts === 'all' ? {} : { cuts: opts.cuts }),
            onPart: (part, done, total) => progress.update(done, total, part),
          });
        } finally {
          progress.stop();
        }
        const { manifest, ...summary } = r;
        const { attachCloudProfile, CLOUD_PROFILE_FILE } = await import('../../models/profile-files');
        const cloudProfile = attachCloudProfile(manifest.model, manifest.inputShape, r.dir) ? CLOUD_PROFILE_FILE : null;
        if (opts.json) {
          printJson({ backend: loaded.backend, ...summary, cloudProfile });
          return;
        }
        if (r.upToDate) note(`${r.dir} is up to date (${r.exportedCuts.length} cuts); nothing written (use --force to rewrite)`);
        else note(`${r.dir}: wrote ${r.written.length} parts, kept ${r.reused.length}; ${Object.keys(manifest.files).length} files, ${formatBytes(r.totalBytes)}`);
        note(cloudProfile ? `cloud profile: ${cloudProfile} (the measured per-layer times the planner uses)` : `no committed profile at this input size: the planner will derive cloud times from FLOPs`);
        process.stdout.write(
          `${table(Object.entries(r.partBytes).map(([part, bytes]) => ({ part, bytes: formatBytes(bytes), written: r.written.includes(part) })))}\n`,
        );
      },
    );
}
