/**
 * The deployment a simulation runs against, as `cdk deploy` would build it:
 * the configuration file (cdk/offload.config.json by default, `--config FILE`
 * for another) picks each model's cuts (`"default"`: cdk/cuts.ts's rule,
 * applied to the committed profile's candidates) and sizes each tail;
 * `--cuts`, `--memory-mb`, `--reserved` and `--provisioned` override it for
 * every tail of the simulated models. Per-layer times come from the
 * committed profiles (profiles/<model>.wasm.json), as `offload plan --model`.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { OffloadError } from '../core/errors';
import { predictorFromProfiles } from '../core/profile-scenario';
import type { ColdStartModel } from '../core/presets';
import type { ModelProfile } from '../core/profiles';
import { simDeployment, type ModelDeploymentSpec, type SimDeployment } from '../core/sim/deployment';
import { DEFAULT_ACCOUNT_CONCURRENCY } from '../core/sim/fleet';
import { onHost, type HostModel } from '../core/sim/host';
import { parseWith } from '../core/validation';
import { readJsonFile } from './options';

const projectRoot = fileURLToPath(new URL('../', import.meta.url));

/** What the deployment flags hold. */
export interface DeploymentFlags {
  config?: string;
  cuts?: number[] | 'default';
  memoryMb?: number;
  reserved?: number;
  provisioned?: number;
}

/** `--cuts default|C,C,…`. */
export function cutsArg(value: string): number[] | 'default' {
  if (value.trim() === 'default') return 'default';
  const parts = value.split(',').map((s) => s.trim());
  const bad = parts.find((p) => !/^(0|[1-9][0-9]*)$/.test(p));
  if (bad !== undefined) throw new InvalidArgumentError(`--cuts must be "default" or cut numbers separated by commas (got "${bad}")`);
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

/** The committed profiles and the per-layer predictor fitted on them. */
export async function loadProfilesAndPredictor(): Promise<{ profiles: ModelProfile[]; predictor: ReturnType<typeof predictorFromProfiles> }> {
  const { loadProfiles } = await import('../models/profile-files');
  const profiles = loadProfiles();
  return { profiles, predictor: predictorFromProfiles(profiles) };
}

/** Cut 0 plus the cuts of cdk/cuts.ts's default rule, from a profile (its candidates carry crossing and tail weight bytes). */
export async function defaultCuts(profile: ModelProfile, rule?: { flopsTolerance: number; payloadLimitBytes: number | null }): Promise<number[]> {
  const { selectDefaultCuts, DEFAULT_CUT_RULE } = await import('../cdk/cuts');
  const headFlops: number[] = [0];
  for (const l of profile.layers) headFlops.push(headFlops[headFlops.length - 1]! + l.flops);
  const manifest = {
    layers: profile.layers.map((l) => ({ flops: l.flops })),
    candidates: profile.candidates.map((c) => ({ ...c, headFlops: headFlops[c.cut]! })),
  } as unknown as Parameters<typeof selectDefaultCuts>[0];
  return selectDefaultCuts(manifest, rule ?? DEFAULT_CUT_RULE).cuts;
}

/** Model specs and account quota of the deployment for `models`, from the configuration and the flags. */
export async function deploymentSpecs(
  models: readonly string[],
  profiles: readonly ModelProfile[],
  flags: DeploymentFlags,
): Promise<{ specs: ModelDeploymentSpec[]; accountConcurrency: number; stackName: string; backend: 'wasm' | 'tfjs-node' }> {
  const { OffloadConfigSchema, DEFAULT_CONFIG_FILE } = await import('../cdk/config');
  const file = flags.config ?? resolve(projectRoot, DEFAULT_CONFIG_FILE);
  const config = parseWith(OffloadConfigSchema, readJsonFile(file, 'configuration file'), flags.config ? `--config ${flags.config}` : 'config');
  const specs: ModelDeploymentSpec[] = [];
  for (const model of models) {
    const profile = profiles.find((p) => p.model === model);
    if (!profile) throw new OffloadError('invalid-input', `model: no profile of "${model}" (profiles: ${profiles.map((p) => p.model).join(', ')})`, { field: 'model' });
    const mc = config.models[model] ?? { cuts: 'default' as const };
    const choice = flags.cuts ?? mc.cuts;
    const cuts = choice === 'default' ? await defaultCuts(profile, config.cutRule) : [...new Set([0, ...choice])];
    const candidates = new Set(profile.candidates.map((c) => c.cut));
    const bad = cuts.filter((c) => !candidates.has(c));
    if (bad.length) {
      throw new OffloadError('invalid-input', `cuts: ${bad.join(', ')} ${bad.length === 1 ? 'is not a candidate cut' : 'are not candidate cuts'} of ${model} (see \`offload cuts ${model}\`)`, { field: 'cuts' });
    }
    const base = { ...config.tail, ...(mc.tail ?? {}) };
    const override = {
      ...(flags.memoryMb !== undefined ? { memoryMB: flags.memoryMb } : {}),
      ...(flags.reserved !== undefined ? { reservedConcurrency: flags.reserved } : {}),
      ...(flags.provisioned !== undefined ? { provisionedConcurrency: flags.provisioned } : {}),
    };
    const functions: ModelDeploymentSpec['functions'] = {};
    for (const [cut, f] of Object.entries(mc.functions ?? {})) {
      const settings = { ...f, ...override };
      (functions as Record<number, object>)[Number(cut)] = settings;
    }
    specs.push({
      profile,
      cuts,
      tail: { memoryMB: base.memoryMB, reservedConcurrency: base.reservedConcurrency, provisionedConcurrency: base.provisionedConcurrency, ...override },
      functions,
    });
  }
  return { specs, accountConcurrency: config.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY, stackName: config.stackName, backend: config.backend };
}

/**
 * The simulated deployment for `models` (functions and scenario factory) and the account quota. On a shared `host`
 * (core/sim/host.ts) the tails take this machine's profiled times and the host's lone cold starts; on Lambda, `cold`
 * (default the local calibration) for the fleet and the planner.
 */
export async function buildSimDeployment(
  models: readonly string[],
  flags: DeploymentFlags,
  host?: HostModel,
  cold?: ColdStartModel,
): Promise<SimDeployment & { accountConcurrency: number; specs: ModelDeploymentSpec[] }> {
  const { profiles, predictor } = await loadProfilesAndPredictor();
  const { specs, accountConcurrency, stackName, backend } = await deploymentSpecs(models, profiles, flags);
  const where = host ? onHost(host) : cold ? { cold } : {};
  return { ...simDeployment({ models: specs, predictor, stackName, backend, ...where }), accountConcurrency, specs };
}
