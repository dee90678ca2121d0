/**
 * Which cuts of a model get a tail function when the configuration does not
 * list them: the default rule. Pure: it reads only the export manifest.
 *
 * The rule, for a model with candidates C (manifest `candidates`), total FLOPs
 * F = Σ layers[].flops, tolerance ε = `flopsTolerance` × F:
 *
 * 1. Cut 0 (cloud-only) is always kept.
 * 2. Payload: a cut c > 0 is dropped when even its smallest wire encoding
 *    cannot travel in one request: `crossingBytes(c) × 1/4 (int8) × 4/3
 *    (API Gateway's base64) > payloadLimitBytes` (docs/cost-model.md §4). Off when
 *    `payloadLimitBytes` is null (a staging transport carries big bodies).
 * 3. Dominance: among the remaining cuts, c > 0 is dropped when another
 *    remaining cut d (cut 0 included) is at least as good on all three things
 *    a cut costs — what crosses, what the tail loads at a cold start, and what
 *    the device computes:
 *      crossingBytes(d)   ≤ crossingBytes(c)
 *      tailWeightBytes(d) ≤ tailWeightBytes(c)
 *      headFlops(d)       ≤ headFlops(c) + ε
 *    and strictly better somewhere: crossingBytes(d) < crossingBytes(c), or
 *    tailWeightBytes(d) < tailWeightBytes(c), or headFlops(d) < headFlops(c),
 *    or all three equal and d > c (ties go to the later cut, as in docs/cost-model.md §5).
 *
 * Why these three: under the cost model (docs/cost-model.md §3) latency and device energy
 * of a cut grow with headFlops (device compute), crossingBytes (uplink) and
 * tailWeightBytes (cold start), and tailFlops = F − headFlops; a cut that is
 * no better than another on all three is never the unique optimum for the
 * latency or energy objectives, whatever the device or the network. ε lets a
 * pooling or activation layer (a few FLOPs, a smaller output, no weights)
 * absorb the cut just before it, which strict dominance would keep.
 * The relation is acyclic (equal pairs are broken by headFlops, then by cut),
 * so some candidate is always undominated. That may be cut 0 alone: when the
 * layers before every other cut hold no weights and grow the data, offloading
 * the raw input is never worse, and no other tail is deployed.
 */
import type { Manifest } from '../core/manifest';

/** Parameters of the default rule. */
export interface CutRule {
  /** ε as a fraction of the model's total FLOPs (default 0.01). */
  flopsTolerance: number;
  /** Direct request limit in bytes (default 6,291,456); null = no payload filter. */
  payloadLimitBytes: number | null;
}

export const DEFAULT_CUT_RULE: CutRule = { flopsTolerance: 0.01, payloadLimitBytes: 6_291_456 };

/** Why a candidate did not get a function. */
export type DropReason = { cut: number; reason: 'payload'; sentBytes: number } | { cut: number; reason: 'dominated'; by: number };

/** Outcome of the default rule: the kept cuts (increasing) and why each other candidate was dropped. */
export interface CutSelection {
  cuts: number[];
  dropped: DropReason[];
}

type Candidate = Manifest['candidates'][number];

const INT8_FACTOR = 0.25;
const BASE64_FACTOR = 4 / 3;

/** True when `d` dominates `c` under the rule (see module doc). */
export function dominates(d: Candidate, c: Candidate, epsilon: number): boolean {
  if (d.cut === c.cut) return false;
  if (d.crossingBytes > c.crossingBytes || d.tailWeightBytes > c.tailWeightBytes || d.headFlops > c.headFlops + epsilon) return false;
  if (d.crossingBytes < c.crossingBytes || d.tailWeightBytes < c.tailWeightBytes || d.headFlops < c.headFlops) return true;
  return d.headFlops === c.headFlops && d.cut > c.cut;
}

/**
 * Applies the default rule to a manifest's candidates.
 *
 * @example
 * const { cuts, dropped } = selectDefaultCuts(manifest, DEFAULT_CUT_RULE);
 */
export function selectDefaultCuts(manifest: Pick<Manifest, 'candidates' | 'layers'>, rule: CutRule = DEFAULT_CUT_RULE): CutSelection {
  const totalFlops = manifest.layers.reduce((s, l) => s + l.flops, 0);
  const epsilon = rule.flopsTolerance * totalFlops;
  const dropped: DropReason[] = [];
  const sendable: Candidate[] = [];
  for (const c of manifest.candidates) {
    const sentBytes = c.crossingBytes * INT8_FACTOR * BASE64_FACTOR;
    if (c.cut !== 0 && rule.payloadLimitBytes !== null && sentBytes > rule.payloadLimitBytes) {
      dropped.push({ cut: c.cut, reason: 'payload', sentBytes: Math.ceil(sentBytes) });
    } else sendable.push(c);
  }
  const cuts: number[] = [];
  for (const c of sendable) {
    const by = c.cut === 0 ? undefined : sendable.find((d) => dominates(d, c, epsilon));
    if (by) dropped.push({ cut: c.cut, reason: 'dominated', by: by.cut });
    else cuts.push(c.cut);
  }
  if (!cuts.includes(0)) cuts.unshift(0);
  cuts.sort((a, b) => a - b);
  dropped.sort((a, b) => a.cut - b.cut);
  return { cuts, dropped };
}
