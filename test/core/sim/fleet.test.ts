import { describe, expect, it } from 'vitest';
import { Fleet, checkAccount, type TailFunctionSpec } from '../../../core/sim/fleet';

function spec(over: Partial<TailFunctionSpec> = {}): TailFunctionSpec {
  return { model: 'm', cut: 1, memoryMB: 1024, reservedConcurrency: 2, provisionedConcurrency: 0, coldStartMs: 500, tailMs: 40, ...over };
}

describe('Fleet (one function)', () => {
  it('starts cold, then reuses the warm environment', () => {
    const fleet = new Fleet([spec()]);
    // Prepare / Act
    const first = fleet.acquire(0, 0);
    fleet.initDone(0);
    fleet.release(0, 540, first, 540);
    const second = fleet.acquire(0, 1000);
    // Assess
    expect(first).toBe('cold');
    expect(second).toBe('warm');
    expect(fleet.functions[0]!.counters).toMatchObject({ invocations: 2, cold: 1, warm: 1, onDemandMs: 540 });
  });

  it('reaps an idle environment once its keep-alive has passed, and the next request is cold again', () => {
    const fleet = new Fleet([spec()], { keepAliveMs: 60_000 });
    fleet.release(0, 540, fleet.acquire(0, 0), 540);
    expect(fleet.acquire(0, 540 + 59_999)).toBe('warm');
    fleet.release(0, 60_600, 'warm', 40);
    // Last used at 60,600: still there at 120,599, gone at 120,600.
    fleet.reap(fleet.functions[0]!, 120_599);
    expect(fleet.functions[0]!.idleCount).toBe(1);
    expect(fleet.acquire(0, 120_600)).toBe('cold');
    expect(fleet.functions[0]!.counters.reaped).toBe(1);
  });

  it('reuses the most recently used environment, so the oldest is the one reaped', () => {
    const fleet = new Fleet([spec()], { keepAliveMs: 1000 });
    const a = fleet.acquire(0, 0);
    const b = fleet.acquire(0, 0);
    fleet.release(0, 100, a, 100);
    fleet.release(0, 600, b, 600);
    expect(fleet.acquire(0, 700)).toBe('warm'); // takes the one idle since 600
    fleet.release(0, 1200, 'warm', 500);
    fleet.reap(fleet.functions[0]!, 1150); // the one idle since 100 is gone by 1100
    expect(fleet.functions[0]!.idleCount).toBe(1);
    expect(fleet.functions[0]!.idleAt(0)).toBe(1200);
  });

  it('answers 429 at the reserved concurrency, and serves again once an environment is free', () => {
    const fleet = new Fleet([spec({ reservedConcurrency: 2 })]);
    const a = fleet.acquire(0, 0);
    fleet.acquire(0, 1);
    expect(fleet.acquire(0, 2)).toBe('throttled-reserved');
    fleet.release(0, 3, a, 3);
    expect(fleet.acquire(0, 4)).toBe('warm');
    expect(fleet.functions[0]!.counters).toMatchObject({ throttledReserved: 1, peakConcurrency: 2 });
  });

  it('never starts a provisioned environment cold, and spills over to on-demand past it', () => {
    const fleet = new Fleet([spec({ reservedConcurrency: 3, provisionedConcurrency: 2 })], { keepAliveMs: 10 });
    expect(fleet.acquire(0, 0)).toBe('provisioned');
    expect(fleet.acquire(0, 0)).toBe('provisioned');
    expect(fleet.acquire(0, 0)).toBe('cold');
    fleet.release(0, 50, 'provisioned', 40);
    // Hours later the provisioned environment is still there (never reaped).
    expect(fleet.acquire(0, 3_600_000)).toBe('provisioned');
    expect(fleet.functions[0]!.counters).toMatchObject({ provisioned: 3, cold: 1, provisionedMs: 40 });
  });

  it('scales at most `burst` new environments, then refills at perSecond', () => {
    const fleet = new Fleet([spec({ reservedConcurrency: null })], { scaling: { burst: 3, perSecond: 1 } });
    expect([0, 1, 2, 3].map(() => fleet.acquire(0, 0))).toEqual(['cold', 'cold', 'cold', 'throttled-scaling']);
    expect(fleet.acquire(0, 999)).toBe('throttled-scaling');
    expect(fleet.acquire(0, 1000)).toBe('cold');
  });
});

describe('Fleet (the account)', () => {
  it('unreserved functions share what reservations leave of the account quota', () => {
    const fleet = new Fleet(
      [spec({ cut: 1, reservedConcurrency: 100 }), spec({ cut: 2, reservedConcurrency: null }), spec({ cut: 3, reservedConcurrency: null })],
      { accountConcurrency: 200 },
    );
    expect(fleet.unreservedPool).toBe(100);
    // 60 on one unreserved function, 40 on the other: the pool is full.
    for (let k = 0; k < 60; k++) expect(fleet.acquire(1, 0)).toBe('cold');
    for (let k = 0; k < 40; k++) expect(fleet.acquire(2, 0)).toBe('cold');
    expect(fleet.acquire(1, 0)).toBe('throttled-account');
    // An idle environment of an unreserved function does not get around the pool either.
    fleet.release(2, 10, 'cold', 10);
    expect(fleet.acquire(1, 11)).toBe('cold');
    expect(fleet.acquire(2, 12)).toBe('throttled-account');
    // The reserved function is not touched by the pool.
    expect(fleet.acquire(0, 12)).toBe('cold');
  });

  it('requires 100 unreserved and provisioned <= reserved, naming what is wrong', () => {
    expect(() => checkAccount([spec({ reservedConcurrency: 901 })], 1000)).toThrow(/reserve 901 of an account quota of 1000.*at most 900/);
    expect(() => checkAccount([spec({ reservedConcurrency: 900 })], 1000)).not.toThrow();
    expect(() => checkAccount([spec({ reservedConcurrency: 2, provisionedConcurrency: 3 })], 1000)).toThrow(/functions\.m#1\.provisionedConcurrency/);
  });
});
