/**
 * `offload plan`: the planner from the command line.
 *
 * - Scenario form: `offload plan --scenario FILE [--json]`. FILE (or `-` for
 *   stdin) holds one docs/cost-model.md §7 scenario or a JSON array of them; the output is
 *   one plan record or an array in the same order.
 * - Overrides: `--network 3g|4g|wifi|FILE`, `--device CLASS|FILE`,
 *   `--battery 0..1`, `--objective`, `--max-latency-ms`, `--max-energy-j`,
 *   `--max-cost-usd`, `--dtype` replace the matching fields of every scenario
 *   before it is validated, so the same scenario can be replanned under
 *   other conditions.
 * - Flag form: `offload plan --model M --network … --device …` builds the
 *   scenario from a model profile. Its model part is {@link scenarioFromModel};
 *   until profiles exist it answers "requires a model profile" (no invented
 *   per-layer times). The overrides above then apply to what it returns.
 *
 * Bad input exits 1 with one line, `offload: <field path>: <problem>` (array
 * elements prefixed `[i]`); bad flag values exit 2 (usage).
 */
import { Option, type Command } from 'commander';
import * as z from 'zod';
import { OffloadError, ValidationError } from '../../core/errors';
import { plan, type PlanRecord } from '../../core/planner';
import { DEVICE_CLASSES, NETWORK_PRESET_NAMES } from '../../core/presets';
import {
  DTYPES,
  OBJECTIVES,
  RadioSchema,
  parseScenario,
  type DType,
  type Objective,
  type Scenario,
} from '../../core/scenario';
import { ownValue, parseWith } from '../../core/validation';
import { resolveNetwork } from '../network-option';
import { fraction, looksLikePath, nonNegativeNumber, readJsonFile } from '../options';
import { printJson, table } from '../output';

/** The options of `offload plan` as commander hands them over. */
export interface PlanOptions {
  scenario?: string;
  model?: string;
  network?: string;
  device?: string;
  battery?: number;
  objective?: Objective;
  maxLatencyMs?: number;
  maxEnergyJ?: number;
  maxCostUsd?: number;
  dtype?: DType;
  /** Flag form only: fleet state file (cut → { idleWarm, inFlight, limit, coldStartMs? }); default every candidate warm. */
  fleet?: string;
  /** Flag form only: Lambda memory of the tails, MB. */
  memoryMb?: number;
  json?: boolean;
}

/** A device file: its power figures (and optionally radio); other fields (speed figures of a device profile) are ignored here. */
const DeviceFileSchema = z.looseObject({
  computeW: z.number().min(0, 'must be >= 0'),
  idleW: z.number().min(0, 'must be >= 0'),
  radio: RadioSchema.optional(),
});

/** `--device`: a device class name or a JSON file `{ computeW, idleW, radio? }`. */
export function resolveDevice(value: string): { computeW: number; idleW: number; radio?: z.infer<typeof RadioSchema> } {
  const cls = ownValue(DEVICE_CLASSES, value);
  if (cls) return { computeW: cls.computeW, idleW: cls.idleW };
  if (!looksLikePath(value)) {
    throw new ValidationError('--device', `unknown device class "${value}" (one of ${Object.keys(DEVICE_CLASSES).join(', ')}, or a JSON file)`);
  }
  const d = parseWith(DeviceFileSchema, readJsonFile(value, 'device file'), `--device ${value}`);
  return d.radio ? { computeW: d.computeW, idleW: d.idleW, radio: d.radio } : { computeW: d.computeW, idleW: d.idleW };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Applies the override flags to one raw scenario (before validation, so the
 * scenario's own errors still name its fields). A network preset also sets
 * the radio parameters of that technology; `--battery` clears the file's
 * `maxEnergyJ` and `--max-energy-j` its battery (the spec treats them as
 * alternatives).
 */
export function applyOverrides(raw: unknown, opts: PlanOptions): unknown {
  if (!isObject(raw)) return raw;
  const s: Json = { ...raw };
  const sub = (key: string): Json => {
    const v = s[key];
    const copy: Json = isObject(v) ? { ...v } : {};
    s[key] = copy;
    return copy;
  };
  if (opts.network !== undefined) {
    const { network, radio } = resolveNetwork(opts.network);
    s.network = network;
    if (radio) sub('device').radio = radio;
  }
  if (opts.device !== undefined) {
    const d = resolveDevice(opts.device);
    const device = sub('device');
    device.computeW = d.computeW;
    device.idleW = d.idleW;
    if (d.radio) device.radio = d.radio;
  }
  if (opts.objective !== undefined) s.objective = opts.objective;
  if (opts.dtype !== undefined) s.encoding = { dtype: opts.dtype };
  if (opts.maxLatencyMs !== undefined) sub('constraints').maxLatencyMs = opts.maxLatencyMs;
  if (opts.maxCostUsd !== undefined) sub('constraints').maxCostUSD = opts.maxCostUsd;
  if (opts.maxEnergyJ !== undefined) {
    sub('constraints').maxEnergyJ = opts.maxEnergyJ;
    delete s.battery;
  }
  if (opts.battery !== undefined) {
    s.battery = { level: opts.battery };
    if (isObject(s.constraints)) s.constraints = { ...s.constraints, maxEnergyJ: null };
  }
  return s;
}

/**
 * The flag form's model part: a scenario built from the model's committed
 * profile (per-layer device times scaled by the predictor, cloud times from
 * the cloud profile, crossings and weights); see cli/profile-plan.ts and
 * docs/profiles.md. The overrides above then apply to what it returns.
 */
export async function scenarioFromModel(opts: PlanOptions & { model: string }): Promise<unknown> {
  const { scenarioFromProfiles } = await import('../profile-plan');
  return scenarioFromProfiles(opts);
}

/** Loads the scenarios named by the options: one (`many` false) or an array in file order. */
export async function loadScenarios(opts: PlanOptions): Promise<{ many: boolean; scenarios: Scenario[] }> {
  if (opts.scenario !== undefined && opts.model !== undefined) {
    throw new OffloadError('invalid-input', 'give --scenario FILE or --model M, not both');
  }
  if (opts.battery !== undefined && opts.maxEnergyJ !== undefined) {
    throw new ValidationError('--battery', 'give --battery or --max-energy-j, not both');
  }
  let content: unknown;
  if (opts.scenario !== undefined) content = readJsonFile(opts.scenario, 'scenario file');
  else if (opts.model !== undefined) content = await scenarioFromModel({ ...opts, model: opts.model });
  else throw new OffloadError('invalid-input', 'give --scenario FILE (or --model M --network N --device D); see offload plan --help');
  if (Array.isArray(content)) {
    if (content.length === 0) throw new ValidationError('(input)', 'the scenario array is empty');
    return { many: true, scenarios: content.map((s, i) => parseScenario(applyOverrides(s, opts), `[${i}]`)) };
  }
  return { many: false, scenarios: [parseScenario(applyOverrides(content, opts))] };
}

/** Plans each scenario; a planning error of element i names it (`[i].…`). */
export function planAll(scenarios: readonly Scenario[], many: boolean): PlanRecord[] {
  return scenarios.map((s, i) => {
    try {
      return plan(s);
    } catch (e) {
      if (many && e instanceof ValidationError) throw new ValidationError(`[${i}]${e.field ? `.${e.field}` : ''}`, e.message.slice((e.field ?? '').length + 2), e);
      throw e;
    }
  });
}

const fmt = (x: number, digits = 4): string => (x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6 ? String(Number(x.toPrecision(digits))) : x.toExponential(digits - 1));

/** The human form of one plan: a summary line and every candidate, the chosen row marked with `*`. */
export function renderPlan(record: PlanRecord): string {
  const p = record.predicted;
  const where = record.target === 'device' ? 'device-only' : `cloud from cut ${record.cut}, function ${record.function}`;
  const head = [
    `${record.model}: objective ${record.objective}, dtype ${record.dtype}, L = ${record.L}`,
    record.feasible
      ? `chosen: cut ${record.cut} (${where}) — ${fmt(p.latencyMs)} ms, ${fmt(p.energyJ)} J, $${fmt(p.costUSD)}`
      : `no cut is feasible (${record.reasons.join(', ')}): recommending device-only — ${fmt(p.latencyMs)} ms, ${fmt(p.energyJ)} J`,
  ];
  if (record.battery) {
    const b = record.battery;
    head.push(`battery ${fmt(b.level * 100, 3)} %: energy budget ${b.energyBudgetJ === null ? 'none (nothing else feasible)' : `${fmt(b.energyBudgetJ)} J`}`);
  }
  const rows = record.candidates.map((r) => ({
    ' ': r.cut === record.cut ? '*' : '',
    cut: r.cut,
    layer: r.layer,
    sentBytes: r.sentBytes,
    headMs: r.headMs,
    upMs: r.upMs,
    tailMs: r.tailMs,
    pCold: r.pCold,
    coldMs: r.coldMs,
    downMs: r.downMs,
    latencyMs: r.latencyMs,
    energyJ: r.energyJ,
    // toPrecision would print 2.88e-6 as 0.000002880: costs read better in one exponent format.
    costUSD: r.costUSD === 0 ? '0' : r.costUSD.toExponential(3),
    reasons: r.feasible ? 'ok' : r.reasons.join(','),
  }));
  return `${head.join('\n')}\n${table(rows)}`;
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('Choose the cut for a request: every candidate with its latency, energy and cost, the chosen one marked')
    .option('--scenario <file>', 'docs/cost-model.md §7 scenario JSON (one object or an array); - reads stdin')
    .option('--model <name>', 'plan from the model\'s committed profile (profiles/<model>.wasm.json) instead of a scenario file')
    .option('--network <preset|file>', `network: ${NETWORK_PRESET_NAMES.join(', ')} or a JSON file {uplinkMbps, downlinkMbps, rttMs, radio?}`)
    .option('--device <class|file>', `device power: ${Object.keys(DEVICE_CLASSES).join(', ')} or a JSON file {computeW, idleW, radio?}`)
    .option('--battery <level>', 'battery level 0..1, mapped to an energy budget (docs/planner.md)', fraction('--battery'))
    .addOption(new Option('--objective <objective>', 'what to minimise').choices(OBJECTIVES))
    .option('--max-latency-ms <ms>', 'latency constraint', nonNegativeNumber('--max-latency-ms'))
    .option('--max-energy-j <J>', 'device energy constraint', nonNegativeNumber('--max-energy-j'))
    .option('--max-cost-usd <USD>', 'cloud cost constraint per inference', nonNegativeNumber('--max-cost-usd'))
    .addOption(new Option('--dtype <dtype>', 'encoding of the crossing tensors').choices(DTYPES))
    .option('--fleet <file>', 'with --model: fleet state JSON {"<cut>": {idleWarm, inFlight, limit, coldStartMs?}}; default every candidate deployed and warm')
    .option('--memory-mb <MB>', 'with --model: Lambda memory of the tail functions (default 1769 = one vCPU)', nonNegativeNumber('--memory-mb'))
    .option('--json', 'print the plan record(s) as JSON on stdout only')
    .action(async (opts: PlanOptions) => {
      const { many, scenarios } = await loadScenarios(opts);
      const records = planAll(scenarios, many);
      if (opts.json) {
        printJson(many ? records : records[0]);
        return;
      }
      const blocks = records.map((r, i) => (many ? `[${i}] ${renderPlan(r)}` : renderPlan(r)));
      process.stdout.write(`${blocks.join('\n\n')}\n`);
    });
}
