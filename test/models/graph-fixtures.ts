/**
 * Small functional models with the shapes of DAG that cuts must handle:
 * a chain, a residual block, an inception-like concat and a skip from the model input.
 * Weights are seeded so every run sees the same numbers.
 */
import * as tf from '@tensorflow/tfjs';

const init = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.2, seed });

function conv(name: string, filters: number, seed: number, kernelSize = 3, activation: 'relu' | 'linear' = 'linear') {
  return tf.layers.conv2d({ name, filters, kernelSize, padding: 'same', activation, kernelInitializer: init(seed), biasInitializer: init(seed + 1000) });
}

/** input → c1 → c2 → pool → flat → fc (every cut is a candidate). */
export function chainModel(): tf.LayersModel {
  const x = tf.input({ shape: [8, 8, 3], name: 'input' });
  let y = conv('c1', 4, 1, 3, 'relu').apply(x) as tf.SymbolicTensor;
  y = conv('c2', 6, 2).apply(y) as tf.SymbolicTensor;
  y = tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten({ name: 'flat' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ name: 'fc', units: 5, kernelInitializer: init(3) }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y, name: 'chain' });
}

/**
 * input → stem → [a → bn → relu] + stem → add → out
 * Indices: 0 stem, 1 a, 2 bn, 3 relu, 4 add, 5 gap, 6 fc.
 */
export function residualModel(): tf.LayersModel {
  const x = tf.input({ shape: [8, 8, 3], name: 'input' });
  const stem = conv('stem', 4, 11).apply(x) as tf.SymbolicTensor;
  let y = conv('a', 4, 12).apply(stem) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: 'bn', movingMeanInitializer: init(13), movingVarianceInitializer: 'ones', gammaInitializer: init(14) }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ name: 'relu' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.add({ name: 'add' }).apply([y, stem]) as tf.SymbolicTensor;
  y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ name: 'fc', units: 3, kernelInitializer: init(15) }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y, name: 'residual' });
}

/**
 * input → stem → {b1, b2a → b2b, p → b3} → cat → fc.
 * The order tfjs gives the branches is whatever its topological sort yields; tests look layers up by name.
 */
export function inceptionModel(): tf.LayersModel {
  const x = tf.input({ shape: [8, 8, 3], name: 'input' });
  const stem = conv('stem', 4, 21).apply(x) as tf.SymbolicTensor;
  const b1 = conv('b1', 2, 22, 1).apply(stem) as tf.SymbolicTensor;
  const b2a = conv('b2a', 3, 23, 1, 'relu').apply(stem) as tf.SymbolicTensor;
  const b2b = conv('b2b', 2, 24).apply(b2a) as tf.SymbolicTensor;
  const p = tf.layers.maxPooling2d({ name: 'p', poolSize: 3, strides: 1, padding: 'same' }).apply(stem) as tf.SymbolicTensor;
  const b3 = conv('b3', 2, 25, 1).apply(p) as tf.SymbolicTensor;
  let y = tf.layers.concatenate({ name: 'cat' }).apply([b1, b2b, b3]) as tf.SymbolicTensor;
  y = tf.layers.flatten({ name: 'flat' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ name: 'fc', units: 3, kernelInitializer: init(26) }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y, name: 'inception' });
}

/** input → c1 → c2 → concat(c2, input) → c3: the model input crosses every cut up to the concat. */
export function skipFromInputModel(): tf.LayersModel {
  const x = tf.input({ shape: [6, 6, 2], name: 'input' });
  const c1 = conv('c1', 3, 31, 3, 'relu').apply(x) as tf.SymbolicTensor;
  const c2 = conv('c2', 3, 32).apply(c1) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([c2, x]) as tf.SymbolicTensor;
  const c3 = conv('c3', 2, 33, 1).apply(cat) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: c3, name: 'skip' });
}

/** A seeded input batch for `model`. */
export function seededInput(model: tf.LayersModel, batch = 2, seed = 7): tf.Tensor {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  return tf.randomUniform([batch, ...shape], -1, 1, 'float32', seed);
}

