import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamo, useStandInEnv, type StandIn } from '../../local/stand-ins';
import { createDocumentClient } from '../../functions/commons/aws';
import {
  createRegistryTable,
  fleetKey,
  FleetReader,
  InstanceRegistrar,
  environmentIdFromEnv,
  markEnvironmentGone,
  putRegistryItem,
  ReservationLedger,
  summariseFleet,
  documentClientWriter,
  type InstanceRegistrarOptions,
  type RegistryItem,
} from '../../functions/commons/registry';
import { httpRegistryWriter } from '../../functions/commons/dynamo-http';

const TABLE = 'registry-test';

/** The two ways a registrar writes; the tag keeps their items apart in the one table. */
const WRITERS: [string, (doc: DynamoDBDocumentClient) => Pick<InstanceRegistrarOptions, 'client' | 'writer'>][] = [
  ['sdk', (doc) => ({ client: doc })],
  ['http', () => ({ writer: httpRegistryWriter(process.env) })],
];

describe('fleet registry against dynalite', () => {
  let ddb: StandIn;
  let restoreEnv: () => void;
  let doc: ReturnType<typeof createDocumentClient>;

  beforeAll(async () => {
    ddb = await startDynamo();
    restoreEnv = useStandInEnv({ dynamodb: ddb.endpoint });
    await createRegistryTable(new DynamoDBClient({}), TABLE);
    doc = createDocumentClient();
  });

  afterAll(async () => {
    doc.destroy();
    await ddb.close();
    restoreEnv();
  });

  // the tail writes through signed HTTP requests (functions/commons/dynamo-http.ts); other callers through the SDK
  describe.each(WRITERS)('an instance registrar writing through %s', (tag, via) => {
    it('registers, marks busy then idle, and keeps the identity attributes', async () => {
      // Prepare
      const reg = new InstanceRegistrar({ ...via(doc), table: TABLE, model: `m1${tag}`, cut: 2, instance: 'i-1', functionName: 'tail-m1-2' });
      const key = { fn: fleetKey(`m1${tag}`, 2), instance: 'i-1' };

      // Act
      await reg.register({ initMs: 123 });
      await reg.markBusy(Date.now() + 30_000);
      const busy = (await doc.send(new GetCommand({ TableName: TABLE, Key: key }))).Item;
      await reg.markIdle();
      const idle = (await doc.send(new GetCommand({ TableName: TABLE, Key: key }))).Item;

      // Assess
      expect(busy).toMatchObject({ model: `m1${tag}`, cut: 2, state: 'busy', inFlight: 1, initMs: 123, functionName: 'tail-m1-2' });
      expect(idle).toMatchObject({ state: 'idle', inFlight: 0, seq: 3 });
      expect(idle?.expiresAt).toBeGreaterThan(Date.now() / 1000);
    });

    it('never lets an older write overwrite a newer one', async () => {
      const reg = new InstanceRegistrar({ ...via(doc), table: TABLE, model: `m2${tag}`, cut: 0, instance: 'i-2' });
      await reg.markIdle();
      // A stale write (lower seq) arriving late, as after an SDK retry.
      const logged: Record<string, unknown>[] = [];
      const stale = new InstanceRegistrar({ ...via(doc), table: TABLE, model: `m2${tag}`, cut: 0, instance: 'i-2', log: (line) => logged.push(line) });
      await reg.markIdle(); // seq 2
      await stale.markBusy(Date.now() + 30_000); // seq 1 → rejected by the condition
      expect(logged).toEqual([]); // a failed condition is told from a failed write: nothing to report
      const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: { fn: fleetKey(`m2${tag}`, 0), instance: 'i-2' } }))).Item;
      expect(item).toMatchObject({ state: 'idle', seq: 2 });
    });

    it('queued background writes land in order without being awaited', async () => {
      const reg = new InstanceRegistrar({ ...via(doc), table: TABLE, model: `m3${tag}`, cut: 1, instance: 'i-3' });
      void reg.register({ initMs: 5 });
      void reg.markBusy(Date.now() + 30_000);
      void reg.markIdle();
      void reg.markBusy(Date.now() + 30_000);
      await reg.flush();
      const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: { fn: fleetKey(`m3${tag}`, 1), instance: 'i-3' } }))).Item;
      expect(item).toMatchObject({ state: 'busy', seq: 4 });
    });

    it('collapses states queued behind an in-flight write, so a fast stream cannot build a backlog', async () => {
      // Prepare: count the requests that reach DynamoDB
      let sends = 0;
      const through = via(doc);
      const write = through.writer ?? documentClientWriter(through.client!);
      const reg = new InstanceRegistrar({ writer: (u) => ((sends += 1), write(u)), table: TABLE, model: `m4${tag}`, cut: 1, instance: 'i-4' });

      // Act: 101 states queued without waiting
      void reg.register({ initMs: 1 });
      for (let i = 0; i < 50; i++) {
        void reg.markBusy(Date.now() + 30_000);
        void reg.markIdle();
      }
      await reg.flush();

      // Assess: the first write went out alone, the other 100 collapsed into one; the newest state won
      expect(sends).toBe(2);
      const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: { fn: fleetKey(`m4${tag}`, 1), instance: 'i-4' } }))).Item;
      expect(item).toMatchObject({ state: 'idle', seq: 101 });
    });

    it('a gone mark is final for its process, and a newer process of the same environment takes the item over', async () => {
      const key = { fn: fleetKey(`m5${tag}`, 1), instance: 'env-5' };
      const get = async () => (await doc.send(new GetCommand({ TableName: TABLE, Key: key }))).Item;
      const first = new InstanceRegistrar({ ...via(doc), table: TABLE, model: `m5${tag}`, cut: 1, instance: 'env-5', boot: 1000 });
      await first.markBusy(Date.now() + 30_000);
      await first.markGone();
      await first.markIdle(); // dropped: the process said it is gone
      expect(await get()).toMatchObject({ state: 'gone', inFlight: 0, invocations: 1 });

      // a re-init in the same environment (Lambda resets a crashed runtime in place) registers again
      const second = new InstanceRegistrar({ ...via(doc), table: TABLE, model: `m5${tag}`, cut: 1, instance: 'env-5', boot: 2000 });
      await second.markBusy(Date.now() + 30_000);
      expect(await get()).toMatchObject({ state: 'busy', boot: 2000, seq: 1, invocations: 1 });
      // while a late write of the older process cannot overwrite it
      const late = new InstanceRegistrar({ ...via(doc), table: TABLE, model: `m5${tag}`, cut: 1, instance: 'env-5', boot: 1000 });
      for (let i = 0; i < 5; i++) await late.markIdle();
      expect(await get()).toMatchObject({ state: 'busy', boot: 2000 });
    });

    it('the platform retires a dead environment: no late write of that process revives it, and an unknown one is not created', async () => {
      const reg = new InstanceRegistrar({ ...via(doc), table: TABLE, model: `m6${tag}`, cut: 0, instance: 'env-6' });
      await reg.markBusy(Date.now() + 30_000);

      await markEnvironmentGone(doc, TABLE, { model: `m6${tag}`, cut: 0, instance: 'env-6' });
      await reg.markIdle(); // a write that was still in flight when the process died

      const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: { fn: fleetKey(`m6${tag}`, 0), instance: 'env-6' } }))).Item;
      expect(item).toMatchObject({ state: 'gone', inFlight: 0 });
      await markEnvironmentGone(doc, TABLE, { model: `m6${tag}`, cut: 0, instance: 'never-registered' });
      expect((await doc.send(new GetCommand({ TableName: TABLE, Key: { fn: fleetKey(`m6${tag}`, 0), instance: 'never-registered' } }))).Item).toBeUndefined();
    });
  });

  it('reads a model\'s whole fleet with one query, per cut', async () => {
    // Prepare: two instances on cut 0 (one busy), one on cut 3, one of another model
    const now = Date.now();
    const a = new InstanceRegistrar({ client: doc, table: TABLE, model: 'fleet', cut: 0, instance: 'a' });
    const b = new InstanceRegistrar({ client: doc, table: TABLE, model: 'fleet', cut: 0, instance: 'b' });
    const c = new InstanceRegistrar({ client: doc, table: TABLE, model: 'fleet', cut: 3, instance: 'c' });
    const other = new InstanceRegistrar({ client: doc, table: TABLE, model: 'other', cut: 0, instance: 'd' });
    await Promise.all([a.register({ initMs: 1 }), b.markBusy(now + 30_000), c.register({ initMs: 1 }), other.register({ initMs: 1 })]);
    const reader = new FleetReader({ client: doc, table: TABLE, cacheMs: 0 });

    // Act
    const fleet = await reader.read('fleet');

    // Assess
    expect(Object.fromEntries(fleet)).toEqual({
      0: { idleWarm: 1, inFlight: 1, instances: 2 },
      3: { idleWarm: 1, inFlight: 0, instances: 1 },
    });
  });

  it('serves from its cache within cacheMs and re-reads after', async () => {
    let clock = Date.now();
    const reader = new FleetReader({ client: doc, table: TABLE, cacheMs: 1000, now: () => clock });
    const before = await reader.read('cached');
    const reg = new InstanceRegistrar({ client: doc, table: TABLE, model: 'cached', cut: 1, instance: 'x' });
    await reg.register({ initMs: 1 });
    const withinCache = await reader.read('cached');
    clock += 1001;
    const after = await reader.read('cached');
    expect(before.size).toBe(0);
    expect(withinCache.size).toBe(0);
    expect(after.get(1)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1 });
  });

  it('ignores items older than the keep-alive and items it cannot parse', async () => {
    const now = Date.now();
    const stale: RegistryItem = {
      fn: fleetKey('stale', 4), instance: 'old', model: 'stale', cut: 4, state: 'idle', inFlight: 0, seq: 1,
      lastSeen: now - 10 * 60_000, busyUntil: 0, expiresAt: Math.floor(now / 1000) + 60,
    };
    await putRegistryItem(doc, TABLE, stale);
    await putRegistryItem(doc, TABLE, { ...stale, instance: 'fresh', lastSeen: now });
    await doc.send(new PutCommand({ TableName: TABLE, Item: { fn: fleetKey('stale', 4), instance: 'junk', model: 'stale' } }));
    const reader = new FleetReader({ client: doc, table: TABLE, keepAliveMs: 5 * 60_000, cacheMs: 0 });
    expect((await reader.read('stale')).get(4)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1 });
  });
});

describe('summariseFleet', () => {
  const base: RegistryItem = { fn: 'm#1', instance: 'i', model: 'm', cut: 1, state: 'busy', inFlight: 1, seq: 1, lastSeen: 1000, busyUntil: 5000, expiresAt: 10 };

  it('counts a busy mark only until its deadline', () => {
    expect(summariseFleet([base], 4999, 60_000).get(1)).toEqual({ idleWarm: 0, inFlight: 1, instances: 1 });
    expect(summariseFleet([base], 5001, 60_000).get(1)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1 });
  });

  it('with an arrival window, counts a busy mark idle when its invocation is predicted to end by the arrival', () => {
    // busy since 1000 (lastSeen), initialised (initMs written): predicted to end at 1000 + 300 ms of tail
    const running = { ...base, initMs: 800 };
    const at = (atMs: number) => new Map([[1, { atMs, busyMs: 300, coldStartMs: 2000 }]]);
    expect(summariseFleet([running], 1100, 60_000, at(1299)).get(1)).toEqual({ idleWarm: 0, inFlight: 1, instances: 1 });
    expect(summariseFleet([running], 1100, 60_000, at(1300)).get(1)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1 });
    // still in its init (no initMs yet): the cold start comes first
    expect(summariseFleet([base], 1100, 60_000, at(1300)).get(1)).toEqual({ idleWarm: 0, inFlight: 1, instances: 1 });
    expect(summariseFleet([base], 1100, 60_000, at(3300)).get(1)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1 });
    // a mark past its predicted end (a slow or stuck tail) is not trusted to end by the arrival
    expect(summariseFleet([running], 1400, 60_000, at(1700)).get(1)).toEqual({ idleWarm: 0, inFlight: 1, instances: 1 });
    // another cut's window changes nothing here
    expect(summariseFleet([running], 1100, 60_000, new Map([[2, { atMs: 9999, busyMs: 1, coldStartMs: 1 }]])).get(1)).toMatchObject({ inFlight: 1 });
  });

  it('reports the median measured cold start per cut, from reaped instances too, within the TTL horizon', () => {
    const measured = (instance: string, coldStartMs: number, lastSeen: number): RegistryItem => ({ ...base, instance, state: 'idle', coldStartMs, lastSeen });
    const now = 10 * 60_000;
    const items = [measured('a', 900, now - 1000), measured('b', 700, now - 8 * 60_000), measured('c', 800, now - 9 * 60_000), measured('old', 5, now - 2 * 3600_000)];
    const fleet = summariseFleet(items, now, 5 * 60_000).get(1);
    expect(fleet).toEqual({ idleWarm: 1, inFlight: 0, instances: 1, coldStartMs: 800 });
  });

  it('does not count a gone instance, but keeps its cold-start measurement', () => {
    const items: RegistryItem[] = [{ ...base, state: 'gone', inFlight: 0, coldStartMs: 700 }, { ...base, instance: 'j', state: 'idle', inFlight: 0 }];
    expect(summariseFleet(items, 2000, 60_000).get(1)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1, coldStartMs: 700 });
  });

  it('names the environment from its log stream, as Lambda writes it', () => {
    expect(environmentIdFromEnv({ AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/30/[$LATEST]3f1c0a9b2e4d4c6f8a7b6c5d4e3f2a1b' })).toBe('3f1c0a9b2e4d4c6f8a7b6c5d4e3f2a1b');
    expect(environmentIdFromEnv({ AWS_LAMBDA_LOG_STREAM_NAME: 'no-id-here' })).toBeUndefined();
    expect(environmentIdFromEnv({})).toBeUndefined();
  });

  it('drops an instance past the keep-alive', () => {
    expect(summariseFleet([{ ...base, state: 'idle' }], 1000 + 60_001, 60_000).size).toBe(0);
  });
});

describe('ReservationLedger', () => {
  it('two back-to-back reservations do not both take the one idle instance', () => {
    let clock = 0;
    const ledger = new ReservationLedger({ now: () => clock });
    const fleet = new Map([[2, { idleWarm: 1, inFlight: 0, instances: 1 }]]);
    ledger.reserve('m', 2, 500);
    expect(ledger.apply('m', fleet).get(2)).toEqual({ idleWarm: 0, inFlight: 1, instances: 1 });
    ledger.reserve('m', 2, 500);
    expect(ledger.apply('m', fleet).get(2)).toEqual({ idleWarm: 0, inFlight: 2, instances: 1 });
    // other models are untouched
    expect(ledger.apply('n', fleet).get(2)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1 });
    clock = 501;
    expect(ledger.apply('m', fleet).get(2)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1 });
  });

  it('a reservation with its predicted tail interval holds an environment over that interval only', () => {
    const ledger = new ReservationLedger({ now: () => 0 });
    const fleet = new Map([[2, { idleWarm: 1, inFlight: 0, instances: 1 }]]);
    ledger.reserve('m', 2, 2000, undefined, { startsInMs: 300, busyMs: 400 }); // at the tail from 300 to 700
    const at = (atMs: number) => new Map([[2, { atMs, busyMs: 400, coldStartMs: 1000 }]]);
    expect(ledger.apply('m', fleet, undefined, at(500)).get(2)).toEqual({ idleWarm: 0, inFlight: 1, instances: 1 }); // overlaps
    expect(ledger.apply('m', fleet, undefined, at(700)).get(2)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1 }); // after it
    expect(ledger.apply('m', fleet, undefined, at(-100)).get(2)).toEqual({ idleWarm: 1, inFlight: 0, instances: 1 }); // done before it
    expect(ledger.apply('m', fleet).get(2)).toEqual({ idleWarm: 0, inFlight: 1, instances: 1 }); // no window: held from the plan
  });

  it('a reservation on a cut with no live instance counts as in flight', () => {
    const ledger = new ReservationLedger({ now: () => 0 });
    ledger.reserve('m', 7, 100);
    expect(ledger.apply('m', new Map()).get(7)).toEqual({ idleWarm: 0, inFlight: 1, instances: 0 });
  });
});

describe('ReservationLedger matched against the registry', () => {
  const item = (instance: string, invocations: number, state: RegistryItem['state'] = 'idle'): RegistryItem => ({
    fn: 'm#2', instance, model: 'm', cut: 2, state, inFlight: state === 'busy' ? 1 : 0, invocations, seq: 1, lastSeen: 0, busyUntil: 10_000, expiresAt: 10,
  });

  it('retires a reservation once its request shows in the registry, so it is not counted twice', () => {
    const ledger = new ReservationLedger({ now: () => 0 });
    const before = [item('a', 3), item('b', 1)];
    ledger.reserve('m', 2, 10_000, before);
    // not arrived yet: the reservation stands in for it
    expect(ledger.apply('m', summariseFleet(before, 0, 60_000), before).get(2)).toMatchObject({ idleWarm: 1, inFlight: 1 });
    // arrived on a: the registry's busy mark counts it, the reservation is gone
    const after = [item('a', 4, 'busy'), item('b', 1)];
    expect(ledger.apply('m', summariseFleet(after, 0, 60_000), after).get(2)).toMatchObject({ idleWarm: 1, inFlight: 1 });
    expect(ledger.active('m').get(2)).toBeUndefined();
  });

  it('matches arrivals oldest reservation first, counts a new instance\'s invocations, and keeps the rest', () => {
    const ledger = new ReservationLedger({ now: () => 0 });
    const before = [item('a', 3)];
    ledger.reserve('m', 2, 10_000, before);
    ledger.reserve('m', 2, 10_000, before);
    ledger.reserve('m', 2, 10_000, before);
    // one cold start (new instance c, its first invocation): two of ours still on their way
    const after = [item('a', 3), item('c', 1, 'busy')];
    expect(ledger.apply('m', summariseFleet(after, 0, 60_000), after).get(2)).toMatchObject({ idleWarm: 0, inFlight: 3 });
    expect(ledger.active('m').get(2)).toBe(2);
    // the same read again retires nothing more
    ledger.apply('m', summariseFleet(after, 0, 60_000), after);
    expect(ledger.active('m').get(2)).toBe(2);
  });
});
