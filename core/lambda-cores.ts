/**
 * How many cores a Lambda function sees and how many threads its tail's wasm
 * engine runs. Apart from ./profiles.ts (which re-exports them), whose zod
 * schemas would be built at every tail's cold start for these few lines.
 */
import { ValidationError } from './errors';

/** Lambda memory that buys one full vCPU (AWS documentation; reference facts). */
export const MB_PER_VCPU = 1769;

/**
 * Cores a Lambda function of `memoryMB` sees (`os.cpus().length`): 2 up to
 * 3,008 MB, then one more per {@link MB_PER_VCPU} (3 to 5,307 MB, 4 to 7,076,
 * 5 to 8,845, 6 to 10,240), as measured by github.com/rwnx/lambda-cpuinfo
 * (reference facts). The tail's wasm engine runs this many threads; the CPU
 * time they share still scales with memory (1,769 MB per vCPU).
 */
export function lambdaVisibleCores(memoryMB: number): number {
  if (!(memoryMB > 0) || !Number.isFinite(memoryMB)) throw new ValidationError('memoryMB', `must be a positive number (got ${memoryMB})`);
  return memoryMB <= 3008 ? 2 : Math.min(6, Math.max(3, Math.ceil(memoryMB / MB_PER_VCPU)));
}

/** Largest thread count of the tail's wasm engine: tfjs-backend-wasm 4.x compiles in a pool of 8 (`pthreadPoolSize=8`). */
export const MAX_WASM_THREADS = 8;

/**
 * Threads the wasm engine of a tail with `memoryMB` runs: `pinned` when set
 * (config `wasmThreads`, the function's `OFFLOAD_WASM_THREADS`), else the
 * cores the function sees ({@link lambdaVisibleCores}), at most
 * {@link MAX_WASM_THREADS}. The one rule `cdk deploy` (the function's
 * environment and the catalog), `npm start` (the same synthesised app) and the
 * planner's pricing share, so the planner prices the engine that runs.
 */
export function tailWasmThreads(memoryMB: number, pinned?: number): number {
  if (pinned !== undefined) {
    if (!(Number.isInteger(pinned) && pinned >= 1 && pinned <= MAX_WASM_THREADS)) {
      throw new ValidationError('wasmThreads', `must be an integer from 1 to ${MAX_WASM_THREADS} (got ${pinned})`);
    }
    return pinned;
  }
  return Math.min(MAX_WASM_THREADS, lambdaVisibleCores(memoryMB));
}
