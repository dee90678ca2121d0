/**
 * The exports a deployment reads, produced when they are missing or stale:
 * `cdk synth` (cdk/app.ts), `npm start` (local/stack.ts) and
 * `offload prepare-deploy` all call {@link ensureExports}, as `NodejsFunction`
 * bundles its code during synthesis.
 *
 * A model's export is reused, without loading tfjs, when its manifest lists
 * every cut the configuration deploys, every file it lists is on disk with its
 * recorded size, and the manifest is newer than everything that could change
 * the export: the code under `models/` (which builds the zoo's seeded weights
 * and writes the export) and, for a model of the user's, its folder. Otherwise
 * `exportModel` runs; it compares the model's fingerprint and rewrites only the
 * files that differ, so changing one model re-exports only that model.
 * Cuts exported earlier stay (a local run with fewer cuts must not prune the
 * export of a deployment with more); their segments still hold each weight once.
 */
import { readFile, stat, utimes } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { NotFoundError, OffloadError } from '../core/errors';
import { parseManifest, type Manifest } from '../core/manifest';
import type { OffloadConfig } from './config';
import { selectDefaultCuts } from './cuts';

const MANIFEST_FILE = 'manifest.json';

/** One configured model, exported. */
export interface ModelArtifacts {
  model: string;
  /** `<exportDir>/<model>`. */
  dir: string;
  manifest: Manifest;
  /** The cuts that get tail functions (cut 0 always among them). */
  cuts: number[];
  /** `reused`: nothing checked beyond sizes; `up-to-date`: exportModel found nothing to write; `written`: files were written. */
  export: 'reused' | 'up-to-date' | 'written';
  /** Whether `profiles/cloud.json` (the planner's measured cloud times) is in the export. */
  cloudProfile: boolean;
  ms: number;
}

export type ArtifactProgress =
  | { phase: 'export'; model: string; part: string; done: number; total: number }
  | { phase: 'upload'; key: string; done: number; total: number };

export interface EnsureExportsOptions {
  projectRoot: string;
  /** Absolute export folder (the configuration's `exportDir`, resolved). */
  exportDir: string;
  onProgress?: (p: ArtifactProgress) => void;
}

/** The newest modification time among files under `paths` (folders walked; `node_modules` and dot entries skipped). */
export function newestMtime(paths: readonly string[]): { mtimeMs: number; path: string | null } {
  let best = { mtimeMs: 0, path: null as string | null };
  const visit = (path: string): void => {
    let info;
    try {
      info = statSync(path);
    } catch {
      return; // an optional input (e.g. layers/) that is absent
    }
    if (info.isDirectory()) {
      for (const entry of readdirSync(path)) {
        if (entry === 'node_modules' || entry.startsWith('.')) continue;
        visit(join(path, entry));
      }
    } else if (info.mtimeMs > best.mtimeMs) {
      best = { mtimeMs: info.mtimeMs, path };
    }
  };
  for (const p of paths) visit(p);
  return best;
}

/** Cuts the configuration deploys for a model, from its explicit list or the default rule. */
export function configuredCuts(config: OffloadConfig, model: string, analysis: Pick<Manifest, 'candidates' | 'layers'>): number[] {
  const mc = config.models[model];
  if (!mc || mc.cuts === 'default') return selectDefaultCuts(analysis, config.cutRule).cuts;
  return [...new Set([0, ...mc.cuts])].sort((a, b) => a - b);
}

/** The folder of a model the user brings (`models.<name>.source`), absolute; undefined for a zoo model. */
export function modelSource(config: OffloadConfig, model: string, projectRoot: string): string | undefined {
  const source = config.models[model]?.source;
  if (source === undefined) return undefined;
  return isAbsolute(source) ? source : resolve(projectRoot, source);
}

async function readManifestFile(dir: string): Promise<Manifest | undefined> {
  try {
    return parseManifest(JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')));
  } catch {
    return undefined; // absent, half-written or from another version: export again
  }
}

async function filesIntact(dir: string, manifest: Manifest): Promise<boolean> {
  for (const [path, f] of Object.entries(manifest.files)) {
    const size = await stat(join(dir, path)).then((s) => s.size, () => -1);
    if (size !== f.bytes) return false;
  }
  return true;
}

/**
 * Makes sure every configured model has an export holding the cuts it
 * deploys, exporting zoo models and the user's model folders as needed, and
 * attaches each model's committed cloud profile.
 */
export async function ensureExports(config: OffloadConfig, options: EnsureExportsOptions): Promise<ModelArtifacts[]> {
  const out: ModelArtifacts[] = [];
  const codeChangedAt = newestMtime([join(options.projectRoot, 'models')]).mtimeMs;
  for (const model of Object.keys(config.models)) {
    out.push(await ensureModelExport(config, model, options, codeChangedAt));
  }
  return out;
}

async function ensureModelExport(config: OffloadConfig, model: string, options: EnsureExportsOptions, codeChangedAt: number): Promise<ModelArtifacts> {
  const started = performance.now();
  const dir = join(options.exportDir, model);
  const source = modelSource(config, model, options.projectRoot);
  const inputsChangedAt = Math.max(codeChangedAt, source ? newestMtime([source]).mtimeMs : 0);
  const previous = await readManifestFile(dir);
  if (previous) {
    const cuts = configuredCuts(config, model, previous);
    const manifestAt = (await stat(join(dir, MANIFEST_FILE))).mtimeMs;
    const covered = cuts.every((c) => previous.exportedCuts.includes(c));
    if (covered && manifestAt > inputsChangedAt && (await filesIntact(dir, previous))) {
      const cloudProfile = await attachProfile(model, previous, dir);
      return { model, dir, manifest: previous, cuts, export: 'reused', cloudProfile, ms: performance.now() - started };
    }
  }
  return exportOne(config, model, source, previous, options, started);
}

async function attachProfile(model: string, manifest: Manifest, dir: string): Promise<boolean> {
  const { attachCloudProfile } = await import('../models/profile-files');
  return attachCloudProfile(model, manifest.inputShape, dir);
}

async function exportOne(
  config: OffloadConfig,
  model: string,
  source: string | undefined,
  previous: Manifest | undefined,
  options: EnsureExportsOptions,
  started: number,
): Promise<ModelArtifacts> {
  const dir = join(options.exportDir, model);
  const [{ initBackend }, { isZooName, ZOO }, { analyzeModel }, { exportModel }, { resolveModel }] = await Promise.all([
    import('../models/backend'),
    import('../models/zoo'),
    import('../models/graph'),
    import('../models/export'),
    import('../models/load'),
  ]);
  if (source === undefined && !isZooName(model)) {
    throw new NotFoundError(
      `model "${model}" is not a zoo model and config.models.${model} names no folder: add "source": "<folder with model.json>" ` +
        `(e.g. "models": { "${model}": { "source": "my-models/${model}" } })`,
    );
  }
  await initBackend();
  // A reduced-size or reseeded zoo export made by hand keeps its build options.
  const buildOpts = {
    ...(previous?.source?.inputSize === undefined ? {} : { inputSize: previous.source.inputSize }),
    ...(previous?.source?.seed === undefined ? {} : { seed: previous.source.seed }),
  };
  let net;
  if (source !== undefined) {
    try {
      net = (await resolveModel(source)).model;
    } catch (e) {
      throw new OffloadError('invalid-input', `config.models.${model}.source (${relative(options.projectRoot, source) || source}): ${(e as Error).message}`, {
        cause: e,
      });
    }
  } else {
    net = ZOO[model as keyof typeof ZOO].build(buildOpts);
  }
  try {
    const maxCrossing = previous?.maxCrossing ?? 1;
    const analysis = analyzeModel(net, { name: model, maxCrossing });
    const cuts = configuredCuts(config, model, analysis);
    const bad = cuts.filter((c) => !analysis.candidates.some((k) => k.cut === c));
    if (bad.length > 0) {
      throw new OffloadError(
        'invalid-input',
        `config.models.${model}.cuts: ${bad.join(', ')} ${bad.length === 1 ? 'is not a candidate cut' : 'are not candidate cuts'} ` +
          `(candidates: ${analysis.candidates.map((c) => c.cut).join(', ')}; see \`npx offload cuts ${source ?? model}\`)`,
      );
    }
    const keep = previous ? previous.exportedCuts.filter((c) => analysis.candidates.some((k) => k.cut === c)) : [];
    const result = await exportModel(net, options.exportDir, {
      name: model,
      cuts: [...new Set([...keep, ...cuts])],
      maxCrossing,
      source: source !== undefined ? { kind: 'folder' } : { kind: 'zoo', ...buildOpts },
      onPart: (part, done, total) => options.onProgress?.({ phase: 'export', model, part, done, total }),
    });
    if (result.upToDate) {
      // checked against the inputs as they are now: the next run may take the fast path
      const now = new Date();
      await utimes(join(dir, MANIFEST_FILE), now, now);
    }
    const cloudProfile = await attachProfile(model, result.manifest, dir);
    return {
      model,
      dir,
      manifest: result.manifest,
      cuts,
      export: result.upToDate ? 'up-to-date' : 'written',
      cloudProfile,
      ms: performance.now() - started,
    };
  } finally {
    net.dispose();
  }
}
