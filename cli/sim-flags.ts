/**
 * Flags `offload simulate` and `offload recommend` share: the model, and the
 * fleet rules the simulator assumes (keep-alive of the fleet and of the
 * planner's view, the planner's cache period, the account quota, the plan
 * round trip). Defaults are the deployed planner's (functions/commons/
 * registry.ts and planner.ts) and the local emulator's keep-alive.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_FLEET_KEEPALIVE_MS } from '../core/sim/fleet';
import { PLANNER_FLEET_CACHE_MS, PLANNER_KEEPALIVE_MS } from '../core/sim/fleet-view';
import { nonNegativeInt, positiveInt } from './options';

/** The fleet and timing flags. */
export interface SimFlags {
  keepAliveMs: number;
  plannerKeepAliveMs: number;
  fleetCacheMs: number;
  reapVisibleMs?: number;
  accountConcurrency?: number;
  planMs?: number;
  fleetAtArrival: boolean;
  prewarm?: boolean;
}

/** `on` | `off`. */
function onOff(name: string) {
  return (value: string): boolean => {
    if (value === 'on') return true;
    if (value === 'off') return false;
    throw new InvalidArgumentError(`${name} must be on or off (got "${value}")`);
  };
}

/** commander parser of `--model`: a model with a committed profile (profiles/<model>.wasm.json). */
export function modelArg(value: string): string {
  // Synchronous (commander parsers are): the profile files are read later, only their presence is checked here.
  const dir = process.env.OFFLOAD_PROFILES_DIR?.trim() || new URL('../profiles/', import.meta.url).pathname;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/.test(value) || !existsSync(join(dir, `${value}.wasm.json`))) {
    throw new InvalidArgumentError(`--model: unknown model "${value}" (no profile ${join(dir, `${value}.wasm.json`)}; make one with \`offload profile ${value}\`)`);
  }
  return value;
}

/** Adds the fleet and timing flags to a command. */
export function simOptions(cmd: Command): Command {
  return cmd
    .option('--keep-alive-ms <ms>', 'how long Lambda keeps an idle environment (undocumented; ~10 min measured)', positiveInt('--keep-alive-ms'), DEFAULT_FLEET_KEEPALIVE_MS)
    .option('--planner-keep-alive-ms <ms>', 'the planner\'s keep-alive assumption (FLEET_KEEPALIVE_MS)', positiveInt('--planner-keep-alive-ms'), PLANNER_KEEPALIVE_MS)
    .option('--fleet-cache-ms <ms>', 'how long the planner reuses one fleet read (FLEET_CACHE_MS)', nonNegativeInt('--fleet-cache-ms'), PLANNER_FLEET_CACHE_MS)
    .option('--reap-visible-ms <ms>', 'how long a reaped environment stays in the planner\'s view (default 0: it marks itself gone on SIGTERM)', nonNegativeInt('--reap-visible-ms'))
    .option('--account-concurrency <n>', 'the account\'s concurrency quota (default: the configuration\'s accountConcurrency, 1000)', positiveInt('--account-concurrency'))
    .option('--plan-ms <ms>', 'POST /plan round trip of the planner policy (default: the network RTT + 10 ms)', nonNegativeInt('--plan-ms'))
    .option('--fleet-at-arrival <on|off>', 'the planner judges the fleet when each cut\'s request would reach its tail (FLEET_AT_ARRIVAL)', onOff('--fleet-at-arrival'), true)
    .option('--prewarm', 'the planner\'s opt-in prewarm (PREWARM_TAILS=true): a plan may start the tail that would win warm');
}
