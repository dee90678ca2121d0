/**
 * The planner function's runtime: `POST /plan` and `GET /models`.
 *
 * A plan folds in the live fleet: one registry query per model (cached
 * {@link DEFAULT_FLEET_CACHE_MS}), plus the requests this instance has just
 * sent to the cloud and the registry does not show yet (the
 * {@link ReservationLedger}), so two plans issued back to back do not both
 * count on the same idle instance. The ledger is per
 * planner instance: plans from other planner instances are seen only once
 * their requests reach the registry as busy marks.
 *
 * With prewarm on (`PREWARM_TAILS`, on by default), a plan may also start
 * one tail environment in the background (core/prewarm.ts decides; ./prewarm.ts
 * sends an asynchronous Invoke): the plan itself is unchanged, waits at most
 * `PREWARM_WAIT_MS` for the Invoke, and never fails because of it. The
 * prewarm memory (recurrence and dedupe) is per planner instance, like the
 * ledger; its recurrence window is this planner's `FLEET_KEEPALIVE_MS`.
 */
import middy from '@middy/core';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { createMetrics, METRIC, MetricUnit, observe } from './observability';
import httpRouterHandler from '@middy/http-router';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../core/errors';
import { plan, type CandidateRow, type PlanRecord } from '../../core/planner';
import { createDocumentClient } from './aws';
import { presignedS3, type PresignedS3 } from './s3-presign';
import { ModelCatalog } from './model-catalog';
import { inferRoute } from '../../core/catalog';
import { readPlannerConfig, type PlannerConfig } from './deployment';
import { httpErrors, jsonBody, jsonResponse, logLine, type HttpEvent, type HttpResult, type JsonBodyEvent } from './http';
import { parsePlanRequest, type PlanResponse } from '../../core/api';
import { FleetReader, ReservationLedger, summariseFleet, type ArrivalWindow, type FunctionFleet, type RegistryItem } from './registry';
import { assembleScenario } from './scenario';
import { withinMs } from './registry';
import { PrewarmMemory, prewarmEvent, DEFAULT_PREWARM_OPTIONS, type PrewarmSkip } from '../../core/prewarm';
import type { Scenario } from '../../core/scenario';
import { lambdaEventInvoker, type EventInvoker } from './prewarm';

/**
 * How long a reservation outlives the plan's predicted latency when its
 * request never shows in the registry (a 429, a device that gave up); one
 * that arrives is retired as soon as a registry read shows it.
 */
export const RESERVATION_SLACK_MS = 500;

export type { PlanResponse } from '../../core/api';

export interface PlannerRuntimeOptions {
  env?: NodeJS.ProcessEnv;
  /** S3 reads and presigned URLs; default {@link presignedS3} over the environment. */
  s3?: PresignedS3;
  dynamo?: DynamoDBDocumentClient;
  now?: () => number;
  /** Sends the prewarm invocations; default a SigV4-signed Lambda Invoke (./prewarm.ts). */
  invoker?: EventInvoker;
}

/** What prewarm did in this planner instance (also logged, and counted as metrics by the handler). */
export interface PrewarmCounters {
  /** Invokes accepted (202). */
  sent: number;
  /** Invokes refused or unanswered (within ./prewarm.ts INVOKE_TIMEOUT_MS); the plan was answered all the same. */
  failed: number;
  /** Plans that decided no prewarm, by reason (core/prewarm.ts PREWARM_SKIPS), plus `fleet-unknown` when the registry was not read. */
  skipped: Partial<Record<PrewarmSkip | 'fleet-unknown', number>>;
}

/** One prewarm outcome, for the handler's metrics. */
export type PrewarmOutcome = { function: string; ok: true } | { function: string; ok: false; error: string };

export class PlannerRuntime {
  private readonly opts: PlannerRuntimeOptions;
  private state: { config: PlannerConfig; catalog: ModelCatalog; fleet: FleetReader | undefined } | undefined;
  readonly ledger: ReservationLedger;
  readonly prewarmCounters: PrewarmCounters = { sent: 0, failed: 0, skipped: {} };
  /** Called when a prewarm Invoke ends (the handler turns it into metrics). */
  onPrewarm: ((outcome: PrewarmOutcome) => void) | undefined;
  private readonly prewarmMemory = new PrewarmMemory();
  private invoker: EventInvoker | undefined;

  constructor(opts: PlannerRuntimeOptions = {}) {
    this.opts = opts;
    this.ledger = new ReservationLedger({ now: opts.now });
    this.invoker = opts.invoker;
  }

  /** Config, model catalog and registry reader, built on first use (a bad environment answers 503 and is re-read next time). */
  private get parts() {
    if (!this.state) {
      const config = readPlannerConfig(this.opts.env ?? process.env);
      const s3 = this.opts.s3 ?? presignedS3(config.bucket, this.opts.env ?? process.env);
      const fleet = config.table
        ? new FleetReader({
            client: this.opts.dynamo ?? createDocumentClient(),
            table: config.table,
            keepAliveMs: config.keepAliveMs,
            cacheMs: config.fleetCacheMs,
            now: this.opts.now,
          })
        : undefined;
      const presign =
        config.artifactUrlSeconds > 0
          ? (key: string) => s3.presignGet(key, config.artifactUrlSeconds)
          : undefined;
      this.state = { config, catalog: new ModelCatalog(s3, config.bucket, config.functions, presign), fleet };
    }
    return this.state;
  }

  /** `GET /models`. */
  models() {
    return this.parts.catalog.describe();
  }

  /** `POST /plan`: validate, assemble the scenario, plan, reserve. */
  async plan(body: unknown): Promise<PlanResponse> {
    const request = parsePlanRequest(body);
    const { config, catalog, fleet } = this.parts;
    const deployed = catalog.functionsOf(request.model);
    const manifest = await catalog.manifest(request.model);
    const [live, profile] = await Promise.all([this.readFleet(fleet, request.model), catalog.cloudProfile(request.model, manifest)]);
    const assemble = (view: Map<number, FunctionFleet>) =>
      assembleScenario({
        request,
        manifest,
        deployed,
        fleet: view,
        cloudProfile: profile,
        maxPayloadBytes: config.maxPayloadBytes,
        coldBaseMs: config.coldBaseMs,
        coldMsPerMB: config.coldMsPerMB,
      });
    // The fleet is judged when each cut's request would reach its tail: the head, upload and round trip
    // of a cut do not depend on the fleet, so a first plan gives them.
    const now = this.opts.now?.() ?? Date.now();
    let windows: Map<number, ArrivalWindow> | undefined;
    let seen = live.fleet;
    if (config.fleetAtArrival && live.items && fleet) {
      const first = assemble(live.fleet);
      windows = arrivalWindows(plan(first), first.network.rttMs, now);
      seen = summariseFleet(live.items, now, fleet.keepAliveMs, windows);
    }
    const scenario = assemble(this.ledger.apply(request.model, seen, live.items, windows));
    const record = plan(scenario);
    if (record.target === 'cloud') {
      const row = record.candidates.find((c) => c.cut === record.cut)!;
      const tail = windows ? { startsInMs: reachMs(row, scenario.network.rttMs), busyMs: row.coldMs + row.tailMs } : undefined;
      this.ledger.reserve(request.model, record.cut, record.predicted.latencyMs + RESERVATION_SLACK_MS, live.items, tail);
    }
    if (config.prewarm.enabled) await this.prewarm(config, scenario, record, live.source);
    const fleetOut: PlanResponse['fleet'] = {};
    for (const [cut, f] of Object.entries(scenario.cloud.functions)) fleetOut[cut] = { idleWarm: f.idleWarm, inFlight: f.inFlight, limit: f.limit };
    return {
      ...record,
      route: record.target === 'cloud' ? (deployed[String(record.cut)]?.route ?? inferRoute(request.model, record.cut)) : null,
      fleet: fleetOut,
      fleetSource: live.source,
    };
  }

  /**
   * Starts the tail that would win warm when core/prewarm.ts says it pays.
   * Never throws: a failed Invoke is logged and counted, the plan stands.
   */
  private async prewarm(
    config: PlannerConfig,
    scenario: Scenario,
    record: PlanRecord,
    source: PlanResponse['fleetSource'],
  ): Promise<void> {
    const skipped = this.prewarmCounters.skipped;
    // Without the registry every tail looks cold, warm ones included: prewarming then would only spend.
    if (source !== 'registry') {
      skipped['fleet-unknown'] = (skipped['fleet-unknown'] ?? 0) + 1;
      return;
    }
    const now = this.opts.now?.() ?? Date.now();
    let decision;
    try {
      decision = this.prewarmMemory.decide(scenario, record, now, { ...DEFAULT_PREWARM_OPTIONS, minGain: config.prewarm.minGain, recurrenceMs: config.keepAliveMs });
    } catch (err) {
      logLine('error', 'prewarm decision failed; plan answered without it', { model: record.model, error: String(err) });
      return;
    }
    if (!decision.prewarm) {
      skipped[decision.reason] = (skipped[decision.reason] ?? 0) + 1;
      return;
    }
    const { function: fn, cut } = decision;
    const fields = { model: record.model, cut, function: fn, chosenCut: record.cut, gain: Number(decision.gain.toFixed(4)) };
    let sent: Promise<void>;
    try {
      this.invoker ??= lambdaEventInvoker(this.opts.env ?? process.env);
      sent = this.invoker.invokeEvent(fn, prewarmEvent(record.model, cut, now));
    } catch (err) {
      sent = Promise.reject(err);
    }
    const done = sent.then(
      () => {
        this.prewarmCounters.sent += 1;
        logLine('info', 'prewarm sent', fields);
        this.onPrewarm?.({ function: fn, ok: true });
      },
      (err: unknown) => {
        this.prewarmCounters.failed += 1;
        logLine('warn', 'prewarm failed; the plan was answered without it', { ...fields, error: String(err) });
        this.onPrewarm?.({ function: fn, ok: false, error: String(err) });
      },
    );
    await withinMs(done, config.prewarm.waitMs);
  }

  /** A registry outage must not stop planning: the fleet is then unknown and every function is planned as cold. */
  private async readFleet(
    reader: FleetReader | undefined,
    model: string,
  ): Promise<{ fleet: Map<number, FunctionFleet>; items?: RegistryItem[]; source: PlanResponse['fleetSource'] }> {
    if (!reader) return { fleet: new Map(), source: 'none' };
    try {
      const now = this.opts.now?.() ?? Date.now();
      const { items } = await reader.snapshot(model, now);
      return { fleet: summariseFleet(items, now, reader.keepAliveMs), items, source: 'registry' };
    } catch (err) {
      logLine('warn', 'fleet registry unreadable; planning every function as cold', { model, error: String(err) });
      return { fleet: new Map(), source: 'unavailable' };
    }
  }
}

/**
 * How long after the plan its request reaches the tail of `row`'s cut. The
 * client's default device runs its head while it asks (client/infer.ts): it
 * started the head when it sent the plan request, half a round trip before
 * the plan, sends when both the head and the answer are done, and its request
 * takes the other half and the upload: `max(rtt, head) + up` from now. A
 * device that waits for the answer (`waitForPlan`) gets there min(rtt, head)
 * later; the registry shows it when it does. Holding the tail for both would
 * have the planner see a full environment that is free for the default
 * client, the error judging at the arrival removed.
 */
export function reachMs(row: Pick<CandidateRow, 'headMs' | 'upMs'>, rttMs: number): number {
  return Math.max(rttMs, row.headMs) + row.upMs;
}

/** Per deployed cut: when a request planned `now` would reach its tail, its warm compute there, and the cut's cold start. */
function arrivalWindows(probe: PlanRecord, rttMs: number, now: number): Map<number, ArrivalWindow> {
  const out = new Map<number, ArrivalWindow>();
  for (const row of probe.candidates) {
    if (row.cut === probe.L) continue;
    out.set(row.cut, { atMs: now + reachMs(row, rttMs), busyMs: row.tailMs, coldStartMs: row.coldStartMs });
  }
  return out;
}

/**
 * The planner handler: routes `POST /plan` and `GET /models`; anything else
 * is a JSON 404; every error is status + JSON `{ code, message }`.
 *
 * @example
 * export const handler = createPlannerHandler(new PlannerRuntime());
 */
export function createPlannerHandler(runtime: PlannerRuntime, metrics: Metrics = createMetrics('planner')) {
  // An Invoke that ends after its plan was answered is counted with the next invocation's metrics.
  runtime.onPrewarm = (o) => metrics.addMetric(o.ok ? METRIC.prewarmSent : METRIC.prewarmFailed, MetricUnit.Count, 1);
  const planRoute = middy<HttpEvent, HttpResult>()
    .use(jsonBody({ maxBytes: 1 << 20 }))
    .handler(async (event) => jsonResponse(200, await runtime.plan((event as JsonBodyEvent).jsonBody)));
  const modelsRoute = middy<HttpEvent, HttpResult>().handler(async () => jsonResponse(200, await runtime.models()));
  const router = httpRouterHandler<HttpEvent, HttpResult>({
    routes: [
      { method: 'POST', path: '/plan', handler: planRoute },
      { method: 'GET', path: '/models', handler: modelsRoute },
    ],
    notFoundResponse: ({ method, path }) => {
      throw new NotFoundError(`no route ${method} ${path} (routes: POST /plan, GET /models)`);
    },
  });
  return middy<HttpEvent, HttpResult>().use(observe(metrics)).use(httpErrors()).handler(router);
}
