/**
 * Does a recommended configuration keep its promise? `offload recommend`'s
 * search (core/sim/recommend.ts) picks the cheapest deployment whose
 * simulated p95 meets a target on a seeded trace; this deploys that
 * configuration on the local stack, replays the same trace through
 * `offload load`, and compares the measured p95 with the promised one
 * (issue 9 target: within 15 %).
 *
 * Small scale, as one machine allows: MobileNetV2 (its tails start within
 * seconds here), the `cloud-only` policy (a low-end phone runs MobileNetV2
 * faster than any tail, so the planner would keep every request on the
 * device and the deployment would not matter), bursts that meet a cold fleet
 * (the stack's keep-alive is 5 s, shorter than the gaps), memory 1769 MB
 * (the emulator does not limit CPU; 1769 MB is one vCPU, this machine's
 * core, on which the profiles were measured) and no provisioned concurrency
 * (the emulator has none). The simulator is NOT calibrated from the run:
 * the promise is exactly what `offload recommend` makes.
 *
 * `--host local` (default): the promise is made FOR the local stack, as
 * `offload recommend --host local` makes it (core/sim/host.ts): the tails run
 * at this machine's profiled speed and share its 2 cores with the measured
 * slowdowns (bench/local-contention.ts), the invoke overhead and the lone
 * cold start are the host's measured ones, and the
 * replayed configuration pins the 1 wasm thread the slowdowns were measured
 * with. `--host lambda`: the promise for Lambda (each environment its own
 * vCPUs, the cloud profile), replayed here anyway — last round's 2.5× miss.
 *
 * Usage (bounded: a few minutes; starts its own local stack on an ephemeral port, and stops it):
 *   npx tsx bench/recommend-replay.ts [--host local|lambda] [--requests 48] [--rate 2] [--p95 MS (default 3000)] [--seed 5] [--json FILE]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLoadRecords, summarize } from '../core/load-record';
import { predictorFromProfiles } from '../core/profile-scenario';
import { LOCAL_HOST } from '../core/sim/host';
import { configSnippet, describeCandidate, recommend, type RecommendInput } from '../core/sim/recommend';
import { formatTrace } from '../core/workload';
import { loadProfile, loadProfiles } from '../models/profile-files';
import { runNode, startOffloadLocal, type OffloadLocalProcess } from '../testkit/node-process';
import { argValue, checkArgs, isMain } from './report';
import { burstyPhoneArrivals, MODEL, wholeTrace } from './sim-validation';

export { MODEL };
export const KEEP_ALIVE_MS = 5000;
/** local/offload.local.json's cuts of the model: what the search may deploy. */
export const DEPLOYABLE_CUTS = [0, 36, 63, 125, 156];

async function main(): Promise<void> {
  const requests = Number(argValue('--requests') ?? 48);
  const rate = Number(argValue('--rate') ?? 2);
  // On the shared host the search also caps reserved concurrency (core/sim/recommend.ts DEFAULT_HOST_CAPS): with the
  // whole burst on 2 cores no uncapped configuration reaches 3,000 ms, a capped one does.
  const maxP95Ms = Number(argValue('--p95') ?? 3000);
  const seed = Number(argValue('--seed') ?? 5);
  const hostName = argValue('--host') ?? 'local';
  if (hostName !== 'local' && hostName !== 'lambda') throw new Error(`--host must be local or lambda (got "${hostName}")`);
  const host = hostName === 'local' ? LOCAL_HOST : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'recommend-replay-'));
  const arrivals = burstyPhoneArrivals(rate, seed, requests);
  const trace = join(dir, 'trace.jsonl');
  writeFileSync(trace, formatTrace(arrivals));

  // 1. The recommendation, as `offload recommend --policy cloud-only` makes it on this trace.
  const search: RecommendInput = {
    profile: loadProfile(MODEL),
    predictor: predictorFromProfiles(loadProfiles()),
    arrivals,
    deployableCuts: DEPLOYABLE_CUTS,
    maxP95Ms,
    memorySizes: [1769],
    provisioned: [0],
    policy: { kind: 'cloud-only' },
    fleet: { keepAliveMs: KEEP_ALIVE_MS },
    view: { keepAliveMs: KEEP_ALIVE_MS },
    // As `offload recommend --host local` does: the host's measured spread too.
    ...(host ? { host, jitter: { seed, ...host.spread } } : {}),
    top: 1,
  };
  const rec = recommend(search);
  const best = rec.best[0]!;
  // What the search would promise without its reserved-concurrency caps (none are tried on Lambda).
  let uncapped: { configuration: string; p50: number; p95: number; rate429: number } | null = null;
  if (rec.reservedCaps.length) {
    try {
      const u = recommend({ ...search, reserved: [], maxP95Ms: Number.MAX_SAFE_INTEGER }).best[0]!;
      uncapped = { configuration: describeCandidate(u), p50: u.p50Ms, p95: u.p95Ms, rate429: u.rate429 };
    } catch {
      uncapped = null;
    }
  }
  console.error(`recommended: ${describeCandidate(best)}; promised p50 ${best.p50Ms.toFixed(0)} ms, p95 ${best.p95Ms.toFixed(0)} ms, 429 rate ${best.rate429.toFixed(3)}, ${best.coldStarts} cold`);

  // 2. That configuration on the local stack: the local configuration with the model's entry replaced by the snippet.
  const local = JSON.parse(readFileSync('local/offload.local.json', 'utf8')) as { models: Record<string, unknown> };
  const config = join(dir, 'offload.config.json');
  const snippet = configSnippet(MODEL, best, host ? { wasmThreads: host.wasmThreads } : {});
  writeFileSync(config, JSON.stringify({ ...local, models: snippet.models }, null, 2));
  let stack: OffloadLocalProcess | undefined;
  try {
    stack = await startOffloadLocal(['--config', config, '--models', MODEL, '--port', '0', '--keep-alive-ms', String(KEEP_ALIVE_MS), '--state-dir', join(dir, 'state'), '--json', '--quiet'], { echoStderr: true });
    const out = join(dir, 'load.jsonl');
    const started = Date.now();
    const load0 = loadavg();
    const load = await runNode(['bin/offload.js', 'load', '--url', stack.url, '--trace', trace, '--policy', 'cloud-only', ...wholeTrace(arrivals), '--timeout-ms', '120000', '--out', out, '--json']);
    if (load.code !== 0) throw new Error(`offload load failed (${load.code}): ${load.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const records = parseLoadRecords(readFileSync(out, 'utf8'), 'load.jsonl');
    if (records.length !== arrivals.length) throw new Error(`offload load replayed ${records.length} of the trace's ${arrivals.length} requests`);
    const real = summarize(records);
    const result = {
      date: new Date().toISOString(),
      loadAverage: { start: load0, end: loadavg() },
      wallS: (Date.now() - started) / 1000,
      trace: { requests: arrivals.length, seed, process: `bursty ${rate}/s for 4 s, 8 s off; 12 low-end phones on WiFi; keep-alive ${KEEP_ALIVE_MS} ms` },
      host: host ?? 'lambda',
      recommended: { configuration: describeCandidate(best), snippet, maxP95Ms, reservedCaps: rec.reservedCaps, uncapped },
      promised: { p50: best.p50Ms, p95: best.p95Ms, rate429: best.rate429, throttled: Math.round(best.rate429 * best.requests), coldStarts: best.coldStarts },
      measured: { p50: real.latencyMs.p50, p95: real.latencyMs.p95, rate429: real.rate429, throttled: real.throttled, coldStarts: real.coldStarts, errors: real.errors, fallbacks: real.fallbacks },
      p50Error: (best.p50Ms - real.latencyMs.p50) / real.latencyMs.p50,
      p95Error: (best.p95Ms - real.latencyMs.p95) / real.latencyMs.p95,
      meetsPromise: real.latencyMs.p95 <= best.p95Ms * 1.15,
    };
    console.log(JSON.stringify(result, null, 2));
    const json = argValue('--json');
    if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    if (stack) await stack.close();
  }
}

if (isMain(import.meta.url)) {
  checkArgs({ values: ['--host', '--requests', '--rate', '--p95', '--seed', '--json'], flags: [], usage: 'npx tsx bench/recommend-replay.ts [--host local|lambda] [--requests 48] [--rate 2] [--p95 MS] [--seed 5] [--json FILE]' });
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  });
}
