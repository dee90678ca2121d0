import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { OffloadError, ValidationError } from '../../core/errors';
import { NETWORK_PRESET_NAMES, isNetworkPresetName } from '../../core/presets';
import { DTYPES, OBJECTIVES, type DType, type Objective } from '../../core/scenario';
import type { PlanRequestInput } from '../../core/api';
import { fraction, httpUrl, integer, nonNegativeInt, positiveInt, readJsonFile } from '../options';
import { note, printJson, table } from '../output';
// types only: the modules themselves load inside the action, so `offload --help` stays fast
import type { OffloadApi } from '../../client/api';
import type { CollaborativeResult } from '../../client/infer';

interface InferFlags {
  url: string;
  model: string;
  input?: string;
  random?: boolean;
  seed: number;
  network: string;
  device: string;
  battery?: number;
  objective?: Objective;
  dtype: DType;
  cut?: number;
  sigv4?: string;
  timeoutMs: number;
  waitForPlan?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('infer')
    .description('Plan, run the head on this machine, send the crossing tensors to the tail function, and print the timing breakdown; falls back to the device on 429, 5xx or timeout.')
    .requiredOption('--url <url>', 'base URL of the offload HTTP API, with its scheme (npm start prints it)', httpUrl('--url'))
    .requiredOption('--model <model>', 'zoo name or folder with a tfjs layers model (must match the deployed one)')
    .option('--input <file>', 'input tensor: a wire-format file or a JSON array of numbers (batch 1, model input shape)')
    .option('--random', 'use a seeded random input (the default when --input is not given)')
    .option('--seed <n>', 'seed of the random input', integer('--seed'), 7)
    .option('--network <preset|file>', `network: ${NETWORK_PRESET_NAMES.join(', ')}, or a JSON file {uplinkMbps, downlinkMbps, rttMs}`, '4g')
    .option('--device <class|file>', 'device class name, or a JSON file with the device body of POST /plan', 'flagship-phone')
    .option('--battery <level>', 'battery level 0..1 (instead of an energy budget)', fraction('--battery'))
    .addOption(new Option('--objective <objective>', 'what the planner minimises').choices(OBJECTIVES))
    .addOption(new Option('--dtype <dtype>', 'encoding of the crossing tensors').choices(DTYPES).default('float32'))
    .option('--cut <c>', "override the planner's cut (debugging and tests)", nonNegativeInt('--cut'))
    .option('--sigv4 <region>', 'sign requests with SigV4 for the deployed API (IAM auth), credentials from the default AWS chain')
    .option('--timeout-ms <ms>', 'per-request timeout', positiveInt('--timeout-ms'), 30_000)
    .option('--wait-for-plan', 'run nothing on the device until the plan has come (default: the model runs while POST /plan is in flight)')
    .option('--json', 'print the result as JSON alone on stdout')
    .action(async (flags: InferFlags) => {
      if (flags.input && flags.random) throw new ValidationError('--input', 'give --input or --random, not both');
      const [{ initBackend }, { DeviceModel }, { OffloadApi, ApiError }, { collaborativeInfer }] = await Promise.all([
        import('../../models/backend'),
        import('../../client/device'),
        import('../../client/api'),
        import('../../client/infer'),
      ]);
      const backend = await initBackend();
      const device = await DeviceModel.load(flags.model);
      try {
        const input = flags.input ? await readInput(flags.input, device.analysis.inputShape) : device.randomInput(flags.seed);
        const signer = flags.sigv4 ? (await import('../../client/sigv4')).sigV4Signer(flags.sigv4) : undefined;
        const api = new OffloadApi({ baseUrl: flags.url, timeoutMs: flags.timeoutMs, ...(signer ? { signer } : {}) });
        // The pieces the device runs while its plan is in flight, built before the request's clock: built inside it
        // they held the plan's answer (5–15 ms on the local stack) ~200 ms for ResNet-50, shown as waiting for the plan.
        if (flags.waitForPlan !== true) device.prepareAhead();

        const result = await collaborativeInfer({
          api,
          device,
          input,
          ...(flags.cut === undefined ? {} : { cut: flags.cut }),
          waitForPlan: flags.waitForPlan === true,
          // The prediction is half of what this command prints: wait for a plan slower than the device, after its answer.
          settlePlan: true,
          request: {
            device: deviceArg(flags.device),
            network: networkArg(flags.network),
            dtype: flags.dtype,
            ...(flags.battery === undefined ? {} : { battery: { level: flags.battery } }),
            ...(flags.objective ? { objective: flags.objective } : {}),
          },
        }).catch(async (e: unknown) => {
          // A refusal by the API (4xx) is the user's input, not a crash: cli/main.ts prints it in one line; a 404 also lists what is deployed.
          if (e instanceof ApiError && e.status === 404) throw await notDeployed(api, flags.url, device.name, flags.cut);
          throw e;
        });
        input.dispose();
        const top = topClass(result.output.data);
        if (flags.json) {
          const { output, plan, ...rest } = result;
          printJson({
            backend,
            ...rest,
            output: { shape: output.shape, top },
            planFeasible: plan?.feasible ?? null,
          });
          return;
        }
        note(`backend: ${backend}`);
        const where = result.target === 'cloud' ? `cloud (${result.cold ? 'cold' : 'warm'}${result.instance ? `, instance ${result.instance}` : ''})` : 'device';
        console.log(`${result.model}: cut ${result.cut} of ${device.layerCount}, tail ran on the ${where}`);
        if (result.fallback) console.log(`fallback: ${result.fallback.reason} — ${result.fallback.message}`);
        if (result.plan && result.measured.planMs === null) console.log('the plan came after the device had the answer: not waited for, its prediction shown');
        console.log(table(timingRows(result, device.layerCount), ['part', 'measuredMs', 'predictedMs']));
        // A device row is this machine running the model for the first time in this process; its prediction is for the
        // device class asked for (a warm phone's profile): say so, or the two read as the planner being far off.
        if (result.measured.deviceHeadMs > 0 || result.measured.deviceTailMs !== null) {
          const asked = flags.device.endsWith('.json') ? `the device in ${flags.device}` : `a ${flags.device}, warm`;
          console.log(`measured: device rows on this machine, the model's first run in this process (setup included); predicted: ${asked}`);
        }
        console.log(`output: shape [${result.output.shape.join(', ')}], top class ${top.index} (${top.value.toPrecision(4)})`);
      } finally {
        device.dispose();
      }
    });
}

type TimingRow = { part: string; measuredMs: number | null; predictedMs: number | null };

/**
 * The timing table: one row per part that ran, measured beside predicted.
 * Device-only runs have one compute row (the whole model) whose prediction is
 * the plan's device-only row; a cloud run that fell back shows the device tail
 * it ran instead of the cloud rows.
 */
export function timingRows(
  result: Pick<CollaborativeResult, 'cut' | 'target' | 'predicted' | 'measured' | 'fallback'>,
  L: number,
): TimingRow[] {
  const p = result.predicted;
  const m = result.measured;
  const total: TimingRow = { part: 'total', measuredMs: m.totalMs, predictedMs: p?.latencyMs ?? null };
  // The cost model does not predict the asking: what of the plan's round trip the device waited, beside it.
  const asked: TimingRow[] = m.planWaitMs > 0 ? [{ part: 'wait for the plan', measuredMs: m.planWaitMs, predictedMs: null }] : [];
  if (result.cut === L) {
    // the plan's device-only row: all L layers count as the head, and its latency is that compute
    return [...asked, { part: 'device, whole model', measuredMs: m.deviceTailMs, predictedMs: p?.headMs ?? null }, total];
  }
  const head: TimingRow = { part: 'device head', measuredMs: m.deviceHeadMs, predictedMs: p?.headMs ?? null };
  if (result.target === 'device') {
    // the cloud part did not happen: the device ran the tail, which the plan did not predict
    return [...asked, head, { part: 'device tail (fallback)', measuredMs: m.deviceTailMs, predictedMs: null }, { ...total, predictedMs: null }];
  }
  return [
    ...asked,
    head,
    { part: 'upload+rtt+download', measuredMs: m.networkMs, predictedMs: p ? p.latencyMs - p.headMs - p.tailMs - p.coldMs : null },
    { part: 'cloud init (cold start)', measuredMs: m.cloudInitMs, predictedMs: p?.coldMs ?? null },
    { part: 'cloud compute', measuredMs: m.cloudComputeMs, predictedMs: p?.tailMs ?? null },
    total,
  ];
}

/** A 404 from the API as a one-line error listing what is deployed (GET /models, best effort). */
async function notDeployed(api: OffloadApi, url: string, model: string, cut: number | undefined): Promise<OffloadError> {
  let deployed: string;
  try {
    const { models } = await api.models();
    deployed =
      models
        .map((m) => `${m.name} (cuts ${m.candidates.filter((c) => c.deployed).map((c) => c.cut).join(', ') || 'none'})`)
        .join('; ') || 'nothing';
  } catch (e) {
    deployed = `unknown (GET /models failed: ${e instanceof Error ? e.message : String(e)})`;
  }
  const what = cut === undefined ? `model "${model}"` : `model "${model}" at cut ${cut}`;
  return new OffloadError('not-found', `${what} is not deployed at ${url}; deployed: ${deployed}`);
}

function topClass(data: Float32Array): { index: number; value: number } {
  let index = 0;
  for (let i = 1; i < data.length; i++) if (data[i]! > data[index]!) index = i;
  return { index, value: data[index] ?? Number.NaN };
}

async function readInput(file: string, inputShape: number[]) {
  const tf = await import('../../models/tfjs');
  const { decodeTensors } = await import('../../core/wire');
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw new OffloadError('invalid-input', `--input ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  });
  const expected = inputShape.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  const text = bytes.subarray(0, 1).toString();
  if (text === '[') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new ValidationError('--input', `not valid JSON: ${(e as Error).message}`);
    }
    const flat = Array.isArray(parsed) ? (parsed as unknown[]).flat(Infinity) : [];
    if (!flat.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new ValidationError('--input', 'must be an array of finite numbers');
    data = Float32Array.from(flat as number[]);
  } else {
    const [first] = decodeTensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (!first) throw new ValidationError('--input', 'the payload holds no tensor');
    data = first.data;
  }
  if (data.length !== expected) {
    throw new ValidationError('--input', `has ${data.length} values; the model input [${inputShape.join(', ')}] needs ${expected}`);
  }
  return tf.tensor(data, [1, ...inputShape], 'float32');
}

/** A preset name or a measured-network file; the client checks the file against the plan request schema. */
function networkArg(value: string): PlanRequestInput['network'] {
  if (isNetworkPresetName(value)) return value;
  return readJsonFile(value, 'network file') as PlanRequestInput['network'];
}

/** A class name or a device file; the client checks the file against the plan request schema. */
function deviceArg(value: string): PlanRequestInput['device'] {
  if (!value.endsWith('.json')) return value;
  return readJsonFile(value, 'device file') as PlanRequestInput['device'];
}
