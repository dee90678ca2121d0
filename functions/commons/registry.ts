/**
 * The fleet registry: which tail-function instances exist, and which of them
 * are busy, kept in one DynamoDB table.
 *
 * Item schema (one item per execution environment):
 *
 * | attribute   | type   | meaning |
 * |-------------|--------|---------|
 * | `fn`        | S (PK) | `<model>#<cut>`; a tail's IAM policy limits it to its own key (`dynamodb:LeadingKeys`) |
 * | `instance`  | S (SK) | the environment's id (also the `x-offload-instance` header) |
 * | `model`     | S      | partition key of the GSI `byModel` (sort key `fn`): the planner reads a model's fleet in ONE query |
 * | `cut`       | N      | the cut the function serves |
 * | `functionName` | S   | the Lambda function name, when known |
 * | `state`     | S      | `busy` \| `idle` |
 * | `inFlight`  | N      | 1 while busy, else 0 (a Lambda environment serves one request at a time) |
 * | `seq`       | N      | per-instance write counter; every write is conditional on it growing, so a retried or reordered write never overwrites a newer state |
 * | `startedAt` | N      | epoch ms the environment registered |
 * | `initMs`    | N      | how long its init (artifact download + model build) took |
 * | `coldStartMs` | N    | process start → ready, when init ran at module load: the function's measured cold start (minus sandbox creation) |
 * | `lastSeen`  | N      | epoch ms of its latest write |
 * | `busyUntil` | N      | epoch ms after which a `busy` mark no longer counts (the invocation's deadline) |
 * | `expiresAt` | N      | epoch SECONDS; the table's TTL attribute |
 *
 * Keep-alive rule: an instance whose `lastSeen` is older than the keep-alive
 * (default {@link DEFAULT_KEEPALIVE_MS}) is treated as reaped and ignored; TTL
 * deletes it later (`expiresAt` = lastSeen + {@link TTL_SECONDS}). A `busy`
 * mark stops counting at `busyUntil`, so an idle write lost to a frozen
 * environment makes the instance look busy for at most one invocation timeout.
 */
import * as z from 'zod';
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Name of the GSI keyed by `model` (sort key `fn`). */
export const REGISTRY_MODEL_INDEX = 'byModel';
/**
 * Default keep-alive: 5 minutes. Lambda keeps idle environments for an
 * undocumented time (about 10 min measured in 2019); half of that errs on the
 * side of predicting a cold start that does not happen rather than missing one.
 */
export const DEFAULT_KEEPALIVE_MS = 5 * 60_000;
/** TTL horizon after the last write; DynamoDB deletes lazily (up to days), readers filter anyway. */
export const TTL_SECONDS = 3600;

export type InstanceState = 'busy' | 'idle';

/** The registry key of a tail function. */
export function fleetKey(model: string, cut: number): string {
  return `${model}#${cut}`;
}

export const RegistryItemSchema = z.object({
  fn: z.string(),
  instance: z.string(),
  model: z.string(),
  cut: z.number().int().nonnegative(),
  functionName: z.string().optional(),
  state: z.enum(['busy', 'idle']),
  inFlight: z.number().int().nonnegative(),
  seq: z.number().int().nonnegative(),
  startedAt: z.number().optional(),
  initMs: z.number().optional(),
  coldStartMs: z.number().nonnegative().optional(),
  lastSeen: z.number(),
  busyUntil: z.number().optional(),
  expiresAt: z.number(),
});
export type RegistryItem = z.infer<typeof RegistryItemSchema>;

type Clock = () => number;
type Logger = (line: Record<string, unknown>) => void;

const warnLine: Logger = (line) => console.warn(JSON.stringify({ level: 'warn', ...line }));

export interface InstanceRegistrarOptions {
  client: DynamoDBDocumentClient;
  table: string;
  model: string;
  cut: number;
  /** Defaults to a random UUID. */
  instance?: string;
  functionName?: string;
  now?: Clock;
  log?: Logger;
}

/**
 * The tail side: one per execution environment. Writes go out in order, one
 * in flight at a time (newer states queued meanwhile collapse into one), and
 * never throw: the registry is bookkeeping, and a failing write must not fail
 * an inference. Callers may await a write or let it run in the background;
 * {@link flush} waits for the queue.
 *
 * @example
 * const reg = new InstanceRegistrar({ client, table, model: 'm', cut: 3 });
 * reg.register({ initMs: 812 });
 * const busy = reg.markBusy(Date.now() + context.getRemainingTimeInMillis());
 * // ... compute ...
 * reg.markIdle(); // not awaited: the response does not wait for it
 */
export class InstanceRegistrar {
  readonly instance: string;
  private readonly opts: InstanceRegistrarOptions;
  private readonly now: Clock;
  private readonly log: Logger;
  private seq = 0;
  /** The newest state not yet sent, and who waits for it. */
  private pending: { state: InstanceState; busyUntil: number | undefined; seq: number; waiters: (() => void)[] } | undefined;
  /** The writer loop, while one runs. */
  private running: Promise<void> | undefined;
  private startedAt: number | undefined;
  private initMs: number | undefined;
  private coldStartMs: number | undefined;

  constructor(opts: InstanceRegistrarOptions) {
    this.opts = opts;
    this.instance = opts.instance ?? randomUUID();
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? warnLine;
  }

  /** Registers the instance (idle) after a successful init. */
  register(info: { initMs: number; coldStartMs?: number }): Promise<void> {
    this.startedAt = this.now();
    this.initMs = info.initMs;
    this.coldStartMs = info.coldStartMs;
    return this.write('idle', undefined);
  }

  /** Marks the instance busy until `busyUntil` (epoch ms; use the invocation's deadline). */
  markBusy(busyUntil: number): Promise<void> {
    return this.write('busy', busyUntil);
  }

  markIdle(): Promise<void> {
    return this.write('idle', undefined);
  }

  /** Resolves when every queued write has finished (successfully or not). */
  flush(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /**
   * Queues a state. At most one write is in flight; states queued meanwhile
   * collapse into the newest (only the latest state matters, and a busy spell
   * shorter than one write is not worth reporting), so a fast request stream
   * can never build an unbounded backlog of writes.
   */
  private write(state: InstanceState, busyUntil: number | undefined): Promise<void> {
    const seq = ++this.seq;
    return new Promise<void>((resolve) => {
      const waiters = this.pending?.waiters ?? [];
      waiters.push(resolve);
      this.pending = { state, busyUntil, seq, waiters };
      this.running ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const job = this.pending;
      this.pending = undefined;
      await this.send(job.state, job.busyUntil, job.seq);
      for (const done of job.waiters) done();
    }
    this.running = undefined;
  }

  /**
   * One conditional UpdateItem that also (re)writes the identity attributes,
   * so the item is complete even if an earlier write was lost.
   */
  private async send(state: InstanceState, busyUntil: number | undefined, seq: number): Promise<void> {
    const now = this.now();
    const { client, table, model, cut, functionName } = this.opts;
    const values: Record<string, unknown> = {
      ':model': model,
      ':cut': cut,
      ':state': state,
      ':inFlight': state === 'busy' ? 1 : 0,
      ':seq': seq,
      ':now': now,
      ':busyUntil': busyUntil ?? 0,
      ':expiresAt': Math.floor(now / 1000) + TTL_SECONDS,
    };
    const sets = [
      '#model = :model',
      'cut = :cut',
      '#state = :state',
      'inFlight = :inFlight',
      'seq = :seq',
      'lastSeen = :now',
      'busyUntil = :busyUntil',
      'expiresAt = :expiresAt',
    ];
    if (functionName !== undefined) {
      sets.push('functionName = :functionName');
      values[':functionName'] = functionName;
    }
    if (this.startedAt !== undefined) {
      sets.push('startedAt = if_not_exists(startedAt, :startedAt)');
      values[':startedAt'] = this.startedAt;
    }
    if (this.initMs !== undefined) {
      sets.push('initMs = if_not_exists(initMs, :initMs)');
      values[':initMs'] = this.initMs;
    }
    if (this.coldStartMs !== undefined) {
      sets.push('coldStartMs = if_not_exists(coldStartMs, :coldStartMs)');
      values[':coldStartMs'] = this.coldStartMs;
    }
    try {
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { fn: fleetKey(model, cut), instance: this.instance },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(seq) OR seq < :seq',
          ExpressionAttributeNames: { '#model': 'model', '#state': 'state' },
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      // A failed condition means a newer state is already stored: nothing to do.
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return;
      this.log({ msg: 'registry write failed', state, fn: fleetKey(model, cut), instance: this.instance, error: String(err) });
    }
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
 * Folds registry items into per-cut fleet state at time `now`, applying the
 * keep-alive rule (stale → ignored) and the busy lease (expired busy → idle).
 */
export function summariseFleet(items: readonly RegistryItem[], now: number, keepAliveMs: number): Map<number, FunctionFleet> {
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
    if (now - item.lastSeen > keepAliveMs) continue;
    const entry = out.get(item.cut) ?? { idleWarm: 0, inFlight: 0, instances: 0 };
    const busy = item.state === 'busy' && (item.busyUntil ?? 0) > now;
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
 * Default cache: 1 s. A warm instance stays warm for minutes, so a second-old
 * view rarely misjudges warmth; what changes faster — instances turning busy
 * because of plans this planner just issued — is covered by the
 * {@link ReservationLedger}. Without a cache every plan would pay one
 * DynamoDB query (several ms); with a longer one, other planners' assignments
 * would go unseen for longer.
 */
export const DEFAULT_FLEET_CACHE_MS = 1000;

/** The planner side: reads a model's fleet with one GSI query, cached briefly. */
export class FleetReader {
  private readonly opts: Required<Omit<FleetReaderOptions, 'now'>> & { now: Clock };
  private readonly cache = new Map<string, { at: number; items: RegistryItem[] }>();

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
    const items = await this.items(model, now);
    return summariseFleet(items, now, this.opts.keepAliveMs);
  }

  /** The raw items of `model` (cached for `cacheMs`). */
  async items(model: string, now = this.opts.now()): Promise<RegistryItem[]> {
    const hit = this.cache.get(model);
    if (hit && now - hit.at < this.opts.cacheMs) return hit.items;
    const items: RegistryItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.opts.client.send(
        new QueryCommand({
          TableName: this.opts.table,
          IndexName: REGISTRY_MODEL_INDEX,
          KeyConditionExpression: '#model = :model',
          ExpressionAttributeNames: { '#model': 'model' },
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
    this.cache.set(model, { at: now, items });
    return items;
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
}

/**
 * The planner's memory of the requests it just sent to the cloud, so that two
 * plans issued back to back do not both count on the same idle instance.
 * Each reservation takes one idle instance if one is left (else it adds a
 * request that will start a new one) and counts as in flight until it
 * expires: at the plan's predicted latency plus a slack, by which time the
 * request has either reached the registry as a busy mark or finished.
 */
export class ReservationLedger {
  private reservations: Reservation[] = [];
  private readonly now: Clock;

  constructor(opts: { now?: Clock } = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** Records one request planned to `model`/`cut`, held for `holdMs`. */
  reserve(model: string, cut: number, holdMs: number): void {
    this.prune();
    this.reservations.push({ model, cut, expiresAt: this.now() + Math.max(0, holdMs) });
  }

  /** Active reservations of `model` by cut. */
  active(model: string): Map<number, number> {
    this.prune();
    const out = new Map<number, number>();
    for (const r of this.reservations) if (r.model === model) out.set(r.cut, (out.get(r.cut) ?? 0) + 1);
    return out;
  }

  /** The fleet as the planner should see it: registry state minus what was just handed out. */
  apply(model: string, fleet: ReadonlyMap<number, FunctionFleet>): Map<number, FunctionFleet> {
    const out = new Map<number, FunctionFleet>();
    for (const [cut, f] of fleet) out.set(cut, { ...f });
    for (const [cut, count] of this.active(model)) {
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
        { AttributeName: 'fn', AttributeType: 'S' },
        { AttributeName: 'instance', AttributeType: 'S' },
        { AttributeName: 'model', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'fn', KeyType: 'HASH' },
        { AttributeName: 'instance', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: REGISTRY_MODEL_INDEX,
          KeySchema: [
            { AttributeName: 'model', KeyType: 'HASH' },
            { AttributeName: 'fn', KeyType: 'RANGE' },
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
