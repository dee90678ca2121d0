/**
 * One buffer that a download fills in pieces, in any order, and the ranges of
 * it that have arrived: a loader waits for the bytes it needs next
 * ({@link ArrivingBytes.until}) while the rest is still on its way.
 */
import { OffloadError } from '../core/errors';

/** A byte range [start, end) of the buffer that had not arrived when the download ended. */
export class BytesMissingError extends OffloadError {
  constructor(start: number, end: number) {
    super('internal', `bytes ${start}-${end} of the weights never arrived: the download ended without them`);
    this.name = 'BytesMissingError';
  }
}

interface Waiter {
  start: number;
  end: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ArrivingBytes {
  /** Arrived ranges, sorted, merged (no two touch). */
  private readonly ranges: [number, number][] = [];
  private waiters: Waiter[] = [];
  private outcome: { failed: unknown } | { finished: true } | undefined;

  constructor(readonly bytes: Uint8Array) {}

  /** Bytes [start, end) are written; whoever waits for a range now complete goes on. */
  arrived(start: number, end: number): void {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= this.bytes.byteLength)) {
      throw new RangeError(`arrived(${start}, ${end}): not a range of the ${this.bytes.byteLength}-byte buffer`);
    }
    if (start === end) return;
    // insert, then merge with the neighbours it touches
    let i = 0;
    while (i < this.ranges.length && this.ranges[i]![1] < start) i++;
    let lo = start;
    let hi = end;
    let j = i;
    while (j < this.ranges.length && this.ranges[j]![0] <= hi) {
      lo = Math.min(lo, this.ranges[j]![0]);
      hi = Math.max(hi, this.ranges[j]![1]);
      j++;
    }
    this.ranges.splice(i, j - i, [lo, hi]);
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.has(w.start, w.end)) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Whether all of [start, end) has arrived. */
  has(start: number, end: number): boolean {
    if (start >= end) return true;
    return this.ranges.some(([lo, hi]) => lo <= start && end <= hi);
  }

  /**
   * Resolves once [start, end) has arrived. Rejects with the download's error
   * if it failed, or with {@link BytesMissingError} if it ended without them.
   */
  until(start: number, end: number): Promise<void> {
    if (this.has(start, end)) return Promise.resolve();
    if (this.outcome && 'failed' in this.outcome) return Promise.reject(this.outcome.failed);
    if (this.outcome) return Promise.reject(new BytesMissingError(start, end));
    return new Promise((resolve, reject) => this.waiters.push({ start, end, resolve, reject }));
  }

  /** Throws the download's error if it failed (nothing is worth building then). */
  throwIfFailed(): void {
    if (this.outcome && 'failed' in this.outcome) throw this.outcome.failed;
  }

  /** The download failed: every wait, now and later, rejects with `err`. */
  fail(err: unknown): void {
    if (this.outcome) return;
    this.outcome = { failed: err };
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
  }

  /** The download ended: waits for ranges that did not arrive reject. */
  finish(): void {
    if (this.outcome) return;
    this.outcome = { finished: true };
    for (const w of this.waiters) w.reject(new BytesMissingError(w.start, w.end));
    this.waiters = [];
  }
}
