/**
 * Assembles the docs/cost-model.md §7 scenario for one `POST /plan` from: the model's export
 * manifest, the device's figures, the measured network, the deployed tail
 * functions, the live fleet, and per-layer times.
 *
 * Per-layer times, best source first:
 * - device: the request's `deviceMs`; else the model's measured profile
 *   (`offload profile`, uploaded beside the export) scaled to the device by the
 *   per-layer predictor (core/predictor.ts), as `offload plan --model` does;
 *   else the layers' multiply-adds at the device's `gmacPerSecond`.
 * - cloud: a measured profile scaled by vCPU share (core/profiles.ts
 *   `cloudLayerMs`); else multiply-adds at core/profiles.ts `CLOUD_GMAC_PER_VCPU`
 *   (`derivedCloudLayerMs`).
 */
import { ValidationError, NotFoundError } from '../../core/errors';
import { CLOUD_DEFAULTS, NETWORK_PRESETS } from '../../core/presets';
import {
  cloudLayerMs,
  derivedCloudLayerMs,
  derivedLayerMs,
  DEVICE_PROFILE_NAMES,
  DEVICE_PROFILES,
  tailWasmThreads,
  WASM_PARALLEL_FRACTION,
  type ModelProfile,
} from '../../core/profiles';
import { deviceLayerMs } from '../../core/profile-scenario';
import type { Predictor } from '../../core/predictor';
import { ownValue } from '../../core/validation';
import { parseScenario, type Scenario, type ScenarioInput } from '../../core/scenario';
import type { Manifest } from '../../core/manifest';
import type { PlanRequest } from '../../core/api';
import type { DeployedFunction } from './deployment';
import type { FunctionFleet } from './registry';

/**
 * A model's measured per-layer times (aligned with the manifest's layers),
 * measured with `memoryMB` worth of CPU (one core = 1,769 MB).
 */
export interface CloudProfile {
  memoryMB: number;
  /** Threads of the wasm engine that measured it (`offload profile --threads N`); absent: 1. */
  threads?: number;
  /** The model's measured parallel fraction on the threaded engine; absent: `WASM_PARALLEL_FRACTION`. */
  parallelFraction?: number;
  layerMs: number[];
  /** The full `offload profile` file and a predictor fitted on it, when the profile is one: device times then scale from it. */
  measured?: { profile: ModelProfile; predictor: Predictor };
}

/**
 * Cloud per-layer times at `memoryMB` with the engine's threads (issue 11): the measured profile
 * (or FLOPs at the derived rate) scaled by `cloudTimeFactor` — the vCPU share, and Amdahl's law over
 * the threads with the profile's measured `parallelFraction`, else `WASM_PARALLEL_FRACTION`. One
 * thread is the spec's single-threaded engine.
 */
function tailLayerMs(manifest: Manifest, memoryMB: number, threads: number, profile?: CloudProfile): number[] {
  const measured = profile && profile.layerMs.length === manifest.layers.length ? profile.parallelFraction : undefined;
  const scaling = { threads, parallelFraction: measured ?? WASM_PARALLEL_FRACTION };
  if (profile && profile.layerMs.length === manifest.layers.length) {
    return cloudLayerMs({ layers: profile.layerMs.map((ms) => ({ ms })) }, memoryMB, {
      measuredAtMB: profile.memoryMB,
      threads: scaling,
      ...(profile.threads === undefined ? {} : { measuredThreads: profile.threads }),
    });
  }
  return derivedCloudLayerMs(manifest.layers, memoryMB, scaling);
}

function deviceFigures(request: PlanRequest, manifest: Manifest, profile?: CloudProfile): { computeW: number; idleW: number; layerMs: number[] } {
  const d = typeof request.device === 'string' ? { class: request.device } : request.device;
  const cls = d.class === undefined ? undefined : ownValue(DEVICE_PROFILES, d.class);
  if (d.class !== undefined && !cls) {
    throw new ValidationError(
      typeof request.device === 'string' ? 'device' : 'device.class',
      `unknown device class "${d.class}" (one of ${DEVICE_PROFILE_NAMES.join(', ')})`,
    );
  }
  const inline = typeof request.device === 'string' ? {} : request.device;
  const computeW = inline.computeW ?? (cls?.computeW as number);
  const idleW = inline.idleW ?? (cls?.idleW as number);
  const L = manifest.layers.length;
  if (inline.deviceMs !== undefined) {
    if (inline.deviceMs.length !== L) {
      throw new ValidationError('device.deviceMs', `has ${inline.deviceMs.length} entries; model "${manifest.model}" has ${L} layers`);
    }
    return { computeW, idleW, layerMs: inline.deviceMs };
  }
  const gmacPerSecond = inline.gmacPerSecond ?? cls?.gmacPerSecond;
  if (gmacPerSecond === undefined) {
    throw new ValidationError('device', 'give deviceMs (one per layer), gmacPerSecond, or a built-in device class');
  }
  if (profile?.measured && profile.layerMs.length === L) {
    const { predictor } = profile.measured;
    // Without a bandwidth figure, memory-bound work is assumed to scale like compute.
    const memGBps = inline.memGBps ?? cls?.memGBps ?? (predictor.host.memGBps * gmacPerSecond) / predictor.host.gmacPerSecond;
    const speed = { ...(cls ?? {}), gmacPerSecond, memGBps };
    return { computeW, idleW, layerMs: deviceLayerMs(profile.measured.profile, speed, predictor) };
  }
  return { computeW, idleW, layerMs: manifest.layers.map((l) => derivedLayerMs(l.flops, gmacPerSecond)) };
}

function networkFigures(request: PlanRequest): ScenarioInput['network'] & { radio: ScenarioInput['device']['radio'] } {
  if (typeof request.network === 'string') {
    const p = NETWORK_PRESETS[request.network];
    return { uplinkMbps: p.uplinkMbps, downlinkMbps: p.downlinkMbps, rttMs: p.rttMs, radio: { ...p.radio } };
  }
  const n = request.network;
  const radio = n.radio ?? NETWORK_PRESETS[n.technology ?? '4g'].radio;
  return { uplinkMbps: n.uplinkMbps, downlinkMbps: n.downlinkMbps, rttMs: n.rttMs, radio: { ...radio } };
}

export interface AssembleInput {
  request: PlanRequest;
  manifest: Manifest;
  /** The model's deployed functions, keyed by cut. */
  deployed: Readonly<Record<string, DeployedFunction>>;
  /** Live fleet per cut (after the reservation ledger). Cuts absent here have no live instance. */
  fleet: ReadonlyMap<number, FunctionFleet>;
  cloudProfile?: CloudProfile;
  maxPayloadBytes: number;
  coldBaseMs?: number;
  coldMsPerMB?: number;
}

/**
 * The scenario for one plan, parsed and validated by core's ScenarioSchema.
 * `limits.staging` is false: the tails answer 413 above the direct limit, so
 * plans must rule such cuts out (docs/cost-model.md §4 `payload`).
 *
 * @throws NotFoundError when no function of the model is deployed at any candidate cut
 */
export function assembleScenario(input: AssembleInput): Scenario {
  const { request, manifest, deployed, fleet } = input;
  const candidateCuts = new Set(manifest.candidates.map((c) => c.cut));
  const deployedCuts = Object.keys(deployed).filter((k) => candidateCuts.has(Number(k)));
  if (deployedCuts.length === 0) {
    throw new NotFoundError(`model "${manifest.model}" has no deployed tail function at a candidate cut`);
  }
  // One memory size per scenario (docs/cost-model.md §2): the largest among the model's functions,
  // so cost is never under-predicted when sizes differ.
  const memoryMB = Math.max(...deployedCuts.map((k) => (deployed[k] as DeployedFunction).memoryMB));
  // The threads of that function's engine: pinned in the catalog, else the cores its memory size sees.
  const largest = deployedCuts.map((k) => deployed[k] as DeployedFunction).find((f) => f.memoryMB === memoryMB) as DeployedFunction;
  const threads = tailWasmThreads(memoryMB, largest.wasmThreads);
  const cloudMs = tailLayerMs(manifest, memoryMB, threads, input.cloudProfile);
  const device = deviceFigures(request, manifest, input.cloudProfile);
  const network = networkFigures(request);
  const functions: NonNullable<ScenarioInput['cloud']>['functions'] = {};
  for (const key of deployedCuts) {
    const fn = deployed[key] as DeployedFunction;
    const live = fleet.get(Number(key));
    const inFlight = live?.inFlight ?? 0;
    functions[key] = {
      // Provisioned instances stay initialised whether or not the registry has seen them lately.
      idleWarm: Math.max(live?.idleWarm ?? 0, fn.provisionedConcurrency - inFlight),
      inFlight,
      limit: fn.reservedConcurrency,
      name: fn.name,
      // A configured value wins over the registry's measurement, which wins over the weight formula.
      ...((fn.coldStartMs ?? live?.coldStartMs) === undefined ? {} : { coldStartMs: fn.coldStartMs ?? live?.coldStartMs }),
    };
  }
  const constraints = {
    maxLatencyMs: request.constraints?.maxLatencyMs ?? null,
    maxEnergyJ: request.energyBudgetJ ?? request.constraints?.maxEnergyJ ?? null,
    maxCostUSD: request.constraints?.maxCostUSD ?? null,
  };
  const scenario: ScenarioInput = {
    model: {
      name: manifest.model,
      inputBytes: manifest.inputBytes,
      outputBytes: manifest.outputBytes,
      layers: manifest.layers.map((l, i) => ({
        name: l.name,
        deviceMs: device.layerMs[i] as number,
        cloudMs: cloudMs[i] as number,
        outputBytes: l.outputBytes,
        weightBytes: l.weightBytes,
      })),
      candidates: manifest.candidates.map((c) => ({ cut: c.cut, crossingBytes: c.crossingBytes })),
    },
    network: { uplinkMbps: network.uplinkMbps, downlinkMbps: network.downlinkMbps, rttMs: network.rttMs },
    device: { computeW: device.computeW, idleW: device.idleW, radio: network.radio },
    cloud: {
      memoryMB,
      coldBaseMs: input.coldBaseMs ?? CLOUD_DEFAULTS.coldBaseMs,
      coldMsPerMB: input.coldMsPerMB ?? CLOUD_DEFAULTS.coldMsPerMB,
      requestUSD: CLOUD_DEFAULTS.requestUSD,
      gbSecondUSD: CLOUD_DEFAULTS.gbSecondUSD,
      functions,
    },
    encoding: { dtype: request.dtype },
    constraints,
    limits: { payloadBytes: input.maxPayloadBytes, base64: true, staging: false },
    objective: request.objective,
    ...(request.battery ? { battery: request.battery } : {}),
  };
  return parseScenario(scenario, 'scenario');
}
