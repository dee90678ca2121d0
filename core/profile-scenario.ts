/**
 * Builds a docs/cost-model.md §7 scenario from profiles: the model's measured profile (this
 * machine, wasm), a device class (scaled by the per-layer predictor), a
 * network, the cloud profile at a Lambda memory size and a fleet state.
 *
 * Pure TypeScript: the caller loads the profile files (models/profile-files.ts).
 */
import * as z from 'zod';
import { NotFoundError } from './errors';
import { fitPredictor, scaleMeasuredMs, type MachineSpeed, type Predictor } from './predictor';
import { CLOUD_DEFAULTS, type CloudDefaults } from './presets';
import { cloudLayerMs, profileCommand, tailWasmThreads, WASM_PARALLEL_FRACTION, type DeviceProfile, type ModelProfile } from './profiles';
import { FunctionStateSchema, type DType, type FunctionState, type Network, type Objective, type Radio, type ScenarioInput } from './scenario';
import { parseWith } from './validation';

/**
 * Fits the per-layer predictor on every layer of the given profiles (all from
 * one machine; its bandwidth is the median of their measurements).
 */
export function predictorFromProfiles(profiles: readonly ModelProfile[]): Predictor {
  if (profiles.length === 0) throw new NotFoundError(`no model profiles to fit the predictor on; make one with \`${profileCommand('mobilenetv2', 'wasm')}\``);
  const bandwidths = profiles.map((p) => p.machine.memGBps).sort((a, b) => a - b);
  return fitPredictor(
    profiles.flatMap((p) => p.layers),
    bandwidths[bandwidths.length >> 1]!,
  );
}

/** Per-layer device times: each measured layer scaled to the device by the predictor (see `scaleMeasuredMs`). */
export function deviceLayerMs(profile: ModelProfile, device: MachineSpeed, predictor: Predictor): number[] {
  return profile.layers.map((l) => scaleMeasuredMs(predictor, l, device));
}

/** A fleet file: cut → function state (docs/cost-model.md §7 `cloud.functions`). */
export const FleetFileSchema = z.record(z.string(), FunctionStateSchema);
export type FleetFile = z.infer<typeof FleetFileSchema>;

/** Parses a fleet file's content; errors name the field. */
export function parseFleet(input: unknown, source = 'fleet'): FleetFile {
  return parseWith(FleetFileSchema, input, source);
}

/** Reserved concurrency given to every function of an all-warm fleet: Lambda's default Region limit. */
export const ALL_WARM_LIMIT = 1000;

/** Every candidate deployed, one idle warm instance each, nothing in flight. */
export function allWarmFleet(candidates: readonly { cut: number }[]): Record<string, FunctionState> {
  const out: Record<string, FunctionState> = {};
  for (const c of candidates) out[String(c.cut)] = { idleWarm: 1, inFlight: 0, limit: ALL_WARM_LIMIT };
  return out;
}

/** Per-layer cloud times from a tail profile of `profile`'s model, on the engine a tail of `memoryMB` runs. */
function threadedCloudMs(profile: ModelProfile, cloudProfile: ModelProfile, memoryMB: number): number[] {
  const same = cloudProfile.model === profile.model && cloudProfile.layers.length === profile.layers.length && cloudProfile.layers.every((l, i) => l.name === profile.layers[i]!.name);
  if (!same) throw new NotFoundError(`the cloud profile of ${cloudProfile.model} does not have the layers of ${profile.model}'s profile`);
  return cloudLayerMs(cloudProfile, memoryMB, {
    threads: { threads: tailWasmThreads(memoryMB), parallelFraction: cloudProfile.parallelFraction ?? WASM_PARALLEL_FRACTION },
    ...(cloudProfile.threads === undefined ? {} : { measuredThreads: cloudProfile.threads }),
  });
}

/** Inputs of {@link buildScenario}. */
export interface BuildScenarioInput {
  /** The model's profile measured here (the backend the tails run: wasm). */
  profile: ModelProfile;
  predictor: Predictor;
  device: DeviceProfile;
  network: Network;
  radio: Radio;
  objective?: Objective;
  dtype?: DType;
  /** Lambda memory of the tails; default CLOUD_DEFAULTS.memoryMB. */
  memoryMB?: number;
  /**
   * The tails' own profile of the same model, when it is not `profile`: e.g. one
   * measured on the threaded engine (`offload profile --threads 2`). Its times
   * are brought to `memoryMB` with the threads a tail of that memory runs
   * (core/profiles.ts `tailWasmThreads`, `cloudLayerMs`), with its measured
   * `parallelFraction` when it has one (else `WASM_PARALLEL_FRACTION`). Default: `profile`,
   * on the spec's single-threaded engine.
   */
  cloudProfile?: ModelProfile;
  /** Fleet state by cut; default {@link allWarmFleet}. */
  fleet?: Record<string, FunctionState>;
  cloud?: Partial<CloudDefaults>;
  constraints?: { maxLatencyMs?: number | null; maxEnergyJ?: number | null; maxCostUSD?: number | null };
  battery?: number;
}

/**
 * The scenario (docs/cost-model.md §7, before parsing) for planning `profile`'s model on
 * `device` over `network`: device times from the predictor, cloud times from
 * the cloud profile at `memoryMB`, crossings and weights from the profile.
 */
export function buildScenario(input: BuildScenarioInput): ScenarioInput {
  const { profile } = input;
  const cloud = { ...CLOUD_DEFAULTS, ...input.cloud, ...(input.memoryMB !== undefined ? { memoryMB: input.memoryMB } : {}) };
  const deviceMs = deviceLayerMs(profile, input.device, input.predictor);
  const cloudMs = input.cloudProfile ? threadedCloudMs(profile, input.cloudProfile, cloud.memoryMB) : cloudLayerMs(profile, cloud.memoryMB);
  return {
    model: {
      name: profile.model,
      inputBytes: profile.inputBytes,
      outputBytes: profile.outputBytes,
      layers: profile.layers.map((l, i) => ({
        name: l.name,
        deviceMs: deviceMs[i]!,
        cloudMs: cloudMs[i]!,
        outputBytes: l.outputBytes,
        weightBytes: l.weightBytes,
      })),
      candidates: profile.candidates.map((c) => ({ cut: c.cut, crossingBytes: c.crossingBytes })),
    },
    network: { uplinkMbps: input.network.uplinkMbps, downlinkMbps: input.network.downlinkMbps, rttMs: input.network.rttMs },
    device: { computeW: input.device.computeW, idleW: input.device.idleW, radio: { ...input.radio } },
    cloud: {
      memoryMB: cloud.memoryMB,
      coldBaseMs: cloud.coldBaseMs,
      coldMsPerMB: cloud.coldMsPerMB,
      requestUSD: cloud.requestUSD,
      gbSecondUSD: cloud.gbSecondUSD,
      functions: input.fleet ?? allWarmFleet(profile.candidates),
    },
    encoding: { dtype: input.dtype ?? 'float32' },
    constraints: {
      maxLatencyMs: input.constraints?.maxLatencyMs ?? null,
      maxEnergyJ: input.constraints?.maxEnergyJ ?? null,
      maxCostUSD: input.constraints?.maxCostUSD ?? null,
    },
    objective: input.objective ?? 'latency',
    ...(input.battery !== undefined ? { battery: { level: input.battery } } : {}),
  };
}
