import type * as tf from '@tensorflow/tfjs';
import {
  type BuildOptions,
  CLASSIFIER_GAIN,
  add,
  batchNorm,
  conv,
  convBn,
  dense,
  finish,
  globalAvgPool,
  input,
  inputSizeOf,
  maxPool,
  pad,
  relu,
  seedOf,
  type Tensor,
} from './common';

const BN_EPS = 1e-5;
/** Blocks per stage of ResNet-50. */
const BLOCKS = [3, 4, 6, 3] as const;

/**
 * ResNet-50 as torchvision's `resnet50` (25,557,032 trainable parameters; the
 * parameter count does not depend on the input size): bottleneck v1.5 blocks
 * (the stride sits on the 3×3 convolution), every convolution without bias and
 * followed by batch norm (eps 1e-5), a projection shortcut (1×1 conv + BN) on
 * the first block of each stage, global average pooling and a 1000-way dense
 * layer (logits).
 *
 * Names follow torchvision's module paths with `_` for `.`:
 * `layer3_2_conv2` is torchvision's `layer3.2.conv2`.
 *
 * Strided convolutions and the stem max pool get explicit zero padding
 * (torchvision pads symmetrically; tfjs `same` would pad bottom/right only).
 * Zero padding before the max pool equals torchvision's −∞ padding because the
 * input is post-ReLU (≥ 0). Any `inputSize` ≥ 32 works.
 */
export function buildResNet50(opts?: BuildOptions): tf.LayersModel {
  const size = inputSizeOf('resnet50', opts, 224, 32);
  const x0 = input(size);
  let x = pad(x0, 'conv1_pad', 3);
  x = conv(x, 'conv1', 64, 7, { strides: 2, padding: 'valid', useBias: false });
  x = batchNorm(x, 'bn1', BN_EPS);
  x = relu(x, 'relu');
  x = pad(x, 'maxpool_pad', 1);
  x = maxPool(x, 'maxpool', 3, 2);
  BLOCKS.forEach((blocks, stage) => {
    const planes = 64 * 2 ** stage;
    for (let b = 0; b < blocks; b++) {
      x = bottleneck(x, `layer${stage + 1}_${b}`, planes, b === 0 && stage > 0 ? 2 : 1, b === 0);
    }
  });
  x = globalAvgPool(x, 'avgpool');
  x = dense(x, 'fc', 1000);
  return finish('resnet50', x0, x, seedOf(opts), (name) => {
    if (name === 'fc') return { kernelGain: CLASSIFIER_GAIN };
    // At inference BN does not renormalise, so 16 residual branches would add up;
    // a small gamma on each branch's last BN keeps activations O(1) through depth.
    if (name.endsWith('_bn3')) return { gamma: 0.2 };
    return undefined;
  });
}

function bottleneck(x: Tensor, name: string, planes: number, stride: number, downsample: boolean): Tensor {
  let y = convBn(x, { conv: `${name}_conv1`, bn: `${name}_bn1` }, planes, 1, { epsilon: BN_EPS });
  y = relu(y, `${name}_relu1`);
  if (stride !== 1) y = pad(y, `${name}_conv2_pad`, 1);
  y = convBn(y, { conv: `${name}_conv2`, bn: `${name}_bn2` }, planes, 3, { strides: stride, epsilon: BN_EPS });
  y = relu(y, `${name}_relu2`);
  y = convBn(y, { conv: `${name}_conv3`, bn: `${name}_bn3` }, planes * 4, 1, { epsilon: BN_EPS });
  const shortcut = downsample
    ? convBn(x, { conv: `${name}_downsample_conv`, bn: `${name}_downsample_bn` }, planes * 4, 1, { strides: stride, padding: 'valid', epsilon: BN_EPS })
    : x;
  return relu(add([y, shortcut], `${name}_add`), `${name}_relu3`);
}
