/**
 * Reserved concurrency at work: the test configuration gives every tail a
 * reserved concurrency of 2. A burst above it gets 429s at once, nothing
 * hangs, every request ends; and `offload infer`, run as a real process
 * while the function is full, falls back to the device and still answers
 * as the full model does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceModel } from '../../client/device';
import { encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { initBackend } from '../../models/backend';
import { alive, runOffload, startE2EStack, until, type E2EStack } from './stack-fixture';

const RESERVED = 2;
const FUNCTION = 'offload-e2e-tinychain-0';
const ROUTE = '/infer/tinychain/0';

interface Outcome {
  status: number;
  ms: number;
  body: string;
}

describe('a burst above reserved concurrency', () => {
  let e: E2EStack;
  let device: DeviceModel;
  let x: tf.Tensor;
  let payload: Uint8Array;
  let expected: Float32Array;
  const files = mkdtempSync(join(tmpdir(), 'offload-e2e-throttle-'));
  const paused: number[] = [];

  beforeAll(async () => {
    await initBackend();
    e = await startE2EStack();
    device = await DeviceModel.load('tinychain');
    x = device.randomInput(4);
    payload = encodeTensors(await device.runHead(0, x));
    expected = (await device.runAll(x)).data;
  });

  afterAll(async () => {
    for (const pid of paused) if (alive(pid)) process.kill(pid, 'SIGCONT');
    x?.dispose();
    device?.dispose();
    rmSync(files, { recursive: true, force: true });
    const pids = (await e?.close()) ?? [];
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  async function send(): Promise<Outcome> {
    const started = performance.now();
    const res = await fetch(e.stack.url + ROUTE, {
      method: 'POST',
      headers: { 'content-type': WIRE_CONTENT_TYPE },
      body: payload,
      signal: AbortSignal.timeout(60_000),
    });
    const body = res.status === 200 ? '' : await res.text();
    if (res.status === 200) await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started, body };
  }

  const fnStats = () => e.stack.emulator.stats().functions.find((f) => f.name === FUNCTION);

  it('answers the excess with 429 at once while the admitted requests start cold; every request ends', async () => {
    // Act: 8 requests at once on a function that has never run
    const outcomes = await Promise.all(Array.from({ length: 8 }, send));

    // Assess
    const ok = outcomes.filter((o) => o.status === 200);
    const throttled = outcomes.filter((o) => o.status === 429);
    expect(ok.length + throttled.length).toBe(outcomes.length);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThanOrEqual(RESERVED);
    expect(throttled.length).toBeGreaterThanOrEqual(outcomes.length - RESERVED);
    for (const t of throttled) expect(JSON.parse(t.body)).toMatchObject({ code: 'throttled' });
    // "quickly": every 429 came back before any admitted request had finished its cold start
    expect(Math.max(...throttled.map((t) => t.ms))).toBeLessThan(Math.min(...ok.map((o) => o.ms)));
    expect(fnStats()).toMatchObject({ throttles: throttled.length, coldStarts: ok.length, errors: 0 });
  });

  it('offload infer falls back to the device while the function is full, with the right output', async () => {
    // Prepare: two invocations held in flight, as long-running handlers would hold them — both
    // environments warm, then paused (SIGSTOP) so the requests dispatched to them do not finish.
    // a pair of concurrent requests starts a second environment unless the first is fast enough to serve both
    for (let i = 0; i < 10 && fnStats()?.environments.length !== RESERVED; i++) await Promise.all([send(), send()]);
    expect(fnStats()?.idle).toBe(RESERVED);
    for (const env of fnStats()?.environments ?? []) {
      process.kill(env.pid, 'SIGSTOP');
      paused.push(env.pid);
    }
    const held = [send(), send()];
    await until(() => (fnStats()?.busy === RESERVED ? true : undefined), 'both environments busy');
    const inputFile = join(files, 'input.json');
    writeFileSync(inputFile, JSON.stringify(Array.from(await x.data())));

    try {
      // Act: a raw request, then the CLI, against the full function
      const direct = await send();
      const cli = await runOffload(['infer', '--url', e.stack.url, '--model', 'tinychain', '--cut', '0', '--input', inputFile, '--json']);

      // Assess
      expect(direct.status).toBe(429);
      expect(direct.ms).toBeLessThan(1000);
      expect(cli.code, cli.stderr).toBe(0);
      const r = JSON.parse(cli.stdout) as {
        cut: number;
        target: string;
        fallback: { reason: string; message: string } | null;
        output: { shape: number[]; top: { index: number; value: number } };
      };
      expect(r).toMatchObject({ cut: 0, target: 'device', fallback: { reason: 'throttled' } });
      expect(r.fallback?.message).toContain('429');
      let top = 0;
      for (let i = 1; i < expected.length; i++) if ((expected[i] as number) > (expected[top] as number)) top = i;
      expect(r.output.top.index).toBe(top);
      expect(Math.abs(r.output.top.value - (expected[top] as number))).toBeLessThanOrEqual(1e-4);
    } finally {
      for (const pid of paused.splice(0)) process.kill(pid, 'SIGCONT');
    }

    // the held requests complete once their environments run again: nothing hung
    const done = await Promise.all(held);
    expect(done.map((d) => d.status)).toEqual([200, 200]);
  });
});
