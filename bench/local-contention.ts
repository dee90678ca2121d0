/**
 * Why does a tail on the local stack take longer than its profile in a burst?
 * Times a warm cut-0 MobileNetV2 request alone and under a burst of k
 * concurrent requests (k = 1 … 5), each on its own warm environment, and
 * splits what the client sees into the tail's own compute
 * (`x-offload-compute-ms`) and the rest (HTTP API, base64 event, the
 * emulator's IPC, wire decode and encode in the handler, the answer back).
 * Then the same for k concurrent cold starts (`x-offload-init-ms`), once all
 * environments were reaped. The host's CPU busy share during each phase comes
 * from os.cpus(). Feeds the host model of the simulator (core/sim/host.ts).
 *
 * Usage (bounded; starts its own local stack on an
 * ephemeral port, and stops it; about 3 minutes with the defaults):
 *   npx tsx bench/local-contention.ts [--max-k 5] [--rounds 6] [--cold-rounds 3] [--threads N] [--json FILE]
 * --threads: the tails' wasm threads (default: what 1,769 MB gets, 2).
 *
 * The host model's tables from several runs' JSON (no stack started):
 *   npx tsx bench/local-contention.ts --pool a.json,b.json,c.json
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffloadApi } from '../client/api';
import { DeviceModel } from '../client/device';
import { inferRoute } from '../core/catalog';
import { tailWasmThreads } from '../core/profiles';
import { encodeTensors } from '../core/wire';
import { startOffloadLocal, type OffloadLocalProcess } from '../testkit/node-process';
import { argValue, isMain, median } from './report';

const MODEL = 'mobilenetv2';
/** Environments are reaped this long after their last request; the cold phases wait it out (plus the shutdown grace). */
const KEEP_ALIVE_MS = 3000;
/** local/offload.local.json's tail memory size (the emulator gives it no CPU, only the thread count it implies). */
const TAIL_MEMORY_MB = 1769;
const REAP_WAIT_MS = KEEP_ALIVE_MS + 2000 + 1500;

interface Sample {
  k: number;
  cold: boolean;
  roundTripMs: number;
  computeMs: number;
  initMs: number | null;
}

function cpuBusy(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Coefficient of variation (population σ over the mean); NaN below 2 values. */
function cv(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) / mean;
}

/** What --json writes, the parts {@link poolRuns} reads. */
export interface ContentionRun {
  date: string;
  loadAverage: { start: number[]; end: number[] };
  samples: Sample[];
}

/**
 * The host model's figures (core/sim/host.ts) from several runs: every sample of
 * the runs pooled, the medians per k over the pooled lone median (a lone median
 * of one run's 6–10 requests moves by ±20 % between runs; the pooled one less).
 * Spreads: the median over runs and k of the coefficient of variation among one
 * run's requests at one k (the sharing apart).
 */
export function poolRuns(runs: readonly ContentionRun[]): {
  computeSlowdown: number[];
  initSlowdown: number[];
  loneComputeMs: number;
  loneInitMs: number;
  invokeOverheadMs: number;
  overheadMsByK: number[];
  tailCv: number;
  coldCv: number;
} {
  const all = runs.flatMap((r) => r.samples);
  const ks = [...new Set(all.map((s) => s.k))].sort((a, b) => a - b);
  const warm = (k: number, from = all) => from.filter((s) => s.k === k && !s.cold);
  const inits = (k: number, from = all) => from.filter((s) => s.k === k && s.cold && s.initMs !== null).map((s) => s.initMs!);
  const loneComputeMs = median(warm(1).map((s) => s.computeMs));
  const loneInitMs = median(inits(1));
  const cvs = (f: (k: number, from: Sample[]) => number[]) => median(runs.flatMap((r) => ks.map((k) => cv(f(k, r.samples))).filter(Number.isFinite)));
  return {
    computeSlowdown: ks.map((k) => (k === 1 ? 1 : median(warm(k).map((s) => s.computeMs)) / loneComputeMs)),
    initSlowdown: ks.map((k) => (k === 1 ? 1 : median(inits(k)) / loneInitMs)),
    loneComputeMs,
    loneInitMs,
    invokeOverheadMs: median(warm(1).map((s) => s.roundTripMs - s.computeMs)),
    overheadMsByK: ks.map((k) => median(warm(k).map((s) => s.roundTripMs - s.computeMs))),
    tailCv: cvs((k, from) => warm(k, from).map((s) => s.computeMs)),
    coldCv: cvs((k, from) => inits(k, from)),
  };
}

async function main(): Promise<void> {
  const pool = argValue('--pool');
  if (pool) {
    const runs = pool.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')) as ContentionRun);
    const p = poolRuns(runs);
    const r2 = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    console.log(`${runs.length} runs (${runs.map((r) => `${r.date.slice(11, 16)} UTC load ${r.loadAverage.start[0]} → ${r.loadAverage.end[0]}`).join('; ')})`);
    console.log(`computeSlowdown [${r2(p.computeSlowdown)}] over a lone ${p.loneComputeMs.toFixed(1)} ms`);
    console.log(`initSlowdown    [${r2(p.initSlowdown)}] over a lone ${p.loneInitMs.toFixed(0)} ms`);
    console.log(`invokeOverheadMs ${p.invokeOverheadMs.toFixed(0)} (by k: ${p.overheadMsByK.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`spread: tailCv ${p.tailCv.toFixed(2)}, coldCv ${p.coldCv.toFixed(2)}`);
    return;
  }
  const maxK = Number(argValue('--max-k') ?? 5);
  const rounds = Number(argValue('--rounds') ?? 6);
  const coldRounds = Number(argValue('--cold-rounds') ?? 3);
  const threadsArg = argValue('--threads');
  const threads = tailWasmThreads(TAIL_MEMORY_MB, threadsArg === undefined ? undefined : Number(threadsArg));
  const dir = mkdtempSync(join(tmpdir(), 'local-contention-'));
  const local = JSON.parse(readFileSync('local/offload.local.json', 'utf8')) as Record<string, unknown>;
  const config = join(dir, 'offload.config.json');
  writeFileSync(
    config,
    JSON.stringify({ ...local, tail: { ...(local.tail as object), memoryMB: TAIL_MEMORY_MB, reservedConcurrency: maxK + 1, wasmThreads: threads }, models: { [MODEL]: { cuts: [0] } } }, null, 2),
  );
  const device = await DeviceModel.load(MODEL);
  const input = device.randomInput(7);
  const payload = encodeTensors(await device.runHead(0, input), 'float32');
  input.dispose();
  device.dispose();
  const route = inferRoute(MODEL, 0);

  let stack: OffloadLocalProcess | undefined;
  const samples: Sample[] = [];
  const phases: { k: number; cold: boolean; cpuBusyShare: number; wallMs: number }[] = [];
  const load0 = loadavg();
  try {
    stack = await startOffloadLocal(
      ['--config', config, '--models', MODEL, '--port', '0', '--keep-alive-ms', String(KEEP_ALIVE_MS), '--state-dir', join(dir, 'state'), '--json', '--quiet'],
      { echoStderr: true },
    );
    const api = new OffloadApi({ baseUrl: stack.url, timeoutMs: 120_000 });
    const burst = async (k: number): Promise<Sample[]> => {
      const res = await Promise.all(Array.from({ length: k }, () => api.infer(route, payload)));
      return res.map((r) => ({ k, cold: r.cold, roundTripMs: r.roundTripMs, computeMs: r.computeMs ?? NaN, initMs: r.initMs }));
    };
    const phase = async (k: number, cold: boolean, run: () => Promise<void>) => {
      const c0 = cpuBusy();
      const t0 = performance.now();
      await run();
      const c1 = cpuBusy();
      phases.push({ k, cold, cpuBusyShare: (c1.busy - c0.busy) / (c1.total - c0.total), wallMs: performance.now() - t0 });
    };
    for (let k = 1; k <= maxK; k++) {
      for (let r = 0; r < coldRounds; r++) {
        await sleep(REAP_WAIT_MS); // every environment reaped: the next burst starts k cold
        await phase(k, true, async () => {
          samples.push(...(await burst(k)));
        });
      }
      await phase(k, false, async () => {
        for (let r = 0; r < rounds; r++) samples.push(...(await burst(k)));
      });
      console.error(`k=${k} done`);
    }
  } finally {
    if (stack) await stack.close();
  }

  const rows = [];
  for (let k = 1; k <= maxK; k++) {
    const warm = samples.filter((s) => s.k === k && !s.cold);
    const cold = samples.filter((s) => s.k === k && s.cold);
    const overhead = warm.map((s) => s.roundTripMs - s.computeMs);
    rows.push({
      k,
      warm: {
        n: warm.length,
        roundTripMs: median(warm.map((s) => s.roundTripMs)),
        computeMs: median(warm.map((s) => s.computeMs)),
        overheadMs: median(overhead),
        /** Spread at a fixed k: what the simulator's jitter stands for (core/sim/jitter.ts), the sharing apart. */
        computeCv: cv(warm.map((s) => s.computeMs)),
        cpuBusyShare: phases.find((p) => p.k === k && !p.cold)!.cpuBusyShare,
      },
      cold: {
        n: cold.length,
        roundTripMs: median(cold.map((s) => s.roundTripMs)),
        initMs: median(cold.filter((s) => s.initMs !== null).map((s) => s.initMs!)),
        computeMs: median(cold.map((s) => s.computeMs)),
        initCv: cv(cold.filter((s) => s.initMs !== null).map((s) => s.initMs!)),
        cpuBusyShare: median(phases.filter((p) => p.k === k && p.cold).map((p) => p.cpuBusyShare)),
      },
      /** What a cold call costs the client over a warm one at this k (docs/cost-model.md §3): median cold − median warm round trip. */
      coldExtraMs: median(cold.map((s) => s.roundTripMs)) - median(warm.map((s) => s.roundTripMs)),
    });
  }
  const base = rows[0]!;
  const result = {
    date: new Date().toISOString(),
    loadAverage: { start: load0, end: loadavg() },
    cores: cpus().length,
    wasmThreadsPerEnvironment: threads,
    rows: rows.map((r) => ({
      ...r,
      warmComputeRatio: r.warm.computeMs / base.warm.computeMs,
      warmRoundTripRatio: r.warm.roundTripMs / base.warm.roundTripMs,
      coldInitRatio: r.cold.initMs / base.cold.initMs,
    })),
    samples,
  };
  for (const r of result.rows) {
    console.log(
      `k=${r.k}  warm: round trip ${r.warm.roundTripMs.toFixed(0)} ms (x${r.warmRoundTripRatio.toFixed(2)}), compute ${r.warm.computeMs.toFixed(0)} ms (x${r.warmComputeRatio.toFixed(2)}), rest ${r.warm.overheadMs.toFixed(0)} ms, cpu ${(r.warm.cpuBusyShare * 100).toFixed(0)} %` +
        `  | cold: round trip ${r.cold.roundTripMs.toFixed(0)} ms (+${r.coldExtraMs.toFixed(0)}), init ${r.cold.initMs.toFixed(0)} ms (x${r.coldInitRatio.toFixed(2)}), cpu ${(r.cold.cpuBusyShare * 100).toFixed(0)} %`,
    );
  }
  console.log(`${result.wasmThreadsPerEnvironment} wasm threads per environment, ${result.cores} cores; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${result.loadAverage.end.map((x) => x.toFixed(2)).join(' ')}`);
  const json = argValue('--json');
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  });
}
