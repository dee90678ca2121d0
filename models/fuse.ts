/**
 * Load-time folding of batch norm and relu/relu6 into the convolution before
 * them, so that a conv → BN → ReLU6 chain runs as one fused kernel
 * (`tf.fused.conv2d` / `tf.fused.depthwiseConv2d` with bias and activation);
 * a symmetric ZeroPadding2D before a 'valid' convolution becomes that
 * convolution's explicit padding (the torchvision-style strided convolutions
 * of the zoo), which removes one more memory-bound kernel.
 *
 * Why: on the multi-threaded wasm engine every kernel call pays a thread
 * hand-off (~25–30 µs), and the element-wise kernels after each convolution
 * are memory-bound, so a second thread slows them down. MobileNetV2 runs ~120
 * such small kernels; folding removes two of every three (docs/profiles.md).
 * tfjs-layers cannot express this itself: its Conv2D fuses only relu, and its
 * DepthwiseConv2D fuses nothing.
 *
 * The pass works on a built model (a whole model, or a head or tail that
 * models/slice.ts built), never on what is exported or profiled as the
 * model's layers: cuts and layer indices stay those of the original model.
 * A chain is folded only when each intermediate tensor has exactly one
 * consumer (the next layer of the chain) and is not a model output, so a
 * head's crossing tensors, a tail's inputs and every output keep their
 * meaning. The fused layer takes the name of the chain's last layer, so the
 * rebuilt model's input and output names are the original's.
 *
 * Arithmetic: BN(conv(x, W) + b) = conv(x, W·s) + (b − mean)·s + β with
 * s = γ / √(variance + ε), per output channel; s and the bias are computed in
 * float64, W·s in float32 (one rounding per weight).
 */
import * as tf from './tfjs';
import { OffloadError } from '../core/errors';
import { cloneLayer } from './slice';

/** The activations a fused kernel applies (a subset of tfjs's FusableActivation). */
export type FusedActivation = 'linear' | 'relu' | 'relu6';

/** One folded chain, for logs and for attributing profile times. */
export interface FoldedChain {
  /** The convolution of the chain (its time carries the chain's). */
  conv: string;
  /** The layers folded into it, in order (a ZeroPadding2D before it; a BatchNormalization and/or an activation after). */
  folded: string[];
  /** The ZeroPadding2D before the convolution, when one was folded in as the convolution's own padding. */
  pad?: string;
  activation: FusedActivation;
  /** The fused layer's name: the chain's last layer, whose output it produces. */
  name: string;
}

/** What {@link fuseModel} returns. */
export interface FusedModel {
  /** The rebuilt model; the input model itself when nothing folded. */
  model: tf.LayersModel;
  chains: FoldedChain[];
}

/** Environment switch: `OFFLOAD_FUSE=off` runs every layer as tfjs-layers does (for comparison). */
export const FUSE_ENV = 'OFFLOAD_FUSE';

/**
 * Whether load-time folding is on: `OFFLOAD_FUSE` unset, empty or `on` → on; `off` → off
 * (in a browser, where there is no environment: on).
 * @throws OffloadError `invalid-input` for any other value (a typo must not silently pick one)
 */
export function fusionEnabled(env: Readonly<Record<string, string | undefined>> = typeof process === 'undefined' ? {} : process.env): boolean {
  const v = env[FUSE_ENV]?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'on') return true;
  if (v === 'off') return false;
  throw new OffloadError('invalid-input', `${FUSE_ENV}: must be "on" or "off" (got "${env[FUSE_ENV]}")`, { field: FUSE_ENV });
}

const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D']);

type Config = Record<string, unknown>;

/** The fused activation an activation layer amounts to, or undefined when it is not relu/relu6. */
function activationOf(layer: tf.layers.Layer): 'relu' | 'relu6' | undefined {
  const c = layer.getConfig() as Config;
  if (layer.getClassName() === 'Activation') {
    return c.activation === 'relu' || c.activation === 'relu6' ? c.activation : undefined;
  }
  if (layer.getClassName() === 'ReLU') {
    const max = c.maxValue;
    if (max === null || max === undefined) return 'relu';
    return max === 6 ? 'relu6' : undefined;
  }
  return undefined;
}

/** The BN layer's channel axis is the last one (the only layout a conv's per-output-channel fold covers). */
function isChannelsLastBn(layer: tf.layers.Layer, rank: number): boolean {
  if (layer.getClassName() !== 'BatchNormalization') return false;
  const axis = (layer.getConfig() as Config).axis;
  const a = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : undefined) : axis;
  return a === -1 || a === rank - 1;
}

function isFoldableConv(layer: tf.layers.Layer): boolean {
  if (!CONV_CLASSES.has(layer.getClassName())) return false;
  const c = layer.getConfig() as Config;
  return c.activation === 'linear' && (c.dataFormat === undefined || c.dataFormat === 'channelsLast');
}

/** The padding of a ZeroPadding2D that pads p on all four sides (channels last), else undefined. */
function symmetricPad(layer: tf.layers.Layer): number | undefined {
  if (layer.getClassName() !== 'ZeroPadding2D') return undefined;
  const c = layer.getConfig() as Config;
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') return undefined;
  const p = c.padding;
  const flat = typeof p === 'number' ? [p, p, p, p] : Array.isArray(p) ? (p as unknown[]).flat() : [];
  return flat.length === 4 && flat.every((v) => v === flat[0]) && typeof flat[0] === 'number' ? flat[0] : undefined;
}

/** Single-node, single-output layers only; anything else (shared layers) is left as it is. */
function sole(layer: tf.layers.Layer) {
  return layer.inboundNodes.length === 1 && layer.inboundNodes[0]!.outputTensors.length === 1 ? layer.inboundNodes[0]! : undefined;
}

/**
 * Finds the foldable chains of `model`: [ZeroPadding2D, the same on every
 * side, before a 'valid' convolution →] conv (linear activation, channels
 * last) → BatchNormalization on the last axis and/or → relu/relu6 (an
 * Activation layer or ReLU with no maximum or a maximum of 6), each link the
 * sole consumer of the previous one's output, which is not a model output.
 */
export function findFoldableChains(model: tf.LayersModel): FoldedChain[] {
  const consumers = new Map<string, tf.layers.Layer[]>();
  for (const layer of model.layers) {
    for (const node of layer.inboundNodes) {
      for (const from of node.inboundLayers) consumers.set(from.name, [...(consumers.get(from.name) ?? []), layer]);
    }
  }
  const outputs = new Set(model.outputs.map((o) => o.sourceLayer.name));
  const next = (layer: tf.layers.Layer): tf.layers.Layer | undefined => {
    const cs = consumers.get(layer.name) ?? [];
    if (cs.length !== 1 || outputs.has(layer.name)) return undefined;
    const c = cs[0]!;
    const node = sole(c);
    return node && node.inboundLayers.length === 1 ? c : undefined;
  };
  const chains: FoldedChain[] = [];
  for (const conv of model.layers) {
    const node = sole(conv);
    if (!isFoldableConv(conv) || !node) continue;
    const folded: tf.layers.Layer[] = [];
    // a symmetric zero padding feeding only a 'valid' convolution is that convolution's explicit padding
    const before = node.inboundLayers.length === 1 ? node.inboundLayers[0]! : undefined;
    const pad = before && (conv.getConfig() as Config).padding === 'valid' && sole(before) && next(before) === conv ? symmetricPad(before) : undefined;
    if (before && pad !== undefined) folded.push(before);
    let last = conv;
    let activation: FusedActivation = 'linear';
    const afterConv = next(conv);
    if (afterConv && isChannelsLastBn(afterConv, 4)) {
      folded.push(afterConv);
      last = afterConv;
    }
    const afterBn = next(last);
    const act = afterBn && activationOf(afterBn);
    if (afterBn && act) {
      folded.push(afterBn);
      last = afterBn;
      activation = act;
    }
    if (folded.length > 0) {
      chains.push({ conv: conv.name, folded: folded.map((l) => l.name), activation, name: last.name, ...(pad !== undefined ? { pad: before!.name } : {}) });
    }
  }
  return chains;
}

/**
 * Rebuilds `model` with every foldable chain ({@link findFoldableChains}) as
 * one fused convolution. Other layers are cloned with their weights (the
 * clones share the original's tensors). The input model is left intact; the
 * caller disposes it when it no longer needs it.
 */
export function fuseModel(model: tf.LayersModel): FusedModel {
  const chains = findFoldableChains(model);
  if (chains.length === 0) return { model, chains };
  const byConv = new Map(chains.map((c) => [c.conv, c]));
  const foldedNames = new Set(chains.flatMap((c) => c.folded));
  const layersByName = new Map(model.layers.map((l) => [l.name, l]));
  const tensors = new Map<string, tf.SymbolicTensor>();
  const inputs: tf.SymbolicTensor[] = model.inputs.map((t) => {
    const layer = t.sourceLayer;
    const x = tf.input({ shape: t.shape.slice(1) as number[], dtype: t.dtype, name: layer.name });
    tensors.set(layer.name, x);
    return x;
  });
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer' || foldedNames.has(layer.name)) continue;
    const node = layer.inboundNodes[0];
    if (!node || layer.inboundNodes.length !== 1) {
      // a shared layer: rebuilding would need every call; run the model as it is
      return { model, chains: [] };
    }
    const chain = byConv.get(layer.name);
    // a folded padding's input is the fused convolution's input
    const source = chain?.pad !== undefined ? layersByName.get(chain.pad)!.inboundNodes[0]! : node;
    const args = source.inboundLayers.map((from, i) => {
      const t = tensors.get(from.name);
      if (!t || (source.tensorIndices[i] ?? 0) !== 0) throw new OffloadError('internal', `fusing: layer "${layer.name}" needs "${from.name}", which is not available`);
      return t;
    });
    const arg = args.length === 1 ? args[0]! : args;
    if (chain) {
      const fused = buildFused(layer, chain, chain.folded.map((n) => layersByName.get(n)!));
      const out = fused.layer.apply(arg) as tf.SymbolicTensor;
      fused.layer.setWeights(fused.weights);
      tf.dispose(fused.weights);
      tensors.set(chain.name, out);
    } else {
      const clone = cloneLayer(layer);
      const out = clone.apply(arg, (node.callArgs ?? {}) as tf.serialization.ConfigDict) as tf.SymbolicTensor;
      clone.setWeights(layer.getWeights());
      tensors.set(layer.name, out);
    }
  }
  const outputs = model.outputs.map((o) => {
    const t = tensors.get(o.sourceLayer.name);
    if (!t) throw new OffloadError('internal', `fusing: model output "${o.sourceLayer.name}" was not rebuilt`);
    return t;
  });
  return { model: tf.model({ inputs, outputs, name: model.name }), chains };
}

/** The fused layer of a chain and the weights it gets (kernel·s, folded bias). */
function buildFused(conv: tf.layers.Layer, chain: FoldedChain, folded: tf.layers.Layer[]): { layer: FusedConv2D; weights: tf.Tensor[] } {
  const c = conv.getConfig() as Config;
  const depthwise = conv.getClassName() === 'DepthwiseConv2D';
  const [kernel, convBias] = conv.getWeights() as [tf.Tensor, tf.Tensor | undefined];
  const outShape = conv.inboundNodes[0]!.outputTensors[0]!.shape.slice(1) as number[];
  const channels = outShape[outShape.length - 1]!;
  const scale = new Float64Array(channels).fill(1);
  const bias = new Float64Array(channels);
  if (convBias) bias.set(convBias.dataSync());
  const bn = folded.find((l) => l.getClassName() === 'BatchNormalization');
  const pad = chain.pad === undefined ? undefined : symmetricPad(folded.find((l) => l.name === chain.pad)!);
  if (bn) {
    const bc = bn.getConfig() as Config;
    const w = bn.getWeights();
    // tfjs-layers adds them in this order: gamma (scale), beta (center), moving mean, moving variance
    let i = 0;
    const gamma = bc.scale !== false ? w[i++]!.dataSync() : undefined;
    const beta = bc.center !== false ? w[i++]!.dataSync() : undefined;
    const mean = w[i++]!.dataSync();
    const variance = w[i++]!.dataSync();
    const eps = Number(bc.epsilon ?? 1e-3);
    for (let ch = 0; ch < channels; ch++) {
      const s = (gamma ? gamma[ch]! : 1) / Math.sqrt(variance[ch]! + eps);
      scale[ch] = s;
      bias[ch] = (bias[ch]! - mean[ch]!) * s + (beta ? beta[ch]! : 0);
    }
  }
  // per output channel: the last axis for Conv2D [kh, kw, in, out]; [in, mult] flattened for depthwise [kh, kw, in, mult]
  const scaleShape = depthwise ? kernel.shape.slice(2) : [channels];
  const weights = tf.tidy(() => [
    bn ? tf.mul(kernel, tf.tensor(Float32Array.from(scale), scaleShape, 'float32')) : tf.clone(kernel),
    tf.tensor1d(Float32Array.from(bias), 'float32'),
  ]);
  const layer = new FusedConv2D({
    name: chain.name,
    depthwise,
    strides: pair(c.strides),
    padding: pad !== undefined ? pad : c.padding === 'same' ? 'same' : 'valid',
    dilations: pair(c.dilationRate ?? 1),
    activation: chain.activation,
    kernelShape: kernel.shape,
    outShape,
  });
  return { layer, weights };
}

function pair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && (v.length === 1 || v.length === 2) && v.every((x) => typeof x === 'number')) {
    const [a, b = a] = v as number[];
    return [a!, b!];
  }
  throw new OffloadError('internal', `fusing: cannot read a 2-D stride or dilation from ${JSON.stringify(v)}`);
}

interface FusedConv2DArgs {
  name: string;
  depthwise: boolean;
  strides: [number, number];
  /** 'same', 'valid', or zeros on every side (a folded ZeroPadding2D). */
  padding: 'same' | 'valid' | number;
  dilations: [number, number];
  activation: FusedActivation;
  kernelShape: number[];
  /** Output shape without the batch dimension (the model's shapes are fixed). */
  outShape: number[];
}

/**
 * A convolution (regular or depthwise) with bias and activation in one tfjs
 * fused kernel. Runtime only: it is never serialised (exports and profiles
 * hold the original layers).
 */
export class FusedConv2D extends tf.layers.Layer {
  static readonly className = 'OffloadFusedConv2D';
  readonly fusedArgs: FusedConv2DArgs;

  constructor(args: FusedConv2DArgs) {
    super({ name: args.name, trainable: false });
    this.fusedArgs = args;
  }

  override build(): void {
    const zeros = tf.initializers.zeros();
    this.addWeight('kernel', this.fusedArgs.kernelShape, 'float32', zeros, undefined, false);
    this.addWeight('bias', [this.fusedArgs.outShape[this.fusedArgs.outShape.length - 1]!], 'float32', zeros, undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const batch = (Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape)[0] : inputShape[0]) as number | null;
    return [batch, ...this.fusedArgs.outShape];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const [kernel, bias] = this.weights.map((w) => w.read());
      const { strides, padding, dilations, activation, depthwise } = this.fusedArgs;
      const opts = { x, filter: kernel as tf.Tensor4D, strides, pad: padding, dataFormat: 'NHWC' as const, dilations, bias: bias!, activation };
      return depthwise ? tf.fused.depthwiseConv2d(opts) : tf.fused.conv2d(opts);
    });
  }

  override getClassName(): string {
    return FusedConv2D.className;
  }
}
