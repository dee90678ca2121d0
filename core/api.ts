/**
 * The HTTP API contract, defined once: what `POST /plan` accepts and answers,
 * what `GET /models` answers, the error body, and the `x-offload-*` headers of
 * `POST /infer/{model}/{cut}`. The planner and tail functions produce these;
 * the Node and browser clients validate what they receive against them.
 * Pure TypeScript (zod only), so the browser bundle can carry it.
 *
 * The body of `POST /plan` is what a device knows about itself and its
 * network; the planner function turns it, with the model's export manifest
 * and the live fleet, into a cost-model §7 scenario (functions/commons/scenario.ts).
 */
import * as z from 'zod';
import { DTYPES, OBJECTIVES, RadioSchema } from './scenario';
import { NETWORK_PRESET_NAMES } from './presets';
import { parseWith } from './validation';
import { ValidationError, type ErrorCode } from './errors';
import { REASONS, type PlanRecord } from './planner';
import { CrossingTensorSchema } from './manifest';
import { INFER_HEADERS, type InferTiming } from './tail-api';

// the tail's own part of the API lives apart, free of zod (./tail-api.ts); everything else imports it from here
export { INFER_HEADERS, inferHeaders, type InferTiming } from './tail-api';

const finiteNonNegative = z.number().finite().min(0, 'must be >= 0');
const positive = z.number().finite().gt(0, 'must be > 0');

/** A measured network; `technology` picks the radio power model when `radio` is not given. */
export const MeasuredNetworkSchema = z.strictObject({
  uplinkMbps: positive,
  downlinkMbps: positive,
  rttMs: finiteNonNegative,
  /** Which preset's radio parameters apply (default `4g`); ignored when `radio` is given. */
  technology: z.enum(NETWORK_PRESET_NAMES).optional(),
  radio: RadioSchema.optional(),
});

/**
 * A device: a built-in class name, or inline figures. Per-layer times come
 * from `deviceMs` (one per layer, in the manifest's layer order) when given;
 * otherwise they are derived from the layers' FLOPs at `gmacPerSecond` (or
 * the class's assumed throughput).
 */
export const InlineDeviceSchema = z
  .strictObject({
    /** A built-in device class supplying the figures not given here. */
    class: z.string().min(1).optional(),
    computeW: finiteNonNegative.optional(),
    idleW: finiteNonNegative.optional(),
    deviceMs: z.array(finiteNonNegative).min(1).optional(),
    /** Effective multiply-adds per second, in billions (core/profiles.ts DeviceProfile). */
    gmacPerSecond: positive.optional(),
    /** Memory bandwidth, GB/s (used with a measured model profile; default: the class's, else gmacPerSecond). */
    memGBps: positive.optional(),
  })
  .refine((d) => d.class !== undefined || (d.computeW !== undefined && d.idleW !== undefined), {
    message: 'give a device class, or both computeW and idleW',
  });

export const ConstraintsRequestSchema = z.strictObject({
  maxLatencyMs: finiteNonNegative.nullable().optional(),
  maxEnergyJ: finiteNonNegative.nullable().optional(),
  maxCostUSD: finiteNonNegative.nullable().optional(),
});

export const PlanRequestSchema = z
  .strictObject({
    model: z.string({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a model name') }).min(1, 'must not be empty'),
    device: z.union([z.string().min(1, 'must not be empty'), InlineDeviceSchema], {
      error: () => 'must be a device class name or { class?, computeW?, idleW?, deviceMs?, gmacPerSecond?, memGBps? }',
    }),
    network: z.union([z.enum(NETWORK_PRESET_NAMES), MeasuredNetworkSchema], {
      error: (iss) =>
        typeof iss.input === 'string'
          ? `unknown network preset ${JSON.stringify(iss.input)} (one of ${NETWORK_PRESET_NAMES.join(', ')}, or a measured { uplinkMbps, downlinkMbps, rttMs })`
          : iss.input === undefined
            ? 'required'
            : 'must be a preset name or { uplinkMbps, downlinkMbps, rttMs }',
    }),
    battery: z.strictObject({ level: z.number().min(0, 'must be in 0..1').max(1, 'must be in 0..1') }).optional(),
    /** Shorthand for `constraints.maxEnergyJ`. */
    energyBudgetJ: finiteNonNegative.optional(),
    constraints: ConstraintsRequestSchema.optional(),
    objective: z.enum(OBJECTIVES, { error: (iss) => `unknown objective ${JSON.stringify(iss.input)} (one of ${OBJECTIVES.join(', ')})` }).default('latency'),
    dtype: z.enum(DTYPES, { error: (iss) => `unknown dtype ${JSON.stringify(iss.input)} (one of ${DTYPES.join(', ')})` }).default('float32'),
  })
  .superRefine((r, ctx) => {
    const budget = r.energyBudgetJ ?? r.constraints?.maxEnergyJ ?? null;
    if (r.battery && budget !== null) {
      ctx.addIssue({ code: 'custom', path: ['battery'], message: 'give battery or an energy budget, not both' });
    }
    if (r.energyBudgetJ !== undefined && r.constraints?.maxEnergyJ != null) {
      ctx.addIssue({ code: 'custom', path: ['energyBudgetJ'], message: 'give energyBudgetJ or constraints.maxEnergyJ, not both' });
    }
  });

/** A plan request as the planner holds it (defaults applied). */
export type PlanRequest = z.output<typeof PlanRequestSchema>;
/** A plan request as a client writes it (`objective` and `dtype` optional). */
export type PlanRequestInput = z.input<typeof PlanRequestSchema>;
export type MeasuredNetwork = z.infer<typeof MeasuredNetworkSchema>;
export type InlineDevice = z.infer<typeof InlineDeviceSchema>;

/**
 * Parses a plan request; a bad field throws a ValidationError (400) whose
 * message starts with its path, e.g. `network.uplinkMbps: must be > 0`.
 *
 * @example
 * parsePlanRequest({ model: 'mobilenetv2', device: 'flagship-phone', network: '4g' });
 */
export function parsePlanRequest(input: unknown): PlanRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('body', `must be a JSON object, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  }
  try {
    return parseWith(PlanRequestSchema, input);
  } catch (err) {
    // A problem with the body as a whole (an unknown top-level field) has no field path of its own.
    if (err instanceof ValidationError && err.field === '(input)') {
      throw new ValidationError('body', err.message.replace(/^\(input\): /, ''), err);
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------
// POST /plan: the answer

const num = z.number().finite();
const nonNeg = num.min(0);

/** core/planner.ts CandidateRow: one row per candidate cut, then device-only. */
export const CandidateRowSchema = z.object({
  cut: z.number().int().min(0),
  layer: z.string(),
  sentBytes: nonNeg,
  headMs: nonNeg,
  upMs: nonNeg,
  tailMs: nonNeg,
  pCold: num.min(0).max(1),
  coldStartMs: nonNeg,
  coldMs: nonNeg,
  downMs: nonNeg,
  latencyMs: nonNeg,
  energyJ: nonNeg,
  costUSD: nonNeg,
  feasible: z.boolean(),
  reasons: z.array(z.enum(REASONS)),
});

/** The fleet state a plan used for one deployed cut. */
export const FleetEntrySchema = z.object({ idleWarm: z.number().int().min(0), inFlight: z.number().int().min(0), limit: z.number().int().min(0) });

/** Cost-model §6 plan record plus where to send the crossing tensors and the fleet it saw. */
export const PlanResponseSchema = z.object({
  model: z.string(),
  objective: z.enum(OBJECTIVES),
  cut: z.number().int().min(0),
  L: z.number().int().min(1),
  target: z.enum(['device', 'cloud']),
  function: z.string().nullable(),
  feasible: z.boolean(),
  reasons: z.array(z.enum(REASONS)),
  dtype: z.enum(DTYPES),
  predicted: z.object({ latencyMs: nonNeg, energyJ: nonNeg, costUSD: nonNeg }),
  battery: z.object({ level: num, weight: num, energyBudgetJ: num.nullable() }).optional(),
  candidates: z.array(CandidateRowSchema).min(1),
  /** `/infer/<model>/<cut>` of the chosen tail; null for device-only. */
  route: z.string().startsWith('/').nullable(),
  /** The fleet state the plan used, per deployed cut. */
  fleet: z.record(z.string(), FleetEntrySchema),
  /** `registry` when the live fleet was read; `unavailable` when the read failed and every function was planned as cold; `none` without a registry. */
  fleetSource: z.enum(['registry', 'unavailable', 'none']),
});
export type PlanResponse = z.infer<typeof PlanResponseSchema>;
export type CandidateRowResponse = z.infer<typeof CandidateRowSchema>;

// The schema and the planner's record must not drift apart: each must be assignable to the other.
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const planRecordMatches: Mutual<Omit<PlanResponse, 'route' | 'fleet' | 'fleetSource'>, PlanRecord> = true;
void planRecordMatches;

// ---------------------------------------------------------------------------
// GET /models

/** A file of an artifact in the bucket; `url` is a time-limited GET URL when the API hands them out (see docs/browser.md). */
export const ArtifactFileSchema = z.object({
  key: z.string().min(1),
  bytes: z.number().int().min(0),
  sha256: z.string(),
  url: z.string().optional(),
});
export type ArtifactFile = z.infer<typeof ArtifactFileSchema>;

/**
 * One part of an export in the bucket: `prefix` holds its model.json, whose weight paths are relative
 * to `weightPrefix` (the model's folder, where the shared segments sit: tfjs `weightPathPrefix`).
 */
export const ArtifactSchema = z.object({ prefix: z.string(), weightPrefix: z.string(), files: z.array(ArtifactFileSchema) });

/** One model in `GET /models`. */
export const ModelCatalogEntrySchema = z.object({
  name: z.string().min(1),
  inputShape: z.array(z.number().int().positive()),
  inputBytes: z.number().int().min(0),
  outputBytes: z.number().int().min(0),
  layers: z.number().int().min(1),
  bucket: z.string(),
  full: ArtifactSchema,
  candidates: z.array(
    z.object({
      cut: z.number().int().min(0),
      layer: z.string(),
      crossing: z.array(CrossingTensorSchema),
      crossingBytes: z.number().int().min(0),
      tailWeightBytes: z.number().int().min(0),
      deployed: z.boolean(),
      function: z.string().nullable(),
      route: z.string().nullable(),
      /** The device's head artifact for this cut (null at cut 0, or when not exported). */
      head: ArtifactSchema.nullable(),
      tail: z.object({ prefix: z.string() }).nullable(),
    }),
  ),
});
export type ModelCatalogEntry = z.infer<typeof ModelCatalogEntrySchema>;

export const ModelsResponseSchema = z.object({ models: z.array(ModelCatalogEntrySchema) });
export type ModelsResponse = z.infer<typeof ModelsResponseSchema>;

// ---------------------------------------------------------------------------
// Errors

/** Every non-2xx answer of the API: `{ code, message }` (and `field` for a bad input). */
export const ErrorBodySchema = z.object({ code: z.string(), message: z.string(), field: z.string().optional() });
export type ErrorBody = z.infer<typeof ErrorBodySchema> & { code: ErrorCode | string };

// ---------------------------------------------------------------------------
// POST /infer/{model}/{cut}: the timing headers

/** Header names a browser must be allowed to read (CORS `Access-Control-Expose-Headers`). */
export const EXPOSED_HEADERS: readonly string[] = Object.freeze(Object.values(INFER_HEADERS));

/** Request headers a browser sends to the API (CORS `Access-Control-Allow-Headers`): bodies, and SigV4's. */
export const CORS_REQUEST_HEADERS: readonly string[] = Object.freeze([
  'content-type',
  'accept',
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
]);

/** How long a browser may cache a preflight answer, s. */
export const CORS_MAX_AGE_SECONDS = 3600;

const msHeader = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'must be a non-negative number of ms')
  .transform(Number);

const memoryHeader = z
  .string()
  .regex(/^[1-9]\d*$/, 'must be a whole number of MB')
  .transform(Number);

/**
 * The tail's timing headers. Absent headers are null (a proxy may strip them);
 * a present but malformed one throws a ValidationError naming it.
 *
 * @example
 * const timing = parseInferHeaders((name) => res.headers.get(name));
 */
export function parseInferHeaders(get: (name: string) => string | null | undefined): InferTiming {
  const read = (name: string) => {
    const v = get(name);
    return v === null || v === undefined ? null : v;
  };
  const cold = read(INFER_HEADERS.cold);
  if (cold !== null && cold !== 'true' && cold !== 'false') throw new ValidationError(INFER_HEADERS.cold, `must be true or false, got ${JSON.stringify(cold)}`);
  const memoryMB = read(INFER_HEADERS.memoryMB);
  const ms = (name: string): number | null => {
    const v = read(name);
    return v === null ? null : parseWith(msHeader, v, name);
  };
  return {
    cold: cold === 'true',
    initMs: ms(INFER_HEADERS.initMs),
    computeMs: ms(INFER_HEADERS.computeMs),
    instance: read(INFER_HEADERS.instance),
    functionName: read(INFER_HEADERS.functionName),
    memoryMB: memoryMB === null ? null : parseWith(memoryHeader, memoryMB, INFER_HEADERS.memoryMB),
  };
}
