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
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { NotFoundError, OffloadError, isOffloadError } from '../../core/errors';
import { decodeTensors, encodeTensors, orderCrossing, WIRE_CONTENT_TYPE, type ExpectedTensor, type WireTensor } from '../../core/wire';
import { modelKeyPrefix, partModelJson, tailDir } from '../../core/manifest';
import { formatPath } from '../../core/validation';
import { initBackend } from '../../models/backend';
import { loadModelFromFiles } from '../../models/artifacts';
import { loadArtifactFiles, s3Key } from './artifacts';
import { createDocumentClient, createS3Client } from './aws';
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
import { InstanceRegistrar } from './registry';

/** The tail function's environment (set by the CDK app; see CONTRACTS.md). */
export const TailEnvSchema = z.object({
  MODEL_NAME: z.string({ error: 'must be set' }).min(1, 'must be set'),
  CUT: z.coerce.number({ error: 'must be a cut number' }).int('must be a cut number').nonnegative('must be a cut number'),
  ARTIFACT_BUCKET: z.string({ error: 'must be set' }).min(1, 'must be set'),
  /** The model's folder in the bucket, default `models/<model>/`: the tail reads `tails/<cut>/model.json` and the segments it names there. */
  ARTIFACT_PREFIX: z.string().optional(),
  /** Fleet registry table; without it the instance does not register (plain local runs). */
  REGISTRY_TABLE: z.string().optional(),
  /** Payload limit in bytes as delivered (after base64); default 6,291,456. */
  MAX_PAYLOAD_BYTES: z.coerce.number().int().positive().optional(),
  /** Set by Lambda itself; recorded in the registry. */
  AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
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
  functionName: string | undefined;
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
    functionName: e.AWS_LAMBDA_FUNCTION_NAME,
  };
}

/** A loaded tail, ready to serve. */
export interface LoadedTail {
  model: tf.LayersModel;
  /** The crossing tensors this cut takes, in the model's input order (shapes without batch). */
  inputs: ExpectedTensor[];
  outputNames: string[];
  initMs: number;
  /** Process start → ready, when init began at module load (the whole Init phase); else undefined. */
  coldStartMs?: number;
  registrar: InstanceRegistrar | undefined;
}

export interface TailRuntimeOptions {
  env?: NodeJS.ProcessEnv;
  s3?: S3Client;
  dynamo?: DynamoDBDocumentClient;
  /** Defaults to a random UUID. */
  instance?: string;
  /**
   * Wait for each registry write (busy before computing, idle before
   * answering). Off by default: the writes travel in the background; this
   * switch exists so the benchmark can show what waiting would cost.
   */
  awaitRegistry?: boolean;
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

  constructor(opts: TailRuntimeOptions = {}) {
    this.opts = opts;
    this.instance = opts.instance ?? randomUUID();
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
      const failure = isOffloadError(err) && err.status === 503 ? err : new OffloadError('unavailable', `tail init failed: ${(err as Error).message}`, { cause: err });
      let where: Record<string, unknown> = {};
      try {
        where = { model: this.config.model, cut: this.config.cut, bucket: this.config.bucket, prefix: this.config.prefix };
      } catch {
        // the config itself is what failed; the message says so
      }
      logLine('error', 'tail init failed; the next invocation retries', { ...where, instance: this.instance, code: failure.code, error: failure.message });
      throw failure;
    });
    return this.loading;
  }

  /**
   * Starts init without waiting. Call it at module load: the download then
   * overlaps Lambda's init phase, and the time from process start to ready is
   * recorded in the registry as the function's measured cold start.
   */
  prewarm(): void {
    if (this.attempts === 0) this.prewarmedAtLoad = true;
    this.init().catch(() => undefined); // logged in init; the first invocation retries and answers 503
  }

  private async load(): Promise<LoadedTail> {
    this.attempts += 1;
    const started = performance.now();
    const config = this.config;
    const s3 = this.opts.s3 ?? createS3Client(this.opts.env ?? process.env);
    const [backend, files] = await Promise.all([initBackend(), loadArtifactFiles(s3, config.bucket, config.modelJsonKey, config.prefix)]);
    let model: tf.LayersModel;
    try {
      model = await loadModelFromFiles(files);
    } catch (err) {
      throw new OffloadError('unavailable', `artifact unusable: s3://${config.bucket}/${config.modelJsonKey}: ${(err as Error).message}`, { cause: err });
    }
    const inputs = model.inputs.map((input, i) => ({
      name: model.inputNames[i] ?? input.name,
      shape: input.shape.slice(1).map((d) => d ?? -1),
    }));
    warmUp(model, inputs);
    const initMs = performance.now() - started;
    const registrar = config.table
      ? new InstanceRegistrar({
          client: this.opts.dynamo ?? createDocumentClient(),
          table: config.table,
          model: config.model,
          cut: config.cut,
          instance: this.instance,
          functionName: config.functionName,
        })
      : undefined;
    // Process start → ready covers the runtime start, module load (tfjs) and this init: the cold
    // start the planner should expect, minus sandbox creation. Only meaningful for a first attempt begun at load.
    const coldStartMs = this.attempts === 1 && this.prewarmedAtLoad ? Math.round(process.uptime() * 1000) : undefined;
    void registrar?.register({ initMs: Math.round(initMs), coldStartMs });
    let weightBytes = 0;
    for (const [name, bytes] of files) if (name !== 'model.json') weightBytes += bytes.byteLength;
    logLine('info', 'tail ready', { model: config.model, cut: config.cut, instance: this.instance, backend, initMs: Math.round(initMs), coldStartMs, weightBytes });
    return { model, inputs, outputNames: model.outputNames.slice(), initMs, ...(coldStartMs === undefined ? {} : { coldStartMs }), registrar };
  }

  /** 404 unless the path names this function's model and cut. */
  checkRoute(event: HttpEvent): void {
    const { model, cut } = routeOf(event);
    const config = this.config;
    if (model !== config.model || cut !== String(config.cut)) {
      throw new NotFoundError(
        `no tail function for model "${model ?? ''}" cut ${cut ?? '(none)'} here; this function serves /infer/${config.model}/${config.cut}`,
      );
    }
  }

  /** One inference: decode, check against the crossing set, run the tail, encode. */
  async infer(event: TailEvent, context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): Promise<HttpResult> {
    const tail = await this.init();
    const cold = !this.served;
    this.served = true;
    const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 30_000);
    // Not awaited: the write travels while we decode and compute; the queue keeps busy before idle.
    const busy = tail.registrar?.markBusy(deadline);
    if (this.opts.awaitRegistry) await busy;
    try {
      const decoded = decodeTensors(event.bodyBytes);
      const ordered = orderCrossing(decoded, tail.inputs);
      const started = performance.now();
      const outputs = await runTail(tail, ordered);
      const computeMs = performance.now() - started;
      const headers: Record<string, string> = {
        'x-offload-cold': String(cold),
        'x-offload-compute-ms': computeMs.toFixed(2),
        'x-offload-instance': this.instance,
      };
      // The whole Init phase when known (runtime start and bundle load included): what the caller waited
      // for beyond a warm request, which the client reports as the cold start, not as network time.
      if (cold) headers['x-offload-init-ms'] = (tail.coldStartMs ?? tail.initMs).toFixed(0);
      if (event.responseType === 'application/json') {
        return jsonResponse(200, { outputs: outputs.map((o) => ({ name: o.name, shape: o.shape, data: Array.from(o.data) })) }, headers);
      }
      return binaryResponse(200, encodeTensors(outputs, 'float32'), WIRE_CONTENT_TYPE, headers);
    } finally {
      // Not awaited either: the response does not wait on bookkeeping; a lost idle
      // write costs at most a busy mark that lapses at `deadline`.
      const idle = tail.registrar?.markIdle();
      if (this.opts.awaitRegistry) await idle;
    }
  }

  /** Waits for queued registry writes (tests, benchmarks). */
  async flush(): Promise<void> {
    const tail = await this.loading?.catch(() => undefined);
    await tail?.registrar?.flush();
  }
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
export function createTailHandler(runtime: TailRuntime) {
  const routeGuard: HttpMiddleware = {
    name: 'routeGuard',
    before: (request) => runtime.checkRoute(request.event),
  };
  return middy<HttpEvent, HttpResult>()
    .use(responseHeaders(() => ({ 'x-offload-instance': runtime.instance })))
    .use(httpErrors())
    .use(routeGuard)
    .use(binaryBody({ contentTypes: [WIRE_CONTENT_TYPE], maxBytes: () => runtime.maxPayloadBytes, hint: PAYLOAD_HINT }))
    .use(negotiate({ produces: [WIRE_CONTENT_TYPE, 'application/json'] }))
    .handler((event, context) => runtime.infer(event as TailEvent, context));
}
