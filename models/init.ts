import * as tf from './tfjs';

/**
 * Seeded, deterministic weights for zoo models — no downloads.
 *
 * Every weight variable is filled from its own PRNG stream, seeded by
 * hash(seed, layer name, weight name). A weight therefore depends only on the
 * seed and on the stable names the zoo gives every layer: building models in a
 * different order, or building a sub-model, yields bit-identical values.
 *
 * tfjs's own seeded initializers would take minutes for VGG16's 138 M weights;
 * a mulberry32 stream filling a Float32Array directly takes well under a second.
 *
 * Values (uniform distributions with the given mean/std):
 * - conv / dense / depthwise kernels: zero mean, std = gain / sqrt(fan_in)
 *   (gain √2, He, by default; the zoo lowers it for linear layers and classifiers);
 * - biases and BN beta: small, uniform in ±0.05;
 * - BN gamma: 1 ± 0.1 (or a zoo-chosen scale, e.g. small on the last BN of a residual branch
 *   so that the sum of 16 branches stays O(1) — at inference BN does not renormalise);
 * - BN moving mean: ±0.05, moving variance: 1 ± 0.2.
 *
 * Why not exactly zero biases / identity BN: with zeros and ones a tail that
 * silently dropped a bias or a BN layer, or swapped two of them, would still
 * agree with the full model to ~1e-6 — equivalence tests could not see it.
 */

/** Per-layer adjustments a zoo network supplies for its architecture. */
export interface LayerInitHint {
  /** Multiplies the He std of the kernel (default 1 ⇒ std √2/√fan_in). */
  kernelGain?: number;
  /** Centre of the BN gamma distribution (default 1). */
  gamma?: number;
}

export interface InitOptions {
  seed: number;
  /** Architecture-specific adjustments, looked up by layer name. */
  hint?: (layerName: string) => LayerInitHint | undefined;
}

/** 32-bit FNV-1a over a string, mixed with a seed. */
export function hashSeed(seed: number, ...parts: string[]): number {
  let h = (0x811c9dc5 ^ (seed | 0)) >>> 0;
  h = Math.imul(h, 0x01000193) >>> 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      h ^= part.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    // separator so ('ab','c') and ('a','bc') differ
    h ^= 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Fills `out` with uniform values in [centre - halfWidth, centre + halfWidth)
 * from a mulberry32 stream started at `state`.
 */
export function fillUniform(out: Float32Array, state: number, centre: number, halfWidth: number): Float32Array {
  let s = state | 0;
  const scale = (2 * halfWidth) / 4294967296;
  const offset = centre - halfWidth;
  for (let i = 0; i < out.length; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = offset + ((t ^ (t >>> 14)) >>> 0) * scale;
  }
  return out;
}

const SQRT3 = Math.sqrt(3);

/** The weight kind, from the name tfjs gives it (`<layer>/<weight>`). */
function weightKind(originalName: string): string {
  const slash = originalName.lastIndexOf('/');
  return slash < 0 ? originalName : originalName.slice(slash + 1);
}

function fanIn(className: string, shape: readonly number[]): number {
  if (className === 'DepthwiseConv2D') {
    // [kh, kw, inChannels, multiplier]: each output sees kh·kw inputs
    return (shape[0] ?? 1) * (shape[1] ?? 1);
  }
  // conv [kh, kw, in, out], dense [in, out]: all but the last dimension feed one output
  return shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/** The deterministic values of one weight variable. */
export function seededWeightValues(
  className: string,
  layerName: string,
  kind: string,
  shape: readonly number[],
  seed: number,
  hint: LayerInitHint | undefined,
): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const state = hashSeed(seed, layerName, kind);
  switch (kind) {
    case 'kernel':
    case 'depthwise_kernel':
    case 'pointwise_kernel': {
      const std = (hint?.kernelGain ?? 1) * Math.SQRT2 / Math.sqrt(Math.max(1, fanIn(className, shape)));
      return fillUniform(out, state, 0, SQRT3 * std);
    }
    case 'gamma':
      return fillUniform(out, state, hint?.gamma ?? 1, 0.1 * (hint?.gamma ?? 1));
    case 'moving_variance':
      return fillUniform(out, state, 1, 0.2);
    case 'bias':
    case 'beta':
    case 'moving_mean':
      return fillUniform(out, state, 0, 0.05);
    default:
      // an unknown weight kind (a custom layer): small values, still deterministic
      return fillUniform(out, state, 0, 0.05);
  }
}

/**
 * Overwrites every weight of `model` with seeded values (in place).
 * Returns the model for chaining.
 */
export function initWeights<M extends tf.LayersModel>(model: M, options: InitOptions): M {
  for (const layer of model.layers) {
    const vars = layer.weights;
    if (vars.length === 0) continue;
    const hint = options.hint?.(layer.name);
    const className = layer.getClassName();
    const values = vars.map((v) => {
      const shape = staticShape(v.shape, v.originalName);
      return tf.tensor(seededWeightValues(className, layer.name, weightKind(v.originalName), shape, options.seed, hint), shape, 'float32');
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

function staticShape(shape: readonly (number | null)[], what: string): number[] {
  return shape.map((d) => {
    if (d === null) throw new Error(`weight ${what} has an unknown dimension`);
    return d;
  });
}

/** Parameter counts of a model, the way frameworks report them. */
export interface ParamCounts {
  /** Weights a training step would update (conv/dense kernels and biases, BN gamma/beta) — torchvision's count. */
  trainable: number;
  /** Weights that are not trained (BN moving mean and variance). */
  nonTrainable: number;
  /** trainable + nonTrainable — Keras's "Total params". */
  total: number;
}

/** Counts trainable (torchvision-style) and total (Keras-style) parameters. */
export function countParams(model: tf.LayersModel): ParamCounts {
  const size = (shape: readonly (number | null)[]) => shape.reduce<number>((a, b) => a * (b ?? 0), 1);
  const trainable = model.trainableWeights.reduce((n, w) => n + size(w.shape), 0);
  const nonTrainable = model.nonTrainableWeights.reduce((n, w) => n + size(w.shape), 0);
  return { trainable, nonTrainable, total: trainable + nonTrainable };
}
