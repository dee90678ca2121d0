/**
 * Per-request spread of the simulator's times (an option; without it every
 * request of a function takes the function's one median). Each served
 * invocation draws a multiplier of its warm tail time and, when cold, one of
 * its cold start, both lognormal with median 1 (the functions' figures stay
 * medians) and the coefficient of variation given — measured, e.g. from
 * `offload load` records (bench/sim-validation.ts `spreadOf`). With a
 * `tailFloor` f the tail's multiplier is f + (1 − f) × that lognormal: still
 * median 1, but skewed as a real tail's computes are (a floor it seldom goes
 * under, a long tail above; core/sim/host.ts LOCAL_HOST.spread), so its mean
 * is above its median where a plain lognormal's hardly is.
 *
 * Seeded: the same seed and the same run draw the same numbers.
 */
import { ValidationError } from '../errors';
import { seededRandom } from '../random';

export interface JitterSpec {
  seed: number;
  /** Coefficient of variation (σ/mean) of a warm tail's compute time (with `tailFloor`: of its lognormal part). */
  tailCv: number;
  /** Share of the median no draw of the tail goes under, 0 ≤ f < 1 (default 0: a plain lognormal). */
  tailFloor?: number;
  /** Coefficient of variation of a cold start. */
  coldCv: number;
}

/** Checks a spread (CLI and library input). */
export function checkJitter(j: JitterSpec): void {
  if (!Number.isInteger(j.seed)) throw new ValidationError('jitter.seed', `must be an integer (got ${j.seed})`);
  for (const key of ['tailCv', 'coldCv'] as const) {
    const v = j[key];
    if (!(Number.isFinite(v) && v >= 0 && v <= 10)) throw new ValidationError(`jitter.${key}`, `must be a number from 0 to 10 (got ${v})`);
  }
  const f = j.tailFloor;
  if (f !== undefined && !(Number.isFinite(f) && f >= 0 && f < 1)) throw new ValidationError('jitter.tailFloor', `must be a number from 0 to below 1 (got ${f})`);
}

/** σ of the log of a lognormal whose coefficient of variation is `cv`. */
export function lognormalSigma(cv: number): number {
  return Math.sqrt(Math.log1p(cv * cv));
}

/** Draws multipliers: lognormal, median 1, coefficient of variation `cv`. */
export class Jitter {
  private readonly random: () => number;
  private spare: number | null = null;
  private readonly tailSigma: number;
  private readonly coldSigma: number;
  private readonly tailFloor: number;

  constructor(spec: JitterSpec) {
    checkJitter(spec);
    this.tailFloor = spec.tailFloor ?? 0;
    this.random = seededRandom(spec.seed);
    this.tailSigma = lognormalSigma(spec.tailCv);
    this.coldSigma = lognormalSigma(spec.coldCv);
  }

  /** A standard normal draw (Box–Muller, both values used). */
  private normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u = 1 - this.random(); // (0, 1]
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  tail(): number {
    if (this.tailSigma === 0) return 1;
    const f = this.tailFloor;
    return f + (1 - f) * Math.exp(this.tailSigma * this.normal());
  }

  cold(): number {
    return this.coldSigma === 0 ? 1 : Math.exp(this.coldSigma * this.normal());
  }
}
