import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { OffloadError } from '../../core/errors';
import { summarizeByPolicy, summaryRows, SUMMARY_COLUMNS, type LoadRecord } from '../../core/load-record';
import { policyName, type Policy } from '../../core/policies';
import { DTYPES, type DType } from '../../core/scenario';
import {
  describeArrivalProcess,
  formatTrace,
  generateWorkload,
  makeDevices,
  parseTrace,
  WORKLOAD_DEVICE_CLASSES,
  WORKLOAD_NETWORKS,
  type Arrival,
  type ArrivalProcess,
} from '../../core/workload';
import { progressBar } from '../model-command';
import { httpUrl, integer, nonNegativeInt, policiesArg, positiveInt, positiveNumber } from '../options';
import { note, printJson, table } from '../output';

interface LoadFlags {
  url: string;
  model?: string;
  policy: Policy[];
  arrival: 'steady' | 'bursty' | 'sparse';
  rate: number;
  onMs: number;
  offMs: number;
  gapMs: number;
  gapExtraMs: number;
  trace?: Arrival[];
  devices: number;
  device: string[];
  network: string[];
  requests: number;
  duration: number;
  seed: number;
  computeHead?: boolean;
  dtype: DType;
  sigv4?: string;
  timeoutMs: number;
  pauseMs: number;
  keepPlannerWarm: number;
  waitForPlan?: boolean;
  sequential?: boolean;
  out?: string;
  traceOut?: string;
  json?: boolean;
}


function traceArg(file: string): Arrival[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(`cannot read trace ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code ?? e)}`);
  }
  try {
    const arrivals = parseTrace(text, file);
    if (arrivals.length === 0) throw new InvalidArgumentError(`trace ${file} holds no arrivals`);
    return arrivals;
  } catch (e) {
    throw e instanceof InvalidArgumentError ? e : new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

function listOf(flag: string, known: readonly string[]): (value: string) => string[] {
  return (value) => {
    const items = value.split(',').map((s) => s.trim());
    const bad = items.find((s) => !known.includes(s));
    if (bad !== undefined) throw new InvalidArgumentError(`${flag}: unknown "${bad}" (one of ${known.join(', ')})`);
    return items;
  };
}

/**
 * `offload load`: N simulated devices send requests to the API under each
 * policy in turn; one JSONL record per request (--out) and a summary table.
 * The harness itself is client/load.ts; docs/load.md explains what is real.
 */
export function register(program: Command): void {
  const cmd = program
    .command('load')
    .description(
      'Load the API with simulated devices (steady, bursty or sparse arrivals, or a trace) under one or more policies; real tails, waited-out device and network; per-request JSONL and a summary table',
    )
    .requiredOption('--url <url>', 'base URL of the offload HTTP API (npm start prints it, or the deployed API)', httpUrl('--url'))
    .option('--model <model>', 'model every generated request asks for (zoo name, as deployed); not with --trace')
    .option('--policy <list>', 'comma-separated policies, run one after the other: planner, fleet-blind, cloud-only, device-only, cut:C', policiesArg, [{ kind: 'planner' }] as Policy[])
    .addOption(new Option('--arrival <process>', 'arrival process').choices(['steady', 'bursty', 'sparse']).default('steady'))
    .option('--rate <per-second>', 'steady: mean arrivals per second; bursty: the rate during a burst', positiveNumber('--rate'), 2)
    .option('--on-ms <ms>', 'bursty: length of a burst', positiveNumber('--on-ms'), 2000)
    .option('--off-ms <ms>', 'bursty: idle time between bursts', positiveNumber('--off-ms'), 8000)
    .option('--gap-ms <ms>', 'sparse: minimum gap between requests (make it longer than the keep-alive)', positiveNumber('--gap-ms'), 15_000)
    .option('--gap-extra-ms <ms>', 'sparse: mean of an exponential extra added to each gap', positiveNumber('--gap-extra-ms'))
    .option('--trace <file>', 'replay a trace (JSONL: {t, device, class, network, model} a line) instead of generating arrivals', traceArg)
    .option('--devices <n>', 'number of simulated devices', positiveInt('--devices'), 4)
    .option('--device <classes>', `device classes of the devices, comma-separated, spread evenly (${WORKLOAD_DEVICE_CLASSES.join(', ')})`, listOf('--device', WORKLOAD_DEVICE_CLASSES), ['flagship-phone'])
    .option('--network <presets>', `networks of the devices, comma-separated (${WORKLOAD_NETWORKS.join(', ')})`, listOf('--network', WORKLOAD_NETWORKS), ['4g'])
    .option('--requests <n>', 'at most this many requests per policy', positiveInt('--requests'), 50)
    .option('--duration <s>', 'no arrival after this many seconds (per policy)', positiveNumber('--duration'), 60)
    .option('--seed <n>', 'seed of the arrivals and the device draws', integer('--seed'), 1)
    .option('--compute-head', 'this-machine devices really compute the head (and any device tail) here instead of waiting it out')
    .addOption(new Option('--dtype <dtype>', 'encoding of the crossing tensors').choices(DTYPES).default('float32'))
    .option('--sigv4 <region>', 'sign requests with SigV4 for the deployed API (IAM auth)')
    .option('--timeout-ms <ms>', 'per-request timeout (then the device falls back)', positiveInt('--timeout-ms'), 30_000)
    .option('--pause-ms <ms>', 'wait between two policies (e.g. longer than the keep-alive, so each starts on a cold fleet)', positiveInt('--pause-ms'), 0)
    .option('--keep-planner-warm <n>', 'planner policy: keep n planner environments warm with pings, as provisioned concurrency would (0: its cold starts count)', nonNegativeInt('--keep-planner-warm'), 0)
    .option('--wait-for-plan', 'planner policy: the device waits for its plan before it starts its head (default: it starts at once, the plan\'s round trip beside its compute)')
    .option('--sequential', 'each request waits for the previous one to end (a closed loop; with one device, always warm after the first)')
    .option('--out <file>', 'write one JSON record per request (JSONL), as each finishes')
    .option('--trace-out <file>', 'write the workload as a trace file (replayable with --trace, and by the fleet simulator)')
    .option('--json', 'print the summaries as JSON alone on stdout');
  cmd.action(async (flags: LoadFlags) => {
    if (flags.trace && flags.model) cmd.error('error: give --model or --trace, not both (a trace names the model of each arrival)', { exitCode: 2 });
    if (!flags.trace && !flags.model) cmd.error('error: --model is required unless --trace is given', { exitCode: 2 });
    if (flags.computeHead && !(flags.trace ? flags.trace.some((a) => a.class === 'this-machine') : flags.device.includes('this-machine'))) {
      cmd.error('error: --compute-head applies to this-machine devices only (add --device this-machine)', { exitCode: 2 });
    }
    const arrivals = workloadOf(flags);
    const shape = flags.trace ? `trace of ${flags.trace.length} arrivals` : describeArrivalProcess(processOf(flags));
    if (arrivals.length === 0) throw new OffloadError('invalid-input', `the workload (${shape}) has no arrival within --duration ${flags.duration} s`);
    if (flags.traceOut) writeFileSync(flags.traceOut, formatTrace(arrivals));
    if (flags.out) writeFileSync(flags.out, '');

    const [{ initBackend }, { DeviceModel }, { OffloadApi }, { runLoad }, { loadProfile }] = await Promise.all([
      import('../../models/backend'),
      import('../../client/device'),
      import('../../client/api'),
      import('../../client/load'),
      import('../../models/profile-files'),
    ]);
    const backend = await initBackend();
    const signer = flags.sigv4 ? (await import('../../client/sigv4')).sigV4Signer(flags.sigv4) : undefined;
    const api = new OffloadApi({ baseUrl: flags.url, timeoutMs: flags.timeoutMs, ...(signer ? { signer } : {}) });
    note(`backend: ${backend}; workload: ${shape}, ${arrivals.length} requests per policy`);

    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      note('\nstopping: no new requests; finishing those in flight (Ctrl-C again to quit at once)');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    const all: LoadRecord[] = [];
    let notStarted = 0;
    try {
      for (const [k, policy] of flags.policy.entries()) {
        if (controller.signal.aborted) {
          notStarted += arrivals.length;
          continue;
        }
        if (k > 0 && flags.pauseMs > 0) {
          note(`pausing ${flags.pauseMs} ms before ${policyName(policy)}`);
          await new Promise<void>((r) => {
            const t = setTimeout(r, flags.pauseMs);
            controller.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
          });
        }
        const progress = await progressBar(!flags.json, 0);
        let done = 0;
        try {
          const result = await runLoad({
            api,
            arrivals,
            policy,
            dtype: flags.dtype,
            computeHead: flags.computeHead === true,
            keepPlannerWarm: flags.keepPlannerWarm,
            waitForPlan: flags.waitForPlan === true,
            sequential: flags.sequential === true,
            signal: controller.signal,
            models: { load: (m) => DeviceModel.load(m), profile: (m) => loadProfile(m, 'wasm') },
            onStep: (m) => note(`${policyName(policy)}: ${m}`),
            onRecord: (r) => {
              if (flags.out) appendFileSync(flags.out, `${JSON.stringify(r)}\n`);
              progress.update(++done, arrivals.length, policyName(policy));
            },
          });
          all.push(...result.records);
          notStarted += result.notStarted;
        } finally {
          progress.stop();
        }
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
    const summaries = summarizeByPolicy(all);
    if (flags.json) printJson({ url: flags.url, workload: shape, requestsPerPolicy: arrivals.length, stopped: controller.signal.aborted, notStarted, summaries });
    else {
      console.log(`${shape}; ${arrivals.length} requests per policy against ${flags.url}`);
      console.log(table(summaryRows(summaries), [...SUMMARY_COLUMNS]));
      if (flags.out) console.log(`records: ${flags.out}`);
    }
    if (controller.signal.aborted) {
      throw new OffloadError('unavailable', `interrupted: ${all.length} requests recorded, ${notStarted} not started${flags.out ? ` (records in ${flags.out})` : ''}`);
    }
  });
}

function processOf(flags: LoadFlags): Exclude<ArrivalProcess, { kind: 'trace' }> {
  switch (flags.arrival) {
    case 'steady':
      return { kind: 'steady', ratePerS: flags.rate };
    case 'bursty':
      return { kind: 'bursty', ratePerS: flags.rate, onMs: flags.onMs, offMs: flags.offMs };
    case 'sparse':
      return { kind: 'sparse', minGapMs: flags.gapMs, meanExtraMs: flags.gapExtraMs ?? 0 };
  }
}

function workloadOf(flags: LoadFlags): Arrival[] {
  const bounds = { durationMs: flags.duration * 1000, maxRequests: flags.requests };
  if (flags.trace) return generateWorkload({ process: { kind: 'trace', arrivals: flags.trace }, devices: [], model: '', seed: flags.seed, ...bounds });
  const mix = flags.device.flatMap((c) => flags.network.map((n) => ({ class: c, network: n })));
  return generateWorkload({ process: processOf(flags), devices: makeDevices(flags.devices, mix), model: flags.model!, seed: flags.seed, ...bounds });
}
