/**
 * docs/cost-model.md §3: the per-cut figures of one inference. Pure arithmetic; the
 * planner (`core/planner.ts`) adds feasibility and the choice.
 *
 * The sums over layers are prepared once per plan ({@link prepareModel}):
 * `headMs` as prefix sums, `tailMs` and the tail's weight bytes as suffix sums
 * accumulated from the last layer backwards. Suffix sums are accumulated,
 * never obtained as `total − prefix`: every term is ≥ 0, so accumulation keeps
 * the relative error within L·ε, while the subtraction would lose all digits
 * of a small tail behind a large head.
 */
import { DTYPE_FACTOR } from './dtypes';
import type { Scenario } from './scenario';


/** 2^20: the cold-start slope is per MiB of tail weights. */
export const BYTES_PER_MB = 1_048_576;

/** The per-cut numbers of docs/cost-model.md §3 (all for one inference). */
export interface CutFigures {
  sentBytes: number;
  headMs: number;
  upMs: number;
  tailMs: number;
  pCold: number;
  /** Cold-start time of this cut's tail if it starts cold (measured, else the weight formula); 0 for device-only. */
  coldStartMs: number;
  coldMs: number;
  downMs: number;
  latencyMs: number;
  energyJ: number;
  costUSD: number;
}

/** Sums over layers that every cut needs, indexed by cut 0 … L. */
export interface PreparedModel {
  L: number;
  /** headMs[c] = Σ_{l<c} deviceMs[l] */
  headMs: Float64Array;
  /** tailMs[c] = Σ_{l≥c} cloudMs[l] */
  tailMs: Float64Array;
  /** tailWeightBytes[c] = Σ_{l≥c} weightBytes[l] */
  tailWeightBytes: Float64Array;
}

/**
 * Prefix and suffix sums over the layers, O(L). With `reuse` (arrays of at
 * least L + 1 entries) the sums are written there and nothing is allocated;
 * entries past L are left as they were.
 */
export function prepareModel(layers: Scenario['model']['layers'], reuse?: PreparedModel): PreparedModel {
  const L = layers.length;
  const fits = reuse !== undefined && reuse.headMs.length > L;
  const headMs = fits ? reuse.headMs : new Float64Array(L + 1);
  const tailMs = fits ? reuse.tailMs : new Float64Array(L + 1);
  const tailWeightBytes = fits ? reuse.tailWeightBytes : new Float64Array(L + 1);
  headMs[0] = 0;
  tailMs[L] = 0;
  tailWeightBytes[L] = 0;
  let head = 0;
  for (let l = 0; l < L; l++) {
    head += layers[l]!.deviceMs;
    headMs[l + 1] = head;
  }
  let tail = 0;
  let weights = 0;
  for (let l = L - 1; l >= 0; l--) {
    const layer = layers[l]!;
    tail += layer.cloudMs;
    weights += layer.weightBytes;
    tailMs[l] = tail;
    tailWeightBytes[l] = weights;
  }
  if (fits) {
    reuse.L = L;
    return reuse;
  }
  return { L, headMs, tailMs, tailWeightBytes };
}

/** Time to move `bytes` at `mbps` Mbit/s, in ms: 8 × bytes / (Mbps × 1e6) × 1000. */
export function transferMs(bytes: number, mbps: number): number {
  return ((8 * bytes) / (mbps * 1e6)) * 1000;
}

/** Huang et al. radio power in W for a throughput of `mbps`: (alpha × Mbps + beta) / 1000. */
export function radioPowerW(alphaMwPerMbps: number, mbps: number, betaMw: number): number {
  return (alphaMwPerMbps * mbps + betaMw) / 1000;
}

/** docs/cost-model.md §3: coldBaseMs + coldMsPerMB × tailWeightBytes / 2^20 (used unless a measured value is known). */
export function coldStartFromWeights(coldBaseMs: number, coldMsPerMB: number, tailWeightBytes: number): number {
  return coldBaseMs + (coldMsPerMB * tailWeightBytes) / BYTES_PER_MB;
}

/** Values of a scenario that do not depend on the cut, computed once per plan. */
export interface CutConstants {
  L: number;
  inputBytes: number;
  dtypeFactor: number;
  uplinkMbps: number;
  rttMs: number;
  downMs: number;
  pUpW: number;
  pDownW: number;
  computeW: number;
  idleW: number;
  coldBaseMs: number;
  coldMsPerMB: number;
  requestUSD: number;
  /** gbSecondUSD × memoryMB / 1024: USD per second of remote time. */
  usdPerRemoteSecond: number;
}

/** The cut-independent part of docs/cost-model.md §3. */
export function cutConstants(s: Scenario, L: number): CutConstants {
  const { network, device, cloud } = s;
  return {
    L,
    inputBytes: s.model.inputBytes,
    dtypeFactor: DTYPE_FACTOR[s.encoding.dtype],
    uplinkMbps: network.uplinkMbps,
    rttMs: network.rttMs,
    downMs: transferMs(s.model.outputBytes, network.downlinkMbps),
    pUpW: radioPowerW(device.radio.alphaUp, network.uplinkMbps, device.radio.beta),
    pDownW: radioPowerW(device.radio.alphaDown, network.downlinkMbps, device.radio.beta),
    computeW: device.computeW,
    idleW: device.idleW,
    coldBaseMs: cloud.coldBaseMs,
    coldMsPerMB: cloud.coldMsPerMB,
    requestUSD: cloud.requestUSD,
    usdPerRemoteSecond: (cloud.gbSecondUSD * cloud.memoryMB) / 1024,
  };
}

/**
 * docs/cost-model.md §3 figures of cut `c`, written into `out` (the planner passes the
 * record's row object, so nothing is allocated here).
 *
 * @param crossingBytes float32 bytes crossing `c` (ignored at 0 and L)
 * @param idleWarm idle warm instances of the cut's function (0 when none is deployed: a new one would start cold)
 * @param measuredColdStartMs the function's measured cold start, or undefined for the weight formula
 */
export function computeCut(
  k: CutConstants,
  m: PreparedModel,
  c: number,
  crossingBytes: number,
  idleWarm: number,
  measuredColdStartMs: number | undefined,
  out: CutFigures,
): CutFigures {
  const headMs = m.headMs[c]!;
  out.headMs = headMs;
  if (c === k.L) {
    out.sentBytes = 0;
    out.upMs = 0;
    out.tailMs = 0;
    out.pCold = 0;
    out.coldStartMs = 0;
    out.coldMs = 0;
    out.downMs = 0;
    out.latencyMs = headMs;
    out.energyJ = (k.computeW * headMs) / 1000;
    out.costUSD = 0;
    return out;
  }
  const sentBytes = c === 0 ? k.inputBytes : crossingBytes * k.dtypeFactor;
  const upMs = transferMs(sentBytes, k.uplinkMbps);
  const tailMs = m.tailMs[c]!;
  const pCold = idleWarm >= 1 ? 0 : 1;
  const coldStartMs =
    measuredColdStartMs ?? coldStartFromWeights(k.coldBaseMs, k.coldMsPerMB, m.tailWeightBytes[c]!);
  const coldMs = pCold * coldStartMs;
  const remoteMs = tailMs + coldMs;
  out.sentBytes = sentBytes;
  out.upMs = upMs;
  out.tailMs = tailMs;
  out.pCold = pCold;
  out.coldStartMs = coldStartMs;
  out.coldMs = coldMs;
  out.downMs = k.downMs;
  out.latencyMs = headMs + k.rttMs + upMs + remoteMs + k.downMs;
  out.energyJ = (k.computeW * headMs + k.pUpW * upMs + k.idleW * (k.rttMs + remoteMs) + k.pDownW * k.downMs) / 1000;
  // Evaluated left to right as the spec writes it, so hand checks reproduce it to the last bit.
  out.costUSD = k.requestUSD + (k.usdPerRemoteSecond * remoteMs) / 1000;
  return out;
}
