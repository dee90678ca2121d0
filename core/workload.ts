/**
 * Workloads for the load harness (`offload load`) and the fleet simulator:
 * who sends a request when. A workload is a list of {@link Arrival}s in time
 * order; it is written and read as a trace file (JSONL, one arrival a line),
 * or drawn from a seeded arrival process ({@link ARRIVAL_PROCESSES}) over a set
 * of simulated devices ({@link makeDevices}).
 *
 * Pure TypeScript, seeded (core/random.ts): the same spec and seed give the
 * same arrivals in the harness and the simulator, so one trace runs through both.
 *
 * Adding an arrival process: add its schema to {@link ArrivalProcessSchema}
 * (a new `kind`), its time generator to {@link ARRIVAL_PROCESSES}, and its
 * one-line description to {@link describeArrivalProcess}.
 */
import * as z from 'zod';
import { ValidationError } from './errors';
import { NETWORK_PRESET_NAMES } from './presets';
import { DEVICE_PROFILE_NAMES } from './profiles';
import { seededRandom } from './random';
import { parseWith } from './validation';

/**
 * The device class whose per-layer times are this machine's measured profile
 * (`profiles/<model>.wasm.json`): with it a load run can compute the head here
 * for real and compare every part with the prediction (core/this-machine.ts).
 */
export const THIS_MACHINE = 'this-machine';

/** Device classes a workload may name: the built-in classes of core/profiles.ts and {@link THIS_MACHINE}. */
export const WORKLOAD_DEVICE_CLASSES: readonly string[] = [...DEVICE_PROFILE_NAMES, THIS_MACHINE];

/** Network presets a workload may name (core/presets.ts). */
export const WORKLOAD_NETWORKS: readonly string[] = NETWORK_PRESET_NAMES;

const className = z.string().refine((v) => WORKLOAD_DEVICE_CLASSES.includes(v), {
  error: (iss) => `unknown device class ${JSON.stringify(iss.input)} (one of ${WORKLOAD_DEVICE_CLASSES.join(', ')})`,
});
const networkName = z.string().refine((v) => WORKLOAD_NETWORKS.includes(v), {
  error: (iss) => `unknown network ${JSON.stringify(iss.input)} (one of ${WORKLOAD_NETWORKS.join(', ')})`,
});
const nonEmpty = () => z.string({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a string') }).min(1, 'must not be empty');
const finiteAtLeast0 = () =>
  z.number({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a finite number') }).min(0, 'must be >= 0');
const positive = () => z.number({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a finite number') }).gt(0, 'must be > 0');

/** One request of a workload: when (ms from the start), from which simulated device, for which model. */
export const ArrivalSchema = z.strictObject({
  /** Milliseconds from the start of the run; non-decreasing along a trace. */
  t: finiteAtLeast0(),
  /** Id of the simulated device sending it (requests of one device share its class and network). */
  device: nonEmpty(),
  /** Device class ({@link WORKLOAD_DEVICE_CLASSES}). */
  class: className,
  /** Network preset ({@link WORKLOAD_NETWORKS}). */
  network: networkName,
  /** Model name as the API knows it. */
  model: nonEmpty(),
});
export type Arrival = z.infer<typeof ArrivalSchema>;

/** A simulated device: its id, device class and network. */
export const SimDeviceSchema = z.strictObject({ id: nonEmpty(), class: className, network: networkName });
export type SimDevice = z.infer<typeof SimDeviceSchema>;

/** One entry of a device mix: devices of `class` on `network`, in proportion to `weight`. */
export const MixEntrySchema = z.strictObject({ class: className, network: networkName, weight: positive().default(1) });
export type MixEntry = z.infer<typeof MixEntrySchema>;
export const DeviceMixSchema = z.array(MixEntrySchema).min(1, 'must have at least one entry');

/**
 * `n` simulated devices (`d0` … `d{n-1}`) split over the mix in proportion to
 * the weights, deterministically: device i takes the entry whose cumulative
 * weight share covers (i + 0.5) / n. With one entry every device is alike.
 *
 * @example
 * makeDevices(4, [{ class: 'low-end-phone', network: 'wifi', weight: 3 }, { class: 'flagship-phone', network: '4g', weight: 1 }]);
 * // d0, d1, d2 low-end-phone on wifi; d3 flagship-phone on 4g
 */
export function makeDevices(n: number, mix: readonly z.input<typeof MixEntrySchema>[]): SimDevice[] {
  if (!Number.isSafeInteger(n) || n < 1) throw new ValidationError('devices', `must be a positive integer (got ${n})`);
  const entries = parseWith(DeviceMixSchema, mix, 'mix');
  const total = entries.reduce((a, e) => a + e.weight, 0);
  const out: SimDevice[] = [];
  for (let i = 0; i < n; i++) {
    const at = ((i + 0.5) / n) * total;
    let acc = 0;
    let pick = entries[entries.length - 1]!;
    for (const e of entries) {
      acc += e.weight;
      if (at < acc) {
        pick = e;
        break;
      }
    }
    out.push({ id: `d${i}`, class: pick.class, network: pick.network });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Arrival processes

/**
 * Arrival processes:
 * - `steady`: Poisson arrivals at `ratePerS`.
 * - `bursty`: on/off: Poisson at `ratePerS` during `onMs`, nothing during
 *   `offMs`, repeated (starting with a burst). Choose the burst rate so that
 *   the requests in flight during a burst exceed the tails' reserved
 *   concurrency: that is what makes 429s and cold starts.
 * - `sparse`: one request, then a gap of `minGapMs` plus an exponential extra
 *   of mean `meanExtraMs`, and so on. With `minGapMs` above the keep-alive,
 *   every environment is reaped between two requests.
 * - `trace`: the arrivals of a trace file, replayed as they are.
 */
export const ArrivalProcessSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('steady'), ratePerS: positive() }),
    z.strictObject({ kind: z.literal('bursty'), ratePerS: positive(), onMs: positive(), offMs: finiteAtLeast0() }),
    z.strictObject({ kind: z.literal('sparse'), minGapMs: positive(), meanExtraMs: finiteAtLeast0().default(0) }),
    z.strictObject({ kind: z.literal('trace'), arrivals: z.array(ArrivalSchema) }),
  ],
  { error: (iss) => (iss.input === undefined ? 'required' : `unknown arrival process (one of ${ARRIVAL_KINDS.join(', ')})`) },
);
export type ArrivalProcess = z.infer<typeof ArrivalProcessSchema>;
export type ArrivalProcessInput = z.input<typeof ArrivalProcessSchema>;
export const ARRIVAL_KINDS = ['steady', 'bursty', 'sparse', 'trace'] as const;

/** Bounds of a generated workload: arrivals stop at whichever comes first. */
export interface WorkloadBounds {
  /** No arrival at or after this time, ms. */
  durationMs: number;
  /** At most this many arrivals. */
  maxRequests: number;
}

/** A time generator: arrival times (ms, ascending, all < durationMs, at most maxRequests) from a seeded uniform source. */
export type TimeGenerator<P> = (process: P, random: () => number, bounds: WorkloadBounds) => number[];

/** An exponential draw of mean `mean` from a uniform in [0, 1). */
export function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

type Generated = Exclude<ArrivalProcess, { kind: 'trace' }>;

/** The time generators of the synthetic processes, by kind. */
export const ARRIVAL_PROCESSES: { [K in Generated['kind']]: TimeGenerator<Extract<Generated, { kind: K }>> } = {
  steady(p, random, { durationMs, maxRequests }) {
    const out: number[] = [];
    const mean = 1000 / p.ratePerS;
    for (let t = exponential(random, mean); t < durationMs && out.length < maxRequests; t += exponential(random, mean)) out.push(t);
    return out;
  },
  bursty(p, random, { durationMs, maxRequests }) {
    const out: number[] = [];
    const mean = 1000 / p.ratePerS;
    for (let start = 0; start < durationMs && out.length < maxRequests; start += p.onMs + p.offMs) {
      const end = Math.min(start + p.onMs, durationMs);
      for (let t = start + exponential(random, mean); t < end && out.length < maxRequests; t += exponential(random, mean)) out.push(t);
    }
    return out;
  },
  sparse(p, random, { durationMs, maxRequests }) {
    const out: number[] = [];
    for (let t = 0; t < durationMs && out.length < maxRequests; t += p.minGapMs + exponential(random, p.meanExtraMs)) out.push(t);
    return out;
  },
};

/** A one-line description of an arrival process, for reports. */
export function describeArrivalProcess(p: ArrivalProcess): string {
  switch (p.kind) {
    case 'steady':
      return `steady Poisson, ${p.ratePerS}/s`;
    case 'bursty':
      return `bursty on/off, ${p.ratePerS}/s for ${p.onMs} ms then ${p.offMs} ms idle`;
    case 'sparse':
      return `sparse, gaps of ${p.minGapMs} ms${p.meanExtraMs > 0 ? ` + exp(mean ${p.meanExtraMs} ms)` : ''}`;
    case 'trace':
      return `trace replay, ${p.arrivals.length} arrivals`;
  }
}

/** Inputs of {@link generateWorkload}. */
export interface WorkloadSpec extends WorkloadBounds {
  process: ArrivalProcessInput;
  /** The simulated devices; each arrival goes to one drawn uniformly. Ignored for traces. */
  devices: readonly SimDevice[];
  /** The model every generated request asks for. Ignored for traces. */
  model: string;
  seed: number;
}

/**
 * The arrivals of a workload, in time order: drawn from the process with the
 * seed (times first, then one device per arrival from a second stream, so
 * changing the device mix does not move the times); a trace is cut to the bounds.
 *
 * @example
 * const arrivals = generateWorkload({ process: { kind: 'steady', ratePerS: 2 }, devices: makeDevices(4, [{ class: 'low-end-phone', network: 'wifi' }]), model: 'resnet50', seed: 1, durationMs: 10_000, maxRequests: 50 });
 */
export function generateWorkload(spec: WorkloadSpec): Arrival[] {
  const process = parseWith(ArrivalProcessSchema, spec.process, 'process');
  const bounds = { durationMs: spec.durationMs, maxRequests: spec.maxRequests };
  if (process.kind === 'trace') return process.arrivals.filter((a) => a.t < bounds.durationMs).slice(0, bounds.maxRequests);
  if (spec.devices.length === 0) throw new ValidationError('devices', 'must have at least one device');
  const times = generateTimes(process, seededRandom(spec.seed), bounds);
  const pickDevice = seededRandom(spec.seed ^ 0x5bd1e995);
  return times.map((t) => {
    const d = spec.devices[Math.floor(pickDevice() * spec.devices.length)]!;
    return { t, device: d.id, class: d.class, network: d.network, model: spec.model };
  });
}

function generateTimes(p: Generated, random: () => number, bounds: WorkloadBounds): number[] {
  // The mapped type guarantees each generator matches its kind; TypeScript cannot narrow the lookup itself.
  const generator = ARRIVAL_PROCESSES[p.kind] as TimeGenerator<Generated>;
  return generator(p, random, bounds);
}

// ---------------------------------------------------------------------------
// Trace files

/**
 * Parses a trace file (JSONL: one {@link Arrival} a line; blank lines and
 * lines starting with `#` are skipped). Errors name the line and the field:
 * `trace line 3: t: must be >= 1200 (the previous arrival's t)`.
 */
export function parseTrace(text: string, source = 'trace'): Arrival[] {
  const out: Arrival[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new ValidationError(where, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(where, 'must be a JSON object {t, device, class, network, model}');
    let arrival: Arrival;
    try {
      arrival = parseWith(ArrivalSchema, value);
    } catch (e) {
      throw e instanceof ValidationError ? new ValidationError(where, e.message, e) : e;
    }
    const previous = out[out.length - 1];
    if (previous && arrival.t < previous.t) throw new ValidationError(where, `t: must be >= ${previous.t} (the previous arrival's t)`);
    out.push(arrival);
  }
  return out;
}

/** Writes arrivals as a trace file (JSONL, the format {@link parseTrace} reads). */
export function formatTrace(arrivals: readonly Arrival[]): string {
  return arrivals.map((a) => JSON.stringify({ t: a.t, device: a.device, class: a.class, network: a.network, model: a.model })).join('\n') + (arrivals.length ? '\n' : '');
}
