// One Lambda execution environment: a plain Node process forked by
// local/emulator.ts with an IPC channel. It plays the part of Lambda's Node.js
// runtime: loads the handler module the way the runtime does (init phase),
// then runs one invocation at a time and reports the result or the error in
// Lambda's shape. Plain JavaScript so the environment starts with bare `node`
// (no TypeScript loader), as the bundled asset would on Lambda.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/** @type {((event: unknown, context: object) => unknown) | null} */
let handler = null;
/** @type {{ id: string } | null} */
let current = null;
let config = null;

function send(message) {
  if (process.connected) process.send(message);
}

/** Lambda's error payload: errorType, errorMessage, trace (stack lines). */
function errorShape(err, fallbackType) {
  if (err instanceof Error) {
    return {
      errorType: fallbackType ?? (err.name || 'Error'),
      errorMessage: err.message,
      trace: typeof err.stack === 'string' ? err.stack.split('\n') : [],
    };
  }
  const type = err === null ? 'null' : typeof err === 'object' ? (err.constructor?.name ?? 'object') : typeof err;
  return { errorType: fallbackType ?? type, errorMessage: String(err), trace: [] };
}

class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

/** Lambda honours package.json "type" only inside the task root (/var/task has nothing above it). */
function taskRootSaysModule(fileDir, taskRoot) {
  let dir = fileDir;
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        return JSON.parse(readFileSync(pj, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (dir === taskRoot || !dir.startsWith(taskRoot + sep)) return false;
    dir = dirname(dir);
  }
}

/**
 * CommonJS load that ignores a `"type": "module"` package.json above the task
 * root (on Lambda there is none; locally cdk.out sits inside the project).
 */
function loadCommonJs(file) {
  const mod = new Module(file, null);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  mod._compile(readFileSync(file, 'utf8'), file);
  return mod.exports;
}

/** Same search order as Lambda's Node.js runtime: extensionless, .js, .mjs, .cjs. */
async function loadModule(taskRoot, modulePath) {
  const base = resolve(taskRoot, modulePath);
  if (existsSync(base) && !existsSync(base + '.js')) return loadCommonJs(base);
  if (existsSync(base + '.js')) {
    if (taskRootSaysModule(dirname(base), taskRoot)) return import(pathToFileURL(base + '.js').href);
    return loadCommonJs(base + '.js');
  }
  if (existsSync(base + '.mjs')) return import(pathToFileURL(base + '.mjs').href);
  if (existsSync(base + '.cjs')) return createRequire(base + '.cjs')(base + '.cjs');
  throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'`);
}

async function init(message) {
  config = message;
  const slash = config.handler.lastIndexOf('/');
  const dir = config.handler.slice(0, slash + 1);
  const rest = config.handler.slice(slash + 1);
  const dot = rest.indexOf('.');
  if (dot < 1) throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${config.handler}`);
  const modulePath = dir + rest.slice(0, dot);
  let target = await loadModule(config.taskRoot, modulePath);
  for (const key of rest.slice(dot + 1).split('.')) {
    target = target == null ? undefined : target[key];
  }
  if (target === undefined) {
    throw new RuntimeError('Runtime.HandlerNotFound', `${config.handler} is undefined or not exported`);
  }
  if (typeof target !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${config.handler} is not a function`);
  }
  handler = target;
}

function makeContext(message) {
  return {
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: String(config.memoryMB),
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: message.clientContext,
    identity: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function callHandler(event, context) {
  if (handler.length >= 3) {
    // callback-style handler (still supported by nodejs22.x)
    return new Promise((resolveResult, reject) => {
      const returned = handler(event, context, (err, data) => (err ? reject(err) : resolveResult(data)));
      if (returned && typeof returned.then === 'function') returned.then(resolveResult, reject);
    });
  }
  return handler(event, context);
}

async function invoke(message) {
  current = { id: message.id };
  let event;
  try {
    event = 'event' in message ? message.event : JSON.parse(message.payload);
  } catch (err) {
    send({ type: 'error', id: message.id, error: errorShape(err, 'Runtime.InvalidPayload') });
    current = null;
    return;
  }
  try {
    const result = await callHandler(event, makeContext(message));
    let payload;
    try {
      payload = JSON.stringify(result);
    } catch (err) {
      throw new RuntimeError('Runtime.MarshalError', `Unable to stringify response body: ${err.message}`);
    }
    send({ type: 'result', id: message.id, payload: payload === undefined ? 'null' : payload });
  } catch (err) {
    send({ type: 'error', id: message.id, error: errorShape(err) });
  } finally {
    current = null;
  }
}

function fatal(err, type) {
  // Lambda's runtime reports the error of the running invocation, then the
  // environment is torn down.
  const error = errorShape(err, type);
  if (current) send({ type: 'error', id: current.id, error, fatal: true });
  else send({ type: 'fatal', error });
  process.stderr.write(`${error.errorType}: ${error.errorMessage}\n`);
  process.exitCode = 1;
  if (process.connected) process.disconnect();
  setTimeout(() => process.exit(1), 50).unref();
}

process.on('uncaughtException', (err) => fatal(err));
process.on('unhandledRejection', (err) => fatal(err, 'Runtime.UnhandledPromiseRejection'));
// The emulator is gone (even if killed abruptly): never outlive it.
process.on('disconnect', () => process.exit(process.exitCode ?? 0));

process.on('message', (message) => {
  if (message.type === 'init') {
    const started = performance.now();
    init(message).then(
      () => send({ type: 'ready', moduleInitMs: performance.now() - started }),
      (err) => send({ type: 'init-error', error: errorShape(err) }),
    );
  } else if (message.type === 'invoke') {
    void invoke(message);
  }
});
