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
import { LOCAL_HOST, sharedCores, type HostModel } from '../core/sim/host';
import type { JitterSpec } from '../core/sim/jitter';
import { PLANNER_FLEET_CACHE_MS, PLANNER_KEEPALIVE_MS } from '../core/sim/fleet-view';
import { CLOUD_DEFAULTS, LAMBDA_COLD_ESTIMATE, type ColdStartModel } from '../core/presets';
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
  /** The planner's prewarm (on unless `--prewarm off`). */
  prewarm: boolean;
  waitForPlan?: boolean;
  host: 'lambda' | 'local';
  hostCores?: number;
  jitter?: Omit<JitterSpec, 'seed'>;
  /** `--cold-start`: the tails' cold-start formula on Lambda; absent, the local calibration (CLOUD_DEFAULTS). */
  coldStart?: ColdStartChoice;
}

/** A cold-start formula with the name it was given by. */
export interface ColdStartChoice extends ColdStartModel {
  /** `local`, `lambda-estimate`, or `BASE+PERMIB` as typed. */
  name: string;
}

const COLD_START_USAGE = 'local, lambda-estimate or BASE+PERMIB (ms, and ms per MiB of tail weights, e.g. 300+12)';

/**
 * `--cold-start local|lambda-estimate|BASE+PERMIB`. One flag, not two like the planner's COLD_BASE_MS and
 * COLD_MS_PER_MB: the two figures are one fitted line and only mean something together, and the named ones
 * cannot be half given.
 */
export function coldStartArg(value: string): ColdStartChoice {
  const v = value.trim();
  if (v === 'local') return { name: v, coldBaseMs: CLOUD_DEFAULTS.coldBaseMs, coldMsPerMB: CLOUD_DEFAULTS.coldMsPerMB };
  if (v === 'lambda-estimate') return { name: v, ...LAMBDA_COLD_ESTIMATE };
  const m = /^([-+]?[0-9]*\.?[0-9]+)\s*\+\s*([-+]?[0-9]*\.?[0-9]+)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`--cold-start must be ${COLD_START_USAGE} (got "${value}")`);
  const [coldBaseMs, coldMsPerMB] = [Number(m[1]), Number(m[2])];
  if (coldBaseMs < 0 || coldMsPerMB < 0) throw new InvalidArgumentError(`--cold-start: BASE and PERMIB must be >= 0 (got "${value}")`);
  return { name: `${coldBaseMs}+${coldMsPerMB}`, coldBaseMs, coldMsPerMB };
}

/** `296.5 ms + 11.98 ms/MiB (lambda-estimate: …)`: what a run's cold starts are, for its output. */
export function describeColdStart(c: ColdStartChoice): string {
  const formula = `${+c.coldBaseMs.toFixed(1)} ms + ${+c.coldMsPerMB.toFixed(2)} ms/MiB of tail weights`;
  const what =
    c.name === 'lambda-estimate'
      ? 'lambda-estimate: composed from cited S3 and Lambda init figures and this machine\'s phases, NOT measured on Lambda'
      : c.name === 'local'
        ? 'local: the local stack\'s calibration, the default'
        : 'given';
  return `${formula} (${what}); the planner prices cold tails with the same formula`;
}

/** `--host lambda|local`. */
function hostArg(value: string): 'lambda' | 'local' {
  if (value === 'lambda' || value === 'local') return value;
  throw new InvalidArgumentError(`--host must be lambda or local (got "${value}")`);
}

/** `--jitter tail=CV,cold=CV` (either may be left out: 0). */
export function jitterArg(value: string): Omit<JitterSpec, 'seed'> {
  const out = { tailCv: 0, coldCv: 0 };
  for (const part of value.split(',')) {
    const m = /^\s*(tail|cold)\s*=\s*([0-9]*\.?[0-9]+)\s*$/.exec(part);
    if (!m || Number(m[2]) > 10) throw new InvalidArgumentError(`--jitter must be tail=CV,cold=CV with each CV a number from 0 to 10 (got "${value}")`);
    out[m[1] === 'tail' ? 'tailCv' : 'coldCv'] = Number(m[2]);
  }
  return out;
}

/** The usage error of the host flags (both given, or a cold start for a host), or null. */
export function hostFlagsError(flags: SimFlags): string | null {
  if (flags.hostCores !== undefined && flags.host === 'local') return 'error: --host-cores: give --host local or --host-cores N, not both';
  if (flags.coldStart && (flags.host === 'local' || flags.hostCores !== undefined)) {
    // A host's cold starts are measured on it (core/sim/host.ts coldStartMs and cold), per cut where it has them.
    return `error: --cold-start: applies to --host lambda; with ${flags.host === 'local' ? '--host local' : '--host-cores'} the host's measured cold starts apply`;
  }
  return null;
}

/** The host model the flags ask for (core/sim/host.ts), or none for Lambda; the simulation's seed feeds the spread. */
export function hostOptions(flags: SimFlags, seed: number): { host?: HostModel; jitter?: JitterSpec } {
  const host = flags.hostCores !== undefined ? sharedCores(flags.hostCores) : flags.host === 'local' ? LOCAL_HOST : undefined;
  // On a host, its measured spread unless --jitter says otherwise; the spread's own stream, apart from the arrivals'.
  const spread = flags.jitter ?? host?.spread;
  const jitter = spread ? { ...spread, seed: (seed ^ 0x2545f491) | 0 } : undefined;
  return { ...(host ? { host } : {}), ...(jitter ? { jitter } : {}) };
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
    .option('--wait-for-plan', 'planner policy: the device waits for its plan before it starts its head (default: it runs the model while POST /plan is in flight)')
    .option('--prewarm [on|off]', 'the planner\'s prewarm (PREWARM_TAILS, on by default as deployed): a plan may start the tail that would win warm when an earlier plan wanted it within the planner\'s keep-alive; off: never (planner.prewarm.enabled false)', onOff('--prewarm'), true)
    .option('--host <lambda|local>', 'where the tails run: lambda (each environment on its own vCPUs) or local (this machine\'s cores shared by every busy environment, as the local stack runs them: measured slowdowns, this machine\'s profile, 1 wasm thread)', hostArg, 'lambda')
    .option('--host-cores <n>', 'the tails share an ideal host of n cores (processor sharing) at this machine\'s profiled speed', positiveInt('--host-cores'))
    .option('--cold-start <local|lambda-estimate|BASE+PERMIB>', 'cold start of a tail on Lambda, ms + ms per MiB of its weights, for the fleet and the planner\'s pricing alike (on a deployment: the planner\'s COLD_BASE_MS, COLD_MS_PER_MB): local (default; the local stack\'s calibration, S3 on loopback), lambda-estimate (composed from cited S3 and Lambda init figures, not measured on Lambda; core/presets.ts), or your own fit, e.g. 300+12; not with --host local or --host-cores', coldStartArg)
    .option('--jitter <tail=CV,cold=CV>', 'spread each request\'s tail time and cold start (lognormal, median the function\'s figure, coefficient of variation CV); default none on Lambda, the host\'s measured spread with --host local or --host-cores (tail=0,cold=0 turns it off)', jitterArg);
}
