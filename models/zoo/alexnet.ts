import type * as tf from '@tensorflow/tfjs';
import { type BuildOptions, CLASSIFIER_GAIN, conv, dense, dropout, finish, flatten, input, inputSizeOf, maxPool, pad, seedOf } from './common';

/**
 * AlexNet, single tower, as torchvision's `alexnet` (61,100,840 parameters at
 * 224×224): five convolutions (ReLU fused into the conv layer), three max
 * pools, then dropout → fc6 → dropout → fc7 → fc8 (logits, no softmax).
 *
 * Padding: conv1 (11×11, stride 4, padding 2) gets an explicit zero-padding
 * layer; the stride-1 convolutions use `same`, which for odd kernels is exactly
 * torchvision's symmetric padding.
 *
 * torchvision's AdaptiveAvgPool2d((6, 6)) is the identity at 224×224 and is
 * left out; at a reduced `inputSize` (≥ 63) the last feature map is smaller
 * than 6×6, so fc6 — and the parameter count — shrinks.
 */
export function buildAlexNet(opts?: BuildOptions): tf.LayersModel {
  const size = inputSizeOf('alexnet', opts, 224, 63);
  const x0 = input(size);
  let x = pad(x0, 'conv1_pad', 2);
  x = conv(x, 'conv1', 64, 11, { strides: 4, padding: 'valid', activation: 'relu' });
  x = maxPool(x, 'pool1', 3, 2);
  x = conv(x, 'conv2', 192, 5, { activation: 'relu' });
  x = maxPool(x, 'pool2', 3, 2);
  x = conv(x, 'conv3', 384, 3, { activation: 'relu' });
  x = conv(x, 'conv4', 256, 3, { activation: 'relu' });
  x = conv(x, 'conv5', 256, 3, { activation: 'relu' });
  x = maxPool(x, 'pool5', 3, 2);
  x = flatten(x, 'flatten');
  x = dropout(x, 'drop6', 0.5);
  x = dense(x, 'fc6', 4096, 'relu');
  x = dropout(x, 'drop7', 0.5);
  x = dense(x, 'fc7', 4096, 'relu');
  x = dense(x, 'fc8', 1000);
  return finish('alexnet', x0, x, seedOf(opts), (name) => (name === 'fc8' ? { kernelGain: CLASSIFIER_GAIN } : undefined));
}
