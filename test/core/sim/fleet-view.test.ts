import { describe, expect, it } from 'vitest';
import { Fleet, type TailFunctionSpec } from '../../../core/sim/fleet';
import { FleetView, PLANNER_FLEET_CACHE_MS, PLANNER_KEEPALIVE_MS, PLANNER_RESERVATION_SLACK_MS } from '../../../core/sim/fleet-view';
import { DEFAULT_FLEET_CACHE_MS, DEFAULT_KEEPALIVE_MS } from '../../../functions/commons/registry';
import { RESERVATION_SLACK_MS } from '../../../functions/commons/planner';

function spec(over: Partial<TailFunctionSpec> = {}): TailFunctionSpec {
  return { model: 'm', cut: 1, memoryMB: 1024, reservedConcurrency: 5, provisionedConcurrency: 0, coldStartMs: 500, tailMs: 40, ...over };
}

describe('FleetView', () => {
  it('uses the planner function defaults (cache period, keep-alive, reservation slack)', () => {
    expect(PLANNER_FLEET_CACHE_MS).toBe(DEFAULT_FLEET_CACHE_MS);
    expect(PLANNER_KEEPALIVE_MS).toBe(DEFAULT_KEEPALIVE_MS);
    expect(PLANNER_RESERVATION_SLACK_MS).toBe(RESERVATION_SLACK_MS);
  });

  it('without initVisible, does not see an environment during its init, sees it busy after, idle once released', () => {
    const fleet = new Fleet([spec()]);
    const view = new FleetView(fleet, [0], { cacheMs: 0, initVisible: false });
    fleet.acquire(0, 0);
    expect(view.read(10)[0]).toEqual({ idleWarm: 0, inFlight: 0, limit: 5 });
    fleet.initDone(0);
    expect(view.read(500)[0]).toMatchObject({ idleWarm: 0, inFlight: 1 });
    fleet.release(0, 540, 'cold', 540);
    expect(view.read(541)[0]).toMatchObject({ idleWarm: 1, inFlight: 0 });
  });

  it('counts an initialising environment as busy by default (the tail marks itself before its init)', () => {
    const fleet = new Fleet([spec()]);
    const view = new FleetView(fleet, [0], { cacheMs: 0 });
    fleet.acquire(0, 0);
    expect(view.read(10)[0]).toMatchObject({ idleWarm: 0, inFlight: 1 });
  });

  it('reuses one registry read for cacheMs: a change inside the period is seen at the next read', () => {
    const fleet = new Fleet([spec()]);
    const view = new FleetView(fleet, [0], { cacheMs: 1000 });
    fleet.acquire(0, 0);
    fleet.initDone(0);
    expect(view.read(100)[0]!.inFlight).toBe(1);
    fleet.release(0, 200, 'cold', 200);
    expect(view.read(1099)[0]).toMatchObject({ idleWarm: 0, inFlight: 1 }); // stale
    expect(view.read(1100)[0]).toMatchObject({ idleWarm: 1, inFlight: 0 }); // refreshed
    expect(view.reads).toBe(2);
  });

  it('applies the planner keep-alive rule: an idle environment older than it is planned as cold though alive', () => {
    const fleet = new Fleet([spec()], { keepAliveMs: 10 * 60_000 });
    const view = new FleetView(fleet, [0], { cacheMs: 0, keepAliveMs: 5 * 60_000 });
    fleet.acquire(0, 0);
    fleet.initDone(0);
    fleet.release(0, 1000, 'cold', 1000);
    expect(view.read(1000 + 5 * 60_000)[0]!.idleWarm).toBe(1);
    expect(view.read(1001 + 5 * 60_000)[0]!.idleWarm).toBe(0);
    expect(fleet.acquire(0, 2000 + 5 * 60_000)).toBe('warm'); // the fleet still has it
  });

  it('keeps a reaped environment in view until the keep-alive rule drops it, or reapVisibleMs after the reap', () => {
    const run = (reapVisibleMs: number) => {
      const fleet = new Fleet([spec()], { keepAliveMs: 60_000 });
      const view = new FleetView(fleet, [0], { cacheMs: 0, keepAliveMs: 5 * 60_000, reapVisibleMs });
      fleet.acquire(0, 0);
    fleet.initDone(0);
    fleet.release(0, 0, 'cold', 0);
      return [view.read(61_000)[0]!.idleWarm, view.read(62_001)[0]!.idleWarm, view.read(300_001)[0]!.idleWarm];
    };
    expect(run(Infinity)).toEqual([1, 1, 0]); // no gone mark: a ghost for the planner's 5 minutes
    expect(run(2000)).toEqual([1, 0, 0]); // gone 2 s after the reap at 60 s
    expect(run(0)).toEqual([0, 0, 0]); // the default: gone at the reap (SIGTERM)
  });

  it('holds each cloud plan in the ledger: it takes an idle instance and counts in flight until it expires', () => {
    const fleet = new Fleet([spec()]);
    const view = new FleetView(fleet, [0], { cacheMs: 1000, reservationSlackMs: 500, retireOnArrival: false });
    fleet.acquire(0, 0);
    fleet.initDone(0);
    fleet.release(0, 0, 'cold', 0);
    expect(view.read(10)[0]).toMatchObject({ idleWarm: 1, inFlight: 0 });
    view.reserve(0, 10, 100); // held until 610
    expect(view.read(20)[0]).toMatchObject({ idleWarm: 0, inFlight: 1 });
    view.reserve(0, 20, 100); // held until 620
    expect(view.read(30)[0]).toMatchObject({ idleWarm: 0, inFlight: 2 });
    expect(view.read(610)[0]).toMatchObject({ idleWarm: 0, inFlight: 1 });
    expect(view.read(620)[0]).toMatchObject({ idleWarm: 1, inFlight: 0 });
  });

  it('with retireOnArrival, retires a reservation at the first registry read after its request arrived', () => {
    const fleet = new Fleet([spec()]);
    const view = new FleetView(fleet, [0], { cacheMs: 100, reservationSlackMs: 500, retireOnArrival: true });
    const r = view.reserve(0, 0, 1000); // would expire at 1,500
    expect(view.read(0)[0]).toMatchObject({ inFlight: 1 });
    fleet.acquire(0, 50); // the request reaches its tail at 50 (cold: busy from now on)
    fleet.initDone(0);
    r.arrivedAt = 50;
    expect(view.read(60)[0]).toMatchObject({ inFlight: 1 }); // cached read of 0: ledger only
    expect(view.read(100)[0]).toMatchObject({ inFlight: 1 }); // read at 100 shows the busy mark; the reservation is retired
    const lost = view.reserve(0, 200, 100); // a request that never arrives (a 429) expires at 800
    expect(view.read(300)[0]).toMatchObject({ inFlight: 2 });
    expect(view.read(800)[0]).toMatchObject({ inFlight: 1 });
    expect(lost.arrivedAt).toBe(Infinity);
  });

  it('at the arrival: a busy mark predicted to end before the request reaches the tail counts as idle', () => {
    const run = (atArrival: boolean) => {
      const fleet = new Fleet([spec()]);
      const view = new FleetView(fleet, [0], { cacheMs: 0, atArrival });
      fleet.acquire(0, 0); // a warm-up request, cold, its tail busy until 540
      view.busyFrom(0, 540);
      const window = (atMs: number) => ({ atMs: Float64Array.of(atMs), busyMs: Float64Array.of(40) });
      return [view.read(100, window(539))[0]!.idleWarm, view.read(100, window(540))[0]!.idleWarm, view.read(100)[0]!.idleWarm];
    };
    expect(run(true)).toEqual([0, 1, 0]); // arriving at 540 it finds the environment free; without a window, judged now
    expect(run(false)).toEqual([0, 0, 0]); // the earlier rule: busy now is busy for the plan
  });

  it('at the arrival: a reservation holds an environment over its predicted tail interval only', () => {
    const fleet = new Fleet([spec()]);
    const view = new FleetView(fleet, [0], { cacheMs: 0 });
    fleet.acquire(0, 0);
    fleet.initDone(0);
    fleet.release(0, 0, 'cold', 0); // one idle environment
    view.reserve(0, 10, 1000, { startsAt: 300, busyUntil: 340 }); // planned at 10, at the tail from 300 to 340
    const window = (atMs: number) => ({ atMs: Float64Array.of(atMs), busyMs: Float64Array.of(40) });
    expect(view.read(20, window(330))[0]).toMatchObject({ idleWarm: 0, inFlight: 1 }); // overlaps: held
    expect(view.read(20, window(270))[0]).toMatchObject({ idleWarm: 0, inFlight: 1 }); // its tail (270-310) would run into the other's
    expect(view.read(20, window(260))[0]).toMatchObject({ idleWarm: 1, inFlight: 0 }); // 260-300: done as the other arrives
    expect(view.read(20, window(340))[0]).toMatchObject({ idleWarm: 1, inFlight: 0 }); // arrives as the other one is done
    expect(view.read(20, window(200))[0]).toMatchObject({ idleWarm: 1, inFlight: 0 }); // done before the other one arrives
    expect(view.read(20)[0]).toMatchObject({ idleWarm: 0, inFlight: 1 }); // without a window: held from the plan
  });

  it('plans provisioned environments as warm when not busy: max(idleWarm, provisioned - inFlight)', () => {
    const fleet = new Fleet([spec({ provisionedConcurrency: 2 })]);
    const view = new FleetView(fleet, [0], { cacheMs: 0 });
    expect(view.read(0)[0]).toMatchObject({ idleWarm: 2, inFlight: 0 });
    view.reserve(0, 0, 100);
    view.reserve(0, 0, 100);
    view.reserve(0, 0, 100);
    expect(view.read(1)[0]).toMatchObject({ idleWarm: 0, inFlight: 3 });
  });
});
