/**
 * Reading the committed profile files (`profiles/<model>.<backend>.json`).
 * The directory is the repository's `profiles/` unless OFFLOAD_PROFILES_DIR
 * names another.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError, OffloadError } from '../core/errors';
import { parseModelProfile, profileCommand, type ModelProfile } from '../core/profiles';

/** Env var naming another profiles directory. */
export const PROFILES_DIR_ENV = 'OFFLOAD_PROFILES_DIR';

/** The profiles directory in use. */
export function profilesDir(): string {
  return process.env[PROFILES_DIR_ENV]?.trim() || fileURLToPath(new URL('../profiles/', import.meta.url));
}

function readProfile(path: string): ModelProfile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new OffloadError('invalid-input', `profile ${path} is not readable JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseModelProfile(json, path);
}

/** Every profile of `backend` in the directory, sorted by model name. */
export function loadProfiles(backend = 'wasm', dir = profilesDir()): ModelProfile[] {
  if (!existsSync(dir)) return [];
  const suffix = `.${backend}.json`;
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => readProfile(join(dir, f)));
}

/**
 * The profile of one model.
 * @throws NotFoundError naming the command that makes it and the profiles that exist
 */
export function loadProfile(model: string, backend = 'wasm', dir = profilesDir()): ModelProfile {
  const path = join(dir, `${model}.${backend}.json`);
  if (!existsSync(path)) {
    const have = loadProfiles(backend, dir).map((p) => p.model);
    throw new NotFoundError(
      `no ${backend} profile of "${model}" in ${dir} (have: ${have.length ? have.join(', ') : 'none'}); make it with \`${profileCommand(model, backend)}\``,
    );
  }
  return readProfile(path);
}

/** Where an export keeps the model's cloud profile; the planner function reads `models/<model>/profiles/cloud.json`. */
export const CLOUD_PROFILE_FILE = 'profiles/cloud.json';

/**
 * Puts the committed wasm profile of `model` into its export folder as the
 * cloud profile, so that the planner function prices tails with measured
 * per-layer times rather than times derived from FLOPs. Only a profile taken at
 * the export's input shape fits; otherwise nothing is written (and a stale
 * copy is removed). Returns whether the export now holds one.
 */
export function attachCloudProfile(model: string, inputShape: readonly number[], exportModelDir: string, dir = profilesDir()): boolean {
  const source = join(dir, `${model}.wasm.json`);
  const target = join(exportModelDir, CLOUD_PROFILE_FILE);
  const fits = existsSync(source) && sameShape(readProfile(source).inputShape, inputShape);
  if (!fits) {
    rmSync(target, { force: true });
    return false;
  }
  const text = readFileSync(source, 'utf8');
  if (!existsSync(target) || readFileSync(target, 'utf8') !== text) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  return true;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
