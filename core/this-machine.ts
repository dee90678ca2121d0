/**
 * The `this-machine` device class: the device is this machine, its per-layer
 * times are its own measured profile (`offload profile`, profiles/<model>.wasm.json).
 * A load run with it can compute the head here for real and set every measured
 * part beside its prediction (docs/load.md).
 */
import type { ModelProfile } from './profiles';
import { THIS_MACHINE } from './workload';

export { THIS_MACHINE };

/**
 * Power of this machine while computing and while waiting, W. ASSUMED round
 * figures for one busy core of a server/desktop x86 CPU and its idle share;
 * nothing here measured them (energy figures of `this-machine` are illustrations).
 */
export const THIS_MACHINE_POWER = Object.freeze({ computeW: 15, idleW: 2 });

/** What `POST /plan` takes as the device: this machine's measured per-layer times (the profile's clock) and its assumed power. */
export interface ThisMachineDevice {
  computeW: number;
  idleW: number;
  deviceMs: number[];
}

/**
 * The inline device body of `POST /plan` for `this-machine`.
 *
 * @example
 * api.plan({ model: 'resnet50', device: thisMachineDevice(profile), network: 'wifi' });
 */
export function thisMachineDevice(profile: Pick<ModelProfile, 'layers'>): ThisMachineDevice {
  return { computeW: THIS_MACHINE_POWER.computeW, idleW: THIS_MACHINE_POWER.idleW, deviceMs: profile.layers.map((l) => l.ms) };
}
