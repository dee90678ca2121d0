/**
 * The Lambda emulator: execution environments as OS processes, with Lambda's
 * lifecycle (cold start → warm reuse → reaped after a keep-alive), one
 * invocation at a time per environment, timeouts that discard the
 * environment, and reserved concurrency that throttles at once.
 *
 * What it does not emulate: memory size is reported to the handler
 * (`context.memoryLimitInMB`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`) but limits
 * neither memory nor CPU — every environment gets a full share of this
 * machine, so compute times are not those of a small Lambda. Nothing freezes
 * an idle environment between invocations (timers in the handler keep
 * running). IAM is not checked.
 *
 * Shutdown: an environment that is reaped or closed gets SIGTERM and
 * {@link DEFAULT_SHUTDOWN_GRACE_MS} to exit before SIGKILL, as a Lambda
 * runtime does in the Shutdown phase when an extension is registered (the
 * offload CDK app registers one). A timed-out invocation or a failed init
 * gets SIGKILL at once. Every end of an environment is reported as a
 * lifecycle `exit` event saying whether the process had its graceful
 * shutdown, so the platform's side (local/stack.ts) can retire what a dead
 * process could not.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { NotFoundError, OffloadError } from '../core/errors';
import { functionNameFromArn } from './template';

/**
 * Idle environments are reaped after this long. Lambda does not document it;
 * measurements put it near 10 minutes after the last request
 * (mikhail.io 2019, see docs/reference-facts.md).
 */
export const DEFAULT_KEEP_ALIVE_MS = 10 * 60_000;
/**
 * SIGTERM → SIGKILL grace on reap and close: Lambda's Shutdown phase lasts
 * 2,000 ms with an external extension registered (300 ms with none, 500 ms
 * with internal ones only; docs/reference-facts.md "Lambda lifecycle details").
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 2_000;
/** Lambda caps the init phase of on-demand functions at 10 s. */
export const DEFAULT_INIT_TIMEOUT_MS = 10_000;
/** Lambda's default account concurrency per Region. */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

/** Lambda's synchronous invocation limits: request 6 MB, response 6 MB + 100 bytes. */
export const MAX_REQUEST_PAYLOAD_BYTES = 6_291_456;
export const MAX_RESPONSE_PAYLOAD_BYTES = 6_291_556;

const WORKER = fileURLToPath(new URL('./runtime-worker.mjs', import.meta.url));

/** What the emulator needs to run a function; {@link FunctionSpec} from discovery fits. */
export interface FunctionConfig {
  name: string;
  /** Defaults to an ARN built from region, account and name. */
  arn?: string;
  /** `file.export` relative to `codeDir`, as in the template (`index.handler`). */
  handler: string;
  /** Directory holding the bundled code (Lambda's /var/task). */
  codeDir: string;
  /** Layer directories merged, in order, into what Lambda calls /opt. */
  layerDirs?: readonly string[];
  runtime?: string;
  /** Default 128 (CloudFormation's default). */
  memoryMB?: number;
  /** Default 3 s (CloudFormation's default). */
  timeoutS?: number;
  /** `null`/absent: draws on the account's unreserved concurrency. */
  reservedConcurrency?: number | null;
  environment?: Readonly<Record<string, string>>;
}

export type LogSink = (line: { function: string; envId: string; stream: 'stdout' | 'stderr'; text: string }) => void;

export interface EmulatorOptions {
  functions: readonly FunctionConfig[];
  /** Idle time after which an environment is reaped; default {@link DEFAULT_KEEP_ALIVE_MS}. */
  keepAliveMs?: number;
  /** Limit on the init phase (process start + module load); default {@link DEFAULT_INIT_TIMEOUT_MS}. */
  initTimeoutMs?: number;
  /** Account-level concurrency; unreserved functions share what reserved ones leave. Default 1000. */
  accountConcurrency?: number;
  /** Variables every environment gets beneath the function's own (endpoints, credentials, …). */
  env?: Readonly<Record<string, string>>;
  region?: string;
  accountId?: string;
  /** Handler output: `inherit` (default) prefixes lines on this process's stderr. */
  logs?: 'inherit' | 'ignore' | LogSink;
  /** Extra node flags for every environment process (e.g. `--enable-source-maps`). */
  nodeArgs?: readonly string[];
  /** SIGTERM → SIGKILL grace when an environment is reaped or closed; default {@link DEFAULT_SHUTDOWN_GRACE_MS}. */
  shutdownGraceMs?: number;
}

/** The result of one invocation, in Lambda's terms. */
export type InvokeResult =
  | {
      status: 'ok';
      /** JSON text the handler returned (`null` for undefined). */
      payload: string;
      requestId: string;
      envId: string;
      cold: boolean;
      /** Process start to handler ready, on a cold start. */
      initMs?: number;
      durationMs: number;
    }
  | {
      status: 'function-error';
      /** `Sandbox.Timedout`, `Runtime.ExitError`, `Runtime.ImportModuleError`, or the thrown error's name. */
      errorType: string;
      errorMessage: string;
      /** Lambda's error payload `{ errorType, errorMessage, trace }` as JSON text. */
      payload: string;
      requestId: string;
      envId: string;
      cold: boolean;
      initMs?: number;
      durationMs: number;
    }
  | {
      status: 'throttled';
      reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded';
      requestId: string;
    };

export interface InvokeOptions {
  requestId?: string;
  /** Base64 JSON, as the Invoke API's X-Amz-Client-Context header. */
  clientContext?: string;
}

export type LifecycleEvent =
  | { type: 'cold-start'; function: string; envId: string; pid: number; at: number }
  | { type: 'ready'; function: string; envId: string; initMs: number; at: number }
  | { type: 'init-error'; function: string; envId: string; errorType: string; errorMessage: string; at: number }
  | { type: 'invoked'; function: string; envId: string; requestId: string; cold: boolean; durationMs: number; error?: string; at: number }
  | { type: 'throttled'; function: string; requestId: string; reason: string; at: number }
  | { type: 'timeout'; function: string; envId: string; requestId: string; at: number }
  | { type: 'crash'; function: string; envId: string; exitCode: number | null; signal: string | null; at: number }
  | { type: 'reaped'; function: string; envId: string; idleMs: number; at: number }
  /**
   * The environment's process is gone. `reason`: why it ended; `graceful`:
   * it got SIGTERM and exited within the grace (false: it crashed, was killed
   * at once, or outlived the grace).
   */
  | { type: 'exit'; function: string; envId: string; reason: 'crash' | 'timeout' | 'init' | 'reap' | 'close'; graceful: boolean; at: number };

export type EnvironmentState = 'init' | 'idle' | 'busy';

export interface EnvironmentStats {
  id: string;
  pid: number;
  state: EnvironmentState;
  createdAt: number;
  lastUsedAt: number;
  invocations: number;
  initMs: number | null;
}

export interface FunctionStats {
  name: string;
  arn: string;
  memoryMB: number;
  timeoutS: number;
  reservedConcurrency: number | null;
  environments: EnvironmentStats[];
  idle: number;
  busy: number;
  /** Environments in their init phase (each holds the invocation that started it). */
  initializing: number;
  coldStarts: number;
  invocations: number;
  errors: number;
  throttles: number;
  timeouts: number;
  crashes: number;
  reaped: number;
}

export interface EmulatorStats {
  keepAliveMs: number;
  accountConcurrency: number;
  functions: FunctionStats[];
}

interface Pending {
  requestId: string;
  cold: boolean;
  resolve: (r: InvokeResult) => void;
  timer: NodeJS.Timeout;
  startedAt: number;
}

interface Environment {
  id: string;
  fn: FunctionState;
  child: ChildProcess;
  pid: number;
  state: EnvironmentState | 'dead';
  createdAt: number;
  lastUsedAt: number;
  invocations: number;
  initMs: number | null;
  ready: Promise<void>;
  reapTimer: NodeJS.Timeout | null;
  pending: Pending | null;
  /** Why we killed it, so its exit is not reported as a crash. */
  killedFor: 'timeout' | 'reap' | 'close' | 'init' | null;
  /** Set when the grace after SIGTERM ran out and SIGKILL followed. */
  forced: boolean;
  exited: Promise<void>;
}

interface FunctionState {
  config: Required<Omit<FunctionConfig, 'arn' | 'layerDirs' | 'runtime' | 'environment' | 'reservedConcurrency'>> & {
    arn: string;
    layerDirs: readonly string[];
    runtime: string;
    reservedConcurrency: number | null;
  };
  baseEnv: Record<string, string>;
  envs: Environment[];
  optDir: string | null;
  counters: { coldStarts: number; invocations: number; errors: number; throttles: number; timeouts: number; crashes: number; reaped: number };
}

/**
 * Runs Lambda functions locally, each execution environment its own process.
 *
 * @example
 * const emulator = new LambdaEmulator({ functions: app.functions, keepAliveMs: 60_000 });
 * const r = await emulator.invoke('offload-tail-resnet50-17', JSON.stringify(event));
 * await emulator.close();
 */
export class LambdaEmulator extends EventEmitter<{ lifecycle: [LifecycleEvent] }> {
  readonly keepAliveMs: number;
  readonly initTimeoutMs: number;
  readonly accountConcurrency: number;
  readonly shutdownGraceMs: number;
  readonly region: string;
  readonly accountId: string;
  private readonly functions = new Map<string, FunctionState>();
  private readonly logs: 'inherit' | 'ignore' | LogSink;
  private readonly nodeArgs: readonly string[];
  private readonly dying = new Set<Promise<void>>();
  private closed = false;

  constructor(options: EmulatorOptions) {
    super();
    this.keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    this.initTimeoutMs = options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS;
    this.accountConcurrency = options.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY;
    this.shutdownGraceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.logs = options.logs ?? 'inherit';
    this.nodeArgs = options.nodeArgs ?? [];
    for (const fc of options.functions) {
      if (this.functions.has(fc.name)) throw new OffloadError('invalid-input', `function ${fc.name} is defined twice`);
      if (!existsSync(fc.codeDir)) throw new OffloadError('invalid-input', `function ${fc.name}: code directory ${fc.codeDir} does not exist`);
      const config = {
        name: fc.name,
        arn: fc.arn ?? `arn:aws:lambda:${this.region}:${this.accountId}:function:${fc.name}`,
        handler: fc.handler,
        codeDir: fc.codeDir,
        layerDirs: fc.layerDirs ?? [],
        runtime: fc.runtime ?? 'nodejs22.x',
        memoryMB: fc.memoryMB ?? 128,
        timeoutS: fc.timeoutS ?? 3,
        reservedConcurrency: fc.reservedConcurrency ?? null,
      };
      this.functions.set(fc.name, {
        config,
        baseEnv: { ...(options.env ?? {}), ...(fc.environment ?? {}) },
        envs: [],
        optDir: null,
        counters: { coldStarts: 0, invocations: 0, errors: 0, throttles: 0, timeouts: 0, crashes: 0, reaped: 0 },
      });
    }
  }

  /**
   * Adds variables beneath every function's own, for environments started
   * from now on: values known only once the server listens, such as the
   * Invoke API's own URL (`AWS_ENDPOINT_URL_LAMBDA`). A variable already set wins.
   */
  addEnvironment(vars: Readonly<Record<string, string>>): void {
    for (const fn of this.functions.values()) fn.baseEnv = { ...vars, ...fn.baseEnv };
  }

  /**
   * Sets variables of one function, over its own, for environments started
   * from now on (environments running keep theirs): a benchmark's switch
   * between two configurations of the same code, e.g. `OFFLOAD_PIPELINE`.
   */
  setFunctionEnvironment(nameOrArn: string, vars: Readonly<Record<string, string>>): void {
    const name = this.resolveFunctionName(nameOrArn);
    const fn = name === undefined ? undefined : this.functions.get(name);
    if (!fn) throw new Error(`no function ${nameOrArn}`);
    fn.baseEnv = { ...fn.baseEnv, ...vars };
  }

  /** Names of the functions, in definition order. */
  functionNames(): string[] {
    return [...this.functions.keys()];
  }

  /** Whether `nameOrArn` (name, full or partial ARN, optional `:$LATEST`) names a function. */
  resolveFunctionName(nameOrArn: string): string | undefined {
    if (this.functions.has(nameOrArn)) return nameOrArn;
    const bare = nameOrArn.replace(/:\$LATEST$/, '');
    if (this.functions.has(bare)) return bare;
    const fromArn = functionNameFromArn(nameOrArn);
    if (fromArn && this.functions.has(fromArn) && !/:function:[^:]+:(?!\$LATEST$)[^:]+$/.test(nameOrArn)) return fromArn;
    return undefined;
  }

  /** The configuration the emulator runs a function with. */
  functionConfig(nameOrArn: string): FunctionState['config'] {
    return this.lookup(nameOrArn).config;
  }

  /**
   * Invokes a function synchronously (RequestResponse). `payload` is JSON text.
   * Resolves with the handler's result, its error in Lambda's shape, or a
   * throttle — never hangs past the function's timeout plus init. Throws
   * NotFoundError for an unknown function, OffloadError('payload-too-large')
   * past Lambda's 6 MB request limit, and OffloadError('unavailable') after close().
   */
  async invoke(nameOrArn: string, payload: string, options: InvokeOptions = {}): Promise<InvokeResult> {
    return this.run(nameOrArn, { payload }, Buffer.byteLength(payload, 'utf8'), options);
  }

  /**
   * Like {@link invoke}, with the event as a value instead of JSON text: it
   * reaches the environment by structured clone, which spares a JSON round
   * trip on large events. The event must be JSON-compatible (plain objects,
   * arrays, strings, finite numbers, booleans, null — what JSON.parse gives).
   * `sizeBytes`, its JSON size when the caller knows it, spares measuring it.
   */
  async invokeEvent(nameOrArn: string, event: unknown, options: InvokeOptions & { sizeBytes?: number } = {}): Promise<InvokeResult> {
    const { sizeBytes, ...rest } = options;
    return this.run(nameOrArn, { event }, sizeBytes ?? Buffer.byteLength(JSON.stringify(event) ?? 'null', 'utf8'), rest);
  }

  private async run(nameOrArn: string, input: WorkerInput, bytes: number, options: InvokeOptions): Promise<InvokeResult> {
    if (this.closed) throw new OffloadError('unavailable', 'the Lambda emulator is shut down');
    const fn = this.lookup(nameOrArn);
    if (bytes > MAX_REQUEST_PAYLOAD_BYTES) {
      throw new OffloadError(
        'payload-too-large',
        `Request must be smaller than ${MAX_REQUEST_PAYLOAD_BYTES} bytes for the InvokeFunction operation (got ${bytes})`,
      );
    }
    const requestId = options.requestId ?? randomUUID();
    fn.counters.invocations += 1;

    // Choosing or creating the environment is synchronous, so concurrent
    // invocations cannot both take the last slot.
    let env = this.takeIdle(fn);
    const cold = env === undefined;
    if (!env) {
      const reason = this.throttleReason(fn);
      if (reason) {
        fn.counters.throttles += 1;
        this.emit('lifecycle', { type: 'throttled', function: fn.config.name, requestId, reason, at: Date.now() });
        return { status: 'throttled', reason, requestId };
      }
      env = this.spawn(fn);
    }

    const started = performance.now();
    if (cold) {
      try {
        await env.ready;
      } catch (e) {
        const error = e instanceof InitFailure ? e.error : { errorType: 'Runtime.Unknown', errorMessage: String(e), trace: [] };
        fn.counters.errors += 1;
        this.emit('lifecycle', { type: 'invoked', function: fn.config.name, envId: env.id, requestId, cold, durationMs: performance.now() - started, error: error.errorType, at: Date.now() });
        return {
          status: 'function-error',
          errorType: error.errorType,
          errorMessage: error.errorMessage,
          payload: JSON.stringify(error),
          requestId,
          envId: env.id,
          cold,
          durationMs: performance.now() - started,
        };
      }
    }
    const result = await this.dispatch(env, requestId, input, options, cold);
    if (result.status === 'function-error') fn.counters.errors += 1;
    this.emit('lifecycle', {
      type: 'invoked',
      function: fn.config.name,
      envId: env.id,
      requestId,
      cold,
      durationMs: result.status === 'throttled' ? 0 : result.durationMs,
      ...(result.status === 'function-error' ? { error: result.errorType } : {}),
      at: Date.now(),
    });
    return result;
  }

  /** Per-function environments and counters, for tests, the planner and `GET /_local/functions`. */
  stats(): EmulatorStats {
    return {
      keepAliveMs: this.keepAliveMs,
      accountConcurrency: this.accountConcurrency,
      functions: [...this.functions.values()].map((fn) => {
        const environments = fn.envs.map((e) => ({
          id: e.id,
          pid: e.pid,
          state: e.state as EnvironmentState,
          createdAt: e.createdAt,
          lastUsedAt: e.lastUsedAt,
          invocations: e.invocations,
          initMs: e.initMs,
        }));
        return {
          name: fn.config.name,
          arn: fn.config.arn,
          memoryMB: fn.config.memoryMB,
          timeoutS: fn.config.timeoutS,
          reservedConcurrency: fn.config.reservedConcurrency,
          environments,
          idle: environments.filter((e) => e.state === 'idle').length,
          busy: environments.filter((e) => e.state === 'busy').length,
          initializing: environments.filter((e) => e.state === 'init').length,
          ...fn.counters,
        };
      }),
    };
  }

  /** Reaps idle environments now (all functions, or one), as if their keep-alive had passed. */
  async reapIdle(nameOrArn?: string): Promise<number> {
    const fns = nameOrArn === undefined ? [...this.functions.values()] : [this.lookup(nameOrArn)];
    const victims = fns.flatMap((fn) => fn.envs.filter((e) => e.state === 'idle'));
    for (const env of victims) this.reap(env);
    await Promise.all(victims.map((e) => e.exited));
    return victims.length;
  }

  /** Pids of every live environment process (for orphan checks). */
  pids(): number[] {
    return [...this.functions.values()].flatMap((fn) => fn.envs.map((e) => e.pid));
  }

  /**
   * Kills every environment process and waits until each has exited.
   * Invocations in flight end with `Runtime.ExitError`. Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const fn of this.functions.values()) {
      for (const env of [...fn.envs]) this.kill(env, 'close');
    }
    await Promise.all([...this.dying]);
    for (const fn of this.functions.values()) {
      if (fn.optDir) rmSync(fn.optDir, { recursive: true, force: true });
      fn.optDir = null;
    }
  }

  // -------------------------------------------------------------------------

  private lookup(nameOrArn: string): FunctionState {
    const name = this.resolveFunctionName(nameOrArn);
    const fn = name === undefined ? undefined : this.functions.get(name);
    if (!fn) throw new NotFoundError(`Function not found: ${nameOrArn}`);
    return fn;
  }

  /** The most recently used idle environment (Lambda keeps reusing the warmest), marked busy. */
  private takeIdle(fn: FunctionState): Environment | undefined {
    let best: Environment | undefined;
    for (const e of fn.envs) {
      if (e.state === 'idle' && (!best || e.lastUsedAt > best.lastUsedAt)) best = e;
    }
    if (best) {
      best.state = 'busy';
      if (best.reapTimer) clearTimeout(best.reapTimer);
      best.reapTimer = null;
    }
    return best;
  }

  private throttleReason(fn: FunctionState): Extract<InvokeResult, { status: 'throttled' }>['reason'] | null {
    const reserved = fn.config.reservedConcurrency;
    // no idle environment here, so every environment of fn is running an invocation
    if (reserved !== null) return fn.envs.length >= reserved ? 'ReservedFunctionConcurrentInvocationLimitExceeded' : null;
    let reservedTotal = 0;
    let unreservedActive = 0;
    for (const other of this.functions.values()) {
      if (other.config.reservedConcurrency !== null) reservedTotal += other.config.reservedConcurrency;
      else unreservedActive += other.envs.filter((e) => e.state !== 'idle').length;
    }
    return unreservedActive >= Math.max(0, this.accountConcurrency - reservedTotal) ? 'ConcurrentInvocationLimitExceeded' : null;
  }

  private spawn(fn: FunctionState): Environment {
    const id = randomBytes(16).toString('hex');
    const c = fn.config;
    const env = this.processEnv(fn, id);
    const child = fork(WORKER, [], {
      cwd: c.codeDir,
      env,
      execArgv: [...this.nodeArgs],
      serialization: 'advanced',
      stdio: this.logs === 'ignore' ? ['ignore', 'ignore', 'ignore', 'ipc'] : ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const now = Date.now();
    const spawnedAt = performance.now();
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const environment: Environment = {
      id,
      fn,
      child,
      pid: child.pid ?? -1,
      state: 'init',
      createdAt: now,
      lastUsedAt: now,
      invocations: 0,
      initMs: null,
      ready: Promise.resolve(),
      reapTimer: null,
      pending: null,
      killedFor: null,
      forced: false,
      exited,
    };
    fn.envs.push(environment);
    fn.counters.coldStarts += 1;
    this.dying.add(exited);
    void exited.then(() => this.dying.delete(exited));
    this.pipeLogs(environment);

    environment.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill(environment, 'init');
        reject(
          new InitFailure({
            errorType: 'Sandbox.Timedout',
            errorMessage: `INIT timed out after ${(this.initTimeoutMs / 1000).toFixed(2)} seconds`,
            trace: [],
          }),
        );
      }, this.initTimeoutMs);
      const onMessage = (m: WorkerMessage): void => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          if (environment.state !== 'init') return; // killed meanwhile; its exit rejects
          environment.initMs = performance.now() - spawnedAt;
          environment.state = 'busy';
          child.off('message', onMessage);
          this.emit('lifecycle', { type: 'ready', function: c.name, envId: id, initMs: environment.initMs, at: Date.now() });
          resolve();
        } else if (m.type === 'init-error' || m.type === 'fatal') {
          clearTimeout(timer);
          child.off('message', onMessage);
          this.emit('lifecycle', { type: 'init-error', function: c.name, envId: id, errorType: m.error.errorType, errorMessage: m.error.errorMessage, at: Date.now() });
          // Lambda discards an environment whose init failed.
          this.kill(environment, 'init');
          reject(new InitFailure(m.error));
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new InitFailure({
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: (init) Error: Runtime exited ${signal ? `with signal: ${signal}` : `with error: exit status ${code}`}`,
            trace: [],
          }),
        );
      });
      child.once('error', (err) => {
        if (child.pid !== undefined) return;
        clearTimeout(timer);
        reject(new InitFailure({ errorType: 'Runtime.ExitError', errorMessage: `the environment process did not start: ${err.message}`, trace: [] }));
      });
    });
    // the rejection is consumed by the invocation that awaits it
    environment.ready.catch(() => undefined);

    child.on('message', (m: WorkerMessage) => this.onWorkerMessage(environment, m));
    child.on('exit', (code, signal) => {
      const was = environment.state;
      environment.state = 'dead';
      this.remove(environment);
      if (environment.reapTimer) clearTimeout(environment.reapTimer);
      if (environment.killedFor === null && was !== 'init') {
        fn.counters.crashes += 1;
        this.emit('lifecycle', { type: 'crash', function: c.name, envId: id, exitCode: code, signal, at: Date.now() });
      }
      const reason = environment.killedFor ?? (was === 'init' ? 'init' : 'crash');
      const graceful = (reason === 'reap' || reason === 'close') && !environment.forced;
      this.emit('lifecycle', { type: 'exit', function: c.name, envId: id, reason, graceful, at: Date.now() });
      const p = environment.pending;
      if (p) {
        environment.pending = null;
        clearTimeout(p.timer);
        p.resolve(
          this.errorResult(environment, p, {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${p.requestId} Error: Runtime exited ${signal ? `with signal: ${signal}` : `with error: exit status ${code}`}`,
            trace: [],
          }),
        );
      }
      resolveExited();
    });
    child.on('error', () => {
      // A process that never started emits no 'exit': retire it here so close() does not wait for it.
      if (child.pid !== undefined) return;
      environment.state = 'dead';
      this.remove(environment);
      resolveExited();
    });
    child.send({
      type: 'init',
      handler: c.handler,
      taskRoot: c.codeDir,
      functionName: c.name,
      memoryMB: c.memoryMB,
    });
    this.emit('lifecycle', { type: 'cold-start', function: c.name, envId: id, pid: environment.pid, at: now });
    return environment;
  }

  private dispatch(env: Environment, requestId: string, input: WorkerInput, options: InvokeOptions, cold: boolean): Promise<InvokeResult> {
    const timeoutMs = env.fn.config.timeoutS * 1000;
    return new Promise<InvokeResult>((resolve) => {
      if (env.state === 'dead') {
        resolve(
          this.errorResult(env, { requestId, startedAt: performance.now(), cold }, {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${requestId} Error: Runtime exited before the invocation`,
            trace: [],
          }),
        );
        return;
      }
      const startedAt = performance.now();
      const timer = setTimeout(() => {
        const p = env.pending;
        if (!p) return;
        env.pending = null;
        env.fn.counters.timeouts += 1;
        this.emit('lifecycle', { type: 'timeout', function: env.fn.config.name, envId: env.id, requestId, at: Date.now() });
        // Lambda discards an environment whose invocation timed out.
        this.kill(env, 'timeout');
        resolve(
          this.errorResult(env, p, {
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${env.fn.config.timeoutS.toFixed(2)} seconds`,
            trace: [],
          }),
        );
      }, timeoutMs);
      env.pending = { requestId, cold, resolve, timer, startedAt };
      env.state = 'busy';
      env.invocations += 1;
      env.child.send({
        type: 'invoke',
        id: requestId,
        requestId,
        ...input,
        deadline: Date.now() + timeoutMs,
        invokedFunctionArn: env.fn.config.arn,
        clientContext: decodeClientContext(options.clientContext),
        cold,
      });
    });
  }

  private onWorkerMessage(env: Environment, m: WorkerMessage): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    const p = env.pending;
    if (!p || p.requestId !== m.id) return; // late answer after a timeout
    env.pending = null;
    clearTimeout(p.timer);
    const cold = p.cold;
    const fatal = m.type === 'error' && m.fatal === true;
    if (!fatal && env.state !== 'dead') {
      env.state = 'idle';
      env.lastUsedAt = Date.now();
      this.scheduleReap(env);
    }
    if (m.type === 'result' && Buffer.byteLength(m.payload, 'utf8') > MAX_RESPONSE_PAYLOAD_BYTES) {
      p.resolve(
        this.errorResult(env, p, {
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_PAYLOAD_BYTES} bytes).`,
          trace: [],
        }),
      );
    } else if (m.type === 'result') {
      p.resolve({
        status: 'ok',
        payload: m.payload,
        requestId: p.requestId,
        envId: env.id,
        cold,
        ...(cold && env.initMs !== null ? { initMs: env.initMs } : {}),
        durationMs: performance.now() - p.startedAt,
      });
    } else {
      p.resolve(this.errorResult(env, p, m.error));
    }
  }

  private errorResult(env: Environment, p: Pick<Pending, 'requestId' | 'startedAt' | 'cold'>, error: LambdaError): InvokeResult {
    return {
      status: 'function-error',
      errorType: error.errorType,
      errorMessage: error.errorMessage,
      payload: JSON.stringify(error),
      requestId: p.requestId,
      envId: env.id,
      cold: p.cold,
      ...(p.cold && env.initMs !== null ? { initMs: env.initMs } : {}),
      durationMs: performance.now() - p.startedAt,
    };
  }

  private scheduleReap(env: Environment): void {
    if (env.reapTimer) clearTimeout(env.reapTimer);
    env.reapTimer = setTimeout(() => this.reap(env), this.keepAliveMs);
    env.reapTimer.unref();
  }

  private reap(env: Environment): void {
    if (env.state !== 'idle') return;
    env.fn.counters.reaped += 1;
    this.emit('lifecycle', { type: 'reaped', function: env.fn.config.name, envId: env.id, idleMs: Date.now() - env.lastUsedAt, at: Date.now() });
    this.kill(env, 'reap');
  }

  /**
   * Removes the environment from service at once (its slot frees now) and
   * ends its process: SIGTERM then SIGKILL after the grace for a reap or a
   * close (Lambda's Shutdown phase), SIGKILL at once otherwise.
   */
  private kill(env: Environment, why: NonNullable<Environment['killedFor']>): void {
    if (env.killedFor === null) env.killedFor = why;
    if (env.reapTimer) clearTimeout(env.reapTimer);
    env.reapTimer = null;
    if (env.state !== 'dead') {
      env.state = 'dead';
      this.remove(env);
    }
    if (env.child.exitCode !== null || env.child.signalCode !== null) return;
    if ((why === 'reap' || why === 'close') && this.shutdownGraceMs > 0) {
      env.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (env.child.exitCode === null && env.child.signalCode === null) {
          env.forced = true;
          env.child.kill('SIGKILL');
        }
      }, this.shutdownGraceMs);
      void env.exited.then(() => clearTimeout(timer));
    } else {
      env.child.kill('SIGKILL');
    }
  }

  private remove(env: Environment): void {
    const list = env.fn.envs;
    const i = list.indexOf(env);
    if (i >= 0) list.splice(i, 1);
  }

  private processEnv(fn: FunctionState, envId: string): NodeJS.ProcessEnv {
    const c = fn.config;
    const optDir = c.layerDirs.length > 0 ? this.optDir(fn) : null;
    const rewrite = (v: string): string => {
      // Paths the template sets for Lambda's file system point into the local copies.
      if (v === '/var/task' || v.startsWith('/var/task/')) return c.codeDir + v.slice('/var/task'.length);
      if (optDir && (v === '/opt' || v.startsWith('/opt/'))) return optDir + v.slice('/opt'.length);
      return v;
    };
    const fromFunction = Object.fromEntries(Object.entries(fn.baseEnv).map(([k, v]) => [k, rewrite(v)]));
    const date = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      // a Lambda environment always has credentials (from its role); local services accept any
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...fromFunction,
      ...(optDir ? { NODE_PATH: [`${optDir}/nodejs/node_modules`, `${optDir}/nodejs/node22/node_modules`].join(':') } : {}),
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${c.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: c.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(c.memoryMB),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${c.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${date}/[$LATEST]${envId}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: c.codeDir,
      LAMBDA_RUNTIME_DIR: c.codeDir,
      TZ: 'UTC',
    };
  }

  /** Lambda extracts layers into /opt, later layers over earlier ones; here a directory of symlinks. */
  private optDir(fn: FunctionState): string {
    if (fn.optDir) return fn.optDir;
    const dir = mkdtempSync(join(tmpdir(), 'offload-opt-'));
    const seen = new Set<string>();
    for (const layer of [...fn.config.layerDirs].reverse()) {
      for (const entry of readdirSync(layer)) {
        if (seen.has(entry)) continue;
        seen.add(entry);
        symlinkSync(join(layer, entry), join(dir, entry));
      }
    }
    fn.optDir = dir;
    return dir;
  }

  private pipeLogs(env: Environment): void {
    const sink = this.logs;
    if (sink === 'ignore') return;
    const name = env.fn.config.name;
    const write: LogSink =
      sink === 'inherit'
        ? ({ envId, text }) => process.stderr.write(`[${name} ${envId.slice(0, 8)}] ${text}\n`)
        : sink;
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = env.child[stream];
      if (!readable) continue;
      readable.setEncoding('utf8');
      let buffered = '';
      readable.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          write({ function: name, envId: env.id, stream, text: buffered.slice(0, nl) });
          buffered = buffered.slice(nl + 1);
        }
      });
      readable.on('end', () => {
        if (buffered) write({ function: name, envId: env.id, stream, text: buffered });
      });
    }
  }
}

/** JSON text the worker parses, or a JSON-compatible value it receives by structured clone. */
type WorkerInput = { payload: string } | { event: unknown };

interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

type WorkerMessage =
  | { type: 'ready'; moduleInitMs: number }
  | { type: 'init-error'; error: LambdaError }
  | { type: 'fatal'; error: LambdaError }
  | { type: 'result'; id: string; payload: string }
  | { type: 'error'; id: string; error: LambdaError; fatal?: boolean };

class InitFailure extends Error {
  constructor(readonly error: LambdaError) {
    super(error.errorMessage);
  }
}

function decodeClientContext(b64: string | undefined): unknown {
  if (!b64) return undefined;
  try {
    return JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
