/**
 * The workload flags of `offload simulate` and `offload recommend`:
 *
 * - `--traffic SPEC|FILE`: an arrival process written `kind:key=value,…`, or
 *   a trace file (JSONL, core/workload.ts format, the one `offload load
 *   --trace-out` writes):
 *   - `steady:rate=R` — Poisson, R requests/s
 *   - `bursty:rate=R,on=MS,off=MS` — Poisson at R during `on`, silent during `off`
 *   - `sparse:gap=MS[,extra=MS]` — one request, then `gap` plus an exponential extra
 *   - `diurnal:rate=R[,baseline=B][,period=MS][,peak=MS]` — Poisson whose rate
 *     swings over the day from B × peak to the peak (mean R)
 *   - `azure:rate=R[,cv-share=S][,max-cv=C][,baseline=B][,period=MS][,peak=MS]`
 *     — per-device sources with Azure Functions statistics (core/workload-synthetic.ts)
 * - `--devices MIX`: `N` or `N:class/network[=weight],…`
 *   (e.g. `10000:low-end-phone/4g=3,flagship-phone/wifi`).
 *
 * Bad values are usage errors (exit 2) that name the flag and the field.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { isOffloadError } from '../core/errors';
import {
  generateWorkload,
  makeDevices,
  parseTrace,
  WORKLOAD_DEVICE_CLASSES,
  WORKLOAD_NETWORKS,
  type Arrival,
  type ArrivalProcessInput,
  type MixEntry,
  type SimDevice,
} from '../core/workload';
import { generateSynthetic, type SyntheticProcessInput } from '../core/workload-synthetic';

/** An arrival process `--traffic` can name. */
export type TrafficProcess = Exclude<ArrivalProcessInput, { kind: 'trace' }> | SyntheticProcessInput;

/** A parsed `--traffic`: a process to draw from, or the arrivals of a trace file. */
export type Traffic =
  | { kind: 'process'; text: string; process: TrafficProcess }
  | { kind: 'trace'; text: string; file: string; arrivals: Arrival[] };

const KEYS: Record<string, Record<string, string>> = {
  steady: { rate: 'ratePerS' },
  bursty: { rate: 'ratePerS', on: 'onMs', off: 'offMs' },
  sparse: { gap: 'minGapMs', extra: 'meanExtraMs' },
  diurnal: { rate: 'ratePerS', baseline: 'baseline', period: 'periodMs', peak: 'peakAtMs' },
  azure: { rate: 'ratePerS', 'cv-share': 'shareCvAbove1', 'max-cv': 'maxCv', baseline: 'baseline', period: 'periodMs', peak: 'peakAtMs' },
};
const REQUIRED: Record<string, string[]> = { steady: ['rate'], bursty: ['rate', 'on', 'off'], sparse: ['gap'], diurnal: ['rate'], azure: ['rate'] };

/** The trace file `file` as arrivals; a usage error names the line and field. */
export function readTraceFile(file: string, flag: string): Arrival[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(`${flag}: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code ?? e)}`);
  }
  let arrivals: Arrival[];
  try {
    arrivals = parseTrace(text, file);
  } catch (e) {
    throw new InvalidArgumentError(`${flag}: ${isOffloadError(e) ? e.message : String(e)}`);
  }
  if (arrivals.length === 0) throw new InvalidArgumentError(`${flag}: trace ${file} holds no arrivals`);
  return arrivals;
}

/**
 * commander parser of `--traffic`.
 *
 * @example
 * parseTraffic('bursty:rate=40,on=2000,off=30000') // { kind: 'process', process: { kind: 'bursty', ratePerS: 40, onMs: 2000, offMs: 30000 } }
 */
export function parseTraffic(value: string, flag = '--traffic'): Traffic {
  const m = /^([a-z]+):(.*)$/.exec(value.trim());
  if (!m || !KEYS[m[1]!]) {
    if (existsSync(value) && statSync(value).isFile()) return { kind: 'trace', text: value, file: value, arrivals: readTraceFile(value, flag) };
    if (m) throw new InvalidArgumentError(`${flag}: unknown arrival process "${m[1]}" (one of ${Object.keys(KEYS).join(', ')}), or a trace file`);
    throw new InvalidArgumentError(`${flag}: "${value}" is neither a spec such as steady:rate=2 nor a trace file that exists`);
  }
  const kind = m[1]!;
  const keys = KEYS[kind]!;
  const process: Record<string, unknown> = { kind };
  const given = new Set<string>();
  for (const part of m[2]!.split(',').map((s) => s.trim()).filter(Boolean)) {
    const kv = /^([a-z-]+)=(.*)$/.exec(part);
    if (!kv) throw new InvalidArgumentError(`${flag}: "${part}" is not key=value`);
    const [, key, raw] = kv as unknown as [string, string, string];
    const field = keys[key];
    if (!field) throw new InvalidArgumentError(`${flag}: ${kind} has no "${key}" (keys: ${Object.keys(keys).join(', ')})`);
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag}: ${key} must be a number (got "${raw}")`);
    const positive = key === 'rate' || key === 'on' || key === 'gap' || key === 'period' || key === 'max-cv';
    if (positive ? n <= 0 : n < 0) throw new InvalidArgumentError(`${flag}: ${key} must be ${positive ? '> 0' : '>= 0'} (got ${raw})`);
    if ((key === 'baseline' || key === 'cv-share') && n > 1) throw new InvalidArgumentError(`${flag}: ${key} must be <= 1 (got ${raw})`);
    if (key === 'max-cv' && n <= 1) throw new InvalidArgumentError(`${flag}: max-cv must be > 1 (got ${raw})`);
    process[field] = n;
    given.add(key);
  }
  const missing = REQUIRED[kind]!.filter((k) => !given.has(k));
  if (missing.length) throw new InvalidArgumentError(`${flag}: ${kind} needs ${missing.map((k) => `${k}=`).join(', ')} (e.g. ${example(kind)})`);
  return { kind: 'process', text: value, process: process as TrafficProcess };
}

function example(kind: string): string {
  return {
    steady: 'steady:rate=2',
    bursty: 'bursty:rate=40,on=2000,off=30000',
    sparse: 'sparse:gap=900000,extra=60000',
    diurnal: 'diurnal:rate=11.6',
    azure: 'azure:rate=11.6',
  }[kind]!;
}

/** A parsed `--devices`: how many simulated devices and their mix. */
export interface DeviceMix {
  count: number;
  mix: MixEntry[];
  text: string;
}

/** The mix when `--devices` gives a count alone: every built-in phone class on every network preset, equally. */
export const DEFAULT_MIX: readonly MixEntry[] = WORKLOAD_DEVICE_CLASSES.filter((c) => c.endsWith('-phone')).flatMap((c) => WORKLOAD_NETWORKS.map((network) => ({ class: c, network, weight: 1 })));

/**
 * commander parser of `--devices N[:class/network[=weight],…]`.
 *
 * @example
 * parseDevices('10000:low-end-phone/4g=3,flagship-phone/wifi') // 10,000 devices, 3/4 low-end on 4G
 */
export function parseDevices(value: string, flag = '--devices'): DeviceMix {
  const m = /^\s*(\d+)\s*(?::(.*))?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`${flag}: expected N or N:class/network[=weight],… (got "${value}")`);
  const count = Number(m[1]);
  if (!Number.isSafeInteger(count) || count < 1) throw new InvalidArgumentError(`${flag}: the device count must be a positive integer (got ${m[1]})`);
  if (m[2] === undefined) return { count, mix: [...DEFAULT_MIX], text: value };
  const mix: MixEntry[] = [];
  for (const part of m[2].split(',').map((s) => s.trim())) {
    const e = /^([a-z0-9-]+)\/([a-z0-9]+)(?:=(.+))?$/.exec(part);
    if (!e) throw new InvalidArgumentError(`${flag}: "${part}" is not class/network[=weight]`);
    const [, cls, network, w] = e as unknown as [string, string, string, string | undefined];
    if (!WORKLOAD_DEVICE_CLASSES.includes(cls)) throw new InvalidArgumentError(`${flag}: unknown device class "${cls}" (one of ${WORKLOAD_DEVICE_CLASSES.join(', ')})`);
    if (!WORKLOAD_NETWORKS.includes(network)) throw new InvalidArgumentError(`${flag}: unknown network "${network}" (one of ${WORKLOAD_NETWORKS.join(', ')})`);
    const weight = w === undefined ? 1 : Number(w);
    if (!Number.isFinite(weight) || weight <= 0) throw new InvalidArgumentError(`${flag}: weight of ${cls}/${network} must be a number > 0 (got "${w}")`);
    mix.push({ class: cls, network, weight });
  }
  return { count, mix, text: value };
}

/** Bounds and seed of a generated workload. */
export interface WorkloadFlags {
  traffic: Traffic;
  devices: DeviceMix;
  model: string;
  requests: number;
  durationS: number;
  seed: number;
}

/** The arrivals the flags describe, in time order (a trace is cut to the bounds). */
export function arrivalsOf(flags: WorkloadFlags): { arrivals: Arrival[]; devices: SimDevice[] } {
  const bounds = { durationMs: flags.durationS * 1000, maxRequests: flags.requests };
  const t = flags.traffic;
  if (t.kind === 'trace') {
    const arrivals = generateWorkload({ process: { kind: 'trace', arrivals: t.arrivals }, devices: [], model: '', seed: flags.seed, ...bounds });
    return { arrivals, devices: [] };
  }
  const devices = makeDevices(flags.devices.count, flags.devices.mix);
  const p = t.process;
  const arrivals =
    p.kind === 'diurnal' || p.kind === 'azure'
      ? generateSynthetic({ process: p, devices, model: flags.model, seed: flags.seed, ...bounds })
      : generateWorkload({ process: p, devices, model: flags.model, seed: flags.seed, ...bounds });
  return { arrivals, devices };
}
