/**
 * The seed experiment, reproduced: runs core/seed-experiment.ts over the
 * committed profiles and writes `docs/seed.md` (tables, headline figures,
 * the profiles and assumptions used) and `docs/seed.svg` (a vega-lite chart).
 *
 * Run with `npm run bench:seed [-- --draws N] [--out DIR] [--json]` (or
 * `npx tsx bench/seed.ts …`). A benchmark, not part of the shipped CLI: its
 * chart needs vega and vega-lite, which are development dependencies.
 * Pure computation over the profiles: no model is built, nothing is timed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadProfiles, profilesDir } from '../models/profile-files';
import { CLOUD_DEFAULTS, NETWORK_PRESETS, type NetworkPreset } from '../core/presets';
import { predictorFromProfiles, deviceLayerMs } from '../core/profile-scenario';
import { leaveOneModelOut, predictLayerMs } from '../core/predictor';
import { DEVICE_PROFILES, MB_PER_VCPU, parseModelProfile, profileCommand, tailWasmThreads, type DeviceProfile, type ModelProfile } from '../core/profiles';
import { BASELINES, DEFAULT_CONTENTION, gain, runSeedExperiment, summarize, type Baseline, type GainSummary, type SeedCell } from '../core/seed-experiment';
import { isMain } from './report';

/** The seed paper's headline figures (reference facts; the paper's own baseline definitions were not checked). */
export const PAPER = Object.freeze({ speedupAvg: 1.42, speedupMax: 3.07, energyAvg: 2.11, energyMax: 4.26 });

export const SEED_MODELS = ['alexnet', 'vgg16', 'resnet50', 'googlenet', 'mobilenetv2'] as const;
export const SEED_DEVICES = ['low-end-phone', 'flagship-phone'] as const;
export const SEED_DRAWS = 20;
/**
 * The tails' memory in the seed: 2 vCPUs' worth of CPU time (2 × 1,769 MB), the smallest size
 * at which a threaded tail gets two full vCPUs. The profiles measured with 2 threads on this
 * machine's 2 cores then apply as measured: the function sees 3 cores and runs 3 threads
 * (core/profiles.ts tailWasmThreads), which the cost model gives the time of 2 threads on
 * 2 vCPUs (`cloudTimeFactor`: the parallel part runs on min(threads, vCPUs)).
 */
export const SEED_CLOUD_MEMORY_MB = 2 * MB_PER_VCPU;
/** Where the tail profiles measured on the threaded engine are (quiet machine, `offload profile M --threads 2 --clock wall`). */
export const THREADED_PROFILES_DIR = fileURLToPath(new URL('./results/quiet-profiles/', import.meta.url));

/** The seed models' tail profiles on the 2-thread engine; a clear error names the command for a missing one. */
export function threadedCloudProfiles(dir = THREADED_PROFILES_DIR): ModelProfile[] {
  return SEED_MODELS.map((m) => {
    const file = join(dir, `${m}.wasm.t2.json`);
    if (!existsSync(file)) {
      throw new Error(`missing the threaded tail profile ${file}: make it on a quiet machine with \`offload profile ${m} --threads 2 --clock wall --out ${file}\``);
    }
    const p = parseModelProfile(JSON.parse(readFileSync(file, 'utf8')));
    if (p.threads !== 2) throw new Error(`${file}: measured with ${p.threads ?? 1} thread(s), not 2`);
    return p;
  });
}

/** What-if cloud speed-ups reported beside the measured cloud (ASSUMED, not measured). */
export const WHAT_IF_SPEEDUPS = [4, 10] as const;

export interface SeedBenchOptions {
  /** Where docs/seed.md and docs/seed.svg go (default the repository's docs/). */
  outDir?: string;
  /** Contended draws per grid point. */
  draws?: number;
}

export interface SeedBenchResult {
  cells: SeedCell[];
  summary: GainSummary[];
  whatIf: { speedup: number; summary: GainSummary[] }[];
  markdownPath: string;
  svgPath: string;
}

const BASELINE_LABEL: Record<Baseline, string> = {
  deviceOnly: 'device-only',
  cloudOnly: 'cloud-only',
  statusQuo: 'status quo (better of the two)',
  neurosurgeon: 'Neurosurgeon-style (best cut, fleet ignored)',
};

const f2 = (x: number): string => x.toFixed(2);
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const joules = (x: number): string => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

/** Runs the experiment and writes the two files; returns what it wrote. */
export async function runSeedBench(opts: SeedBenchOptions = {}): Promise<SeedBenchResult> {
  const profiles = loadProfiles('wasm');
  const missing = SEED_MODELS.filter((m) => !profiles.some((p) => p.model === m));
  if (missing.length > 0) {
    throw new Error(`missing profiles in ${profilesDir()}: ${missing.map((m) => `\`${profileCommand(m, 'wasm')}\``).join(', ')}`);
  }
  const predictor = predictorFromProfiles(profiles);
  const devices = SEED_DEVICES.map((d) => DEVICE_PROFILES[d]!);
  const networks: NetworkPreset[] = [NETWORK_PRESETS['3g'], NETWORK_PRESETS['4g'], NETWORK_PRESETS.wifi];
  const draws = opts.draws ?? SEED_DRAWS;
  const cloudProfiles = threadedCloudProfiles();
  const common = { profiles, predictor, models: SEED_MODELS, networks, devices, draws, memoryMB: SEED_CLOUD_MEMORY_MB, cloudProfiles };
  const cells = runSeedExperiment(common);
  const summary = summarize(cells);
  const whatIf = WHAT_IF_SPEEDUPS.map((speedup) => ({ speedup, summary: summarize(runSeedExperiment({ ...common, lambdaSpeedup: speedup })) }));
  const outDir = opts.outDir ?? fileURLToPath(new URL('../docs/', import.meta.url));
  await mkdir(outDir, { recursive: true });
  const markdownPath = join(outDir, 'seed.md');
  const svgPath = join(outDir, 'seed.svg');
  await writeFile(svgPath, await chartSvg(cells));
  await writeFile(markdownPath, markdown({ cells, summary, whatIf, profiles, cloudProfiles, devices, networks, predictor, draws }));
  return { cells, summary, whatIf, markdownPath, svgPath };
}

// ---------------------------------------------------------------------------
// Markdown

interface MarkdownInput {
  cells: SeedCell[];
  summary: GainSummary[];
  whatIf: { speedup: number; summary: GainSummary[] }[];
  profiles: ModelProfile[];
  /** The tails' profiles on the 2-thread engine. */
  cloudProfiles: ModelProfile[];
  devices: DeviceProfile[];
  networks: NetworkPreset[];
  predictor: ReturnType<typeof predictorFromProfiles>;
  draws: number;
}

function find(summary: readonly GainSummary[], fleet: string, objective: string, baseline: Baseline): GainSummary {
  return summary.find((s) => s.fleet === fleet && s.objective === objective && s.baseline === baseline)!;
}

function headlineTable(summary: readonly GainSummary[]): string {
  const lines = [
    '| baseline | fleet | speedup avg | speedup max (where) | energy reduction avg | energy reduction max (where) |',
    '|---|---|---:|---|---:|---|',
  ];
  for (const baseline of BASELINES) {
    for (const fleet of ['warm', 'contended'] as const) {
      const l = find(summary, fleet, 'latency', baseline);
      const e = find(summary, fleet, 'energy', baseline);
      lines.push(`| ${BASELINE_LABEL[baseline]} | ${fleet} | ${f2(l.average)}× | ${f2(l.max)}× (${l.maxAt}) | ${f2(e.average)}× | ${f2(e.max)}× (${e.maxAt}) |`);
    }
  }
  return lines.join('\n');
}

/** Mean over the contended draws of one grid point. */
function contendedMean(cells: readonly SeedCell[], point: (c: SeedCell) => boolean, f: (c: SeedCell) => number): number {
  const xs = cells.filter((c) => c.fleet === 'contended' && point(c)).map(f);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function cellTable(cells: readonly SeedCell[], objective: 'latency' | 'energy'): string {
  const unit = objective === 'latency' ? 'ms' : 'J';
  const v = (o: { latencyMs: number; energyJ: number }): string => (objective === 'latency' ? ms(o.latencyMs) : joules(o.energyJ));
  const lines = [
    `| model | network | device | L | chosen cut (warm) | chosen, ${unit} | device-only, ${unit} | cloud-only, ${unit} | ×status quo (warm) | contended: chosen, ${unit} | ×status quo | ×Neurosurgeon-style | ×cloud-only | NS cut throttled / cold |`,
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of cells.filter((x) => x.fleet === 'warm' && x.objective === objective)) {
    const same = (x: SeedCell) => x.model === c.model && x.network === c.network && x.device === c.device && x.objective === objective;
    const chosenC = contendedMean(cells, same, (x) => (objective === 'latency' ? x.optimal.latencyMs : x.optimal.energyJ));
    const sq = contendedMean(cells, same, (x) => gain(x, 'statusQuo'));
    const ns = contendedMean(cells, same, (x) => gain(x, 'neurosurgeon'));
    const co = contendedMean(cells, same, (x) => gain(x, 'cloudOnly'));
    const contended = cells.filter((x) => x.fleet === 'contended' && same(x));
    const nsThrottled = contended.filter((x) => x.neurosurgeon.throttled).length;
    const nsCold = contended.filter((x) => x.neurosurgeon.cold).length;
    const cut = c.optimal.cut === c.L ? `${c.L} (device)` : c.optimal.cut === 0 ? '0 (cloud)' : String(c.optimal.cut);
    lines.push(
      `| ${c.model} | ${c.network} | ${c.device} | ${c.L} | ${cut} | ${v(c.optimal)} | ${v(c.deviceOnly)} | ${v(c.cloudOnly)} | ${f2(gain(c, 'statusQuo'))} | ` +
        `${objective === 'latency' ? ms(chosenC) : joules(chosenC)} | ${f2(sq)} | ${f2(ns)} | ${f2(co)} | ${nsThrottled} / ${nsCold} of ${contended.length} |`,
    );
  }
  return lines.join('\n');
}

function profilesTable(profiles: readonly ModelProfile[]): string {
  const lines = [
    '| model | layers | candidates | whole model, ms | Σ isolated layers, ms | ratio | measured | load avg |',
    '|---|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const p of profiles.filter((x) => (SEED_MODELS as readonly string[]).includes(x.model))) {
    lines.push(
      `| ${p.model} | ${p.layers.length} | ${p.candidates.length} | ${ms(p.wholeModelMs)} | ${ms(p.sumOfLayersMs)} | ${p.isolationRatio.toFixed(3)} | ${p.date.slice(0, 16)} | ${p.machine.loadAverage} |`,
    );
  }
  const m = profiles[0]!.machine;
  lines.push('', `Machine: ${machineOf(profiles)}, ${m.cores} cores, ${m.platform}, Node ${m.node}, tfjs ${m.tfjs}, backend wasm, clock ${profiles[0]!.clock}.`);
  return lines.join('\n');
}

/**
 * The machine (or machines) the profiles were measured on and when: the docs' figures are that machine's, and
 * profiles from two machines (an AMD EPYC until 2026-11-30, an Intel Xeon since) must not pass for one.
 */
export function machineOf(profiles: readonly Pick<ModelProfile, 'machine' | 'date'>[]): string {
  // 'Intel(R) Xeon(R) Processor' reads 'Intel Xeon'
  const names = [...new Set(profiles.map((p) => p.machine.cpuModel.replace(/\((R|TM)\)/gi, '').replace(/\s+(Processor|CPU)\b.*$/i, '').replace(/\s+/g, ' ').trim()))];
  const days = [...new Set(profiles.map((p) => p.date.slice(0, 10)))].sort();
  return `${names.join(' and ')} (measured ${days.length === 1 ? days[0] : `${days[0]} to ${days.at(-1)}`})`;
}

function devicesTable(input: MarkdownInput): string {
  const lines = [
    '| device | GMAC/s (dense conv) | memory GB/s | computeW | idleW | predicted whole model, ms (alexnet / vgg16 / resnet50 / googlenet / mobilenetv2) |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const d of input.devices) {
    const totals = SEED_MODELS.map((m) => {
      const p = input.profiles.find((x) => x.model === m)!;
      return ms(deviceLayerMs(p, d, input.predictor).reduce((a, b) => a + b, 0));
    });
    lines.push(`| ${d.name} | ${f2(d.gmacPerSecond)} | ${d.memGBps} | ${d.computeW} | ${d.idleW} | ${totals.join(' / ')} |`);
  }
  const cloud = SEED_MODELS.map((m) => ms(input.cloudProfiles.find((x) => x.model === m)!.wholeModelWallMs));
  lines.push(
    `| cloud (Lambda ${SEED_CLOUD_MEMORY_MB} MB = 2 vCPUs, wasm threads, measured here with 2) | – | – | – | – | ${cloud.join(' / ')} (whole-model runs) |`,
  );
  return lines.join('\n');
}

/** Facts for the comparison with the paper, computed from the grid (so the prose cannot drift from the numbers). */
function differences(input: MarkdownInput): string {
  const { cells, profiles, cloudProfiles, devices, predictor, networks } = input;
  const warm = cells.filter((c) => c.fleet === 'warm');
  const where = (objective: string) => {
    const g = warm.filter((c) => c.objective === objective);
    const device = g.filter((c) => c.optimal.cut === c.L).length;
    const cloud = g.filter((c) => c.optimal.cut === 0).length;
    return { device, cloud, between: g.length - device - cloud, total: g.length };
  };
  const wl = where('latency');
  const we = where('energy');
  const speed = devices.map((d) => {
    const ratios = SEED_MODELS.map((m) => {
      const p = profiles.find((x) => x.model === m)!;
      return deviceLayerMs(p, d, predictor).reduce((a, b) => a + b, 0) / cloudProfiles.find((x) => x.model === m)!.sumOfLayersMs;
    });
    return `${d.name} ${f2(Math.min(...ratios))}–${f2(Math.max(...ratios))}×`;
  });
  const radio = networks
    .map((n) => `${n.name} ${((n.radio.alphaUp * n.uplinkMbps + n.radio.beta) / 1000).toFixed(2)} W`)
    .join(', ');
  const power = devices.map((d) => `${d.name} ${d.computeW} W`).join(', ');
  const input0 = profiles[0]!.inputBytes;
  return [
    `- **Where the optimum sits.** With every function warm the latency optimum is device-only at ${wl.device}, cloud-only at ${wl.cloud} and an intermediate cut at ${wl.between} of ${wl.total} grid points; the energy optimum ${we.device} / ${we.cloud} / ${we.between}. Against "the better of device-only and cloud-only" there is therefore little left to gain: a gain over the status quo can only come from an intermediate cut.`,
    `- **The cloud here is slow.** Our cloud is a ${SEED_CLOUD_MEMORY_MB} MB Lambda (2 vCPUs) running tfjs on WebAssembly with XNNPACK threads, measured with 2 threads on the 2 cores of an ${machineOf(cloudProfiles)}: VGG16 ${ms(cloudProfiles.find((p) => p.model === 'vgg16')!.sumOfLayersMs)} ms and MobileNetV2 ${ms(cloudProfiles.find((p) => p.model === 'mobilenetv2')!.sumOfLayersMs)} ms as sums of layers. Device time over cloud time for the whole model, across the five models: ${speed.join('; ')} (below 1: the device is faster). The paper's cloud is a server GPU, far faster than its phone. Where the device is faster than the cloud, a tail saves no compute time and every cut pays the upload; where it is slower, sending the raw input (cloud-only) beats an intermediate cut, because the early activations are larger than the input and the late cuts leave the cloud little to do. The what-if table below shows how the picture moves with a faster cloud.`,
    `- **Sending is expensive in energy.** With the Huang et al. defaults the radio draws, while uploading at the preset uplink rates, ${radio}, against a compute power of ${power} (assumed figures). Sending the ${(input0 / 1024).toFixed(0)} KiB input, or an intermediate activation (usually larger), costs more device energy than computing most of these models locally. The energy optimum offloads only at: ${warm.filter((c) => c.objective === 'energy' && c.optimal.cut < c.L).map((c) => `${c.model} ${c.network} ${c.device} (cut ${c.optimal.cut})`).join('; ') || 'no grid point'}.`,
    `- **Profiles and hardware differ.** Device times are MEASURED layer times of an ${machineOf(profiles)} scaled to published phone figures by the per-layer predictor (docs/profiles.md), including the assumption that a native mobile runtime folds batch norm, activations and padding into the convolutions; the paper used its own profiles. Device power figures are assumptions (core/presets.ts); cold-start parameters are a local calibration (${CLOUD_DEFAULTS.coldBaseMs} ms + ${CLOUD_DEFAULTS.coldMsPerMB} ms/MiB, measured by bench/cold-start.ts on the local stack, not on Lambda).`,
    `- **Cold starts and concurrency** are not in the paper's model. In the contended fleet they make cloud cuts worse (a cold tail loads its weights: ~${Math.round(profiles.find((p) => p.model === 'vgg16')!.candidates[0]!.tailWeightBytes / 2 ** 20)} MiB for all of VGG16) or unusable (throttled), which is where the planner gains over cloud-only and over a fleet-blind (Neurosurgeon-style) choice.`,
    `- **The paper's baseline** for its averages is not recorded in our reference facts; we compare with our status quo (the better of device-only and cloud-only), the closest reading.`,
  ].join('\n');
}

function markdown(input: MarkdownInput): string {
  const { summary, whatIf, cells, networks } = input;
  const sqL = find(summary, 'warm', 'latency', 'statusQuo');
  const sqE = find(summary, 'warm', 'energy', 'statusQuo');
  const sqLc = find(summary, 'contended', 'latency', 'statusQuo');
  const sqEc = find(summary, 'contended', 'energy', 'statusQuo');
  const nsL = find(summary, 'contended', 'latency', 'neurosurgeon');
  const nsE = find(summary, 'contended', 'energy', 'neurosurgeon');
  const offloadedL = cells.filter((c) => c.fleet === 'warm' && c.objective === 'latency' && c.optimal.cut < c.L).length;
  const offloadedE = cells.filter((c) => c.fleet === 'warm' && c.objective === 'energy' && c.optimal.cut < c.L).length;
  const points = cells.filter((c) => c.fleet === 'warm' && c.objective === 'latency').length;
  const loo = leaveOneModelOut(
    input.profiles.map((p) => ({ name: p.model, layers: p.layers })),
    input.predictor.host.memGBps,
  );
  const validation = input.devices
    .filter((d) => d.validation)
    .map((d) => {
      const p = input.profiles.find((x) => x.model === d.validation!.model)!;
      const predicted = p.layers.reduce((s, l) => s + predictLayerMs(input.predictor, l, d), 0);
      return `${d.name}: predicted ${ms(predicted)} ms vs published ${ms(d.validation!.ms)} ms`;
    });
  const wi = whatIf
    .map((w) => {
      const l = find(w.summary, 'warm', 'latency', 'statusQuo');
      const e = find(w.summary, 'warm', 'energy', 'statusQuo');
      const lc = find(w.summary, 'contended', 'latency', 'neurosurgeon');
      return `| ${w.speedup}× | ${f2(l.average)}× / ${f2(l.max)}× | ${f2(e.average)}× / ${f2(e.max)}× | ${f2(lc.average)}× / ${f2(lc.max)}× |`;
    })
    .join('\n');

  return `# The seed experiment, reproduced

Generated by \`npm run bench:seed\` from the committed
profiles; do not edit by hand. Chart: [seed.svg](seed.svg).

The seed paper (Eshratifar & Pedram, GLSVLSI 2018, in simulation) reports
**${PAPER.speedupAvg}× average / ${PAPER.speedupMax}× max speedup** and **${PAPER.energyAvg}× average / ${PAPER.energyMax}× max
mobile-energy reduction** from choosing the cut optimally. Here the same kind of
grid runs through our planner (spec cost model) with our profiles:
${SEED_MODELS.length} models × ${networks.length} networks (${networks.map((n) => n.name).join(', ')}) × ${input.devices.length} device classes
(${input.devices.map((d) => d.name).join(', ')}), objectives latency and energy.

## Headline

Gain of the planner's choice over each baseline: a ratio baseline / chosen
(latency for the latency objective, device energy for the energy objective),
averaged over the ${points} grid points (contended points are first averaged over
their ${input.draws} fleet draws); max over grid points.

${headlineTable(summary)}

- Against the status quo with every function warm (the paper's setting):
  **${f2(sqL.average)}× average / ${f2(sqL.max)}× max speedup** and **${f2(sqE.average)}× / ${f2(sqE.max)}× energy
  reduction**, against the paper's ${PAPER.speedupAvg}× / ${PAPER.speedupMax}× and ${PAPER.energyAvg}× / ${PAPER.energyMax}×.
  With a contended fleet: ${f2(sqLc.average)}× / ${f2(sqLc.max)}× and ${f2(sqEc.average)}× / ${f2(sqEc.max)}×.
- The planner offloads (cut < L) at ${offloadedL} of ${points} grid points for latency and
  ${offloadedE} of ${points} for energy with a warm fleet.
- Against a Neurosurgeon-style planner (the best single cut computed as if every
  function were warm and unthrottled, then served by the real fleet) under the
  contended fleet: **${f2(nsL.average)}× average / ${f2(nsL.max)}× max speedup**, **${f2(nsE.average)}× / ${f2(nsE.max)}× energy
  reduction**. With a warm fleet the two coincide (1.00×) by construction.

## Where our numbers differ from the paper's, and why

${differences(input)}

What-if (ASSUMED, not measured): a cloud k× faster than the measured 2-thread wasm tail
(e.g. a native backend, or more threads on a larger Lambda):

| cloud speed-up | speedup vs status quo (warm) avg / max | energy reduction vs status quo (warm) avg / max | speedup vs Neurosurgeon-style (contended) avg / max |
|---|---|---|---|
${wi}

## Per grid point: latency objective

Chosen cut and figures with every function warm; then the means over ${input.draws}
contended fleets. "NS cut throttled / cold" counts the draws in which the
Neurosurgeon-style cut's function was at its limit or cold.

${cellTable(cells, 'latency')}

## Per grid point: energy objective (device energy, J)

${cellTable(cells, 'energy')}

## Profiles and assumptions used

Model profiles (\`profiles/<model>.wasm.json\`, made by \`offload profile MODEL\`; the device side):

${profilesTable(input.profiles)}

Tail profiles on the 2-thread engine (\`bench/results/quiet-profiles/<model>.wasm.t2.json\`, made on a quiet
machine by \`offload profile MODEL --threads 2 --clock wall\`; the cloud side):

${profilesTable(input.cloudProfiles)}

Devices (core/profiles.ts DEVICE_PROFILES; sources in docs/profiles.md) and the cloud;
predicted whole-model times are the sums of the per-layer device times the planner uses:

${devicesTable(input)}

Predictor check: held out per model (fit on the other four), median relative
error per layer ${(loo.all.medianRelError * 100).toFixed(0)} %, p90 ${(loo.all.p90RelError * 100).toFixed(0)} %; against published MobileNetV2
latencies that were not used to calibrate: ${validation.join('; ')}.

Networks (core/presets.ts):

| network | uplink Mbit/s | downlink Mbit/s | RTT ms | radio αup / αdown / β (mW) |
|---|---:|---:|---:|---|
${networks.map((n) => `| ${n.name} | ${n.uplinkMbps} | ${n.downlinkMbps} | ${n.rttMs} | ${n.radio.alphaUp} / ${n.radio.alphaDown} / ${n.radio.beta} |`).join('\n')}

Cloud: tails at ${SEED_CLOUD_MEMORY_MB} MB (${f2(SEED_CLOUD_MEMORY_MB / MB_PER_VCPU)} vCPUs; the function sees ${tailWasmThreads(SEED_CLOUD_MEMORY_MB)} cores and runs as many wasm threads), per-layer
times = the 2-thread tail profiles above (core/profiles.ts cloudLayerMs: with 2 vCPUs of CPU time they apply as measured), priced at ${SEED_CLOUD_MEMORY_MB} MB; cold start ${CLOUD_DEFAULTS.coldBaseMs} ms + ${CLOUD_DEFAULTS.coldMsPerMB} ms per MiB of tail weights
(measured on the local stack by bench/cold-start.ts, core/presets.ts); float32 crossings; payload limit 6 MiB after
base64 (docs/cost-model.md §4), which rules out the early cuts of VGG16 and AlexNet.

Fleets: *warm* — every candidate cut has a deployed tail with an idle instance
and a limit of 1,000. *Contended* — each candidate's tail independently warm
(${DEFAULT_CONTENTION.pWarm * 100} %), cold (${DEFAULT_CONTENTION.pCold * 100} %) or at its reserved concurrency of ${DEFAULT_CONTENTION.limit} (the rest),
${input.draws} seeded draws per model shared by every network, device and objective.
A policy that sends a request to a throttled function gets HTTP 429 after one
round trip and finishes the tail on the device (core/seed-experiment.ts
\`outcomeOf\`); the planner never does, it reads the fleet state.
`;
}

// ---------------------------------------------------------------------------
// Chart

async function chartSvg(cells: readonly SeedCell[]): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const rows: { model: string; network: string; device: string; comparison: string; gain: number }[] = [];
  const points = cells.filter((c) => c.fleet === 'warm');
  for (const c of points) {
    const same = (x: SeedCell) => x.model === c.model && x.network === c.network && x.device === c.device && x.objective === c.objective;
    const metric = c.objective === 'latency' ? 'speedup' : 'energy reduction';
    rows.push({ model: c.model, network: c.network, device: c.device, comparison: `${metric} vs status quo (warm)`, gain: gain(c, 'statusQuo') });
    rows.push({
      model: c.model,
      network: c.network,
      device: c.device,
      comparison: `${metric} vs Neurosurgeon-style (contended)`,
      gain: contendedMean(cells, same, (x) => gain(x, 'neurosurgeon')),
    });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Planner gain over baselines (ratio baseline / chosen; 1 = no gain)',
    data: { values: rows },
    mark: 'bar',
    encoding: {
      row: { field: 'device', type: 'nominal', title: null },
      column: {
        field: 'comparison',
        type: 'nominal',
        title: null,
        header: { labelLimit: 0, labelFontSize: 10, labelExpr: "split(datum.label, ' vs ')" },
        sort: [
          'speedup vs status quo (warm)',
          'speedup vs Neurosurgeon-style (contended)',
          'energy reduction vs status quo (warm)',
          'energy reduction vs Neurosurgeon-style (contended)',
        ],
      },
      x: { field: 'model', type: 'nominal', title: null, sort: [...SEED_MODELS] },
      xOffset: { field: 'network', type: 'nominal', sort: ['3g', '4g', 'wifi'] },
      // Bars on a log axis need an explicit base: they rise from 1 (no gain), not from 0.
      y: { field: 'gain', type: 'quantitative', title: 'gain (×, log)', scale: { type: 'log', domainMin: 1 } },
      y2: { datum: 1 },
      color: { field: 'network', type: 'nominal', sort: ['3g', '4g', 'wifi'] },
      tooltip: [{ field: 'gain', format: '.2f' }],
    },
    width: 180,
    height: 160,
  };
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  return view.toSVG();
}

// ---------------------------------------------------------------------------

/** `--draws`: a positive integer, else a usage error naming the flag. */
function parseDraws(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--draws must be a positive integer (got "${value}")`);
  return n;
}

class UsageError extends Error {}

/** The command line: `[--draws N] [--out DIR] [--json]`; prints the headline figures (or them as JSON). */
async function main(argv: string[]): Promise<number> {
  let values: { draws?: string; out?: string; json?: boolean };
  let draws: number | undefined;
  try {
    ({ values } = parseArgs({ args: argv, options: { draws: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } } }));
    draws = parseDraws(values.draws);
  } catch (e) {
    process.stderr.write(`bench/seed: ${e instanceof Error ? e.message : String(e)} (usage: [--draws N] [--out DIR] [--json])\n`);
    return 2;
  }
  const result = await runSeedBench({ ...(draws ? { draws } : {}), ...(values.out ? { outDir: values.out } : {}) });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ paper: PAPER, summary: result.summary, whatIf: result.whatIf, files: [result.markdownPath, result.svgPath] }, null, 2)}\n`);
    return 0;
  }
  for (const s of result.summary.filter((x) => x.baseline === 'statusQuo' || x.baseline === 'neurosurgeon')) {
    process.stdout.write(
      `${s.objective === 'latency' ? 'speedup' : 'energy reduction'} vs ${s.baseline} (${s.fleet} fleet): ${f2(s.average)}× avg, ${f2(s.max)}× max (${s.maxAt})\n`,
    );
  }
  process.stdout.write(
    `paper: ${PAPER.speedupAvg}× / ${PAPER.speedupMax}× speedup, ${PAPER.energyAvg}× / ${PAPER.energyMax}× energy reduction\nwrote ${result.markdownPath} and ${result.svgPath}\n`,
  );
  return 0;
}

if (isMain(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
