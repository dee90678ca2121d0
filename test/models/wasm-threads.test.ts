import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import workerThreads from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wasmWorkerContents } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';
import { prepareThreadedStart, pthreadPoolSize, THREADED_MAIN_SCRIPT } from '../../models/wasm-threads';

const mainScript = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out', THREADED_MAIN_SCRIPT);

/** Stands in for worker_threads.Worker: records what the stand-ins start for real, starts no thread. */
class FakeWorker {
  static started: FakeWorker[] = [];
  readonly posted: unknown[] = [];
  constructor(readonly file: string) {
    FakeWorker.started.push(this);
  }
  on(): this {
    return this;
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  unref(): void {}
  terminate(): Promise<number> {
    return Promise.resolve(0);
  }
}

type PoolWorker = { postMessage(m: unknown): void };

describe('the threaded engine starts only the workers its thread pool runs on', () => {
  let scratch: string;
  const Real = workerThreads.Worker;
  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'offload-threads-'));
    FakeWorker.started = [];
    (workerThreads as { Worker: unknown }).Worker = FakeWorker;
  });
  afterEach(async () => {
    (workerThreads as { Worker: unknown }).Worker = Real;
    await rm(scratch, { recursive: true, force: true });
  });

  /** What emscripten does: create the pool, "load" every worker in order, then start pthreads on unusedWorkers.pop(). */
  function emscripten(threads: number): { pool: PoolWorker[]; restore(): void } {
    const prepared = prepareThreadedStart(threads, wasmWorkerContents, mainScript, scratch);
    if (typeof prepared === 'string') throw new Error(prepared);
    const pool: PoolWorker[] = [];
    for (let i = 0; i < 8; i++) pool.push(new (workerThreads.Worker as unknown as new (f: string) => PoolWorker)('pthread-worker.js'));
    for (const w of pool) w.postMessage({ cmd: 'load' });
    return { pool, restore: () => prepared.restore() };
  }

  it('reads the pool size compiled into the installed main script', async () => {
    const { readFile } = await import('node:fs/promises');
    expect(pthreadPoolSize(await readFile(mainScript, 'utf8'))).toBe(8);
    expect(pthreadPoolSize('no pool here')).toBe(8);
  });

  it('2 threads: one real worker, the one the first pthread gets, loaded before any thread runs', () => {
    const { pool, restore } = emscripten(2);
    try {
      expect(FakeWorker.started).toHaveLength(1);
      expect(FakeWorker.started[0]!.posted).toEqual([{ cmd: 'load' }]);
      // XNNPACK's pool of 2 starts one pthread, on the last unused worker
      pool[7]!.postMessage({ cmd: 'run' });
      expect(FakeWorker.started).toHaveLength(1);
      expect(FakeWorker.started[0]!.posted).toEqual([{ cmd: 'load' }, { cmd: 'run' }]);
    } finally {
      restore();
    }
  });

  it('4 threads: three real workers, the last three; a thread beyond them starts its worker then', () => {
    const { pool, restore } = emscripten(4);
    try {
      expect(FakeWorker.started).toHaveLength(3);
      for (const i of [7, 6, 5]) pool[i]!.postMessage({ cmd: 'run' });
      expect(FakeWorker.started).toHaveLength(3);
      pool[4]!.postMessage({ cmd: 'run' });
      expect(FakeWorker.started).toHaveLength(4);
      // the lazily started worker gets the "load" it missed, then the thread
      expect(FakeWorker.started[3]!.posted).toEqual([{ cmd: 'load' }, { cmd: 'run' }]);
    } finally {
      restore();
    }
  });
});
