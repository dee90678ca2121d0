import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSimDeployment } from '../../cli/sim-deployment';
import { defaultFunctionName } from '../../core/planner';

const dir = mkdtempSync(join(tmpdir(), 'offload-sim-deployment-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the simulated deployment names its tails as cdk deploy does', () => {
  it('<stackName>-<model>-<cut> from the configuration (-tfn for the tfjs-node image), as cdk/config.ts names them', async () => {
    const config = JSON.parse(readFileSync('cdk/offload.config.json', 'utf8')) as Record<string, unknown>;
    const file = join(dir, 'acme.json');
    writeFileSync(file, JSON.stringify({ ...config, stackName: 'acme', backend: 'tfjs-node' }));

    const plain = await buildSimDeployment(['mobilenetv2'], {});
    const acme = await buildSimDeployment(['mobilenetv2'], { config: file });

    expect(plain.functions.map((f) => f.name)).toEqual(plain.functions.map((f) => `offload-mobilenetv2-${f.cut}`));
    expect(plain.functions.map((f) => f.name)).toEqual(plain.functions.map((f) => defaultFunctionName('mobilenetv2', f.cut)));
    expect(acme.functions.map((f) => f.name)).toEqual(acme.functions.map((f) => `acme-mobilenetv2-${f.cut}-tfn`));
  });
});
