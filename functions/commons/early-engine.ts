/**
 * Starts the tail's wasm engine's pthread workers as soon as the handler
 * bundle has loaded (functions/tail/main.ts), before init: init first awaits
 * the registry busy mark (35–65 ms here, mostly waiting on the network), and
 * the workers boot Node and evaluate emscripten's main script meanwhile; the
 * engine takes them when it starts (models/wasm-threads.ts) instead of
 * starting its own then. Started from the entry at process start instead,
 * they took CPU from the bundle's compile on two cores and the cold start did
 * not fall (docs/local-stack.md). Nothing here throws: when the workers
 * cannot start (switched off, one thread, another backend forced, files
 * missing) there is no handle and the engine starts its own, as it does
 * without this. A bad `OFFLOAD_EARLY_ENGINE` or `OFFLOAD_WASM_THREADS` is
 * reported by name at init.
 */
import { wasmWorkerContents } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';
import { switchOn, switchSetting } from '../../core/env-switch';
import { requestedWasmThreads, startEarlyPthreadWorkers, threadedMainScript, type EarlyPthreadWorkers } from '../../models/wasm-threads';

type Env = Readonly<Record<string, string | undefined>>;

/** Environment switch: `OFFLOAD_EARLY_ENGINE=off` lets the engine start its pthread workers itself, once init has awaited the registry mark. */
export const EARLY_ENGINE_ENV = 'OFFLOAD_EARLY_ENGINE';

/**
 * Whether the engine's pthread workers start before init: unset, empty or `on` → on; `off` → off.
 * @throws OffloadError `invalid-input` for any other value
 */
export function earlyEngineEnabled(env: Env = process.env): boolean {
  return switchOn(env, EARLY_ENGINE_ENV);
}

/**
 * The engine's pthread workers, started; undefined when there are none to
 * start or they cannot start (`log` says why when it is a failure, not a
 * setting).
 */
export function startEarlyEngine(env: Env, log: (message: string) => void = () => undefined): EarlyPthreadWorkers | undefined {
  if (switchSetting(env, EARLY_ENGINE_ENV) !== 'on') return undefined;
  const backend = env.OFFLOAD_BACKEND?.trim().toLowerCase();
  if (backend && backend !== 'wasm') return undefined;
  let threads: number;
  try {
    threads = requestedWasmThreads(env).threads;
  } catch {
    return undefined; // the engine's start names the variable
  }
  if (threads < 2) return undefined;
  const mainScript = threadedMainScript(env.OFFLOAD_WASM_DIR?.trim() || undefined);
  if (mainScript === undefined) {
    log('the threaded main script is not in OFFLOAD_WASM_DIR');
    return undefined;
  }
  const started = startEarlyPthreadWorkers(threads, wasmWorkerContents, mainScript);
  if (typeof started === 'string') {
    log(started);
    return undefined;
  }
  return started;
}
