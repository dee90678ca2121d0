/**
 * Built-in defaults for scenarios: network presets, cloud defaults, device
 * power classes. Each number says where it comes from (the project's
 * sourced facts, `docs/reference-facts.md`) or that it is assumed.
 *
 * These are defaults for when nothing better is known: measurements of the
 * actual network, device and functions should override every one of them.
 */
import { DEVICE_PROFILES } from './profiles';
import type { Network, Radio } from './scenario';

/** Names of the built-in network presets. */
export const NETWORK_PRESET_NAMES = ['3g', '4g', 'wifi'] as const;
export type NetworkPresetName = (typeof NETWORK_PRESET_NAMES)[number];

/** A network preset: the scenario's `network` group plus the radio power parameters of that technology. */
export interface NetworkPreset extends Network {
  name: NetworkPresetName;
  /**
   * Huang et al. (MobiSys 2012) data-transfer power model parameters,
   * `P = alphaUp·up + alphaDown·down + beta` (mW, Mbit/s), as repeated by the
   * offloading literature. Defaults to be overridden by measurement; the values
   * are unconfirmed against the paper's own table.
   */
  radio: Radio;
  /** Where each figure comes from. */
  sources: { uplinkMbps: string; downlinkMbps: string; rttMs: string; radio: string };
}

const OPENSIGNAL_UPLINK =
  'OpenSignal "State of Mobile Networks: USA" (Aug 2017) average uplink, as tabled by DADS (Hu et al., INFOCOM 2019, Table I)';
const HUANG_RADIO =
  'Huang et al., MobiSys 2012, as repeated in the offloading literature (unconfirmed against the paper\'s table); a default to be overridden by measurement';

/**
 * 3G / 4G (LTE) / WiFi. Uplinks are the spec's (sourced); only the 4G
 * downlink has a source; the other downlinks and every RTT are assumptions
 * (device to a nearby AWS region), stated as such.
 */
export const NETWORK_PRESETS: Readonly<Record<NetworkPresetName, NetworkPreset>> = Object.freeze({
  '3g': {
    name: '3g',
    uplinkMbps: 1.1,
    downlinkMbps: 3,
    rttMs: 150,
    radio: { alphaUp: 868.98, alphaDown: 122.12, beta: 817.88 },
    sources: {
      uplinkMbps: OPENSIGNAL_UPLINK,
      downlinkMbps: 'assumed (no sourced 3G downlink in the reference facts)',
      rttMs: 'assumed',
      radio: HUANG_RADIO,
    },
  },
  '4g': {
    name: '4g',
    uplinkMbps: 5.85,
    downlinkMbps: 13,
    rttMs: 70,
    radio: { alphaUp: 438.39, alphaDown: 51.97, beta: 1288.04 },
    sources: {
      uplinkMbps: OPENSIGNAL_UPLINK,
      downlinkMbps: 'Huang et al., MobiSys 2012: LTE median downlink 13 Mbit/s',
      rttMs: 'assumed',
      radio: HUANG_RADIO,
    },
  },
  wifi: {
    name: 'wifi',
    uplinkMbps: 18.88,
    downlinkMbps: 50,
    rttMs: 30,
    radio: { alphaUp: 283.17, alphaDown: 137.01, beta: 132.86 },
    sources: {
      uplinkMbps: OPENSIGNAL_UPLINK,
      downlinkMbps: 'assumed (no sourced WiFi downlink in the reference facts)',
      rttMs: 'assumed',
      radio: HUANG_RADIO,
    },
  },
});

/** True when `name` is a built-in network preset. */
export function isNetworkPresetName(name: string): name is NetworkPresetName {
  return (NETWORK_PRESET_NAMES as readonly string[]).includes(name);
}

/** AWS Lambda on-demand prices per architecture (reference facts; AWS changes them: check the date). */
export const LAMBDA_PRICES = Object.freeze({
  x86_64: { requestUSD: 0.2 / 1e6, gbSecondUSD: 0.0000166667 },
  arm64: { requestUSD: 0.2 / 1e6, gbSecondUSD: 0.0000133334 },
});

/** The cloud group of a scenario without its fleet state. */
export interface CloudDefaults {
  memoryMB: number;
  coldBaseMs: number;
  coldMsPerMB: number;
  requestUSD: number;
  gbSecondUSD: number;
}

/**
 * Defaults of the tail functions.
 *
 * - `memoryMB` 1769: the memory that buys one full vCPU (AWS). A tail runs
 *   the threaded wasm engine with as many threads as the cores its function
 *   sees (`tailWasmThreads`: two up to 3,008 MB), and the planner prices its
 *   time at the CPU share its memory buys (`cloudTimeFactor`,
 *   docs/profiles.md "Memory size: vCPUs and threads"); 1769 MB holds the
 *   zoo's largest tails (VGG16, ~553 MB of float32 weights). A design choice,
 *   not a measurement.
 * - `coldBaseMs` 184 and `coldMsPerMB` 5.63: MEASURED on the local stack on
 *   this session's Intel Xeon (2 vCPUs), the machine every committed profile
 *   was measured on the same day (docs/profiles.md), so cold starts and tail
 *   compute are priced on one machine. Cold − warm round trip as the client
 *   sees it of the ten tails of MobileNetV2 and ResNet-50 (4.9–97.7 MiB; wasm
 *   on the tails' default threads, batch norm, relu and padding folded in the
 *   downloaded files, weights copied once into the engine's memory, 1×1
 *   convolutions as matrix products, S3 on localhost), least squares through
 *   the per-function medians of three `bench/cold-start.ts --repeats 5` runs
 *   on main 99d141d (2026-12-01, quiet-run 15:13, 15:19 and 15:20 UTC, load
 *   1.49, 1.53 and 1.51 at their starts): 30 points, r² 0.964, median error
 *   7.0 % (alone 172 + 6.22, 185 + 5.72, 194 + 4.96). The same three runs on
 *   main before those two cold-path changes (4bb4139, 14:04–14:48 UTC) gave
 *   184 + 6.34, round 9's four 189 + 6.05. Until then the defaults were the AMD EPYC's of
 *   rounds 1–7 (539 + 12.7, 2026-11-30), kept while the profiles were the
 *   EPYC's too: on the Xeon they over-predicted `npm start`'s ResNet-50 cut 0
 *   cold start 2.3× (1,780 against 788 ms). Where a cold start goes:
 *   docs/local-stack.md (`bench/cold-phases.ts`). A local calibration: on
 *   Lambda the S3 download is slower per MiB and a small memory size slows
 *   the parse; override per deployment (`COLD_BASE_MS`, `COLD_MS_PER_MB`),
 *   and measured per-function cold starts from the registry win over both.
 *   Same definition everywhere (the client's cold − warm round trip): the
 *   tails' measured `coldStartMs` follows it within a few % (median of the
 *   ten tails; docs/local-stack.md).
 * - prices: x86_64 on-demand, $0.20 per million requests and $0.0000166667
 *   per GB-s (reference facts).
 */
export const CLOUD_DEFAULTS: Readonly<CloudDefaults> = Object.freeze({
  memoryMB: 1769,
  coldBaseMs: 184,
  coldMsPerMB: 5.63,
  requestUSD: LAMBDA_PRICES.x86_64.requestUSD,
  gbSecondUSD: LAMBDA_PRICES.x86_64.gbSecondUSD,
});

/** The cold-start formula's two figures (docs/cost-model.md §3: base + per MiB of tail weights). */
export interface ColdStartModel {
  coldBaseMs: number;
  coldMsPerMB: number;
}

/** What {@link lambdaColdEstimate} is composed from: two cited Lambda/S3 figures and two measured on this machine. */
export interface LambdaColdSources {
  /** S3 throughput of one GET, MB/s (10^6 bytes). */
  s3MBps: number;
  /** Lambda's init duration of a Node.js hello-world zip function, ms. */
  lambdaNodeInitMs: number;
  /** The local stack's Node bootstrap in a cold start, ms (what Lambda's init replaces). */
  localNodeBootstrapMs: number;
  /** What a tail's build (setting weights, creating and packing the operators) grows per MiB on its JavaScript thread here, ms. */
  localBuildMsPerMiB: number;
}

/**
 * The inputs of {@link LAMBDA_COLD_ESTIMATE}. Each range is taken at its
 * midpoint: neither end is more likely, and the slower end would flatter a
 * planner that avoids cold starts.
 * - `s3MBps` 87.5: "one request per ≈85–90 MB/s" (AWS S3 performance
 *   whitepaper, docs/reference-facts.md "Lambda lifecycle details").
 * - `lambdaNodeInitMs` 130.5: Node.js hello-world init duration, zip,
 *   ≈114–147 ms average (maxday lambda-perf, Aug 2026, same section).
 * - `localNodeBootstrapMs` 18: "Node bootstrap" 19 and 17 ms in the
 *   cold-phases table of docs/local-stack.md ("Where a cold start goes",
 *   MobileNetV2 and ResNet-50 cut 0, this Xeon, 2026-12-01 17:56 UTC).
 * - `localBuildMsPerMiB` 3.0: "what grows per MiB on the JavaScript thread
 *   fell from 4.1 to 3.0 ms/MiB" (docs/local-stack.md, round 10's cold-path
 *   changes, this Xeon, 2026-12-01).
 */
export const LAMBDA_COLD_SOURCES: Readonly<LambdaColdSources> = Object.freeze({
  s3MBps: (85 + 90) / 2,
  lambdaNodeInitMs: (114 + 147) / 2,
  localNodeBootstrapMs: (19 + 17) / 2,
  localBuildMsPerMiB: 3.0,
});

/**
 * A Lambda cold start composed from its parts (see {@link LAMBDA_COLD_ESTIMATE}):
 * - base = the local base − the local Node bootstrap + Lambda's hello-world
 *   init (Lambda's runtime start takes the place of the emulator's Node);
 * - per MiB = the slower of the download at one S3 request's rate and the
 *   local build per MiB: the tail builds each layer as its bytes arrive
 *   (models/streamed-load.ts) and on Lambda the download costs the function
 *   little CPU, so the two overlap and the slower one sets the pace.
 */
export function lambdaColdEstimate(s: LambdaColdSources, localBaseMs: number = CLOUD_DEFAULTS.coldBaseMs): ColdStartModel {
  const downloadMsPerMiB = (1_048_576 / (s.s3MBps * 1e6)) * 1000;
  return {
    coldBaseMs: localBaseMs - s.localNodeBootstrapMs + s.lambdaNodeInitMs,
    coldMsPerMB: Math.max(downloadMsPerMiB, s.localBuildMsPerMiB),
  };
}

/**
 * An ESTIMATE of a tail's cold start on Lambda, NOT measured on Lambda:
 * 184 − 18 + 130.5 = 296.5 ms base; max(2^20 B / 87.5 MB/s = 11.98 ms, 3.0 ms)
 * = 11.98 ms per MiB of tail weights (ResNet-50 cut 0, 97.7 MiB: ~1.47 s,
 * against the local calibration's ~0.73 s). What it leaves out, each a reason
 * it may be wrong either way: sandbox creation and the code download before
 * init (not in Init Duration, not cited); the eight ranged GETs the tail
 * keeps in flight (it assumes they add up to one request's rate; a
 * function's own network bandwidth is not cited); Lambda's vCPU speed (taken
 * as this Xeon's; below 1,769 MB the CPU-bound base and build slow with the
 * CPU share, not modelled, as in CLOUD_DEFAULTS); the harness part of the
 * local module load, counted on top of Lambda's init. The simulator takes it
 * with `--cold-start lambda-estimate`; a deployment's planner with
 * `COLD_BASE_MS` / `COLD_MS_PER_MB`. A user with a deployment should fit
 * their own line: `offload load` at a few cuts, then `offload cold-fit`
 * (core/cold-fit.ts), which prints both forms.
 */
export const LAMBDA_COLD_ESTIMATE: Readonly<ColdStartModel> = Object.freeze(lambdaColdEstimate(LAMBDA_COLD_SOURCES));

export { DEFAULT_MAX_BATCH } from './tail-api';

/** A device class: the power figures a scenario's `device` group needs (radio comes from the network). */
export interface DeviceClass {
  name: string;
  description: string;
  /** Power while computing, W. */
  computeW: number;
  /** Power while waiting on the radio, W. */
  idleW: number;
  source: string;
}

/**
 * Power of the built-in device classes: a view of core/profiles.ts
 * DEVICE_PROFILES, the one registry of device classes (speed and power, with
 * sources). No reference fact gives device power, so all of these are ASSUMED
 * round figures (the flagship matches the spec's example).
 */
export const DEVICE_CLASSES: Readonly<Record<string, DeviceClass>> = Object.freeze(
  Object.fromEntries(
    Object.values(DEVICE_PROFILES).map((p) => [
      p.name,
      { name: p.name, description: p.description, computeW: p.computeW, idleW: p.idleW, source: p.sources.power ?? 'assumed' },
    ]),
  ),
);
