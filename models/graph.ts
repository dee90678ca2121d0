import type * as tf from '@tensorflow/tfjs';
import { OffloadError } from '../core/errors';
import { layerFlops } from './flops';

/** One layer of a model, in the fixed topological order used for cuts. */
export interface LayerInfo {
  /** Position in the topological order (0-based, InputLayers excluded). */
  index: number;
  name: string;
  className: string;
  /** Shape of the layer's output, without the batch dimension. */
  outputShape: number[];
  /** Bytes of that output as float32 for one sample. */
  outputBytes: number;
  /** Bytes of ALL the layer's weights (trainable or not, e.g. batch-norm moving statistics): what a tail downloads. */
  weightBytes: number;
  /** Trainable parameters. */
  params: number;
  /** Multiply-adds counted once, for one sample (rules in `models/flops.ts`). */
  flops: number;
}

/** A tensor that crosses a cut: produced on the device side, consumed on the cloud side. */
export interface CrossingTensor {
  /** The producing layer's name (or the model input's name). Tail inputs carry this name. */
  name: string;
  /** Without the batch dimension. */
  shape: number[];
  /** float32 bytes for one sample. */
  bytes: number;
}

/** A cut that may be chosen: its crossing set is small enough (see {@link AnalyzeOptions.maxCrossing}). */
export interface CutCandidate {
  /** Layers with index < cut run on the device, the others in the cloud. */
  cut: number;
  /** Name of layer cut−1, or `'input'` for cut 0. */
  layer: string;
  /** Distinct crossing tensors, ordered by producing layer (model input first). */
  crossing: CrossingTensor[];
  /** Σ crossing bytes (float32). */
  crossingBytes: number;
  headFlops: number;
  tailFlops: number;
  /** Σ weightBytes of layers ≥ cut: what the tail function loads. */
  tailWeightBytes: number;
}

/** What {@link analyzeModel} reports about a model. */
export interface ModelAnalysis {
  name: string;
  /** Without the batch dimension. */
  inputShape: number[];
  inputBytes: number;
  outputBytes: number;
  layers: LayerInfo[];
  /** Candidate cuts 0 … < L in increasing order; L (device-only) is implied. */
  candidates: CutCandidate[];
  /** Σ trainable parameters. */
  params: number;
  /** Σ layer FLOPs. */
  flops: number;
}

/** Options of {@link analyzeModel}. */
export interface AnalyzeOptions {
  /** Name reported in the analysis; defaults to the model's name. */
  name?: string;
  /**
   * Largest number of distinct crossing tensors a cut may have to be a candidate.
   * Default 1: only cuts between blocks of a DAG (one tensor crosses). Raise it to
   * allow cuts inside residual or inception blocks (CLI: `--max-crossing N`).
   */
  maxCrossing?: number;
}

/** A node of the model graph as {@link modelGraph} reads it. */
export interface GraphNode {
  index: number;
  layer: tf.layers.Layer;
  /** Names of the tensors (= producing layers) this layer consumes, in call order. */
  inputs: string[];
  /** Keyword arguments the layer was called with (e.g. a `training` flag). */
  callArgs: Record<string, unknown>;
  /** Without the batch dimension. */
  outputShape: number[];
  inputShapes: number[][];
}

/** The model as a single-input, single-output DAG of single-output layers. */
export interface ModelGraph {
  input: { name: string; shape: number[]; dtype: tf.DataType };
  nodes: GraphNode[];
  /** Name of the tensor that is the model output. */
  output: string;
  /** Producer position of every tensor: −1 for the model input, else the layer index. */
  producerIndex: Map<string, number>;
  /** Highest index of a layer consuming each tensor (L for the model output). */
  lastConsumer: Map<string, number>;
}

const FLOAT32_BYTES = 4;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, string: 0 };

/**
 * Reads a model's graph in tfjs `model.layers` order (minus InputLayers) and
 * verifies that this order is topological. Rejects what a single cut cannot
 * express: several inputs or outputs, a layer called on several nodes (shared
 * layers), multi-output layers, nested models and undefined dimensions.
 *
 * @throws OffloadError `model-format` naming the offending layer
 */
export function modelGraph(model: tf.LayersModel): ModelGraph {
  if (model.inputs.length !== 1) {
    throw new OffloadError('model-format', `model "${model.name}" has ${model.inputs.length} inputs; offload supports exactly one`);
  }
  if (model.outputs.length !== 1) {
    throw new OffloadError('model-format', `model "${model.name}" has ${model.outputs.length} outputs; offload supports exactly one`);
  }
  const modelInput = model.inputs[0]!;
  const inputName = modelInput.sourceLayer.name;
  const input = { name: inputName, shape: fixedShape(modelInput.shape, `model input "${inputName}"`), dtype: modelInput.dtype };
  const producerIndex = new Map<string, number>([[inputName, -1]]);
  const lastConsumer = new Map<string, number>([[inputName, -1]]);
  const nodes: GraphNode[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') {
      if (layer.name !== inputName) throw new OffloadError('model-format', `model "${model.name}" has a second input layer "${layer.name}"`);
      continue;
    }
    const where = `layer "${layer.name}" (${layer.getClassName()})`;
    if (producerIndex.has(layer.name)) throw new OffloadError('model-format', `${where}: the name is used twice`);
    if ('layers' in layer && Array.isArray((layer as { layers?: unknown }).layers)) {
      throw new OffloadError('model-format', `${where} is a nested model; flatten it into one functional model`);
    }
    if (layer.inboundNodes.length !== 1) {
      throw new OffloadError(
        'model-format',
        `${where} is called on ${layer.inboundNodes.length} nodes; shared layers cannot be split (give each call its own layer)`,
      );
    }
    const node = layer.inboundNodes[0]!;
    if (node.outputTensors.length !== 1) {
      throw new OffloadError('model-format', `${where} has ${node.outputTensors.length} outputs; offload supports single-output layers`);
    }
    const index = nodes.length;
    const inputs = node.inboundLayers.map((l, i) => {
      if ((node.tensorIndices[i] ?? 0) !== 0) throw new OffloadError('model-format', `${where} consumes output ${node.tensorIndices[i]} of "${l.name}"`);
      const at = producerIndex.get(l.name);
      if (at === undefined) {
        throw new OffloadError('model-format', `${where} consumes "${l.name}", which comes later in model.layers (not a topological order)`);
      }
      lastConsumer.set(l.name, index);
      return l.name;
    });
    nodes.push({
      index,
      layer,
      inputs,
      callArgs: (node.callArgs ?? {}) as Record<string, unknown>,
      outputShape: fixedShape(node.outputTensors[0]!.shape, where),
      inputShapes: node.inputTensors.map((t) => fixedShape(t.shape, `${where} input`)),
    });
    producerIndex.set(layer.name, index);
    lastConsumer.set(layer.name, -1);
  }
  const output = model.outputs[0]!.sourceLayer.name;
  if (!producerIndex.has(output)) throw new OffloadError('model-format', `model output "${output}" is not produced by any layer`);
  lastConsumer.set(output, nodes.length);
  return { input, nodes, output, producerIndex, lastConsumer };
}

/**
 * Names of the distinct tensors crossing cut `cut` (0 ≤ cut ≤ L): produced by a
 * layer with index < cut or by the model input, consumed by a layer with index ≥ cut.
 * Ordered by producer (model input first). Empty at cut L.
 */
export function crossingNames(graph: ModelGraph, cut: number): string[] {
  const names: string[] = [];
  const L = graph.nodes.length;
  if (cut >= L) return names;
  const push = (name: string): void => {
    const last = graph.lastConsumer.get(name) ?? -1;
    if (last >= cut) names.push(name);
  };
  push(graph.input.name);
  for (let i = 0; i < cut; i++) push(graph.nodes[i]!.layer.name);
  return names;
}

/**
 * Analyses a model: layers in topological order with output shapes, bytes,
 * weight bytes, parameters and FLOPs, and the candidate cuts.
 *
 * A cut c in 0…L−1 is a candidate when at most `maxCrossing` (default 1)
 * distinct tensors cross it; cut 0 (the raw input is sent) always is.
 *
 * @example
 * const a = analyzeModel(model, { maxCrossing: 2 });
 * a.candidates.map((c) => c.cut);
 */
export function analyzeModel(model: tf.LayersModel, opts: AnalyzeOptions = {}): ModelAnalysis {
  const maxCrossing = opts.maxCrossing ?? 1;
  if (!Number.isInteger(maxCrossing) || maxCrossing < 1) {
    throw new OffloadError('invalid-input', `maxCrossing: must be an integer ≥ 1 (got ${maxCrossing})`, { field: 'maxCrossing' });
  }
  const graph = modelGraph(model);
  const layers: LayerInfo[] = graph.nodes.map((n) => {
    const outputBytes = product(n.outputShape) * FLOAT32_BYTES;
    let weightBytes = 0;
    for (const w of n.layer.weights) weightBytes += product(w.shape as number[]) * (DTYPE_BYTES[w.dtype] ?? 4);
    let params = 0;
    for (const w of n.layer.trainableWeights) params += product(w.shape as number[]);
    return {
      index: n.index,
      name: n.layer.name,
      className: n.layer.getClassName(),
      outputShape: n.outputShape,
      outputBytes,
      weightBytes,
      params,
      flops: layerFlops(n.layer, n.inputShapes, n.outputShape),
    };
  });
  const shapeOf = (name: string): number[] => {
    const at = graph.producerIndex.get(name)!;
    return at < 0 ? graph.input.shape : layers[at]!.outputShape;
  };
  const L = layers.length;
  // Suffix sums give head/tail totals per cut in O(L).
  const tailFlops = new Array<number>(L + 1).fill(0);
  const tailWeights = new Array<number>(L + 1).fill(0);
  for (let i = L - 1; i >= 0; i--) {
    tailFlops[i] = tailFlops[i + 1]! + layers[i]!.flops;
    tailWeights[i] = tailWeights[i + 1]! + layers[i]!.weightBytes;
  }
  const totalFlops = tailFlops[0]!;
  const candidates: CutCandidate[] = [];
  for (let cut = 0; cut < L; cut++) {
    const names = crossingNames(graph, cut);
    if (cut > 0 && names.length > maxCrossing) continue;
    const crossing = names.map((name) => {
      const shape = shapeOf(name);
      return { name, shape, bytes: product(shape) * FLOAT32_BYTES };
    });
    candidates.push({
      cut,
      layer: cut === 0 ? 'input' : layers[cut - 1]!.name,
      crossing,
      crossingBytes: crossing.reduce((s, t) => s + t.bytes, 0),
      headFlops: totalFlops - tailFlops[cut]!,
      tailFlops: tailFlops[cut]!,
      tailWeightBytes: tailWeights[cut]!,
    });
  }
  const outputShape = shapeOf(graph.output);
  return {
    name: opts.name ?? model.name,
    inputShape: graph.input.shape,
    inputBytes: product(graph.input.shape) * FLOAT32_BYTES,
    outputBytes: product(outputShape) * FLOAT32_BYTES,
    layers,
    candidates,
    params: layers.reduce((s, l) => s + l.params, 0),
    flops: totalFlops,
  };
}

/**
 * The candidate at `cut`, or an OffloadError listing the candidates.
 * Cut L (device-only) is not a candidate: nothing runs in the cloud.
 */
export function candidateAt(analysis: ModelAnalysis, cut: number): CutCandidate {
  const found = analysis.candidates.find((c) => c.cut === cut);
  if (!found) {
    throw new OffloadError(
      'invalid-input',
      `cut ${cut} is not a candidate of ${analysis.name}; candidates: ${analysis.candidates.map((c) => c.cut).join(', ')}`,
      { field: 'cut' },
    );
  }
  return found;
}

function fixedShape(shape: readonly (number | null)[], where: string): number[] {
  const dims = shape.slice(1);
  if (dims.some((d) => typeof d !== 'number' || !(d > 0))) {
    throw new OffloadError('model-format', `${where} has an undefined dimension (shape [${shape.join(', ')}]); give the model a fixed input size`);
  }
  return dims as number[];
}

function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}
