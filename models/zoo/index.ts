import type * as tf from '@tensorflow/tfjs';
import type { BuildOptions } from './common';
import { buildAlexNet } from './alexnet';
import { buildVgg16 } from './vgg16';
import { buildResNet50 } from './resnet50';
import { buildMobileNetV2 } from './mobilenetv2';
import { buildGoogLeNet } from './googlenet';
import { buildTinyChain } from './tinychain';
import { buildTinyDag } from './tinydag';

export { DEFAULT_SEED, type BuildOptions } from './common';

/** Names of the networks the zoo can build. */
export type ZooName = 'alexnet' | 'vgg16' | 'resnet50' | 'mobilenetv2' | 'googlenet' | 'tinychain' | 'tinydag';

export const ZOO_NAMES: readonly ZooName[] = ['alexnet', 'vgg16', 'resnet50', 'mobilenetv2', 'googlenet', 'tinychain', 'tinydag'];

/** One network of the zoo. */
export interface ZooEntry {
  name: ZooName;
  description: string;
  /** Default input shape, HWC, no batch dimension. */
  inputShape: [number, number, number];
  /** The published parameter count the zoo test checks against (see test/models/params.test.ts), null for the tiny nets. */
  publishedParams: number | null;
  /**
   * Builds the network with deterministic seeded weights (models/init.ts; default seed 1).
   * `inputSize` builds it at another spatial size (height = width): AlexNet (≥ 63), VGG16 (≥ 32)
   * and tinychain flatten their last feature map into the first dense layer, so their parameter
   * count follows the size (torchvision's adaptive average pool, the identity at 224, is left out);
   * ResNet-50, MobileNetV2, GoogLeNet (≥ 32) and tinydag end in global average pooling and keep theirs.
   * Outputs are logits (no softmax). Throws ValidationError for a size the architecture cannot take.
   */
  build(opts?: BuildOptions): tf.LayersModel;
}

/** Every zoo network by name. */
export const ZOO: Record<ZooName, ZooEntry> = {
  alexnet: {
    name: 'alexnet',
    description: 'AlexNet, single tower as torchvision (5 conv + 3 dense)',
    inputShape: [224, 224, 3],
    publishedParams: 61_100_840,
    build: buildAlexNet,
  },
  vgg16: {
    name: 'vgg16',
    description: 'VGG16 (configuration D, no batch norm) as torchvision',
    inputShape: [224, 224, 3],
    publishedParams: 138_357_544,
    build: buildVgg16,
  },
  resnet50: {
    name: 'resnet50',
    description: 'ResNet-50, bottleneck v1.5 as torchvision',
    inputShape: [224, 224, 3],
    publishedParams: 25_557_032,
    build: buildResNet50,
  },
  mobilenetv2: {
    name: 'mobilenetv2',
    description: 'MobileNetV2, width 1.0 (inverted residuals, linear bottlenecks)',
    inputShape: [224, 224, 3],
    publishedParams: 3_538_984,
    build: buildMobileNetV2,
  },
  googlenet: {
    name: 'googlenet',
    description: 'GoogLeNet (Inception v1) as torchvision, with batch norm, without auxiliary heads',
    inputShape: [224, 224, 3],
    publishedParams: 6_624_904,
    build: buildGoogLeNet,
  },
  tinychain: {
    name: 'tinychain',
    description: 'Tiny chain net for tests: 2 conv + 2 pool + 2 dense on 16×16×3',
    inputShape: [16, 16, 3],
    publishedParams: null,
    build: buildTinyChain,
  },
  tinydag: {
    name: 'tinydag',
    description: 'Tiny DAG net for tests: 2 residual blocks + 1 inception-like block on 16×16×3',
    inputShape: [16, 16, 3],
    publishedParams: null,
    build: buildTinyDag,
  },
};

/** True when `name` is a zoo network. */
export function isZooName(name: string): name is ZooName {
  return (ZOO_NAMES as readonly string[]).includes(name);
}
