/**
 * Generates docs/evaluation-at-scale.md and docs/evaluation-at-scale.svg: the
 * fleet simulator (core/sim/) at scale — the speed of a 10^6-request day, each
 * policy on each workload shape (p50/p95/p99, cost, energy) for two
 * deployments, the default one again under a Lambda cold-start estimate with
 * the ratios' sensitivity to the cold start, the validation against the local stack (from
 * bench/sim-validation.ts's JSON, when given), and one worked `offload
 * recommend`.
 *
 * Usage: npx tsx bench/evaluation-at-scale.ts [--validation FILE] [--replay FILE] [--requests N]
 * (a few minutes on a loaded 2-core machine).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { LoadSummary } from '../core/load-record';
import { parsePolicy } from '../core/policies';
import { CLOUD_DEFAULTS, LAMBDA_COLD_ESTIMATE, LAMBDA_COLD_SOURCES, type ColdStartModel } from '../core/presets';
import { predictorFromProfiles } from '../core/profile-scenario';
import { simDeployment } from '../core/sim/deployment';
import { configSnippet, describeCandidate, recommend } from '../core/sim/recommend';
import { simulate } from '../core/sim/simulator';
import type { FleetViewOptions } from '../core/sim/fleet-view';
import type { PrewarmOptions } from '../core/prewarm';
import { generateWorkload, makeDevices, type Arrival, type MixEntry } from '../core/workload';
import { generateSynthetic, DAY_MS } from '../core/workload-synthetic';
import { loadProfile, loadProfiles } from '../models/profile-files';
import { defaultCuts } from '../cli/sim-deployment';
import { argValue, checkArgs, isMain } from './report';
import { committedResults, localHostMarkdown, NOW_RATE2, type Replay, type Validation } from './local-host-section';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const MODEL = 'resnet50';
const MIX: MixEntry[] = [
  { class: 'low-end-phone', network: 'wifi', weight: 2 },
  { class: 'low-end-phone', network: '4g', weight: 1 },
  { class: 'flagship-phone', network: 'wifi', weight: 1 },
];
const MIX_TEXT = '10000:low-end-phone/wifi=2,low-end-phone/4g,flagship-phone/wifi';
/** A policy, with the planner's options where it has them (core/sim/simulator.ts SimulationInput). */
interface Variant {
  label: string;
  policy: string;
  view?: FleetViewOptions;
  prewarm?: Partial<PrewarmOptions> | false;
  /** The device waits for its plan before its head (the default runs the head while the plan is in flight). */
  waitForPlan?: boolean;
}
/** The planner as deployed by default (prewarm on), its earlier fleet rule, the planner with prewarm off, its device waiting for the plan; then the static policies. */
const VARIANTS: Variant[] = [
  { label: 'planner', policy: 'planner' },
  { label: 'planner, fleet at the plan', policy: 'planner', view: { atArrival: false } },
  { label: 'planner, no prewarm', policy: 'planner', prewarm: false },
  { label: 'planner, waits for its plan', policy: 'planner', waitForPlan: true },
  { label: 'fleet-blind', policy: 'fleet-blind' },
  { label: 'cloud-only', policy: 'cloud-only' },
  { label: 'device-only', policy: 'device-only' },
  { label: 'cut:156', policy: 'cut:156' },
];
const STATIC = ['cloud-only', 'device-only', 'cut:156'];
/** The worked recommendation's p95 target, ms. */
const REC_P95_MS = 1000;
/** The workloads of the cold-start sensitivity table, and its per-MiB figures (the local base kept) besides the two named calibrations. */
const SENSITIVITY_WORKLOADS = ['sparse', 'bursty-idle', 'bursty'];
const SENSITIVITY_PER_MIB = [8, 12, 16];
/** A cold-start calibration the evaluation runs under. */
interface Calibration {
  label: string;
  cold: ColdStartModel;
}
const LOCAL_COLD: Calibration = { label: 'local (the default)', cold: { coldBaseMs: CLOUD_DEFAULTS.coldBaseMs, coldMsPerMB: CLOUD_DEFAULTS.coldMsPerMB } };
const LAMBDA_COLD: Calibration = { label: 'lambda-estimate', cold: LAMBDA_COLD_ESTIMATE };

interface Workload {
  name: string;
  spec: string;
  arrivals: Arrival[];
}

function workloads(requests: number): Workload[] {
  const devices = makeDevices(10_000, MIX);
  const bounds = { durationMs: DAY_MS, maxRequests: requests };
  const rate = requests / 86_400;
  const base = { devices, model: MODEL, seed: 11, ...bounds };
  return [
    { name: 'steady', spec: `steady:rate=${rate.toFixed(3)}`, arrivals: generateWorkload({ ...base, process: { kind: 'steady', ratePerS: rate } }) },
    { name: 'bursty', spec: `bursty:rate=${(rate * 12).toFixed(2)},on=5000,off=55000`, arrivals: generateWorkload({ ...base, process: { kind: 'bursty', ratePerS: rate * 12, onMs: 5000, offMs: 55_000 } }) },
    // The same bursts, 15 min apart: longer than the 10 min keep-alive, so every burst meets a cold fleet.
    { name: 'bursty-idle', spec: `bursty:rate=${(rate * 12).toFixed(2)},on=5000,off=895000`, arrivals: generateWorkload({ ...base, process: { kind: 'bursty', ratePerS: rate * 12, onMs: 5000, offMs: 895_000 } }) },
    { name: 'sparse', spec: 'sparse:gap=660000,extra=120000', arrivals: generateWorkload({ ...base, process: { kind: 'sparse', minGapMs: 660_000, meanExtraMs: 120_000 } }) },
    { name: 'diurnal', spec: `diurnal:rate=${rate.toFixed(3)}`, arrivals: generateSynthetic({ ...base, process: { kind: 'diurnal', ratePerS: rate } }) },
    { name: 'azure', spec: `azure:rate=${rate.toFixed(3)}`, arrivals: generateSynthetic({ ...base, process: { kind: 'azure', ratePerS: rate } }) },
  ];
}

/** Fleet-blind against the planner on one workload under one cold-start calibration (the default deployment). */
interface Sensitivity {
  calibration: Calibration;
  workload: string;
  ratio: number;
  plannerP95: number;
  blindP95: number;
  plannerMean: number;
  bestStaticMean: number;
}

interface Cell {
  deployment: string;
  workload: string;
  policy: string;
  summary: LoadSummary;
  provisionedUSD: number;
  /** Billed init of prewarm invocations, USD (not in the summary's per-request cost), and how many were sent. */
  prewarmUSD: number;
  prewarmSent: number;
  /** Prewarms that started an environment (the others found one idle by the time they arrived). */
  prewarmCold: number;
}

async function main(): Promise<void> {
  const requests = Number(argValue('--requests') ?? 200_000);
  const load0 = loadavg();
  const profile = loadProfile(MODEL);
  const predictor = predictorFromProfiles(loadProfiles());
  const cuts = await defaultCuts(profile);

  // 1. Speed: a day of 10^6 requests from 10^4 devices, the planner on every request.
  const day = generateWorkload({ process: { kind: 'steady', ratePerS: 1e6 / 86_400 }, devices: makeDevices(10_000, MIX), model: MODEL, seed: 1, durationMs: DAY_MS, maxRequests: 1_000_000 });
  // cdk/offload.config.json's tails (3008 MB, reserved 10) at the default cuts; per function provisioned concurrency and
  // the cold-start formula as given (default: none, and the local calibration).
  const deploymentWith = (o: { functions?: Record<number, { provisionedConcurrency: number }>; cold?: ColdStartModel } = {}) =>
    simDeployment({ models: [{ profile, cuts, tail: { memoryMB: 3008, reservedConcurrency: 10, provisionedConcurrency: 0 }, ...(o.functions ? { functions: o.functions } : {}) }], predictor, ...(o.cold ? { cold: o.cold } : {}) });
  const defaultDep = deploymentWith();
  const t0 = performance.now();
  const speedRun = simulate({ arrivals: day, policy: { kind: 'planner' }, ...defaultDep });
  const speedS = (performance.now() - t0) / 1000;
  const loadSpeed = loadavg();
  console.error(`speed: ${day.length} requests in ${speedS.toFixed(1)} s`);

  // 2. Policies × workloads × deployments.
  const deployments = [
    { name: 'default (cdk/offload.config.json: default cuts, 3008 MB, reserved 10, no provisioned)', short: 'default', functions: {} as Record<number, { provisionedConcurrency: number }> },
    { name: 'with 4 provisioned environments on cut 0', short: 'provisioned', functions: { 0: { provisionedConcurrency: 4 } } },
  ];
  const cells: Cell[] = [];
  const wls = workloads(requests);
  /** Every policy variant on every workload in `dep`, as the cells of `short`. */
  const runVariants = (dep: ReturnType<typeof deploymentWith>, short: string) => {
    for (const w of wls) {
      for (const v of VARIANTS) {
        const r = simulate({ arrivals: w.arrivals, policy: parsePolicy(v.policy), ...dep, view: v.view, prewarm: v.prewarm, waitForPlan: v.waitForPlan === true });
        cells.push({ deployment: short, workload: w.name, policy: v.label, summary: r.summary, provisionedUSD: r.provisionedUSD, prewarmUSD: r.prewarm.costUSD, prewarmSent: r.prewarm.sent, prewarmCold: r.prewarm.cold });
      }
      console.error(`${short} ${w.name}: done`);
    }
  };
  for (const d of deployments) runVariants(deploymentWith({ functions: d.functions }), d.short);

  // 2b. The default deployment under the Lambda cold-start estimate (its fleet and its planner), then the
  // sensitivity of the ratios to the per-MiB figure on the workloads where cold starts decide.
  runVariants(deploymentWith({ cold: LAMBDA_COLD.cold }), 'lambda-estimate');
  const calibrations: Calibration[] = [
    LOCAL_COLD,
    ...SENSITIVITY_PER_MIB.map((m) => ({ label: `${CLOUD_DEFAULTS.coldBaseMs} + ${m}`, cold: { coldBaseMs: CLOUD_DEFAULTS.coldBaseMs, coldMsPerMB: m } })),
    LAMBDA_COLD,
  ];
  const sensitivity: Sensitivity[] = [];
  for (const c of calibrations) {
    const dep = deploymentWith({ cold: c.cold });
    for (const name of SENSITIVITY_WORKLOADS) {
      const w = wls.find((x) => x.name === name)!;
      const of = (policy: string) => simulate({ arrivals: w.arrivals, policy: parsePolicy(policy), ...dep }).summary.latencyMs;
      const [planner, blind] = [of('planner'), of('fleet-blind')];
      sensitivity.push({ calibration: c, workload: name, ratio: blind.p95 / planner.p95, plannerP95: planner.p95, blindP95: blind.p95, plannerMean: planner.mean, bestStaticMean: Math.min(...STATIC.map((p) => of(p).mean)) });
    }
    console.error(`sensitivity ${c.label}: done`);
  }

  // 3. A worked recommendation.
  const recTraffic = generateSynthetic({ process: { kind: 'diurnal', ratePerS: 1.5 }, devices: makeDevices(2000, [{ class: 'low-end-phone', network: 'wifi' }]), model: MODEL, seed: 5, durationMs: DAY_MS, maxRequests: 200_000 });
  // 800 ms until the profiles moved at 16:33 UTC on 2026-11-30 (fused kernels): the fastest configuration then reached 893 ms.
  const rec = recommend({ profile, predictor, arrivals: recTraffic, deployableCuts: cuts, spanMs: DAY_MS, maxP95Ms: REC_P95_MS, top: 4 });
  // The same search under the Lambda estimate: does the advice change? (It may find nothing that meets the p95.)
  let recLambda: ReturnType<typeof recommend> | string;
  try {
    recLambda = recommend({ profile, predictor, arrivals: recTraffic, deployableCuts: cuts, spanMs: DAY_MS, maxP95Ms: REC_P95_MS, top: 4, cold: LAMBDA_COLD.cold });
  } catch (e) {
    recLambda = (e as Error).message;
  }
  const loadEnd = loadavg();

  const validation = argValue('--validation') ? (JSON.parse(readFileSync(argValue('--validation')!, 'utf8')) as Validation) : undefined;
  const replay = argValue('--replay') ? (JSON.parse(readFileSync(argValue('--replay')!, 'utf8')) as Replay) : undefined;
  writeFileSync(`${docs}evaluation-at-scale.svg`, await chart(cells));
  writeFileSync(`${docs}evaluation-at-scale.md`, markdown({ cells, wls, deployments, speed: { requests: day.length, seconds: speedS, summary: speedRun.summary, load: loadSpeed }, sensitivity, cut0MiB: profile.candidates.find((c) => c.cut === 0)!.tailWeightBytes / 2 ** 20, rec, recLambda, recTraffic, validation, replay, load: [load0, loadEnd], cuts, requests }));
  console.error('wrote docs/evaluation-at-scale.md and docs/evaluation-at-scale.svg');
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');

/** The table of every policy on every workload in one deployment, and its fleet-blind / planner p95 line. */
function policyTable(cells: Cell[], wls: Workload[], deployment: string): string[] {
  const out: string[] = [];
  out.push('| workload | policy | p50 ms | p95 ms | p99 ms | mean ms | energy J | cost $/1k | 429 rate | cold | cloud share |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const w of wls) {
    for (const c of cells.filter((c) => c.deployment === deployment && c.workload === w.name)) {
      const s = c.summary;
      out.push(`| ${w.name} | ${c.policy} | ${f0(s.latencyMs.p50)} | ${f0(s.latencyMs.p95)} | ${f0(s.latencyMs.p99)} | ${f0(s.latencyMs.mean)} | ${s.energyJ.toFixed(3)} | ${(((s.costUSD + c.prewarmUSD) / s.requests) * 1000).toFixed(4)} | ${s.rate429.toFixed(3)} | ${s.coldStarts} | ${(s.cloud / s.requests).toFixed(3)} |`);
    }
  }
  out.push('');
  const ratio = (w: string) => {
    const get = (p: string) => cells.find((c) => c.deployment === deployment && c.workload === w && c.policy === p)!.summary;
    const fb = get('fleet-blind');
    const bestStatic = Math.min(...STATIC.map((p) => get(p).latencyMs.mean));
    const of = (p: string) => `${(fb.latencyMs.p95 / get(p).latencyMs.p95).toFixed(2)}× (mean ${f0(get(p).latencyMs.mean)} ms)`;
    return `${w}: planner ${of('planner')}, without prewarm ${of('planner, no prewarm')}, waiting for its plan ${of('planner, waits for its plan')}; best static mean ${f0(bestStatic)} ms`;
  };
  out.push(`Fleet-blind p95 / planner p95 (target ≥ 1.5× on bursty and sparse; planner mean no worse than the best static policy's): ${wls.map((w) => ratio(w.name)).join('; ')}.\n`);
  return out;
}

/** "Under a Lambda cold-start estimate": the default deployment under `lambda-estimate`, and how the ratios move with the cold start. */
function lambdaSection(x: { cells: Cell[]; wls: Workload[]; sensitivity: Sensitivity[]; cut0MiB: number }): string[] {
  const out: string[] = [];
  const e = LAMBDA_COLD_ESTIMATE;
  const src = LAMBDA_COLD_SOURCES;
  const local = LOCAL_COLD.cold;
  const at = (c: ColdStartModel, mib: number) => c.coldBaseMs + c.coldMsPerMB * mib;
  const downloadMsPerMiB = (2 ** 20 / (src.s3MBps * 1e6)) * 1000;
  out.push(`## Under a Lambda cold-start estimate

Every figure above prices a cold start with the local stack's calibration (\`CLOUD_DEFAULTS\`, ${local.coldBaseMs} ms + ${local.coldMsPerMB} ms/MiB of tail weights: S3 is s3rver on loopback, this Xeon). On Lambda the weights come from S3 over the network. \`lambda-estimate\` (core/presets.ts \`LAMBDA_COLD_ESTIMATE\`) composes a Lambda cold start from cited figures and this machine's measured phases: base ${local.coldBaseMs} − ${src.localNodeBootstrapMs} (the local Node bootstrap, docs/local-stack.md "Where a cold start goes", this Xeon) + ${src.lambdaNodeInitMs} (Lambda's Node.js hello-world init, ≈114–147 ms, maxday lambda-perf) = ${+e.coldBaseMs.toFixed(1)} ms; per MiB the slower of one S3 request's rate (≈85–90 MB/s, AWS S3 performance whitepaper: ${downloadMsPerMiB.toFixed(2)} ms/MiB) and the build on the tail's thread here (${src.localBuildMsPerMiB.toFixed(1)} ms/MiB), since the tail builds each layer as its bytes arrive: ${e.coldMsPerMB.toFixed(2)} ms/MiB. ResNet-50 cut 0 (${x.cut0MiB.toFixed(1)} MiB) then starts cold in ${f0(at(e, x.cut0MiB))} ms against ${f0(at(local, x.cut0MiB))} ms locally. **An estimate, not measured on Lambda**: sandbox creation, the code download, the tail's parallel ranged GETs and Lambda's vCPU speed are not in it (core/presets.ts says which way each could move it). \`offload simulate\` and \`offload recommend\` take it with \`--cold-start lambda-estimate\`, or \`--cold-start BASE+PERMIB\` with a line fitted to your own tails (CloudWatch Init Duration plus the first request's extra time); it sets the simulated fleet's cold starts and the simulated planner's pricing alike, as \`COLD_BASE_MS\` / \`COLD_MS_PER_MB\` set a deployed planner's.

**Your own line, from your own deployment.** Nothing here measures Lambda, but a deployment can measure itself: run \`offload load\` against it at a few cuts whose tails differ in size (\`--policy cut:0,cut:125,cut:156\`, for instance), once \`--sequential\` (one device: the first request at each cut cold, the rest warm) and once \`--arrival sparse\` with \`--gap-ms\` past the keep-alive (every request cold), then \`offload cold-fit warm.jsonl cold.jsonl\`. Per cut it takes the median cold round trip less the median warm one of the requests a tail served (docs/cost-model.md §3's cold start; throttled and device-only requests do not count), fits the line through the cuts' tail MiB (the committed profiles' tail weights, the ones the simulator and the planner price with) and prints it as \`--cold-start BASE+PERMIB\` for \`offload simulate\` and \`offload recommend\`, and as \`COLD_BASE_MS\` / \`COLD_MS_PER_MB\` for the deployment's planner. The line is only as wide as the tails it saw: fit it on the tail sizes you deploy, and on several cold requests per cut. On the local stack (the default deployment, both models' five cuts, a 1 s keep-alive, 4 warm-run and 3 sparse requests per cut; this Xeon, 2026-12-01 19:52–19:53 UTC, load 1.2–1.5) it gave 183.8 ms + 6.17 ms/MiB (r² 0.994) against the calibration's ${local.coldBaseMs} + ${local.coldMsPerMB} (bench/cold-start.ts); MobileNetV2's cuts alone (4.9–13.5 MiB) gave 134.7 + 11.05, ResNet-50's alone (7.8–97.7 MiB) 166.3 + 6.36.

### The default deployment under lambda-estimate

Same workloads, policies and deployment (default cuts, 3008 MB, reserved 10, no provisioned concurrency) as above; only the cold start differs.
`);
  out.push(...policyTable(x.cells, x.wls, 'lambda-estimate'));
  const get = (w: string, p: string) => x.cells.find((c) => c.deployment === 'lambda-estimate' && c.workload === w && c.policy === p)!.summary;
  const p95 = (w: string, p: string) => get(w, p).latencyMs.p95;
  const mean = (w: string, p: string) => get(w, p).latencyMs.mean;
  const ratio = (w: string) => p95(w, 'fleet-blind') / p95(w, 'planner');
  const met = (r: number) => (r >= 1.5 ? 'met' : 'not met');
  const bestStatic = (w: string) => Math.min(...STATIC.map((p) => mean(w, p)));
  const deviceOnlyP95 = p95('bursty', 'fleet-blind') === p95('bursty', 'device-only');
  const calLabels = [...new Set(x.sensitivity.map((s) => s.calibration.label))];
  const sens = (label: string, w: string) => x.sensitivity.find((s) => s.calibration.label === label && s.workload === w)!;
  const meets = calLabels.filter((l) => sens(l, 'sparse').ratio >= 1.5 && sens(l, 'bursty-idle').ratio >= 1.5);
  const meanOk = (l: string) => SENSITIVITY_WORKLOADS.every((w) => sens(l, w).plannerMean <= sens(l, w).bestStaticMean);
  out.push(`### How the ratios move with the cold start

Fleet-blind p95 / planner p95 and the planner's mean against the best static policy's (cloud-only, device-only, cut:156), the default deployment, the planner as deployed (prewarm on); the per-MiB rows keep the local base (${local.coldBaseMs} ms).

| cold start | ${SENSITIVITY_WORKLOADS.map((w) => `${w}: fleet-blind / planner p95`).join(' | ')} | ${SENSITIVITY_WORKLOADS.map((w) => `${w}: planner mean / best static mean, ms`).join(' | ')} |
|---|${SENSITIVITY_WORKLOADS.map(() => '---:').join('|')}|${SENSITIVITY_WORKLOADS.map(() => '---:').join('|')}|
${calLabels.map((l) => {
    const c = sens(l, 'sparse').calibration.cold;
    const formula = `${+c.coldBaseMs.toFixed(1)} + ${+c.coldMsPerMB.toFixed(2)} ms/MiB`;
    return `| ${/^[0-9]/.test(l) ? formula : `${l}: ${formula}`} | ${SENSITIVITY_WORKLOADS.map((w) => `${sens(l, w).ratio.toFixed(2)}× (${f0(sens(l, w).blindP95)} / ${f0(sens(l, w).plannerP95)})`).join(' | ')} | ${SENSITIVITY_WORKLOADS.map((w) => `${f0(sens(l, w).plannerMean)} / ${f0(sens(l, w).bestStaticMean)}`).join(' | ')} |`;
  }).join('\n')}

- **Under lambda-estimate** the planner is ${ratio('sparse').toFixed(2)}× better than fleet-blind at p95 on sparse traffic (${met(ratio('sparse'))}) and ${ratio('bursty-idle').toFixed(2)}× on bursty-idle (${met(ratio('bursty-idle'))}); on bursty ${ratio('bursty').toFixed(2)}×: ${deviceOnlyP95 ? `fleet-blind's p95 there is still a device-only request (${f0(p95('bursty', 'fleet-blind'))} ms, device-only's own p95), as explained above${x.sensitivity.filter((r) => r.workload === 'bursty').every((r) => r.blindP95 === r.plannerP95) ? ', and at every cold start of the table' : ''}` : `fleet-blind's p95 there (${f0(p95('bursty', 'fleet-blind'))} ms) is no longer device-only's (${f0(p95('bursty', 'device-only'))} ms): the explanation above holds for the local calibration only`}. Planner mean against the best static policy's: ${x.wls.map((w) => `${w.name} ${f0(mean(w.name, 'planner'))} / ${f0(bestStatic(w.name))} ms (${mean(w.name, 'planner') <= bestStatic(w.name) ? 'met' : 'not met'})`).join(', ')}.
- **Which calibration meets the target** (≥ 1.5× on both sparse and bursty-idle): ${meets.length ? meets.join(', ') : 'none of these'}${meets.length < calLabels.length ? `; not ${calLabels.filter((l) => !meets.includes(l)).join(', ')}` : ''}. The planner's mean stays no worse than the best static policy's on these workloads under ${calLabels.filter(meanOk).join(', ') || 'none'}${calLabels.some((l) => !meanOk(l)) ? ` (not under ${calLabels.filter((l) => !meanOk(l)).join(', ')})` : ''}. On sparse traffic every fleet-blind cloud request is cold, so its p95 grows with the cold start while the planner, which sees the cold fleet, keeps those requests on the device: the ratio is about (cold request) / (device run).
- The figures in the sections above stay those of the local calibration, the default. Whether Lambda's cold starts look like this estimate is not verified here: no figure in this section was measured on Lambda.
`);
  return out;
}

/** One sentence: the worked recommendation under `--cold-start lambda-estimate`, against the default's. */
function recLambdaSentence(rec: ReturnType<typeof recommend>, recLambda: ReturnType<typeof recommend> | string): string {
  const head = `Under \`--cold-start lambda-estimate\` (the [Lambda estimate](#under-a-lambda-cold-start-estimate), not measured on Lambda) the same search`;
  if (typeof recLambda === 'string') return `${head} finds no configuration: ${recLambda}.`;
  const [a, b] = [rec.best[0]!, recLambda.best[0]!];
  const same = describeCandidate(a) === describeCandidate(b);
  const pc = (e: typeof a) => Object.values(e.provisioned).reduce((s, n) => s + n, 0);
  return `${head} ${same ? 'recommends the same configuration' : `recommends ${describeCandidate(b)}`} ($${b.monthlyUSD.total.toFixed(2)}/month, of which provisioned $${b.monthlyUSD.provisioned.toFixed(2)}; p95 ${f0(b.p95Ms)} ms, ${b.coldStarts} cold requests), against $${a.monthlyUSD.total.toFixed(2)}/month and p95 ${f0(a.p95Ms)} ms with the local calibration: ${pc(b) === pc(a) ? (pc(a) ? `the same ${pc(a)} provisioned environment${pc(a) === 1 ? '' : 's'}` : 'neither needs provisioned concurrency') : `${pc(b)} provisioned environment${pc(b) === 1 ? '' : 's'} instead of ${pc(a)}`}.`;
}

function markdown(x: {
  cells: Cell[];
  wls: Workload[];
  deployments: { name: string; short: string }[];
  speed: { requests: number; seconds: number; summary: LoadSummary; load: number[] };
  sensitivity: Sensitivity[];
  /** ResNet-50 cut 0's tail weights, MiB (the example of a cold start). */
  cut0MiB: number;
  rec: ReturnType<typeof recommend>;
  recLambda: ReturnType<typeof recommend> | string;
  recTraffic: Arrival[];
  validation: Validation | undefined;
  replay: Replay | undefined;
  load: number[][];
  cuts: number[];
  requests: number;
}): string {
  const la = (l: number[]) => l.map((v) => v.toFixed(1)).join(' / ');
  const out: string[] = [];
  out.push(`# Evaluation at scale: the fleet simulator

Generated by \`npx tsx bench/evaluation-at-scale.ts${x.validation ? ' --validation FILE' : ''}${x.replay ? ' --replay FILE' : ''}\` (\`npm run bench:evaluation-at-scale\` gives it bench/results/${NOW_RATE2} and recommend-replay.json) on ${new Date().toISOString().slice(0, 10)}; do not edit by hand.
The machine is a shared 2-core box: load average (1/5/15 min) ${la(x.load[0]!)} at the start, ${la(x.load[1]!)} at the end (other engineers' jobs).
Chart: [evaluation-at-scale.svg](evaluation-at-scale.svg). How the simulator works and what it assumes: [the simulator](#the-simulator).

## Speed

\`offload simulate\` engine, ${x.speed.requests.toLocaleString('en-US')} requests from 10,000 devices over a simulated day (${MODEL}, the default deployment, policy \`planner\`: a plan per request):
**${x.speed.seconds.toFixed(1)} s, ${Math.round(x.speed.requests / x.speed.seconds).toLocaleString('en-US')} requests/s of simulation** (target: 10^6 in ≤ 60 s; load average ${la(x.speed.load)} right after).
Plans are cached by the fleet bits they depend on (per deployed tail: warm or not, throttled or not), so the planner runs once per distinct (device class, network, fleet bits), not per request; the cache returns exactly what \`plan()\` would.
Reproduce: \`npx offload simulate --model ${MODEL} --traffic steady:rate=11.574 --devices ${MIX_TEXT} --requests 1000000 --duration 86400 --policy planner\`.

## Policies on each workload

${MODEL}, ${x.requests.toLocaleString('en-US')} requests per workload over one simulated day from 10,000 devices (${MIX_TEXT.slice(6).replace(/,/g, ', ')}); tails at the default cuts (${x.cuts.join(', ')}), 3008 MB, reserved concurrency 10; Lambda keeps idle environments 10 min, the planner assumes 5 min, reads the fleet every 100 ms.
Workloads: ${x.wls.map((w) => `**${w.name}** \`${w.spec}\` (${w.arrivals.length.toLocaleString('en-US')} requests)`).join('; ')}.
Cost is per 1,000 requests (requests and duration; provisioned concurrency charged per day on top: $${(4 * (3008 / 1024) * 86_400 * 0.0000041667).toFixed(2)}/day for 4 environments of 3008 MB, an assumed price).
`);
  for (const d of x.deployments) {
    out.push(`### Deployment: ${d.name}\n`);
    out.push(...policyTable(x.cells, x.wls, d.short));
  }
  const get = (d: string, w: string, p: string) => x.cells.find((c) => c.deployment === d && c.workload === w && c.policy === p)!.summary;
  const met = (d: string, w: string) => (p95(d, w, 'fleet-blind') / p95(d, w, 'planner') >= 1.5 ? 'met' : 'not met');
  const share = (d: string, w: string, p: string) => {
    const s = get(d, w, p);
    return (s.cloud / s.requests).toFixed(3);
  };
  const p95 = (d: string, w: string, p: string) => get(d, w, p).latencyMs.p95;
  const mean = (d: string, w: string, p: string) => get(d, w, p).latencyMs.mean;
  const bestStaticMean = (d: string, w: string) => Math.min(...STATIC.map((p) => mean(d, w, p)));
  const r2 = (a: number, b: number) => (a / b).toFixed(2);
  const warmBursty = get('default', 'bursty', 'fleet-blind');
  const cell = (d: string, w: string, p: string) => x.cells.find((c) => c.deployment === d && c.workload === w && c.policy === p)!;
  const prewarmPer1k = (d: string, w: string) => ((cell(d, w, 'planner').prewarmUSD / get(d, w, 'planner').requests) * 1000).toFixed(6);
  const prewarmUSD = (d: string, w: string) => cell(d, w, 'planner').prewarmUSD.toFixed(4);
  const prewarmSent = (d: string, w: string) => cell(d, w, 'planner').prewarmSent;
  out.push(`### What the figures say

- **The cold-fleet trap, and the way out that is now the default.** In the default deployment every tail starts cold, and a cold ResNet-50 tail costs more than the whole model on a low-end phone. With prewarm off the planner keeps every request on the device (cloud share ${share('default', 'steady', 'planner, no prewarm')} on steady) and no tail ever warms: its device runs the model while it asks, so it is device-only (mean ${f0(mean('default', 'steady', 'planner, no prewarm'))} ms, p95 ${f0(p95('default', 'steady', 'planner, no prewarm'))} ms against device-only's ${f0(p95('default', 'steady', 'device-only'))} ms). The planner as deployed prewarms the tail that would win warm once a second plan within its keep-alive (5 min) wants it (\`PREWARM_TAILS\`, core/prewarm.ts): on steady traffic it offloads ${share('default', 'steady', 'planner')} of the requests and its mean is ${f0(mean('default', 'steady', 'planner'))} ms (best static policy ${f0(bestStaticMean('default', 'steady'))} ms; bursty ${f0(mean('default', 'bursty', 'planner'))} ms against ${f0(bestStaticMean('default', 'bursty'))} ms, diurnal ${f0(mean('default', 'diurnal', 'planner'))} against ${f0(bestStaticMean('default', 'diurnal'))} ms, azure ${f0(mean('default', 'azure', 'planner'))} against ${f0(bestStaticMean('default', 'azure'))} ms).
- **But neither the trap nor the ledger sets the p95 on bursty traffic: the device mix does.** Bursts 60 s apart keep the tails warm between bursts (Lambda keeps them 10 min), so fleet-blind meets only ${warmBursty.coldStarts} cold starts in ${warmBursty.requests.toLocaleString('en-US')} requests there and a ${warmBursty.rate429.toFixed(3)} 429 rate. Its p95 (${f0(p95('default', 'bursty', 'fleet-blind'))} ms) is then a device-only request: the low-end phones on 4G, which every policy keeps on the device (their upload costs more than the tail saves), exactly device-only's p95 (${f0(p95('default', 'bursty', 'device-only'))} ms). The planner keeps them on the device too, its plan round trip hidden behind their compute, so its p95 is ${f0(p95('default', 'bursty', 'planner'))} ms with or without prewarm (${f0(p95('default', 'bursty', 'planner, no prewarm'))} ms): ${r2(p95('default', 'bursty', 'fleet-blind'), p95('default', 'bursty', 'planner'))}× whatever it does with the other requests (a device that waits for its plan pays the round trip on top: ${f0(p95('default', 'bursty', 'planner, waits for its plan'))} ms, ${r2(p95('default', 'bursty', 'fleet-blind'), p95('default', 'bursty', 'planner, waits for its plan'))}×). No per-request rule reaches 1.5× there: the best it could do is fleet-blind's own p95.
- **Where the fleet matters, the planner wins.** On sparse traffic (gaps longer than the keep-alive) every fleet-blind cloud request is cold: planner ${r2(p95('default', 'sparse', 'fleet-blind'), p95('default', 'sparse', 'planner'))}× better at p95 (target ${met('default', 'sparse')}). With the same bursts 15 min apart (bursty-idle) each burst meets a cold fleet and overruns the reserved concurrency: fleet-blind pays ${get('default', 'bursty-idle', 'fleet-blind').coldStarts} cold starts and a ${get('default', 'bursty-idle', 'fleet-blind').rate429.toFixed(3)} 429 rate (a 429 costs a round trip, then the device finishes), p95 ${f0(p95('default', 'bursty-idle', 'fleet-blind'))} ms against the planner's ${f0(p95('default', 'bursty-idle', 'planner'))} ms: ${r2(p95('default', 'bursty-idle', 'fleet-blind'), p95('default', 'bursty-idle', 'planner'))}×.
- **The fleet judged at the arrival** (the default now) uses warm capacity the earlier rule left idle. With 4 provisioned environments in bursts the planner offloads ${share('provisioned', 'bursty', 'planner')} of the requests (mean ${f0(mean('provisioned', 'bursty', 'planner'))} ms) where, judging the fleet at the plan, it offloaded ${share('provisioned', 'bursty', 'planner, fleet at the plan')} (mean ${f0(mean('provisioned', 'bursty', 'planner, fleet at the plan'))} ms): at the plan a request counted as holding an environment from the plan until it showed in the registry, on top of its tail, and a busy environment counted busy though it would be free when the request got there. Fleet-blind sends ${share('provisioned', 'bursty', 'fleet-blind')}, paying ${get('provisioned', 'bursty', 'fleet-blind').coldStarts} cold starts and a ${get('provisioned', 'bursty', 'fleet-blind').rate429.toFixed(3)} 429 rate for the rest.
- **Targets.** Planner vs fleet-blind p95 ≥ 1.5×: sparse ${r2(p95('default', 'sparse', 'fleet-blind'), p95('default', 'sparse', 'planner'))}× (${met('default', 'sparse')}), bursty ${r2(p95('default', 'bursty', 'fleet-blind'), p95('default', 'bursty', 'planner'))}× (${met('default', 'bursty')}, for the reason above; bursty-idle ${r2(p95('default', 'bursty-idle', 'fleet-blind'), p95('default', 'bursty-idle', 'planner'))}×). Planner mean no worse than the best static policy's: default planner ${f0(mean('default', 'bursty', 'planner'))} vs ${f0(bestStaticMean('default', 'bursty'))} ms on bursty (${mean('default', 'bursty', 'planner') <= bestStaticMean('default', 'bursty') ? 'met' : 'not met'}); ${f0(mean('default', 'sparse', 'planner'))} vs ${f0(bestStaticMean('default', 'sparse'))} ms on sparse (${mean('default', 'sparse', 'planner') <= bestStaticMean('default', 'sparse') ? 'met' : 'not met'}); without prewarm, bursty ${f0(mean('default', 'bursty', 'planner, no prewarm'))} ms. A device that waits for its plan pays its round trip in every mean: ${f0(mean('default', 'bursty', 'planner, waits for its plan'))} ms on bursty, ${f0(mean('default', 'sparse', 'planner, waits for its plan'))} ms on sparse. All with the local stack's cold start; under a Lambda estimate: [below](#under-a-lambda-cold-start-estimate).
- Cost of prewarm (its cold starts, billed init, in the planner's cost column), over the simulated day: ${x.wls.map((w) => `${w.name} ${prewarmSent('default', w.name)} prewarms, ${cell('default', w.name, 'planner').prewarmCold} of them cold starts, $${prewarmUSD('default', w.name)} ($${prewarmPer1k('default', w.name)} per 1,000 requests)`).join('; ')}. A prewarm is sent when the tail's environments are all busy or cold and traffic for it recurs; most find an environment idle by the time they arrive (a request charge, no init), and a started environment then serves requests for as long as they keep coming; on sparse traffic (gaps longer than the keep-alive) it is ${prewarmSent('default', 'sparse')}: a request that does not recur within the keep-alive starts nothing. With prewarm off the planner spends nothing in the default deployment (it sends nothing). With provisioned concurrency most of the bill is the provisioned charge.

`);
  out.push(...lambdaSection(x));
  out.push(`
## The simulator on this machine

${localHostMarkdown({ ...committedResults(), ...(x.validation ? { validation: x.validation } : {}), ...(x.replay ? { replay: x.replay } : {}) })}
`);
  const best = x.rec.best[0]!;
  out.push(`## A worked recommendation

\`npx offload recommend --model ${MODEL} --traffic diurnal:rate=1.5 --devices 2000:low-end-phone/wifi --requests 200000 --p95 ${REC_P95_MS}\`: ${x.recTraffic.length.toLocaleString('en-US')} requests over a day, a p95 target of ${REC_P95_MS} ms, the cheapest configuration that meets it first.

| # | cuts | memory MB | reserved | provisioned | $/month | of which provisioned | p50 ms | p95 ms | 429 rate | cloud share |
|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|
${x.rec.best.map((e, i) => `| ${i + 1} | ${e.cuts.join(',')} | ${e.memoryMB} | ${e.reservedConcurrency} | ${Object.entries(e.provisioned).map(([c, n]) => `${n} on cut ${c}`).join(', ') || '0'} | ${e.monthlyUSD.total.toFixed(2)} | ${e.monthlyUSD.provisioned.toFixed(2)} | ${f0(e.p50Ms)} | ${f0(e.p95Ms)} | ${e.rate429.toFixed(4)} | ${e.cloudShare.toFixed(3)} |`).join('\n')}

Best: ${describeCandidate(best)}. Its \`cdk/offload.config.json\` entry:

\`\`\`json
${JSON.stringify(configSnippet(MODEL, best), null, 2)}
\`\`\`

The search: ${x.rec.searched.length} configurations (cut sets from the cuts the warm planner uses, ${x.rec.usefulCuts.join(', ') || 'none'}; memory 1024/1769/3008 MB; provisioned 0–16 on cut ${x.rec.mostUsedCut}; reserved concurrency sized from each run's peak${x.rec.reservedCaps.length ? ` or capped at ${x.rec.reservedCaps.join(', ')}` : ' (on Lambda a lower cap only adds 429s; `--reserved` tries caps, the default on a shared host)'}) simulated on the first ${x.rec.sampleRequests.toLocaleString('en-US')} requests in ${(x.rec.wallMs.search / 1000).toFixed(1)} s, the best replayed on all of them in ${(x.rec.wallMs.replay / 1000).toFixed(1)} s.${best.memoryMB < 3008 ? ` ${best.memoryMB} MB beats 3008 MB here: it meets the p95 target already, and the threaded tail's speed at 3008 MB (the cloud profile with its measured parallel fraction) comes at a higher price per request.` : ''}

${recLambdaSentence(x.rec, x.recLambda)}

## The simulator

Code: \`core/sim/\` (pure, seeded, no I/O). A binary-heap event queue; per tail function, execution environments with cold starts (the calibrated cold-start model by tail weight, \`CLOUD_DEFAULTS\`, or another with \`--cold-start\`: [above](#under-a-lambda-cold-start-estimate)), warm reuse of the most recently used environment, reaping after the keep-alive (10 min by default), reserved concurrency and 429s, the account's unreserved pool (1,000 per Region, 100 kept unreserved), provisioned concurrency (never cold, never reaped), Lambda's scaling rate (1,000 environments per 10 s per function); devices wait their class's predicted head and tail times and their network's RTT and transfers, as \`offload load\` does, and a device that plans live starts its head as it asks (the plan's round trip beside its compute, docs/load.md "Asking while computing"; \`--wait-for-plan\` for a device that waits for it); fallback to the device on a 429. The planner sees the fleet as the deployed one does (\`functions/commons/registry.ts\`): a registry read reused for 100 ms, busy marks from the moment a request reaches its tail, reaped environments gone at once (SIGTERM), a ledger of its own plans retired once their requests show, and the fleet judged at each cut's predicted arrival (a busy mark predicted to end by then is idle; a reservation holds only its predicted tail interval; \`FLEET_AT_ARRIVAL\`, docs/functions.md); one planner instance is modelled. The planner's prewarm (\`PREWARM_TAILS\`, core/prewarm.ts) is on by default in the simulator as in a deployment (\`--prewarm off\` turns it off): a prewarm starts one environment (billed init, no compute) at the plan, when an earlier plan within the planner's keep-alive wanted the same tail. Records and summary are the load harness's (\`core/load-record.ts\`). Two options, off by default (the default is Lambda, where every environment has its own vCPUs, as the cost model says): a **host model** (\`--host local\` or \`--host-cores N\`, core/sim/host.ts) in which the busy environments of all functions share one machine's cores by processor sharing — each advances at 1/s(n) of its lone speed while n are busy, s measured on this machine (\`local\`) or ideal (s(n) = max(1, n/N)) — at this machine's profiled tail speed, with its lone cold start and invoke overhead (on \`local\` the overhead grows with the most environments busy while a request ran: the API and the emulator share the cores too); and a **per-request spread** (\`--jitter tail=CV,cold=CV\`, core/sim/jitter.ts): each served invocation's tail time and cold start drawn lognormal around the function's median (on a host, its measured spread by default). On a host, a record is made when its invocation ends, so JSONL records come in end order.

Not modelled: Lambda's environment recycling every few hours, jitter in compute and network times (every part takes its predicted time), several planner instances with separate ledgers, API Gateway's throttle. Provisioned-concurrency prices ($0.0000041667 per GB-s configured, $0.0000097222 per GB-s of duration) are the widely quoted us-east-1 x86 figures, assumed: the AWS pricing page's table was not readable here.

Workloads: steady, bursty, sparse and trace replay are \`offload load\`'s (\`core/workload.ts\`); diurnal and Azure-like are \`core/workload-synthetic.ts\`. The Azure-like shape follows Shahrad et al., "Serverless in the Wild", USENIX ATC 2020: per-device rates log-normal with log10 mean −3.333 and σ 1.772 (fitted to "45 % of applications invoked at most once per hour, 81 % at most once per minute"), scaled to the asked total; inter-arrival times gamma with a CV above 1 for 40 % of devices (log-uniform in (1, 4]) and uniform in [0, 1] for the rest; a diurnal swing from half the peak to the peak.
`);
  return out.join('\n');
}

async function chart(cells: Cell[]): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'p95 latency by policy and workload (resnet50, simulated day)',
    data: { values: cells.map((c) => ({ deployment: c.deployment, workload: c.workload, policy: c.policy, p95: Math.round(c.summary.latencyMs.p95) })) },
    facet: { row: { field: 'deployment', type: 'nominal', title: null }, column: { field: 'workload', type: 'nominal', title: null } },
    spec: {
      width: 110,
      height: 140,
      mark: 'bar',
      encoding: {
        x: { field: 'policy', type: 'nominal', axis: { labelAngle: -45 }, title: null },
        y: { field: 'p95', type: 'quantitative', title: 'p95 ms' },
        color: { field: 'policy', type: 'nominal', legend: null },
      },
    },
  };
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  return view.toSVG();
}

if (isMain(import.meta.url)) {
  checkArgs({ values: ['--validation', '--replay', '--requests'], flags: [], usage: 'npx tsx bench/evaluation-at-scale.ts [--validation FILE] [--replay FILE] [--requests N]' });
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack : String(e));
    process.exitCode = 1;
  });
}
