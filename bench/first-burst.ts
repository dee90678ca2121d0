/**
 * Is the first burst of cold starts on a function slower than the next ones, and where does it go? (issue 9: the
 * validation's cut:63 requests 6 and 7, refused on the stack and served simulated, meet the trace's first burst on a
 * function that has no environment yet.)
 *
 * On a fresh local stack run as the validation runs it (its own process, every cut of MobileNetV2, 1 wasm thread,
 * reserved concurrency 4, keep-alive 5 s), bursts of {@link BURST} cold requests sent together to one cut, each burst
 * after every environment was reaped (the validation's pause between policies: keep-alive + 4 s). The order of cuts
 * alternates between stacks (`--orders`), so that the first burst on the stack and the first burst on a function
 * that the stack has already served on another cut part ways. Per request: the emulator's init (`x-offload-init-ms`)
 * and the round trip; per environment the tail's 'cold start timeline' (functions/commons/tail.ts, read from the
 * stack's log lines): where its init went, step by step.
 *
 * No trace is replayed: nothing here comes from the validation's seed.
 *
 * `--by-cut CUTS`: the same bursts to answer another question the first one raised — does a burst of k cold starts
 * take as long on every cut, or in proportion to each cut's lone cold start (what the host model assumes: the lone
 * cold start × the init table, measured on cut 0)? Per round, every size of `--sizes` on every cut, in an order
 * rotated between rounds. Each burst is printed beside the simulator's inits for it (the host as committed, no
 * spread: k requests sent together).
 *
 * Usage (bounded: about 1.5 min per stack with the defaults, 10.5 s per burst; starts its own local stacks on
 * ephemeral ports, stops them):
 *   npx tsx bench/first-burst.ts [--orders 63,63,0,0,36,36/0,0,63,63,36,36] [--stacks 2] [--json FILE]
 *   npx tsx bench/first-burst.ts --by-cut 0,63,156 [--sizes 2,4] [--rounds 3] [--stacks 1] [--json FILE]
 *   npx tsx bench/first-burst.ts --report FILE   # a kept run's tables again
 * A burst in --orders is a cut (BURST cold starts) or CUTxK (K cold starts).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffloadApi } from '../client/api';
import { inferRoute } from '../core/catalog';
import { LOCAL_HOST } from '../core/sim/host';
import { startOffloadLocal, type OffloadLocalProcess } from '../testkit/node-process';
import { simulatedSends } from './sim-validation';
import { childrenOf, cpuMsOf } from './stack-cpu';
import { headPayloads, writeLocalConfig } from './local-stack-setup';
import { argValue, checkArgs, formatTable, isMain, median } from './report';

const MODEL = 'mobilenetv2';
/** As many cold starts as the validation's reserved concurrency lets a function open at once. */
export const BURST = 4;
const KEEP_ALIVE_MS = 5000;
/** The validation's pause between policies: every environment reaped (keep-alive, then the 2 s shutdown grace). */
const REAP_WAIT_MS = KEEP_ALIVE_MS + 4000;

/** The steps of the tail's 'cold start timeline' read here: ms since its process started. */
const STEPS = ['nodeReady', 'moduleLoaded', 'registryMarked', 'engineReady', 'modelJson', 'weights', 'built', 'warmedUp', 'computeStart', 'computeEnd'] as const;
type Step = (typeof STEPS)[number];

/** One cold request of a burst. */
export interface ColdSample {
  stack: number;
  /** Position of the burst on its stack (0: the stack's first traffic). */
  burst: number;
  cut: number;
  /** Cold requests sent together in its burst (absent in the first file: {@link BURST}). */
  k?: number;
  /** Whether a POST /plan came {@link PLAN_LEAD_MS} before its burst, and its round trip (ms). */
  plan?: boolean;
  planMs?: number | null;
  /** CPU ms of the planner's environments and of the stack's own process from the burst's send to its last answer. */
  plannerCpuMs?: number | null;
  mainCpuMs?: number;
  /** Whether this is the first burst its function ever served on this stack. */
  firstOnFunction: boolean;
  cold: boolean;
  initMs: number | null;
  roundTripMs: number;
  computeMs: number | null;
  /** Epoch ms the client sent it. */
  sentAt: number;
  /** The environment's timeline when its log line was found: process start (epoch ms) and the steps. */
  timeline: ({ processStart: number } & Partial<Record<Step, number>>) | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The 'cold start timeline' JSON of a stack log line (`[function env] {json}`), or undefined. */
export function parseTimelineLine(line: string): ({ instance: string; processStart: number } & Partial<Record<Step, number>>) | undefined {
  if (!line.includes('cold start timeline')) return undefined;
  const brace = line.indexOf('{');
  if (brace < 0) return undefined;
  try {
    const j = JSON.parse(line.slice(brace)) as Record<string, unknown>;
    if (typeof j.instance !== 'string' || typeof j.processStart !== 'number') return undefined;
    return j as { instance: string; processStart: number } & Partial<Record<Step, number>>;
  } catch {
    return undefined;
  }
}

/** One burst: `k` cold requests sent together to the tail at `cut`. */
export interface Burst {
  cut: number;
  k: number;
  /** A POST /plan (the validation's static plan before each policy: a cold planner after the pause) {@link PLAN_LEAD_MS} before the burst. */
  plan?: boolean;
}

/** The validation's first burst is sent about this long after its static plan came back (the first arrival 318 ms, then the head and upload). */
export const PLAN_LEAD_MS = 450;

/** `63` (a burst of {@link BURST}) or `63x2` (of 2), as --orders writes a burst. */
export function parseBurst(text: string): Burst {
  const m = /^(p)?(\d+)(?:x(\d+))?$/.exec(text.trim());
  if (!m || Number(m[3] ?? BURST) < 1) throw new Error(`--orders: a burst is [p]CUT[xK] with whole numbers, K >= 1 (got ${JSON.stringify(text)})`);
  return { cut: Number(m[2]), k: Number(m[3] ?? BURST), ...(m[1] ? { plan: true } : {}) };
}

/** `--by-cut`: per round every size on every cut, the cuts' order rotated by one each round (so no cut always comes first). */
export function byCutOrder(cuts: readonly number[], sizes: readonly number[], rounds: number): Burst[] {
  const out: Burst[] = [];
  for (let r = 0; r < rounds; r++) {
    const rotated = cuts.map((_, i) => cuts[(i + r) % cuts.length]!);
    for (const k of sizes) for (const cut of rotated) out.push({ cut, k });
  }
  return out;
}

/**
 * The simulator's inits of one burst (the host as committed, no spread): `k` requests of the validation's phones sent
 * together to the tail at `cut`.
 */
export function simulatedBurst(b: Burst, host = LOCAL_HOST): number[] {
  return simulatedSends(Array.from({ length: b.k }, () => 0), b.cut, host).flatMap((x) => (x.cold && x.initMs !== null ? [x.initMs] : []));
}

async function run(orders: Burst[][]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'first-burst-'));
  const config = writeLocalConfig(dir, { wasmThreads: LOCAL_HOST.wasmThreads });
  const payloads = await headPayloads(MODEL, [...new Set(orders.flat().map((b) => b.cut))]);
  const load0 = loadavg();
  const samples: ColdSample[] = [];
  for (let s = 0; s < orders.length; s++) {
    let stack: OffloadLocalProcess | undefined;
    const timelines = new Map<string, ReturnType<typeof parseTimelineLine> & object>();
    try {
      // Without --quiet: the functions' log lines (the timelines) come on the stack's stderr.
      stack = await startOffloadLocal(['--config', config, '--models', MODEL, '--port', '0', '--keep-alive-ms', String(KEEP_ALIVE_MS), '--state-dir', join(dir, `state-${s}`), '--json'], {});
      let buffered = '';
      stack.child.stderr!.on('data', (d: Buffer) => {
        buffered += d.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const t = parseTimelineLine(buffered.slice(0, nl));
          if (t) timelines.set(t.instance, t);
          buffered = buffered.slice(nl + 1);
        }
      });
      const api = new OffloadApi({ baseUrl: stack.url, timeoutMs: 120_000 });
      const seen = new Set<number>();
      const cpuOf = (kind: 'main' | 'planner' | 'tail'): number => {
        if (kind === 'main') return cpuMsOf(stack!.child.pid!) ?? 0;
        return childrenOf(stack!.child.pid!)
          .filter((c) => c.fn !== 'other' && c.fn.endsWith('-planner') === (kind === 'planner'))
          .reduce((a, c) => a + (cpuMsOf(c.pid) ?? 0), 0);
      };
      for (const [b, { cut, k, plan }] of orders[s]!.entries()) {
        await sleep(REAP_WAIT_MS);
        let plannerCpuMs: number | null = null;
        let planMs: number | null = null;
        if (plan) {
          const p0 = performance.now();
          await api.plan({ model: MODEL, device: 'low-end-phone', network: 'wifi', dtype: 'float32', objective: 'latency' });
          planMs = performance.now() - p0;
        }
        await sleep(PLAN_LEAD_MS);
        const planner0 = cpuOf('planner');
        const main0 = cpuOf('main');
        const sentAt = Date.now();
        const res = await Promise.all(Array.from({ length: k }, () => api.infer(inferRoute(MODEL, cut), payloads.get(cut)!)));
        // CPU the planner's environment (the one the plan started; a reaped one is gone and counts 0) and the stack's own process spent during the burst
        plannerCpuMs = Math.max(0, cpuOf('planner') - planner0);
        const mainCpuMs = (cpuOf('main') ?? 0) - main0;
        await sleep(200); // the timelines are logged as the answers leave; let the lines land
        for (const r of res) {
          const t = r.instance ? timelines.get(r.instance) : undefined;
          samples.push({
            stack: s,
            burst: b,
            cut,
            k,
            plan: plan === true,
            planMs,
            plannerCpuMs,
            mainCpuMs,
            firstOnFunction: !seen.has(cut),
            cold: r.cold,
            initMs: r.initMs,
            roundTripMs: r.roundTripMs,
            computeMs: r.computeMs,
            sentAt,
            timeline: t ? { processStart: t.processStart, ...Object.fromEntries(STEPS.filter((x) => typeof t[x] === 'number').map((x) => [x, t[x]])) } : null,
          });
        }
        seen.add(cut);
        console.error(`stack ${s + 1}, burst ${b + 1} (cut ${cut}, ${k} cold${plan ? `, after a ${planMs!.toFixed(0)} ms plan` : ''}): inits ${res.map((r) => (r.initMs ?? NaN).toFixed(0)).join(', ')} ms; CPU during the burst: planner ${plannerCpuMs.toFixed(0)} ms, stack ${mainCpuMs.toFixed(0)} ms`);
      }
    } finally {
      if (stack) await stack.close();
    }
  }
  const result = { date: new Date().toISOString(), loadAverage: { start: load0, end: loadavg() }, keepAliveMs: KEEP_ALIVE_MS, orders, samples };
  report(result);
  const json = argValue('--json');
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
}

/** Samples by the burst they were sent in (its stack and its place there), in the order first seen. */
export function burstsOf(samples: readonly ColdSample[]): ColdSample[][] {
  const by = new Map<string, ColdSample[]>();
  for (const x of samples) {
    const key = `${x.stack}/${x.burst}`;
    const group = by.get(key);
    if (group) group.push(x);
    else by.set(key, [x]);
  }
  return [...by.values()];
}

/** Per (first on the stack / first on its function / later) burst: medians of the inits and of the timeline's steps. */
export function firstBurstTable(samples: readonly ColdSample[]): { kind: string; n: number; initMs: number; steps: Record<string, number> }[] {
  const kindOf = (x: ColdSample) => (x.burst === 0 ? 'first on the stack' : x.firstOnFunction ? 'first on its function' : 'later');
  const kinds = ['first on the stack', 'first on its function', 'later'];
  return kinds.flatMap((kind) => {
    const xs = samples.filter((x) => x.cold && x.initMs !== null && kindOf(x) === kind);
    if (xs.length === 0) return [];
    const steps: Record<string, number> = {};
    const withT = xs.filter((x) => x.timeline);
    steps['send → process start'] = median(withT.map((x) => x.timeline!.processStart - x.sentAt));
    let prev: Step | null = null;
    for (const k of STEPS) {
      const vals = withT.filter((x) => x.timeline![k] !== undefined && (prev === null || x.timeline![prev] !== undefined)).map((x) => x.timeline![k]! - (prev ? x.timeline![prev]! : 0));
      if (vals.length) steps[prev ? `${prev} → ${k}` : `process start → ${k}`] = median(vals);
      prev = k;
    }
    return [{ kind, n: xs.length, initMs: median(xs.map((x) => x.initMs!)), steps }];
  });
}

/** Per cut, burst size and whether a plan came before: the median init measured, the simulator's for the same burst, their ratio, and the planner's CPU during the bursts. */
export function byCutTable(samples: readonly ColdSample[], host = LOCAL_HOST): { cut: number; k: number; plan: boolean; n: number; initMs: number; simMs: number; ratio: number; plannerCpuMs: number }[] {
  const keyOf = (x: ColdSample) => `${x.plan ? 'p' : ''}${x.cut}x${x.k ?? BURST}`;
  const keys = [...new Set(samples.map(keyOf))].map(parseBurst).sort((a, b) => a.k - b.k || a.cut - b.cut || Number(a.plan ?? false) - Number(b.plan ?? false));
  return keys.map((b) => {
    const xs = samples.filter((x) => x.cold && x.initMs !== null && keyOf(x) === `${b.plan ? 'p' : ''}${b.cut}x${b.k}`);
    const simMs = median(simulatedBurst(b, host));
    const initMs = median(xs.map((x) => x.initMs!));
    return { cut: b.cut, k: b.k, plan: b.plan === true, n: xs.length, initMs, simMs, ratio: initMs / simMs, plannerCpuMs: median(xs.map((x) => x.plannerCpuMs ?? 0)) };
  });
}

function report(result: { date: string; loadAverage: { start: number[]; end: number[] }; samples: ColdSample[] }): void {
  const colds = result.samples.filter((x) => x.cold);
  console.log(`${colds.length} cold requests of ${result.samples.length}; ${result.date}, load ${result.loadAverage.start.map((x) => x.toFixed(2)).join(' ')} → ${result.loadAverage.end.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    formatTable(
      ['stack', 'burst', 'cut', 'cold', 'first on function', 'inits (ms)', 'median'],
      burstsOf(colds).map((xs) => [String(xs[0]!.stack + 1), String(xs[0]!.burst + 1), String(xs[0]!.cut), String(xs.length), xs[0]!.firstOnFunction ? 'yes' : '', xs.map((x) => (x.initMs ?? NaN).toFixed(0)).join(', '), median(xs.map((x) => x.initMs ?? NaN)).toFixed(0)]),
    ),
  );
  const table = firstBurstTable(colds);
  const keys = [...new Set(table.flatMap((t) => Object.keys(t.steps)))];
  console.log(formatTable(['step (median ms)', ...table.map((t) => `${t.kind} (${t.n})`)], [['init', ...table.map((t) => t.initMs.toFixed(0))], ...keys.map((k) => [k, ...table.map((t) => (t.steps[k] ?? NaN).toFixed(1))])]));
  console.log(
    formatTable(
      ['cut', 'cold together', 'after a plan', 'inits', 'median init (ms)', 'simulated', 'measured / simulated', 'planner CPU (ms)'],
      byCutTable(colds).map((r) => [String(r.cut), String(r.k), r.plan ? 'yes' : '', String(r.n), r.initMs.toFixed(0), r.simMs.toFixed(0), r.ratio.toFixed(2), r.plannerCpuMs.toFixed(0)]),
    ),
  );
}

async function main(): Promise<void> {
  const kept = argValue('--report');
  if (kept) return report(JSON.parse(readFileSync(kept, 'utf8')) as Parameters<typeof report>[0]);
  const stacks = Number(argValue('--stacks') ?? (argValue('--by-cut') ? 1 : 2));
  if (!(Number.isInteger(stacks) && stacks >= 1)) {
    console.error('--stacks must be a whole number >= 1');
    process.exit(2);
  }
  let base: Burst[][];
  try {
    const byCut = argValue('--by-cut');
    if (byCut) {
      const whole = (name: string, text: string) =>
        text.split(',').map((x) => {
          if (!/^\d+$/.test(x.trim())) throw new Error(`${name} must list whole numbers (got ${JSON.stringify(text)})`);
          return Number(x);
        });
      const sizes = whole('--sizes', argValue('--sizes') ?? '2,4');
      const rounds = Number(argValue('--rounds') ?? 3);
      if (sizes.some((k) => k < 1) || !(Number.isInteger(rounds) && rounds >= 1)) throw new Error('--sizes must be >= 1, --rounds a whole number >= 1');
      base = [byCutOrder(whole('--by-cut', byCut), sizes, rounds)];
    } else base = (argValue('--orders') ?? '63,63,0,0,36,36/0,0,63,63,36,36').split('/').map((o) => o.split(',').map(parseBurst));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  // Stack s replays order s mod the orders given.
  await run(Array.from({ length: stacks }, (_, s) => base[s % base.length]!));
}

if (isMain(import.meta.url)) {
  checkArgs({ values: ['--orders', '--stacks', '--json', '--report', '--by-cut', '--sizes', '--rounds'], usage: 'npx tsx bench/first-burst.ts [--orders 63,63,0,0,36,36/0,0,63,63,36,36] [--stacks 2] [--json FILE] | --by-cut 0,63,156 [--sizes 2,4] [--rounds 3] [--stacks 1] [--json FILE] | --report FILE' });
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  });
}
