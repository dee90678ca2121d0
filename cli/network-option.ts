/**
 * `--network PRESET|FILE`, shared by the scenario and profile forms of
 * `offload plan` (kept apart from either so neither imports the other).
 */
import type * as z from 'zod';
import { ValidationError } from '../core/errors';
import { NETWORK_PRESETS, NETWORK_PRESET_NAMES, isNetworkPresetName } from '../core/presets';
import { NetworkSchema, RadioSchema } from '../core/scenario';
import { parseWith } from '../core/validation';
import { looksLikePath, readJsonFile } from './options';

const NetworkFileSchema = NetworkSchema.extend({ radio: RadioSchema.optional() });

/** `--network`: a preset name or a JSON file `{ uplinkMbps, downlinkMbps, rttMs, radio? }`. */
export function resolveNetwork(value: string): { network: z.infer<typeof NetworkSchema>; radio?: z.infer<typeof RadioSchema> } {
  if (isNetworkPresetName(value)) {
    const p = NETWORK_PRESETS[value];
    return { network: { uplinkMbps: p.uplinkMbps, downlinkMbps: p.downlinkMbps, rttMs: p.rttMs }, radio: { ...p.radio } };
  }
  if (!looksLikePath(value)) {
    throw new ValidationError('--network', `unknown preset "${value}" (one of ${NETWORK_PRESET_NAMES.join(', ')}, or a JSON file)`);
  }
  const { radio, ...network } = parseWith(NetworkFileSchema, readJsonFile(value, 'network file'), `--network ${value}`);
  return radio ? { network, radio } : { network };
}
