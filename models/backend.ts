import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from './tfjs';
import { OffloadError, ValidationError } from '../core/errors';
import { prepareThreadedStart, requestedWasmThreads, THREADED_MAIN_SCRIPT, threadedMainScript, type EarlyPthreadWorkers } from './wasm-threads';
import { installWasmKernels } from './wasm-kernels';

/**
 * Which tfjs backend runs the models. Every module uses the tfjs API; the
 * backend is a switch chosen once at start:
 *
 *   tensorflow (@tensorflow/tfjs-node, optional, native libtensorflow)
 *   → wasm (@tensorflow/tfjs-backend-wasm, XNNPACK + SIMD, threads off under Node)
 *   → cpu (pure JavaScript, always there, ~30× slower than wasm)
 *
 * `OFFLOAD_BACKEND=tensorflow|wasm|cpu` forces one; if the forced one cannot
 * start, `initBackend` fails with `backend-unavailable` rather than silently
 * running something slower. `OFFLOAD_WASM_DIR` says where the `.wasm` files are:
 * inside an esbuild bundle the package's own lookup (relative to its JS file)
 * no longer finds them (without it, the backend looks next to the bundle file).
 *
 * In an ESM esbuild bundle the wasm backend's emscripten glue needs CommonJS's
 * `require` and `__dirname`; give the bundle this banner:
 *
 *   import { createRequire as __cr } from 'module'; import { fileURLToPath as __fu } from 'url';
 *   import { dirname as __dn } from 'path'; const require = __cr(import.meta.url);
 *   const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);
 *
 * and copy `node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm` next to it
 * (or into OFFLOAD_WASM_DIR). A failed start says why (e.g. `__dirname is not defined`).
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Files the wasm backend may load, depending on SIMD/thread support. */
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

// Held in a variable so that TypeScript and esbuild leave the optional package alone:
// it is resolved at run time, where it may or may not be installed.
const TFJS_NODE = '@tensorflow/tfjs-node';

type Request = BackendName | 'auto';

let state: { request: Request; promise: Promise<BackendName> } | undefined;
let active: BackendName | null = null;
let skipped: { name: BackendName; reason: string }[] = [];

/** Threads of the wasm engine: how many run, how many were asked for (and by what), and why fewer, if so. */
export interface WasmThreads {
  threads: number;
  requested: number;
  source: string;
  /** Why the single-threaded build runs although more threads were asked for. */
  fallback?: string;
  /** Of the pool's workers, how many the tail had started early (only when it offered some: {@link offerEarlyPthreadWorkers}). */
  earlyWorkers?: number;
}

let threads: WasmThreads | null = null;

let earlyWorkers: EarlyPthreadWorkers | undefined;

/**
 * Hands the next `initBackend` the pthread workers the tail started before
 * its init (models/wasm-threads.ts `startEarlyPthreadWorkers`): the
 * threaded engine runs on them instead of starting its own. Whatever the
 * start does with them, the ones it does not take are stopped when it ends.
 */
export function offerEarlyPthreadWorkers(workers: EarlyPthreadWorkers): void {
  earlyWorkers?.close();
  earlyWorkers = workers;
}

/**
 * Threads of the wasm engine once `initBackend` started it (null before, or
 * when another backend runs). A `fallback` means threads were asked for
 * (`OFFLOAD_WASM_THREADS`, or the Lambda memory size) and could not start; it
 * is also logged as a warning.
 */
export function wasmThreads(): WasmThreads | null {
  return active === 'wasm' ? threads : null;
}

/**
 * Selects and initialises the tfjs backend (see the module comment for the
 * order); reads `OFFLOAD_BACKEND` and `OFFLOAD_WASM_DIR`. Idempotent: later calls
 * with the same `OFFLOAD_BACKEND` return the same answer without re-initialising;
 * a changed `OFFLOAD_BACKEND` switches. Also turns on tfjs's production mode,
 * which silences its console banners (CLI output stays clean).
 *
 * @throws ValidationError when `OFFLOAD_BACKEND` is not a backend name.
 * @throws OffloadError `backend-unavailable` when the forced backend cannot start.
 */
export async function initBackend(): Promise<BackendName> {
  const request = parseRequest(process.env.OFFLOAD_BACKEND);
  if (state && state.request === request) return state.promise;
  const promise = select(request).then((name) => {
    active = name;
    return name;
  });
  state = { request, promise };
  // a failed start may be retried (e.g. after fixing the environment)
  promise.catch(() => {
    if (state?.promise === promise) state = undefined;
  });
  return promise;
}

/** The backend `initBackend` selected, or null before it has run. */
export function currentBackend(): BackendName | null {
  return active;
}

/**
 * The faster backends the last automatic selection passed over, and why
 * (e.g. tfjs-node not installed); empty when one was forced or the first worked.
 */
export function skippedBackends(): ReadonlyArray<{ name: BackendName; reason: string }> {
  return skipped;
}

function parseRequest(raw: string | undefined): Request {
  const value = raw?.trim().toLowerCase();
  if (!value) return 'auto';
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new ValidationError('OFFLOAD_BACKEND', `must be one of ${BACKEND_NAMES.join(', ')} (got "${raw}"); unset it to pick the fastest available`);
}

async function select(request: Request): Promise<BackendName> {
  try {
    const name = await selectBackend(request);
    tf.enableProdMode();
    return name;
  } finally {
    // a backend other than the threaded wasm engine started (or none did): the early workers are not needed
    earlyWorkers?.close();
    earlyWorkers = undefined;
  }
}

async function selectBackend(request: Request): Promise<BackendName> {
  skipped = [];
  if (request === 'auto') {
    const passed: { name: BackendName; reason: string }[] = [];
    for (const name of BACKEND_NAMES) {
      const problem = await tryStart(name);
      if (problem === null) {
        skipped = passed;
        return name;
      }
      passed.push({ name, reason: problem });
    }
    // unreachable in practice: the cpu backend is bundled with @tensorflow/tfjs
    throw new OffloadError('backend-unavailable', 'no tfjs backend could start (tensorflow, wasm and cpu all failed)');
  }
  const problem = await tryStart(request);
  if (problem !== null) {
    throw new OffloadError('backend-unavailable', `OFFLOAD_BACKEND=${request}: ${problem}`);
  }
  return request;
}

/** Starts one backend; returns null on success, else why it is unavailable and what to do. */
async function tryStart(name: BackendName): Promise<string | null> {
  switch (name) {
    case 'tensorflow':
      return startTensorflow();
    case 'wasm':
      return startWasm();
    case 'cpu': {
      const { ok, reason } = await setBackend('cpu');
      return ok ? null : `the cpu backend failed to initialise${because(reason)}`;
    }
  }
}

/**
 * tf.setBackend answers only true/false and sends the reason of a failure to
 * console.warn; capture it so that the error can say why.
 */
async function setBackend(name: string): Promise<{ ok: boolean; reason: string }> {
  if (tf.getBackend() === name) return { ok: true, reason: '' };
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  };
  try {
    const ok = await tf.setBackend(name);
    const reason = warnings
      .flatMap((w) => w.split('\n'))
      .map((l) => l.trim())
      .filter((l, i, all) => l && !/^Initialization of backend .* failed$/.test(l) && !/^at /.test(l) && all.indexOf(l) === i)
      .slice(0, 2)
      .join('; ');
    return { ok, reason };
  } finally {
    console.warn = warn;
  }
}

function because(reason: string): string {
  return reason ? ` (${reason})` : '';
}

async function startTensorflow(): Promise<string | null> {
  if (!tf.findBackendFactory('tensorflow')) {
    try {
      await import(/* @vite-ignore */ TFJS_NODE);
    } catch (e) {
      return (
        `${TFJS_NODE} is not installed or does not load (${firstLine(e)}). ` +
        `It is an optional dependency whose install downloads libtensorflow; install it with ` +
        `\`npm install ${TFJS_NODE}\`, or unset OFFLOAD_BACKEND to use wasm/cpu`
      );
    }
    if (!tf.findBackendFactory('tensorflow')) {
      return `${TFJS_NODE} loaded but registered its backend with another copy of @tensorflow/tfjs-core (version mismatch); install the version matching @tensorflow/tfjs ${tf.version.tfjs}`;
    }
  }
  const { ok, reason } = await setBackend('tensorflow');
  return ok ? null : `the tensorflow backend of ${TFJS_NODE} failed to initialise${because(reason)}`;
}

async function startWasm(): Promise<string | null> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    return `@tensorflow/tfjs-backend-wasm does not load (${firstLine(e)}); reinstall dependencies or set OFFLOAD_BACKEND=cpu`;
  }
  // setWasmPaths and the thread set-up are only possible before the backend initialises
  if (!backendInitialised('wasm')) {
    const override = process.env.OFFLOAD_WASM_DIR?.trim();
    const dir = override || packageWasmDir();
    if (dir !== undefined) {
      if (!WASM_FILES.some((f) => existsSync(join(dir, f)))) {
        const source = override ? 'OFFLOAD_WASM_DIR' : 'the @tensorflow/tfjs-backend-wasm package';
        return `no tfjs-backend-wasm*.wasm file in ${dir} (from ${source}); point OFFLOAD_WASM_DIR at the folder holding ${WASM_FILES.join(', ')}`;
      }
      wasm.setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
    }
    const request = requestedWasmThreads();
    if (request.threads > 1) {
      const problem = await startThreadedWasm(wasm, request.threads, override || undefined);
      if (typeof problem !== 'string') {
        const running = wasm.getThreadsCount();
        threads = { threads: running, requested: request.threads, source: request.source };
        if (running < request.threads) threads.fallback = `the engine capped its pool at ${running} threads`;
        if (problem.earlyWorkers !== undefined) threads.earlyWorkers = problem.earlyWorkers;
      } else {
        threads = { threads: 1, requested: request.threads, source: request.source, fallback: problem };
        console.warn(
          JSON.stringify({ level: 'warn', msg: 'tfjs wasm threads unavailable: running single-threaded', requested: request.threads, source: request.source, reason: problem }),
        );
      }
    } else {
      threads = { threads: 1, requested: 1, source: request.source };
    }
  }
  const { ok, reason } = await setBackend('wasm');
  if (!ok) return `the wasm backend failed to initialise${because(reason)}; check OFFLOAD_WASM_DIR or set OFFLOAD_BACKEND=cpu`;
  // the scalar element-wise kernels run on XNNPACK's thread pool instead (models/wasm-kernels.ts)
  if (process.env.OFFLOAD_WASM_KERNELS?.trim() !== 'tfjs') installWasmKernels();
  return null;
}

/**
 * Starts the threaded-SIMD build with `n` threads (models/wasm-threads.ts);
 * on success how many of its workers were the early ones (undefined
 * when none were offered), else why not. On failure the flag is turned off again so
 * that the caller's next start (tfjs keeps the factory of a backend whose
 * start failed) is the single-threaded build.
 */
async function startThreadedWasm(
  wasm: typeof import('@tensorflow/tfjs-backend-wasm'),
  n: number,
  wasmDir: string | undefined,
): Promise<string | { earlyWorkers: number | undefined }> {
  const mainScript = threadedMainScript(wasmDir);
  if (mainScript === undefined) {
    return `${THREADED_MAIN_SCRIPT} is neither in OFFLOAD_WASM_DIR nor in the installed @tensorflow/tfjs-backend-wasm (bundles copy it next to the .wasm files)`;
  }
  let workerContents: string | undefined;
  try {
    // a CommonJS module: Node gives its exports by name, a split bundle's chunk only as `default` (cdk/bundling.ts)
    const mod = (await import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents?: string; default?: { wasmWorkerContents?: string } };
    workerContents = mod.wasmWorkerContents ?? mod.default?.wasmWorkerContents;
  } catch (e) {
    return `the tfjs-backend-wasm pthread worker source does not load (${firstLine(e)})`;
  }
  if (typeof workerContents !== 'string') return 'the tfjs-backend-wasm pthread worker source does not load (no wasmWorkerContents export)';
  const early = earlyWorkers;
  earlyWorkers = undefined;
  const prepared = prepareThreadedStart(n, workerContents, mainScript, undefined, early);
  if (typeof prepared === 'string') {
    early?.close();
    return prepared;
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(n);
  let result: { ok: boolean; reason: string };
  try {
    result = await setBackend('wasm');
  } finally {
    prepared.restore();
  }
  if (result.ok) return { earlyWorkers: early ? prepared.adopted() : undefined };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setThreadsCount(1);
  const workerErrors = prepared.workerErrors();
  return `the threaded build failed to initialise${because(workerErrors[0] ?? result.reason)}`;
}

function backendInitialised(name: string): boolean {
  // not tf.findBackend: for a registered but not yet initialised backend it STARTS the initialisation,
  // before the wasm paths and the thread set-up are in place
  return tf.engine().registry[name] != null;
}

/** The dist folder of the installed wasm package, or undefined inside a bundle without node_modules. */
function packageWasmDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  } catch {
    return undefined;
  }
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0] ?? message;
}
