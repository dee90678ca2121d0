/**
 * A simulated deployment from the committed profiles: which tail functions
 * exist (model, cut, memory, reserved and provisioned concurrency), what they
 * truly cost (warm tail time at the memory size, cold start by tail weight),
 * and the planner's scenario for each (model, device class, network) — the
 * same construction as `offload plan --model` (core/profile-scenario.ts).
 *
 * Pure: the caller loads the profiles.
 */
import { ValidationError } from '../errors';
import { coldStartFromWeights } from '../cost';
import { CLOUD_DEFAULTS, NETWORK_PRESETS, isNetworkPresetName, type ColdStartModel } from '../presets';
import { defaultFunctionName } from '../planner';
import { buildScenario } from '../profile-scenario';
import { DEVICE_PROFILES, cloudLayerMs, type ModelProfile } from '../profiles';
import type { Predictor } from '../predictor';
import { parseScenario, type Scenario } from '../scenario';
import { THIS_MACHINE_POWER } from '../this-machine';
import { THIS_MACHINE } from '../workload';
import type { TailFunctionSpec } from './fleet';

/** How one tail function is deployed. */
export interface TailSettings {
  memoryMB: number;
  reservedConcurrency: number | null;
  provisionedConcurrency: number;
}

/** One model's part of a simulated deployment. */
export interface ModelDeploymentSpec {
  profile: ModelProfile;
  /** Cuts that get a tail function (candidates of the profile). */
  cuts: readonly number[];
  /** Settings of every tail, then per cut. The planner's scenario uses the largest memory of the model's tails (as functions/commons/scenario.ts does). */
  tail: TailSettings;
  functions?: Readonly<Record<number, Partial<TailSettings>>>;
  /** True cold start per cut, ms (a calibration); else the weight formula with `cold`. */
  coldStartMs?: Readonly<Record<number, number>>;
  /** True warm tail time per cut, ms (a calibration); else the profile's cloud layer times at `memoryMB` (or this machine's, see `tailTimes`). */
  tailMs?: Readonly<Record<number, number>>;
}

export interface DeploymentInput {
  models: readonly ModelDeploymentSpec[];
  predictor: Predictor;
  /**
   * Cold-start formula (docs/cost-model.md §3), for the fleet's true cold starts and the planner's pricing alike (a
   * deployed planner takes it as COLD_BASE_MS / COLD_MS_PER_MB); default CLOUD_DEFAULTS (the local calibration).
   */
  cold?: ColdStartModel;
  prices?: { requestUSD: number; gbSecondUSD: number };
  /** Names the functions as `cdk deploy` does (core/planner.ts defaultFunctionName); default stack `offload`, backend `wasm`. */
  stackName?: string;
  backend?: 'wasm' | 'tfjs-node';
  /**
   * Where the true warm tail times come from: `cloud` (default), the profile's layer times scaled to a Lambda
   * function of the memory size (core/profiles.ts cloudLayerMs); `this-machine`, the profile's own layer times
   * (measured here, one thread) scaled so that the whole model takes its measured `wholeModelMs` — the lone speed
   * of a tail on this machine, for the shared-host model (./host.ts). The planner's scenario prices the cloud either way.
   */
  tailTimes?: 'cloud' | 'this-machine';
  /** Multiplies `this-machine` tail times (a host's session speed, ./host.ts `computeScale`); default 1. */
  tailScale?: number;
  /** True cold start per model and cut, ms (a host's measured ones, ./host.ts); a model spec's own `coldStartMs` wins, the formula is the fallback. */
  coldStartMs?: Readonly<Record<string, Readonly<Record<number, number>>>>;
  /** True warm tail time per model and cut, ms (a host's measured ones, ./host.ts); a model spec's own `tailMs` wins, the profile is the fallback. */
  tailMs?: Readonly<Record<string, Readonly<Record<number, number>>>>;
}

export interface SimDeployment {
  functions: TailFunctionSpec[];
  scenarioFor: (model: string, deviceClass: string, network: string) => Scenario;
}

/**
 * The functions and the scenario factory of a deployment.
 *
 * @example
 * const { functions, scenarioFor } = simDeployment({ models: [{ profile, cuts: [0, 93], tail: { memoryMB: 1769, reservedConcurrency: 10, provisionedConcurrency: 0 } }], predictor });
 */
export function simDeployment(input: DeploymentInput): SimDeployment {
  const { coldBaseMs, coldMsPerMB } = input.cold ?? CLOUD_DEFAULTS;
  const cold = { coldBaseMs, coldMsPerMB };
  for (const k of ['coldBaseMs', 'coldMsPerMB'] as const) {
    if (!(Number.isFinite(cold[k]) && cold[k] >= 0)) throw new ValidationError(`cold.${k}`, `must be a number >= 0 (got ${cold[k]})`);
  }
  const prices = input.prices ?? { requestUSD: CLOUD_DEFAULTS.requestUSD, gbSecondUSD: CLOUD_DEFAULTS.gbSecondUSD };
  const tailScale = input.tailScale ?? 1;
  if (!(Number.isFinite(tailScale) && tailScale > 0)) throw new ValidationError('tailScale', `must be a number > 0 (got ${tailScale})`);
  if (input.tailScale !== undefined && input.tailTimes !== 'this-machine') throw new ValidationError('tailScale', "applies to tailTimes 'this-machine' only");
  const functions: TailFunctionSpec[] = [];
  const byName = new Map<string, ModelDeploymentSpec>();
  for (const m of input.models) {
    const { profile } = m;
    if (byName.has(profile.model)) throw new ValidationError(`models.${profile.model}`, 'is given twice');
    byName.set(profile.model, m);
    const L = profile.layers.length;
    // A layer alone runs a little slower than inside the whole model (isolationRatio): scale the sum to the whole.
    const wholeScale = profile.sumOfLayersMs > 0 ? profile.wholeModelMs / profile.sumOfLayersMs : 1;
    const suffixAt = (memoryMB: number): Float64Array => {
      const layerMs = input.tailTimes === 'this-machine' ? profile.layers.map((l) => l.ms * wholeScale * tailScale) : cloudLayerMs(profile, memoryMB);
      const suffix = new Float64Array(L + 1);
      for (let l = L - 1; l >= 0; l--) suffix[l] = suffix[l + 1]! + layerMs[l]!;
      return suffix;
    };
    const candidates = new Map(profile.candidates.map((c) => [c.cut, c]));
    for (const cut of [...new Set(m.cuts)].sort((a, b) => a - b)) {
      const cand = candidates.get(cut);
      if (!cand) {
        throw new ValidationError(`models.${profile.model}.cuts`, `${cut} is not a candidate cut (candidates: ${[...candidates.keys()].join(', ')})`);
      }
      const settings = { ...m.tail, ...(m.functions?.[cut] ?? {}) };
      functions.push({
        model: profile.model,
        cut,
        name: defaultFunctionName(profile.model, cut, input.stackName, input.backend),
        memoryMB: settings.memoryMB,
        reservedConcurrency: settings.reservedConcurrency,
        provisionedConcurrency: settings.provisionedConcurrency,
        coldStartMs: m.coldStartMs?.[cut] ?? input.coldStartMs?.[profile.model]?.[cut] ?? coldStartFromWeights(cold.coldBaseMs, cold.coldMsPerMB, cand.tailWeightBytes),
        tailMs: m.tailMs?.[cut] ?? input.tailMs?.[profile.model]?.[cut] ?? suffixAt(settings.memoryMB)[cut]!,
      });
    }
  }
  const memoryOf = new Map<string, number>();
  for (const f of functions) memoryOf.set(f.model, Math.max(memoryOf.get(f.model) ?? 0, f.memoryMB));
  const scenarioFor = (model: string, deviceClass: string, network: string): Scenario => {
    const m = byName.get(model);
    if (!m) throw new ValidationError('model', `unknown model ${JSON.stringify(model)} (deployed: ${[...byName.keys()].join(', ')})`);
    if (!isNetworkPresetName(network)) throw new ValidationError('network', `unknown network ${JSON.stringify(network)}`);
    const net = NETWORK_PRESETS[network];
    const thisMachine = deviceClass === THIS_MACHINE;
    const device = thisMachine ? DEVICE_PROFILES['flagship-phone']! : DEVICE_PROFILES[deviceClass];
    if (!device) throw new ValidationError('class', `unknown device class ${JSON.stringify(deviceClass)}`);
    const raw = buildScenario({
      profile: m.profile,
      predictor: input.predictor,
      device,
      network: net,
      radio: net.radio,
      memoryMB: memoryOf.get(model)!,
      fleet: {},
      cloud: { ...cold, ...prices },
    });
    const scenario = parseScenario(raw, 'scenario');
    if (thisMachine) {
      // This machine's own measured layer times and its assumed power (core/this-machine.ts).
      scenario.model.layers.forEach((l, i) => (l.deviceMs = m.profile.layers[i]!.ms));
      scenario.device.computeW = THIS_MACHINE_POWER.computeW;
      scenario.device.idleW = THIS_MACHINE_POWER.idleW;
    }
    // The planner prices the tails with what the fleet really does (a measured cold start wins over the
    // formula, as in functions/commons/scenario.ts); the warm tail comes from the cloud profile.
    return scenario;
  };
  return { functions, scenarioFor };
}
