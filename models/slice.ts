import * as tf from './tfjs';
import { OffloadError } from '../core/errors';
import { candidateAt, crossingNames, modelGraph, type CrossingTensor, type ModelAnalysis, type ModelGraph } from './graph';

/** Head and tail of a model at one cut. */
export interface SplitModel {
  /** Model input → crossing tensors (in crossing order); null at cut 0. */
  head: tf.LayersModel | null;
  /** Crossing tensors (one input each, named as the tensor) → model output; null at cut L. */
  tail: tf.LayersModel | null;
  crossing: CrossingTensor[];
}

/**
 * Splits `model` at `cut` into a head (layers < cut) and a tail (layers ≥ cut).
 *
 * Both sub-models are rebuilt from clones of the layers (config → fromConfig,
 * weights copied), never by re-applying the original layer objects: a re-applied
 * layer gains a second inbound node in the original model and shares its
 * variables, which ties the pieces together and breaks their serialisation.
 * Each piece therefore holds only its own layers' weights (the copies share the
 * original's memory until one side is disposed, so splitting costs no copy).
 *
 * `cut` must be a candidate in `analysis`, or L (device-only: tail null).
 * Cut 0 gives a null head and a tail that is the whole model.
 *
 * @throws OffloadError `invalid-input` when the cut is not a candidate (the message lists them)
 * @example
 * const { head, tail } = splitModel(model, analyzeModel(model), 5);
 * const y = tail!.predict(head!.predict(x) as tf.Tensor);
 */
export function splitModel(model: tf.LayersModel, analysis: ModelAnalysis, cut: number): SplitModel {
  const graph = modelGraph(model);
  const L = graph.nodes.length;
  if (L !== analysis.layers.length) {
    throw new OffloadError('invalid-input', `the analysis (${analysis.layers.length} layers) does not belong to this model (${L} layers)`);
  }
  if (cut === L) {
    return { head: cloneRange(graph, 0, L, [], [graph.output], `${model.name}_head_${cut}`), tail: null, crossing: [] };
  }
  const candidate = candidateAt(analysis, cut);
  const names = crossingNames(graph, cut);
  if (names.join('\n') !== candidate.crossing.map((t) => t.name).join('\n')) {
    throw new OffloadError('invalid-input', `the analysis does not match the model at cut ${cut}`);
  }
  const head = cut === 0 ? null : cloneRange(graph, 0, cut, [], names, `${model.name}_head_${cut}`);
  const tail = cloneRange(graph, cut, L, candidate.crossing, [graph.output], `${model.name}_tail_${cut}`);
  return { head, tail, crossing: candidate.crossing };
}

/**
 * The layers [from, to) of `model` as a model from the crossing tensors at `from` (the model input at 0) to the
 * crossing tensors at `to`, in crossing order (the model output at L): a chunk of a head run while the cut is not
 * known yet (client/device-model.ts `runAhead`). `from` must be a candidate (or 0); every tensor crossing `to` must be
 * made inside the chunk (with single-tensor cuts it is); otherwise an OffloadError `invalid-input`.
 */
export function segmentModel(model: tf.LayersModel, analysis: ModelAnalysis, from: number, to: number): tf.LayersModel {
  const graph = modelGraph(model);
  const L = graph.nodes.length;
  if (!(from < to && to <= L)) {
    throw new OffloadError('invalid-input', `segment from ${from} to ${to}: the end must be past ${from}, up to the model's ${L} layers`);
  }
  const inputs = from === 0 ? [] : candidateAt(analysis, from).crossing;
  const made = new Set(graph.nodes.slice(from, to).map((n) => n.layer.name));
  const outputs = to === L ? [graph.output] : crossingNames(graph, to);
  for (const name of outputs) if (!made.has(name)) throw new OffloadError('invalid-input', `segment [${from}, ${to}): tensor ${name} crosses both cuts`);
  return cloneRange(graph, from, to, inputs, outputs, `${model.name}_segment_${from}_${to}`);
}

/**
 * Builds a model from clones of layers [from, to). With `from` = 0 the input is
 * the model's input; otherwise there is one new input per entry of `inputs`.
 */
function cloneRange(
  graph: ModelGraph,
  from: number,
  to: number,
  inputs: readonly CrossingTensor[],
  outputs: readonly string[],
  name: string,
): tf.LayersModel {
  const tensors = new Map<string, tf.SymbolicTensor>();
  const modelInputs: tf.SymbolicTensor[] = [];
  if (from === 0) {
    const x = tf.input({ shape: graph.input.shape, dtype: graph.input.dtype, name: graph.input.name });
    tensors.set(graph.input.name, x);
    modelInputs.push(x);
  } else {
    for (const t of inputs) {
      const x = tf.input({ shape: t.shape, name: t.name });
      tensors.set(t.name, x);
      modelInputs.push(x);
    }
  }
  for (let i = from; i < to; i++) {
    const node = graph.nodes[i]!;
    const args = node.inputs.map((n) => {
      const t = tensors.get(n);
      if (!t) throw new OffloadError('internal', `slicing: layer "${node.layer.name}" needs "${n}", which is not available`);
      return t;
    });
    const clone = cloneLayer(node.layer);
    const out = clone.apply(args.length === 1 ? args[0]! : args, node.callArgs as tf.serialization.ConfigDict) as tf.SymbolicTensor;
    clone.setWeights(node.layer.getWeights());
    tensors.set(node.layer.name, out);
  }
  const outs = outputs.map((n) => tensors.get(n)!);
  return tf.model({ inputs: modelInputs, outputs: outs, name });
}

const INITIALIZER_KEY = /Initializer$/;

/**
 * A fresh layer of the same class and config. Initialisers are replaced by
 * zeros: the weights are overwritten right after, and random initialisation of
 * VGG16's dense layers alone costs seconds.
 */
export function cloneLayer(layer: tf.layers.Layer): tf.layers.Layer {
  const className = layer.getClassName();
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) throw new OffloadError('model-format', `layer "${layer.name}": class ${className} is not registered with tfjs`);
  const [cls, fromConfig] = entry;
  const config = { ...(layer.getConfig() as Record<string, unknown>) };
  for (const key of Object.keys(config)) {
    if (INITIALIZER_KEY.test(key) && config[key] !== null && typeof config[key] === 'object') {
      config[key] = { className: 'Zeros', config: {} };
    }
  }
  return fromConfig(cls, config as tf.serialization.ConfigDict) as tf.layers.Layer;
}
