/**
 * Deployment options other than the default: the tfjs-node container image,
 * BucketDeployment uploads, provisioned concurrency, alarm notifications,
 * arm64, and splitting a model's tails over several nested stacks. Each must
 * synthesise offline (no Docker) and pass cdk-nag.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { deploymentSizing } from '../../cdk/constructs/model-store';
import { exportZoo, nagErrors, resourcesOf, synth, tempDir, removeTempDirs } from './helpers';
import { deployedFromCatalog } from '../../functions/commons/deployment';
import { assembleScenario } from '../../functions/commons/scenario';
import { derivedCloudLayerMs, tailWasmThreads, WASM_PARALLEL_FRACTION } from '../../core/profiles';
import { parsePlanRequest } from '../../core/api';
import { requestedWasmThreads } from '../../models/wasm-threads';

// This file synthesizes the app several times, bundling every function: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

let exportDir: string;
beforeAll(async () => {
  exportDir = tempDir('variants-export');
  await exportZoo(exportDir, ['tinychain', 'tinydag']);
});

describe('-c backend=tfjs-node', () => {
  it('makes every tail a container image built from layers/tfjs-node, staged without Docker', () => {
    // Act
    const s = synth({ exportDir, models: 'tinychain', backend: 'tfjs-node' });
    // Assess: image functions with the tensorflow backend; the planner stays a ZIP function.
    const t = s.nested.get('Tails-tinychain')!;
    const fns = Object.values(resourcesOf(t, 'AWS::Lambda::Function'));
    expect(fns.length).toBe(s.deployment.models[0]!.tails.length);
    for (const t of s.deployment.catalog.models['tinychain']!.tails) expect(t).not.toHaveProperty('wasmThreads');
    for (const f of fns) {
      expect(f.Properties).toMatchObject({ PackageType: 'Image', Environment: { Variables: { OFFLOAD_BACKEND: 'tensorflow' } } });
      // libtensorflow runs its own threads: no wasm thread count in the environment or the catalog
      expect((f.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables).not.toHaveProperty('OFFLOAD_WASM_THREADS');
      expect(f.Properties['Runtime']).toBeUndefined();
      expect(String(f.Properties['FunctionName'])).toMatch(/-tfn$/);
    }
    s.root.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'offload-planner', Runtime: 'nodejs22.x' });
    // One image asset whose context holds the Dockerfile, the image's package.json and the bundled handler.
    const assets = JSON.parse(readFileSync(join(s.outdir, 'offload.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; platform?: string } }>;
    };
    const images = Object.values(assets.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]!.source.platform).toBe('linux/amd64');
    const ctx = join(s.outdir, images[0]!.source.directory);
    expect(readdirSync(ctx).sort()).toEqual(['Dockerfile', 'index.mjs', 'main.mjs', 'package.json', 'prefetch-worker.mjs']);
    // the handler bundle the entry loads (cdk/bundling.ts TAIL_COMPANIONS)
    const bundle = readFileSync(join(ctx, 'main.mjs'), 'utf8');
    // tfjs stays external so that tfjs-node registers its backend with the tfjs-core the handler uses:
    // every @tensorflow package the bundle imports is one the image installs, at the version tfjs-node pins.
    const imported = new Set([...bundle.matchAll(/(?:from\s*|import\s*\(?\s*)"(@tensorflow\/[^"/]+)/g)].map((m) => m[1]!));
    expect(imported).toContain('@tensorflow/tfjs-core');
    const dependencies = JSON.parse(readFileSync(join(ctx, 'package.json'), 'utf8')).dependencies as Record<string, string>;
    expect(dependencies).toHaveProperty('@tensorflow/tfjs-node', '4.22.0');
    for (const pkg of imported) expect(dependencies, pkg).toHaveProperty(pkg, '4.22.0');
    expect(nagErrors(s.stack)).toEqual([]);
  });
});

describe('the default upload (BucketDeployment)', () => {
  it('copies each model’s export, as one asset hashed by its manifest, under models/<model>/, pruning only there', () => {
    const s = synth({ exportDir, models: 'tinychain,tinydag' });
    expect(s.deployment.config.upload).toBe('deployment');
    for (const m of s.deployment.models) {
      s.root.hasResourceProperties('Custom::CDKBucketDeployment', {
        DestinationBucketKeyPrefix: `models/${m.model}/`,
        Prune: true,
        DestinationBucketName: { Ref: Match.stringLikeRegexp('^ModelStoreBucket') },
      });
    }
    // The staged asset is the export folder itself: each segment once, every file the manifest lists, nothing else but the manifest.
    const assets = readdirSync(s.outdir).filter((d) => d.startsWith('asset.')).map((d) => ({ path: d }));
    for (const m of s.deployment.models) {
      const asset = assets.find((a) => {
        const manifest = join(s.outdir, a.path, 'manifest.json');
        return existsSync(manifest) && readFileSync(manifest, 'utf8').includes(`"fingerprint": "${m.manifest.fingerprint}"`);
      });
      expect(asset, m.model).toBeDefined();
      const staged = readdirSync(join(s.outdir, asset!.path), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => relative(join(s.outdir, asset!.path), join(e.parentPath, e.name)).split(sep).join('/'));
      expect(staged.filter((f) => !f.startsWith('profiles/')).sort()).toEqual([...Object.keys(m.manifest.files), 'manifest.json'].sort());
    }
    expect(nagErrors(s.stack)).toEqual([]);
  });

  it('sizes the copy’s /tmp for the export twice (zip and files) and refuses an export too large for it', () => {
    expect(deploymentSizing('m', 100 * 2 ** 20)).toEqual({ memoryLimit: 1024, ephemeralMB: 1024 });
    expect(deploymentSizing('m', 2 ** 30)).toEqual({ memoryLimit: 2048, ephemeralMB: 4096 });
    expect(deploymentSizing('m', 4.5 * 2 ** 30).ephemeralMB).toBe(10_240);
    expect(() => deploymentSizing('vgg', 5 * 2 ** 30)).toThrow(/export of vgg is 5\.00 GiB.*at most 4\.75 GiB.*"upload": "sync"/);
  });
});

describe('provisioned concurrency, alarm topic, arm64', () => {
  it('routes a provisioned tail through its live alias, notifies the topic, and runs on arm64', () => {
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:offload-alarms';
    const s = synth({
      exportDir,
      models: 'tinychain',
      architecture: 'arm64',
      overrides: JSON.stringify({ alarms: { topicArn }, models: { tinychain: { cuts: [5], functions: { '5': { provisionedConcurrency: 2 } } } } }),
    });
    const t = s.nested.get('Tails-tinychain')!;
    t.resourceCountIs('AWS::Lambda::Alias', 1);
    t.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
    const aliasId = Object.keys(resourcesOf(t, 'AWS::Lambda::Alias'))[0]!;
    t.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationUri: { Ref: aliasId } });
    // Cut 0 has no provisioned concurrency: its route invokes the function itself.
    t.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationUri: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cut0Function'), 'Arn'] } });
    for (const a of Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'))) expect(a.Properties['AlarmActions']).toEqual([topicArn]);
    for (const f of Object.values(resourcesOf(t, 'AWS::Lambda::Function'))) expect(f.Properties['Architectures']).toEqual(['arm64']);
    expect(nagErrors(s.stack)).toEqual([]);
  });
});

describe('memory size → wasm threads → cloud time factor', () => {
  it('gives each tail, its catalog entry and the planner one thread count: the memory size’s cores, or the pinned figure', () => {
    // 5,308 MB sees 4 cores; cut 5 pinned to the single-threaded engine
    const overrides = { tail: { memoryMB: 5308 }, models: { tinychain: { cuts: [0, 5], functions: { '5': { wasmThreads: 1 } } } } };
    const s = synth({ exportDir, models: 'tinychain', overrides: JSON.stringify(overrides) });
    const model = s.deployment.models[0]!;
    const catalogTails = s.deployment.catalog.models['tinychain']!.tails;
    const deployed = deployedFromCatalog(s.deployment.catalog)['tinychain']!.functions;
    const fns = Object.values(resourcesOf(s.nested.get('Tails-tinychain')!, 'AWS::Lambda::Function'));
    const seen: number[] = [];
    for (const f of fns) {
      const cut = Number(String(f.Properties['FunctionName']).split('-').pop());
      const memory = Number(f.Properties['MemorySize']);
      const env = (f.Properties['Environment'] as { Variables: Record<string, string> }).Variables;
      // what the tail runs: Lambda sets the memory variable, the function's environment pins the threads
      const tailRuns = requestedWasmThreads({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memory), OFFLOAD_WASM_THREADS: env['OFFLOAD_WASM_THREADS'] }).threads;
      const catalogSays = catalogTails.find((t) => t.cut === cut)!.wasmThreads;
      const plannerPrices = tailWasmThreads(deployed[String(cut)]!.memoryMB, deployed[String(cut)]!.wasmThreads);
      expect([tailRuns, catalogSays, plannerPrices], `cut ${cut}`).toEqual([cut === 5 ? 1 : 4, cut === 5 ? 1 : 4, cut === 5 ? 1 : 4]);
      seen.push(cut);
    }
    expect(seen.sort((a, b) => a - b)).toEqual([0, 5]);
    // the planner's cloud times are those of that engine: 4 threads on 3 vCPUs' worth of CPU, not one thread
    const request = parsePlanRequest({ model: 'tinychain', device: 'flagship-phone', network: '4g' });
    const only0 = { '0': deployed['0']! };
    const scenario = assembleScenario({ request, manifest: model.manifest, deployed: only0, fleet: new Map(), maxPayloadBytes: 6_291_456 });
    const four = derivedCloudLayerMs(model.manifest.layers, 5308, { threads: 4, parallelFraction: WASM_PARALLEL_FRACTION });
    const one = derivedCloudLayerMs(model.manifest.layers, 5308);
    expect(scenario.model.layers.map((l) => l.cloudMs)).toEqual(four);
    expect(four.reduce((a, b) => a + b, 0)).toBeLessThan(one.reduce((a, b) => a + b, 0));
    expect(nagErrors(s.stack)).toEqual([]);
  });
});

describe('tailsPerStack', () => {
  it('splits a model’s tails over several nested stacks, in cut order', () => {
    const s = synth({ exportDir, models: 'tinychain', overrides: JSON.stringify({ tailsPerStack: 2 }) });
    const cuts = s.deployment.models[0]!.tails.map((t) => t.cut);
    const ids = [...s.nested.keys()];
    expect(ids).toEqual(['Tails-tinychain', 'Tails-tinychain-2', 'Tails-tinychain-3'].slice(0, Math.ceil(cuts.length / 2)));
    const perStack = ids.map((id) =>
      Object.values(resourcesOf(s.nested.get(id)!, 'AWS::Lambda::Function')).map((f) => Number(String(f.Properties['FunctionName']).split('-').pop())),
    );
    expect(perStack.flat()).toEqual(cuts);
    expect(Math.max(...perStack.map((p) => p.length))).toBe(2);
  });
});

afterAll(removeTempDirs);
