/**
 * Where a client-visible cold start goes, step by step, on the local stack.
 *
 * For each chosen tail, `repeats` times: reap its environments, call it cold,
 * call it warm (as bench/cold-start.ts). The cold start is cold − warm round
 * trip as the client sees it; the tail's 'cold start timeline' log line
 * (functions/commons/tail.ts: ms since its process started, per step) and the
 * client's clock split it:
 *
 *   request → process start   HTTP API, emulator, fork + exec of the environment
 *   node bootstrap             Node's own start (performance.nodeTiming)
 *   module load                runtime harness + the handler bundle's load and evaluation
 *   registry busy mark         the first registry write (bounded), awaited before the build
 *   engine                     tfjs wasm: compile, instantiate, pthread workers (parallel with the download)
 *   model.json / weights       the S3 GETs (weights: MiB/s over the weight files)
 *   build                      tensors from the weights (tf.loadLayersModel)
 *   warm-up                    one inference on zeros (XNNPACK packs the weights on first use)
 *   first compute − warm       what the first real request still pays over a warm one
 *   after compute              idle mark, response, client read, minus the warm request's share
 *
 * Figures are medians over the repeats; the machine's load average is printed.
 *
 * --variants on,off alternates a switch of the tail, cold start by cold
 * start, so that both see the same machine; one column per variant. The
 * switch is OFFLOAD_PIPELINE by default (the tail built and warmed while its
 * weights download, or after the download as before), or the one --switch
 * names: OFFLOAD_PREFETCH (the download started by the entry on a worker
 * thread at process start, or by the handler bundle once loaded),
 * OFFLOAD_EARLY_ENGINE (the wasm engine's pthread workers started as soon as
 * the bundle has loaded, during the registry mark, or by the engine itself),
 * OFFLOAD_REGISTRY_HTTP (the registry marks as signed HTTP requests, or with
 * the SDK's DynamoDB client loaded at the first mark), OFFLOAD_HEAP_WEIGHTS
 * (a streamed tail's weights copied into the engine memory of its variables,
 * or zero-filled variables and a new tensor per weight). With the
 * pipeline on, "build" and "warm-up" are what is left of them after the last
 * byte (the rest overlaps the download); with the early download, model.json
 * is timed from the download's start.
 *
 *   npx tsx bench/cold-phases.ts [--tails mobilenetv2:0,resnet50:0] [--repeats N] [--variants on,off] [--switch OFFLOAD_PREFETCH|OFFLOAD_EARLY_ENGINE|OFFLOAD_REGISTRY_HTTP|OFFLOAD_HEAP_WEIGHTS] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DeviceModel } from '../client/device';
import { encodeTensors } from '../core/wire';
import { coldThenWarm, startBenchStack } from '../testkit/bench-stack';
import { formatTable, isMain, median, parseArgsOrExit } from './report';

/** The tail's 'cold start timeline' log line (the fields bench reads). */
interface Timeline {
  instance: string;
  processStart: number;
  nodeReady: number;
  moduleLoaded: number;
  /** When the entry started the early download (absent without one). */
  prefetchStarted?: number;
  /** Absent from tails that awaited the registry mark before init (then equal to registryMarked). */
  initStarted?: number;
  registryMarked: number;
  engineReady: number;
  modelJson: number;
  weights: number;
  built: number;
  warmedUp: number;
  invoked: number;
  computeStart: number;
  computeEnd: number;
  answered: number;
  weightBytes: number;
  weightFiles: number;
}

/** One cold/warm pair split into steps, ms. */
export interface ColdPhases {
  coldRoundTripMs: number;
  warmRoundTripMs: number;
  coldStartMs: number;
  requestToProcessMs: number;
  nodeBootstrapMs: number;
  moduleLoadMs: number;
  /** Node ready → the entry has started the early download (NaN without one). */
  prefetchStartMs: number;
  registryMarkMs: number;
  /** Module loaded → init starts (the registry mark, when init waits for it). */
  initWaitMs: number;
  engineMs: number;
  modelJsonMs: number;
  weightsMs: number;
  weightMiBPerS: number;
  /** From init start until the engine, the weights and the registry mark are all ready. */
  engineAndWeightsMs: number;
  buildMs: number;
  warmUpMs: number;
  /** Handler call → compute start of the first request, minus nothing: it waits for init. */
  invokedAtMs: number;
  firstComputeMs: number;
  warmComputeMs: number;
  /** Compute end → the client has the answer (cold request). */
  afterComputeMs: number;
  weightMiB: number;
  weightFiles: number;
}

export interface ColdPhasesRow {
  model: string;
  cut: number;
  /** OFFLOAD_PIPELINE of the tail's environments (absent: the function's own setting). */
  pipeline?: string;
  /** The switch alternated and its value in this row, when not OFFLOAD_PIPELINE (`OFFLOAD_PREFETCH=on`). */
  variant?: string;
  samples: ColdPhases[];
}

const STEPS: { key: keyof ColdPhases; label: string }[] = [
  { key: 'requestToProcessMs', label: 'request → process start (API, emulator, fork)' },
  { key: 'nodeBootstrapMs', label: 'node bootstrap' },
  { key: 'moduleLoadMs', label: 'module load (harness + bundle)' },
  { key: 'prefetchStartMs', label: '  early download started (harness + entry)' },
  { key: 'initWaitMs', label: 'module loaded → init starts' },
  { key: 'registryMarkMs', label: '  registry busy mark (from module loaded)' },
  { key: 'engineMs', label: '  engine start (parallel with download)' },
  { key: 'modelJsonMs', label: '  model.json GET' },
  { key: 'weightsMs', label: '  weight GETs' },
  { key: 'engineAndWeightsMs', label: 'engine ∥ download ∥ mark (critical path)' },
  { key: 'buildMs', label: 'model build (tensors)' },
  { key: 'warmUpMs', label: 'warm-up inference' },
  { key: 'firstComputeMs', label: 'first request compute' },
  { key: 'warmComputeMs', label: '  warm request compute' },
  { key: 'afterComputeMs', label: 'compute end → client has the answer' },
  { key: 'coldRoundTripMs', label: 'cold round trip' },
  { key: 'warmRoundTripMs', label: 'warm round trip' },
  { key: 'coldStartMs', label: 'cold start (cold − warm)' },
  { key: 'weightMiBPerS', label: 'weights MiB/s' },
];

function parseTimeline(text: string): Timeline | undefined {
  if (!text.includes('cold start timeline')) return undefined;
  try {
    return JSON.parse(text) as Timeline;
  } catch {
    return undefined;
  }
}

export async function runColdPhases(opts: {
  tails: { model: string; cut: number }[];
  repeats: number;
  /** Values of `switch` to alternate, one cold start each in turn (default: the function's own setting). */
  variants?: string[];
  /** The environment variable the variants set (default OFFLOAD_PIPELINE). */
  switch?: string;
  log?: (line: string) => void;
}): Promise<ColdPhasesRow[]> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const timelines = new Map<string, Timeline>();
  const waiters = new Map<string, (t: Timeline) => void>();
  const models = [...new Set(opts.tails.map((t) => t.model))];
  const { stack, api } = await startBenchStack({
    models,
    log,
    functionLogs: ({ text }) => {
      const t = parseTimeline(text);
      if (!t) return;
      timelines.set(t.instance, t);
      waiters.get(t.instance)?.(t);
    },
  });
  const rows: ColdPhasesRow[] = [];
  try {
    for (const want of opts.tails) {
      const tail = stack.tails.find((t) => t.model === want.model && t.cut === want.cut);
      if (!tail) throw new Error(`no deployed tail ${want.model} cut ${want.cut} (deployed: ${stack.tails.map((t) => `${t.model}:${t.cut}`).join(', ')})`);
      const device = await DeviceModel.load(want.model);
      const x = device.randomInput(1);
      const payload = encodeTensors(await device.runHead(tail.cut, x));
      x.dispose();
      device.dispose();
      const variants: (string | undefined)[] = opts.variants?.length ? opts.variants : [undefined];
      const samplesOf = new Map(variants.map((v) => [v, [] as ColdPhases[]]));
      for (let i = 0; i < opts.repeats * variants.length; i++) {
        const variant = variants[i % variants.length];
        const samples = samplesOf.get(variant)!;
        if (variant !== undefined) stack.emulator.setFunctionEnvironment(tail.function, { [opts.switch ?? 'OFFLOAD_PIPELINE']: variant });
        await stack.emulator.reapIdle(tail.function);
        const sentAt = performance.timeOrigin + performance.now();
        const { cold, warm } = await coldThenWarm(stack, api, tail, payload);
        const receivedAt = sentAt + cold.roundTripMs;
        const instance = cold.instance ?? '';
        const t =
          timelines.get(instance) ??
          (await new Promise<Timeline>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no cold start timeline logged by ${instance}`)), 5_000);
            waiters.set(instance, (tl) => (clearTimeout(timer), resolve(tl)));
          }));
        const initStarted = t.initStarted ?? t.registryMarked;
        const ready = Math.max(t.engineReady, t.weights, t.registryMarked);
        const weightMiB = t.weightBytes / 2 ** 20;
        samples.push({
          coldRoundTripMs: cold.roundTripMs,
          warmRoundTripMs: warm.roundTripMs,
          coldStartMs: cold.roundTripMs - warm.roundTripMs,
          requestToProcessMs: t.processStart - sentAt,
          nodeBootstrapMs: t.nodeReady,
          moduleLoadMs: t.moduleLoaded - t.nodeReady,
          prefetchStartMs: t.prefetchStarted === undefined ? Number.NaN : t.prefetchStarted - t.nodeReady,
          registryMarkMs: t.registryMarked - t.moduleLoaded,
          initWaitMs: initStarted - t.moduleLoaded,
          engineMs: t.engineReady - initStarted,
          modelJsonMs: t.modelJson - (t.prefetchStarted ?? initStarted),
          weightsMs: t.weights - t.modelJson,
          weightMiBPerS: weightMiB / ((t.weights - t.modelJson) / 1000),
          engineAndWeightsMs: ready - initStarted,
          buildMs: t.built - ready,
          warmUpMs: t.warmedUp - t.built,
          invokedAtMs: t.invoked,
          firstComputeMs: t.computeEnd - t.computeStart,
          warmComputeMs: warm.computeMs ?? Number.NaN,
          afterComputeMs: receivedAt - (t.processStart + t.computeEnd),
          weightMiB,
          weightFiles: t.weightFiles,
        });
        log(`${tail.function}${variant === undefined ? '' : ` (${opts.switch ?? 'OFFLOAD_PIPELINE'}=${variant})`} #${samples.length}: cold ${cold.roundTripMs.toFixed(0)} ms, warm ${warm.roundTripMs.toFixed(0)} ms`);
      }
      await stack.emulator.reapIdle(tail.function);
      for (const [variant, samples] of samplesOf) {
        const which = variant === undefined ? {} : opts.switch && opts.switch !== 'OFFLOAD_PIPELINE' ? { variant: `${opts.switch}=${variant}` } : { pipeline: variant };
        rows.push({ model: want.model, cut: want.cut, ...which, samples });
      }
    }
  } finally {
    await stack.close();
  }
  return rows;
}

export function formatColdPhases(rows: readonly ColdPhasesRow[]): string {
  const med = (r: ColdPhasesRow, k: keyof ColdPhases) => median(r.samples.map((s) => s[k]));
  const head = ['step (ms, median)', ...rows.map((r) => `${r.model} ${r.cut}${r.pipeline === undefined ? '' : ` pipeline ${r.pipeline}`}${r.variant === undefined ? '' : ` ${r.variant}`} (${med(r, 'weightMiB').toFixed(1)} MiB, ${med(r, 'weightFiles')} files)`)];
  const body = STEPS.map(({ key, label }) => [label, ...rows.map((r) => { const v = med(r, key); return Number.isFinite(v) ? v.toFixed(0) : '—'; })]);
  return formatTable(head, body);
}

if (isMain(import.meta.url)) {
  const values = parseArgsOrExit(
    { options: { tails: { type: 'string' }, repeats: { type: 'string' }, variants: { type: 'string' }, switch: { type: 'string' }, json: { type: 'string' } } },
    'npx tsx bench/cold-phases.ts [--tails mobilenetv2:0,resnet50:0] [--repeats N] [--variants on,off] [--switch OFFLOAD_PREFETCH|OFFLOAD_EARLY_ENGINE|OFFLOAD_REGISTRY_HTTP|OFFLOAD_HEAP_WEIGHTS] [--json FILE]',
  );
  const tails = (values.tails ?? 'mobilenetv2:0,resnet50:0').split(',').map((s) => {
    const [model, cut] = s.split(':');
    if (!model || cut === undefined || !/^\d+$/.test(cut)) {
      process.stderr.write(`cold-phases: --tails takes model:cut[,model:cut…] (got "${s}")\n`);
      process.exit(2);
    }
    return { model, cut: Number(cut) };
  });
  const repeats = Number(values.repeats ?? 5);
  const before = loadavg()[0] ?? Number.NaN;
  const variants = values.variants?.split(',').map((v) => v.trim());
  if (variants?.some((v) => v !== 'on' && v !== 'off')) {
    process.stderr.write(`cold-phases: --variants takes on and/or off, comma-separated (got "${values.variants}")\n`);
    process.exit(2);
  }
  const SWITCHES = ['OFFLOAD_PIPELINE', 'OFFLOAD_PREFETCH', 'OFFLOAD_EARLY_ENGINE', 'OFFLOAD_REGISTRY_HTTP', 'OFFLOAD_HEAP_WEIGHTS'];
  if (values.switch !== undefined && !SWITCHES.includes(values.switch)) {
    process.stderr.write(`cold-phases: --switch takes ${SWITCHES.join(' or ')} (got "${values.switch}")\n`);
    process.exit(2);
  }
  const rows = await runColdPhases({ tails, repeats, ...(variants ? { variants } : {}), ...(values.switch ? { switch: values.switch } : {}) });
  const after = loadavg()[0] ?? Number.NaN;
  process.stdout.write(`${formatColdPhases(rows)}\n\nmedian of ${repeats} cold/warm pairs; load average ${before.toFixed(2)} → ${after.toFixed(2)}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
  process.exit(0);
}
