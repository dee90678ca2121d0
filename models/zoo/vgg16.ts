import type * as tf from '@tensorflow/tfjs';
import { type BuildOptions, CLASSIFIER_GAIN, conv, dense, dropout, finish, flatten, input, inputSizeOf, maxPool, seedOf, type Tensor } from './common';

/** Configuration D: the filters of each stage's convolutions; every stage ends in a 2×2 max pool. */
const STAGES: readonly (readonly number[])[] = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];

/**
 * VGG16 (configuration D, without batch norm) as torchvision's `vgg16`
 * (138,357,544 parameters at 224×224): thirteen 3×3 convolutions (ReLU fused,
 * `same` padding = torchvision's padding 1) in five stages each closed by a 2×2
 * max pool, then fc6 → dropout → fc7 → dropout → fc8 (logits, no softmax).
 *
 * torchvision's AdaptiveAvgPool2d((7, 7)) is the identity at 224×224 and is
 * left out; at a reduced `inputSize` (≥ 32) the last feature map is smaller,
 * so fc6 — and the parameter count — shrinks.
 */
export function buildVgg16(opts?: BuildOptions): tf.LayersModel {
  const size = inputSizeOf('vgg16', opts, 224, 32);
  const x0 = input(size);
  let x: Tensor = x0;
  STAGES.forEach((filters, s) => {
    filters.forEach((f, i) => {
      x = conv(x, `conv${s + 1}_${i + 1}`, f, 3, { activation: 'relu' });
    });
    x = maxPool(x, `pool${s + 1}`, 2, 2);
  });
  x = flatten(x, 'flatten');
  x = dense(x, 'fc6', 4096, 'relu');
  x = dropout(x, 'drop6', 0.5);
  x = dense(x, 'fc7', 4096, 'relu');
  x = dropout(x, 'drop7', 0.5);
  x = dense(x, 'fc8', 1000);
  return finish('vgg16', x0, x, seedOf(opts), (name) => (name === 'fc8' ? { kernelGain: CLASSIFIER_GAIN } : undefined));
}
