/**
 * The tail function's runtime: one per execution environment. It loads its
 * tail artifact once (the cold start), keeps the model for warm invocations,
 * registers itself in the fleet registry, and answers `POST /infer/{model}/{cut}`.
 *
 * Init is lazy and retried: a failed init (artifact missing, S3 unreachable,
 * bad configuration) answers 503 and leaves nothing cached, so the next
 * invocation in the same environment tries again instead of staying poisoned.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import * as tf from '../../models/tfjs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { NotFoundError, OffloadError, isOffloadError } from '../../core/errors';
import {
  decodeTensors,
  encodedSize,
  encodeTensors,
  firstNonFinite,
  orderCrossing,
  peekWireHeader,
  wireBatchSize,
  WIRE_CONTENT_TYPE,
  type ExpectedTensor,
  type WireTensor,
} from '../../core/wire';
import { modelKeyPrefix, partModelJson, s3Key, tailDir } from '../../core/artifact-layout';
// not core/api, catalog, presets or prewarm: their zod schemas are built at load (core/tail-api.ts)
import { DEFAULT_MAX_BATCH, INFER_HEADERS, inferHeaders, inferRoute, isPrewarmEvent, type PrewarmEvent } from '../../core/tail-api';
import { formatPath } from '../../core/validation';
import { initBackend, wasmThreads } from '../../models/backend';
import { fusionEnabled } from '../../models/fuse';
import type { PrefetchHandle } from './prefetch-protocol';
import { earlyArtifact, prefetchEnabled } from './tail-prefetch';
import { earlyEngineEnabled } from './early-engine';
import { loadTailModel } from './tail-model';
import { pipelineEnabled } from '../../models/streamed-load';
import { heapWeightsEnabled } from '../../models/heap-weights';
import middy from '@middy/core';
import {
  binaryBody,
  binaryResponse,
  DEFAULT_PAYLOAD_LIMIT_BYTES,
  httpErrors,
  jsonResponse,
  logLine,
  negotiate,
  responseHeaders,
  type BinaryBodyEvent,
  type HttpEvent,
  type HttpMiddleware,
  type HttpResult,
  type NegotiatedEvent,
} from './http';
import { createMetrics, METRIC, MetricUnit, observe } from './observability';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_REGISTRY_WAIT_MS, environmentIdFromEnv, InstanceRegistrar, processStartedAt, withinMs, type RegistryWriter } from './registrar';
import { httpRegistryWriter, registryHttpEnabled, registryHttpSetting } from './dynamo-http';

/** Lease of the busy mark written at module load, before the invocation's deadline is known: Lambda's 10 s init cap plus a margin. */
export const INIT_LEASE_MS = 15_000;
/**
 * How long the SIGTERM handler waits for the `gone` mark. Lambda allows
 * 2,000 ms for the Shutdown phase with an external extension registered
 * (500 ms with internal ones only): a write takes a few ms, this leaves the
 * rest as margin.
 */
export const SHUTDOWN_WRITE_MS = 1_000;

/** The tail function's environment (set by the CDK app; see docs/functions.md). */
export const TailEnvSchema = z.object({
  MODEL_NAME: z.string({ error: 'must be set' }).min(1, 'must be set'),
  CUT: z.coerce.number({ error: 'must be a cut number' }).int('must be a cut number').nonnegative('must be a cut number'),
  ARTIFACT_BUCKET: z.string({ error: 'must be set' }).min(1, 'must be set'),
  /** The model's folder in the bucket, default `models/<model>/`: the tail reads `tails/<cut>/model.json` and the segments it names there. */
  ARTIFACT_PREFIX: z.string().optional(),
  /** Fleet registry table; without it the instance does not register (plain local runs). */
  REGISTRY_TABLE: z.string().optional(),
  /** Payload limit in bytes as delivered (after base64), for requests and responses; default 6,291,456. */
  MAX_PAYLOAD_BYTES: z.coerce.number().int().positive().optional(),
  /** Largest batch accepted (413 above, before decoding); default core/presets.ts DEFAULT_MAX_BATCH. */
  MAX_BATCH: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').positive('must be at least 1').optional(),
  /** How long an invocation waits for its busy and idle marks, ms; default {@link DEFAULT_REGISTRY_WAIT_MS}. */
  REGISTRY_WAIT_MS: z.coerce.number({ error: 'must be a number of ms' }).nonnegative('must be >= 0').optional(),
  /** Set by Lambda itself; recorded in the registry. */
  AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
  /** Set by Lambda: `on-demand`, `provisioned-concurrency` or `snap-start`. */
  AWS_LAMBDA_INITIALIZATION_TYPE: z.string().optional(),
  /** Set by Lambda (and the local emulator): the function's memory size, MB; reported so a client prices the GB-seconds it used. */
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: z.coerce.number({ error: 'must be a number of MB' }).int('must be a whole number of MB').positive('must be a number of MB').optional(),
});

export interface TailConfig {
  model: string;
  cut: number;
  bucket: string;
  /** The model's folder in the bucket (`models/<model>/`). */
  prefix: string;
  /** The tail's model.json (`models/<model>/tails/<cut>/model.json`). */
  modelJsonKey: string;
  table: string | undefined;
  maxPayloadBytes: number;
  maxBatch: number;
  functionName: string | undefined;
  memoryMB: number | undefined;
  registryWaitMs: number;
  /** An on-demand environment is started by an invocation that waits for its init (provisioned ones are not). */
  onDemand: boolean;
}

/** Parses the environment; a missing or bad variable throws OffloadError `unavailable` naming it. */
export function readTailConfig(env: NodeJS.ProcessEnv): TailConfig {
  const parsed = TailEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OffloadError('unavailable', `tail function misconfigured: ${issue ? `${formatPath(issue.path)}: ${issue.message}` : 'bad environment'}`);
  }
  const e = parsed.data;
  return {
    model: e.MODEL_NAME,
    cut: e.CUT,
    bucket: e.ARTIFACT_BUCKET,
    prefix: e.ARTIFACT_PREFIX || modelKeyPrefix(e.MODEL_NAME),
    modelJsonKey: s3Key(e.ARTIFACT_PREFIX || modelKeyPrefix(e.MODEL_NAME), partModelJson(tailDir(e.CUT))),
    table: e.REGISTRY_TABLE || undefined,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES ?? DEFAULT_PAYLOAD_LIMIT_BYTES,
    maxBatch: e.MAX_BATCH ?? DEFAULT_MAX_BATCH,
    functionName: e.AWS_LAMBDA_FUNCTION_NAME,
    memoryMB: e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    registryWaitMs: e.REGISTRY_WAIT_MS ?? DEFAULT_REGISTRY_WAIT_MS,
    onDemand: (e.AWS_LAMBDA_INITIALIZATION_TYPE ?? 'on-demand') === 'on-demand',
  };
}

/** A loaded tail, ready to serve. */
export interface LoadedTail {
  model: tf.LayersModel;
  /** The crossing tensors this cut takes, in the model's input order (shapes without batch). */
  inputs: ExpectedTensor[];
  outputNames: string[];
  initMs: number;
  /** The engine that runs the tail, e.g. `wasm; threads=2` (`x-offload-backend`): a single-threaded fallback shows here. */
  engine: string;
}

export interface TailRuntimeOptions {
  env?: NodeJS.ProcessEnv;
  s3?: S3Client;
  dynamo?: DynamoDBDocumentClient;
  /** Defaults to the environment's id (from its log stream name), else a random UUID. */
  instance?: string;
  /**
   * How long an invocation waits for its busy mark (before computing) and its
   * idle mark (before answering); default `REGISTRY_WAIT_MS` or
   * {@link DEFAULT_REGISTRY_WAIT_MS}. 0 sends them in the background (what
   * the tail did before: the busy mark then lands after the compute).
   */
  registryWaitMs?: number;
  /**
   * The early download the entry started at process start (functions/tail/index.ts): the first
   * init loads from it; a retry, or `OFFLOAD_PREFETCH=off`, downloads with the SDK.
   */
  prefetch?: PrefetchHandle;
}

/** The event the tail handler sees after its middleware. */
export type TailEvent = BinaryBodyEvent & NegotiatedEvent;

/** Hint attached to a 413: this deployment does not stage large bodies through S3. */
export const PAYLOAD_HINT =
  'send the crossing tensors as float16 or int8, or choose another cut (this deployment has no S3 staging; plans mark such cuts infeasible)';

export class TailRuntime {
  readonly instance: string;
  private readonly opts: TailRuntimeOptions;
  private loading: Promise<LoadedTail> | undefined;
  private served = false;
  private cachedConfig: TailConfig | undefined;
  private attempts = 0;
  private prewarmedAtLoad = false;
  /** The invocation that started this on-demand environment was counted at module load (and no handler call has run yet). */
  private coldArrivalCounted = false;
  private registrarCache: InstanceRegistrar | null | undefined;
  private coldStartMs: number | undefined;
  private ready = false;
  private initialMark: Promise<void> | undefined;
  /** Where this environment's cold start went: ms since the process started, per step (logged once, 'cold start timeline'). */
  private readonly timeline: ColdStartTimeline = { moduleLoaded: sinceProcessStart() };

  /** The entry's early download until the first init takes it (or no init can). */
  private prefetch: PrefetchHandle | undefined;

  constructor(opts: TailRuntimeOptions = {}) {
    this.opts = opts;
    this.prefetch = opts.prefetch;
    if (opts.prefetch) this.timeline.prefetchStarted = round1(opts.prefetch.startedAt);
    this.instance = opts.instance ?? environmentIdFromEnv(opts.env ?? process.env) ?? randomUUID();
  }

  /** The registry writer, once the configuration names a table (undefined without one or with a bad config). */
  get registrar(): InstanceRegistrar | undefined {
    if (this.registrarCache === undefined) {
      let config: TailConfig;
      try {
        config = this.config;
      } catch {
        return undefined; // init reports the bad config; try again next time
      }
      this.registrarCache = config.table
        ? new InstanceRegistrar({
            writer: this.registryWriter(),
            table: config.table,
            model: config.model,
            cut: config.cut,
            instance: this.instance,
            functionName: config.functionName,
            boot: processStartedAt(),
          })
        : null;
      this.registrarCache?.setInfo({ startedAt: processStartedAt() });
    }
    return this.registrarCache ?? undefined;
  }

  /**
   * Where the registry marks go: a given client; else signed HTTP requests (./dynamo-http.ts), or with
   * `OFFLOAD_REGISTRY_HTTP=off` the SDK's client, loaded (off the cold start's module load) at the first write.
   */
  private registryWriter(): RegistryWriter {
    const env = this.opts.env ?? process.env;
    const given = this.opts.dynamo;
    if (!given && registryHttpSetting(env)) return httpRegistryWriter(env);
    let sdk: Promise<RegistryWriter> | undefined;
    return async (update) => (await (sdk ??= import('./aws').then((aws) => aws.documentClientWriter(given ?? aws.createDocumentClient()))))(update);
  }

  private get registryWaitMs(): number {
    if (this.opts.registryWaitMs !== undefined) return this.opts.registryWaitMs;
    try {
      return this.config.registryWaitMs;
    } catch {
      return DEFAULT_REGISTRY_WAIT_MS;
    }
  }

  /** The configuration (throws `unavailable` when the environment is bad). */
  get config(): TailConfig {
    this.cachedConfig ??= readTailConfig(this.opts.env ?? process.env);
    return this.cachedConfig;
  }

  /** The payload limit, falling back to the default while the config is unreadable (init reports that). */
  get maxPayloadBytes(): number {
    try {
      return this.config.maxPayloadBytes;
    } catch {
      return DEFAULT_PAYLOAD_LIMIT_BYTES;
    }
  }

  /**
   * Loads the tail (once). Concurrent callers share the same attempt; a
   * failure is logged, clears the attempt, and rethrows as `unavailable`.
   */
  init(): Promise<LoadedTail> {
    this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined;
      this.dropPrefetch(); // a retry downloads with the SDK
      // The caller learns what failed; where (bucket, key, SDK error) goes to the log only.
      const failure =
        isOffloadError(err) && err.status === 503
          ? err
          : new OffloadError('unavailable', 'tail init failed (see the function log)', { cause: err, detail: (err as Error).message });
      let where: Record<string, unknown> = {};
      try {
        where = { model: this.config.model, cut: this.config.cut, bucket: this.config.bucket, prefix: this.config.prefix };
      } catch {
        // the config itself is what failed; the message says so
      }
      logLine('error', 'tail init failed; the next invocation retries', {
        ...where,
        instance: this.instance,
        code: failure.code,
        error: failure.message,
        ...(failure.detail === undefined ? {} : { detail: failure.detail }),
      });
      throw failure;
    });
    return this.loading;
  }

  /**
   * Starts init without waiting. Call it at module load: the download then
   * overlaps Lambda's init phase. In an on-demand environment an invocation is
   * already waiting for this init (it is what started the environment): the
   * instance is marked busy now, so the planner counts it in flight from the
   * moment our code runs, and the first response measures the cold start.
   */
  prewarm(): void {
    if (this.attempts === 0) this.prewarmedAtLoad = true;
    const registrar = this.registrar;
    if (registrar && this.config.onDemand && this.attempts === 0 && !this.served) {
      this.coldArrivalCounted = true;
      // The invocation's deadline is not known before the handler runs; Lambda caps init at 10 s.
      // Init waits for this write (bounded): the model build would starve it for seconds otherwise.
      // Not run alongside the download and the engine start: all three are CPU work (the SDK's first
      // request is mostly JavaScript), and on two cores the overlap measured slower (bench/cold-phases.ts).
      this.initialMark = withinMs(registrar.markBusy(Date.now() + INIT_LEASE_MS), this.registryWaitMs);
    }
    this.init().catch(() => undefined); // logged in init; the first invocation retries and answers 503
  }

  /**
   * The Shutdown phase (SIGTERM): marks the instance `gone` so the planner
   * stops counting it at once, waiting at most `graceMs` for the write.
   */
  async shutdown(graceMs = SHUTDOWN_WRITE_MS): Promise<void> {
    const registrar = this.registrarCache ?? undefined;
    if (!registrar) return;
    await withinMs(registrar.markGone(), graceMs);
  }

  private async load(): Promise<LoadedTail> {
    this.attempts += 1;
    if (this.initialMark) await this.initialMark;
    this.mark('registryMarked');
    this.mark('initStarted');
    const started = performance.now();
    const config = this.config;
    const env = this.opts.env ?? process.env;
    // the SDK's S3 client only where the early download does not serve (./tail-model.ts): loaded then
    const given = this.opts.s3;
    const s3 = given ? async () => given : async () => (await import('./aws')).createS3Client(env);
    const fuse = fusionEnabled(env);
    const pipeline = pipelineEnabled(env);
    const heapWeights = heapWeightsEnabled(env);
    const wanted = prefetchEnabled(env);
    // startTail read it without throwing (functions/commons/early-engine.ts): a typo fails init here, by name
    earlyEngineEnabled(env);
    registryHttpEnabled(env); // likewise, read by the registrar without throwing
    // the first init takes the early download (and ends it); a retry downloads with the SDK
    const handle = this.prefetch;
    this.prefetch = undefined;
    if (handle && !wanted) void handle.close();
    const early = handle && wanted ? earlyArtifact(handle, { bucket: config.bucket }) : undefined;
    const engineReady = initBackend().then((name) => (this.mark('engineReady'), name));
    engineReady.catch(() => undefined); // awaited once the download allows: not an unhandled rejection meanwhile
    // the download starts at once; the engine starts beside it, and the model is built (and, streamed, warmed
    // layer by layer) as soon as both allow (functions/commons/tail-model.ts)
    const loaded = await loadTailModel(
      s3,
      { bucket: config.bucket, modelJsonKey: config.modelJsonKey, weightPrefix: config.prefix },
      {
        engine: engineReady,
        fuse,
        pipeline,
        heapWeights,
        ...(early ? { early } : {}),
        onModelJson: (at) => this.mark('modelJson', at),
        onWeights: (at) => this.mark('weights', at),
      },
    );
    const backend = await engineReady;
    const { model, fusedChains, foldedIn, streamed, warmedLayers } = loaded;
    const fuseMs = loaded.fuseMs;
    const inputs = model.inputs.map((input, i) => ({
      name: model.inputNames[i] ?? input.name,
      shape: input.shape.slice(1).map((d) => d ?? -1),
    }));
    this.mark('built');
    // a streamed load ran every layer once as its weights arrived: the engine's operators are packed already
    if (!loaded.warmed) warmUp(model, inputs);
    this.mark('warmedUp');
    const initMs = performance.now() - started;
    this.ready = true;
    const registrar = this.registrar;
    registrar?.setInfo({ initMs: Math.round(initMs) });
    // A provisioned environment initialises with no invocation waiting: it is idle and warm now.
    if (registrar && !config.onDemand && !this.served) void registrar.register({ initMs: Math.round(initMs) });
    const weightBytes = loaded.weightBytes;
    this.timeline.weightBytes = weightBytes;
    this.timeline.weightFiles = loaded.weightFiles;
    this.timeline.prefetched = loaded.prefetched === true;
    // the early download's thread ends with the load, whatever became of it
    if (early) this.timeline.prefetchWorkerExited = handle!.exited;
    const threads = wasmThreads();
    const engine = threads ? `${backend}; threads=${threads.threads}${threads.fallback ? `; requested=${threads.requested}` : ''}` : backend;
    logLine('info', 'tail ready', { model: config.model, cut: config.cut, instance: this.instance, backend, threads: threads ?? undefined, fusedChains, foldedIn, streamed, warmedLayers, prefetched: loaded.prefetched === true, fuseMs: Math.round(fuseMs), initMs: Math.round(initMs), weightBytes });
    return { model, inputs, outputNames: model.outputNames.slice(), initMs, engine };
  }

  /**
   * 413 when the payload's header announces a batch above `MAX_BATCH`: read
   * from the body's first bytes, before it is decoded and before init is
   * awaited, so an oversized request costs no compute. A malformed header is
   * left to the full decode, which names the problem.
   */
  checkBatch(prefix: (bytes: number) => Uint8Array): void {
    let batch: number | undefined;
    try {
      const header = peekWireHeader(prefix);
      batch = header && wireBatchSize(header);
    } catch {
      return;
    }
    const { maxBatch } = this.config;
    if (batch !== undefined && batch > maxBatch) {
      throw new OffloadError(
        'payload-too-large',
        `batch size ${batch} is above this function's limit of ${maxBatch} (MAX_BATCH); split the batch into requests of at most ${maxBatch}`,
      );
    }
  }

  /** 404 unless the path names this function's model and cut. */
  checkRoute(event: HttpEvent): void {
    const { model, cut } = routeOf(event);
    const config = this.config;
    if (model !== config.model || cut !== String(config.cut)) {
      throw new NotFoundError(
        `no tail function for model "${model ?? ''}" cut ${cut ?? '(none)'} here; this function serves ${inferRoute(config.model, config.cut)}`,
      );
    }
  }

  /** One inference: decode, check against the crossing set, run the tail, encode. */
  async infer(event: TailEvent, context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): Promise<HttpResult> {
    const initWaited = !this.ready;
    const first = !this.served;
    if (first) this.mark('invoked');
    const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 30_000);
    const registrar = this.registrar;
    const waitMs = this.registryWaitMs;
    // Busy from the moment the invocation is here, before init and decode; awaited (bounded) before the
    // compute. The invocation that started this environment was counted at module load already.
    const busy = registrar?.markBusy(deadline, { arrival: !this.coldArrivalCounted });
    this.coldArrivalCounted = false;
    try {
      const tail = await this.init();
      const cold = !this.served;
      this.served = true;
      // The cold start as the client sees it: environment start until this first invocation can start
      // its own work (a warm one starts at once). Measured only when init began at module load in an
      // environment this invocation started; a provisioned one was ready before it came.
      // An environment Lambda initialised ahead of demand was ready before the invocation came: no cold start to measure.
      if (cold && initWaited && this.prewarmedAtLoad && this.attempts === 1 && this.config.onDemand) {
        this.coldStartMs = Math.round(process.uptime() * 1000);
        registrar?.setInfo({ coldStartMs: this.coldStartMs });
      }
      const decoded = decodeTensors(event.bodyBytes);
      const ordered = orderCrossing(decoded, tail.inputs);
      for (const t of ordered) {
        const at = firstNonFinite(t.data);
        if (at >= 0) {
          throw new OffloadError('invalid-input', `tensor "${t.name}": element ${at} is ${t.data[at]}; crossing tensors must be finite (no NaN or Infinity)`);
        }
      }
      const batch = ordered[0]?.shape[0] ?? 1;
      this.checkResponseSize(tail, batch);
      if (busy && waitMs > 0) await withinMs(busy, waitMs);
      const started = performance.now();
      if (first) this.mark('computeStart');
      const outputs = await runTail(tail, ordered);
      const computeMs = performance.now() - started;
      if (first) this.mark('computeEnd');
      const headers = inferHeaders({
        cold,
        computeMs,
        instance: this.instance,
        // The whole Init phase when known (runtime start and bundle load included): what the caller waited
        // for beyond a warm request, which the client reports as the cold start, not as network time.
        initMs: cold ? (this.coldStartMs ?? tail.initMs) : null,
        functionName: this.config.functionName ?? null,
        memoryMB: this.config.memoryMB ?? null,
      });
      headers[INFER_HEADERS.backend] = tail.engine;
      const response =
        event.responseType === 'application/json'
          ? jsonResponse(200, { outputs: outputs.map((o) => ({ name: o.name, shape: o.shape, data: Array.from(o.data) })) }, headers)
          : binaryResponse(200, encodeTensors(outputs, 'float32'), WIRE_CONTENT_TYPE, headers);
      // JSON numbers have no size known before computing them; Lambda would drop an oversized answer as an error.
      const size = response.body?.length ?? 0;
      if (size > this.config.maxPayloadBytes) {
        throw new OffloadError(
          'payload-too-large',
          `the response is ${size} bytes, above the ${this.config.maxPayloadBytes}-byte payload limit; send a smaller batch` +
            (event.responseType === 'application/json' ? ` or accept ${WIRE_CONTENT_TYPE}` : ''),
        );
      }
      return response;
    } finally {
      // Awaited (bounded) before the response leaves: Lambda freezes the environment once the
      // handler returns, and a write still queued then would land only at the next thaw.
      const idle = registrar?.markIdle();
      if (idle && waitMs > 0) await withinMs(idle, waitMs);
      if (first && this.served) this.logTimeline();
    }
  }

  /** Records `step` now, or at `at` (epoch ms, e.g. on the early download's thread). */
  private mark(step: ColdStartStep, at?: number): void {
    this.timeline[step] ??= at === undefined ? sinceProcessStart() : round1(at - performance.timeOrigin);
  }

  /** Ends the early download the first init did not take (it holds the weights' buffer). */
  private dropPrefetch(): void {
    void this.prefetch?.close();
    this.prefetch = undefined;
  }

  /** Logs where the cold start went, once, at the end of the environment's first invocation. */
  private logTimeline(): void {
    if (this.timeline.answered !== undefined) return;
    this.mark('answered');
    const boot = performance.nodeTiming;
    logLine('info', 'cold start timeline', {
      instance: this.instance,
      // epoch ms of the process start, to place the steps on another process's clock (bench/cold-phases.ts)
      processStart: performance.timeOrigin,
      nodeReady: round1(boot.bootstrapComplete),
      ...this.timeline,
    });
  }

  /**
   * 413 before computing when the binary answer for `batch` (base64, as
   * Lambda returns it) would exceed the payload limit: its size follows from
   * the output shapes alone.
   */
  private checkResponseSize(tail: LoadedTail, batch: number): void {
    const perExample = tail.model.outputs.map((o) => o.shape.slice(1));
    if (!perExample.every((shape) => shape.every((d) => typeof d === 'number'))) return; // dynamic: checked after computing
    const shapes = perExample.map((shape, i) => ({ name: tail.outputNames[i] ?? `output_${i}`, shape: [batch, ...(shape as number[])] }));
    const bytes = Math.ceil(encodedSize(shapes, 'float32') / 3) * 4;
    const limit = this.config.maxPayloadBytes;
    if (bytes > limit) {
      const exampleBytes = perExample.reduce((sum, shape) => sum + 4 * (shape as number[]).reduce((a, b) => a * b, 1), 0);
      const fits = Math.max(1, Math.floor((limit * 3) / 4 / Math.max(1, exampleBytes)));
      throw new OffloadError(
        'payload-too-large',
        `the response for batch ${batch} would be ${bytes} bytes after base64, above the ${limit}-byte payload limit; send batches of at most about ${fits}`,
      );
    }
  }

  /**
   * A prewarm invocation (core/prewarm.ts PrewarmEvent, sent by the planner
   * with an asynchronous Invoke): initialise as a cold request would — busy in
   * the registry while loading, the cold start measured and reported — then
   * idle and warm. An environment that is warm already answers at once,
   * without a registry write. Never throws: a failed init is logged (by
   * init) and the next invocation retries it; Lambda does not retry a
   * handler that returned.
   */
  async warm(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): Promise<{ warmed: boolean; initMs: number | null }> {
    if (this.ready) return { warmed: false, initMs: null };
    const registrar = this.registrar;
    const waitMs = this.registryWaitMs;
    const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 30_000);
    registrar?.markBusy(deadline, { arrival: !this.coldArrivalCounted });
    this.coldArrivalCounted = false;
    try {
      const tail = await this.init();
      const cold = !this.served;
      // Its starting invocation was this one: the next request is warm and says so.
      this.served = true;
      if (cold && this.prewarmedAtLoad && this.attempts === 1 && this.config.onDemand) {
        this.coldStartMs = Math.round(process.uptime() * 1000);
        registrar?.setInfo({ coldStartMs: this.coldStartMs });
      }
      logLine('info', 'prewarmed', { model: this.config.model, cut: this.config.cut, instance: this.instance, initMs: Math.round(tail.initMs) });
      return { warmed: true, initMs: this.coldStartMs ?? tail.initMs };
    } catch {
      return { warmed: false, initMs: null };
    } finally {
      const idle = registrar?.markIdle();
      if (idle && waitMs > 0) await withinMs(idle, waitMs);
    }
  }

  /** Waits for queued registry writes (tests, benchmarks). */
  async flush(): Promise<void> {
    await this.loading?.catch(() => undefined);
    await this.registrarCache?.flush();
  }
}

/** The steps of a cold start the tail records (ms since its process started). */
export type ColdStartStep =
  | 'prefetchStarted'
  | 'moduleLoaded'
  | 'initStarted'
  | 'registryMarked'
  | 'engineReady'
  | 'modelJson'
  | 'weights'
  | 'built'
  | 'warmedUp'
  | 'invoked'
  | 'computeStart'
  | 'computeEnd'
  | 'answered';

/** A cold start's steps, and what was downloaded. */
export type ColdStartTimeline = Partial<Record<ColdStartStep, number>> & {
  weightBytes?: number;
  weightFiles?: number;
  /** The tail loaded from the early download (functions/tail/index.ts), and whether its worker thread had exited by then. */
  prefetched?: boolean;
  prefetchWorkerExited?: boolean;
}

function sinceProcessStart(): number {
  return round1(performance.now());
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * Installs the Shutdown-phase handler: on SIGTERM, mark the instance gone
 * (bounded by {@link SHUTDOWN_WRITE_MS}) and exit 0, as Lambda expects a
 * runtime to do with the time it is given before SIGKILL.
 */
export function onShutdownSignal(runtime: TailRuntime, exit: (code: number) => void = (code) => process.exit(code)): void {
  process.once('SIGTERM', () => {
    logLine('info', 'shutdown: SIGTERM received', { instance: runtime.instance });
    void runtime.shutdown().finally(() => exit(0));
  });
}

/** The `{model}` and `{cut}` of `/infer/{model}/{cut}`, from path parameters or the raw path. */
export function routeOf(event: HttpEvent): { model: string | undefined; cut: string | undefined } {
  const params = event.pathParameters ?? {};
  if (params.model !== undefined || params.cut !== undefined) return { model: params.model, cut: params.cut };
  const parts = (event.rawPath ?? '').split('/').filter(Boolean);
  const at = parts.indexOf('infer');
  return at < 0 ? { model: undefined, cut: undefined } : { model: parts[at + 1], cut: parts[at + 2] };
}

/**
 * One inference on zeros at init: the backend compiles and caches its kernels
 * on first use, a cost that belongs to the cold start (which the planner
 * models) rather than to the first request's compute time.
 */
function warmUp(model: tf.LayersModel, inputs: readonly ExpectedTensor[]): void {
  tf.tidy(() => {
    const xs = inputs.map((t) => tf.zeros([1, ...t.shape]));
    const ys = model.predict(xs.length === 1 ? (xs[0] as tf.Tensor) : xs);
    for (const y of Array.isArray(ys) ? ys : [ys]) y.dataSync();
  });
}

async function runTail(tail: LoadedTail, inputs: readonly WireTensor[]): Promise<WireTensor[]> {
  const xs = inputs.map((t) => tf.tensor(t.data, t.shape, 'float32'));
  try {
    const raw = tail.model.predict(xs.length === 1 ? (xs[0] as tf.Tensor) : xs);
    const ys = Array.isArray(raw) ? raw : [raw];
    try {
      const datas = await Promise.all(ys.map((y) => y.data()));
      return ys.map((y, i) => {
        const d = datas[i] as tf.TypedArray;
        return {
          name: tail.outputNames[i] ?? `output_${i}`,
          shape: y.shape.slice(),
          data: d instanceof Float32Array ? d : Float32Array.from(d),
        };
      });
    } finally {
      for (const y of ys) y.dispose();
    }
  } finally {
    for (const x of xs) x.dispose();
  }
}

/**
 * The tail handler: route check (404), content type (415) and size (413),
 * content negotiation, then {@link TailRuntime.infer}; every error becomes
 * status + JSON `{ code, message }` carrying the instance header.
 *
 * @example
 * export const handler = createTailHandler(new TailRuntime());
 */
export function createTailHandler(runtime: TailRuntime, metrics: Metrics = createMetrics('tail')) {
  const http = createHttpTailHandler(runtime, metrics);
  // The planner's prewarm comes as a direct (asynchronous) invoke, not through the HTTP API.
  return (event: HttpEvent | PrewarmEvent, context: Context) =>
    isPrewarmEvent(event) ? runtime.warm(context) : http(event, context);
}

function createHttpTailHandler(runtime: TailRuntime, metrics: Metrics) {
  const routeGuard: HttpMiddleware = {
    name: 'routeGuard',
    before: (request) => runtime.checkRoute(request.event),
  };
  // The timing headers are the figures the client sees; the metrics are the same numbers.
  const timingMetrics: HttpMiddleware = {
    name: 'timingMetrics',
    after: (request) => {
      const h = request.response?.headers ?? {};
      const compute = Number(h[INFER_HEADERS.computeMs]);
      if (Number.isFinite(compute)) metrics.addMetric(METRIC.computeMs, MetricUnit.Milliseconds, compute);
      const init = Number(h[INFER_HEADERS.initMs]);
      if (h[INFER_HEADERS.initMs] !== undefined && Number.isFinite(init)) metrics.addMetric(METRIC.initMs, MetricUnit.Milliseconds, init);
    },
  };
  return middy<HttpEvent, HttpResult>()
    .use(observe(metrics))
    .use(timingMetrics)
    .use(responseHeaders(() => ({ [INFER_HEADERS.instance]: runtime.instance })))
    .use(httpErrors())
    .use(routeGuard)
    .use(binaryBody({ contentTypes: [WIRE_CONTENT_TYPE], maxBytes: () => runtime.maxPayloadBytes, hint: PAYLOAD_HINT, peek: (prefix) => runtime.checkBatch(prefix) }))
    .use(negotiate({ produces: [WIRE_CONTENT_TYPE, 'application/json'] }))
    .handler((event, context) => runtime.infer(event as TailEvent, context));
}
