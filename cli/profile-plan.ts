/**
 * The model part of `offload plan --model M --network N --device D`: a docs/cost-model.md §7
 * scenario built from the committed profiles (core/profile-scenario.ts).
 * The plan command then applies its overrides (network and radio, device
 * power, objective, constraints, battery, dtype) and plans it.
 */
import { NotFoundError, ValidationError } from '../core/errors';
import { allWarmFleet, buildScenario, parseFleet, predictorFromProfiles } from '../core/profile-scenario';
import { DEVICE_PROFILE_NAMES, DEVICE_PROFILES, parseDeviceProfile, type DeviceProfile } from '../core/profiles';
import { NETWORK_PRESETS, NETWORK_PRESET_NAMES } from '../core/presets';
import type { DType, Objective, ScenarioInput } from '../core/scenario';
import { ownValue } from '../core/validation';
import { resolveNetwork } from './network-option';
import { looksLikePath, readJsonFile } from './options';
import { loadProfile, loadProfiles } from '../models/profile-files';

/** What the flag form reads from the command line. */
export interface ProfilePlanOptions {
  model: string;
  network?: string;
  device?: string;
  fleet?: string;
  memoryMb?: number;
  objective?: Objective;
  dtype?: DType;
}

/** `--device`: a built-in class or a JSON file holding a device profile (core/profiles.ts DeviceProfileSchema). */
export function resolveDeviceProfile(value: string): DeviceProfile {
  const builtIn = ownValue(DEVICE_PROFILES, value);
  if (builtIn) return builtIn;
  if (!looksLikePath(value)) {
    throw new NotFoundError(`unknown device profile "${value}" (built-in: ${DEVICE_PROFILE_NAMES.join(', ')}; or a JSON file)`);
  }
  const raw = readJsonFile(value, 'device file');
  const named = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !('name' in raw) ? { name: value, ...raw } : raw;
  return parseDeviceProfile(named, `--device ${value}`);
}

/**
 * The scenario for `opts.model` from its profile: device times scaled by the
 * predictor to the device class, cloud times from the cloud profile at
 * `--memory-mb`, every candidate deployed and warm unless `--fleet FILE`
 * gives the fleet state. A network file without `radio` gets the 4G radio.
 */
export function scenarioFromProfiles(opts: ProfilePlanOptions): ScenarioInput {
  if (opts.network === undefined) {
    throw new ValidationError('--network', `required with --model (${NETWORK_PRESET_NAMES.join(', ')}, or a JSON file)`);
  }
  if (opts.device === undefined) {
    throw new ValidationError('--device', `required with --model (${DEVICE_PROFILE_NAMES.join(', ')}, or a JSON file)`);
  }
  const device = resolveDeviceProfile(opts.device);
  const { network, radio } = resolveNetwork(opts.network);
  const profile = loadProfile(opts.model);
  const profiles = loadProfiles();
  const fleet = opts.fleet === undefined ? allWarmFleet(profile.candidates) : parseFleet(readJsonFile(opts.fleet, 'fleet file'), `--fleet ${opts.fleet}`);
  return buildScenario({
    profile,
    predictor: predictorFromProfiles(profiles),
    device,
    network,
    radio: radio ?? NETWORK_PRESETS['4g'].radio,
    fleet,
    ...(opts.memoryMb !== undefined ? { memoryMB: opts.memoryMb } : {}),
    ...(opts.objective ? { objective: opts.objective } : {}),
    ...(opts.dtype ? { dtype: opts.dtype } : {}),
  });
}
