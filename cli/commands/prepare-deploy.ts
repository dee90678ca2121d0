import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { OffloadError } from '../../core/errors';
import { formatBytes, progressBar } from '../model-command';
import { note, printJson, table } from '../output';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `offload prepare-deploy [--config FILE] [--models a,b]`: exports exactly what
 * `cdk deploy` will deploy — for each configured model the cuts of its explicit
 * list or of the default rule — with the cloud profile the planner reads, into
 * the configuration's `exportDir`. `npx cdk synth` does the same by itself
 * (cdk/exports.ts); this command is for exporting ahead of time, or for
 * `upload: "sync"`, where `aws s3 sync` uploads the folder after deploy.
 *
 * JSON: `{ exportDir, models: [{ model, cuts, export, cloudProfile, bytes }] }`.
 */
export function register(program: Command): void {
  program
    .command('prepare-deploy')
    .description('Export what `cdk deploy` deploys (the configured cuts of each model, and cloud profiles); `cdk synth` does it too')
    .option('--config <file>', 'deployment configuration (default cdk/offload.config.json), as `-c config=FILE` on cdk commands')
    .option('--models <list>', 'only these models, as `-c models=a,b` on cdk commands')
    .option('--json', 'print the result as JSON on stdout only')
    .action(async (opts: { config?: string; models?: string; json?: boolean }) => {
      const [{ loadConfig }, { ensureExports }, { initBackend }] = await Promise.all([
        import('../../cdk/config'),
        import('../../cdk/exports'),
        import('../../models/backend'),
      ]);
      const context: Record<string, unknown> = {};
      if (opts.config !== undefined) context.config = resolve(opts.config);
      if (opts.models !== undefined) {
        if (!opts.models.split(',').some((m) => m.trim())) throw new OffloadError('invalid-input', '--models: name at least one model');
        context.models = opts.models;
      }
      const config = loadConfig((key) => context[key], projectRoot);
      const exportDir = resolve(projectRoot, config.exportDir);
      const backend = await initBackend();
      const progress = await progressBar(!opts.json);
      let models: Awaited<ReturnType<typeof ensureExports>>;
      try {
        models = await ensureExports(config, {
          projectRoot,
          exportDir,
          onProgress: (p) => {
            if (p.phase === 'export') progress.update(p.done, p.total, `${p.model} ${p.part}`);
          },
        });
      } finally {
        progress.stop();
      }
      const rows = models.map((m) => ({
        model: m.model,
        cuts: m.cuts,
        export: m.export,
        cloudProfile: m.cloudProfile,
        bytes: Object.values(m.manifest.files).reduce((sum, f) => sum + f.bytes, 0),
      }));
      if (opts.json) {
        printJson({ backend, exportDir, models: rows });
        return;
      }
      note(`backend: ${backend}`);
      console.log(
        table(rows.map((r) => ({ model: r.model, cuts: r.cuts.join(','), export: r.export, cloudProfile: r.cloudProfile, size: formatBytes(r.bytes) }))),
      );
      const selection = opts.config || opts.models ? ` ${[opts.config && `-c config=${opts.config}`, opts.models && `-c models=${opts.models}`].filter(Boolean).join(' ')}` : '';
      const sync = config.upload === 'sync' ? `\n  aws s3 sync ${config.exportDir}/ s3://<bucket>/models/   (upload: "sync")` : '';
      console.log(`\nready in ${exportDir}. Next (docs/deploy.md):\n  npx cdk deploy --no-notices${selection}${sync}`);
    });
}
