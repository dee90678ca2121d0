/**
 * The fleet registry: which tail-function instances exist, and which of them
 * are busy, kept in one DynamoDB table.
 *
 * Item schema (one item per execution environment):
 *
 * | attribute   | type   | meaning |
 * |-------------|--------|---------|
 * | `fn`        | S (PK) | `<model>#<cut>`; a tail's IAM policy limits it to its own key (`dynamodb:LeadingKeys`) |
 * | `instance`  | S (SK) | the execution environment's id: the hex id of its log stream (`AWS_LAMBDA_LOG_STREAM_NAME`), which the platform (and the local emulator) can name too; also the `x-offload-instance` header |
 * | `model`     | S      | partition key of the GSI `byModel` (sort key `fn`): the planner reads a model's fleet in ONE query |
 * | `cut`       | N      | the cut the function serves |
 * | `functionName` | S   | the Lambda function name, when known |
 * | `state`     | S      | `busy` \| `idle` \| `gone` (the environment shut down or crashed; kept for its cold-start measurement) |
 * | `inFlight`  | N      | 1 while busy, else 0 (a Lambda environment serves one request at a time) |
 * | `invocations` | N    | invocations that reached this environment so far (the planner's ledger matches its reservations against it) |
 * | `boot`      | N      | epoch ms the writing process started: a newer process in the same environment (a re-init after a crash) takes the item over |
 * | `seq`       | N      | per-process write counter; every write is conditional on (`boot`, `seq`) growing, so a retried or reordered write never overwrites a newer state |
 * | `startedAt` | N      | epoch ms the environment's process started |
 * | `initMs`    | N      | how long its init (artifact download + model build + warm-up) took |
 * | `coldStartMs` | N    | environment start → first response ready, minus that response's compute: the cold start as the client sees it (minus sandbox creation) |
 * | `lastSeen`  | N      | epoch ms of its latest write |
 * | `busyUntil` | N      | epoch ms after which a `busy` mark no longer counts (the invocation's deadline) |
 * | `expiresAt` | N      | epoch SECONDS; the table's TTL attribute |
 *
 * Rules (docs/functions.md "Fleet registry"): an environment is `busy` from
 * the moment an invocation reaches it (before any compute, and before its
 * init when the invocation is what started it) until that invocation's
 * compute has ended; `gone` once it shuts down (SIGTERM in the Shutdown
 * phase) or, locally, once the emulator saw it crash. An instance whose
 * `lastSeen` is older than the keep-alive (default {@link DEFAULT_KEEPALIVE_MS})
 * is treated as reaped: the backstop for an environment that ended without a
 * word. A `busy` mark stops counting at `busyUntil`.
 */
import * as z from 'zod';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { REGISTRY_KEYS, fleetKey, registryItemKey } from '../../core/registry-keys';
import { InstanceRegistrar as WriterRegistrar, TTL_SECONDS, type InstanceRegistrarOptions as WriterOptions, type RegistryWriter } from './registrar';
import { documentClientWriter } from './aws';

export { fleetKey } from '../../core/registry-keys';
// the tail's writer lives apart, free of SDK values (./registrar.ts); its callers elsewhere import it from here
export {
  DEFAULT_REGISTRY_WAIT_MS,
  environmentIdFromEnv,
  processStartedAt,
  TTL_SECONDS,
  withinMs,
  type InstanceState,
  type RegistryUpdate,
  type RegistryWriter,
} from './registrar';
export { documentClientWriter } from './aws';

/** An {@link InstanceRegistrar}'s options: a DynamoDB document client or a {@link RegistryWriter} (exactly one). */
export type InstanceRegistrarOptions = Omit<WriterOptions, 'writer'> & { client?: Pick<DynamoDBDocumentClient, 'send'>; writer?: RegistryWriter };

/** The registrar of ./registrar.ts, writing through a DynamoDB document client as well. */
export class InstanceRegistrar extends WriterRegistrar {
  constructor(opts: InstanceRegistrarOptions) {
    if ((opts.client === undefined) === (opts.writer === undefined)) throw new TypeError('InstanceRegistrar: give either client or writer');
    const { client, writer, ...rest } = opts;
    super({ ...rest, writer: writer ?? documentClientWriter(client!) });
  }
}

const { partitionKey: PK, sortKey: SK, modelIndex: MODEL_INDEX, modelAttribute: MODEL, ttlAttribute: TTL } = REGISTRY_KEYS;
/**
 * Default keep-alive: 5 minutes. Only a backstop now: an environment that
 * Lambda reaps marks itself `gone` when it gets SIGTERM (the CDK app registers
 * the extension that makes Lambda send it), so this rule only retires
 * environments that ended without a word (a crash in AWS). Lambda keeps idle
 * environments for an undocumented time: 10 min measured in 2019
 * (mikhail.io), SIGTERM ≈6.5 min after the last invocation in the aws-samples
 * graceful-shutdown log (docs/reference-facts.md, "Lambda lifecycle
 * details"); 5 min errs on the side of predicting a cold start that does not
 * happen. Set `FLEET_KEEPALIVE_MS` on the planner (cdk config `planner.fleetKeepAliveMs`) to change it.
 */
export const DEFAULT_KEEPALIVE_MS = 5 * 60_000;
type Clock = () => number;

/** The `seq` of a `gone` mark written by the platform for a dead environment: no late write of that process can follow it. */
export const GONE_SEQ = Number.MAX_SAFE_INTEGER;

export const RegistryItemSchema = z.object({
  [PK]: z.string(),
  [SK]: z.string(),
  [MODEL]: z.string(),
  cut: z.number().int().nonnegative(),
  functionName: z.string().optional(),
  state: z.enum(['busy', 'idle', 'gone']),
  inFlight: z.number().int().nonnegative(),
  invocations: z.number().int().nonnegative().optional(),
  boot: z.number().optional(),
  seq: z.number().int().nonnegative(),
  startedAt: z.number().optional(),
  initMs: z.number().optional(),
  coldStartMs: z.number().nonnegative().optional(),
  lastSeen: z.number(),
  busyUntil: z.number().optional(),
  [TTL]: z.number(),
});
export type RegistryItem = z.infer<typeof RegistryItemSchema>;

/**
 * The platform's word for an environment that died without writing its own
 * `gone` mark (a crash, a timeout, a failed init). Locally the stack calls it
 * when the emulator reports such an end (local/stack.ts); in AWS nothing
 * does (see docs/functions.md): the busy lease and the keep-alive retire it.
 * Only an existing item is touched, and no late write of the dead process
 * can follow it ({@link GONE_SEQ}); a newer process of the same environment still can.
 */
export async function markEnvironmentGone(client: DynamoDBDocumentClient, table: string, key: { model: string; cut: number; instance: string }, now = Date.now()): Promise<void> {
  try {
    await client.send(
      new UpdateCommand({
        TableName: table,
        Key: registryItemKey(key.model, key.cut, key.instance),
        UpdateExpression: `SET #state = :gone, inFlight = :zero, seq = :seq, lastSeen = :now, busyUntil = :zero, ${TTL} = :expiresAt`,
        ConditionExpression: `attribute_exists(${PK})`,
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':gone': 'gone', ':zero': 0, ':seq': GONE_SEQ, ':now': now, ':expiresAt': Math.floor(now / 1000) + TTL_SECONDS },
      }),
    );
  } catch (err) {
    // never registered (died in init before its first write): nothing to retire
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
  }
}

/** What the planner needs of one tail function: docs/cost-model.md §2 fleet state (limit comes from deployment config). */
export interface FunctionFleet {
  idleWarm: number;
  inFlight: number;
  /** Live instances (within the keep-alive). */
  instances: number;
  /** Median measured cold start of the function's instances (live or not, within the TTL horizon), ms. */
  coldStartMs?: number;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * When a plan's request would reach a cut's tail (epoch ms) and how long the
 * tail would keep an environment busy (its predicted warm compute, ms), plus
 * the cut's predicted cold start: a plan asks whether an environment will be
 * free then, not at the plan.
 */
export interface ArrivalWindow {
  atMs: number;
  busyMs: number;
  coldStartMs: number;
}

/**
 * Folds registry items into per-cut fleet state at time `now`: `gone` items
 * and items past the keep-alive are not live; a busy mark counts until its
 * lease (`busyUntil`) ends. With `arrivals`, a cut's busy mark counts as idle
 * when its invocation is predicted to end by the plan's arrival there: it
 * started at the mark's `lastSeen` (the mark is written as the invocation
 * reaches the environment, and again with `initMs` once a cold init is done)
 * and takes the cut's warm tail time, plus its cold start while `initMs` is
 * not written yet. A mark already past that predicted end at `now` stays
 * busy: its tail runs slower than predicted, so the prediction is not trusted.
 */
export function summariseFleet(
  items: readonly RegistryItem[],
  now: number,
  keepAliveMs: number,
  arrivals?: ReadonlyMap<number, ArrivalWindow>,
): Map<number, FunctionFleet> {
  const out = new Map<number, FunctionFleet>();
  // Cold-start measurements outlive their instances (a reaped instance still measured its start);
  // the TTL horizon bounds how old a measurement may be.
  const colds = new Map<number, number[]>();
  for (const item of items) {
    if (item.coldStartMs === undefined || now - item.lastSeen > TTL_SECONDS * 1000) continue;
    colds.set(item.cut, [...(colds.get(item.cut) ?? []), item.coldStartMs]);
  }
  for (const [cut, values] of colds) {
    out.set(cut, { idleWarm: 0, inFlight: 0, instances: 0, coldStartMs: median(values) });
  }
  for (const item of items) {
    if (item.state === 'gone' || now - item.lastSeen > keepAliveMs) continue;
    const entry = out.get(item.cut) ?? { idleWarm: 0, inFlight: 0, instances: 0 };
    const window = arrivals?.get(item.cut);
    const endsAt = window ? item.lastSeen + window.busyMs + (item.initMs === undefined ? window.coldStartMs : 0) : Infinity;
    // A mark already past its predicted end is a tail slower than predicted (or stuck): it stays busy.
    const endsInTime = window !== undefined && now < endsAt && endsAt <= window.atMs;
    const busy = item.state === 'busy' && (item.busyUntil ?? 0) > now && !endsInTime;
    if (busy) entry.inFlight += 1;
    else entry.idleWarm += 1;
    entry.instances += 1;
    out.set(item.cut, entry);
  }
  return out;
}

export interface FleetReaderOptions {
  client: DynamoDBDocumentClient;
  table: string;
  keepAliveMs?: number;
  /** How long a model's query result is reused; default {@link DEFAULT_FLEET_CACHE_MS}. */
  cacheMs?: number;
  now?: Clock;
}

/**
 * Default cache: 100 ms. Busy and idle marks land before compute starts and
 * before the response leaves, so the registry follows the fleet within a
 * write; the cache is what delays the planner's view, by up to its period.
 * bench/fleet-truth.ts measures the agreement of plans with the emulator's
 * truth (plans every 100 ms during bursts): the period is chosen to keep it at
 * ≥ 95 % exact while sparing a query to plans issued back to back (a burst
 * of devices planning at once). What changes within the period because of
 * this planner's own plans is covered by the {@link ReservationLedger}.
 */
export const DEFAULT_FLEET_CACHE_MS = 100;

/** One read of a model's fleet: the items and when they were read. */
export interface FleetSnapshot {
  items: RegistryItem[];
  /** Epoch ms of the query (older than now when served from the cache). */
  readAt: number;
}

/** The planner side: reads a model's fleet with one GSI query, cached briefly. */
export class FleetReader {
  private readonly opts: Required<Omit<FleetReaderOptions, 'now'>> & { now: Clock };
  private readonly cache = new Map<string, FleetSnapshot>();

  constructor(opts: FleetReaderOptions) {
    this.opts = {
      client: opts.client,
      table: opts.table,
      keepAliveMs: opts.keepAliveMs ?? DEFAULT_KEEPALIVE_MS,
      cacheMs: opts.cacheMs ?? DEFAULT_FLEET_CACHE_MS,
      now: opts.now ?? Date.now,
    };
  }

  get keepAliveMs(): number {
    return this.opts.keepAliveMs;
  }

  /** Per-cut fleet state of `model` now. */
  async read(model: string): Promise<Map<number, FunctionFleet>> {
    const now = this.opts.now();
    const { items } = await this.snapshot(model, now);
    return summariseFleet(items, now, this.opts.keepAliveMs);
  }

  /** The raw items of `model` (cached for `cacheMs`). */
  async items(model: string, now = this.opts.now()): Promise<RegistryItem[]> {
    return (await this.snapshot(model, now)).items;
  }

  /** The raw items of `model` and when they were read (cached for `cacheMs`). */
  async snapshot(model: string, now = this.opts.now()): Promise<FleetSnapshot> {
    const hit = this.cache.get(model);
    if (hit && now - hit.readAt < this.opts.cacheMs) return hit;
    const items: RegistryItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.opts.client.send(
        new QueryCommand({
          TableName: this.opts.table,
          IndexName: MODEL_INDEX,
          KeyConditionExpression: '#model = :model',
          ExpressionAttributeNames: { '#model': MODEL },
          ExpressionAttributeValues: { ':model': model },
          ExclusiveStartKey: start,
        }),
      );
      for (const raw of page.Items ?? []) {
        const parsed = RegistryItemSchema.safeParse(raw);
        if (parsed.success) items.push(parsed.data); // a foreign or half-written item is ignored, not fatal
      }
      start = page.LastEvaluatedKey;
    } while (start);
    const snap = { items, readAt: now };
    this.cache.set(model, snap);
    return snap;
  }

  /** Drops cached results (tests, or after a deployment change). */
  invalidate(model?: string): void {
    if (model === undefined) this.cache.clear();
    else this.cache.delete(model);
  }
}

interface Reservation {
  model: string;
  cut: number;
  expiresAt: number;
  /** Predicted tail interval of its request (epoch ms): arrival at the tail, end of its compute there. */
  startsAt: number;
  busyUntil: number;
}

/** Invocations per instance of one cut, as a registry read showed them. */
type Arrivals = Map<string, number>;

function arrivalsOf(items: readonly RegistryItem[], cut: number): Arrivals {
  const out: Arrivals = new Map();
  for (const item of items) if (item.cut === cut && item.invocations !== undefined) out.set(item.instance, item.invocations);
  return out;
}

/**
 * The planner's memory of the requests it just sent to the cloud, so that two
 * plans issued back to back do not both count on the same idle instance.
 * Each reservation takes one idle instance if one is left (else it adds a
 * request that will start a new one) and counts as in flight until its
 * request shows in the registry — an invocation counted (`invocations`) on
 * some instance of the cut after the read the reservation was made on; from
 * then on the registry's busy mark counts it, and counting both would see
 * one request twice. A reservation whose request never arrives (a 429, a
 * device that gave up) expires at the plan's predicted latency plus a slack.
 *
 * Arrivals are matched oldest reservation first, and every arrival after the
 * baseline read is taken for one of ours: a request from a device this
 * planner did not plan for (another planner instance, a fixed `--cut`) may
 * retire one of our reservations early. The registry shows that request as
 * busy, so the count stays right; only which request is which is guessed.
 *
 * A reservation made with its predicted tail interval (the request's arrival
 * at the tail and the end of its compute there) holds an environment only
 * over that interval: a plan that gives its own arrival windows counts the
 * reservations whose interval overlaps its own, so a request that will have
 * finished before another arrives does not make that one plan cold.
 */
export class ReservationLedger {
  private reservations: Reservation[] = [];
  /** Per `model#cut`: invocations per instance at the read reservations are matched from. */
  private readonly baselines = new Map<string, Arrivals>();
  private readonly now: Clock;

  constructor(opts: { now?: Clock } = {}) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Records one request planned to `model`/`cut`, held for at most `holdMs`.
   * `items`: the registry read the plan used; arrivals are counted from it.
   */
  reserve(model: string, cut: number, holdMs: number, items?: readonly RegistryItem[], tail?: { startsInMs: number; busyMs: number }): void {
    this.prune();
    const key = fleetKey(model, cut);
    if (items && !this.reservations.some((r) => r.model === model && r.cut === cut)) this.baselines.set(key, arrivalsOf(items, cut));
    const now = this.now();
    const expiresAt = now + Math.max(0, holdMs);
    const startsAt = tail ? now + tail.startsInMs : now;
    this.reservations.push({ model, cut, expiresAt, startsAt, busyUntil: tail ? startsAt + tail.busyMs : expiresAt });
  }

  /** Active reservations of `model` by cut; with `arrivals`, only those whose tail interval overlaps the cut's window. */
  active(model: string, arrivals?: ReadonlyMap<number, ArrivalWindow>): Map<number, number> {
    this.prune();
    const out = new Map<number, number>();
    for (const r of this.reservations) {
      if (r.model !== model) continue;
      const w = arrivals?.get(r.cut);
      if (w && !(r.startsAt < w.atMs + w.busyMs && w.atMs < r.busyUntil)) continue;
      out.set(r.cut, (out.get(r.cut) ?? 0) + 1);
    }
    return out;
  }

  /**
   * Retires the reservations of `model` whose requests `items` (a newer
   * registry read) shows as arrived.
   */
  reconcile(model: string, items: readonly RegistryItem[]): void {
    this.prune();
    const cuts = new Set(this.reservations.filter((r) => r.model === model).map((r) => r.cut));
    for (const cut of cuts) {
      const key = fleetKey(model, cut);
      const baseline = this.baselines.get(key);
      if (!baseline) continue;
      const current = arrivalsOf(items, cut);
      let arrived = 0;
      for (const [instance, n] of current) arrived += Math.max(0, n - (baseline.get(instance) ?? 0));
      if (arrived === 0) continue;
      // every arrival since the baseline is accounted for (ours, or traffic the registry shows anyway)
      this.baselines.set(key, current);
      for (let i = 0; i < this.reservations.length && arrived > 0; ) {
        const r = this.reservations[i] as Reservation;
        if (r.model === model && r.cut === cut) {
          this.reservations.splice(i, 1);
          arrived -= 1;
        } else i += 1;
      }
    }
  }

  /**
   * The fleet as the planner should see it: registry state plus the requests
   * handed out and not yet shown there. With `items` (the read `fleet` was
   * summarised from) reservations whose requests have arrived are retired first.
   * With `arrivals` (the windows `fleet` was summarised at), only reservations
   * whose tail interval overlaps a cut's window count there.
   */
  apply(model: string, fleet: ReadonlyMap<number, FunctionFleet>, items?: readonly RegistryItem[], arrivals?: ReadonlyMap<number, ArrivalWindow>): Map<number, FunctionFleet> {
    if (items) this.reconcile(model, items);
    const out = new Map<number, FunctionFleet>();
    for (const [cut, f] of fleet) out.set(cut, { ...f });
    for (const [cut, count] of this.active(model, arrivals)) {
      const f = out.get(cut) ?? { idleWarm: 0, inFlight: 0, instances: 0 };
      const taken = Math.min(f.idleWarm, count);
      f.idleWarm -= taken;
      f.inFlight += count;
      out.set(cut, f);
    }
    return out;
  }

  private prune(): void {
    const now = this.now();
    if (this.reservations.some((r) => r.expiresAt <= now)) {
      this.reservations = this.reservations.filter((r) => r.expiresAt > now);
      for (const key of [...this.baselines.keys()]) {
        if (!this.reservations.some((r) => fleetKey(r.model, r.cut) === key)) this.baselines.delete(key);
      }
    }
  }
}

/**
 * Creates the registry table as the CDK app defines it (for tests and the
 * local stack; dynalite has no TTL API, so TTL is left to the CDK app).
 */
export async function createRegistryTable(client: DynamoDBClient, table: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: PK, AttributeType: 'S' },
        { AttributeName: SK, AttributeType: 'S' },
        { AttributeName: MODEL, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: PK, KeyType: 'HASH' },
        { AttributeName: SK, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: MODEL_INDEX,
          KeySchema: [
            { AttributeName: MODEL, KeyType: 'HASH' },
            { AttributeName: PK, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}

/** Writes an item as-is (tests and tools that seed a fleet). */
export async function putRegistryItem(client: DynamoDBDocumentClient, table: string, item: RegistryItem): Promise<void> {
  await client.send(new PutCommand({ TableName: table, Item: item }));
}
