/**
 * Multi-threaded tfjs wasm under Node.
 *
 * tfjs turns threads off under Node (tensorflow/tfjs issue 3830): its
 * threaded-SIMD build hands emscripten's pthread worker and main script over
 * as Blob URLs, which `worker_threads` cannot load. What it takes here
 * (reference facts, "tfjs wasm threads under Node"):
 *
 * 1. the worker source (`wasmWorkerContents`) written to a file (Lambda: under
 *    /tmp), changed to read the threaded main script from the package's own
 *    file on disk (`wasm-out/tfjs-backend-wasm-threaded-simd.js`, copied next
 *    to the `.wasm` files in a bundle) instead of the Blob;
 * 2. `WASM_HAS_MULTITHREAD_SUPPORT` set true before the backend initialises;
 * 3. the thread cap raised: the engine caps XNNPACK's pool at half of
 *    `os.cpus().length`, which is 1 on a 2-core machine and on a Lambda up to
 *    3,008 MB; `os.cpus` reports 2 × threads while the engine initialises.
 *
 * And one thing for cold starts: emscripten pre-creates 8 workers, each
 * loading the whole engine. Here only the ones the engine's thread pool will
 * run on are real `worker_threads` Workers, loaded before the engine runs
 * (the main thread blocks while the pool starts its threads, so they must be
 * up by then: a worker started lazily at that point deadlocked the CLI under
 * tsx): XNNPACK's pool of `threads` starts `threads − 1` pthreads (the
 * calling thread is the first), and emscripten hands each new pthread the
 * LAST unused worker (`unusedWorkers.pop()`), so those are the last
 * `threads − 1` of the pool. The others are stand-ins that answer "loaded" at
 * once and become real workers only if a thread is ever started on one.
 * The tail may have started the real ones already, before its init
 * ({@link startEarlyPthreadWorkers}, `OFFLOAD_EARLY_ENGINE`): they boot Node
 * and evaluate the main script while init awaits the registry mark, and the
 * engine takes them instead of starting its own. Once the engine has started, workers
 * never keep the process alive (`ref` is a no-op, and each real worker is
 * unreferenced again after every listener emscripten adds: a 'message'
 * listener re-references a worker's port), so a CLI using threads exits by
 * itself.
 *
 * Each step is checked before the threaded build is tried (the worker source
 * still has the expected text, the main script exists and parses, Node has
 * `worker_threads` and shared wasm memory); a failed check or a failed start
 * leaves the caller to fall back to the single-threaded build, with the reason.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import workerThreads from 'node:worker_threads';
import { MAX_WASM_THREADS, tailWasmThreads } from '../core/lambda-cores';
import { ValidationError } from '../core/errors';

/** The threaded build's main script, as the package ships it and as bundles copy it next to the `.wasm` files. */
export const THREADED_MAIN_SCRIPT = 'tfjs-backend-wasm-threaded-simd.js';

/** The emscripten pool size compiled into tfjs-backend-wasm 4.x (`pthreadPoolSize=8`) and the engine's thread cap. */
export { MAX_WASM_THREADS };

/** How the worker source loads the main script; replaced by a read of the file on disk. */
const WORKER_LOADS_MAIN_SCRIPT =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

/** How many threads the wasm engine should use, and where that figure came from. */
export interface ThreadRequest {
  threads: number;
  source: string;
}

/**
 * Threads wanted: `OFFLOAD_WASM_THREADS` when set (1–8); else, inside Lambda,
 * the cores a function of `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` sees (2 up to
 * 3,008 MB, then one more per 1,769 MB, 6 at 10,240 MB: core/profiles.ts
 * `lambdaVisibleCores`); else 1, so local tools and profiles measure what they
 * always measured unless asked (`offload profile --threads N`).
 *
 * @throws ValidationError when `OFFLOAD_WASM_THREADS` is not an integer from 1 to 8.
 */
export function requestedWasmThreads(env: NodeJS.ProcessEnv = process.env): ThreadRequest {
  const raw = env.OFFLOAD_WASM_THREADS?.trim();
  if (raw) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
      throw new ValidationError('OFFLOAD_WASM_THREADS', `must be an integer from 1 to ${MAX_WASM_THREADS} (got "${raw}"); unset it to follow the function's memory size`);
    }
    return { threads: n, source: 'OFFLOAD_WASM_THREADS' };
  }
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE && memory > 0) {
    return { threads: tailWasmThreads(memory), source: `AWS_LAMBDA_FUNCTION_MEMORY_SIZE=${memory}` };
  }
  return { threads: 1, source: 'default outside Lambda' };
}

/** The threaded main script: OFFLOAD_WASM_DIR (bundles), else the installed package; undefined when neither has it. */
export function threadedMainScript(wasmDir: string | undefined): string | undefined {
  const candidates: string[] = [];
  if (wasmDir) candidates.push(join(wasmDir, THREADED_MAIN_SCRIPT));
  try {
    const require = createRequire(import.meta.url);
    candidates.push(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out', THREADED_MAIN_SCRIPT));
  } catch {
    // inside a bundle without node_modules: only OFFLOAD_WASM_DIR can have it
  }
  return candidates.find((c) => existsSync(c));
}

/** What the caller undoes after the engine has initialised (successfully or not). */
export interface ThreadedStart {
  /** Restores `os.cpus`, `URL.createObjectURL` and `worker_threads.Worker`. */
  restore(): void;
  /** Errors real pthread workers reported (empty when all went well). */
  workerErrors(): readonly string[];
  /** How many of the pool's real workers were early ones (taken from `early`). */
  adopted(): number;
}

/**
 * Prepares the process for the threaded build (see the module comment) and
 * returns how to undo the temporary hooks once `tf.setBackend('wasm')` has
 * settled; or a string saying why threads cannot be used here.
 *
 * @param workerContents tfjs's `wasmWorkerContents` (the pthread worker source).
 * @param mainScript the threaded main script on disk ({@link threadedMainScript}).
 * @param early workers the tail started before its init ({@link startEarlyPthreadWorkers}):
 *   the pool's threads run on them instead of on workers started now; closed once the engine has started.
 */
export function prepareThreadedStart(
  threads: number,
  workerContents: string,
  mainScript: string,
  scratchDir = os.tmpdir(),
  early?: EarlyPthreadWorkers,
): ThreadedStart | string {
  if (typeof SharedArrayBuffer !== 'function') return 'this Node has no SharedArrayBuffer (needed by wasm threads)';
  let poolSize: number;
  try {
    const text = readFileSync(mainScript, 'utf8');
    new Script(text, { filename: mainScript });
    poolSize = pthreadPoolSize(text);
  } catch (e) {
    return `the threaded main script ${mainScript} does not load: ${(e as Error).message}`;
  }
  const workerFile = writePthreadWorker(workerContents, mainScript, scratchDir);
  if (workerFile.error !== undefined) return workerFile.error;
  // the early workers run this very file (same patch, same main script), or they are not used
  let adopted = 0;
  const adopt =
    early && early.threads === threads && early.file === workerFile.file
      ? () => {
          const w = early.take();
          if (w) adopted += 1;
          return w;
        }
      : undefined;
  if (early && !adopt) {
    early.close();
    console.warn(JSON.stringify({ level: 'warn', msg: 'early pthread workers not used: the engine starts its own', reason: `they run ${early.file} for ${early.threads} threads; the engine wants ${workerFile.file} for ${threads}` }));
  }

  const errors: string[] = [];
  const cpus = os.cpus;
  const createObjectURL = URL.createObjectURL;
  const RealWorker = workerThreads.Worker;
  // (3) the engine caps its pool at os.cpus().length / 2
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]!);
  };
  // (1) tfjs asks for a blob URL of the worker source (type application/javascript); answer with the file
  URL.createObjectURL = ((obj: Blob) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerFile.file : createObjectURL(obj)) as typeof URL.createObjectURL;
  // lazy workers: emscripten's `global.Worker = require("worker_threads").Worker` reads this at engine start
  // the workers the pool's threads will run on (the last `threads - 1` created) load for real before the
  // engine runs (a thread pool's workers must be up before the main thread blocks waiting for them); the
  // rest of emscripten's pool stay stand-ins
  const firstEager = poolSize - (threads - 1);
  const pool = { settled: false };
  const workers: LazyWorker[] = [];
  (workerThreads as { Worker: unknown }).Worker = function LazyPthreadWorker(file: string) {
    const w = new LazyWorker(RealWorker, file, errors, workers.length >= firstEager, pool, adopt);
    workers.push(w);
    return w;
  };
  return {
    restore() {
      os.cpus = cpus;
      URL.createObjectURL = createObjectURL;
      (workerThreads as { Worker: unknown }).Worker = RealWorker;
      pool.settled = true;
      for (const w of workers) w.settle();
      // early workers no thread took (a start that failed, or fewer threads than expected)
      early?.close();
    },
    workerErrors: () => errors,
    adopted: () => adopted,
  };
}

/**
 * Writes tfjs's pthread worker source, patched to read `mainScript` from disk
 * (see the module comment), to `scratchDir`; one file per process. The
 * worker evaluates the main script as soon as it starts rather than on its
 * "load" command, so a worker started early has it ready. Written whole under
 * another name, then renamed: a worker started earlier may be reading it.
 */
export function writePthreadWorker(workerContents: string, mainScript: string, scratchDir = os.tmpdir()): { file: string; error?: undefined } | { error: string } {
  if (!workerContents.includes(WORKER_LOADS_MAIN_SCRIPT)) {
    return { error: 'the tfjs-backend-wasm pthread worker source is not the one this project patches (tfjs version changed?)' };
  }
  const main = JSON.stringify(mainScript);
  // The source is the text of a template literal: its "\n" escapes arrived as newlines (tfjs escapes them too).
  const source =
    workerContents.replace(/\n/g, '\\n').replace(WORKER_LOADS_MAIN_SCRIPT, `if(typeof WasmBackendModuleThreadedSimd!="function")importScripts(${main});`) +
    `importScripts(${main});`;
  try {
    const dir = join(scratchDir, `offload-wasm-threads-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'tfjs-pthread-worker.cjs');
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (existing !== source) {
      writeFileSync(`${file}.tmp`, source);
      renameSync(`${file}.tmp`, file);
    }
    return { file };
  } catch (e) {
    return { error: `cannot write the pthread worker file under ${scratchDir}: ${(e as Error).message}` };
  }
}

/** pthread workers started before the engine (by the tail, before its init), for its thread pool to run on. */
export interface EarlyPthreadWorkers {
  /** The worker file they run ({@link writePthreadWorker}). */
  readonly file: string;
  /** The engine threads they were started for (`threads − 1` workers). */
  readonly threads: number;
  /** One of them, alive and referenced again, or undefined when none is left. */
  take(): InstanceType<typeof workerThreads.Worker> | undefined;
  /** Stops the ones not taken (idempotent). */
  close(): void;
}

/**
 * Starts the `threads − 1` pthread workers the engine's thread pool will run
 * on, before the engine (or even tfjs) is loaded: each boots a Node worker and
 * evaluates emscripten's main script, then waits for the engine's "load"
 * command. They never keep the process alive. A string says why not.
 */
export function startEarlyPthreadWorkers(threads: number, workerContents: string, mainScript: string, scratchDir = os.tmpdir()): EarlyPthreadWorkers | string {
  if (!(Number.isInteger(threads) && threads >= 2)) return `no pthread workers to start for ${threads} thread(s)`;
  if (typeof SharedArrayBuffer !== 'function') return 'this Node has no SharedArrayBuffer (needed by wasm threads)';
  const written = writePthreadWorker(workerContents, mainScript, scratchDir);
  if (written.error !== undefined) return written.error;
  const { file } = written;
  const idle: InstanceType<typeof workerThreads.Worker>[] = [];
  try {
    for (let i = 0; i < threads - 1; i++) {
      const w = new workerThreads.Worker(file);
      const drop = () => {
        const at = idle.indexOf(w);
        if (at >= 0) idle.splice(at, 1);
      };
      // a worker that failed before the engine took it is not handed out; the engine starts one itself
      w.once('error', drop);
      w.once('exit', drop);
      w.unref();
      idle.push(w);
    }
  } catch (e) {
    for (const w of idle.splice(0)) void w.terminate();
    return `cannot start a pthread worker: ${(e as Error).message}`;
  }
  return {
    file,
    threads,
    take() {
      const w = idle.shift();
      w?.ref();
      return w;
    },
    close() {
      for (const w of idle.splice(0)) void w.terminate();
    },
  };
}

type Listener = (value: unknown) => void;

/**
 * Stands in for one of emscripten's pool workers: answers the "load" command
 * at once and starts the real worker (replaying "load") on the first other
 * command, i.e. when a thread is actually started on it.
 */
class LazyWorker {
  private real: InstanceType<typeof workerThreads.Worker> | undefined;
  private load: { message: unknown; transfer: unknown } | undefined;
  private readonly listeners = new Map<string, Listener[]>();
  private swallowLoaded = false;

  constructor(
    private readonly RealWorker: typeof workerThreads.Worker,
    private readonly file: string,
    private readonly errors: string[],
    private readonly eager: boolean,
    private readonly pool: { settled: boolean },
    /** A worker started earlier for this pool (the entry's), if one is left. */
    private readonly adopt?: () => InstanceType<typeof workerThreads.Worker> | undefined,
  ) {}

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    if (this.real) {
      this.real.on(event, listener);
      // a 'message' listener refs the worker's port again (Node's MessagePort semantics)
      if (this.pool.settled) this.real.unref();
    }
    return this;
  }

  postMessage(message: unknown, transfer?: unknown): void {
    if (!this.real && isCommand(message, 'load')) {
      if (this.eager) {
        this.start(false).postMessage(message, transfer as never);
        return;
      }
      this.load = { message, transfer };
      setImmediate(() => this.emit('message', { cmd: 'loaded' }));
      return;
    }
    this.start(true).postMessage(message, transfer as never);
  }

  ref(): void {
    // a thread pool never keeps the process alive (emscripten refs a worker while it runs a thread)
  }

  unref(): void {
    this.real?.unref();
  }

  /** Called once the engine has started: from now on the worker never keeps the process alive. */
  settle(): void {
    this.real?.unref();
  }

  terminate(): Promise<number> {
    return this.real ? this.real.terminate() : Promise.resolve(0);
  }

  private start(replayLoad: boolean): InstanceType<typeof workerThreads.Worker> {
    if (this.real) return this.real;
    const real = this.adopt?.() ?? new this.RealWorker(this.file);
    this.swallowLoaded = replayLoad;
    real.on('message', (data: unknown) => {
      // the real worker confirms the replayed "load"; emscripten already had its "loaded"
      if (this.swallowLoaded && isCommand(data, 'loaded')) {
        this.swallowLoaded = false;
        return;
      }
      this.emit('message', data);
    });
    real.on('error', (e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      this.errors.push(message);
      console.error(JSON.stringify({ level: 'error', msg: 'tfjs wasm pthread worker failed', error: message }));
      this.emit('error', e);
    });
    for (const [event, ls] of this.listeners) if (event !== 'message' && event !== 'error') for (const l of ls) real.on(event, l);
    // after the listeners (a 'message' listener refs the worker's port again); while the engine starts,
    // its workers stay referenced: the start awaits their "loaded", and nothing else keeps the process up
    if (this.pool.settled) real.unref();
    this.real = real;
    if (replayLoad && this.load) real.postMessage(this.load.message, this.load.transfer as never);
    return real;
  }

  private emit(event: string, value: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l(value);
  }
}

/**
 * The workers emscripten pre-creates (`var pthreadPoolSize=8` in tfjs-backend-wasm 4.x's main script);
 * {@link MAX_WASM_THREADS} when the text does not say, which only costs a lazily started worker if wrong.
 */
export function pthreadPoolSize(mainScriptText: string): number {
  const m = /var pthreadPoolSize=(\d+)/.exec(mainScriptText);
  return m ? Number(m[1]) : MAX_WASM_THREADS;
}

function isCommand(message: unknown, cmd: string): boolean {
  return typeof message === 'object' && message !== null && (message as { cmd?: unknown }).cmd === cmd;
}
