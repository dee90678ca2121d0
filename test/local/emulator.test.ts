import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError, OffloadError } from '../../core/errors';
import { LambdaEmulator, type EmulatorOptions, type FunctionConfig, type InvokeResult, type LifecycleEvent } from '../../local/emulator';
import { alive, until } from '../../testkit/processes';

const HANDLERS = resolve(import.meta.dirname, 'fixtures/handlers');

const running: LambdaEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

function emulator(functions: FunctionConfig[], options: Omit<EmulatorOptions, 'functions'> = {}) {
  const events: LifecycleEvent[] = [];
  const em = new LambdaEmulator({ logs: 'ignore', ...options, functions });
  em.on('lifecycle', (e) => events.push(e));
  running.push(em);
  return { em, events };
}

const echo = (extra: Partial<FunctionConfig> = {}): FunctionConfig => ({
  name: 'echo',
  handler: 'index.handler',
  codeDir: HANDLERS,
  timeoutS: 5,
  ...extra,
});

function ok(r: InvokeResult): Record<string, unknown> {
  if (r.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return JSON.parse(r.payload) as Record<string, unknown>;
}



describe('execution environments', () => {
  it('cold-starts an environment process once, then reuses it warm', async () => {
    const { em, events } = emulator([echo()]);

    const first = await em.invoke('echo', JSON.stringify({ n: 1 }));
    const second = await em.invoke('echo', JSON.stringify({ n: 2 }));

    const a = ok(first);
    const b = ok(second);
    expect(first).toMatchObject({ cold: true });
    expect(first.status === 'ok' && first.initMs).toBeGreaterThan(0);
    expect(second).toMatchObject({ cold: false });
    expect(second.status === 'ok' && second.initMs).toBeUndefined();
    expect(b.instance).toBe(a.instance);
    expect(b.pid).toBe(a.pid);
    expect(b.initRuns).toBe(1);
    expect(b.invocations).toBe(2);
    expect(a.pid).not.toBe(process.pid);
    expect(b.event).toEqual({ n: 2 });

    const stats = em.stats().functions[0];
    expect(stats).toMatchObject({ name: 'echo', coldStarts: 1, invocations: 2, idle: 1, busy: 0 });
    expect(stats?.environments[0]?.pid).toBe(a.pid);
    // the log stream names the environment, as on Lambda
    expect(a.logStream).toMatch(new RegExp(`\\[\\$LATEST\\]${stats?.environments[0]?.id}$`));
    expect(events.map((e) => e.type)).toEqual(['cold-start', 'ready', 'invoked', 'invoked']);
  });

  it('reaps an idle environment after the keep-alive; the next call is cold again', async () => {
    const { em, events } = emulator([echo()], { keepAliveMs: 200 });
    const first = ok(await em.invoke('echo', '{}'));

    await until(() => em.stats().functions[0]?.environments.length === 0, 'the reap');
    await until(() => !alive(first.pid as number), 'the reaped process to exit');
    const again = await em.invoke('echo', '{}');

    expect(again.status === 'ok' && again.cold).toBe(true);
    expect(ok(again).instance).not.toBe(first.instance);
    expect(events.filter((e) => e.type === 'reaped')).toHaveLength(1);
    expect(em.stats().functions[0]).toMatchObject({ coldStarts: 2, reaped: 1 });
  });

  it('reapIdle() forces the next invocation cold', async () => {
    const { em } = emulator([echo()]);
    const first = ok(await em.invoke('echo', '{}'));

    expect(await em.reapIdle('echo')).toBe(1);
    const second = ok(await em.invoke('echo', '{}'));

    expect(second.instance).not.toBe(first.instance);
    expect(alive(first.pid as number)).toBe(false);
  });

  it('passes the environment Lambda gives: variables, /var/task paths, context, task root as cwd', async () => {
    const { em } = emulator(
      [echo({ memoryMB: 1769, environment: { GREETING: 'hello', DATA_DIR: '/var/task/data' } })],
      { region: 'eu-central-1', env: { GREETING: 'overridden by the function' } },
    );

    const r = ok(await em.invoke('echo', '{}'));

    expect(r.env).toEqual({ GREETING: 'hello', DATA_DIR: `${HANDLERS}/data`, AWS_REGION: 'eu-central-1' });
    expect(r.functionName).toBe('echo');
    expect(r.memoryLimitInMB).toBe('1769');
    expect(r.cwd).toBe(HANDLERS);
    expect(r.remainingMs).toBeGreaterThan(0);
    expect(r.remainingMs).toBeLessThanOrEqual(5000);
  });

  it('setFunctionEnvironment: environments started afterwards get the variables, running ones keep theirs', async () => {
    const { em } = emulator([echo({ environment: { GREETING: 'hello' } })]);
    expect(ok(await em.invoke('echo', '{}')).env).toMatchObject({ GREETING: 'hello' });

    em.setFunctionEnvironment('echo', { GREETING: 'switched' });
    expect(ok(await em.invoke('echo', '{}')).env, 'the warm environment keeps its variables').toMatchObject({ GREETING: 'hello' });
    await em.reapIdle('echo');
    expect(ok(await em.invoke('echo', '{}')).env).toMatchObject({ GREETING: 'switched' });
    expect(() => em.setFunctionEnvironment('nope', { GREETING: 'x' })).toThrow('no function nope');
  });

  it('accepts the function ARN and $LATEST, and rejects unknown functions', async () => {
    const { em } = emulator([echo()]);

    expect(ok(await em.invoke('arn:aws:lambda:us-east-1:000000000000:function:echo', '{}')).functionName).toBe('echo');
    expect(ok(await em.invoke('echo:$LATEST', '{}')).functionName).toBe('echo');
    await expect(em.invoke('nope', '{}')).rejects.toBeInstanceOf(NotFoundError);
    await expect(em.invoke('echo:prod', '{}')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('loads a CommonJS index.js as CommonJS although the project package.json says "module"', async () => {
    const { em } = emulator([{ name: 'cjs', handler: 'index.handler', codeDir: resolve(HANDLERS, 'commonjs') }]);

    expect(ok(await em.invoke('cjs', '{"a":1}'))).toMatchObject({ format: 'commonjs', event: { a: 1 } });
  });

  it('merges layers into a local /opt: later layers win, NODE_PATH and /opt paths point into it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'offload-layers-'));
    try {
      const first = join(root, 'first');
      const second = join(root, 'second');
      mkdirSync(join(first, 'nodejs/node_modules/layer-greeting'), { recursive: true });
      writeFileSync(join(first, 'nodejs/node_modules/layer-greeting/index.js'), "module.exports = 'hello from a layer';");
      mkdirSync(join(first, 'data'), { recursive: true });
      writeFileSync(join(first, 'data/info.txt'), 'first');
      mkdirSync(join(second, 'data'), { recursive: true });
      writeFileSync(join(second, 'data/info.txt'), 'second');
      const { em } = emulator([
        {
          name: 'layered',
          handler: 'index.layer',
          codeDir: resolve(HANDLERS, 'commonjs'),
          layerDirs: [first, second],
          environment: { LAYER_DATA: '/opt/data' },
        },
      ]);

      const r = ok(await em.invoke('layered', '{}'));

      expect(r.greeting).toBe('hello from a layer');
      expect(r.data).toBe('second');
      const optDir = String(r.dataDir).replace(/\/data$/, '');
      expect(optDir).not.toBe('/opt');
      expect(existsSync(optDir)).toBe(true);
      await em.close();
      expect(existsSync(optDir)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('runs callback-style handlers', async () => {
    const { em } = emulator([echo({ name: 'cb', handler: 'index.callbackHandler' })]);

    expect(ok(await em.invoke('cb', '{"x":true}'))).toEqual({ via: 'callback', got: { x: true } });
  });

  it('invokeEvent hands the event over as a value, and checks its size like invoke', async () => {
    const { em } = emulator([echo()]);
    const event = { nested: { list: [1, 2.5, 'three', null, true] }, text: 'é\n' };

    const r = ok(await em.invokeEvent('echo', event));

    expect(r.event).toEqual(event);
    await expect(em.invokeEvent('echo', { data: 'x'.repeat(7 * 1024 * 1024) })).rejects.toMatchObject({ code: 'payload-too-large' });
  });

  it('returns a handler undefined result as null', async () => {
    const { em } = emulator([echo()]);

    const r = await em.invoke('echo', '{"action":"undefined"}');

    expect(r.status === 'ok' && r.payload).toBe('null');
  });

  it('sends handler output to the log sink, line by line, tagged with the environment', async () => {
    const lines: { function: string; envId: string; text: string }[] = [];
    const { em } = emulator([echo()], { logs: (l) => lines.push(l) });

    const r = ok(await em.invoke('echo', '{"action":"log"}'));
    await until(() => lines.some((l) => l.text.includes(String(r.instance))), 'the log line');

    const line = lines.find((l) => l.text.includes(String(r.instance)));
    expect(line).toMatchObject({ function: 'echo', envId: em.stats().functions[0]?.environments[0]?.id });
  });
});

describe('errors, timeouts and crashes', () => {
  it('returns a thrown error in Lambda shape and keeps the environment', async () => {
    const { em } = emulator([echo()]);
    const before = ok(await em.invoke('echo', '{}'));

    const r = await em.invoke('echo', JSON.stringify({ action: 'throw', message: 'bad cut' }));
    const after = ok(await em.invoke('echo', '{}'));

    expect(r).toMatchObject({ status: 'function-error', errorType: 'RangeError', errorMessage: 'bad cut', cold: false });
    expect(r.status === 'function-error' && JSON.parse(r.payload)).toMatchObject({ errorType: 'RangeError', errorMessage: 'bad cut' });
    expect(r.status === 'function-error' && (JSON.parse(r.payload) as { trace: string[] }).trace[0]).toBe('RangeError: bad cut');
    expect(after.instance).toBe(before.instance);
    expect(em.stats().functions[0]).toMatchObject({ errors: 1, coldStarts: 1, crashes: 0 });
  });

  it('on timeout kills the environment process and answers Sandbox.Timedout', async () => {
    const { em, events } = emulator([echo({ timeoutS: 0.5 })]);
    const warm = ok(await em.invoke('echo', '{}'));

    const r = await em.invoke('echo', JSON.stringify({ action: 'sleep', ms: 5000 }));

    expect(r).toMatchObject({ status: 'function-error', errorType: 'Sandbox.Timedout' });
    expect(r.status === 'function-error' && r.errorMessage).toMatch(/Task timed out after 0\.50 seconds/);
    expect(em.stats().functions[0]).toMatchObject({ timeouts: 1, environments: [] });
    await until(() => !alive(warm.pid as number), 'the timed-out process to exit');
    expect(events.some((e) => e.type === 'timeout')).toBe(true);
    // next call needs a new environment
    const next = await em.invoke('echo', '{}');
    expect(next.status === 'ok' && next.cold).toBe(true);
  });

  it('discards an environment whose process exits, answering Runtime.ExitError', async () => {
    const { em, events } = emulator([echo()]);

    const r = await em.invoke('echo', '{"action":"crash"}');

    expect(r).toMatchObject({ status: 'function-error', errorType: 'Runtime.ExitError' });
    expect(r.status === 'function-error' && r.errorMessage).toMatch(/exit status 3/);
    await until(() => events.some((e) => e.type === 'crash'), 'the crash event');
    expect(em.stats().functions[0]).toMatchObject({ crashes: 1, environments: [] });
  });

  it('reports an unhandled rejection and discards the environment', async () => {
    const { em } = emulator([echo()]);

    const r = await em.invoke('echo', '{"action":"reject"}');

    expect(r).toMatchObject({ status: 'function-error', errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'floating rejection' });
    await until(() => em.stats().functions[0]?.environments.length === 0, 'the environment to go');
  });

  it('fails an invocation whose init throws, and keeps no environment', async () => {
    const { em, events } = emulator([echo({ environment: { INIT_THROW: 'no weights' } })]);

    const r = await em.invoke('echo', '{}');

    expect(r).toMatchObject({ status: 'function-error', errorType: 'TypeError', errorMessage: 'no weights', cold: true });
    expect(events.some((e) => e.type === 'init-error')).toBe(true);
    await until(() => em.pids().length === 0, 'the environment to go');
  });

  it('names a missing module or export as Lambda does', async () => {
    const { em } = emulator([
      echo({ name: 'no-module', handler: 'missing.handler' }),
      echo({ name: 'no-export', handler: 'index.nothing' }),
    ]);

    expect(await em.invoke('no-module', '{}')).toMatchObject({ errorType: 'Runtime.ImportModuleError' });
    expect(await em.invoke('no-export', '{}')).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'index.nothing is undefined or not exported',
    });
  });

  it('fails an init that outlasts the init timeout', async () => {
    const { em } = emulator([echo({ environment: { INIT_DELAY_MS: '5000' } })], { initTimeoutMs: 300 });

    const r = await em.invoke('echo', '{}');

    expect(r).toMatchObject({ status: 'function-error', errorType: 'Sandbox.Timedout' });
    await until(() => em.pids().length === 0, 'the environment to go');
  });

  it('refuses a missing code directory up front, and survives one that vanishes later', async () => {
    expect(() => new LambdaEmulator({ functions: [echo({ codeDir: '/nonexistent/offload' })] })).toThrow(/code directory .* does not exist/);
    const dir = mkdtempSync(join(tmpdir(), 'offload-vanishing-'));
    const { em } = emulator([echo({ codeDir: dir })]);
    rmSync(dir, { recursive: true });

    const r = await em.invoke('echo', '{}');

    expect(r).toMatchObject({ status: 'function-error', errorType: 'Runtime.ExitError' });
    expect(r.status === 'function-error' && r.errorMessage).toMatch(/did not start/);
    expect(em.pids()).toEqual([]);
    await em.close(); // does not wait for a process that never started
  });

  it('refuses a request payload over 6 MB before starting anything', async () => {
    const { em } = emulator([echo()]);

    const big = JSON.stringify({ data: 'x'.repeat(6 * 1024 * 1024) });

    await expect(em.invoke('echo', big)).rejects.toMatchObject({ code: 'payload-too-large' });
    expect(em.pids()).toEqual([]);
  });
});

describe('reserved concurrency', () => {
  it('throttles at once past the limit while the admitted invocations run', async () => {
    const { em, events } = emulator([echo({ reservedConcurrency: 2 })]);
    const order: string[] = [];

    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        em.invoke('echo', JSON.stringify({ action: 'sleep', ms: 400 })).then((r) => {
          order.push(r.status);
          return r;
        }),
      ),
    );

    expect(results.map((r) => r.status).sort()).toEqual(['ok', 'ok', 'throttled', 'throttled', 'throttled']);
    // the throttled answers came before any admitted invocation finished
    expect(order.slice(0, 3)).toEqual(['throttled', 'throttled', 'throttled']);
    expect(results.find((r) => r.status === 'throttled')).toMatchObject({ reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    expect(em.stats().functions[0]).toMatchObject({ throttles: 3, coldStarts: 2, idle: 2 });
    expect(events.filter((e) => e.type === 'throttled')).toHaveLength(3);
  });

  it('reuses idle environments up to the limit and throttles only when all are busy', async () => {
    const { em } = emulator([echo({ reservedConcurrency: 2 })]);
    await Promise.all([em.invoke('echo', '{"action":"sleep","ms":100}'), em.invoke('echo', '{"action":"sleep","ms":100}')]);

    const again = await Promise.all([em.invoke('echo', '{}'), em.invoke('echo', '{}')]);

    expect(again.map((r) => r.status === 'ok' && r.cold)).toEqual([false, false]);
    expect(em.stats().functions[0]).toMatchObject({ coldStarts: 2, throttles: 0 });
  });

  it('throttles every call of a function with reserved concurrency 0', async () => {
    const { em } = emulator([echo({ reservedConcurrency: 0 })]);

    expect(await em.invoke('echo', '{}')).toMatchObject({ status: 'throttled' });
    expect(em.pids()).toEqual([]);
  });

  it('shares the unreserved account concurrency between unreserved functions', async () => {
    const { em } = emulator([echo({ name: 'a' }), echo({ name: 'b' }), echo({ name: 'c', reservedConcurrency: 1 })], {
      accountConcurrency: 2,
    });

    // reserved 1 of 2 leaves 1 for a and b together
    const [a, b] = await Promise.all([em.invoke('a', '{"action":"sleep","ms":300}'), em.invoke('b', '{}')]);

    expect(a.status).toBe('ok');
    expect(b).toMatchObject({ status: 'throttled', reason: 'ConcurrentInvocationLimitExceeded' });
  });
});

describe('shutdown', () => {
  it('close() kills every environment process, ends invocations in flight, and refuses new ones', async () => {
    const { em } = emulator([echo({ reservedConcurrency: 5 }), echo({ name: 'other' })]);
    await Promise.all([em.invoke('echo', '{}'), em.invoke('echo', '{"action":"sleep","ms":50}'), em.invoke('other', '{}')]);
    const inFlight = em.invoke('echo', JSON.stringify({ action: 'sleep', ms: 10_000 }));
    await until(() => (em.stats().functions[0]?.busy ?? 0) === 1, 'the invocation to start');
    const pids = em.pids();
    expect(pids.length).toBeGreaterThanOrEqual(3);

    await em.close();

    expect(pids.filter(alive)).toEqual([]);
    expect(await inFlight).toMatchObject({ status: 'function-error', errorType: 'Runtime.ExitError' });
    await expect(em.invoke('echo', '{}')).rejects.toBeInstanceOf(OffloadError);
    await em.close(); // idempotent
  });

  it('gives a reaped environment SIGTERM and lets it finish within the grace, as Lambda\'s Shutdown phase', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offload-shutdown-'));
    const file = join(dir, 'signal');
    try {
      const { em, events } = emulator([echo({ environment: { SHUTDOWN_FILE: file } })], { shutdownGraceMs: 5000 });
      const first = ok(await em.invoke('echo', '{}'));

      await em.reapIdle('echo');

      expect(alive(first.pid as number)).toBe(false);
      expect(existsSync(file)).toBe(true);
      expect(events.find((e) => e.type === 'exit')).toMatchObject({ reason: 'reap', graceful: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kills an environment that outlives the shutdown grace, and says it was not graceful', async () => {
    const { em, events } = emulator([echo({ environment: { SHUTDOWN_IGNORE: '1' } })], { shutdownGraceMs: 300 });
    const first = ok(await em.invoke('echo', '{}'));
    const t0 = performance.now();

    await em.close();

    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(alive(first.pid as number)).toBe(false);
    expect(events.find((e) => e.type === 'exit')).toMatchObject({ reason: 'close', graceful: false });
  });

  it('reports a process killed from outside (kill -9) as a crash exit, out of service at once', async () => {
    const { em, events } = emulator([echo()]);
    const first = ok(await em.invoke('echo', '{}'));

    process.kill(first.pid as number, 'SIGKILL');

    await until(() => events.some((e) => e.type === 'exit'), 'the exit event');
    expect(events.find((e) => e.type === 'exit')).toMatchObject({ function: 'echo', reason: 'crash', graceful: false });
    expect(em.stats().functions[0]).toMatchObject({ crashes: 1, environments: [] });
  });
});
