/**
 * A brute-force planner written straight from the spec text
 * (docs/cost-model.md §3–§5) and the battery rule of docs/planner.md, with no
 * code shared with core/: every cut is evaluated with its own loops over the
 * layers. Tests compare core/planner.ts against it; bench/plan.ts times it.
 */

export interface RefScenario {
  model: {
    name: string;
    inputBytes: number;
    outputBytes: number;
    layers: { name: string; deviceMs: number; cloudMs: number; outputBytes: number; weightBytes: number }[];
    candidates: { cut: number; crossingBytes: number }[];
  };
  network: { uplinkMbps: number; downlinkMbps: number; rttMs: number };
  device: { computeW: number; idleW: number; radio: { alphaUp: number; alphaDown: number; beta: number } };
  cloud: {
    memoryMB: number;
    coldBaseMs: number;
    coldMsPerMB: number;
    requestUSD: number;
    gbSecondUSD: number;
    functions: Record<string, { idleWarm: number; inFlight: number; limit: number; coldStartMs?: number; name?: string }>;
  };
  encoding: { dtype: 'float32' | 'float16' | 'int8' };
  constraints: { maxLatencyMs: number | null; maxEnergyJ: number | null; maxCostUSD: number | null };
  limits: { payloadBytes: number; base64: boolean; staging: boolean };
  objective: 'latency' | 'energy' | 'cost';
  battery?: { level: number };
}

export interface RefRow {
  cut: number;
  layer: string;
  sentBytes: number;
  headMs: number;
  upMs: number;
  tailMs: number;
  pCold: number;
  coldStartMs: number;
  coldMs: number;
  downMs: number;
  latencyMs: number;
  energyJ: number;
  costUSD: number;
  feasible: boolean;
  reasons: string[];
}

export interface RefPlan {
  cut: number;
  feasible: boolean;
  function: string | null;
  reasons: string[];
  energyBudgetJ: number | null;
  rows: RefRow[];
}

const FACTOR = { float32: 1, float16: 1 / 2, int8: 1 / 4 };
const REASON_ORDER = ['no-function', 'throttled', 'payload', 'max-latency', 'max-energy', 'max-cost'];

function evaluate(s: RefScenario, c: number): RefRow {
  const L = s.model.layers.length;
  const layers = s.model.layers;
  let headMs = 0;
  for (let l = 0; l < c; l++) headMs += layers[l]!.deviceMs;
  const layer = c === 0 ? 'input' : layers[c - 1]!.name;
  if (c === L) {
    return {
      cut: c, layer, sentBytes: 0, headMs, upMs: 0, tailMs: 0, pCold: 0, coldStartMs: 0, coldMs: 0, downMs: 0,
      latencyMs: headMs, energyJ: (s.device.computeW * headMs) / 1000, costUSD: 0, feasible: true, reasons: [],
    };
  }
  const crossing = s.model.candidates.find((k) => k.cut === c)!.crossingBytes;
  const sentBytes = c === 0 ? s.model.inputBytes : crossing * FACTOR[s.encoding.dtype];
  const upMs = ((8 * sentBytes) / (s.network.uplinkMbps * 1e6)) * 1000;
  const downMs = ((8 * s.model.outputBytes) / (s.network.downlinkMbps * 1e6)) * 1000;
  let tailMs = 0;
  for (let l = c; l < L; l++) tailMs += layers[l]!.cloudMs;
  let tailWeights = 0;
  for (let l = c; l < L; l++) tailWeights += layers[l]!.weightBytes;
  const fn = s.cloud.functions[String(c)];
  const pCold = fn !== undefined && fn.idleWarm >= 1 ? 0 : 1;
  const coldStartMs =
    fn?.coldStartMs !== undefined ? fn.coldStartMs : s.cloud.coldBaseMs + (s.cloud.coldMsPerMB * tailWeights) / 2 ** 20;
  const coldMs = pCold * coldStartMs;
  const remoteMs = tailMs + coldMs;
  const latencyMs = headMs + s.network.rttMs + upMs + remoteMs + downMs;
  const Pup = (s.device.radio.alphaUp * s.network.uplinkMbps + s.device.radio.beta) / 1000;
  const Pdown = (s.device.radio.alphaDown * s.network.downlinkMbps + s.device.radio.beta) / 1000;
  const energyJ =
    (s.device.computeW * headMs + Pup * upMs + s.device.idleW * (s.network.rttMs + remoteMs) + Pdown * downMs) / 1000;
  const costUSD = s.cloud.requestUSD + (s.cloud.gbSecondUSD * s.cloud.memoryMB / 1024 * remoteMs) / 1000;
  return { cut: c, layer, sentBytes, headMs, upMs, tailMs, pCold, coldStartMs, coldMs, downMs, latencyMs, energyJ, costUSD, feasible: true, reasons: [] };
}

function objectiveOf(row: RefRow, objective: RefScenario['objective']): number {
  if (objective === 'latency') return row.latencyMs;
  if (objective === 'energy') return row.energyJ;
  return row.costUSD;
}

/** docs/cost-model.md §5: the minimum; ties (relative difference < 1e-9) → smaller sentBytes → larger cut. */
function pick(rows: RefRow[], objective: RefScenario['objective']): RefRow | undefined {
  if (rows.length === 0) return undefined;
  const min = Math.min(...rows.map((r) => objectiveOf(r, objective)));
  const tied = rows.filter((r) => {
    const o = objectiveOf(r, objective);
    return o === min || Math.abs(o - min) / Math.max(Math.abs(o), Math.abs(min)) < 1e-9;
  });
  tied.sort((a, b) => a.sentBytes - b.sentBytes || b.cut - a.cut);
  return tied[0];
}

/** Every rule except the energy limit: the reasons of one row. */
function otherReasons(s: RefScenario, row: RefRow): string[] {
  const L = s.model.layers.length;
  const fn = s.cloud.functions[String(row.cut)];
  if (row.cut < L && fn === undefined) return ['no-function'];
  const reasons: string[] = [];
  if (row.cut < L && fn !== undefined) {
    if (fn.inFlight >= fn.limit) reasons.push('throttled');
    const payloadOver = s.limits.base64
      ? (row.sentBytes * 4) / 3 > s.limits.payloadBytes
      : row.sentBytes > s.limits.payloadBytes;
    if (!s.limits.staging && payloadOver) reasons.push('payload');
  }
  if (s.constraints.maxLatencyMs !== null && row.latencyMs > s.constraints.maxLatencyMs) reasons.push('max-latency');
  if (s.constraints.maxCostUSD !== null && row.costUSD > s.constraints.maxCostUSD) reasons.push('max-cost');
  return reasons;
}

/** Plans `s` by brute force. */
export function referencePlan(s: RefScenario): RefPlan {
  const L = s.model.layers.length;
  const cuts = s.model.candidates.map((k) => k.cut).sort((a, b) => a - b);
  cuts.push(L);
  const rows = cuts.map((c) => evaluate(s, c));
  const others = rows.map((r) => otherReasons(s, r));

  let energyLimit: number | null = s.constraints.maxEnergyJ;
  let energyBudgetJ: number | null = null;
  if (s.battery) {
    const base = rows.filter((_, i) => others[i]!.length === 0);
    const best = pick(base, s.objective);
    if (best) {
      const eMin = Math.min(...base.map((r) => r.energyJ));
      const eObj = best.energyJ;
      const w = Math.min(1, Math.max(0, (s.battery.level - 0.2) / 0.6));
      energyBudgetJ = w === 1 ? eObj : w === 0 ? eMin : Math.min(eObj, eMin + w * (eObj - eMin));
      energyLimit = energyBudgetJ;
    }
  }
  rows.forEach((row, i) => {
    const reasons = others[i]!;
    if (reasons[0] !== 'no-function' && energyLimit !== null && row.energyJ > energyLimit) reasons.push('max-energy');
    reasons.sort((a, b) => REASON_ORDER.indexOf(a) - REASON_ORDER.indexOf(b));
    row.reasons = reasons;
    row.feasible = reasons.length === 0;
  });
  const chosen = pick(rows.filter((r) => r.feasible), s.objective);
  const all = new Set(rows.flatMap((r) => r.reasons));
  const cut = chosen ? chosen.cut : L;
  const fn = s.cloud.functions[String(cut)];
  return {
    cut,
    feasible: chosen !== undefined,
    function: cut === L ? null : (fn?.name ?? `offload-${s.model.name}-${cut}`),
    reasons: chosen ? [] : REASON_ORDER.filter((r) => all.has(r)),
    energyBudgetJ,
    rows,
  };
}
