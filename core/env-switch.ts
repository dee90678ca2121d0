/**
 * The tail's on/off environment switches (`OFFLOAD_FUSE`, `OFFLOAD_PIPELINE`,
 * `OFFLOAD_PREFETCH`): one reading for all of them. Unset, empty or `on`
 * (any case, trimmed) is on; `off` is off; anything else is refused by name,
 * because a typo must not silently pick one.
 */
import { OffloadError } from './errors';

type Env = Readonly<Record<string, string | undefined>>;

/** The switch `name` without throwing: `bad` for a value that is neither (the tail's entry must load whatever it says). */
export function switchSetting(env: Env, name: string): 'on' | 'off' | 'bad' {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'on') return 'on';
  return v === 'off' ? 'off' : 'bad';
}

/**
 * Whether the switch `name` is on.
 * @throws OffloadError `invalid-input` naming the variable for any value but on/off
 */
export function switchOn(env: Env, name: string): boolean {
  const setting = switchSetting(env, name);
  if (setting === 'bad') throw new OffloadError('invalid-input', `${name}: must be "on" or "off" (got "${env[name]}")`, { field: name });
  return setting === 'on';
}
