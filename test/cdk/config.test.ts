import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, mergeConfig, resolveDeployment, type OffloadConfig } from '../../cdk/config';
import { selectDefaultCuts } from '../../cdk/cuts';
import { exportZoo, PROJECT_ROOT, tempDir, removeTempDirs } from './helpers';

const ctx = (values: Record<string, unknown>) => (key: string) => values[key];

let exportDir: string;
beforeAll(async () => {
  exportDir = tempDir('config-export');
  await exportZoo(exportDir, ['tinychain']);
});

function config(patch: Record<string, unknown> = {}): OffloadConfig {
  return loadConfig(ctx({ exportDir, models: 'tinychain', overrides: JSON.stringify(patch) }), PROJECT_ROOT);
}

describe('loadConfig', () => {
  it('reads cdk/offload.config.json: what `npm start` serves (same models, same cuts), wasm, uploaded by the deployment', () => {
    const c = loadConfig(ctx({}), PROJECT_ROOT);
    const local = loadConfig(ctx({ config: 'local/offload.local.json' }), PROJECT_ROOT);
    expect(Object.keys(c.models).sort()).toEqual(['mobilenetv2', 'resnet50']);
    expect(c.models).toEqual(local.models);
    expect(c.exportDir).toBe(local.exportDir);
    expect(c).toMatchObject({ stackName: 'offload', backend: 'wasm', upload: 'deployment', exportDir: '.offload/export' });
    expect(c.tail).toEqual({ memoryMB: 3008, timeoutSeconds: 30, reservedConcurrency: 10, provisionedConcurrency: 0, ephemeralStorageMB: 512 });
  });

  it('applies JSON overrides, then flat -c keys; `models` keeps file settings of the models it names', () => {
    const file = join(tempDir('cfg'), 'c.json');
    writeFileSync(file, JSON.stringify({ models: { a: { cuts: [3] }, b: {} }, tail: { memoryMB: 2048, timeoutSeconds: 20, reservedConcurrency: 5, provisionedConcurrency: 0, ephemeralStorageMB: 512 } }));
    const c = loadConfig(
      ctx({ config: file, overrides: '{"tail":{"memoryMB":1024},"stackName":"x"}', stackName: 'flat', backend: 'tfjs-node', models: 'a,c' }),
      PROJECT_ROOT,
    );
    expect(c.tail).toMatchObject({ memoryMB: 1024, timeoutSeconds: 20 });
    expect(c.stackName).toBe('flat');
    expect(c.backend).toBe('tfjs-node');
    expect(c.models).toEqual({ a: { cuts: [3] }, c: { cuts: 'default' } });
  });

  it('names the bad field of an invalid configuration', () => {
    expect(() => loadConfig(ctx({ overrides: '{"tail":{"timeoutSeconds":60}}' }), PROJECT_ROOT)).toThrow(/^config\.tail\.timeoutSeconds: /);
    expect(() => loadConfig(ctx({ backend: 'gpu' }), PROJECT_ROOT)).toThrow(/^config\.backend: /);
    expect(() => loadConfig(ctx({ overrides: '{nope' }), PROJECT_ROOT)).toThrow(/-c overrides: not valid JSON/);
    expect(() => loadConfig(ctx({ overrides: '{"browser":{"allowOrigins":["https://a.example/app"]}}' }), PROJECT_ROOT)).toThrow(
      /^config\.browser\.allowOrigins\[0\]: must be \* or an origin/,
    );
  });

  it('refuses an identity pool it cannot build or that would hand out nothing, naming the field', () => {
    const pool = (p: object) => () => loadConfig(ctx({ overrides: JSON.stringify({ browser: { identityPool: p } }) }), PROJECT_ROOT);
    expect(pool({ enabled: true, userPools: [{ userPoolId: 'eu-west-1', clientId: 'abc' }] })).toThrow(
      /^config\.browser\.identityPool\.userPools\[0\]\.userPoolId: must be a user pool id/,
    );
    expect(pool({ enabled: true, guests: true })).toThrow(/^config\.browser\.identityPool: .*guests/);
    expect(pool({ enabled: true, allowUnauthenticated: false })).toThrow(/^config\.browser\.identityPool: with allowUnauthenticated false, name at least one/);
    expect(pool({ enabled: false, allowUnauthenticated: false })).not.toThrow();
  });

  it('opens the API to pages from any origin by default, with hour-long artifact URLs and no identity pool', () => {
    expect(config().browser).toEqual({
      allowOrigins: ['*'],
      artifactUrlSeconds: 3600,
      identityPool: { enabled: false, allowUnauthenticated: true, classicFlow: false, userPools: [], loginProviders: {} },
    });
    expect(config({ browser: { allowOrigins: ['https://app.example', 'http://localhost:8080'] } }).browser.allowOrigins).toEqual([
      'https://app.example',
      'http://localhost:8080',
    ]);
  });

  it('merges objects deeply and replaces arrays', () => {
    expect(mergeConfig({ a: { b: 1, c: [1, 2] } }, { a: { c: [3] } })).toEqual({ a: { b: 1, c: [3] } });
  });
});

describe('resolveDeployment', () => {
  it('sizes every tail from the defaults, the model and the cut, and names it <stack>-<model>-<cut>', () => {
    const d = resolveDeployment(
      config({ models: { tinychain: { cuts: [1, 5], tail: { memoryMB: 1769 }, functions: { '5': { reservedConcurrency: 3, provisionedConcurrency: 2 } } } } }),
      PROJECT_ROOT,
    );
    const tails = d.models[0]!.tails;
    expect(tails.map((t) => [t.cut, t.functionName, t.memoryMB, t.reservedConcurrency, t.provisionedConcurrency])).toEqual([
      [0, 'offload-tinychain-0', 1769, 10, 0],
      [1, 'offload-tinychain-1', 1769, 10, 0],
      [5, 'offload-tinychain-5', 1769, 3, 2],
    ]);
    expect(tails[2]).toMatchObject({
      route: '/infer/tinychain/5',
      artifactPrefix: 'models/tinychain/',
      artifactKeys: ['models/tinychain/tails/5/model.json', 'models/tinychain/segments/5-6.bin', 'models/tinychain/segments/6-7.bin'],
      layer: 'flatten',
    });
    expect(d.catalog.models['tinychain']!.tails[2]).toEqual({
      cut: 5,
      function: 'offload-tinychain-5',
      route: '/infer/tinychain/5',
      memoryMB: 1769,
      timeoutSeconds: 30,
      reservedConcurrency: 3,
      provisionedConcurrency: 2,
      wasmThreads: 2,
    });
  });

  it('resolves every wasm tail’s threads from its memory size unless pinned, and writes them into the catalog', () => {
    const d = resolveDeployment(
      config({ tail: { memoryMB: 10_240 }, models: { tinychain: { cuts: [1, 5], functions: { '1': { memoryMB: 3009 }, '5': { wasmThreads: 1 } } } } }),
      PROJECT_ROOT,
    );
    expect(d.models[0]!.tails.map((t) => [t.cut, t.memoryMB, t.wasmThreads])).toEqual([
      [0, 10_240, 6],
      [1, 3009, 3],
      [5, 10_240, 1],
    ]);
    expect(d.catalog.models['tinychain']!.tails.map((t) => t.wasmThreads)).toEqual([6, 3, 1]);
  });

  it('refuses wasmThreads out of 1–8, and with the tfjs-node backend (which has no wasm engine)', () => {
    expect(() => config({ tail: { wasmThreads: 9 } })).toThrow(/tail\.wasmThreads/);
    expect(() => config({ tail: { wasmThreads: 0 } })).toThrow(/tail\.wasmThreads/);
    expect(() => resolveDeployment(config({ backend: 'tfjs-node', models: { tinychain: { cuts: [0], tail: { wasmThreads: 2 } } } }), PROJECT_ROOT)).toThrow(
      /cut 0 sets wasmThreads, which only the wasm backend has \(backend is tfjs-node\)/,
    );
  });

  it('uses the default rule on the manifest when no list is given', () => {
    const d = resolveDeployment(config(), PROJECT_ROOT);
    expect(d.models[0]!.selection).toBe('default');
    expect(d.models[0]!.tails.map((t) => t.cut)).toEqual(selectDefaultCuts(d.models[0]!.manifest).cuts);
  });

  it('suffixes tfjs-node function names (a ZIP → image switch replaces the function)', () => {
    const d = resolveDeployment(config({ backend: 'tfjs-node', models: { tinychain: { cuts: [0] } } }), PROJECT_ROOT);
    expect(d.models[0]!.tails[0]!.functionName).toBe('offload-tinychain-0-tfn');
    expect(d.catalog.backend).toBe('tfjs-node');
  });

  it('fails with the export command when the manifest is missing', () => {
    expect(() => resolveDeployment(loadConfig(ctx({ exportDir, models: 'tinydag' }), PROJECT_ROOT), PROJECT_ROOT)).toThrow(
      /No export manifest for model "tinydag" at .*tinydag\/manifest\.json: `npx cdk synth` exports it/,
    );
  });

  it('fails naming the cuts to export when a chosen cut has no exported tail', async () => {
    const dir = tempDir('partial');
    const [{ ZOO }, { exportModel }] = await Promise.all([import('../../models/zoo/index'), import('../../models/export')]);
    await exportModel(ZOO.tinychain.build(), dir, { name: 'tinychain', cuts: [0] });
    const c = loadConfig(ctx({ exportDir: dir, models: 'tinychain', overrides: '{"models":{"tinychain":{"cuts":[2]}}}' }), PROJECT_ROOT);
    expect(() => resolveDeployment(c, PROJECT_ROOT)).toThrow(/Cuts 2 of tinychain have no exported tail .*\(exported: 0\): `npx cdk synth` exports it/);
  });

  it('fails when a tail file listed in the manifest is missing on disk', () => {
    const dir = tempDir('broken');
    const src = join(exportDir, 'tinychain');
    // Prepare: a copy of the export whose tail 1 lost its model.json.
    cpSync(src, join(dir, 'tinychain'), { recursive: true });
    rmSync(join(dir, 'tinychain', 'tails', '1', 'model.json'));
    const c = loadConfig(ctx({ exportDir: dir, models: 'tinychain', overrides: '{"models":{"tinychain":{"cuts":[1]}}}' }), PROJECT_ROOT);
    expect(() => resolveDeployment(c, PROJECT_ROOT)).toThrow(/export of tinychain is incomplete: tails\/1\/model\.json missing/);
    // a segment the tail reads counts as much as its model.json
    cpSync(src, join(dir, 'tinychain'), { recursive: true });
    rmSync(join(dir, 'tinychain', 'segments', '6-7.bin'));
    expect(() => resolveDeployment(c, PROJECT_ROOT)).toThrow(/export of tinychain is incomplete: segments\/6-7\.bin missing/);
  });

  it('rejects a manifest of another model, a cut that is no candidate, and overrides for undeployed cuts', () => {
    const dir = tempDir('renamed');
    cpSync(join(exportDir, 'tinychain'), join(dir, 'other'), { recursive: true });
    expect(() => resolveDeployment(loadConfig(ctx({ exportDir: dir, models: 'other' }), PROJECT_ROOT), PROJECT_ROOT)).toThrow(/describes model "tinychain", not "other"/);
    expect(() => resolveDeployment(config({ models: { tinychain: { cuts: [99] } } }), PROJECT_ROOT)).toThrow(/cuts: 99 is not a candidate cut/);
    expect(() => resolveDeployment(config({ models: { tinychain: { cuts: [1], functions: { '2': { memoryMB: 512 } } } } }), PROJECT_ROOT)).toThrow(
      /functions\.2: cut 2 gets no function/,
    );
  });

  it('enforces provisioned ≤ reserved and the account’s 100 unreserved executions', () => {
    expect(() => resolveDeployment(config({ models: { tinychain: { cuts: [1], functions: { '1': { provisionedConcurrency: 11 } } } } }), PROJECT_ROOT)).toThrow(
      /cut 1 has provisionedConcurrency 11 > reservedConcurrency 10/,
    );
    expect(() => resolveDeployment(config({ accountConcurrency: 120, models: { tinychain: { cuts: [1, 2] } } }), PROJECT_ROOT)).toThrow(
      /reserves 35 concurrent executions \(3 tails and the planner\); an account with 120 must keep 100 unreserved/,
    );
  });

  it('enforces the HTTP API route quota and Lambda’s 64-character names', () => {
    expect(() => resolveDeployment(config({ apiRouteQuota: 4, models: { tinychain: { cuts: [1, 2] } } }), PROJECT_ROOT)).toThrow(/5 routes, above the HTTP API quota of 4/);
    const manifest = readFileSync(join(exportDir, 'tinychain', 'manifest.json'), 'utf8');
    const long = 'm'.repeat(40);
    const dir = tempDir('long');
    cpSync(join(exportDir, 'tinychain'), join(dir, long), { recursive: true });
    writeFileSync(join(dir, long, 'manifest.json'), JSON.stringify({ ...JSON.parse(manifest), model: long }));
    expect(() =>
      resolveDeployment(loadConfig(ctx({ exportDir: dir, models: long, stackName: 'a'.repeat(25) }), PROJECT_ROOT), PROJECT_ROOT),
    ).toThrow(/longer than Lambda's 64 characters/);
  });
});

afterAll(removeTempDirs);
