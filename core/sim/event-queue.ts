/**
 * The simulator's event queue: a binary min-heap on (time, insertion order).
 *
 * Ties in time pop in insertion order, so a run is a pure function of its
 * inputs (seed included) on every engine: no comparison ever depends on
 * object identity or on the sort's stability. Times and sequence numbers
 * live in typed arrays beside the payloads, so a push or pop moves numbers,
 * not objects, and the heap never allocates once grown.
 */

/**
 * A min-heap of payloads keyed by time.
 *
 * @example
 * const q = new EventQueue<string>();
 * q.push(5, 'b'); q.push(1, 'a'); q.push(5, 'c');
 * q.pop(); // 'a' (time 1), then 'b', then 'c' (same time: insertion order)
 */
export class EventQueue<T> {
  private times = new Float64Array(64);
  private seqs = new Float64Array(64);
  private items: (T | undefined)[] = new Array<T | undefined>(64);
  private n = 0;
  private nextSeq = 0;

  get size(): number {
    return this.n;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.times[0]! : Infinity;
  }

  /** The earliest payload without removing it; undefined when empty. */
  peek(): T | undefined {
    return this.n > 0 ? this.items[0] : undefined;
  }

  push(time: number, item: T): void {
    if (Number.isNaN(time)) throw new RangeError('event time is NaN');
    if (this.n === this.times.length) this.grow();
    const seq = this.nextSeq++;
    // Sift up: move parents down until the slot fits, then write once.
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = this.times[p]!;
      if (pt < time || (pt === time && this.seqs[p]! < seq)) break;
      this.times[i] = pt;
      this.seqs[i] = this.seqs[p]!;
      this.items[i] = this.items[p];
      i = p;
    }
    this.times[i] = time;
    this.seqs[i] = seq;
    this.items[i] = item;
  }

  /** Removes and returns the earliest payload; undefined when empty. */
  pop(): T | undefined {
    if (this.n === 0) return undefined;
    const top = this.items[0];
    const last = --this.n;
    if (last > 0) {
      const t = this.times[last]!;
      const s = this.seqs[last]!;
      const item = this.items[last];
      // Sift down the former last element from the root.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        let c = l;
        if (r < last) {
          const lt = this.times[l]!;
          const rt = this.times[r]!;
          if (rt < lt || (rt === lt && this.seqs[r]! < this.seqs[l]!)) c = r;
        }
        const ct = this.times[c]!;
        if (t < ct || (t === ct && s < this.seqs[c]!)) break;
        this.times[i] = ct;
        this.seqs[i] = this.seqs[c]!;
        this.items[i] = this.items[c];
        i = c;
      }
      this.times[i] = t;
      this.seqs[i] = s;
      this.items[i] = item;
    }
    this.items[last] = undefined;
    return top;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const times = new Float64Array(cap);
    times.set(this.times);
    const seqs = new Float64Array(cap);
    seqs.set(this.seqs);
    this.times = times;
    this.seqs = seqs;
    this.items.length = cap;
  }
}
