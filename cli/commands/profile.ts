import type { Command } from 'commander';
import { note, printJson, table } from '../output';
import { progressBar } from '../model-command';
import { InvalidArgumentError } from 'commander';
import { nonNegativeInt, oneOf, positiveInt } from '../options';

function threadCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 8) throw new InvalidArgumentError(`--threads must be an integer from 1 to 8 (got "${value}")`);
  return n;
}

const BACKENDS = ['wasm', 'cpu', 'tensorflow'] as const;

/**
 * `offload profile MODEL [--backend wasm|cpu|tensorflow] [--repeats N] [--warmup N]
 * [--input-size N] [--out FILE] [--json]`: measures every layer alone on its real
 * input shape and the whole model on this machine, and writes the profile file
 * (`profiles/<model>.<backend>.json` by default, `<model>-<size>` with --input-size; schema in core/profiles.ts).
 *
 * Without --json: a table of the slowest layers and the isolated/whole ratio.
 * With --json: the profile itself on stdout (still written to the file).
 */
export function register(program: Command): void {
  program
    .command('profile')
    .description('Measure per-layer and whole-model time on this machine and write the profile file the planner reads')
    .argument('<model>', 'zoo name or folder with model.json')
    .option('--backend <name>', `tfjs backend: ${BACKENDS.join(', ')}`, oneOf('--backend', BACKENDS), 'wasm')
    .option('--repeats <n>', 'timed calls per layer and for the whole model (the median is kept)', positiveInt('--repeats'), 5)
    .option('--warmup <n>', 'untimed calls before timing', nonNegativeInt('--warmup'), 1)
    .option('--clock <clock>', 'which clock the planner figures use: cpu (this process\'s CPU time; default for wasm/cpu) or wall (default for tensorflow)', oneOf('--clock', ['wall', 'cpu'] as const))
    .option('--input-size <n>', 'build a zoo network at this input size (height = width)', positiveInt('--input-size'))
    .option('--out <file>', 'where to write the profile (default profiles/<model>.<backend>.json)')
    .option('--threads <n>', 'threads of the wasm engine, 1-8 (more than 1 measures on the wall clock); the profile records them', threadCount)
    .option('--json', 'print the profile as JSON on stdout only')
    .action(
      async (
        modelArg: string,
        opts: { backend: (typeof BACKENDS)[number]; clock?: 'wall' | 'cpu'; repeats: number; warmup: number; inputSize?: number; out?: string; json?: boolean; threads?: number },
        command: Command,
      ) => {
        process.env.OFFLOAD_BACKEND = opts.backend;
        if (opts.threads !== undefined) {
          if (opts.backend !== 'wasm') command.error(`error: --threads applies to the wasm backend only (got --backend ${opts.backend})`, { exitCode: 2 });
          process.env.OFFLOAD_WASM_THREADS = String(opts.threads);
        }
        const { loadModel } = await import('../model-command');
        const loaded = await loadModel(modelArg, { quiet: true, ...(opts.inputSize ? { inputSize: opts.inputSize } : {}) });
        const { profileModel } = await import('../../models/profile');
        const { profilePath } = await import('../../core/profiles');
        // A zoo net at another input size is another model: its own name and file, never the committed 224×224 profile.
        const name = opts.inputSize && loaded.source === 'zoo' ? `${loaded.name}-${opts.inputSize}` : loaded.name;
        const progress = await progressBar(!opts.json);
        if (!opts.json) note(`profiling ${name} on ${opts.backend}: ${opts.repeats} repeats after ${opts.warmup} warm-up`);
        const profile = await profileModel(loaded.model, {
          name,
          backend: opts.backend,
          ...(opts.clock ? { clock: opts.clock } : {}),
          repeats: opts.repeats,
          warmup: opts.warmup,
          onLayer: (done, total, name) => progress.update(done, total, name),
        });
        progress.stop();
        loaded.model.dispose();
        const out = opts.out ?? profilePath(name, opts.backend);
        const { mkdir, writeFile } = await import('node:fs/promises');
        const { dirname } = await import('node:path');
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, `${JSON.stringify(profile, null, 1)}\n`);
        if (opts.json) {
          printJson(profile);
          return;
        }
        const slowest = [...profile.layers].sort((a, b) => b.ms - a.ms).slice(0, 10);
        process.stdout.write(
          `${table(slowest.map((l) => ({ layer: l.name, class: l.className, ms: l.ms, MACs: l.flops, 'GMAC/s': l.ms > 0 ? l.flops / l.ms / 1e6 : null })))}\n`,
        );
        process.stdout.write(
          `${profile.layers.length} layers; whole model ${profile.wholeModelMs.toFixed(1)} ms (${profile.clock} clock; wall ${profile.wholeModelWallMs.toFixed(1)} ms); ` +
            `sum of isolated layers ${profile.sumOfLayersMs.toFixed(1)} ms; ratio sum/whole ${profile.isolationRatio.toFixed(3)}\n`,
        );
        note(`wrote ${out} (${profile.machine.cpuModel}, ${profile.machine.cores} cores, load ${profile.machine.loadAverage})`);
      },
    );
}
