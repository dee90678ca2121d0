/**
 * Cold start of each tail function against the weights it loads — the data
 * behind the cold-start model's `coldBaseMs` and `coldMsPerMB` (docs/cost-model.md §3:
 * coldStartMs = coldBaseMs + coldMsPerMB × tail weight MiB).
 *
 * Runs the local stack (default configuration: MobileNetV2 and ResNet-50, five
 * cuts each, tails of 4.9 to 97.7 MiB), and for every tail function, `repeats`
 * times: reap its environments, send the crossing tensors of its cut (cold),
 * send them again (warm). The cold start is what the device sees: cold round
 * trip − warm round trip (process start, bundle load, artifact download from
 * the S3 stand-in, model build and the warm-up inference). The least-squares
 * line through the functions' (MiB, median cold start) points gives the two
 * parameters.
 *
 * What the figures are: this machine's single-thread wasm backend with a full
 * core per environment (the emulator does not scale CPU with memory size), S3
 * on localhost. On Lambda the download is slower per MiB and a small memory
 * size slows the parse; the fit is a local calibration, not a Lambda measurement.
 *
 *   npx tsx bench/cold-start.ts [--repeats N] [--config FILE] [--models a,b] [--idle-ms MS]
 *
 * --idle-ms: the host idles this long before each cold call (default 0: right
 * after the reap). Traffic meets a cold fleet after a quiet gap, and on this
 * machine a cold start after seconds of idling is slower than one straight
 * after other work (core/sim/host.ts LOCAL_HOST).
 */
import { DeviceModel } from '../client/device';
import { fitLine, type LinearFit } from '../core/cold-fit';
import { encodeTensors } from '../core/wire';
import type { LocalTail } from '../local/stack';
import { coldThenWarm, startBenchStack } from '../testkit/bench-stack';
import { formatResults, formatTable, isMain, median, parseArgsOrExit, type BenchResult } from './report';

/** Issue 11's cold-start targets (local stack, client-visible cold − warm round trip). */
export const COLD_START_TARGETS = { coldBaseMs: 200, coldMsPerMB: 6 } as const;

/** The fit as figures against {@link COLD_START_TARGETS} (what `npm run bench` prints). */
export function coldStartResults(report: ColdStartReport): BenchResult[] {
  const f = report.fit;
  const detail = `least squares over ${f.n} tails' medians (${report.repeats} cold/warm pairs each), r² ${f.r2.toFixed(3)}, local stack`;
  return [
    { name: 'cold-start base', value: f.coldBaseMs, unit: 'ms', target: COLD_START_TARGETS.coldBaseMs, ratio: COLD_START_TARGETS.coldBaseMs / f.coldBaseMs, met: f.coldBaseMs <= COLD_START_TARGETS.coldBaseMs, detail },
    { name: 'cold-start per MiB of tail weights', value: f.coldMsPerMB, unit: 'ms/MiB', target: COLD_START_TARGETS.coldMsPerMB, ratio: COLD_START_TARGETS.coldMsPerMB / f.coldMsPerMB, met: f.coldMsPerMB <= COLD_START_TARGETS.coldMsPerMB, detail },
  ];
}

export interface ColdStartOptions {
  /** Cold/warm pairs per function (default 3). */
  repeats?: number;
  /** Local-stack configuration file (default local/offload.local.json). */
  configFile?: string;
  models?: string[];
  /** Idle time before each cold call, ms (default 0). */
  idleMs?: number;
  /** State folder of the bench's stack (default `.offload/bench`, apart from `npm start`'s). */
  stateDir?: string;
  /** Progress lines (default stderr). */
  log?: (line: string) => void;
}

/** One function's figures, medians over the repeats (ms). */
export interface ColdStartRow {
  model: string;
  cut: number;
  function: string;
  tailMiB: number;
  coldRoundTripMs: number;
  warmRoundTripMs: number;
  /** cold − warm round trip: the cold start as the device sees it. */
  coldStartMs: number;
  /** What the tail reports in `x-offload-init-ms` (and as `coldStartMs` in the registry): process start until the first invocation could start its own work. */
  tailInitMs: number;
  /** Every repeat's cold start, for the fit. */
  samples: number[];
}

export interface ColdStartReport {
  rows: ColdStartRow[];
  fit: LinearFit;
  repeats: number;
  /** Idle before each cold call, ms. */
  idleMs: number;
  /** Local stack start, ms. */
  stackStartMs: number;
}

/** Runs the benchmark; the stack is started and stopped here. */
export async function runColdStart(options: ColdStartOptions = {}): Promise<ColdStartReport> {
  const repeats = options.repeats ?? 3;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { stack, api, stackStartMs } = await startBenchStack({
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.models ? { models: options.models } : {}),
    log,
  });
  const rows: ColdStartRow[] = [];
  try {
    const byModel = new Map<string, LocalTail[]>();
    for (const t of stack.tails) byModel.set(t.model, [...(byModel.get(t.model) ?? []), t]);
    for (const [model, tails] of byModel) {
      const device = await DeviceModel.load(model);
      const x = device.randomInput(1);
      try {
        for (const tail of tails) {
          const payload = encodeTensors(await device.runHead(tail.cut, x));
          const cold: number[] = [];
          const warm: number[] = [];
          const init: number[] = [];
          for (let i = 0; i < repeats; i++) {
            const { cold: c, warm: w } = await coldThenWarm(stack, api, tail, payload, options.idleMs ?? 0).catch((e: unknown) => {
              throw new Error(`${tail.function}: ${e instanceof Error ? e.message : String(e)}`);
            });
            cold.push(c.roundTripMs);
            warm.push(w.roundTripMs);
            init.push(c.initMs ?? Number.NaN);
          }
          const samples = cold.map((c, i) => c - (warm[i] as number));
          const row: ColdStartRow = {
            model,
            cut: tail.cut,
            function: tail.function,
            tailMiB: tail.tailWeightBytes / 2 ** 20,
            coldRoundTripMs: median(cold),
            warmRoundTripMs: median(warm),
            coldStartMs: median(samples),
            tailInitMs: median(init),
            samples,
          };
          rows.push(row);
          log(`${tail.function}: ${row.tailMiB.toFixed(1)} MiB, cold start ${row.coldStartMs.toFixed(0)} ms`);
          await stack.emulator.reapIdle(tail.function); // one environment of a big tail at a time
        }
      } finally {
        x.dispose();
        device.dispose();
      }
    }
  } finally {
    await stack.close();
  }
  // one point per function (its median): a repeat slowed by a neighbour's CPU burst on this shared
  // machine moves a median little, a least-squares line over raw samples much
  const fit = fitLine(rows.map((r) => ({ x: r.tailMiB, y: r.coldStartMs })));
  return { rows, fit, repeats, idleMs: options.idleMs ?? 0, stackStartMs };
}

/** The report as text: one row per function, then the fitted line. */
export function formatColdStart(report: ColdStartReport): string {
  const table = formatTable(
    ['model', 'cut', 'tail MiB', 'cold RTT ms', 'warm RTT ms', 'cold start ms', 'tail init ms', 'fit ms'],
    report.rows.map((r) => [
      r.model,
      String(r.cut),
      r.tailMiB.toFixed(1),
      r.coldRoundTripMs.toFixed(0),
      r.warmRoundTripMs.toFixed(0),
      r.coldStartMs.toFixed(0),
      r.tailInitMs.toFixed(0),
      (report.fit.coldBaseMs + report.fit.coldMsPerMB * r.tailMiB).toFixed(0),
    ]),
  );
  const f = report.fit;
  return [
    `cold start of each tail function (median of ${report.repeats} cold/warm pairs${report.idleMs > 0 ? `, each cold call after ${report.idleMs} ms idle` : ''}; cold start = cold − warm round trip)`,
    '',
    table,
    '',
    `least squares over ${f.n} functions (medians): coldStartMs = ${f.coldBaseMs.toFixed(0)} + ${f.coldMsPerMB.toFixed(2)} × MiB   (r² = ${f.r2.toFixed(3)})`,
    `local stack start: ${(report.stackStartMs / 1000).toFixed(1)} s`,
    '',
    formatResults(coldStartResults(report), { digits: 1 }),
  ].join('\n');
}

function idleMsArg(v: string): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n >= 0)) {
    console.error(`--idle-ms must be a number of ms >= 0 (got "${v}")`);
    process.exit(2);
  }
  return n;
}

if (isMain(import.meta.url)) {
  const values = parseArgsOrExit(
    { options: { repeats: { type: 'string' }, config: { type: 'string' }, models: { type: 'string' }, 'idle-ms': { type: 'string' } } },
    'npx tsx bench/cold-start.ts [--repeats N] [--config FILE] [--models a,b] [--idle-ms MS]',
  );
  const report = await runColdStart({
    ...(values.repeats ? { repeats: Number(values.repeats) } : {}),
    ...(values.config ? { configFile: values.config } : {}),
    ...(values.models ? { models: values.models.split(',') } : {}),
    ...(values['idle-ms'] ? { idleMs: idleMsArg(values['idle-ms']) } : {}),
  });
  process.stdout.write(`${formatColdStart(report)}\n`);
  process.exit(0);
}
