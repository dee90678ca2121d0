import type * as tf from '@tensorflow/tfjs';

/**
 * FLOPs of one layer for one sample, counted as **multiply-adds, each counted once**
 * (a MAC is one op, not two). The rules, documented in `docs/graph-analysis.md`:
 *
 * | layer | ops |
 * |---|---|
 * | Conv1D/2D/3D | out spatial × outC × kernel volume × inC (bias not counted) |
 * | Conv2DTranspose/3DTranspose | in spatial × inC × kernel volume × outC |
 * | DepthwiseConv2D | out spatial × inC × depthMultiplier × kh × kw |
 * | SeparableConv2D | depthwise part + out spatial × inC × depthMultiplier × outC |
 * | Dense | (input elements / input features) × input features × units |
 * | fused non-linear activation of the above | + one op per output element |
 * | BatchNormalization, LayerNormalization (inference: one scale-and-shift) | one op per output element |
 * | Activation, ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax | one op per output element |
 * | Max/AveragePooling | one op per window element per output element |
 * | GlobalMax/AveragePooling | one op per input element |
 * | Add, Subtract, Multiply, Average, Maximum, Minimum (n inputs) | (n − 1) per output element |
 * | Concatenate, Flatten, Reshape, Permute, ZeroPadding, Cropping, UpSampling, Dropout family, RepeatVector, Masking, InputLayer | 0 (data movement, or identity at inference) |
 * | any other layer | one op per output element (a lower bound, flagged by {@link isCountedExactly}) |
 *
 * @param layer the layer (its config gives kernel sizes, units, activations)
 * @param inputShapes shapes of the layer's inputs, without the batch dimension
 * @param outputShape shape of the layer's output, without the batch dimension
 * @example
 * layerFlops(conv3x3_64to128, [[56, 56, 64]], [56, 56, 128]); // 56·56·128·3·3·64
 */
export function layerFlops(layer: tf.layers.Layer, inputShapes: readonly (readonly number[])[], outputShape: readonly number[]): number {
  const className = layer.getClassName();
  const config = layer.getConfig() as Record<string, unknown>;
  const outElems = product(outputShape);
  const firstIn = inputShapes[0] ?? [];
  const fusedActivation = isNonLinear(config.activation) ? outElems : 0;
  switch (className) {
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D': {
      const inC = channels(firstIn);
      const outC = channels(outputShape);
      const groups = typeof config.groups === 'number' && config.groups > 0 ? config.groups : 1;
      return (outElems / outC) * outC * product(numbers(config.kernelSize)) * (inC / groups) + fusedActivation;
    }
    case 'Conv2DTranspose':
    case 'Conv3DTranspose': {
      const inC = channels(firstIn);
      return (product(firstIn) / inC) * inC * product(numbers(config.kernelSize)) * channels(outputShape) + fusedActivation;
    }
    case 'DepthwiseConv2D': {
      // outElems already equals out spatial × inC × depthMultiplier.
      return outElems * product(numbers(config.kernelSize)) + fusedActivation;
    }
    case 'SeparableConv2D': {
      const inC = channels(firstIn);
      const outC = channels(outputShape);
      const spatial = outElems / outC;
      const mult = typeof config.depthMultiplier === 'number' ? config.depthMultiplier : 1;
      return spatial * inC * mult * product(numbers(config.kernelSize)) + spatial * inC * mult * outC + fusedActivation;
    }
    case 'Dense': {
      const inFeatures = channels(firstIn);
      return (product(firstIn) / inFeatures) * inFeatures * channels(outputShape) + fusedActivation;
    }
    case 'MaxPooling1D':
    case 'AveragePooling1D':
    case 'MaxPooling2D':
    case 'AveragePooling2D':
    case 'MaxPooling3D':
    case 'AveragePooling3D':
      return outElems * product(numbers(config.poolSize));
    case 'GlobalAveragePooling1D':
    case 'GlobalMaxPooling1D':
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      return product(firstIn);
    case 'Add':
    case 'Subtract':
    case 'Multiply':
    case 'Average':
    case 'Maximum':
    case 'Minimum':
      return Math.max(inputShapes.length - 1, 1) * outElems;
    default:
      if (ZERO_COST.has(className)) return 0;
      // Elementwise layers and the unknown fallback: one op per output element.
      return outElems;
  }
}

/** Layers that move data or are the identity at inference time. */
const ZERO_COST = new Set([
  'InputLayer',
  'Concatenate',
  'Flatten',
  'Reshape',
  'Permute',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'RepeatVector',
  'Masking',
]);

/** Layers whose count follows a specific rule above (not the fallback). */
const EXACT = new Set([
  ...ZERO_COST,
  'Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'Conv3DTranspose', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense',
  'MaxPooling1D', 'AveragePooling1D', 'MaxPooling2D', 'AveragePooling2D', 'MaxPooling3D', 'AveragePooling3D',
  'GlobalAveragePooling1D', 'GlobalMaxPooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D',
  'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum',
  'BatchNormalization', 'LayerNormalization',
  'Activation', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax',
]);

/** True when {@link layerFlops} has a rule for this layer class; false means the one-op-per-output fallback. */
export function isCountedExactly(className: string): boolean {
  return EXACT.has(className);
}

function isNonLinear(activation: unknown): boolean {
  return typeof activation === 'string' && activation !== 'linear';
}

function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

function channels(shape: readonly number[]): number {
  return shape[shape.length - 1] ?? 1;
}

function numbers(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}
