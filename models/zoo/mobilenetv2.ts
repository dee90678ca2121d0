import type * as tf from '@tensorflow/tfjs';
import {
  type BuildOptions,
  CLASSIFIER_GAIN,
  act,
  add,
  batchNorm,
  convBn,
  dense,
  depthwise,
  dropout,
  finish,
  globalAvgPool,
  input,
  inputSizeOf,
  pad,
  seedOf,
  type Tensor,
} from './common';

const BN_EPS = 1e-5;

/** Inverted-residual settings: expansion t, output channels c, repeats n, first stride s. */
const SETTINGS: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/**
 * MobileNetV2, width 1.0, as torchvision's `mobilenet_v2` / Keras's
 * `MobileNetV2`: a 3×3 stride-2 stem (32), 17 inverted-residual blocks
 * (1×1 expand + BN + ReLU6 → 3×3 depthwise + BN + ReLU6 → 1×1 linear project
 * + BN, with an identity shortcut where stride is 1 and channels match; the
 * first block has no expansion), a 1×1 conv to 1280, global average pooling,
 * dropout 0.2 and a 1000-way dense layer (logits). Convolutions have no bias.
 *
 * Parameters: 3,504,872 trainable (torchvision's count) + 34,112 BN moving
 * statistics = 3,538,984 total (Keras's count); independent of the input size.
 *
 * Padding follows torchvision (symmetric, explicit zero padding before each
 * stride-2 convolution; Keras pads bottom/right only), BN eps 1e-5 as
 * torchvision. Any `inputSize` ≥ 32 works.
 */
export function buildMobileNetV2(opts?: BuildOptions): tf.LayersModel {
  const size = inputSizeOf('mobilenetv2', opts, 224, 32);
  const x0 = input(size);
  let x = pad(x0, 'stem_pad', 1);
  x = convBn(x, { conv: 'stem_conv', bn: 'stem_bn' }, 32, 3, { strides: 2, epsilon: BN_EPS });
  x = act(x, 'stem_relu', 'relu6');
  let channels = 32;
  let block = 0;
  const residual = new Set<string>();
  for (const [t, c, n, s] of SETTINGS) {
    for (let i = 0; i < n; i++) {
      x = invertedResidual(x, `block${block}`, channels, c, i === 0 ? s : 1, t, residual);
      channels = c;
      block++;
    }
  }
  x = convBn(x, { conv: 'last_conv', bn: 'last_bn' }, 1280, 1, { epsilon: BN_EPS });
  x = act(x, 'last_relu', 'relu6');
  x = globalAvgPool(x, 'avgpool');
  x = dropout(x, 'dropout', 0.2);
  x = dense(x, 'classifier', 1000);
  return finish('mobilenetv2', x0, x, seedOf(opts), (name) => {
    if (name === 'classifier') return { kernelGain: CLASSIFIER_GAIN };
    // the projection is linear (no ReLU halves its output): He gain / √2
    if (name.endsWith('_project')) return { kernelGain: Math.SQRT1_2 };
    // residual branches add up at inference: keep each one's contribution small
    if (name.endsWith('_project_bn') && residual.has(name.slice(0, -'_project_bn'.length))) return { gamma: 0.3 };
    return undefined;
  });
}

/** Appends one inverted-residual block; records its name in `residual` when it has an identity shortcut. */
function invertedResidual(
  x: Tensor,
  name: string,
  inChannels: number,
  outChannels: number,
  stride: number,
  expand: number,
  residual: Set<string>,
): Tensor {
  let y = x;
  if (expand !== 1) {
    y = convBn(y, { conv: `${name}_expand`, bn: `${name}_expand_bn` }, inChannels * expand, 1, { epsilon: BN_EPS });
    y = act(y, `${name}_expand_relu`, 'relu6');
  }
  if (stride !== 1) y = pad(y, `${name}_dw_pad`, 1);
  y = depthwise(y, `${name}_dw`, 3, { strides: stride, padding: stride === 1 ? 'same' : 'valid', useBias: false });
  y = batchNorm(y, `${name}_dw_bn`, BN_EPS);
  y = act(y, `${name}_dw_relu`, 'relu6');
  y = convBn(y, { conv: `${name}_project`, bn: `${name}_project_bn` }, outChannels, 1, { epsilon: BN_EPS });
  if (stride === 1 && inChannels === outChannels) {
    residual.add(name);
    return add([x, y], `${name}_add`);
  }
  return y;
}
