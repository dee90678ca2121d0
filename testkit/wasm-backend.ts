/** Test set-up: a test file that runs on the wasm engine the tails run, whatever OFFLOAD_BACKEND the run was given. */
import { afterAll, beforeAll } from 'vitest';
import { initBackend } from '../models/backend';

/** Selects the wasm backend before the file's tests and restores `OFFLOAD_BACKEND` after them. Call at the top level of a test file. */
export function useWasmBackend(): void {
  const saved = process.env.OFFLOAD_BACKEND;
  beforeAll(async () => {
    process.env.OFFLOAD_BACKEND = 'wasm';
    await initBackend();
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.OFFLOAD_BACKEND;
    else process.env.OFFLOAD_BACKEND = saved;
  });
}
