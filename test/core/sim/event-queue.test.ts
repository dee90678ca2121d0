import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../../core/sim/event-queue';

describe('EventQueue', () => {
  it('pops in time order, ties in insertion order', () => {
    const q = new EventQueue<string>();
    q.push(5, 'b');
    q.push(1, 'a');
    q.push(5, 'c');
    q.push(3, 'x');
    expect(q.peekTime()).toBe(1);
    expect([q.pop(), q.pop(), q.pop(), q.pop(), q.pop()]).toEqual(['a', 'x', 'b', 'c', undefined]);
    expect(q.peekTime()).toBe(Infinity);
  });

  it('refuses a NaN time', () => {
    expect(() => new EventQueue<number>().push(Number.NaN, 1)).toThrow(/NaN/);
  });

  it('agrees with a stable sort under interleaved pushes and pops (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 400 }), (ops) => {
        const q = new EventQueue<number>();
        const model: { t: number; id: number }[] = [];
        let id = 0;
        for (const [t, popFirst] of ops) {
          if (popFirst && model.length > 0) {
            model.sort((a, b) => a.t - b.t || a.id - b.id);
            expect(q.pop()).toBe(model.shift()!.id);
          }
          q.push(t, id);
          model.push({ t, id: id++ });
        }
        model.sort((a, b) => a.t - b.t || a.id - b.id);
        const rest: number[] = [];
        while (q.size > 0) rest.push(q.pop()!);
        expect(rest).toEqual(model.map((m) => m.id));
      }),
      { numRuns: 200 },
    );
  });
});
