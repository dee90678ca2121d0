import type * as tf from '@tensorflow/tfjs';
import { type BuildOptions, CLASSIFIER_GAIN, conv, dense, finish, flatten, input, inputSizeOf, maxPool, seedOf } from './common';

/**
 * A tiny chain network for fast tests: conv → pool → conv → pool → dense → dense
 * on a 16×16×3 input, 10 outputs (logits). Every layer boundary is a
 * single-tensor cut. Any input size ≥ 4 works; the first dense layer's
 * parameter count follows the input size (it sees the flattened feature map).
 */
export function buildTinyChain(opts?: BuildOptions): tf.LayersModel {
  const size = inputSizeOf('tinychain', opts, 16, 4);
  const x0 = input(size);
  let x = conv(x0, 'conv1', 8, 3, { activation: 'relu' });
  x = maxPool(x, 'pool1', 2, 2);
  x = conv(x, 'conv2', 16, 3, { activation: 'relu' });
  x = maxPool(x, 'pool2', 2, 2);
  x = flatten(x, 'flatten');
  x = dense(x, 'fc1', 32, 'relu');
  x = dense(x, 'fc2', 10);
  return finish('tinychain', x0, x, seedOf(opts), (name) => (name === 'fc2' ? { kernelGain: CLASSIFIER_GAIN } : undefined));
}
