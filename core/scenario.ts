/**
 * The scenario: every input of the cost model (docs/cost-model.md §2, file form §7) in one
 * JSON object, so that a plan can be reproduced offline with no server.
 *
 * Shape checks live in the zod schema; the checks that need the whole
 * scenario (cut ranges, duplicate cuts, fleet entries for non-candidates, the
 * battery/maxEnergyJ conflict) live in one `superRefine`, so every failure —
 * shape or meaning — comes out of {@link parseScenario} as a ValidationError
 * whose message starts with the field path (`network.uplinkMbps: must be > 0`).
 *
 * Bounds are chosen so that no NaN or infinity can be produced from a parsed
 * scenario: every number is finite, divisors (`uplinkMbps`, `downlinkMbps`) are
 * strictly positive, byte counts are safe integers. The planner still checks
 * its totals, because a finite input can overflow (1e308 ms per layer).
 */
import * as z from 'zod';
import { parseWith } from './validation';
import { DTYPES } from './dtypes';

/** Encodings of the crossing tensors (docs/cost-model.md §2), with their size factors in core/dtypes.ts. */
export { DTYPES, type DType } from './dtypes';

/** What the planner minimises (docs/cost-model.md §5). */
export const OBJECTIVES = ['latency', 'energy', 'cost'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** docs/cost-model.md §7 defaults of the optional `limits` group. */
export const DEFAULT_LIMITS = Object.freeze({
  /** Lambda's synchronous request payload limit, 6 MiB. */
  payloadBytes: 6_291_456,
  /** API Gateway delivers binary bodies base64-encoded (4/3 larger). */
  base64: true,
  /** No S3 staging transport: large crossings are infeasible. */
  staging: false,
});

// ---------------------------------------------------------------------------
// Field builders: each carries the wording users see.

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  return typeof input === 'string' ? `the string ${JSON.stringify(input)}` : typeof input;
}

const numberError = (iss: { input?: unknown }): string =>
  iss.input === undefined
    ? 'required'
    : typeof iss.input === 'number'
      ? 'must be a finite number'
      : `must be a number, got ${describe(iss.input)}`;

/** A finite number ≥ 0. */
const nonNegative = () => z.number({ error: numberError }).min(0, 'must be >= 0');
/** A finite number > 0 (used for divisors). */
const positive = () => z.number({ error: numberError }).gt(0, 'must be > 0');
/** A byte count: a safe integer ≥ 0. */
const byteCount = () =>
  z
    .number({ error: numberError })
    .max(Number.MAX_SAFE_INTEGER, 'must be <= 2^53-1')
    .int('must be an integer')
    .min(0, 'must be >= 0');
/** An instance count: an integer ≥ 0. */
const instanceCount = () =>
  z.number({ error: numberError }).int('must be an integer').min(0, 'must be >= 0').max(1e9, 'must be <= 1e9');
const nonEmptyString = () =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : `must be a string, got ${describe(iss.input)}`) })
    .min(1, 'must not be empty');

const objectError = (iss: { code?: string; input?: unknown; keys?: string[] }): string => {
  if (iss.code === 'unrecognized_keys') {
    const keys = iss.keys ?? [];
    return `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  return iss.input === undefined ? 'required' : `must be an object, got ${describe(iss.input)}`;
};

/** Objects reject unknown keys: a typo in a hand-written scenario must not pass silently. */
function group<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: objectError });
}

function list<T extends z.ZodType>(item: T) {
  return z.array(item, {
    error: (iss) => (iss.input === undefined ? 'required' : `must be an array, got ${describe(iss.input)}`),
  });
}

// ---------------------------------------------------------------------------
// Groups of docs/cost-model.md §2 / §7.

/** One layer of the model, in topological order. */
export const LayerSchema = group({
  name: nonEmptyString(),
  /** Time of this layer on the device, ms. */
  deviceMs: nonNegative(),
  /** Warm time of this layer in the tail function at `cloud.memoryMB`, ms. */
  cloudMs: nonNegative(),
  /** Bytes of the layer's (first) output, float32. Informational: crossings are given per candidate. */
  outputBytes: byteCount(),
  /** Bytes of the layer's weights: the tail loads them at a cold start. */
  weightBytes: byteCount(),
});

/** A candidate cut: layers `< cut` on the device; `crossingBytes` is what crosses, as float32. */
export const CandidateSchema = group({
  cut: z.number({ error: numberError }).int('must be an integer').min(0, 'must be >= 0'),
  crossingBytes: byteCount(),
});

export const ModelSchema = group({
  name: nonEmptyString(),
  /** Bytes of the raw model input: what cut 0 sends (no dtype factor). */
  inputBytes: byteCount(),
  /** Bytes of the final result: what every cloud cut downloads. */
  outputBytes: byteCount(),
  layers: list(LayerSchema).min(1, 'must have at least one layer'),
  /** Candidate cuts in 0 … L-1; device-only (L) is implied. */
  candidates: list(CandidateSchema),
});

export const NetworkSchema = group({
  uplinkMbps: positive(),
  downlinkMbps: positive(),
  rttMs: nonNegative(),
});

/** Huang et al. (MobiSys 2012) data-transfer power model: P = alpha·Mbit/s + beta, in mW. */
export const RadioSchema = group({
  alphaUp: nonNegative(),
  alphaDown: nonNegative(),
  beta: nonNegative(),
});

export const DeviceSchema = group({
  /** Power while computing, W. */
  computeW: nonNegative(),
  /** Power while waiting for the cloud (radio idle), W. */
  idleW: nonNegative(),
  radio: RadioSchema,
});

/** Fleet state of one tail function (one per deployed cut). */
export const FunctionStateSchema = group({
  /** Idle warm instances: ≥ 1 means the next request is warm (pCold = 0). */
  idleWarm: instanceCount(),
  /** Requests running now. */
  inFlight: instanceCount(),
  /** Reserved concurrency: `inFlight ≥ limit` means the request would get HTTP 429. */
  limit: instanceCount(),
  /** Measured cold start of this function, ms; overrides the weight-based formula. */
  coldStartMs: nonNegative().optional(),
  /** Name of the deployed tail function, reported as the plan's `function`. */
  name: nonEmptyString().optional(),
});

export const CloudSchema = group({
  /** Memory of the tail functions, MB (the GB-s price is charged on it). */
  memoryMB: positive(),
  coldBaseMs: nonNegative(),
  coldMsPerMB: nonNegative(),
  requestUSD: nonNegative(),
  gbSecondUSD: nonNegative(),
  /** Keyed by cut (decimal string); a candidate without an entry has no deployed function. */
  functions: z.record(z.string(), FunctionStateSchema, {
    error: (iss) => (iss.input === undefined ? 'required' : `must be an object keyed by cut, got ${describe(iss.input)}`),
  }),
});

export const EncodingSchema = group({
  dtype: z.enum(DTYPES, {
    error: (iss) =>
      iss.input === undefined ? 'required' : `unknown dtype ${JSON.stringify(iss.input)} (one of ${DTYPES.join(', ')})`,
  }),
});

export const ConstraintsSchema = group({
  maxLatencyMs: nonNegative().nullable().default(null),
  maxEnergyJ: nonNegative().nullable().default(null),
  maxCostUSD: nonNegative().nullable().default(null),
});

export const LimitsSchema = group({
  payloadBytes: byteCount().refine((v) => v > 0, 'must be > 0').default(DEFAULT_LIMITS.payloadBytes),
  base64: z.boolean({ error: 'must be true or false' }).default(DEFAULT_LIMITS.base64),
  staging: z.boolean({ error: 'must be true or false' }).default(DEFAULT_LIMITS.staging),
});

/** Extension (not in docs/cost-model.md §7): battery level in 0..1, mapped to an energy budget by `core/battery.ts`. */
export const BatterySchema = group({
  level: z.number({ error: numberError }).min(0, 'must be in 0..1').max(1, 'must be in 0..1'),
});

const objectiveSchema = z.enum(OBJECTIVES, {
  error: (iss) =>
    iss.input === undefined
      ? 'required'
      : `unknown objective ${JSON.stringify(iss.input)} (one of ${OBJECTIVES.join(', ')})`,
});

const CUT_KEY = /^(0|[1-9][0-9]*)$/;

/**
 * docs/cost-model.md §7 scenario. Optional groups and their defaults: `constraints` (all
 * null), `limits` ({@link DEFAULT_LIMITS}), `encoding` (float32 — an
 * extension: the spec's example always states it), `battery` (absent).
 */
export const ScenarioSchema = group({
  model: ModelSchema,
  network: NetworkSchema,
  device: DeviceSchema,
  cloud: CloudSchema,
  encoding: EncodingSchema.default({ dtype: 'float32' }),
  constraints: ConstraintsSchema.default({ maxLatencyMs: null, maxEnergyJ: null, maxCostUSD: null }),
  limits: LimitsSchema.default({ ...DEFAULT_LIMITS }),
  objective: objectiveSchema,
  battery: BatterySchema.optional(),
}).superRefine((s, ctx) => {
  const L = s.model.layers.length;
  const seen = new Map<number, number>();
  s.model.candidates.forEach((cand, i) => {
    if (cand.cut > L - 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'candidates', i, 'cut'],
        message: `out of range 0..${L - 1} (L = ${L}; device-only ${L} is implied)`,
      });
      return;
    }
    const first = seen.get(cand.cut);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'candidates', i, 'cut'],
        message: `duplicate cut ${cand.cut} (also model.candidates[${first}])`,
      });
    } else seen.set(cand.cut, i);
  });
  for (const key of Object.keys(s.cloud.functions)) {
    if (!CUT_KEY.test(key)) {
      ctx.addIssue({
        code: 'custom',
        path: ['cloud', 'functions', key],
        message: `not a cut number (keys are candidate cuts 0..${L - 1})`,
      });
    } else if (!seen.has(Number(key))) {
      ctx.addIssue({ code: 'custom', path: ['cloud', 'functions', key], message: `cut ${key} is not a candidate` });
    }
  }
  if (s.battery && s.constraints.maxEnergyJ !== null) {
    ctx.addIssue({
      code: 'custom',
      path: ['battery'],
      message: 'give battery or constraints.maxEnergyJ, not both (battery sets the energy budget)',
    });
  }
});

/** A parsed scenario: defaults filled, every check passed. */
export type Scenario = z.infer<typeof ScenarioSchema>;
/** What a scenario file may hold before defaults are filled. */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Layer = z.infer<typeof LayerSchema>;
export type Candidate = z.infer<typeof CandidateSchema>;
export type Network = z.infer<typeof NetworkSchema>;
export type Radio = z.infer<typeof RadioSchema>;
export type Device = z.infer<typeof DeviceSchema>;
export type FunctionState = z.infer<typeof FunctionStateSchema>;
export type Cloud = z.infer<typeof CloudSchema>;

/**
 * Parses one scenario; throws a ValidationError naming the first bad field
 * (prefixed with `root`, e.g. `[2]`, when given).
 *
 * @example
 * const scenario = parseScenario(JSON.parse(text));
 * const record = plan(scenario);
 */
export function parseScenario(input: unknown, root = ''): Scenario {
  return parseWith(ScenarioSchema, input, root);
}

/**
 * Parses a scenario file's content: one scenario, or an array of them (each
 * error then names its element, `[1].network.uplinkMbps: must be > 0`).
 */
export function parseScenarios(input: unknown): { many: boolean; scenarios: Scenario[] } {
  if (Array.isArray(input)) return { many: true, scenarios: input.map((s, i) => parseScenario(s, `[${i}]`)) };
  return { many: false, scenarios: [parseScenario(input)] };
}
