/**
 * `offload simulate`: a workload through the fleet simulator (core/sim/) for
 * each policy in turn, against the deployment `cdk deploy` would build; the
 * load harness's summary table, optional JSONL records, and how fast it ran.
 *
 * @example
 * offload simulate --model mobilenetv2 --traffic steady:rate=11.574 --devices 10000 --requests 1000000 --duration 86400
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { SUMMARY_COLUMNS, summaryRows, type LoadRecord } from '../../core/load-record';
import { policyName, type Policy } from '../../core/policies';
import type { TailFunctionSpec } from '../../core/sim/fleet';
import { simulate, type SimulationResult } from '../../core/sim/simulator';
import { formatTrace } from '../../core/workload';
import { progressBar } from '../model-command';
import { integer, nonNegativeInt, policiesArg, positiveInt, positiveNumber } from '../options';
import { note, printJson, table } from '../output';
import { buildSimDeployment, cutsArg, type DeploymentFlags } from '../sim-deployment';
import { arrivalsOf, parseDevices, parseTraffic, type DeviceMix, type Traffic } from '../traffic';
import { describeColdStart, hostFlagsError, hostOptions, modelArg, simOptions, type SimFlags } from '../sim-flags';

interface SimulateFlags extends DeploymentFlags, SimFlags {
  model?: string;
  traffic: Traffic;
  devices: DeviceMix;
  policy: Policy[];
  requests: number;
  duration: number;
  seed: number;
  out?: string;
  traceOut?: string;
  json?: boolean;
}


/** Buffered JSONL writer: one syscall per ~1 MB instead of one per record. */
class JsonlWriter {
  private readonly fd: number;
  private buffer: string[] = [];
  private size = 0;
  constructor(file: string) {
    this.fd = openSync(file, 'w');
  }
  write(record: LoadRecord): void {
    const line = `${JSON.stringify(record)}\n`;
    this.buffer.push(line);
    this.size += line.length;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    if (this.buffer.length) writeSync(this.fd, this.buffer.join(''));
    this.buffer = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('simulate')
    .description('Simulate a fleet of devices and the deployed Lambda tails at scale (cold starts, keep-alive, concurrency limits, 429s, the planner\'s stale fleet view) under each policy; the load harness\'s summary')
    .option('--model <model>', 'model every generated request asks for (a profiled zoo model); not with a trace', modelArg)
    .option('--traffic <spec|file>', 'arrivals: steady:rate=R | bursty:rate=R,on=MS,off=MS | sparse:gap=MS[,extra=MS] | diurnal:rate=R[,baseline=B] | azure:rate=R, or a trace file (JSONL)', (v: string) => parseTraffic(v), parseTraffic('steady:rate=2'))
    .option('--devices <mix>', 'N or N:class/network[=weight],… (e.g. 10000:low-end-phone/4g=3,flagship-phone/wifi)', (v: string) => parseDevices(v), parseDevices('100'))
    .option('--policy <list>', 'comma-separated policies: planner, fleet-blind, cloud-only, device-only, cut:C', policiesArg, [{ kind: 'planner' }, { kind: 'fleet-blind' }] as Policy[])
    .option('--requests <n>', 'at most this many requests', positiveInt('--requests'), 1_000_000)
    .option('--duration <s>', 'no arrival after this many simulated seconds', positiveNumber('--duration'), 86_400)
    .option('--seed <n>', 'seed of the arrivals and device draws', integer('--seed'), 1)
    .option('--config <file>', 'deployment configuration (default cdk/offload.config.json)')
    .option('--cuts <list>', 'cuts that get a tail function: default (the CDK rule) or C,C,… (0 is always added)', cutsArg)
    .option('--memory-mb <MB>', 'memory of every tail function', positiveInt('--memory-mb'))
    .option('--reserved <n>', 'reserved concurrency of every tail function', positiveInt('--reserved'))
    .option('--provisioned <n>', 'provisioned concurrency of every tail function', nonNegativeInt('--provisioned'));
  simOptions(cmd)
    .option('--out <file>', 'write one JSON record per request (JSONL; the load harness\'s record)')
    .option('--trace-out <file>', 'write the workload as a trace file (replayable by offload load --trace)')
    .option('--json', 'print the results as JSON alone on stdout');
  cmd.action(async (flags: SimulateFlags) => {
    if (flags.traffic.kind === 'trace' && flags.model) cmd.error('error: give --model or a trace, not both (a trace names the model of each arrival)', { exitCode: 2 });
    if (flags.traffic.kind !== 'trace' && !flags.model) cmd.error('error: --model is required unless --traffic names a trace file', { exitCode: 2 });
    const hostError = hostFlagsError(flags);
    if (hostError) cmd.error(hostError, { exitCode: 2 });
    const { arrivals } = arrivalsOf({ traffic: flags.traffic, devices: flags.devices, model: flags.model ?? '', requests: flags.requests, durationS: flags.duration, seed: flags.seed });
    if (arrivals.length === 0) cmd.error(`error: the workload (${flags.traffic.text}) has no arrival within --duration ${flags.duration} s`, { exitCode: 2 });
    if (flags.traceOut) writeFileSync(flags.traceOut, formatTrace(arrivals));
    const models = [...new Set(arrivals.map((a) => a.model))];
    for (const m of models) {
      try {
        modelArg(m);
      } catch (e) {
        cmd.error(`error: --traffic ${flags.traffic.text}: ${(e as Error).message.replace(/^--model: /, '')}`, { exitCode: 2 });
      }
    }
    const { host, jitter } = hostOptions(flags, flags.seed);
    const deployment = await buildSimDeployment(models, flags, host, flags.coldStart);
    const options = { ...simulationOptions(flags, deployment.accountConcurrency), ...(host ? { host } : {}), ...(jitter ? { jitter } : {}) };
    const writer = flags.out ? new JsonlWriter(flags.out) : undefined;
    const results: { policy: string; result: SimulationResult; wallMs: number }[] = [];
    try {
      for (const policy of flags.policy) {
        const progress = await progressBar(!flags.json, 200);
        const started = performance.now();
        let result: SimulationResult;
        try {
          result = simulate({
            arrivals,
            policy,
            functions: deployment.functions,
            scenarioFor: deployment.scenarioFor,
            ...options,
            ...(writer ? { onRecord: (r: LoadRecord) => writer.write(r) } : {}),
            onProgress: (done, total) => progress.update(done, total, policyName(policy)),
            progressEvery: 20_000,
          });
        } finally {
          progress.stop();
        }
        results.push({ policy: policyName(policy), result, wallMs: performance.now() - started });
      }
    } finally {
      writer?.close();
    }
    const spanS = arrivals[arrivals.length - 1]!.t / 1000;
    if (flags.json) {
      printJson({
        workload: flags.traffic.text,
        devices: flags.devices.text,
        requests: arrivals.length,
        simulatedSeconds: spanS,
        host: host ?? 'lambda',
        ...(flags.coldStart ? { coldStart: flags.coldStart } : {}),
        ...(jitter ? { jitter } : {}),
        waitForPlan: options.waitForPlan,
        functions: deployment.functions,
        results: results.map((r) => ({ ...r.result, wallMs: r.wallMs, requestsPerSecond: arrivals.length / (r.wallMs / 1000) })),
      });
      return;
    }
    console.log(`${flags.traffic.text}; ${arrivals.length} requests from ${new Set(arrivals.map((a) => a.device)).size} devices over ${formatSpan(spanS)} simulated`);
    console.log(`tails: ${describeTails(deployment.functions)}`);
    if (flags.coldStart) console.log(`cold starts: ${describeColdStart(flags.coldStart)}`);
    if (host) console.log(`host: ${host.name} (the tails share its cores; ${host.wasmThreads} wasm thread per environment, this machine's profiled speed)`);
    if (jitter) console.log(`spread: tail ${jitter.tailFloor ? `${jitter.tailFloor} + ${(1 - jitter.tailFloor).toFixed(2)} × lognormal of CV ${jitter.tailCv}` : `CV ${jitter.tailCv}`}, cold-start CV ${jitter.coldCv} (lognormal)`);
    if (options.waitForPlan && flags.policy.some((p) => p.kind === 'planner')) console.log('planner: the device waits for its plan before it starts its head (--wait-for-plan)');
    console.log(table(summaryRows(results.map((r) => r.result.summary)), [...SUMMARY_COLUMNS]));
    for (const r of results) {
      let extra = r.result.provisionedUSD > 0 ? `; provisioned concurrency $${r.result.provisionedUSD.toFixed(4)} over the span` : '';
      const pw = r.result.prewarm;
      if (pw.sent > 0) extra += `; ${pw.sent} prewarm invocations (${pw.cold} started an environment; $${pw.costUSD.toFixed(4)} of requests and init, not in the cost column)`;
      note(`${r.policy}: simulated in ${(r.wallMs / 1000).toFixed(2)} s (${Math.round(arrivals.length / (r.wallMs / 1000)).toLocaleString('en-US')} requests/s of simulation), ${r.result.plans.computed} distinct plans${extra}`);
    }
    if (flags.out) console.log(`records: ${flags.out}`);
  });
}

/** `resnet50 cuts 0,57,93 (3008 MB, reserved 10, provisioned 0)`, one group per model and settings. */
export function describeTails(functions: readonly TailFunctionSpec[]): string {
  const groups = new Map<string, number[]>();
  for (const f of functions) {
    const key = `${f.model}\u0000(${f.memoryMB} MB, reserved ${f.reservedConcurrency ?? 'none'}, provisioned ${f.provisionedConcurrency})`;
    groups.set(key, [...(groups.get(key) ?? []), f.cut]);
  }
  return [...groups].map(([key, cuts]) => {
    const [model, settings] = key.split('\u0000') as [string, string];
    return `${model} cut${cuts.length > 1 ? 's' : ''} ${cuts.join(',')} ${settings}`;
  }).join('; ');
}

function formatSpan(s: number): string {
  return s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`;
}

/** The simulator options the shared flags set. */
export function simulationOptions(flags: SimFlags, accountConcurrency: number) {
  return {
    fleet: { accountConcurrency: flags.accountConcurrency ?? accountConcurrency, keepAliveMs: flags.keepAliveMs },
    view: {
      keepAliveMs: flags.plannerKeepAliveMs,
      cacheMs: flags.fleetCacheMs,
      ...(flags.reapVisibleMs !== undefined ? { reapVisibleMs: flags.reapVisibleMs } : {}),
      atArrival: flags.fleetAtArrival,
    },
    timing: { ...(flags.planMs !== undefined ? { planMs: () => flags.planMs! } : {}) },
    // On: the defaults, its recurrence window the view's keep-alive (--planner-keep-alive-ms).
    prewarm: flags.prewarm ? {} : (false as const),
    waitForPlan: flags.waitForPlan === true,
  };
}
