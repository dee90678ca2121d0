/**
 * The tail's side of the fleet registry (./registry.ts describes the items):
 * one writer per execution environment, and what the tail needs around it.
 * No AWS SDK value is imported here: the tail's handler bundle loads this
 * at every cold start, and the DynamoDB client (~180 KB with its share of
 * @smithy) was parsed there only to send these writes. A registrar writes
 * through a {@link RegistryWriter}: the tail's signed HTTP request
 * (./dynamo-http.ts), or a DynamoDB document client's (./aws.ts
 * documentClientWriter; ./registry.ts's InstanceRegistrar takes the client
 * itself).
 */
import { randomUUID } from 'node:crypto';
import { REGISTRY_KEYS, fleetKey, registryItemKey } from '../../core/registry-keys';

const { modelAttribute: MODEL, ttlAttribute: TTL } = REGISTRY_KEYS;

/** TTL horizon after the last write; DynamoDB deletes lazily (up to days), readers filter anyway. */
export const TTL_SECONDS = 3600;
/**
 * How long an invocation waits for its busy mark (before computing) and its
 * idle mark (before answering). A DynamoDB write takes a few ms; past this
 * bound the invocation goes on and the write lands when it lands: the
 * registry is bookkeeping and must never stall an inference.
 */
export const DEFAULT_REGISTRY_WAIT_MS = 250;
export type InstanceState = 'busy' | 'idle' | 'gone';

/**
 * The execution environment's id from its log stream name
 * (`2026/11/30/[$LATEST]3f1c…`): one stream per environment in Lambda, and
 * the local emulator names its environments the same way. Undefined when the
 * variable is absent or not of that shape.
 */
export function environmentIdFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const m = /\]([0-9a-f]{8,})$/i.exec(env.AWS_LAMBDA_LOG_STREAM_NAME ?? '');
  return m?.[1];
}

/**
 * One conditional UpdateItem as the registrar sends it: plain values (strings
 * and numbers), as a DynamoDB document client takes them.
 */
export interface RegistryUpdate {
  TableName: string;
  Key: Record<string, string>;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, string | number>;
}

/** Sends one update; rejects with an error whose `name` is DynamoDB's error code (`ConditionalCheckFailedException`, …). */
export type RegistryWriter = (update: RegistryUpdate) => Promise<void>;

type Clock = () => number;
type Logger = (line: Record<string, unknown>) => void;

const warnLine: Logger = (line) => console.warn(JSON.stringify({ level: 'warn', ...line }));

const PROCESS_STARTED_AT = Math.round(Date.now() - process.uptime() * 1000);

/** Epoch ms this process started (the registrar's default `boot`; one value per process). */
export function processStartedAt(): number {
  return PROCESS_STARTED_AT;
}

export interface InstanceRegistrarOptions {
  /** Where the writes go. */
  writer: RegistryWriter;
  table: string;
  model: string;
  cut: number;
  /** Defaults to a random UUID. */
  instance?: string;
  functionName?: string;
  /** Epoch ms the writing process started; default {@link processStartedAt}. */
  boot?: number;
  now?: Clock;
  log?: Logger;
}

/** Resolves with `p` or after `ms`, whichever is first (never rejects when `p` never does). */
export function withinMs(p: Promise<void>, ms: number): Promise<void> {
  if (!Number.isFinite(ms)) return p;
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
  });
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

/**
 * The tail side: one per execution environment. Writes go out in order, one
 * in flight at a time (newer states queued meanwhile collapse into one), and
 * never throw: the registry is bookkeeping, and a failing write must not fail
 * an inference. The tail awaits its busy and idle marks with a bound
 * ({@link withinMs}, {@link DEFAULT_REGISTRY_WAIT_MS}); {@link flush} waits for the queue.
 *
 * @example
 * const reg = new InstanceRegistrar({ writer: httpRegistryWriter(process.env), table, model: 'm', cut: 3 });
 * await withinMs(reg.markBusy(Date.now() + context.getRemainingTimeInMillis()), 250);
 * // ... compute ...
 * await withinMs(reg.markIdle(), 250);
 */
export class InstanceRegistrar {
  readonly instance: string;
  readonly boot: number;
  private readonly opts: InstanceRegistrarOptions;
  private readonly now: Clock;
  private readonly log: Logger;
  private seq = 0;
  private invocations = 0;
  private gone = false;
  /** The newest state not yet sent, and who waits for it. */
  private pending: { state: InstanceState; busyUntil: number | undefined; seq: number; waiters: (() => void)[] } | undefined;
  /** The writer loop, while one runs. */
  private running: Promise<void> | undefined;
  private info: { startedAt?: number; initMs?: number; coldStartMs?: number } = {};

  constructor(opts: InstanceRegistrarOptions) {
    this.opts = opts;
    this.instance = opts.instance ?? randomUUID();
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? warnLine;
    this.boot = opts.boot ?? processStartedAt();
  }

  /** Invocations counted so far (busy marks with `arrival`). */
  get invocationCount(): number {
    return this.invocations;
  }

  /** Attaches measurements to this and every later write (each is written once: `if_not_exists`). */
  setInfo(info: { startedAt?: number; initMs?: number; coldStartMs?: number }): void {
    this.info = { ...this.info, ...Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) };
  }

  /** Registers the instance idle (an environment initialised with no invocation waiting: provisioned concurrency). */
  register(info: { initMs: number; coldStartMs?: number }): Promise<void> {
    this.setInfo({ startedAt: this.info.startedAt ?? this.now(), ...info });
    return this.write('idle', undefined);
  }

  /**
   * Marks the instance busy until `busyUntil` (epoch ms; use the invocation's
   * deadline). `arrival` (default true) counts one more invocation; false
   * re-marks the invocation already counted (its deadline became known).
   */
  markBusy(busyUntil: number, options: { arrival?: boolean } = {}): Promise<void> {
    if (options.arrival ?? true) this.invocations += 1;
    return this.write('busy', busyUntil);
  }

  markIdle(): Promise<void> {
    return this.write('idle', undefined);
  }

  /** The environment is shutting down: the last write; later marks are dropped. */
  markGone(): Promise<void> {
    const last = this.write('gone', undefined);
    this.gone = true;
    return last;
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
    if (this.gone) return Promise.resolve();
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
    const { table, model, cut, functionName } = this.opts;
    const values: Record<string, string | number> = {
      ':model': model,
      ':cut': cut,
      ':state': state,
      ':inFlight': state === 'busy' ? 1 : 0,
      ':invocations': this.invocations,
      ':boot': this.boot,
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
      'invocations = :invocations',
      'boot = :boot',
      'seq = :seq',
      'lastSeen = :now',
      'busyUntil = :busyUntil',
      `${TTL} = :expiresAt`,
    ];
    if (functionName !== undefined) {
      sets.push('functionName = :functionName');
      values[':functionName'] = functionName;
    }
    for (const [name, value] of Object.entries(this.info)) {
      // written once per process; a newer process (re-init) rewrites them through `boot`
      sets.push(`${name} = :${name}`);
      values[`:${name}`] = value;
    }
    try {
      await this.opts.writer({
        TableName: table,
        Key: registryItemKey(model, cut, this.instance),
        UpdateExpression: `SET ${sets.join(', ')}`,
        // A newer process of the same environment wins; within a process the newer write wins.
        ConditionExpression: 'attribute_not_exists(seq) OR attribute_not_exists(boot) OR boot < :boot OR (boot = :boot AND seq < :seq)',
        ExpressionAttributeNames: { '#model': MODEL, '#state': 'state' },
        ExpressionAttributeValues: values,
      });
    } catch (err) {
      // A failed condition means a newer state is already stored: nothing to do.
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return;
      this.log({ msg: 'registry write failed', state, fn: fleetKey(model, cut), instance: this.instance, error: String(err) });
    }
  }
}
