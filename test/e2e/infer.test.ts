/**
 * plan → head on this machine → tail in the emulator → output, through the
 * whole local stack (HTTP API, planner and tail bundles from the synthesised
 * template, S3 and DynamoDB stand-ins), by the client library and by the
 * `offload infer` CLI as a real process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OffloadApi, type PlanRequestBody } from '../../client/api';
import { DeviceModel } from '../../client/device';
import { collaborativeInfer } from '../../client/infer';
import { initBackend } from '../../models/backend';
import { alive, runOffload, startE2EStack, type E2EStack } from './stack-fixture';
import { maxAbsDiff } from '../../testkit/tensors';

// This file runs a local stack and every deployed cut: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

function top(data: Float32Array): { index: number; value: number } {
  let index = 0;
  for (let i = 1; i < data.length; i++) if ((data[i] as number) > (data[index] as number)) index = i;
  return { index, value: data[index] as number };
}

/**
 * A device that is quick on tinychain's first four layers and slow (1 s
 * each) on the rest, on a 1 Mbit/s uplink: every cut is cold (the same
 * pinned cold start, within 0.1 ms), so the planner weighs upload against
 * device time and picks cut 4 (1,024 bytes cross, versus 3,072 at cut 0 and
 * 2,048 at cut 2; cut 6 would run two slow layers here, device-only three).
 */
const SPLIT_FRIENDLY: Omit<PlanRequestBody, 'model'> = {
  device: { computeW: 3.5, idleW: 0.5, deviceMs: [0.01, 0.01, 0.01, 0.01, 1000, 1000, 1000] },
  network: { uplinkMbps: 1, downlinkMbps: 10, rttMs: 10 },
};

describe('collaborative inference through the local stack', () => {
  let e: E2EStack;
  let api: OffloadApi;
  let chain: DeviceModel;
  let dag: DeviceModel;
  let input: tf.Tensor;
  let expected: Float32Array;
  const files = mkdtempSync(join(tmpdir(), 'offload-e2e-infer-'));

  beforeAll(async () => {
    await initBackend();
    // the cold-start model pinned, so the plan does not move with the calibrated defaults
    e = await startE2EStack({ env: { FLEET_CACHE_MS: '0', COLD_BASE_MS: '400', COLD_MS_PER_MB: '10' } });
    api = new OffloadApi({ baseUrl: e.stack.url, timeoutMs: 20_000 });
    chain = await DeviceModel.load('tinychain');
    dag = await DeviceModel.load('tinydag');
    input = chain.randomInput(11);
    expected = (await chain.runAll(input)).data;
  });

  afterAll(async () => {
    input?.dispose();
    chain?.dispose();
    dag?.dispose();
    rmSync(files, { recursive: true, force: true });
    const pids = (await e?.close()) ?? [];
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it("runs the planner's cut: head here, tail in its function, and matches the full model (≤ 1e-4)", async () => {
    // Act: SPLIT_FRIENDLY describes a slow device, but this machine runs tinychain in a millisecond or two, before the
    // plan comes: run while the plan is in flight (the default), it would answer from the device. Waiting for the plan
    // exercises the split the plan names.
    const r = await collaborativeInfer({ api, device: chain, request: SPLIT_FRIENDLY, input, waitForPlan: true });

    // Assess: the plan went to the cloud at cut 4, the tail started cold and reported its init
    expect(r.plan?.cut).toBe(4);
    expect(r.plan?.route).toBe('/infer/tinychain/4');
    expect(r).toMatchObject({ target: 'cloud', cut: 4, function: 'offload-e2e-tinychain-4', cold: true, fallback: null });
    expect(r.measured.cloudInitMs).toBeGreaterThan(0);
    expect(r.measured.cloudComputeMs).toBeGreaterThanOrEqual(0);
    expect(maxAbsDiff(r.output.data, expected)).toBeLessThanOrEqual(1e-4);

    // Overlapped: the device's own answer when the model is done before the plan, else the plan's split; right either way.
    const o = await collaborativeInfer({ api, device: chain, request: SPLIT_FRIENDLY, input });
    if (o.plan === null) expect([o.cut, o.target, o.measured.planWaitMs]).toEqual([7, 'device', 0]);
    else expect([o.cut, o.target]).toEqual([4, 'cloud']);
    expect(maxAbsDiff(o.output.data, expected)).toBeLessThanOrEqual(1e-4);
  });

  it('answers as the full model at every deployed cut of both models', async () => {
    const x = dag.randomInput(5);
    try {
      const want = (await dag.runAll(x)).data;
      for (const [device, cuts, data, wantOut] of [
        [chain, [0, 2, 4, 6], input, expected],
        [dag, [0, 10, 20, 27], x, want],
      ] as const) {
        for (const cut of cuts) {
          const r = await collaborativeInfer({ api, device, request: { device: 'flagship-phone', network: 'wifi' }, cut, input: data });
          expect({ model: device.name, cut: r.cut, target: r.target, fallback: r.fallback }).toEqual({ model: device.name, cut, target: 'cloud', fallback: null });
          expect(maxAbsDiff(r.output.data, wantOut)).toBeLessThanOrEqual(1e-4);
        }
      }
    } finally {
      x.dispose();
    }
  });

  it('offload infer (a real process) plans, splits and prints the breakdown; --cut overrides the plan', async () => {
    // Prepare: the same device, network and input as files
    const deviceFile = join(files, 'device.json');
    const networkFile = join(files, 'network.json');
    const inputFile = join(files, 'input.json');
    writeFileSync(deviceFile, JSON.stringify(SPLIT_FRIENDLY.device));
    writeFileSync(networkFile, JSON.stringify(SPLIT_FRIENDLY.network));
    writeFileSync(inputFile, JSON.stringify(Array.from(await input.data())));
    // --wait-for-plan: this machine runs tinychain before the plan comes (see the test above); the split is what is tested.
    const common = ['infer', '--url', e.stack.url, '--model', 'tinychain', '--device', deviceFile, '--network', networkFile, '--input', inputFile, '--wait-for-plan'];

    // Act
    const planned = await runOffload([...common, '--json']);
    const forced = await runOffload([...common, '--cut', '2', '--json']);
    const human = await runOffload(common);

    // Assess: JSON names the cut and whether the tail was cold; the answer is the full model's
    expect(planned.code, planned.stderr).toBe(0);
    const p = JSON.parse(planned.stdout) as {
      cut: number;
      target: string;
      cold: boolean;
      fallback: unknown;
      measured: { deviceHeadMs: number; roundTripMs: number; cloudComputeMs: number; totalMs: number };
      predicted: { cut: number; latencyMs: number };
      output: { shape: number[]; top: { index: number; value: number } };
    };
    expect(p).toMatchObject({ cut: 4, target: 'cloud', cold: false, fallback: null, predicted: { cut: 4 } });
    expect(p.measured.roundTripMs).toBeGreaterThan(0);
    expect(p.output.shape).toEqual([1, expected.length]);
    expect(p.output.top.index).toBe(top(expected).index);
    expect(Math.abs(p.output.top.value - top(expected).value)).toBeLessThanOrEqual(1e-4);

    expect(forced.code, forced.stderr).toBe(0);
    const f = JSON.parse(forced.stdout) as { cut: number; target: string; cold: boolean; output: { top: { index: number } } };
    // with --cut there is no plan's function name: the tail's own answer names it
    expect(f).toMatchObject({ cut: 2, target: 'cloud', cold: false, function: 'offload-e2e-tinychain-2', output: { top: { index: top(expected).index } } });

    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('tinychain: cut 4 of 7, tail ran on the cloud (warm');
    for (const part of ['wait for the plan', 'device head', 'upload+rtt+download', 'cloud compute', 'total']) expect(human.stdout).toContain(part);
  });

  it('offload infer names a cut that is not deployed and lists what is; a device-only table adds up', async () => {
    // Act: cut 1 is a candidate of tinychain but has no function; cut 7 (= L) is device-only
    const missing = await runOffload(['infer', '--url', e.stack.url, '--model', 'tinychain', '--cut', '1']);
    const local = await runOffload(['infer', '--url', e.stack.url, '--model', 'tinychain', '--cut', '7', '--network', 'wifi']);

    // Assess
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n').at(-1)).toBe(
      `offload: model "tinychain" at cut 1 is not deployed at ${e.stack.url}; deployed: tinychain (cuts 0, 2, 4, 6); tinydag (cuts 0, 10, 20, 27)`,
    );
    expect(local.code, local.stderr).toBe(0);
    const rows = local.stdout.split('\n').filter((l) => /^(device|upload|cloud|total)/.test(l));
    expect(rows.map((l) => l.split(/\s{2,}/)[0])).toEqual(['device, whole model', 'total']);
    // one compute row: its prediction is the plan's device-only latency, the total's prediction
    const [whole, total] = rows.map((l) => l.trim().split(/\s{2,}/).slice(1).map(Number)) as [number[], number[]];
    expect(whole[1]).toBeGreaterThan(0);
    expect(total[1]).toBeCloseTo(whole[1] as number, 3);
    expect(total[0]).toBeGreaterThanOrEqual(whole[0] as number);
    // the device row is this machine's first run, the prediction the class asked for (the default, a flagship phone)
    expect(local.stdout).toContain("measured: device rows on this machine, the model's first run in this process (setup included); predicted: a flagship-phone, warm");
  });
});
