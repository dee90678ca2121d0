/**
 * What the bench scripts that start their own local stack share before it starts: the stack's configuration
 * (local/offload.local.json with their overrides) and the head payloads they send to its tails.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * local/offload.local.json with `tail` merged over its tail settings and `rest` over its top-level fields, written to
 * `dir`/offload.config.json; returns that path (the stack's `--config`).
 */
export function writeLocalConfig(dir: string, tail: Readonly<Record<string, unknown>>, rest: Readonly<Record<string, unknown>> = {}): string {
  const local = JSON.parse(readFileSync('local/offload.local.json', 'utf8')) as Record<string, unknown> & { tail: object };
  const config = join(dir, 'offload.config.json');
  writeFileSync(config, JSON.stringify({ ...local, tail: { ...local.tail, ...tail }, ...rest }, null, 2));
  return config;
}

/**
 * The float32 wire payloads of `model`'s heads at `cuts`, from the seeded input (seed 7) every stack bench sends.
 * tfjs loads here, on first use: scripts that only write a configuration (sim-validation) do not load it.
 */
export async function headPayloads(model: string, cuts: readonly number[]): Promise<Map<number, Uint8Array>> {
  const [{ DeviceModel }, { encodeTensors }] = await Promise.all([import('../client/device'), import('../core/wire')]);
  const device = await DeviceModel.load(model);
  const input = device.randomInput(7);
  try {
    const payloads = new Map<number, Uint8Array>();
    for (const cut of cuts) payloads.set(cut, encodeTensors(await device.runHead(cut, input), 'float32'));
    return payloads;
  } finally {
    input.dispose();
    device.dispose();
  }
}
