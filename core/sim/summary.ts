/**
 * The load harness's summary (core/load-record.ts `summarize`) built as
 * records are made, without keeping them: a simulated day of 10^6 requests
 * would hold about a gigabyte of record objects, while this keeps three
 * numeric arrays. The figures are the ones `summarize` gives for the same
 * records in the same order, to the last bit (sums run in record order, and
 * the quantiles interpolate the same sorted values): a test holds it to that.
 */
import type { LoadSummary } from '../load-record';

/** Linear-interpolation quantile of ascending `sorted` (core/predictor.ts `quantile`, without its copy and sort). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

class Numbers {
  private data: Float64Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Float64Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

/** Accumulates one policy's records into a {@link LoadSummary}. */
export class SummaryAccumulator {
  private readonly policy: string;
  private readonly latency: Numbers;
  private readonly relErr: Numbers;
  private readonly warmRelErr: Numbers;
  private latencySum = 0;
  private energySum = 0;
  private costSum = 0;
  private sent = 0;
  private throttled = 0;
  private cold = 0;
  private cloud = 0;

  constructor(policy: string, expected = 1024) {
    this.policy = policy;
    this.latency = new Numbers(expected);
    this.relErr = new Numbers(expected);
    this.warmRelErr = new Numbers(16);
  }

  /**
   * One record without error.
   *
   * @param sent the tail was sent to the cloud (served or refused)
   * @param throttled it was refused with 429 and finished on the device
   * @param warmServed served by the cloud, warm, without fallback
   * @param planWaitMs the wait for the plan inside `latencyMs`, if any (core/load-record.ts `planWaitMs`)
   */
  add(latencyMs: number, energyJ: number, costUSD: number, sent: boolean, throttled: boolean, cold: boolean, cloud: boolean, predictedLatencyMs: number | null, warmServed: boolean, planWaitMs: number | null): void {
    this.latency.push(latencyMs);
    this.latencySum += latencyMs;
    this.energySum += energyJ;
    this.costSum += costUSD;
    if (sent) this.sent++;
    if (throttled) this.throttled++;
    if (cold) this.cold++;
    if (cloud) this.cloud++;
    // The prediction is of the inference, without the wait for the plan (core/load-record.ts inferenceMs).
    const inference = latencyMs - (planWaitMs ?? 0);
    if (predictedLatencyMs !== null && inference > 0) {
      const err = Math.abs(predictedLatencyMs - inference) / inference;
      this.relErr.push(err);
      if (warmServed) this.warmRelErr.push(err);
    }
  }

  summary(): LoadSummary {
    const n = this.latency.length;
    const lat = this.latency.sorted();
    const err = this.relErr.sorted();
    const warm = this.warmRelErr.sorted();
    return {
      policy: this.policy,
      requests: n,
      errors: 0,
      latencyMs: {
        mean: n ? this.latencySum / n : NaN,
        p50: quantileSorted(lat, 0.5),
        p95: quantileSorted(lat, 0.95),
        p99: quantileSorted(lat, 0.99),
      },
      energyJ: n ? this.energySum / n : NaN,
      costUSD: this.costSum,
      rate429: this.sent ? this.throttled / this.sent : 0,
      throttled: this.throttled,
      fallbacks: this.throttled,
      coldStarts: this.cold,
      cloud: this.cloud,
      mismatches: 0,
      latencyError: { median: quantileSorted(err, 0.5), warmMedian: quantileSorted(warm, 0.5) },
    };
  }
}
