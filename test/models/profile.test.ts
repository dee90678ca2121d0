import { describe, expect, it } from 'vitest';
import { initBackend } from '../../models/backend';
import { analyzeModel } from '../../models/graph';
import { defaultClock, measureCopyBandwidth, profileModel } from '../../models/profile';
import { ZOO } from '../../models/zoo';
import { parseModelProfile } from '../../core/profiles';

describe('profileModel', () => {
  it('measures every layer of a DAG once, in topological order, and writes a profile the schema accepts', async () => {
    // Prepare
    const backend = await initBackend();
    const model = ZOO.tinydag.build();
    const analysis = analyzeModel(model, { name: 'tinydag' });
    // Act
    const profile = await profileModel(model, { name: 'tinydag', backend, repeats: 3, warmup: 1 });
    // Assess
    expect(parseModelProfile(JSON.parse(JSON.stringify(profile)))).toEqual(profile);
    expect(profile.layers.map((l) => l.name)).toEqual(analysis.layers.map((l) => l.name));
    expect(profile.layers.map((l) => l.flops)).toEqual(analysis.layers.map((l) => l.flops));
    expect(profile.candidates.map((c) => c.cut)).toEqual(analysis.candidates.map((c) => c.cut));
    expect(profile.inputBytes).toBe(analysis.inputBytes);
    // Multi-input layers (Add, Concatenate) are timed on all their inputs.
    const concat = profile.layers.find((l) => l.className === 'Concatenate')!;
    expect(concat.inputShapes.length).toBeGreaterThan(1);
    expect(concat.inputBytes).toBe(concat.inputShapes.reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1) * 4, 0));
    for (const l of profile.layers) {
      expect(l.ms).toBe(profile.clock === 'cpu' ? l.cpuMs : l.wallMs);
      // a layer folded into a convolution ran inside that convolution's fused kernel
      if (l.foldedInto === undefined) expect(l.wallMs).toBeGreaterThan(0);
      else expect(l.wallMs).toBe(0);
    }
    expect(profile.sumOfLayersMs).toBeCloseTo(profile.layers.reduce((s, l) => s + l.ms, 0), 3);
    expect(profile.isolationRatio).toBeCloseTo(profile.sumOfLayersMs / profile.wholeModelMs, 3);
    expect(profile.repeats).toBe(3);
    model.dispose();
  });

  it('measures what heads and tails run: folded chains timed as one fused kernel, attributed to the convolution', async () => {
    const backend = await initBackend();
    const model = ZOO.tinydag.build();
    const fused = await profileModel(model, { name: 'tinydag', backend, repeats: 1, warmup: 0, fuse: true });
    const plain = await profileModel(model, { name: 'tinydag', backend, repeats: 1, warmup: 0, fuse: false });
    expect(fused.fused).toBe(true);
    expect(plain.fused).toBeUndefined();
    const convs = fused.layers.filter((l) => l.fusedWith !== undefined);
    expect(convs.length).toBeGreaterThan(0);
    for (const conv of convs) {
      expect(['Conv2D', 'DepthwiseConv2D']).toContain(conv.className);
      expect(conv.wallMs).toBeGreaterThan(0);
      for (const name of conv.fusedWith!) expect(fused.layers.find((l) => l.name === name)!.foldedInto).toBe(conv.name);
    }
    expect(fused.layers.filter((l) => l.foldedInto !== undefined).length).toBe(convs.reduce((n, c) => n + c.fusedWith!.length, 0));
    // unfused, every layer is timed on its own
    expect(plain.layers.every((l) => l.foldedInto === undefined && l.fusedWith === undefined && l.wallMs > 0)).toBe(true);
    model.dispose();
  });

  it('records the activation of layers that have one and the kernel of convolutions', async () => {
    const backend = await initBackend();
    const model = ZOO.tinychain.build();
    const profile = await profileModel(model, { name: 'tinychain', backend, repeats: 1, warmup: 0, clock: 'wall' });
    const conv = profile.layers.find((l) => l.className === 'Conv2D')!;
    expect(conv.kernel).toHaveLength(2);
    expect(typeof conv.activation).toBe('string');
    expect(profile.clock).toBe('wall');
    model.dispose();
  });

  it('rejects a repeat count below 1', async () => {
    const model = ZOO.tinychain.build();
    await expect(profileModel(model, { name: 'x', backend: 'wasm', repeats: 0 })).rejects.toThrow(/repeats/);
    model.dispose();
  });

  it('uses the CPU clock for single-threaded backends and the wall clock for tensorflow', () => {
    expect(defaultClock('wasm')).toBe('cpu');
    expect(defaultClock('cpu')).toBe('cpu');
    expect(defaultClock('tensorflow')).toBe('wall');
  });

  it('measures a positive copy bandwidth', () => {
    expect(measureCopyBandwidth()).toBeGreaterThan(0);
  });
});
