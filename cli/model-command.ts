/**
 * What the model commands (`cuts`, `split`, `export`, `check-split`) share:
 * loading a zoo name or a folder, the backend note, a progress bar on stderr
 * and human-readable sizes (option parsers: ./options). tfjs is imported lazily.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../models/backend';
import { note } from './output';

// cli/commands/local.ts still imports these from here; the parsers live in ./options.

/** A model ready for a command. */
export interface LoadedModel {
  name: string;
  model: tf.LayersModel;
  source: 'zoo' | 'folder';
  backend: BackendName;
}

/**
 * Initialises the backend and resolves a zoo name or a folder holding model.json.
 * Writes `backend: <name>` to stderr unless `quiet` (the JSON output carries it instead).
 * `inputSize` applies to zoo networks only; a folder model has its own input size.
 */
export async function loadModel(nameOrPath: string, opts: { inputSize?: number; quiet?: boolean }): Promise<LoadedModel> {
  const { initBackend } = await import('../models/backend');
  const backend = await initBackend();
  const { resolveModel } = await import('../models/load');
  const resolved = await resolveModel(nameOrPath, opts.inputSize === undefined ? {} : { inputSize: opts.inputSize });
  // After resolving, so that a bad model name yields a single `offload: …` line.
  if (!opts.quiet) note(`backend: ${backend}`);
  return { ...resolved, backend };
}

/** A progress bar on stderr that appears only when a TTY is attached, output is not JSON, and the work takes more than a moment. */
export interface Progress {
  update(done: number, total: number, label: string): void;
  stop(): void;
}

/** See {@link Progress}; `delayMs` is the "moment" after which the bar shows. */
export async function progressBar(enabled: boolean, delayMs = 400): Promise<Progress> {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const { SingleBar, Presets } = (await import('cli-progress')).default;
  const started = Date.now();
  let bar: InstanceType<typeof SingleBar> | undefined;
  return {
    update(done, total, label) {
      if (!bar && Date.now() - started >= delayMs) {
        bar = new SingleBar({ format: ' {bar} {value}/{total} {label}', stream: process.stderr, clearOnComplete: true, hideCursor: true }, Presets.shades_classic);
        bar.start(total, done, { label });
      }
      bar?.setTotal(total);
      bar?.update(done, { label });
    },
    stop() {
      bar?.stop();
    },
  };
}

/** 1234567 → "1.18 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** 4117000000 → "4.12 G". */
export function formatCount(n: number): string {
  if (n < 1e3) return String(n);
  const units: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, suffix] of units) if (n >= scale) return `${(n / scale).toFixed(n / scale >= 100 ? 0 : 2)} ${suffix}`;
  return String(n);
}

/** [56, 56, 256] → "56×56×256". */
export function formatShape(shape: readonly number[]): string {
  return shape.join('×');
}
