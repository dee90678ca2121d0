/**
 * A cold-start line (docs/cost-model.md §3: coldStartMs = coldBaseMs +
 * coldMsPerMB × tail weight MiB) fitted to requests that were really served:
 * the records `offload load` writes against a deployment, or any other
 * {@link LoadRecord}s. What `offload cold-fit` prints, ready for
 * `--cold-start BASE+PERMIB` and a deployed planner's COLD_BASE_MS and
 * COLD_MS_PER_MB; bench/cold-start.ts fits the local stack's with the same
 * {@link fitLine}.
 */
import { OffloadError } from './errors';
import type { LoadRecord } from './load-record';
import { quantile } from './predictor';

export interface LinearFit {
  /** ms */
  coldBaseMs: number;
  /** ms per MiB of tail weights */
  coldMsPerMB: number;
  /** Coefficient of determination over the points. */
  r2: number;
  n: number;
}

/** Ordinary least squares of y on x. */
export function fitLine(points: readonly { x: number; y: number }[]): LinearFit {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
    syy += (p.y - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  const sse = points.reduce((s, p) => s + (p.y - (intercept + slope * p.x)) ** 2, 0);
  return { coldBaseMs: intercept, coldMsPerMB: slope, r2: syy === 0 ? 1 : 1 - sse / syy, n };
}

/** One tail function's cold start, from its served requests. */
export interface ColdFitPoint {
  model: string;
  cut: number;
  tailMiB: number;
  /** Served cold requests at this cut. */
  cold: number;
  /** Served warm requests at this cut. */
  warm: number;
  /** Medians of their round trips, ms. */
  coldRoundTripMs: number;
  warmRoundTripMs: number;
  /** Median cold − median warm round trip: what a cold call costs the client over a warm one, ms. */
  coldStartMs: number;
}

export interface ColdFit {
  fit: LinearFit;
  /** The cuts with both a cold and a warm served request, by model then cut. */
  points: ColdFitPoint[];
  /** Cuts left out, with why (only cold, or only warm, requests served). */
  skipped: { model: string; cut: number; tailMiB: number; cold: number; warm: number }[];
}

/**
 * A request a tail answered: sent, 200, no fallback. Device-only requests
 * sent nothing, and a throttled (429) one was answered by the front door
 * before any environment: neither says anything about a cold start.
 */
function served(r: LoadRecord): boolean {
  return r.error === null && r.target === 'cloud' && r.status === 200 && r.fallback === null && r.measured.roundTripMs !== null;
}

/**
 * The cold-start line through the cuts of `records`. Per (model, cut), the
 * cold start as docs/cost-model.md §3 defines it: median cold round trip −
 * median warm round trip of the requests served at that cut (the same
 * crossing tensors and tail, so only the start differs); then least squares
 * over the cuts' (tail MiB, cold start) points, one point per cut whatever
 * its count, as bench/cold-start.ts fits the local stack.
 *
 * @param tailMiB the tail weights of a model's cut, MiB (the committed profile's `tailWeightBytes`)
 * @throws OffloadError when fewer than two distinct tail sizes have both a cold and a warm served request: it says what each cut lacks
 */
export function fitColdStarts(records: readonly LoadRecord[], tailMiB: (model: string, cut: number) => number): ColdFit {
  const groups = new Map<string, { model: string; cut: number; cold: number[]; warm: number[] }>();
  for (const r of records) {
    if (!served(r)) continue;
    const key = `${r.model}\u0000${r.cut}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { model: r.model, cut: r.cut, cold: [], warm: [] }));
    (r.cold ? g.cold : g.warm).push(r.measured.roundTripMs!);
  }
  const sorted = [...groups.values()].sort((a, b) => (a.model === b.model ? a.cut - b.cut : a.model < b.model ? -1 : 1));
  const points: ColdFitPoint[] = [];
  const skipped: ColdFit['skipped'] = [];
  for (const g of sorted) {
    // Asked of every served cut, not only the complete ones: a model or cut the caller cannot size is its error, not a gap.
    const mib = tailMiB(g.model, g.cut);
    if (g.cold.length === 0 || g.warm.length === 0) {
      skipped.push({ model: g.model, cut: g.cut, tailMiB: mib, cold: g.cold.length, warm: g.warm.length });
      continue;
    }
    const coldRoundTripMs = quantile(g.cold, 0.5);
    const warmRoundTripMs = quantile(g.warm, 0.5);
    points.push({ model: g.model, cut: g.cut, tailMiB: mib, cold: g.cold.length, warm: g.warm.length, coldRoundTripMs, warmRoundTripMs, coldStartMs: coldRoundTripMs - warmRoundTripMs });
  }
  const sizes = new Set(points.map((p) => p.tailMiB));
  if (sizes.size < 2) {
    const per = [
      ...points.map((p) => `${p.model} cut ${p.cut} (${p.tailMiB.toFixed(2)} MiB): ${p.cold} cold, ${p.warm} warm`),
      ...skipped.map((s) => `${s.model} cut ${s.cut} (${s.tailMiB.toFixed(2)} MiB): ${s.cold} cold, ${s.warm} warm (needs ${s.cold === 0 ? 'a cold' : 'a warm'} one)`),
    ];
    throw new OffloadError(
      'invalid-input',
      `a cold-start line needs served cold and warm requests at cuts of at least two different tail sizes; ${per.length ? `served: ${per.join('; ')}` : 'no request was served by a tail (device-only, throttled and failed requests do not count)'}`,
    );
  }
  return { fit: fitLine(points.map((p) => ({ x: p.tailMiB, y: p.coldStartMs }))), points, skipped };
}
