/**
 * Planner speed (issue 3): one plan for a 300-layer model with 60 candidate
 * cuts, in-process, p50 and p99 over 100,000 plans — target p99 ≤ 100 µs —
 * and the ratio against the brute-force reference (test/core/reference-planner.ts,
 * every cut evaluated with its own loops over the layers).
 *
 * The plans rotate over 64 parsed scenarios of the same model (different
 * fleet states, networks, objectives, constraints, batteries) so the JIT does
 * not see one input only. Parsing (zod) is not in the plan figure — a server
 * parses once per request either way — and is reported separately.
 *
 * Run alone with `npx tsx bench/plan.ts`, or call {@link runPlanBench}.
 */
import { plan } from '../core/planner';
import { DTYPES } from '../core/dtypes';
import { seededRandom } from '../core/random';
import { parseScenario, type Scenario, type ScenarioInput } from '../core/scenario';
import { referencePlan } from '../testkit/reference-planner';
import { isMain, quantile, type BenchResult } from './report';

export interface PlanBenchOptions {
  layers?: number;
  candidates?: number;
  /** Timed plans (default 100,000). */
  plans?: number;
  /** Timed brute-force reference plans (default 20,000: it is much slower). */
  referencePlans?: number;
  log?: (line: string) => void;
}

export interface PlanBenchReport {
  layers: number;
  candidates: number;
  plans: number;
  referencePlans: number;
  /** Per-plan times in µs. */
  plan: { p50: number; p99: number; mean: number; max: number };
  reference: { p50: number; p99: number; mean: number };
  /** Per-parse times (zod, 300-layer scenario) in µs. */
  parse: { p50: number; p99: number };
  /** reference p50 / plan p50. */
  speedup: number;
  results: BenchResult[];
}

const TARGET_P99_US = 100;

/** 64 variants of one seeded L-layer model with C evenly spaced candidate cuts. */
export function benchScenarios(L: number, C: number, variants = 64, seed = 7): ScenarioInput[] {
  const r = seededRandom(seed);
  const layers = Array.from({ length: L }, (_, i) => ({
    name: `layer_${i}`,
    deviceMs: 0.05 + r() * 4,
    cloudMs: 0.01 + r() * 0.8,
    outputBytes: Math.floor(r() * 800_000),
    weightBytes: Math.floor(r() * 2_000_000),
  }));
  const step = Math.max(1, Math.floor(L / C));
  const cuts = Array.from({ length: Math.min(C, L) }, (_, i) => i * step);
  const candidates = cuts.map((cut) => ({ cut, crossingBytes: cut === 0 ? 602_112 : layers[cut - 1]!.outputBytes }));
  const networks = [
    { uplinkMbps: 1.1, downlinkMbps: 3, rttMs: 150 },
    { uplinkMbps: 5.85, downlinkMbps: 13, rttMs: 70 },
    { uplinkMbps: 18.88, downlinkMbps: 50, rttMs: 30 },
  ];
  const objectives = ['latency', 'energy', 'cost'] as const;
  return Array.from({ length: variants }, (_, v) => {
    const functions: Record<string, { idleWarm: number; inFlight: number; limit: number; coldStartMs?: number }> = {};
    for (const cut of cuts) {
      if (r() < 0.1) continue; // not deployed
      const limit = 1 + Math.floor(r() * 10);
      functions[String(cut)] = {
        idleWarm: Math.floor(r() * 3),
        inFlight: Math.floor(r() * (limit + 2)),
        limit,
        ...(r() < 0.3 ? { coldStartMs: 200 + r() * 2000 } : {}),
      };
    }
    const withBattery = v % 4 === 3;
    return {
      model: { name: 'bench300', inputBytes: 602_112, outputBytes: 4000, layers, candidates },
      network: networks[v % 3]!,
      device: { computeW: 3.5, idleW: 0.5, radio: { alphaUp: 438.39, alphaDown: 51.97, beta: 1288.04 } },
      cloud: { memoryMB: 1769, coldBaseMs: 250, coldMsPerMB: 12, requestUSD: 2e-7, gbSecondUSD: 0.0000166667, functions },
      encoding: { dtype: DTYPES[v % DTYPES.length]! },
      constraints: {
        maxLatencyMs: v % 5 === 0 ? 400 : null,
        maxEnergyJ: !withBattery && v % 7 === 0 ? 2 : null,
        maxCostUSD: v % 6 === 0 ? 5e-5 : null,
      },
      limits: { payloadBytes: 6_291_456, base64: true, staging: v % 8 === 0 },
      objective: objectives[v % 3]!,
      ...(withBattery ? { battery: { level: (v % 10) / 10 } } : {}),
    };
  });
}

/** Times `n` calls of `op(i)` one by one; returns per-call µs, sorted. */
function timeCalls(n: number, op: (i: number) => unknown): Float64Array {
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    op(i);
    times[i] = (performance.now() - start) * 1000;
  }
  return times.sort();
}

function mean(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return s / a.length;
}

/** Runs the planner benchmark and returns its figures. */
export async function runPlanBench(options: PlanBenchOptions = {}): Promise<PlanBenchReport> {
  const L = options.layers ?? 300;
  const C = options.candidates ?? 60;
  const plans = options.plans ?? 100_000;
  const referencePlans = options.referencePlans ?? 20_000;
  const log = options.log ?? (() => {});
  const inputs = benchScenarios(L, C);
  const scenarios: Scenario[] = inputs.map((s) => parseScenario(s));

  // A fast but wrong planner must not pass: every variant must agree with the reference first.
  for (const s of scenarios) {
    const a = plan(s);
    const b = referencePlan(s);
    if (a.cut !== b.cut || a.candidates.length !== C + 1) throw new Error(`plan bench: planner and reference disagree (${a.cut} vs ${b.cut})`);
  }
  const chosen = new Set(scenarios.map((s) => plan(s).target));

  log('warming up …');
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += plan(scenarios[i & 63]!).cut;
  for (let i = 0; i < 500; i++) sink += referencePlan(scenarios[i & 63]!).cut;

  log(`timing ${plans} plans …`);
  const planTimes = timeCalls(plans, (i) => {
    sink += plan(scenarios[i & 63]!).cut;
  });
  await new Promise((resolve) => setImmediate(resolve));
  log(`timing ${referencePlans} reference plans …`);
  const refTimes = timeCalls(referencePlans, (i) => {
    sink += referencePlan(scenarios[i & 63]!).cut;
  });
  log('timing parses …');
  const parseTimes = timeCalls(2000, (i) => parseScenario(inputs[i & 63]!));
  if (sink < 0) log(String(sink)); // keeps the calls observable

  const p = { p50: quantile(planTimes, 0.5), p99: quantile(planTimes, 0.99), mean: mean(planTimes), max: planTimes[planTimes.length - 1]! };
  const ref = { p50: quantile(refTimes, 0.5), p99: quantile(refTimes, 0.99), mean: mean(refTimes) };
  const parse = { p50: quantile(parseTimes, 0.5), p99: quantile(parseTimes, 0.99) };
  const speedup = ref.p50 / p.p50;
  const shape = `${L} layers, ${C} candidates, 64 scenario variants (targets chosen: ${[...chosen].join(', ')})`;
  const results: BenchResult[] = [
    {
      name: 'plan p99',
      value: p.p99,
      unit: 'µs',
      target: TARGET_P99_US,
      ratio: TARGET_P99_US / p.p99,
      met: p.p99 <= TARGET_P99_US,
      detail: `${plans} plans, ${shape}; p50 ${p.p50.toFixed(1)} µs, mean ${p.mean.toFixed(1)} µs, max ${p.max.toFixed(0)} µs`,
    },
    {
      name: 'plan p50',
      value: p.p50,
      unit: 'µs',
      target: TARGET_P99_US,
      ratio: TARGET_P99_US / p.p50,
      met: p.p50 <= TARGET_P99_US,
      detail: `brute-force reference p50 ${ref.p50.toFixed(1)} µs, p99 ${ref.p99.toFixed(1)} µs over ${referencePlans} plans: planner ${speedup.toFixed(1)}× faster`,
    },
  ];
  return { layers: L, candidates: C, plans, referencePlans, plan: p, reference: ref, parse, speedup, results };
}

if (isMain(import.meta.url)) {
  const r = await runPlanBench({ log: (l) => process.stderr.write(`${l}\n`) });
  const f = (x: number) => x.toFixed(1).padStart(8);
  process.stdout.write(
    [
      `planner: ${r.layers} layers, ${r.candidates} candidate cuts, in-process`,
      `                      p50 µs    p99 µs   mean µs`,
      `plan (${r.plans})    ${f(r.plan.p50)}  ${f(r.plan.p99)}  ${f(r.plan.mean)}   target p99 ≤ ${TARGET_P99_US} µs: ${r.plan.p99 <= TARGET_P99_US ? 'met' : 'NOT MET'}`,
      `reference (${r.referencePlans}) ${f(r.reference.p50)}  ${f(r.reference.p99)}  ${f(r.reference.mean)}`,
      `parse (2000)        ${f(r.parse.p50)}  ${f(r.parse.p99)}`,
      `ratio reference / planner (p50): ${r.speedup.toFixed(1)}×`,
      `(max plan ${r.plan.max.toFixed(0)} µs: a mean above p50 is the tail of GC pauses and preemption on a shared machine)`,
      '',
    ].join('\n'),
  );
}
