import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startLocalEmulator, type LocalEmulator } from '../../local/index';
import { discoverApp, localResourceNames } from '../../local/template';
import { synthTinyApp } from './fixtures/cdk-app/app';

// This file synthesizes a CDK app with bundling: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

const dirs: string[] = [];
const stacks: LocalEmulator[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const synthesized = new Map<boolean, string>();
function synth(assetMetadata: boolean): string {
  const done = synthesized.get(assetMetadata);
  if (done) return done;
  const dir = mkdtempSync(join(tmpdir(), 'offload-cdk-'));
  dirs.push(dir);
  synthTinyApp(dir, { assetMetadata });
  synthesized.set(assetMetadata, dir);
  return dir;
}

describe('discovery on a real synthesized CDK app (NodejsFunction, HttpApi, nested stack)', () => {
  it.each([
    ['with asset metadata, as the CDK CLI synthesizes', true],
    ['without asset metadata (asset manifest fallback)', false],
  ])('finds the functions and routes %s', (_label, assetMetadata) => {
    const dir = synth(assetMetadata);
    const files = readdirSync(dir);
    const nested = files.find((f) => f.endsWith('.nested.template.json'));
    expect(nested).toBeDefined();
    const rootTemplate = readFileSync(join(dir, 'Tiny.template.json'), 'utf8');
    expect(rootTemplate.includes('aws:asset:path')).toBe(assetMetadata);

    const app = discoverApp(dir, { resolveResource: localResourceNames() });

    const tail = app.functions.find((f) => f.logicalId.startsWith('Tail'));
    const planner = app.functions.find((f) => f.logicalId.startsWith('Planner'));
    expect(app.functions).toHaveLength(2);
    expect(tail).toMatchObject({ memoryMB: 512, timeoutS: 5, reservedConcurrency: 1, handler: 'index.handler', runtime: 'nodejs22.x' });
    expect(tail?.stackPath).toHaveLength(2);
    expect(existsSync(join(tail?.codeDir ?? '', 'index.mjs'))).toBe(true);
    expect(existsSync(join(planner?.codeDir ?? '', 'index.js'))).toBe(true);
    expect(tail?.environment).toEqual({ BUCKET_NAME: expect.stringMatching(/^tiny-artifacts[0-9a-f]{8}$/), GREETING: 'hi' });
    // the root function sees the nested function's name through the nested stack's output
    expect(planner?.environment).toEqual({ TAIL: tail?.name });
    expect(app.routes.map((r) => [r.routeKey, r.functionName]).sort()).toEqual(
      [
        ['GET /models', planner?.name],
        ['POST /infer/tiny/{cut}', tail?.name],
      ].sort(),
    );
    expect(app.resources).toEqual([expect.objectContaining({ type: 'AWS::S3::Bucket', name: tail?.environment.BUCKET_NAME })]);
  });

  it('runs the synthesized assets: warm reuse, path parameters, and reserved concurrency 1', async () => {
    const dir = synth(true);
    const local = await startLocalEmulator({ cdkOut: dir, resolveResource: localResourceNames(), logs: 'ignore', port: 0 });
    stacks.push(local);

    const first = await fetch(`${local.url}/models`);
    const second = await fetch(`${local.url}/models`);
    const a = (await first.json()) as { instance: string; env: Record<string, string> };
    const b = (await second.json()) as { instance: string; invocations: number };
    expect(first.headers.get('x-local-cold-start')).toBe('true');
    expect(second.headers.get('x-local-cold-start')).toBe('false');
    expect(b.instance).toBe(a.instance);
    expect(b.invocations).toBe(2);
    expect(a.env.TAIL).toBe(local.app.functions.find((f) => f.logicalId.startsWith('Tail'))?.name);

    const burst = await Promise.all(
      [1, 2, 3].map(() => fetch(`${local.url}/infer/tiny/7?sleep=300`, { method: 'POST' }).then(async (r) => ({ status: r.status, body: await r.json() }))),
    );
    expect(burst.map((r) => r.status).sort()).toEqual([200, 429, 429]);
    expect(burst.find((r) => r.status === 200)?.body).toMatchObject({ pathParameters: { cut: '7' }, env: { GREETING: 'hi' } });

    const pids = local.emulator.pids();
    await local.close();
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
