import type * as tf from '@tensorflow/tfjs';
import {
  type BuildOptions,
  CLASSIFIER_GAIN,
  concat,
  convBn,
  dense,
  dropout,
  finish,
  globalAvgPool,
  input,
  inputSizeOf,
  maxPool,
  pad,
  relu,
  seedOf,
  spatial,
  type Tensor,
} from './common';

/** torchvision's BasicConv2d uses BatchNorm2d(eps=0.001). */
const BN_EPS = 1e-3;

/** Inception block widths: 1×1, 3×3 reduce, 3×3, "5×5" reduce, "5×5", pool projection. */
type InceptionWidths = readonly [number, number, number, number, number, number];

/**
 * GoogLeNet (Inception v1) as torchvision's `googlenet` without the auxiliary
 * heads (6,624,904 trainable parameters; independent of the input size):
 * every convolution is torchvision's BasicConv2d (conv without bias + BN eps
 * 1e-3 + ReLU), nine inception blocks, global average pooling, dropout 0.2 and a
 * 1000-way dense layer (logits).
 *
 * Like torchvision (and unlike the paper) the "5×5" branch uses a 3×3
 * convolution; torchvision keeps that for compatibility with its weights.
 *
 * torchvision's stride-2 max pools use ceil_mode without padding; tfjs has no
 * ceil mode, so each one is `valid` when that yields the ceil-mode size (odd
 * inputs) and `same` otherwise — `same` then pads one row/column at the
 * bottom/right, which max pooling ignores, exactly as ceil mode's partial
 * window. Any `inputSize` ≥ 32 works.
 */
export function buildGoogLeNet(opts?: BuildOptions): tf.LayersModel {
  const size = inputSizeOf('googlenet', opts, 224, 32);
  const x0 = input(size);
  let x = pad(x0, 'conv1_pad', 3);
  x = basicConv(x, 'conv1', 64, 7, 2);
  x = ceilMaxPool(x, 'maxpool1', 3, 2);
  x = basicConv(x, 'conv2', 64, 1);
  x = basicConv(x, 'conv3', 192, 3);
  x = ceilMaxPool(x, 'maxpool2', 3, 2);
  x = inception(x, 'inception3a', [64, 96, 128, 16, 32, 32]);
  x = inception(x, 'inception3b', [128, 128, 192, 32, 96, 64]);
  x = ceilMaxPool(x, 'maxpool3', 3, 2);
  x = inception(x, 'inception4a', [192, 96, 208, 16, 48, 64]);
  x = inception(x, 'inception4b', [160, 112, 224, 24, 64, 64]);
  x = inception(x, 'inception4c', [128, 128, 256, 24, 64, 64]);
  x = inception(x, 'inception4d', [112, 144, 288, 32, 64, 64]);
  x = inception(x, 'inception4e', [256, 160, 320, 32, 128, 128]);
  x = ceilMaxPool(x, 'maxpool4', 2, 2);
  x = inception(x, 'inception5a', [256, 160, 320, 32, 128, 128]);
  x = inception(x, 'inception5b', [384, 192, 384, 48, 128, 128]);
  x = globalAvgPool(x, 'avgpool');
  x = dropout(x, 'dropout', 0.2);
  x = dense(x, 'fc', 1000);
  return finish('googlenet', x0, x, seedOf(opts), (name) => (name === 'fc' ? { kernelGain: CLASSIFIER_GAIN } : undefined));
}

/** torchvision's BasicConv2d: conv (no bias) + BN + ReLU; stride-1 kernels pad symmetrically (`same`). */
function basicConv(x: Tensor, name: string, filters: number, kernel: number, stride = 1): Tensor {
  return relu(convBn(x, { conv: `${name}_conv`, bn: `${name}_bn` }, filters, kernel, { strides: stride, epsilon: BN_EPS }), `${name}_relu`);
}

/** torchvision's MaxPool2d(kernel, stride, ceil_mode=True) without padding. */
function ceilMaxPool(x: Tensor, name: string, kernel: number, stride: number): Tensor {
  const h = spatial(x);
  const ceilOut = Math.ceil((h - kernel) / stride) + 1;
  const validOut = Math.floor((h - kernel) / stride) + 1;
  if (ceilOut === validOut) return maxPool(x, name, kernel, stride, 'valid');
  // `same` pads (out-1)·stride + kernel − h in total, the larger half at the end;
  // it matches ceil mode only when that total is at most 1 (all at the end).
  const samePad = (Math.ceil(h / stride) - 1) * stride + kernel - h;
  if (Math.ceil(h / stride) !== ceilOut || samePad > 1) {
    throw new Error(`${name}: ceil-mode pooling of size ${h} (k=${kernel}, s=${stride}) has no tfjs equivalent`);
  }
  return maxPool(x, name, kernel, stride, 'same');
}

function inception(x: Tensor, name: string, w: InceptionWidths): Tensor {
  const b1 = basicConv(x, `${name}_branch1`, w[0], 1);
  let b2 = basicConv(x, `${name}_branch2_0`, w[1], 1);
  b2 = basicConv(b2, `${name}_branch2_1`, w[2], 3);
  let b3 = basicConv(x, `${name}_branch3_0`, w[3], 1);
  b3 = basicConv(b3, `${name}_branch3_1`, w[4], 3);
  // MaxPool2d(3, stride 1, padding 1, ceil_mode): `same` pads one on each side and ignores the padding.
  let b4 = maxPool(x, `${name}_branch4_pool`, 3, 1, 'same');
  b4 = basicConv(b4, `${name}_branch4_1`, w[5], 1);
  return concat([b1, b2, b3, b4], `${name}_concat`);
}
