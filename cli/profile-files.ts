/**
 * Reading the committed profile files (`profiles/<model>.<backend>.json`).
 * The directory is the repository's `profiles/` unless OFFLOAD_PROFILES_DIR
 * names another.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
