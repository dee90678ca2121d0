/**
 * Synthetic workloads beside core/workload.ts's steady, bursty, sparse and
 * trace processes: a diurnal Poisson process, and a production-like mix that
 * follows the published statistics of Azure Functions (Shahrad et al.,
 * "Serverless in the Wild", USENIX ATC 2020; docs/reference-facts.md,
 * "Production serverless workloads"). Same output as core/workload.ts: seeded
 * {@link Arrival}s in time order, in the trace format, so a synthetic day
 * can be written as a trace and replayed through the load harness.
 *
 * ## Diurnal
 *
 * Poisson with rate `ratePerS · f(t) / mean(f)`, where
 * `f(t) = b + (1 − b) · (1 − cos(2π (t − peakAtMs) / periodMs + π)) / 2` rises
 * from the baseline `b` (the trough, as a share of the peak) to 1 at
 * `peakAtMs`. Shahrad et al. report diurnal patterns over a baseline of about
 * half the load: `b = 0.5` by default. Drawn by thinning (Lewis & Shedler).
 *
 * ## Azure-like (`kind: 'azure'`)
 *
 * Every simulated device is one traffic source, like an application of the
 * Azure trace, with:
 * - **a rate drawn from a log-normal** whose quantiles are the paper's:
 *   45 % of applications are invoked at most once per hour, 81 % at most once
 *   per minute. In log10(invocations/s): μ = −3.333, σ = 1.772 (solving
 *   Φ((log10(1/3600) − μ)/σ) = 0.45 and Φ((log10(1/60) − μ)/σ) = 0.81). That
 *   spreads rates over ~8 orders of magnitude between the 1st and 99th
 *   percentile (the paper: "more than 8 orders") and puts ~99.9 % of
 *   invocations in the top 18.6 % of sources (the paper: 99.6 %). The rates
 *   are then scaled by one factor so the expected total is `ratePerS`: the
 *   skew is the paper's, the absolute load is the caller's.
 * - **burstiness**: inter-arrival times are gamma-distributed with a
 *   coefficient of variation drawn per source: with probability
 *   `shareCvAbove1` (0.4: "40 % of applications have an IAT CV above 1")
 *   log-uniform in (1, `maxCv`], else uniform in [0, 1] (CV 0: a timer,
 *   periodic with a random phase). The split inside each side is ASSUMED;
 *   only the 40 % is the paper's.
 * - **the diurnal shape above**, applied to every source by a time change
 *   (operational time runs at f(t)/mean(f)), so a source keeps its CV.
 *
 * What this leaves out of the paper: weekly patterns, the per-trigger mix,
 * execution-time and memory distributions (the tail's time comes from the
 * model, not from the trace).
 */
import * as z from 'zod';
import { ValidationError } from './errors';
import { seededRandom } from './random';
import { parseWith } from './validation';
import { exponential, type Arrival, type SimDevice, type WorkloadBounds } from './workload';

/** Shahrad et al. (ATC'20) rate distribution fitted to its two published quantiles: log10 of invocations per second. */
export const AZURE_RATE_LOG10 = Object.freeze({ mu: -3.333, sigma: 1.772 });
/** Shahrad et al.: 40 % of applications have an inter-arrival-time CV above 1. */
export const AZURE_SHARE_CV_ABOVE_1 = 0.4;
/** Shahrad et al.: diurnal patterns over a baseline of about half of the load. */
export const DIURNAL_BASELINE = 0.5;
export const DAY_MS = 86_400_000;

const positive = () => z.number({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a finite number') }).gt(0, 'must be > 0');
const fraction = () => z.number({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a finite number') }).min(0, 'must be >= 0').max(1, 'must be <= 1');
const atLeast0 = () => z.number({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a finite number') }).min(0, 'must be >= 0');

export const DiurnalSchema = z.strictObject({
  kind: z.literal('diurnal'),
  /** Mean rate over a period, requests/s. */
  ratePerS: positive(),
  /** Trough as a share of the peak. */
  baseline: fraction().default(DIURNAL_BASELINE),
  periodMs: positive().default(DAY_MS),
  /** When the peak comes, ms from the start (default half a period: the run starts at the trough). */
  peakAtMs: atLeast0().optional(),
});

export const AzureSchema = z.strictObject({
  kind: z.literal('azure'),
  /** Expected total rate over the devices, requests/s (the skew is the paper's, this sets the scale). */
  ratePerS: positive(),
  shareCvAbove1: fraction().default(AZURE_SHARE_CV_ABOVE_1),
  maxCv: z.number().gt(1, 'must be > 1').default(4),
  baseline: fraction().default(DIURNAL_BASELINE),
  periodMs: positive().default(DAY_MS),
  peakAtMs: atLeast0().optional(),
});

export const SyntheticProcessSchema = z.discriminatedUnion('kind', [DiurnalSchema, AzureSchema], {
  error: (iss) => (iss.input === undefined ? 'required' : 'unknown arrival process (one of diurnal, azure)'),
});
export type SyntheticProcess = z.infer<typeof SyntheticProcessSchema>;
export type SyntheticProcessInput = z.input<typeof SyntheticProcessSchema>;
export const SYNTHETIC_KINDS = ['diurnal', 'azure'] as const;

/** The diurnal shape f(t) in [b, 1], peak 1 at `peakAtMs`. */
export function diurnalFactor(t: number, baseline: number, periodMs: number, peakAtMs: number): number {
  return baseline + ((1 - baseline) * (1 + Math.cos((2 * Math.PI * (t - peakAtMs)) / periodMs))) / 2;
}

/** Operational time Λ(t) = ∫₀ᵗ f(s)/mean(f) ds, increasing; mean(f) = (1 + b)/2. */
function operationalTime(t: number, b: number, T: number, peak: number): number {
  const mean = (1 + b) / 2;
  const w = (2 * Math.PI) / T;
  const integral = mean * t + ((1 - b) / 2) * (Math.sin(w * (t - peak)) - Math.sin(-w * peak)) / w;
  return integral / mean;
}

/** Inverse of {@link operationalTime} by safeguarded Newton steps (f ≥ b > 0 keeps it monotone; b = 0 falls back to bisection). */
function realTime(u: number, b: number, T: number, peak: number, guess: number): number {
  const mean = (1 + b) / 2;
  let lo = 0;
  let hi = Math.max(guess, u / (b > 0 ? b / mean : 1e-9)) + T;
  let t = Math.min(Math.max(guess, lo), hi);
  for (let k = 0; k < 60; k++) {
    const g = operationalTime(t, b, T, peak) - u;
    if (Math.abs(g) < 1e-6) return t;
    if (g > 0) hi = t;
    else lo = t;
    const d = diurnalFactor(t, b, T, peak) / mean;
    let next = t - g / d;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    t = next;
  }
  return t;
}

/** A standard normal draw (Box–Muller). */
export function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A gamma draw of shape `k` and scale 1 (Marsaglia & Tsang; shape < 1 by the boost u^(1/k)). */
export function gamma(random: () => number, k: number): number {
  if (k < 1) return gamma(random, k + 1) * Math.pow(1 - random(), 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** One inter-arrival time of mean `mean` and coefficient of variation `cv` (gamma; cv 0 is exactly `mean`). */
export function interArrival(random: () => number, mean: number, cv: number): number {
  if (cv <= 1e-6) return mean;
  const shape = 1 / (cv * cv);
  return gamma(random, shape) * (mean / shape);
}

/** A source of the Azure-like mix: its share of the rate and its CV. */
export interface AzureSource {
  ratePerS: number;
  cv: number;
}

/** Draws one source per device: log-normal rates scaled to `ratePerS` in total, CVs split at 1. */
export function azureSources(p: z.infer<typeof AzureSchema>, n: number, random: () => number): AzureSource[] {
  const raw: number[] = [];
  for (let i = 0; i < n; i++) raw.push(Math.pow(10, AZURE_RATE_LOG10.mu + AZURE_RATE_LOG10.sigma * normal(random)));
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => {
    const bursty = random() < p.shareCvAbove1;
    const cv = bursty ? Math.exp(Math.log(1 + 1e-9) + random() * (Math.log(p.maxCv) - Math.log(1 + 1e-9))) : random();
    return { ratePerS: (r / total) * p.ratePerS, cv };
  });
}

/** Inputs of {@link generateSynthetic}. */
export interface SyntheticSpec extends WorkloadBounds {
  process: SyntheticProcessInput;
  devices: readonly SimDevice[];
  model: string;
  seed: number;
}

/**
 * The arrivals of a diurnal or Azure-like workload, in time order, cut to the
 * bounds (the first `maxRequests` in time).
 *
 * @example
 * generateSynthetic({ process: { kind: 'azure', ratePerS: 11.6 }, devices, model: 'resnet50', seed: 1, durationMs: DAY_MS, maxRequests: 1e6 });
 */
export function generateSynthetic(spec: SyntheticSpec): Arrival[] {
  const p = parseWith(SyntheticProcessSchema, spec.process, 'process');
  if (spec.devices.length === 0) throw new ValidationError('devices', 'must have at least one device');
  const { durationMs, maxRequests } = spec;
  const peak = p.peakAtMs ?? p.periodMs / 2;
  const random = seededRandom(spec.seed);
  if (p.kind === 'diurnal') {
    const pick = seededRandom(spec.seed ^ 0x5bd1e995);
    const mean = (1 + p.baseline) / 2;
    const max = p.ratePerS / mean;
    const out: Arrival[] = [];
    for (let t = exponential(random, 1000 / max); t < durationMs && out.length < maxRequests; t += exponential(random, 1000 / max)) {
      if (random() * max >= (p.ratePerS * diurnalFactor(t, p.baseline, p.periodMs, peak)) / mean) continue;
      const d = spec.devices[Math.floor(pick() * spec.devices.length)]!;
      out.push({ t, device: d.id, class: d.class, network: d.network, model: spec.model });
    }
    return out;
  }
  const sources = azureSources(p, spec.devices.length, random);
  const times: number[] = [];
  const owners: number[] = [];
  sources.forEach((s, i) => {
    if (s.ratePerS <= 0) return;
    const mean = 1000 / s.ratePerS;
    // Stationary start: the first arrival a uniform share of one gap in (a timer's random phase).
    let u = random() * interArrival(random, mean, s.cv);
    let t = 0;
    for (;;) {
      t = realTime(u, p.baseline, p.periodMs, peak, t);
      if (t >= durationMs) break;
      times.push(t);
      owners.push(i);
      u += interArrival(random, mean, s.cv);
    }
  });
  const order = Array.from(times.keys()).sort((a, b) => times[a]! - times[b]! || owners[a]! - owners[b]!);
  return order.slice(0, maxRequests).map((k) => {
    const d = spec.devices[owners[k]!]!;
    return { t: times[k]!, device: d.id, class: d.class, network: d.network, model: spec.model };
  });
}
