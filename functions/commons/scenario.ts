/**
 * Assembles the spec §7 scenario for one `POST /plan` from: the model's export
 * manifest, the device's figures, the measured network, the deployed tail
 * functions, the live fleet, and cloud per-layer times.
 *
 * Per-layer times when no measured profile is given are DERIVED from each
 * layer's multiply-adds at an assumed throughput (see {@link CLOUD_GMAC_PER_VCPU}
 * and {@link DEVICE_GMAC_PER_SECOND}); measured profiles win as soon as they exist.
 */
import { ValidationError, NotFoundError } from '../../core/errors';
import { CLOUD_DEFAULTS, DEVICE_CLASSES, NETWORK_PRESETS } from '../../core/presets';
import { parseScenario, type Scenario, type ScenarioInput } from '../../core/scenario';
import type { Manifest } from '../../core/manifest';
import type { PlanRequest } from './plan-request';
import type { DeployedFunction } from './deployment';
import type { FunctionFleet } from './registry';

/**
 * Assumed warm throughput of a tail function with one full vCPU (1,769 MB):
 * 8 billion multiply-adds per second. Measured here with the tfjs wasm
 * backend (one thread, SIMD): ResNet-50 ran at ~10 GMAC/s, MobileNetV2 at
 * ~3-10 (depthwise layers use the CPU less well) on a shared 2-core machine;
 * 8 is a round figure between. Below 1,769 MB the time scales with the vCPU
 * share; above it nothing is gained (wasm runs one thread under Node).
 */
export const CLOUD_GMAC_PER_VCPU = 8;
/** Fixed cost per layer (kernel dispatch, allocation) added to every derived layer time, ms. */
export const LAYER_OVERHEAD_MS = 0.05;
/** Memory that buys one full vCPU on Lambda (AWS documentation). */
export const MB_PER_VCPU = 1769;

/**
 * Assumed device throughput per built-in class, billions of multiply-adds
 * per second, for deriving per-layer device times from FLOPs when the request
 * gives no `deviceMs`. ASSUMPTIONS, not measurements: orders of magnitude for
 * CPU inference on such devices; send measured `deviceMs` for real plans.
 */
export const DEVICE_GMAC_PER_SECOND: Readonly<Record<string, number>> = Object.freeze({
  'low-end-phone': 1,
  'flagship-phone': 5,
  'jetson-nano': 10,
});

/** Per-layer cloud times measured for the model (e.g. a cloud profile in the export), aligned with the manifest's layers. */
export interface CloudProfile {
  memoryMB: number;
  layerMs: number[];
}

/** Derived time of `macs` multiply-adds at `gmacPerSecond`, plus the per-layer overhead. */
export function derivedLayerMs(macs: number, gmacPerSecond: number): number {
  return (macs / (gmacPerSecond * 1e9)) * 1000 + LAYER_OVERHEAD_MS;
}

/** Cloud per-layer times at `memoryMB`: the measured profile scaled by vCPU share, else derived. */
export function cloudLayerMs(manifest: Manifest, memoryMB: number, profile?: CloudProfile): number[] {
  const share = (mb: number) => Math.min(1, mb / MB_PER_VCPU);
  if (profile && profile.layerMs.length === manifest.layers.length) {
    const scale = share(profile.memoryMB) / share(memoryMB);
    return profile.layerMs.map((ms) => ms * scale);
  }
  const gmacs = CLOUD_GMAC_PER_VCPU * share(memoryMB);
  return manifest.layers.map((l) => derivedLayerMs(l.flops, gmacs));
}

function deviceFigures(request: PlanRequest, manifest: Manifest): { computeW: number; idleW: number; layerMs: number[] } {
  const d = typeof request.device === 'string' ? { class: request.device } : request.device;
  const known = Object.keys(DEVICE_CLASSES).join(', ');
  const cls = d.class === undefined ? undefined : DEVICE_CLASSES[d.class];
  if (d.class !== undefined && !cls) {
    throw new ValidationError(typeof request.device === 'string' ? 'device' : 'device.class', `unknown device class "${d.class}" (one of ${known})`);
  }
  const computeW = 'computeW' in d && d.computeW !== undefined ? d.computeW : (cls?.computeW as number);
  const idleW = 'idleW' in d && d.idleW !== undefined ? d.idleW : (cls?.idleW as number);
  const L = manifest.layers.length;
  if ('deviceMs' in d && d.deviceMs !== undefined) {
    if (d.deviceMs.length !== L) {
      throw new ValidationError('device.deviceMs', `has ${d.deviceMs.length} entries; model "${manifest.model}" has ${L} layers`);
    }
    return { computeW, idleW, layerMs: d.deviceMs };
  }
  const gmacs = ('gmacPerSecond' in d ? d.gmacPerSecond : undefined) ?? (d.class ? DEVICE_GMAC_PER_SECOND[d.class] : undefined);
  if (gmacs === undefined) {
    throw new ValidationError('device', 'give deviceMs (one per layer), gmacPerSecond, or a built-in device class');
  }
  return { computeW, idleW, layerMs: manifest.layers.map((l) => derivedLayerMs(l.flops, gmacs)) };
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
 * plans must rule such cuts out (spec §4 `payload`).
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
  // One memory size per scenario (spec §2): the largest among the model's functions,
  // so cost is never under-predicted when sizes differ.
  const memoryMB = Math.max(...deployedCuts.map((k) => (deployed[k] as DeployedFunction).memoryMB));
  const cloudMs = cloudLayerMs(manifest, memoryMB, input.cloudProfile);
  const device = deviceFigures(request, manifest);
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
