/**
 * The body of `POST /plan`: what a device knows about itself and its network.
 * The planner function turns it, with the model's export manifest and the live
 * fleet, into a spec §7 scenario (see `scenario.ts`).
 */
import * as z from 'zod';
import { DTYPES, OBJECTIVES, RadioSchema } from '../../core/scenario';
import { NETWORK_PRESET_NAMES } from '../../core/presets';
import { parseWith } from '../../core/validation';
import { ValidationError } from '../../core/errors';

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

export type PlanRequest = z.infer<typeof PlanRequestSchema>;
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
