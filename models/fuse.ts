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
 * The fold happens when a model is loaded or split, never on what is
 * exported or profiled as the model's layers: cuts and layer indices stay
 * those of the original model. Two passes, one set of rules
 * ({@link foldableChains}) and one arithmetic ({@link foldedChannels}):
 * {@link fuseModel} rebuilds a built model (the client's head and local tail,
 * profiles); a tail folds its downloaded model.json and weight bytes before
 * tfjs builds anything, so it builds once (models/fuse-artifacts.ts).
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
import { switchOn } from '../core/env-switch';
import { cloneLayer } from './slice';
import { UnsetWeights } from './heap-weights';

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
  return switchOn(env, FUSE_ENV);
}

const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D']);

/** A layer config with tfjs's (camelCase) keys and values, as `layer.getConfig()` returns it. */
export type Config = Record<string, unknown>;

/**
 * A layer as the fold rules see it: read from a built model
 * ({@link findFoldableChains}) or from a model.json topology before tfjs
 * builds anything (models/fuse-artifacts.ts). One set of rules for both, so
 * both fold exactly the same chains.
 */
export interface RuleLayer {
  name: string;
  className: string;
  /** The layer's config, tfjs keys and values (read only for candidate links). */
  config(): Config;
  /** Called exactly once (one inbound node) and producing one tensor. */
  sole: boolean;
  /** The layers feeding the sole call, in order (empty for an input). */
  inputs: readonly string[];
  /** The layers feeding any call, once per use (a tensor used twice counts twice). */
  consumes: readonly string[];
}

/** The fold rules' view of a built model. */
function ruleLayersOf(model: tf.LayersModel): RuleLayer[] {
  return model.layers.map((layer) => {
    const node = sole(layer);
    return {
      name: layer.name,
      className: layer.getClassName(),
      config: () => layer.getConfig() as Config,
      sole: node !== undefined,
      inputs: node ? node.inboundLayers.map((l) => l.name) : [],
      consumes: layer.inboundNodes.flatMap((n) => n.inboundLayers.map((l) => l.name)),
    };
  });
}

/** The fused activation an activation layer amounts to, or undefined when it is not relu/relu6. */
function activationOf(layer: RuleLayer): 'relu' | 'relu6' | undefined {
  if (layer.className === 'Activation') {
    const a = layer.config().activation;
    return a === 'relu' || a === 'relu6' ? a : undefined;
  }
  if (layer.className === 'ReLU') {
    const max = layer.config().maxValue;
    if (max === null || max === undefined) return 'relu';
    return max === 6 ? 'relu6' : undefined;
  }
  return undefined;
}

/** The BN layer's channel axis is the last one (the only layout a conv's per-output-channel fold covers). */
function isChannelsLastBn(layer: RuleLayer, rank: number): boolean {
  if (layer.className !== 'BatchNormalization') return false;
  const axis = layer.config().axis;
  const a = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : undefined) : axis;
  return a === -1 || a === rank - 1;
}

function isFoldableConv(layer: RuleLayer): boolean {
  if (!CONV_CLASSES.has(layer.className)) return false;
  const c = layer.config();
  return c.activation === 'linear' && (c.dataFormat === undefined || c.dataFormat === 'channelsLast');
}

/** The padding of a ZeroPadding2D config that pads p on all four sides (channels last), else undefined. */
export function symmetricPad(className: string, c: Config): number | undefined {
  if (className !== 'ZeroPadding2D') return undefined;
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') return undefined;
  const p = c.padding;
  // p, [height, width] or [[top, bottom], [left, right]]
  const flat = typeof p === 'number' ? [p, p, p, p] : Array.isArray(p) ? (p.every((v) => typeof v === 'number') ? p.flatMap((v) => [v, v]) : (p as unknown[]).flat()) : [];
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
  return foldableChains(ruleLayersOf(model), new Set(model.outputs.map((o) => o.sourceLayer.name)));
}

/** {@link findFoldableChains} on the rules' view of a model: its layers in order and the names of the layers whose output is a model output. */
export function foldableChains(layers: readonly RuleLayer[], outputs: ReadonlySet<string>): FoldedChain[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const consumers = new Map<string, RuleLayer[]>();
  for (const layer of layers) {
    for (const from of layer.consumes) consumers.set(from, [...(consumers.get(from) ?? []), layer]);
  }
  const next = (layer: RuleLayer): RuleLayer | undefined => {
    const cs = consumers.get(layer.name) ?? [];
    if (cs.length !== 1 || outputs.has(layer.name)) return undefined;
    const c = cs[0]!;
    return c.sole && c.inputs.length === 1 ? c : undefined;
  };
  const chains: FoldedChain[] = [];
  for (const conv of layers) {
    if (!conv.sole || !isFoldableConv(conv)) continue;
    const folded: RuleLayer[] = [];
    // a symmetric zero padding feeding only a 'valid' convolution is that convolution's explicit padding
    const before = conv.inputs.length === 1 ? byName.get(conv.inputs[0]!) : undefined;
    const pad = before && conv.config().padding === 'valid' && before.sole && next(before) === conv ? symmetricPad(before.className, before.config()) : undefined;
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
 *
 * A tail loading its artifact folds the downloaded weights before tfjs builds
 * anything instead (models/fuse-artifacts.ts, same chains and weights): this
 * rebuild is for pieces that exist only as built models (the client's head
 * and local tail, profiles).
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

/** A folded batch norm's statistics, as the layer holds them (gamma and beta absent when the layer has `scale`/`center` false). */
export interface BnStats {
  gamma?: ArrayLike<number> | undefined;
  beta?: ArrayLike<number> | undefined;
  mean: ArrayLike<number>;
  variance: ArrayLike<number>;
  epsilon: number;
}

/**
 * What a chain's fused convolution gets per output channel: the float32 factor
 * its kernel is multiplied by (undefined without batch norm) and the folded
 * bias. s and the bias are computed in float64, then rounded once.
 */
export function foldedChannels(channels: number, convBias: ArrayLike<number> | undefined, bn: BnStats | undefined): { scale: Float32Array | undefined; bias: Float32Array } {
  const bias = new Float64Array(channels);
  if (convBias) bias.set(convBias);
  if (!bn) return { scale: undefined, bias: Float32Array.from(bias) };
  const scale = new Float64Array(channels);
  for (let ch = 0; ch < channels; ch++) {
    const s = (bn.gamma ? bn.gamma[ch]! : 1) / Math.sqrt(bn.variance[ch]! + bn.epsilon);
    scale[ch] = s;
    bias[ch] = (bias[ch]! - bn.mean[ch]!) * s + (bn.beta ? bn.beta[ch]! : 0);
  }
  return { scale: Float32Array.from(scale), bias: Float32Array.from(bias) };
}

/** The epsilon of a BatchNormalization config (tfjs's default when absent). */
export function bnEpsilon(c: Config): number {
  return Number(c.epsilon ?? 1e-3);
}

/** Output channels of a kernel: [kh, kw, in, out] → out; depthwise [kh, kw, in, mult] → in·mult. */
export function kernelChannels(kernelShape: readonly number[], depthwise: boolean): number {
  return depthwise ? kernelShape[2]! * kernelShape[3]! : kernelShape[3]!;
}

/** The fused layer's arguments for a chain, from the convolution's config and the folded padding's. */
export function fusedConvArgs(chain: FoldedChain, convClassName: string, conv: Config, padLayer: Config | undefined, kernelShape: number[]): FusedConv2DArgs {
  const pad = padLayer === undefined ? undefined : symmetricPad('ZeroPadding2D', padLayer);
  if (chain.pad !== undefined && pad === undefined) throw new OffloadError('internal', `fusing: the padding "${chain.pad}" of "${chain.conv}" is not symmetric`);
  return {
    name: chain.name,
    depthwise: convClassName === 'DepthwiseConv2D',
    strides: pair(conv.strides),
    padding: pad !== undefined ? pad : conv.padding === 'same' ? 'same' : 'valid',
    dilations: pair(conv.dilationRate ?? 1),
    activation: chain.activation,
    kernelShape,
  };
}

/** The fused layer of a chain and the weights it gets (kernel·s, folded bias). */
function buildFused(conv: tf.layers.Layer, chain: FoldedChain, folded: tf.layers.Layer[]): { layer: FusedConv2D; weights: tf.Tensor[] } {
  const args = fusedConvArgs(
    chain,
    conv.getClassName(),
    conv.getConfig() as Config,
    chain.pad === undefined ? undefined : (folded.find((l) => l.name === chain.pad)!.getConfig() as Config),
    conv.getWeights()[0]!.shape,
  );
  const [kernel, convBias] = conv.getWeights() as [tf.Tensor, tf.Tensor | undefined];
  const channels = kernelChannels(kernel.shape, args.depthwise);
  const bnLayer = folded.find((l) => l.getClassName() === 'BatchNormalization');
  let bn: BnStats | undefined;
  if (bnLayer) {
    const bc = bnLayer.getConfig() as Config;
    const w = bnLayer.getWeights();
    // tfjs-layers adds them in this order: gamma (scale), beta (center), moving mean, moving variance
    let i = 0;
    const gamma = bc.scale !== false ? w[i++]!.dataSync() : undefined;
    const beta = bc.center !== false ? w[i++]!.dataSync() : undefined;
    bn = { gamma, beta, mean: w[i++]!.dataSync(), variance: w[i++]!.dataSync(), epsilon: bnEpsilon(bc) };
  }
  const { scale, bias } = foldedChannels(channels, convBias?.dataSync(), bn);
  const weights = tf.tidy(() => [scale ? scaleKernel(kernel, scale, args.depthwise) : tf.clone(kernel), tf.tensor1d(bias, 'float32')]);
  return { layer: new FusedConv2D(args), weights };
}

/**
 * A kernel times its chain's s ({@link foldedChannels}), on the engine: one
 * float32 product per weight. Per output channel: the last axis for Conv2D
 * [kh, kw, in, out]; [in, mult] flattened for depthwise [kh, kw, in, mult].
 */
export function scaleKernel(kernel: tf.Tensor, scale: Float32Array, depthwise: boolean): tf.Tensor {
  return tf.tidy(() => tf.mul(kernel, kernelScaleTensor(kernel.shape, scale, depthwise)));
}

/** A chain's s as the tensor a kernel of `kernelShape` is multiplied by ({@link scaleKernel}). */
export function kernelScaleTensor(kernelShape: readonly number[], scale: Float32Array, depthwise: boolean): tf.Tensor {
  return tf.tensor(scale, depthwise ? kernelShape.slice(2) : [scale.length], 'float32');
}

/** A regular 1×1 convolution with stride 1 (any padding is none for it): a matrix product over the pixels. */
export function isPointwise(args: Pick<FusedConv2DArgs, 'depthwise' | 'kernelShape' | 'strides' | 'padding'>): boolean {
  const [kh, kw] = args.kernelShape;
  return !args.depthwise && kh === 1 && kw === 1 && args.strides[0] === 1 && args.strides[1] === 1 && (args.padding === 'same' || args.padding === 'valid' || args.padding === 0);
}

function pair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && (v.length === 1 || v.length === 2) && v.every((x) => typeof x === 'number')) {
    const [a, b = a] = v as number[];
    return [a!, b!];
  }
  throw new OffloadError('internal', `fusing: cannot read a 2-D stride or dilation from ${JSON.stringify(v)}`);
}

/** A fused convolution's configuration (also its serialised config: every key is one word or camelCase, which tfjs's snake_case conversion leaves as it is). */
export interface FusedConv2DArgs {
  name: string;
  depthwise: boolean;
  strides: [number, number];
  /** 'same', 'valid', or zeros on every side (a folded ZeroPadding2D). */
  padding: 'same' | 'valid' | number;
  dilations: [number, number];
  activation: FusedActivation;
  /** [kh, kw, in, out]; depthwise [kh, kw, in, multiplier]. */
  kernelShape: number[];
}

/**
 * A convolution (regular or depthwise) with bias and activation in one tfjs
 * fused kernel. Runtime only: exports and profiles hold the original layers.
 * It is registered with tfjs's serialisation so that a tail can put it in the
 * topology it hands to tfjs after folding the downloaded weights
 * (models/fuse-artifacts.ts), and tfjs builds the fused model directly.
 */
export class FusedConv2D extends tf.layers.Layer {
  static readonly className = 'OffloadFusedConv2D';
  readonly fusedArgs: FusedConv2DArgs;
  /** Build the weights on memory nothing writes (models/heap-weights.ts): the streamed load writes them before the layer runs. */
  private readonly unsetWeights: boolean;

  /** `unsetWeights` only from a streamed load's topology; it is not part of the layer's config. */
  constructor(args: FusedConv2DArgs & { unsetWeights?: boolean }) {
    super({ name: args.name, trainable: false });
    this.unsetWeights = args.unsetWeights === true;
    this.fusedArgs = {
      name: args.name,
      depthwise: args.depthwise,
      strides: args.strides,
      padding: args.padding,
      dilations: args.dilations,
      activation: args.activation,
      kernelShape: args.kernelShape,
    };
  }

  override build(): void {
    const init = this.unsetWeights ? new UnsetWeights() : tf.initializers.zeros();
    const { kernelShape, depthwise } = this.fusedArgs;
    this.addWeight('kernel', kernelShape, 'float32', init, undefined, false);
    this.addWeight('bias', [kernelChannels(kernelShape, depthwise)], 'float32', init, undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const [batch, h, w, c] = shape;
    const { kernelShape, strides, dilations, padding, depthwise } = this.fusedArgs;
    // the same arithmetic as the kernel's own (an unknown height or width stays unknown)
    const info = tf.backend_util.computeConv2DInfo([1, h ?? 1, w ?? 1, c!], kernelShape as [number, number, number, number], strides, dilations, padding, undefined, depthwise);
    return [batch ?? null, h == null ? null : info.outHeight, w == null ? null : info.outWidth, info.outChannels];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const [kernel, bias] = this.weights.map((w) => w.read());
      const { strides, padding, dilations, activation, depthwise, kernelShape } = this.fusedArgs;
      if (isPointwise(this.fusedArgs) && tf.getBackend() === 'wasm') {
        // A 1×1 convolution with stride 1 is a matrix product over the pixels. On the wasm engine the product's
        // XNNPACK operator is created (its weights packed) in ~60 % of the convolution's time: tfjs-backend-wasm
        // transposes a convolution's filter into a new buffer first, one strided write per weight, and packs that
        // (conv2d_impl.cc), while XNNPACK packs a product's weights as they are (batch_mat_mul_impl.cc). That
        // creation is the bulk of a tail's per-MiB cold start (docs/local-stack.md). Same kernels, same products:
        // outputs bit-identical, runs as fast (test/models/fuse.test.ts). Reshapes share the tensors' memory.
        const [n, h, w, c] = x.shape;
        const out = kernelShape[3]!;
        const a = tf.reshape(x, [n * h * w, c]) as tf.Tensor2D;
        const y = tf.fused.matMul({ a, b: tf.reshape(kernel!, [c, out]) as tf.Tensor2D, bias: bias!, activation });
        return tf.reshape(y, [n, h, w, out]);
      }
      const opts = { x, filter: kernel as tf.Tensor4D, strides, pad: padding, dataFormat: 'NHWC' as const, dilations, bias: bias!, activation };
      return depthwise ? tf.fused.depthwiseConv2d(opts) : tf.fused.conv2d(opts);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.fusedArgs, trainable: false };
  }

  override getClassName(): string {
    return FusedConv2D.className;
  }
}
tf.serialization.registerClass(FusedConv2D);
