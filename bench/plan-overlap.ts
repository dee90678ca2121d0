/**
 * The real client asking while computing (docs/load.md "Asking while computing"): `collaborativeInfer` on this
 * machine against the local stack, the default (the model runs while POST /plan is in flight) alternated with
 * `waitForPlan` (ask, then compute), the device described as this machine (its profile), so the plan fits it.
 *
 *   npx tsx bench/plan-overlap.ts [--model mobilenetv2] [--runs 20]
 *
 * Prints, per mode, the median total, plan round trip and wait on the plan, the cuts used, and the ratio of the
 * medians; plus the whole model on the device alone. Run it under the measurement lock (a timing).
 */
import { loadavg } from 'node:os';
import { DeviceModel } from '../client/device';
import { collaborativeInfer, type CollaborativeResult } from '../client/infer';
import { thisMachineDevice } from '../core/this-machine';
import { loadProfile } from '../models/profile-files';
import { startBenchStack } from '../testkit/bench-stack';
import { median, parseArgsOrExit } from './report';

const usage = 'npx tsx bench/plan-overlap.ts [--model mobilenetv2] [--runs 20]';
const values = parseArgsOrExit({ options: { model: { type: 'string', default: 'mobilenetv2' }, runs: { type: 'string', default: '20' } } }, usage);
const model = values.model!;
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`error: --runs must be a positive integer (got ${values.runs})\nusage: ${usage}`);
  process.exit(2);
}

const la = () => loadavg().map((v) => v.toFixed(2)).join(' / ');
const loadStart = la();
const { stack, api } = await startBenchStack({ models: [model], log: (l) => console.error(l) });
const device = await DeviceModel.load(model);
try {
  const request = { device: thisMachineDevice(loadProfile(model)), network: 'wifi' as const };
  const input = device.randomInput();
  const one = (waitForPlan: boolean) => collaborativeInfer({ api, device, request, input, waitForPlan });
  // Warm: the planner's environment and caches, the device's split pieces and segments.
  for (let i = 0; i < 3; i++) for (const w of [false, true]) await one(w);
  // The cuts a plan can choose (what the client keeps while the next plan is in flight).
  const warm = await one(true);
  const keep = warm.plan!.candidates.filter((r) => r.cut !== warm.plan!.L && !r.reasons.includes('no-function') && !r.reasons.includes('payload')).map((r) => r.cut);
  const wholeMs: number[] = [];
  const chunkedMs: number[] = [];
  const by: Record<'overlapped' | 'waits for its plan', CollaborativeResult[]> = { overlapped: [], 'waits for its plan': [] };
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    for (const w of order) by[w ? 'waits for its plan' : 'overlapped'].push(await one(w));
    const t0 = performance.now();
    await device.runAll(input);
    wholeMs.push(performance.now() - t0);
    const t1 = performance.now();
    await device.runAhead(input, Promise.resolve(device.layerCount), { keep });
    chunkedMs.push(performance.now() - t1);
  }
  input.dispose();
  const f1 = (v: number) => v.toFixed(1);
  console.log(`${model} on this machine against the local stack, ${runs} alternated runs per mode; load average ${loadStart} at the start, ${la()} at the end`);
  console.log(`whole model on the device alone, no plan asked: median ${f1(median(wholeMs))} ms in one piece (runAll), ${f1(median(chunkedMs))} ms in runAhead's chunks keeping the deployed cuts ${keep.join(', ')}`);
  console.log('| mode | median total ms | median plan round trip ms | median wait on the plan ms | cuts (count) | answered before the plan came |');
  console.log('|---|---:|---:|---:|---|---:|');
  for (const [mode, rs] of Object.entries(by)) {
    const cuts = new Map<number, number>();
    for (const r of rs) cuts.set(r.cut, (cuts.get(r.cut) ?? 0) + 1);
    const plans = rs.map((r) => r.measured.planMs).filter((v): v is number => v !== null);
    console.log(`| ${mode} | ${f1(median(rs.map((r) => r.measured.totalMs)))} | ${plans.length ? f1(median(plans)) : '–'} | ${f1(median(rs.map((r) => r.measured.planWaitMs)))} | ${[...cuts].map(([c, n]) => `${c} (${n})`).join(', ')} | ${rs.filter((r) => r.plan === null).length} |`);
  }
  const ratio = median(by['waits for its plan'].map((r) => r.measured.totalMs)) / median(by.overlapped.map((r) => r.measured.totalMs));
  console.log(`waits for its plan / overlapped, median total: ${ratio.toFixed(2)}×`);
} finally {
  device.dispose();
  await stack.close();
}
