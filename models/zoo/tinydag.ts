import type * as tf from '@tensorflow/tfjs';
import {
  type BuildOptions,
  CLASSIFIER_GAIN,
  add,
  batchNorm,
  concat,
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

/**
 * A tiny DAG network for fast tests, 16×16×3 input, 10 outputs (logits):
 * stem conv+BN+ReLU, an identity residual block, a down-sampling residual
 * block (projection shortcut, explicit zero padding before the strided conv),
 * one inception-like block (1×1 | 1×1→3×3 | maxpool→1×1, concatenated), then
 * global average pooling and a dense classifier. Inside the blocks two or three
 * tensors cross a cut; between them one does. Any even input size ≥ 4 works and
 * does not change the parameter count.
 */
export function buildTinyDag(opts?: BuildOptions): tf.LayersModel {
  const size = inputSizeOf('tinydag', opts, 16, 4);
  const x0 = input(size);
  let x = conv(x0, 'stem_conv', 8, 3, { useBias: false });
  x = batchNorm(x, 'stem_bn', 1e-5);
  x = relu(x, 'stem_relu');

  x = residual(x, 'res1', 8, 1);
  x = residual(x, 'res2', 16, 2);

  const b1 = conv(x, 'mix_b1_conv', 8, 1, { activation: 'relu' });
  let b2 = conv(x, 'mix_b2_reduce', 8, 1, { activation: 'relu' });
  b2 = conv(b2, 'mix_b2_conv', 8, 3, { activation: 'relu' });
  let b3 = maxPool(x, 'mix_b3_pool', 3, 1, 'same');
  b3 = conv(b3, 'mix_b3_conv', 8, 1, { activation: 'relu' });
  x = concat([b1, b2, b3], 'mix_concat');

  x = globalAvgPool(x, 'avgpool');
  x = dense(x, 'fc', 10);
  return finish('tinydag', x0, x, seedOf(opts), (name) => {
    if (name === 'fc') return { kernelGain: CLASSIFIER_GAIN };
    if (name.endsWith('_bn2')) return { gamma: 0.5 };
    return undefined;
  });
}

function residual(x: Tensor, name: string, filters: number, stride: number): Tensor {
  let y = stride === 1 ? x : pad(x, `${name}_pad`, 1);
  y = convBn(y, { conv: `${name}_conv1`, bn: `${name}_bn1` }, filters, 3, { strides: stride, epsilon: 1e-5 });
  y = relu(y, `${name}_relu1`);
  y = convBn(y, { conv: `${name}_conv2`, bn: `${name}_bn2` }, filters, 3, { epsilon: 1e-5 });
  const shortcut =
    stride !== 1 || (x.shape[3] as number) !== filters
      ? convBn(x, { conv: `${name}_down_conv`, bn: `${name}_down_bn` }, filters, 1, { strides: stride, padding: 'valid', epsilon: 1e-5 })
      : x;
  return relu(add([y, shortcut], `${name}_add`), `${name}_relu2`);
}
