/**
 * `offload recommend`: searches deployment choices for a model's traffic with
 * the fleet simulator (core/sim/recommend.ts) and prints the best few with
 * their monthly cost, p50/p95, 429 rate, and the cdk/offload.config.json
 * snippet of the best.
 *
 * @example
 * offload recommend --model resnet50 --traffic bursty:rate=20,on=5000,off=55000 --devices 2000:low-end-phone/wifi --p95 900
 */
import { InvalidArgumentError, type Command } from 'commander';
import { OffloadError } from '../../core/errors';
import { configSnippet, describeCandidate, InfeasibleError, recommend, type Evaluated } from '../../core/sim/recommend';
import { progressBar } from '../model-command';
import { integer, positiveInt, positiveNumber } from '../options';
import { note, printJson, table } from '../output';
import { defaultCuts, loadProfilesAndPredictor } from '../sim-deployment';
import { describeColdStart, hostFlagsError, hostOptions, modelArg, simOptions, type SimFlags } from '../sim-flags';
import { arrivalsOf, parseDevices, parseTraffic, type DeviceMix, type Traffic } from '../traffic';
import { simulationOptions } from './simulate';

interface RecommendFlags extends SimFlags {
  model: string;
  traffic: Traffic;
  devices: DeviceMix;
  budget?: number;
  p95?: number;
  requests: number;
  duration: number;
  seed: number;
  memory: number[];
  provisioned: number[];
  reserved?: number[];
  searchRequests: number;
  top: number;
  json?: boolean;
}

function intList(flag: string, min: number, max: number): (value: string) => number[] {
  return (value) => {
    const items = value.split(',').map((s) => s.trim());
    const bad = items.find((s) => !/^\d+$/.test(s) || Number(s) < min || Number(s) > max);
    if (bad !== undefined) throw new InvalidArgumentError(`${flag}: "${bad}" is not an integer in ${min}..${max}`);
    return [...new Set(items.map(Number))].sort((a, b) => a - b);
  };
}

const usd = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(4));

function rows(list: readonly Evaluated[]) {
  return list.map((e, i) => ({
    '#': i + 1,
    cuts: e.cuts.join(','),
    'memory MB': e.memoryMB,
    reserved: e.reservedConcurrency,
    provisioned: Object.entries(e.provisioned).map(([c, n]) => `${n}@${c}`).join(' ') || '0',
    '$/month': usd(e.monthlyUSD.total),
    'of which PC': usd(e.monthlyUSD.provisioned),
    'p50 ms': Math.round(e.p50Ms),
    'p95 ms': Math.round(e.p95Ms),
    'mean ms': Math.round(e.meanMs),
    '429 rate': Number(e.rate429.toFixed(4)),
    cold: e.coldStarts,
    'cloud share': Number(e.cloudShare.toFixed(3)),
  }));
}

export function register(program: Command): void {
  const cmd = program
    .command('recommend')
    .description('Search deployment choices (cuts with functions, memory, reserved and provisioned concurrency) for a model\'s traffic with the fleet simulator; the best few with monthly cost, p50/p95, 429 rate and the cdk/offload.config.json snippet')
    .requiredOption('--model <model>', 'the model to deploy (a profiled zoo model)', modelArg)
    .requiredOption('--traffic <spec|file>', 'the traffic: steady:rate=R | bursty:rate=R,on=MS,off=MS | sparse:gap=MS | diurnal:rate=R | azure:rate=R, or a trace file', (v: string) => parseTraffic(v))
    .requiredOption('--devices <mix>', 'N or N:class/network[=weight],… (e.g. 2000:low-end-phone/wifi=3,flagship-phone/4g)', (v: string) => parseDevices(v))
    .option('--budget <USD>', 'most it may cost per month (requests, duration and provisioned concurrency)', positiveNumber('--budget'))
    .option('--p95 <ms>', 'p95 latency it must reach; then the cheapest configuration that does wins', positiveNumber('--p95'))
    .option('--requests <n>', 'at most this many requests of the traffic', positiveInt('--requests'), 200_000)
    .option('--duration <s>', 'no arrival after this many seconds', positiveNumber('--duration'), 86_400)
    .option('--seed <n>', 'seed of the traffic', integer('--seed'), 1)
    .option('--memory <list>', 'memory sizes to try, MB', intList('--memory', 128, 10_240), [1024, 1769, 3008])
    .option('--provisioned <list>', 'provisioned concurrency values to try on the most used cut', intList('--provisioned', 0, 10_000), [0, 1, 2, 4, 8, 16])
    .option('--reserved <list>', 'reserved concurrency caps to try besides the one sized from the simulated peak (default 1,2,4,8 with --host, where tails share cores; none on Lambda)', intList('--reserved', 1, 10_000))
    .option('--search-requests <n>', 'the search simulates every configuration on the first N requests; the best are replayed on all', positiveInt('--search-requests'), 50_000)
    .option('--top <n>', 'how many configurations to print', positiveInt('--top'), 5);
  simOptions(cmd).option('--json', 'print the recommendation as JSON alone on stdout');
  cmd.action(async (flags: RecommendFlags) => {
    const hostError = hostFlagsError(flags);
    if (hostError) cmd.error(hostError, { exitCode: 2 });
    const { host, jitter } = hostOptions(flags, flags.seed);
    const { arrivals } = arrivalsOf({ traffic: flags.traffic, devices: flags.devices, model: flags.model, requests: flags.requests, durationS: flags.duration, seed: flags.seed });
    if (arrivals.length === 0) cmd.error(`error: the traffic (${flags.traffic.text}) has no arrival within --duration ${flags.duration} s`, { exitCode: 2 });
    const other = arrivals.find((a) => a.model !== flags.model);
    if (other) cmd.error(`error: --traffic: the trace has requests for ${other.model}; recommend sizes one model (--model ${flags.model})`, { exitCode: 2 });
    const { profiles, predictor } = await loadProfilesAndPredictor();
    const profile = profiles.find((p) => p.model === flags.model)!;
    const deployableCuts = await defaultCuts(profile);
    const spanMs = flags.traffic.kind === 'trace' ? arrivals[arrivals.length - 1]!.t : Math.min(flags.duration * 1000, Math.max(arrivals[arrivals.length - 1]!.t, 1));
    const progress = await progressBar(!flags.json, 200);
    const options = simulationOptions(flags, flags.accountConcurrency ?? 1000);
    let result: ReturnType<typeof recommend>;
    try {
      result = recommend({
        profile,
        predictor,
        arrivals,
        deployableCuts,
        spanMs,
        ...(flags.budget !== undefined ? { budgetUSD: flags.budget } : {}),
        ...(flags.p95 !== undefined ? { maxP95Ms: flags.p95 } : {}),
        memorySizes: flags.memory,
        provisioned: flags.provisioned,
        ...(flags.reserved ? { reserved: flags.reserved } : {}),
        accountConcurrency: options.fleet.accountConcurrency,
        searchRequests: flags.searchRequests,
        top: flags.top,
        fleet: options.fleet,
        view: options.view,
        timing: options.timing,
        prewarm: options.prewarm,
        waitForPlan: options.waitForPlan,
        ...(host ? { host } : {}),
        ...(flags.coldStart ? { cold: flags.coldStart } : {}),
        ...(jitter ? { jitter } : {}),
        onProgress: (done, total, stage) => progress.update(done, total, stage),
      });
    } catch (e) {
      if (e instanceof InfeasibleError) throw new OffloadError('invalid-input', `--${e.field ?? "budget"}: ${e.message.slice((e.field ?? "").length + 2)}`);
      throw e;
    } finally {
      progress.stop();
    }
    const best = result.best[0]!;
    // A promise for a shared host holds for the engine threads its slowdowns were measured with.
    const snippet = configSnippet(flags.model, best, host ? { wasmThreads: host.wasmThreads } : {});
    if (flags.json) {
      printJson({ model: flags.model, traffic: flags.traffic.text, devices: flags.devices.text, requests: arrivals.length, host: host ?? 'lambda', ...(flags.coldStart ? { coldStart: flags.coldStart } : {}), ...(jitter ? { jitter } : {}), ...result, snippet });
      return;
    }
    console.log(`${flags.model}: ${flags.traffic.text}, ${arrivals.length} requests over ${(spanMs / 3_600_000).toFixed(2)} h; devices ${flags.devices.text}`);
    if (flags.coldStart) console.log(`cold starts: ${describeColdStart(flags.coldStart)}`);
    if (host) console.log(`for host ${host.name}: the tails share its cores at this machine's profiled speed (not Lambda's vCPUs); the snippet pins ${host.wasmThreads} wasm thread`);
    console.log(`cuts the warm planner uses: ${result.usefulCuts.join(', ') || 'none (the devices are faster)'}; provisioned concurrency tried on cut ${result.mostUsedCut}; reserved concurrency sized from the simulated peak${result.reservedCaps.length ? ` and capped at ${result.reservedCaps.join(', ')}` : ''}`);
    console.log(table(rows(result.best)));
    console.log(`\nbest: ${describeCandidate(best)}; cdk/offload.config.json:`);
    console.log(JSON.stringify(snippet, null, 2));
    note(
      `search: ${result.searched.length} configurations on the first ${result.sampleRequests} requests in ${(result.wallMs.search / 1000).toFixed(1)} s; ` +
        `replay of the best on all ${arrivals.length} in ${(result.wallMs.replay / 1000).toFixed(1)} s. Costs: $/month scaled from the simulated span; provisioned concurrency at $0.0000041667/GB-s (assumed us-east-1 x86 price).`,
    );
  });
}
