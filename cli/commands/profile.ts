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

/** The `--parallel-from` profile, parsed; a missing or invalid file is an OffloadError naming it. */
async function readOtherProfile(path: string) {
  const { readFile } = await import('node:fs/promises');
  const { OffloadError } = await import('../../core/errors');
  const { parseModelProfile } = await import('../../core/profiles');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (e) {
    throw new OffloadError('invalid-input', `--parallel-from ${path}: not a readable JSON file (${e instanceof Error ? e.message : String(e)})`, { field: 'parallelFrom' });
  }
  return parseModelProfile(json, `--parallel-from ${path}`);
}

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
    .option(
      '--parallel-from <file>',
      'a profile of the same model on another thread count (one of the two on 1 thread): the written profile records the measured parallel fraction (Amdahl over the two whole-model wall times), which the planner prices the tail\'s threads with',
    )
    .option('--json', 'print the profile as JSON on stdout only')
    .action(
      async (
        modelArg: string,
        opts: {
          backend: (typeof BACKENDS)[number];
          clock?: 'wall' | 'cpu';
          repeats: number;
          warmup: number;
          inputSize?: number;
          out?: string;
          json?: boolean;
          threads?: number;
          parallelFrom?: string;
        },
        command: Command,
      ) => {
        process.env.OFFLOAD_BACKEND = opts.backend;
        if (opts.threads !== undefined) {
          if (opts.backend !== 'wasm') command.error(`error: --threads applies to the wasm backend only (got --backend ${opts.backend})`, { exitCode: 2 });
          process.env.OFFLOAD_WASM_THREADS = String(opts.threads);
        }
        if (opts.parallelFrom !== undefined && opts.backend !== 'wasm') {
          command.error(`error: --parallel-from applies to the wasm backend only (got --backend ${opts.backend})`, { exitCode: 2 });
        }
        // read before the minutes of profiling: a wrong file fails at once
        const other = opts.parallelFrom === undefined ? undefined : await readOtherProfile(opts.parallelFrom);
        const { loadModel } = await import('../model-command');
        const loaded = await loadModel(modelArg, { quiet: true, ...(opts.inputSize ? { inputSize: opts.inputSize } : {}) });
        const { profileModel } = await import('../../models/profile');
        const { profilePath } = await import('../../core/profiles');
        // A zoo net at another input size is another model: its own name and file, never the committed 224×224 profile.
        const name = opts.inputSize && loaded.source === 'zoo' ? `${loaded.name}-${opts.inputSize}` : loaded.name;
        if (other && other.model !== name) {
          const { OffloadError } = await import('../../core/errors');
          throw new OffloadError('invalid-input', `--parallel-from ${opts.parallelFrom}: a profile of ${other.model}, not of ${name}`, { field: 'parallelFrom' });
        }
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
        if (other) {
          const { measuredParallelFraction } = await import('../../core/profiles');
          Object.assign(profile, measuredParallelFraction(profile, other));
        }
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
        if (profile.parallelFraction !== undefined && profile.parallelFractionFrom) {
          const f = profile.parallelFractionFrom;
          note(`parallel fraction ${profile.parallelFraction} (1 thread ${f.oneThreadMs.toFixed(1)} ms, ${f.threads} threads ${f.threadedMs.toFixed(1)} ms, ${(f.oneThreadMs / f.threadedMs).toFixed(2)}×; load ${f.loadAverages.join(' and ')})`);
        }
        note(`wrote ${out} (${profile.machine.cpuModel}, ${profile.machine.cores} cores, load ${profile.machine.loadAverage})`);
      },
    );
}
