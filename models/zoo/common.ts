import * as tf from '../tfjs';
import { ValidationError } from '../../core/errors';
import { initWeights, type LayerInitHint } from '../init';

/**
 * Building blocks shared by the zoo networks. Every layer gets an explicit name
 * (tfjs's automatic names come from a process-global counter, so they would differ
 * between two builds in one process), and every initializer is `zeros`/`ones`:
 * the real values come from `initWeights`, and tfjs's random initializers would
 * only waste seconds on the big nets.
 */

/**
 * Kernel gain of every final classifier: std 0.25·√2/√fan_in keeps the logits'
 * RMS around 1 although ReLU features entering it are ~3–5 RMS deep in the nets.
 */
export const CLASSIFIER_GAIN = 0.25;

/** Seed used when a build does not say otherwise. */
export const DEFAULT_SEED = 1;

export interface BuildOptions {
  /** Spatial size (height = width) of the input; defaults to the network's own. */
  inputSize?: number;
  /** Seed of the deterministic weights (see models/init.ts). */
  seed?: number;
}

export type Tensor = tf.SymbolicTensor;

/** Validates `opts.inputSize` against what the architecture can take. */
export function inputSizeOf(network: string, opts: BuildOptions | undefined, defaultSize: number, minSize: number): number {
  const size = opts?.inputSize ?? defaultSize;
  if (!Number.isInteger(size) || size < minSize) {
    throw new ValidationError('inputSize', `${network} needs an integer input size >= ${minSize} (got ${size})`);
  }
  return size;
}

export function seedOf(opts: BuildOptions | undefined): number {
  const seed = opts?.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) throw new ValidationError('seed', `must be an integer (got ${seed})`);
  return seed;
}

export function input(size: number, channels = 3, name = 'input'): Tensor {
  return tf.input({ shape: [size, size, channels], name });
}

type Activation = 'relu' | 'relu6' | 'linear' | 'softmax';

export interface ConvOptions {
  strides?: number;
  /** `same` only where it equals torchvision's symmetric padding (stride 1, odd kernel). */
  padding?: 'same' | 'valid';
  useBias?: boolean;
  activation?: Activation;
}

export function conv(x: Tensor, name: string, filters: number, kernel: number, o: ConvOptions = {}): Tensor {
  return tf.layers
    .conv2d({
      name,
      filters,
      kernelSize: kernel,
      strides: o.strides ?? 1,
      padding: o.padding ?? 'same',
      useBias: o.useBias ?? true,
      activation: o.activation ?? 'linear',
      kernelInitializer: 'zeros',
      biasInitializer: 'zeros',
    })
    .apply(x) as Tensor;
}

export function depthwise(x: Tensor, name: string, kernel: number, o: ConvOptions = {}): Tensor {
  return tf.layers
    .depthwiseConv2d({
      name,
      kernelSize: kernel,
      depthMultiplier: 1,
      strides: o.strides ?? 1,
      padding: o.padding ?? 'same',
      useBias: o.useBias ?? true,
      activation: o.activation ?? 'linear',
      depthwiseInitializer: 'zeros',
      biasInitializer: 'zeros',
    })
    .apply(x) as Tensor;
}

export function batchNorm(x: Tensor, name: string, epsilon: number): Tensor {
  return tf.layers.batchNormalization({ name, axis: -1, epsilon, momentum: 0.9 }).apply(x) as Tensor;
}

/** Options of {@link convBn}. */
export interface ConvBnOptions {
  strides?: number;
  /** Default: `same` at stride 1, `valid` when strided (the caller pads explicitly first, as torchvision pads symmetrically). */
  padding?: 'same' | 'valid';
  /** Batch norm epsilon (torchvision: 1e-5, its BasicConv2d 1e-3). */
  epsilon: number;
}

/** A convolution without bias followed by batch norm, each with its own name: the conv–BN pair of the BN networks. */
export function convBn(x: Tensor, names: { conv: string; bn: string }, filters: number, kernel: number, o: ConvBnOptions): Tensor {
  const strides = o.strides ?? 1;
  const y = conv(x, names.conv, filters, kernel, { strides, padding: o.padding ?? (strides === 1 ? 'same' : 'valid'), useBias: false });
  return batchNorm(y, names.bn, o.epsilon);
}

export function act(x: Tensor, name: string, activation: Activation): Tensor {
  return tf.layers.activation({ name, activation }).apply(x) as Tensor;
}

export function relu(x: Tensor, name: string): Tensor {
  return act(x, name, 'relu');
}

/** Symmetric zero padding, as torchvision's `padding=p` argument. */
export function pad(x: Tensor, name: string, p: number): Tensor {
  return tf.layers.zeroPadding2d({ name, padding: [[p, p], [p, p]] }).apply(x) as Tensor;
}

export function maxPool(x: Tensor, name: string, size: number, strides: number, padding: 'same' | 'valid' = 'valid'): Tensor {
  return tf.layers.maxPooling2d({ name, poolSize: size, strides, padding }).apply(x) as Tensor;
}

export function globalAvgPool(x: Tensor, name: string): Tensor {
  return tf.layers.globalAveragePooling2d({ name }).apply(x) as Tensor;
}

export function flatten(x: Tensor, name: string): Tensor {
  return tf.layers.flatten({ name }).apply(x) as Tensor;
}

export function dropout(x: Tensor, name: string, rate: number): Tensor {
  return tf.layers.dropout({ name, rate }).apply(x) as Tensor;
}

export function dense(x: Tensor, name: string, units: number, activation: Activation = 'linear'): Tensor {
  return tf.layers
    .dense({ name, units, activation, kernelInitializer: 'zeros', biasInitializer: 'zeros' })
    .apply(x) as Tensor;
}

export function add(xs: Tensor[], name: string): Tensor {
  return tf.layers.add({ name }).apply(xs) as Tensor;
}

export function concat(xs: Tensor[], name: string): Tensor {
  return tf.layers.concatenate({ name, axis: -1 }).apply(xs) as Tensor;
}

/** Spatial size of a symbolic NHWC tensor. */
export function spatial(x: Tensor): number {
  const h = x.shape[1];
  if (typeof h !== 'number') throw new Error(`tensor ${x.name} has no static height`);
  return h;
}

/** Assembles the functional model and fills it with seeded weights. */
export function finish(
  name: string,
  inputs: Tensor,
  outputs: Tensor,
  seed: number,
  hint?: (layerName: string) => LayerInitHint | undefined,
): tf.LayersModel {
  const model = tf.model({ name, inputs, outputs });
  return initWeights(model, hint ? { seed, hint } : { seed });
}
