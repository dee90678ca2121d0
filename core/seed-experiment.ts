/**
 * The seed paper's experiment (Eshratifar & Pedram, GLSVLSI 2018), redone with
 * our profiles and the spec's cost model: for every model × network × device
 * × objective, the planner's choice against device-only, cloud-only, the
 * better of those two (the status quo) and a Neurosurgeon-style planner (the
 * best single cut when every function is assumed warm and unthrottled).
 *
 * Two fleet states: `warm` (every tail deployed and warm: the setting of the
 * seed paper and of Neurosurgeon, where the Neurosurgeon-style choice IS the
 * optimum) and `contended` (each candidate's function independently warm,
 * cold, or at its concurrency limit, drawn from a seeded generator), where
 * ignoring cold starts and throttling costs something.
 *
 * Pure TypeScript: the caller passes the profiles, devices and networks.
 */
import { plan, type CandidateRow, type PlanRecord } from './planner';
import { allWarmFleet, buildScenario } from './profile-scenario';
import type { Predictor } from './predictor';
import type { NetworkPreset } from './presets';
import type { DeviceProfile, ModelProfile } from './profiles';
import { seededRandom } from './random';
import { parseScenario, type FunctionState, type Scenario } from './scenario';

/** Objectives of the grid (cost is not part of the seed paper's experiment). */
export type SeedObjective = 'latency' | 'energy';
export type FleetKind = 'warm' | 'contended';
export const BASELINES = ['deviceOnly', 'cloudOnly', 'statusQuo', 'neurosurgeon'] as const;
export type Baseline = (typeof BASELINES)[number];

/** What one request costs when a given policy serves it. */
export interface Outcome {
  cut: number;
  latencyMs: number;
  energyJ: number;
  costUSD: number;
  /** The cut's function was at its limit: the request got HTTP 429 and the device ran the tail itself. */
  throttled: boolean;
  /** The cut's function had no idle instance: the request paid a cold start. */
  cold: boolean;
}

/** One cell of the grid (one fleet draw). */
export interface SeedCell {
  model: string;
  network: string;
  device: string;
  objective: SeedObjective;
  fleet: FleetKind;
  draw: number;
  L: number;
  optimal: Outcome;
  deviceOnly: Outcome;
  cloudOnly: Outcome;
  statusQuo: Outcome;
  neurosurgeon: Outcome;
}

/** Fleet state probabilities of the contended draws. */
export interface Contention {
  pWarm: number;
  pCold: number;
  /** The rest is throttled (inFlight = limit). */
  limit: number;
}

/** Defaults of the contended fleet: half warm, 30 % cold, 20 % at their limit of 10. */
export const DEFAULT_CONTENTION: Readonly<Contention> = Object.freeze({ pWarm: 0.5, pCold: 0.3, limit: 10 });

export interface SeedInputs {
  profiles: readonly ModelProfile[];
  predictor: Predictor;
  models: readonly string[];
  networks: readonly NetworkPreset[];
  devices: readonly DeviceProfile[];
  objectives?: readonly SeedObjective[];
  /** Contended fleet draws per (model, network, device, objective). Default 20. */
  draws?: number;
  seed?: number;
  contention?: Contention;
  memoryMB?: number;
  /** The tails' profiles by model when they are not `profiles` (e.g. measured on the threaded engine); see buildScenario's `cloudProfile`. */
  cloudProfiles?: readonly ModelProfile[];
  /** Cloud speed relative to the measured profile (what-if; 1 = measured). */
  lambdaSpeedup?: number;
}

/** One contended fleet: each candidate's function warm, cold or throttled. */
export function drawFleet(candidates: readonly { cut: number }[], random: () => number, c: Contention = DEFAULT_CONTENTION): Record<string, FunctionState> {
  const out: Record<string, FunctionState> = {};
  for (const cand of candidates) {
    const u = random();
    out[String(cand.cut)] =
      u < c.pWarm
        ? { idleWarm: 1, inFlight: 0, limit: c.limit }
        : u < c.pWarm + c.pCold
          ? { idleWarm: 0, inFlight: 0, limit: c.limit }
          : { idleWarm: 0, inFlight: c.limit, limit: c.limit };
  }
  return out;
}

/**
 * What serving cut `c` costs under the scenario's fleet. A throttled cut is
 * not simply infeasible for a policy that ignores the fleet: the request is
 * sent, refused with 429 after one round trip, and the device runs the tail
 * itself (no cloud cost):
 *
 * ```
 * latency = headMs + rttMs + upMs + Σ_{l≥c} deviceMs[l]
 * energy  = [computeW × (headMs + Σ_{l≥c} deviceMs[l]) + Pup × upMs + idleW × rttMs] / 1000
 * ```
 */
export function outcomeOf(s: Scenario, record: PlanRecord, cut: number): Outcome {
  const row = record.candidates.find((r) => r.cut === cut);
  if (!row) throw new RangeError(`cut ${cut} is not a candidate of ${record.model}`);
  const throttled = row.reasons.includes('throttled');
  if (!throttled) return fromRow(row, false);
  let tailOnDeviceMs = 0;
  for (let l = cut; l < s.model.layers.length; l++) tailOnDeviceMs += s.model.layers[l]!.deviceMs;
  const pUpW = (s.device.radio.alphaUp * s.network.uplinkMbps + s.device.radio.beta) / 1000;
  return {
    cut,
    latencyMs: row.headMs + s.network.rttMs + row.upMs + tailOnDeviceMs,
    energyJ: (s.device.computeW * (row.headMs + tailOnDeviceMs) + pUpW * row.upMs + s.device.idleW * s.network.rttMs) / 1000,
    costUSD: 0,
    throttled: true,
    cold: false,
  };
}

function fromRow(row: CandidateRow, throttled: boolean): Outcome {
  return { cut: row.cut, latencyMs: row.latencyMs, energyJ: row.energyJ, costUSD: row.costUSD, throttled, cold: row.pCold > 0 };
}

const value = (o: Outcome, objective: SeedObjective): number => (objective === 'latency' ? o.latencyMs : o.energyJ);

/** Runs the grid; cells in model, network, device, objective, fleet, draw order. */
export function runSeedExperiment(inputs: SeedInputs): SeedCell[] {
  const objectives = inputs.objectives ?? ['latency', 'energy'];
  const draws = inputs.draws ?? 20;
  const contention = inputs.contention ?? DEFAULT_CONTENTION;
  const cells: SeedCell[] = [];
  for (const [mi, model] of inputs.models.entries()) {
    const profile = inputs.profiles.find((p) => p.model === model);
    if (!profile) throw new RangeError(`no profile of ${model}`);
    const cloudProfile = inputs.cloudProfiles?.find((p) => p.model === model);
    if (inputs.cloudProfiles && !cloudProfile) throw new RangeError(`no cloud profile of ${model}`);
    // The same fleet draws for every network, device and objective of a model, so cells compare like with like.
    const random = seededRandom((inputs.seed ?? 2018) + 7919 * mi);
    const fleets: { kind: FleetKind; draw: number; fleet: Record<string, FunctionState> }[] = [
      { kind: 'warm', draw: 0, fleet: allWarmFleet(profile.candidates) },
    ];
    for (let d = 0; d < draws; d++) fleets.push({ kind: 'contended', draw: d, fleet: drawFleet(profile.candidates, random, contention) });
    for (const network of inputs.networks) {
      for (const device of inputs.devices) {
        for (const objective of objectives) {
          const base = {
            profile,
            predictor: inputs.predictor,
            device,
            network,
            radio: network.radio,
            objective,
            ...(inputs.memoryMB !== undefined ? { memoryMB: inputs.memoryMB } : {}),
            ...(cloudProfile ? { cloudProfile } : {}),
          };
          const warm = parseScenario(buildScenario({ ...base, fleet: allWarmFleet(profile.candidates) }));
          if (inputs.lambdaSpeedup !== undefined) scaleCloud(warm, inputs.lambdaSpeedup);
          const nsCut = plan(warm).cut;
          for (const f of fleets) {
            const s = f.kind === 'warm' ? warm : { ...warm, cloud: { ...warm.cloud, functions: f.fleet } };
            const record = plan(s);
            const L = record.L;
            const deviceOnly = outcomeOf(s, record, L);
            const cloudOnly = outcomeOf(s, record, 0);
            cells.push({
              model,
              network: network.name,
              device: device.name,
              objective,
              fleet: f.kind,
              draw: f.draw,
              L,
              optimal: outcomeOf(s, record, record.cut),
              deviceOnly,
              cloudOnly,
              statusQuo: value(cloudOnly, objective) < value(deviceOnly, objective) ? cloudOnly : deviceOnly,
              neurosurgeon: outcomeOf(s, record, nsCut),
            });
          }
        }
      }
    }
  }
  return cells;
}

/** What-if: every cloud layer time divided by `speedup` (e.g. a faster backend than the one measured). */
function scaleCloud(s: Scenario, speedup: number): void {
  for (const l of s.model.layers) l.cloudMs /= speedup;
}

/** Ratio of a baseline to the optimum on the cell's objective (≥ 1 up to rounding: the optimum is never worse). */
export function gain(cell: SeedCell, baseline: Baseline): number {
  const o = value(cell.optimal, cell.objective);
  const b = value(cell[baseline], cell.objective);
  return o > 0 ? b / o : 1;
}

/** Average and maximum gain of the optimum over one baseline, over a set of cells. */
export interface GainSummary {
  fleet: FleetKind;
  objective: SeedObjective;
  baseline: Baseline;
  cells: number;
  average: number;
  max: number;
  /** Where the maximum is. */
  maxAt: string;
}

/**
 * Average (arithmetic mean over cells, like the seed paper's averages) and
 * maximum gain per fleet kind, objective and baseline. Contended cells are
 * first averaged over their draws, so each grid point counts once.
 */
export function summarize(cells: readonly SeedCell[]): GainSummary[] {
  const out: GainSummary[] = [];
  for (const fleet of ['warm', 'contended'] as const) {
    for (const objective of ['latency', 'energy'] as const) {
      const group = cells.filter((c) => c.fleet === fleet && c.objective === objective);
      if (group.length === 0) continue;
      for (const baseline of BASELINES) {
        const byPoint = new Map<string, number[]>();
        for (const c of group) {
          const key = `${c.model} ${c.network} ${c.device}`;
          const list = byPoint.get(key) ?? [];
          list.push(gain(c, baseline));
          byPoint.set(key, list);
        }
        let sum = 0;
        let max = -Infinity;
        let maxAt = '';
        for (const [key, gains] of byPoint) {
          const g = gains.reduce((a, b) => a + b, 0) / gains.length;
          sum += g;
          if (g > max) {
            max = g;
            maxAt = key;
          }
        }
        out.push({ fleet, objective, baseline, cells: byPoint.size, average: sum / byPoint.size, max, maxAt });
      }
    }
  }
  return out;
}
