/**
 * Chaos during a bounded burst: while 12 collaborative inferences run against
 * the local stack, the tail environments are killed (SIGKILL, as a crashed
 * sandbox) and the S3 stand-in is stopped (new environments cannot load their
 * artifact). Every request must end — a cloud result or the device's
 * fallback with a clear reason — within the bound, every output must be the
 * full model's, and nothing may be left running after the stack closes.
 */
import { rmSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffloadApi } from '../../client/api';
import { DeviceModel } from '../../client/device';
import { collaborativeInfer, type CollaborativeResult } from '../../client/infer';
import { initBackend } from '../../models/backend';
import { maxAbsDiff } from '../../testkit/tensors';
import { alive, startE2EStack, type E2EStack } from './stack-fixture';

const BURST = 12;
const BOUND_MS = 60_000;

describe('chaos: environments killed and S3 stopped during a burst', () => {
  let e: E2EStack;
  let device: DeviceModel;
  let x: tf.Tensor;
  let expected: Float32Array;

  beforeAll(async () => {
    await initBackend();
    e = await startE2EStack();
    device = await DeviceModel.load('tinychain');
    x = device.randomInput(9);
    expected = (await device.runAll(x)).data;
  });

  afterAll(async () => {
    x?.dispose();
    device?.dispose();
    if (!e) return;
    const pids = e.stack.emulator.pids();
    // The S3 stand-in was stopped on purpose: closing it again fails, every other part still closes.
    await e.close().catch((err: unknown) => expect(String(err)).toMatch(/not running/));
    rmSync(e.stateDir, { recursive: true, force: true });
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('every request ends with a result or a clear fallback, all outputs right, nothing left running', async () => {
    // Prepare: warm one tail so the burst starts on a live environment
    const api = new OffloadApi({ baseUrl: e.stack.url, timeoutMs: 15_000 });
    const request = { device: 'flagship-phone', network: 'wifi' } as const;
    const warm = await collaborativeInfer({ api, device, request, cut: 2, input: x });
    expect(warm.target).toBe('cloud');

    // Act: the burst, and the faults injected while it runs
    const started = Date.now();
    const burst = Array.from({ length: BURST }, (_, i) =>
      collaborativeInfer({ api, device, request, cut: i % 2 === 0 ? 2 : 4, input: x }).then(
        (r): CollaborativeResult | Error => r,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const killed = e.stack.emulator.pids();
    for (const pid of killed) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await e.stack.s3.close();
    const outcomes = await Promise.race([
      Promise.all(burst),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`requests still running after ${BOUND_MS} ms`)), BOUND_MS)),
    ]);

    // Assess: every request ended, none with an exception, each output the full model's
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    expect(killed.length).toBeGreaterThan(0);
    for (const o of outcomes) {
      expect(o).not.toBeInstanceOf(Error);
      const r = o as CollaborativeResult;
      if (r.target === 'device') {
        // a fallback names why: the kill (5xx from the emulator), S3 (503), a throttle or a timeout
        expect(r.fallback?.reason).toMatch(/^(server|throttled|timeout|network)$/);
        expect(r.fallback?.message.length).toBeGreaterThan(0);
      } else {
        expect(r.fallback).toBeNull();
      }
      expect(maxAbsDiff(r.output.data, expected)).toBeLessThanOrEqual(1e-4);
    }
    // the faults were felt: at least one request fell back
    expect(outcomes.filter((o) => (o as CollaborativeResult).target === 'device').length).toBeGreaterThan(0);
    // the killed environments are gone
    for (const pid of killed) expect(alive(pid)).toBe(false);
  });
});
