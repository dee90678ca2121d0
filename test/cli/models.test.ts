import { describe, expect, it, vi } from 'vitest';
import { offload } from './spawn-offload';

// This file builds every zoo network through the real CLI: minutes on a loaded 2-core machine; every other file keeps the 120 s default.
vi.setConfig({ testTimeout: 360_000 });

describe('offload models', () => {
  it('--json lists every zoo network with layers, parameters, FLOPs, input shape and candidates, and the backend', async () => {
    // Act
    const r = await offload(['models', '--json']);
    // Assess
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { backend: string; models: Array<Record<string, unknown>> };
    expect(['tensorflow', 'wasm', 'cpu']).toContain(out.backend);
    expect(out.models.map((m) => m.name)).toEqual(['alexnet', 'vgg16', 'resnet50', 'mobilenetv2', 'googlenet', 'tinychain', 'tinydag']);
    const byName = Object.fromEntries(out.models.map((m) => [m.name as string, m]));
    expect(byName.resnet50).toMatchObject({ inputShape: [224, 224, 3], layers: 179, params: 25_557_032, publishedParams: 25_557_032 });
    // ResNet-50 is ~4.1 G multiply-adds; VGG16 ~15.5 G.
    expect(byName.resnet50!.flops as number).toBeGreaterThan(4.0e9);
    expect(byName.resnet50!.flops as number).toBeLessThan(4.2e9);
    expect(byName.vgg16!.flops as number).toBeGreaterThan(15.3e9);
    expect(byName.vgg16!.flops as number).toBeLessThan(15.6e9);
    // A chain's every cut is a candidate; a DAG has fewer candidates than layers.
    expect(byName.tinychain!.candidates).toBe(byName.tinychain!.layers);
    expect(byName.resnet50!.candidates as number).toBeLessThan(byName.resnet50!.layers as number);
    expect(byName.resnet50!.weightBytes as number).toBeGreaterThan((byName.resnet50!.params as number) * 4);
  });

  it('prints a table and the backend on stderr without --json', async () => {
    const r = await offload(['models']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^model\s+input\s+layers\s+params/);
    expect(r.stdout).toMatch(/resnet50\s+224×224×3\s+179\s+25557032/);
    expect(r.stderr).toMatch(/^backend: (tensorflow|wasm|cpu)$/m);
    // progress while the networks are built, one line each, in order
    expect(r.stderr.match(/^building \w+ \(\d\/7\)…$/gm)).toEqual([
      'building alexnet (1/7)…',
      'building vgg16 (2/7)…',
      'building resnet50 (3/7)…',
      'building mobilenetv2 (4/7)…',
      'building googlenet (5/7)…',
      'building tinychain (6/7)…',
      'building tinydag (7/7)…',
    ]);
  });
});
