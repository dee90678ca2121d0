/**
 * Starts the tail's early download (functions/tail/prefetch-worker.ts) on a
 * worker thread, from the tail's entry, before the handler bundle loads.
 * Node built-ins only, and nothing that can throw out of the entry: when the
 * download cannot start (switched off, environment incomplete, no worker),
 * there is no handle and the tail loads the way it does without it (and
 * reports a bad environment by name at init).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { modelKeyPrefix, partModelJson, s3Key, tailDir } from '../../core/artifact-layout';
import { prefetchSetting, STREAMED_GETS, type PrefetchHandle, type PrefetchMessage, type PrefetchRequest } from './prefetch-protocol';

/** The artifact the tail's environment names, as functions/commons/tail.ts readTailConfig reads it; undefined when incomplete. */
export function prefetchRequestFromEnv(env: Readonly<Record<string, string | undefined>>): PrefetchRequest | undefined {
  const model = env.MODEL_NAME;
  const bucket = env.ARTIFACT_BUCKET;
  const cut = Number(env.CUT);
  if (!model || !bucket || env.CUT === undefined || env.CUT.trim() === '' || !Number.isInteger(cut) || cut < 0) return undefined;
  const prefix = env.ARTIFACT_PREFIX || modelKeyPrefix(model);
  return { bucket, modelJsonKey: s3Key(prefix, partModelJson(tailDir(cut))), weightPrefix: prefix, ...STREAMED_GETS };
}

/**
 * A sibling module of the entry at `entryUrl`, in the entry's own form: `name.mjs`
 * next to the bundle's index.mjs, `name.ts` next to functions/tail/index.ts when
 * run from source (tests, tsx).
 */
export function siblingModule(entryUrl: string, name: string): URL {
  const ext = /\.(m?[jt]s)$/.exec(new URL(entryUrl).pathname)?.[1] ?? 'mjs';
  return new URL(`./${name}.${ext}`, entryUrl);
}

/** tsx's ESM API (`tsx/esm/api`, its `import` condition) as installed next to `entryUrl`. */
function tsxEsmApi(entryUrl: string): string {
  const pkg = createRequire(entryUrl).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs')).href;
}

/**
 * Starts the early download for the tail in `env`; undefined when it is off
 * (`OFFLOAD_PREFETCH`), the environment does not name an artifact, or the
 * worker cannot be created. `log` reports why an attempt failed.
 */
export function startPrefetch(env: Readonly<Record<string, string | undefined>>, entryUrl: string, log: (message: string) => void = () => undefined): PrefetchHandle | undefined {
  if (prefetchSetting(env) !== 'on') return undefined;
  const request = prefetchRequestFromEnv(env);
  if (!request) return undefined;
  const script = siblingModule(entryUrl, 'prefetch-worker');
  let worker: Worker;
  try {
    if (!existsSync(script)) throw new Error(`${script.pathname} not found`);
    const workerData = { prefetch: request };
    // the environment the tail reads (credentials, Region, endpoint): process.env in a function, a test's own otherwise
    const workerEnv = { ...env };
    worker = script.pathname.endsWith('.ts')
      ? // from source: the worker loads its TypeScript through tsx, as the tests and bench scripts do
        new Worker(
          `import(${JSON.stringify(tsxEsmApi(entryUrl))}).then(({ tsImport }) => tsImport(${JSON.stringify(script.href)}, ${JSON.stringify(entryUrl)}))`,
          { eval: true, workerData, env: workerEnv },
        )
      : new Worker(script, { workerData, env: workerEnv });
  } catch (err) {
    log(`early download not started: ${(err as Error).message}`);
    return undefined;
  }
  const startedAt = performance.now();
  const messages: PrefetchMessage[] = [];
  const listeners: ((m: PrefetchMessage) => void)[] = [];
  let ended = false;
  let exited = false;
  const deliver = (m: PrefetchMessage) => {
    if (ended) return;
    if (m.type === 'done' || m.type === 'failed' || m.type === 'fallback') ended = true;
    messages.push(m);
    for (const l of listeners) l(m);
  };
  const gone = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      exited = true;
      deliver({ type: 'fallback', reason: `early download worker exited (code ${code}) before the download ended` });
      resolve();
    });
  });
  worker.on('message', deliver);
  // an error event without a listener would throw in the entry; the worker then exits, reported above
  worker.on('error', (err) => deliver({ type: 'fallback', reason: `early download worker failed: ${err.message}` }));
  worker.unref();
  return {
    startedAt,
    get exited() {
      return exited;
    },
    listen(listener) {
      for (const m of messages) listener(m);
      listeners.push(listener);
    },
    close() {
      // the reports hold the weights' buffer: let it go with the worker
      ended = true;
      messages.length = 0;
      listeners.length = 0;
      if (!exited) void worker.terminate();
      return gone;
    },
  };
}
