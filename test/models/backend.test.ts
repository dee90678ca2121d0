import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { OffloadError } from '../../core/errors';
import { currentBackend, initBackend, skippedBackends } from '../../models/backend';

// The tests share one process and run in order: the wasm backend can only be
// pointed at a folder before it first initialises, so the bad-folder case comes first.
const savedBackend = process.env.OFFLOAD_BACKEND;
const savedWasmDir = process.env.OFFLOAD_WASM_DIR;

function setEnv(backend: string | undefined, wasmDir?: string): void {
  if (backend === undefined) delete process.env.OFFLOAD_BACKEND;
  else process.env.OFFLOAD_BACKEND = backend;
  if (wasmDir === undefined) delete process.env.OFFLOAD_WASM_DIR;
  else process.env.OFFLOAD_WASM_DIR = wasmDir;
}

async function failure(p: Promise<unknown>): Promise<OffloadError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OffloadError);
  return e as OffloadError;
}

function sumOfConv(): number {
  return tf.tidy(() => tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 'same').sum().dataSync()[0]!);
}

describe('initBackend', () => {
  afterEach(() => setEnv(savedBackend, savedWasmDir));

  it('reports a forced wasm backend whose OFFLOAD_WASM_DIR holds no .wasm file as unavailable', async () => {
    setEnv('wasm', '/nonexistent/offload-wasm');
    const e = await failure(initBackend());
    expect(e.code).toBe('backend-unavailable');
    expect(e.message).toContain('/nonexistent/offload-wasm');
    expect(e.message).toContain('OFFLOAD_WASM_DIR');
  });

  it('picks wasm by default here (tfjs-node is not installed)', async () => {
    setEnv(undefined);
    const name = await initBackend();
    expect(name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
    expect(skippedBackends().map((s) => s.name)).toEqual(['tensorflow']);
    expect(skippedBackends()[0]!.reason).toMatch(/@tensorflow\/tfjs-node is not installed/);
    // 4×4 input of ones, 3×3 kernel of ones over 2 channels, zero padding: corners 8, edges 12, inside 18
    expect(sumOfConv()).toBe(4 * 8 + 8 * 12 + 4 * 18);
  });

  it('is idempotent: a second call answers the same without re-initialising', async () => {
    setEnv(undefined);
    const first = initBackend();
    const second = initBackend();
    expect(await first).toBe(await second);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('switches to cpu when OFFLOAD_BACKEND=cpu, and computes the same', async () => {
    setEnv('cpu');
    expect(await initBackend()).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(currentBackend()).toBe('cpu');
    expect(sumOfConv()).toBe(4 * 8 + 8 * 12 + 4 * 18);
  });

  it('accepts OFFLOAD_BACKEND=wasm when the files are where the package ships them', async () => {
    setEnv('WASM');
    expect(await initBackend()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('fails clearly when tensorflow is forced and tfjs-node cannot load', async () => {
    setEnv('tensorflow');
    let installed = true;
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    } catch {
      installed = false;
    }
    if (installed) {
      // where tfjs-node does install, forcing it must select it
      expect(await initBackend()).toBe('tensorflow');
      return;
    }
    const e = await failure(initBackend());
    expect(e.code).toBe('backend-unavailable');
    expect(e.status).toBe(500);
    expect(e.message).toMatch(/^OFFLOAD_BACKEND=tensorflow: @tensorflow\/tfjs-node is not installed/);
    expect(e.message).toContain('npm install @tensorflow/tfjs-node');
    // the failure leaves the previous backend in place
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an OFFLOAD_BACKEND that names no backend, listing the valid ones', async () => {
    setEnv('gpu');
    const e = await failure(initBackend());
    expect(e.code).toBe('invalid-input');
    expect(e.message).toMatch(/^OFFLOAD_BACKEND: must be one of tensorflow, wasm, cpu \(got "gpu"\)/);
  });
});
