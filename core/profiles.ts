/**
 * Profiles: what a model's layers cost on a machine, the built-in device
 * classes, and the cloud profile (tail layer times at a Lambda memory size).
 *
 * Pure TypeScript (no tfjs): `models/profile.ts` measures and writes the
 * profile files; the planner, the CLI, the seed experiment and the Lambda
 * planner function read them through this module.
 *
 * Where every number comes from is written next to it and in `docs/profiles.md`.
 */
import * as z from 'zod';
import { NotFoundError, ValidationError } from './errors';
import { ownValue, parseWith } from './validation';
import { lambdaVisibleCores, MB_PER_VCPU } from './lambda-cores';

// ---------------------------------------------------------------------------
// Model profile files (`profiles/<model>.<backend>.json`)

/** Version of the profile file format; bumped when a field changes meaning. */
export const PROFILE_FORMAT = 1;

const finiteNonNegative = () => z.number().min(0, 'must be >= 0');
const positiveNumber = () => z.number().gt(0, 'must be > 0');
const count = () => z.number().int('must be an integer').min(0, 'must be >= 0');

/** One layer measured in isolation on its real input shape. */
export const LayerProfileSchema = z.object({
  /** Position in the model's topological order (models/graph.ts; InputLayers excluded). */
  index: count(),
  name: z.string().min(1),
  className: z.string().min(1),
  /** The time the planner uses: `cpuMs` or `wallMs` as the profile's `clock` says, ms. */
  ms: finiteNonNegative(),
  /** Median over the repeats of the elapsed time of one call of the layer on a batch of one, ms. */
  wallMs: finiteNonNegative(),
  /** Median over the repeats of this process's CPU time during that call, ms. */
  cpuMs: finiteNonNegative(),
  /** Multiply-adds counted once (models/flops.ts). */
  flops: finiteNonNegative(),
  /** Σ float32 bytes of the layer's inputs for one sample. */
  inputBytes: count(),
  /** float32 bytes of its output for one sample. */
  outputBytes: count(),
  /** Bytes of all its weights. */
  weightBytes: count(),
  /** Kernel or pool window (height, width) when the layer has one: 1×1 and 3×3 convolutions use the CPU differently. */
  kernel: z.array(count()).optional(),
  /** The layer's activation function when its config has one ('relu', 'relu6', …; fused or an Activation layer). */
  activation: z.string().optional(),
  /** The layers folded into this convolution (models/fuse.ts): `ms` is the one fused kernel's time, theirs included. */
  fusedWith: z.array(z.string().min(1)).optional(),
  /** The convolution this layer was folded into: its time is in that layer's `ms`, this one's is 0. */
  foldedInto: z.string().min(1).optional(),
  /** Input shapes without the batch dimension. */
  inputShapes: z.array(z.array(count())),
  outputShape: z.array(count()),
});
export type LayerProfile = z.infer<typeof LayerProfileSchema>;

/** Which clock a profile's `ms` figures come from. */
export type Clock = 'wall' | 'cpu';

/** Where a profile was measured. */
export const MachineSchema = z.object({
  cpuModel: z.string(),
  /** Logical cores the OS shows (the wasm backend uses one under Node). */
  cores: count(),
  platform: z.string(),
  node: z.string(),
  tfjs: z.string(),
  /** 1-minute load average when the measurement started: a shared machine makes every figure slower. */
  loadAverage: finiteNonNegative(),
  /** Measured copy bandwidth of one core (bytes read + bytes written per second / 1e9), GB/s. */
  memGBps: positiveNumber(),
});
export type Machine = z.infer<typeof MachineSchema>;

/** A model profile file: per-layer times in isolation plus the whole model's time, on one machine and backend. */
export const ModelProfileSchema = z.object({
  format: z.literal(PROFILE_FORMAT),
  model: z.string().min(1),
  backend: z.enum(['tensorflow', 'wasm', 'cpu']),
  machine: MachineSchema,
  /** ISO 8601 time of the measurement. */
  date: z.string().min(1),
  /** HWC, no batch dimension. */
  inputShape: z.array(count()),
  /** Bytes of the raw input (what cut 0 sends) and of the final output (what every cloud cut downloads), float32. */
  inputBytes: count(),
  outputBytes: count(),
  /**
   * Candidate cuts from models/graph.ts `analyzeModel` (default maxCrossing 1)
   * with their float32 crossing bytes and tail weight bytes: with these the
   * planner builds a scenario from the profile alone, without building the model.
   */
  candidates: z.array(z.object({ cut: count(), crossingBytes: count(), tailWeightBytes: count() })),
  repeats: count().min(1, 'must be >= 1'),
  warmup: count(),
  /** Which clock `ms` and `wholeModelMs` report (see models/profile.ts `defaultClock`). */
  clock: z.enum(['wall', 'cpu']),
  /** Threads of the wasm engine that measured it (`offload profile --threads N`, wall clock); absent: 1. */
  threads: count().min(1, 'must be >= 1').optional(),
  /** Batch norm and relu were folded into the convolutions, as heads and tails run them (models/fuse.ts); absent: every layer ran alone. */
  fused: z.boolean().optional(),
  /**
   * This model's measured share of the one-thread time that runs in parallel on
   * the threaded wasm engine (Amdahl over whole-model times, see
   * {@link measuredParallelFraction}); the planner prices the tail's threads
   * with it. Absent: {@link WASM_PARALLEL_FRACTION}.
   */
  parallelFraction: z.number().min(0).max(1).optional(),
  /** The two whole-model wall times `parallelFraction` comes from. */
  parallelFractionFrom: z
    .object({ threads: count().min(2, 'must be >= 2'), oneThreadMs: positiveNumber(), threadedMs: positiveNumber(), loadAverages: z.array(finiteNonNegative()) })
    .optional(),
  layers: z.array(LayerProfileSchema).min(1, 'must have at least one layer'),
  /** One `predict` of the whole model on the profile's clock, ms. */
  wholeModelMs: finiteNonNegative(),
  /** Median elapsed time of one `predict`, ms. */
  wholeModelWallMs: finiteNonNegative(),
  /** Median CPU time of one `predict`, ms. */
  wholeModelCpuMs: finiteNonNegative(),
  /** Σ layers[].ms. */
  sumOfLayersMs: finiteNonNegative(),
  /** sumOfLayersMs / wholeModelMs: how far isolated layer times over- (> 1) or under-state the model run. */
  isolationRatio: finiteNonNegative(),
});
export type ModelProfile = z.infer<typeof ModelProfileSchema>;

/**
 * Parses a profile file's content; a bad field throws a ValidationError
 * whose message starts with `source` and the field path.
 */
export function parseModelProfile(input: unknown, source = 'profile'): ModelProfile {
  const profile = parseWith(ModelProfileSchema, input, source);
  profile.layers.forEach((l, i) => {
    if (l.index !== i) throw new ValidationError(`${source}.layers[${i}].index`, `must be ${i} (layers are in topological order)`);
  });
  profile.candidates.forEach((c, i) => {
    if (c.cut >= profile.layers.length) {
      throw new ValidationError(`${source}.candidates[${i}].cut`, `out of range 0..${profile.layers.length - 1}`);
    }
  });
  return profile;
}

/** Default file of a model's profile, relative to the repository root. */
export function profilePath(model: string, backend: string): string {
  return `profiles/${model}.${backend}.json`;
}

/**
 * The command that makes a missing profile: used in the error messages of
 * everything that reads profiles.
 */
export function profileCommand(model: string, backend: string): string {
  return `offload profile ${model} --backend ${backend}`;
}

// ---------------------------------------------------------------------------
// Device classes

/**
 * A device described by a few numbers: the predictor turns this machine's
 * measured per-layer times into the device's from them (`core/predictor.ts`).
 */
export const DeviceProfileSchema = z.object({
  name: z.string().min(1),
  description: z.string().default(''),
  /**
   * Effective dense-convolution throughput, billions of multiply-adds per
   * second: the MACs of a convolution-dominated reference network divided by
   * its published single-image latency on the device (not the chip's peak).
   * A GFLOP/s figure is twice this.
   */
  gmacPerSecond: positiveNumber(),
  /** Memory bandwidth available to inference, GB/s. */
  memGBps: positiveNumber(),
  /** Per-layer runtime overhead (operator dispatch), ms. */
  overheadMs: finiteNonNegative().default(0.01),
  /**
   * The device's runtime folds batch norm into convolutions and fuses
   * activations and padding (TFLite with XNNPACK does): those layers cost 0
   * there (core/predictor.ts FUSED_GROUPS). Default true.
   */
  fusesElementwise: z.boolean().default(true),
  /** Power while computing, W. */
  computeW: finiteNonNegative(),
  /** Power while waiting on the radio, W. */
  idleW: finiteNonNegative(),
  /** The published latency `gmacPerSecond` comes from: network, its MACs (billions), ms. */
  reference: z.object({ model: z.string().min(1), gmac: positiveNumber(), ms: positiveNumber() }).optional(),
  /** A second published latency on the same device, used only to check the predictor (docs/profiles.md). */
  validation: z.object({ model: z.string().min(1), ms: positiveNumber() }).optional(),
  /** Where each number comes from. */
  sources: z.record(z.string(), z.string()).default({}),
});
export type DeviceProfile = z.infer<typeof DeviceProfileSchema>;
export type DeviceProfileInput = z.input<typeof DeviceProfileSchema>;

/** Parses a device profile (e.g. from `--device FILE`); errors name the field. */
export function parseDeviceProfile(input: unknown, source = 'device'): DeviceProfile {
  return parseWith(DeviceProfileSchema, input, source);
}

/** Published MACs of MobileNet v1 1.0/224, billions (Howard et al. 2017; tensorflow/models research/slim/nets/mobilenet_v1.md). 95% of them are in 1×1 convolutions. */
const MOBILENETV1_GMAC = 0.569;

const XNNPACK_README =
  'google/XNNPACK README, "Performance" tables (end2end_bench, FP32, randomized weights; phones benchmarked 27 Mar 2020, Raspberry Pi 12 Feb 2020)';
/** No reference fact gives device power: every computeW / idleW below is an assumed round figure. */
const POWER_ASSUMED = 'ASSUMED round figures (no reference fact gives device power)';
const NATIVE_OVERHEAD = 'ESTIMATE: a native runtime (TFLite/XNNPACK) dispatches an operator in microseconds; 10 µs per layer assumed';

/**
 * The built-in device classes. Speed: MobileNet v1's published 569 M MACs
 * (almost all in 1×1 convolutions) over its published latency with XNNPACK —
 * the operator library the tfjs wasm backend here runs too. MobileNetV2's
 * latency on the same device is kept as `validation`: the predictor never
 * sees it, docs/profiles.md compares against it. Power (`computeW`, `idleW`,
 * also the planner's core/presets.ts DEVICE_CLASSES): assumed. Bandwidth: sustained figures ESTIMATED at about half of the
 * memory's peak specification (a copy loop rarely gets more).
 */
export const DEVICE_PROFILES: Readonly<Record<string, DeviceProfile>> = Object.freeze({
  'low-end-phone': {
    name: 'low-end-phone',
    description: 'an entry-level Android phone (4 little cores)',
    gmacPerSecond: MOBILENETV1_GMAC / 0.115,
    memGBps: 3.5,
    overheadMs: 0.01,
    fusesElementwise: true,
    computeW: 2,
    idleW: 0.3,
    reference: { model: 'mobilenet_v1', gmac: MOBILENETV1_GMAC, ms: 115 },
    validation: { model: 'mobilenetv2', ms: 79 },
    sources: {
      gmacPerSecond: `${XNNPACK_README}: Raspberry Pi 3+ (BCM2837B0, 4× Cortex-A53 at 1.4 GHz, the cores of entry-level phones), multi-threaded: MobileNet v1 115 ms, v2 79 ms. A PROXY for an entry-level phone`,
      memGBps: 'ESTIMATE: about half of a single-channel LPDDR3-1866 peak (7.5 GB/s)',
      overheadMs: NATIVE_OVERHEAD,
      power: POWER_ASSUMED,
    },
  },
  'flagship-phone': {
    name: 'flagship-phone',
    description: 'a current flagship phone (big cores busy)',
    gmacPerSecond: MOBILENETV1_GMAC / 0.027,
    memGBps: 15,
    overheadMs: 0.01,
    fusesElementwise: true,
    computeW: 3.5,
    idleW: 0.5,
    reference: { model: 'mobilenet_v1', gmac: MOBILENETV1_GMAC, ms: 27 },
    validation: { model: 'mobilenetv2', ms: 18 },
    sources: {
      gmacPerSecond: `${XNNPACK_README}: Pixel 2 (Snapdragon 835), multi-threaded over the big cores: MobileNet v1 27 ms, v2 18 ms. A 2017 flagship; current ones are faster (not sourced here)`,
      memGBps: 'ESTIMATE: about half of the Snapdragon 835 LPDDR4X peak (29.8 GB/s, vendor specification as commonly listed; unconfirmed)',
      overheadMs: NATIVE_OVERHEAD,
      power: `${POWER_ASSUMED}; the values of the cost-model spec example`,
    },
  },
  'jetson-nano': {
    name: 'jetson-nano',
    description: 'a Jetson Nano–class edge board in its 10 W mode; CPU path (4× Cortex-A57), not the GPU',
    gmacPerSecond: MOBILENETV1_GMAC / (0.075 * 1.3),
    memGBps: 12.8,
    overheadMs: 0.01,
    fusesElementwise: true,
    computeW: 10,
    idleW: 1.5,
    reference: { model: 'mobilenet_v1', gmac: MOBILENETV1_GMAC, ms: 75 * 1.3 },
    validation: { model: 'mobilenetv2', ms: 44 * 1.3 },
    sources: {
      gmacPerSecond:
        `ESTIMATE: ${XNNPACK_README} gives Raspberry Pi 4 (4× Cortex-A72 at 1.5 GHz), multi-threaded: MobileNet v1 75 ms, v2 44 ms; ` +
        'the Jetson Nano\'s 4× Cortex-A57 at 1.43 GHz is taken as 1.3× slower (an assumed per-clock gap between A57 and A72). ' +
        'Its 128-core Maxwell GPU with TensorRT is several times faster and is not modelled',
      memGBps: 'ESTIMATE: half of the 64-bit LPDDR4 peak of 25.6 GB/s (Jetson Nano specification)',
      overheadMs: NATIVE_OVERHEAD,
      power: `${POWER_ASSUMED}; 10 W is the module's higher power mode (5 W / 10 W modes), unconfirmed`,
    },
  },
});

/** Names of the built-in device classes. */
export const DEVICE_PROFILE_NAMES: readonly string[] = Object.keys(DEVICE_PROFILES);

/** A built-in device class by name; NotFoundError listing the names otherwise. */
export function deviceProfile(name: string): DeviceProfile {
  const found = ownValue(DEVICE_PROFILES, name);
  if (!found) {
    throw new NotFoundError(`unknown device profile "${name}" (built-in: ${DEVICE_PROFILE_NAMES.join(', ')}; or give a JSON file)`);
  }
  return found;
}

// ---------------------------------------------------------------------------
// Cloud profile

// the tail's engine reads these at its cold start: they live apart, free of zod (./lambda-cores.ts)
export { lambdaVisibleCores, MAX_WASM_THREADS, MB_PER_VCPU, tailWasmThreads } from './lambda-cores';

/** Share of one vCPU that `memoryMB` buys, capped at 1: what one engine thread can use (more threads are priced by {@link cloudTimeFactor}). */
export function vcpuShare(memoryMB: number): number {
  if (!(memoryMB > 0) || !Number.isFinite(memoryMB)) throw new ValidationError('memoryMB', `must be a positive number (got ${memoryMB})`);
  return Math.min(1, memoryMB / MB_PER_VCPU);
}

/**
 * How a tail's inference time scales with the threads of the wasm engine:
 * Amdahl's law, a share `parallelFraction` of the single-thread time divides
 * among the threads, the rest runs on one.
 */
export interface ThreadScaling {
  /** Threads the engine runs (the tail uses the cores its memory size sees: {@link lambdaVisibleCores}). */
  threads: number;
  /** Share of the single-thread time that runs in parallel, 0–1. */
  parallelFraction: number;
}

/**
 * The parallel fraction implied by a measured speed-up at `threads` threads on
 * as many full cores (Amdahl: ratio = 1 / ((1 − p) + p / threads)).
 *
 * @example
 * parallelFractionFromRatio(1.6, 2) // 0.75
 */
export function parallelFractionFromRatio(ratio: number, threads = 2): number {
  if (!(ratio > 0) || !Number.isFinite(ratio)) throw new ValidationError('ratio', `must be a positive number (got ${ratio})`);
  if (!(Number.isInteger(threads) && threads >= 2)) throw new ValidationError('threads', `must be an integer ≥ 2 (got ${threads})`);
  return Math.min(1, Math.max(0, (1 - 1 / ratio) / (1 - 1 / threads)));
}

/**
 * A model's parallel fraction from two profiles of it on the wasm engine, one
 * on one thread and one on n > 1 threads (either order): Amdahl over their
 * whole-model WALL times (what a caller waits; a one-thread profile's CPU
 * clock would hide time the process waited for the core). Both must measure
 * the same model the same way (same layers, input shape, fusion), each on a
 * quiet machine with at least n cores: a loaded machine depresses the ratio
 * (the load averages are recorded).
 *
 * @throws ValidationError naming what differs
 */
export function measuredParallelFraction(
  a: ModelProfile,
  b: ModelProfile,
): { parallelFraction: number; parallelFractionFrom: { threads: number; oneThreadMs: number; threadedMs: number; loadAverages: number[] } } {
  const ta = a.threads ?? 1;
  const tb = b.threads ?? 1;
  const [one, many] = ta === 1 ? [a, b] : [b, a];
  const n = many.threads ?? 1;
  if ((one.threads ?? 1) !== 1 || n < 2) {
    throw new ValidationError('threads', `need one profile on 1 thread and one on more (got ${ta} and ${tb} threads)`);
  }
  if (a.backend !== 'wasm' || b.backend !== 'wasm') throw new ValidationError('backend', `both profiles must be of the wasm engine (got ${a.backend} and ${b.backend})`);
  const sameLayers = a.model === b.model && a.layers.length === b.layers.length && a.layers.every((l, i) => l.name === b.layers[i]!.name);
  if (!sameLayers) throw new ValidationError('model', `the profiles are of different models (${a.model}, ${a.layers.length} layers; ${b.model}, ${b.layers.length} layers)`);
  if (a.inputShape.join('x') !== b.inputShape.join('x')) throw new ValidationError('inputShape', `the profiles have different input shapes (${a.inputShape.join('×')} and ${b.inputShape.join('×')})`);
  if ((a.fused ?? false) !== (b.fused ?? false)) throw new ValidationError('fused', 'one profile folded batch norm and relu into the convolutions and the other did not: measure both the same way');
  const ratio = one.wholeModelWallMs / many.wholeModelWallMs;
  return {
    parallelFraction: Math.round(parallelFractionFromRatio(ratio, n) * 1e4) / 1e4,
    parallelFractionFrom: { threads: n, oneThreadMs: one.wholeModelWallMs, threadedMs: many.wholeModelWallMs, loadAverages: [one.machine.loadAverage, many.machine.loadAverage] },
  };
}

/**
 * Parallel fraction of a whole-model inference on the tfjs wasm engine
 * (XNNPACK), used where no model-specific figure was measured. Measured on a
 * quiet machine (docs/profiles.md "Memory size"; bench/tails.ts and
 * bench/results/quiet-profiles), batch norm and relu folded into the
 * convolutions as tails run them: ResNet-50 at 224 1.50–1.73× on 2 threads
 * (p ≈ 0.67–0.84; 1.76–1.83× unfused earlier), 10 convolutions alone 1.95×
 * (reference facts); but MobileNetV2 only 1.13–1.40× (p ≈ 0.23–0.57; ~65
 * small kernels each paying the thread hand-off). 0.8 is a round figure for convolution-heavy models and
 * OVERSTATES the gain of small-kernel ones like MobileNetV2; the planner uses
 * it for a model whose cloud profile carries no measured `parallelFraction`
 * ({@link measuredParallelFraction}, `offload profile --parallel-from`).
 * Beyond 2 threads nothing was measured here: the figure is extrapolated by
 * Amdahl's law, an upper bound (memory bandwidth and per-layer
 * synchronisation grow with threads).
 */
export const WASM_PARALLEL_FRACTION = 0.8;

/**
 * The time of one inference at `memoryMB` relative to one thread on one full
 * vCPU. Lambda gives CPU time in proportion to memory (v = memoryMB / 1,769
 * vCPUs) spread over {@link lambdaVisibleCores} cores; the serial part runs on
 * at most one vCPU, the parallel part on min(threads, v):
 *
 *   factor = (1 − p) / min(1, v) + p / min(threads, v)
 *
 * With one thread (the default, and the spec's single-thread engine) this is
 * 1 / min(1, v): below 1,769 MB slower by the share, above it unchanged.
 *
 * @example
 * cloudTimeFactor(3008)                                             // 1 (one thread)
 * cloudTimeFactor(3008, { threads: 2, parallelFraction: 0.8 })      // 0.2 + 0.8 / 1.70 = 0.67
 * cloudTimeFactor(884.5)                                            // 2
 */
export function cloudTimeFactor(memoryMB: number, scaling?: ThreadScaling): number {
  const v = vcpus(memoryMB);
  if (!scaling || scaling.threads <= 1) return 1 / Math.min(1, v);
  const p = scaling.parallelFraction;
  if (!(p >= 0 && p <= 1)) throw new ValidationError('parallelFraction', `must be between 0 and 1 (got ${p})`);
  if (!Number.isInteger(scaling.threads)) throw new ValidationError('threads', `must be an integer (got ${scaling.threads})`);
  return (1 - p) / Math.min(1, v) + p / Math.min(scaling.threads, v);
}

/** vCPUs' worth of CPU time that `memoryMB` buys (1,769 MB = one), not capped. */
export function vcpus(memoryMB: number): number {
  if (!(memoryMB > 0) || !Number.isFinite(memoryMB)) throw new ValidationError('memoryMB', `must be a positive number (got ${memoryMB})`);
  return memoryMB / MB_PER_VCPU;
}

/** Options of {@link cloudLayerMs}. */
export interface CloudScaling {
  /**
   * Threads of the tail's engine and how its time scales with them (default:
   * one thread, times scale with the vCPU share only).
   */
  threads?: ThreadScaling;
  /** Threads the profile was measured with, on as many full cores (default 1); its times are brought back to one thread first. */
  measuredThreads?: number;
  /**
   * How much faster one Lambda vCPU runs this backend than one core of the
   * machine that measured the profile. Default 1: ASSUMED equal (both are
   * x86_64 server cores of recent generations); nothing here measured it.
   */
  lambdaSpeedup?: number;
  /** Lambda memory whose CPU share the profile was measured with (default {@link MB_PER_VCPU}: one full core). */
  measuredAtMB?: number;
}

/**
 * Warm per-layer times of a tail function at `memoryMB`, derived from a
 * profile measured here: `ms × vcpuShare(measuredAtMB) / (vcpuShare(memoryMB) × lambdaSpeedup)`
 * (a profile measured on one full core has share 1).
 *
 * Assumptions (docs/profiles.md): Lambda gives CPU in proportion to memory
 * (1,769 MB = one vCPU); below that the function gets that share of one vCPU
 * and a single-threaded inference slows by 1/share; above it the extra share
 * goes to cores a single-threaded wasm inference cannot use, so the time
 * stays that of one vCPU. The profile should come from the backend the tail
 * runs (wasm by default).
 *
 * @example
 * cloudLayerMs(parseModelProfile(json), 1769) // = the measured layer times
 * cloudLayerMs(profile, 884.5)                // twice as long
 */
export function cloudLayerMs(profile: { layers: readonly { ms: number }[] }, memoryMB: number, opts: CloudScaling = {}): number[] {
  const speedup = opts.lambdaSpeedup ?? 1;
  if (!(speedup > 0) || !Number.isFinite(speedup)) throw new ValidationError('lambdaSpeedup', `must be a positive number (got ${speedup})`);
  const factor = cloudTimeFactor(memoryMB, opts.threads) / speedup;
  const measuredShare = opts.measuredAtMB === undefined ? 1 : vcpuShare(opts.measuredAtMB);
  // a profile measured with n threads on n full cores ran at factor(n cores' memory, n threads) of one thread
  const n = opts.measuredThreads ?? 1;
  const measuredFactor =
    n > 1 ? cloudTimeFactor(n * MB_PER_VCPU, { threads: n, parallelFraction: opts.threads?.parallelFraction ?? WASM_PARALLEL_FRACTION }) : 1;
  return profile.layers.map((l) => ((l.ms * measuredShare) / measuredFactor) * factor);
}

/**
 * Assumed warm throughput of a tail function with one full vCPU (1,769 MB)
 * when the model has no measured profile: 8 billion multiply-adds per second.
 * Measured here with the tfjs wasm backend (one thread, SIMD): ResNet-50 ran
 * at ~10 GMAC/s, MobileNetV2 at ~3-10 (depthwise layers use the CPU less
 * well) on a shared 2-core machine; 8 is a round figure between. Below 1,769
 * MB the time scales with the vCPU share; above it only the engine's threads
 * gain ({@link cloudTimeFactor}).
 */
export const CLOUD_GMAC_PER_VCPU = 8;
/** Fixed cost per layer (kernel dispatch, allocation) added to every FLOPs-derived layer time, ms. */
export const LAYER_OVERHEAD_MS = 0.05;

/** Derived time of `macs` multiply-adds at `gmacPerSecond`, plus the per-layer overhead. */
export function derivedLayerMs(macs: number, gmacPerSecond: number): number {
  return (macs / (gmacPerSecond * 1e9)) * 1000 + LAYER_OVERHEAD_MS;
}

/**
 * Warm per-layer times of a tail function at `memoryMB` when no profile was
 * measured: each layer's multiply-adds at {@link CLOUD_GMAC_PER_VCPU} × vCPU share.
 */
export function derivedCloudLayerMs(layers: readonly { flops: number }[], memoryMB: number, threads?: ThreadScaling): number[] {
  const gmacs = CLOUD_GMAC_PER_VCPU / cloudTimeFactor(memoryMB, threads);
  return layers.map((l) => derivedLayerMs(l.flops, gmacs));
}
