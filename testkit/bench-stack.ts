/**
 * The local stack as the benchmarks that measure it start it (bench/cold-start.ts,
 * bench/fleet-truth.ts): in this process, tfjs's backend ready first, the
 * functions' logs dropped, state under `.offload/bench` unless told, and a
 * client with a minute's patience for cold tails on a loaded machine.
 */
import { performance } from 'node:perf_hooks';
import { OffloadApi, type InferResponse } from '../client/api';
import { initBackend } from '../models/backend';
import { startLocalStack, type LocalStack, type LocalTail } from '../local/stack';
import type { LogSink } from '../local/emulator';

export interface BenchStackOptions {
  /** State folder; default `.offload/bench` (the benches reuse its export and synth across runs). */
  stateDir?: string;
  configFile?: string;
  models?: readonly string[];
  /** More variables for every function of the stack (e.g. `{ FLEET_CACHE_MS: '0' }`). */
  env?: Readonly<Record<string, string>>;
  /** Progress lines of the stack's start. */
  log: (line: string) => void;
  /** Where the functions' log lines go (default: dropped). */
  functionLogs?: LogSink;
}

export interface BenchStack {
  stack: LocalStack;
  api: OffloadApi;
  /** Export, synth and start of the stack, ms (after the backend is ready). */
  stackStartMs: number;
}

/** Starts the stack on a free port; the caller closes `stack`. */
export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  await initBackend();
  const t0 = performance.now();
  const stack = await startLocalStack({
    port: 0,
    logs: options.functionLogs ?? 'ignore',
    stateDir: options.stateDir ?? '.offload/bench',
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.models ? { models: options.models } : {}),
    ...(options.env ? { env: options.env } : {}),
    onStep: options.log,
  });
  const stackStartMs = performance.now() - t0;
  return { stack, api: new OffloadApi({ baseUrl: stack.url, timeoutMs: 60_000 }), stackStartMs };
}

/**
 * One cold and one warm invocation of `tail`: every idle environment is reaped
 * first, so the first call must start one and the second must find it warm.
 * `idleMs`: the host sits idle this long between the reap and the cold call
 * (traffic meets a cold fleet after a quiet gap, not right after other work).
 * Throws when the tail says otherwise (the pair would not measure a cold start).
 */
export async function coldThenWarm(stack: LocalStack, api: OffloadApi, tail: LocalTail, payload: Uint8Array, idleMs = 0): Promise<{ cold: InferResponse; warm: InferResponse }> {
  await stack.emulator.reapIdle(tail.function);
  if (idleMs > 0) await new Promise((r) => setTimeout(r, idleMs));
  const cold = await api.infer(tail.route, payload);
  const warm = await api.infer(tail.route, payload);
  if (!cold.cold || warm.cold) throw new Error(`expected a cold then a warm call (got cold=${cold.cold}, then ${warm.cold})`);
  return { cold, warm };
}
