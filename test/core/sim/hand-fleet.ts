/**
 * The hand scenario (test/core/hand-scenario.ts) as a simulated deployment:
 * one tail function per candidate (cuts 0, 1, 2), with the true cold start of
 * the spec formula (100 ms + 10 ms/MiB: 140, 130, 110 ms) and the warm tail
 * time of the cloud layer times (6, 4, 1 ms).
 */
import { parseScenario, type Scenario } from '../../../core/scenario';
import type { TailFunctionSpec } from '../../../core/sim/fleet';
import type { Arrival } from '../../../core/workload';
import { handScenario } from '../hand-scenario';

export const HAND_COLD = { 0: 140, 1: 130, 2: 110 } as const;
export const HAND_TAIL = { 0: 6, 1: 4, 2: 1 } as const;

export function handFunctions(over: Partial<TailFunctionSpec> = {}, cuts: readonly (0 | 1 | 2)[] = [0, 1, 2]): TailFunctionSpec[] {
  return cuts.map((cut) => ({
    model: 'hand',
    cut,
    memoryMB: 2048,
    reservedConcurrency: 5,
    provisionedConcurrency: 0,
    coldStartMs: HAND_COLD[cut],
    tailMs: HAND_TAIL[cut],
    ...over,
  }));
}

const base = parseScenario(handScenario());

/** The hand scenario for every device class and network (the tests do not vary them). */
export function handScenarioFor(): Scenario {
  return base;
}

/** Arrivals at the given times from one device. */
export function handArrivals(times: readonly number[], device = 'd0'): Arrival[] {
  return times.map((t) => ({ t, device, class: 'flagship-phone', network: 'wifi', model: 'hand' }));
}
