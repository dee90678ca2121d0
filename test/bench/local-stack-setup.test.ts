import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeviceModel } from '../../client/device';
import { decodeTensors } from '../../core/wire';
import { headPayloads, writeLocalConfig } from '../../bench/local-stack-setup';
import { initBackend } from '../../models/backend';

const dir = mkdtempSync(join(tmpdir(), 'local-stack-setup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeLocalConfig', () => {
  it('writes local/offload.local.json with the tail overrides merged and the top-level ones replacing', () => {
    const local = JSON.parse(readFileSync('local/offload.local.json', 'utf8')) as Record<string, unknown> & { tail: Record<string, unknown> };
    const path = writeLocalConfig(dir, { wasmThreads: 1, reservedConcurrency: 8 }, { models: { mobilenetv2: { cuts: [0] } } });
    expect(path).toBe(join(dir, 'offload.config.json'));
    const written = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(written).toEqual({ ...local, tail: { ...local.tail, wasmThreads: 1, reservedConcurrency: 8 }, models: { mobilenetv2: { cuts: [0] } } });
    expect(Object.keys(written)).toEqual(Object.keys({ ...local, models: null }));
  });
});

describe('headPayloads', () => {
  it("encodes each cut's head output of the seed-7 input", async () => {
    await initBackend();
    const payloads = await headPayloads('tinychain', [0, 2]);
    const device = await DeviceModel.load('tinychain');
    const input = device.randomInput(7);
    try {
      expect([...payloads.keys()]).toEqual([0, 2]);
      for (const cut of [0, 2]) {
        const head = await device.runHead(cut, input);
        const sent = decodeTensors(payloads.get(cut)!);
        expect(sent.map((t) => t.shape)).toEqual(head.map((t) => t.shape));
        expect(Array.from(sent[0]!.data as Float32Array)).toEqual(Array.from(head[0]!.data));
      }
    } finally {
      input.dispose();
      device.dispose();
    }
  }, 60_000);
});
