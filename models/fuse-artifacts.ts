/**
 * The load-time fusion of models/fuse.ts done on a model's files, before tfjs
 * builds anything: the topology of model.json is rewritten (each foldable
 * chain becomes one {@link FusedConv2D} under the chain's last name; the
 * folded BatchNormalization, activation and ZeroPadding2D layers are gone)
 * and the weights are folded in the downloaded buffer itself (the folded
 * bias written over a slot the chain no longer needs, what is dropped
 * squeezed out). tfjs then builds the fused model once, and each fused
 * kernel is multiplied by its s on the engine ({@link scaleFusedKernels}).
 *
 * Why not fuseModel on the built model, as before: that builds the unfused
 * model, reads the folded layers' weights back out of the engine, and
 * builds a second model, every layer with zero-filled variables that are
 * then overwritten (docs/local-stack.md). Why not fold at export time: cuts, layer indices,
 * manifests, profiles and clients all speak of the original layers, an
 * export's head and tail must keep the cut's semantics, and exports already
 * in buckets must load as they are; the folded form would be a second model
 * format. Here the stored artifact is unchanged and only what tfjs is handed
 * differs.
 *
 * Same chains as fuseModel (one set of rules, models/fuse.ts
 * {@link foldableChains}), same arithmetic ({@link foldedChannels}: s and the
 * bias in float64, W·s as one float32 multiplication per weight), so the
 * fused layers get the same weights. Anything this pass does not handle
 * (a Sequential topology, quantised or non-float32 weights, a weight it
 * cannot find) makes it return undefined: the caller then builds the model
 * and runs fuseModel on it, as before.
 */
import * as tf from './tfjs';
import { OffloadError } from '../core/errors';
import { weightSpecBytes } from '../core/artifact-layout';
import { multiplyInPlace } from './heap-weights';
import {
  FusedConv2D,
  foldableChains,
  foldedChannels,
  fusedConvArgs,
  kernelChannels,
  scaleKernel,
  kernelScaleTensor,
  bnEpsilon,
  type BnStats,
  type Config,
  type FoldedChain,
  type FusedConv2DArgs,
  type RuleLayer,
} from './fuse';

/** What {@link foldModelArtifacts} hands to tfjs instead of the files' own topology and weights. */
export interface FoldedArtifacts {
  modelTopology: object;
  /** The weights of the fused model, back to back from offset 0 of `weightData`. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** The input buffer, rewritten in place, or a new one when the fused weights do not fit in place. */
  weightData: ArrayBuffer;
  chains: FoldedChain[];
  /** Per fused layer with a folded batch norm: the per-output-channel s its kernel is multiplied by once built ({@link scaleFusedKernels}). */
  kernelScales: Map<string, Float32Array>;
}

type Json = Record<string, unknown>;

/** A weight of the input: its spec, its index among the specs, where its bytes are. */
interface Weight {
  index: number;
  spec: tf.io.WeightsManifestEntry;
  src: number;
  bytes: number;
}

interface TopologyLayer {
  name: string;
  class_name: string;
  config: Json;
  inbound_nodes: unknown[];
}

/**
 * Folds the chains of a layers-model topology into fused convolutions, in the
 * topology and in the weights (see the file comment).
 *
 * @param modelTopology model.json's `modelTopology`
 * @param weightSpecs every weight of the model, in the order of the bytes
 * @param weightData one buffer holding those weights back to back from offset 0; it is rewritten in place
 * @returns the fused topology and weights; the inputs themselves when nothing folds; undefined when this
 *   pass does not handle the model (then build it and use fuseModel)
 */
export function foldModelArtifacts(modelTopology: object, weightSpecs: readonly tf.io.WeightsManifestEntry[], weightData: ArrayBuffer): FoldedArtifacts | undefined {
  const plan = planFold(modelTopology, weightSpecs, weightData.byteLength);
  if (!plan) return undefined;
  if (plan.chains.length === 0 || !plan.steps) return { modelTopology, weightSpecs: [...weightSpecs], weightData, chains: [], kernelScales: new Map() };
  const steps = plan.steps;
  const read: ReadWeight = (w) => new Float32Array(weightData, w.src, w.bytes / 4);
  // every folded value is computed before the forward pass below overwrites anything
  const values = steps.map((step) => (step.kind === 'values' ? step.compute(read) : undefined));
  const kernelScales = new Map([...plan.kernelScales].map(([name, s]) => [name, s.compute(read)]));
  // in place, every weight lands at or before where it was read from (the layout only loses bytes): a
  // forward pass reads each value before anything overwrites it. A bias with no slot adds bytes: new buffer.
  const out = plan.grows ? new ArrayBuffer(steps.reduce((s, st) => s + st.bytes, 0)) : weightData;
  let dst = 0;
  for (const [i, step] of steps.entries()) {
    if (step.kind === 'copy') {
      if (out !== weightData || dst !== step.src) copyBytes(weightData, step.src, out, dst, step.bytes);
    } else {
      new Float32Array(out, dst, step.bytes / 4).set(values[i]!);
    }
    dst += step.bytes;
  }
  return { modelTopology: plan.modelTopology, weightSpecs: steps.map((s) => s.spec), weightData: out, chains: plan.chains, kernelScales };
}

/** Where a weight's bytes are in the weight files laid back to back. */
export interface ByteRange {
  src: number;
  bytes: number;
}

/** Reads a float32 weight's values from wherever the bytes are. */
export type ReadWeight = (w: ByteRange) => Float32Array;

/** One weight of the fused model: bytes taken as they are, or values computed from other weights (a folded bias). */
export type FoldStep =
  | { kind: 'copy'; spec: tf.io.WeightsManifestEntry; src: number; bytes: number }
  | { kind: 'values'; spec: tf.io.WeightsManifestEntry; bytes: number; needs: ByteRange[]; compute(read: ReadWeight): Float32Array };

/** The fold of {@link foldModelArtifacts} decided from model.json alone: what each fused weight is made of, before any byte is there. */
export interface FoldPlan {
  modelTopology: object;
  chains: FoldedChain[];
  /** The fused model's weights, in order; undefined when nothing folds and a string weight leaves the byte layout unknown. */
  steps: FoldStep[] | undefined;
  /** Per fused layer with a folded batch norm: its s, computed from the batch norm's vectors. */
  kernelScales: Map<string, { needs: ByteRange[]; compute(read: ReadWeight): Float32Array }>;
  /** A folded bias has no slot to take: the fused weights need more bytes than the files hold. */
  grows: boolean;
}

/**
 * The fold of a layers-model topology as a plan (see {@link foldModelArtifacts},
 * which carries it out on one buffer): undefined when this pass does not handle
 * the model; no chains when nothing folds (every step a copy).
 *
 * @param totalBytes the bytes the weight files hold together (the specs must fit in them)
 */
export function planFold(modelTopology: object, weightSpecs: readonly tf.io.WeightsManifestEntry[], totalBytes: number): FoldPlan | undefined {
  const container = ((modelTopology as Json).model_config ?? modelTopology) as Json;
  if (container.class_name !== 'Model' && container.class_name !== 'Functional') return undefined;
  const config = container.config as Json | undefined;
  const layers = config?.layers;
  if (!Array.isArray(layers) || !layers.every(isTopologyLayer)) return undefined;
  const outputs = outputLayerNames(config!.output_layers);
  const rules = layers.map(ruleLayerOf);
  if (!outputs || rules.some((r) => r === undefined)) return undefined;
  // nothing folds: every weight as it is, each at the offset its spec's size gives (any dtype)
  const unchanged = (): FoldPlan => {
    const steps: FoldStep[] = [];
    let src = 0;
    for (const spec of weightSpecs) {
      const bytes = weightSpecBytes(spec);
      if (bytes === null) return { modelTopology, chains: [], steps: undefined, kernelScales: new Map(), grows: false };
      steps.push({ kind: 'copy', spec, src, bytes });
      src += bytes;
    }
    return { modelTopology, chains: [], steps, kernelScales: new Map(), grows: false };
  };
  // a shared layer (called more than once): fuseModel runs such a model as it is, so does this
  if (layers.some((l) => l.class_name !== 'InputLayer' && l.inbound_nodes.length !== 1)) return unchanged();
  const chains = foldableChains(rules as RuleLayer[], outputs);
  if (chains.length === 0) return unchanged();

  // where each weight is: byte offsets are those of the specs back to back (4-byte values only)
  const at = new Map<string, Weight>();
  /** The weights of each layer (a weight's name is `<layer>/<weight>`). */
  const ofLayer = new Map<string, Weight[]>();
  let offset = 0;
  for (const [index, spec] of weightSpecs.entries()) {
    if (spec.quantization || (spec.dtype !== 'float32' && spec.dtype !== 'int32')) return undefined;
    const bytes = 4 * spec.shape.reduce((a, b) => a * b, 1);
    if (at.has(spec.name)) return undefined;
    const w = { index, spec, src: offset, bytes };
    at.set(spec.name, w);
    const layer = spec.name.slice(0, Math.max(0, spec.name.lastIndexOf('/')));
    ofLayer.set(layer, [...(ofLayer.get(layer) ?? []), w]);
    offset += bytes;
  }
  if (offset > totalBytes) return undefined;


  const byName = new Map(layers.map((l) => [l.name, l]));
  const tsConfig = new Map(rules.map((r) => [r!.name, r!.config()]));
  /** What replaces each weight of a chain, by index in weightSpecs; null = dropped. */
  const replaced = new Map<number, FoldStep | null>();
  /** Folded biases with no slot to take (no conv bias, no batch norm): written after the kernel. */
  const extra = new Map<number, FoldStep>();
  const fusedArgs = new Map<string, FusedConv2DArgs>();
  const kernelScales: FoldPlan['kernelScales'] = new Map();
  for (const chain of chains) {
    const conv = byName.get(chain.conv)!;
    const convConfig = tsConfig.get(chain.conv)!;
    const depthwise = conv.class_name === 'DepthwiseConv2D';
    const kernel = at.get(`${chain.conv}/${depthwise ? 'depthwise_kernel' : 'kernel'}`);
    if (!kernel || kernel.spec.dtype !== 'float32' || kernel.spec.shape.length !== 4) return undefined;
    const args = fusedConvArgs(chain, conv.class_name, convConfig, chain.pad === undefined ? undefined : tsConfig.get(chain.pad), [...kernel.spec.shape]);
    fusedArgs.set(chain.conv, args);
    const channels = kernelChannels(args.kernelShape, depthwise);
    const vector = (name: string) => {
      const w = at.get(name);
      return w && w.spec.dtype === 'float32' && w.bytes === 4 * channels ? w : undefined;
    };
    const claimed = [kernel];
    const convBias = convConfig.useBias !== false ? vector(`${chain.conv}/bias`) : undefined;
    if (convConfig.useBias !== false && !convBias) return undefined;
    if (convBias) claimed.push(convBias);
    const bnName = chain.folded.find((n) => byName.get(n)!.class_name === 'BatchNormalization');
    let bnOf: ((read: ReadWeight) => BnStats) | undefined;
    const bnSlots: Weight[] = [];
    if (bnName !== undefined) {
      const c = tsConfig.get(bnName)!;
      const names = [...(c.scale !== false ? ['gamma'] : []), ...(c.center !== false ? ['beta'] : []), 'moving_mean', 'moving_variance'];
      const ws = names.map((n) => vector(`${bnName}/${n}`));
      if (ws.some((w) => w === undefined)) return undefined;
      const epsilon = bnEpsilon(c);
      bnOf = (read) => {
        const v = new Map(names.map((n, i) => [n, read(ws[i]!)]));
        return { gamma: v.get('gamma'), beta: v.get('beta'), mean: v.get('moving_mean')!, variance: v.get('moving_variance')!, epsilon };
      };
      bnSlots.push(...(ws as Weight[]));
      claimed.push(...bnSlots);
    }
    // every weight of the chain's layers must be one this fold knows what to do with
    for (const layer of [chain.conv, ...chain.folded]) {
      if ((ofLayer.get(layer) ?? []).some((w) => !claimed.includes(w))) return undefined;
    }
    const needs: ByteRange[] = [...(convBias ? [convBias] : []), ...bnSlots].map(({ src, bytes }) => ({ src, bytes }));
    // s and the bias come from one computation: done once per buffer read
    let last: { read: ReadWeight; folded: ReturnType<typeof foldedChannels> } | undefined;
    const fold = (read: ReadWeight) => {
      if (last?.read !== read) last = { read, folded: foldedChannels(channels, convBias ? read(convBias) : undefined, bnOf?.(read)) };
      return last.folded;
    };
    const spec = (suffix: string, shape: number[]): tf.io.WeightsManifestEntry => ({ ...kernel.spec, name: `${chain.name}/${suffix}`, shape, dtype: 'float32' });
    // the kernel goes to tfjs as it is; it is multiplied by s on the engine once built (scaleFusedKernels)
    replaced.set(kernel.index, { kind: 'copy', spec: spec('kernel', args.kernelShape), src: kernel.src, bytes: kernel.bytes });
    if (bnOf) kernelScales.set(chain.name, { needs, compute: (read) => fold(read).scale! });
    const biasStep: FoldStep = { kind: 'values', spec: spec('bias', [channels]), bytes: 4 * channels, needs, compute: (read) => fold(read).bias };
    // the folded bias takes the first slot of its size the chain frees (the conv's bias, else a BN vector)
    const slots = [...(convBias ? [convBias] : []), ...bnSlots];
    for (const [i, w] of slots.entries()) replaced.set(w.index, i === 0 ? biasStep : null);
    if (slots.length === 0) extra.set(kernel.index, biasStep);
  }

  const steps: FoldStep[] = [];
  for (const [index, spec] of weightSpecs.entries()) {
    const w = at.get(spec.name)!;
    const step = replaced.has(index) ? replaced.get(index) : { kind: 'copy' as const, spec, src: w.src, bytes: w.bytes };
    if (step) steps.push(step);
    const after = extra.get(index);
    if (after) steps.push(after);
  }

  const folded = new Set(chains.flatMap((c) => c.folded));
  const byConv = new Map(chains.map((c) => [c.conv, c]));
  const fusedLayers = layers.flatMap((l): TopologyLayer[] => {
    const chain = byConv.get(l.name);
    if (chain) {
      // a folded padding's input is the fused convolution's input
      const source = chain.pad === undefined ? l : byName.get(chain.pad)!;
      return [{ name: chain.name, class_name: 'OffloadFusedConv2D', config: { ...fusedArgs.get(chain.conv)!, trainable: false }, inbound_nodes: source.inbound_nodes }];
    }
    return folded.has(l.name) ? [] : [l];
  });
  const fusedContainer = { ...container, config: { ...config, layers: fusedLayers } };
  const topology = (modelTopology as Json).model_config ? { ...(modelTopology as Json), model_config: fusedContainer } : fusedContainer;
  return { modelTopology: topology, chains, steps, kernelScales, grows: extra.size > 0 };
}

/**
 * The last step of the fold, once tfjs has built the model from
 * {@link foldModelArtifacts}' topology and weights: each fused kernel times
 * its chain's s, on the engine ({@link scaleKernel}, the multiplication
 * fuseModel does), the result taking the variable's place without a copy.
 * In JavaScript the same products take ~3 ns per weight (~100 ms for
 * ResNet-50) on this machine.
 */
export function scaleFusedKernels(model: tf.LayersModel, kernelScales: ReadonlyMap<string, Float32Array>): void {
  for (const [name, scale] of kernelScales) scaleFusedKernel(model.getLayer(name), scale);
}

/**
 * One fused layer's kernel times its s ({@link scaleFusedKernels}). `inPlace`: in the kernel's own engine memory
 * where the engine allows it (models/heap-weights.ts {@link multiplyInPlace}; the same products), before the layer
 * has run.
 */
export function scaleFusedKernel(layer: tf.layers.Layer, scale: Float32Array, inPlace = false): void {
  const kernel = layer instanceof FusedConv2D ? layer.weights[0] : undefined;
  if (!(layer instanceof FusedConv2D) || kernel === undefined) throw new OffloadError('internal', `fusing: "${layer.name}" is not a fused convolution of the built model`);
  if (inPlace) {
    const s = kernelScaleTensor(kernel.shape as number[], scale, layer.fusedArgs.depthwise);
    const done = multiplyInPlace(kernel.read(), s);
    s.dispose();
    if (done) return;
  }
  const scaled = scaleKernel(kernel.read(), scale, layer.fusedArgs.depthwise);
  kernel.write(scaled);
  scaled.dispose();
}

function copyBytes(from: ArrayBuffer, src: number, to: ArrayBuffer, dst: number, bytes: number): void {
  if (from === to) new Uint8Array(to).copyWithin(dst, src, src + bytes);
  else new Uint8Array(to, dst, bytes).set(new Uint8Array(from, src, bytes));
}

function isTopologyLayer(v: unknown): v is TopologyLayer {
  if (typeof v !== 'object' || v === null) return false;
  const l = v as Json;
  return typeof l.name === 'string' && typeof l.class_name === 'string' && typeof l.config === 'object' && l.config !== null && Array.isArray(l.inbound_nodes);
}

/** Keras's inbound node entries: [layer name, node index, tensor index, kwargs]. */
function entryLayer(entry: unknown): string | undefined {
  return Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : undefined;
}

/** The rules' view of a topology layer; undefined for a node format this pass does not read. */
function ruleLayerOf(l: TopologyLayer): RuleLayer | undefined {
  const calls: string[][] = [];
  for (const node of l.inbound_nodes) {
    if (!Array.isArray(node)) return undefined;
    const names = node.map(entryLayer);
    if (names.some((n) => n === undefined)) return undefined;
    calls.push(names as string[]);
  }
  let config: Config | undefined;
  return {
    name: l.name,
    className: l.class_name,
    config: () => (config ??= pythonicToTs(l.config) as Config),
    sole: calls.length === 1,
    inputs: calls.length === 1 ? calls[0]! : [],
    consumes: calls.flat(),
  };
}

function outputLayerNames(v: unknown): Set<string> | undefined {
  if (!Array.isArray(v)) return undefined;
  // [[name, node, tensor], …], or one [name, node, tensor]
  const entries = v.length > 0 && typeof v[0] === 'string' ? [v] : v;
  const names = entries.map(entryLayer);
  return names.every((n) => n !== undefined) ? new Set(names as string[]) : undefined;
}

/**
 * A layer config as tfjs reads it from model.json (tfjs-layers
 * convertPythonicToTs, which is not exported): snake_case keys and string
 * values in camelCase, names left as they are.
 */
function pythonicToTs(v: unknown): unknown {
  if (typeof v === 'string') return camel(v);
  if (Array.isArray(v)) return v.map(pythonicToTs);
  if (typeof v !== 'object' || v === null) return v;
  const out: Json = {};
  for (const [k, value] of Object.entries(v)) out[camel(k)] = k === 'name' && typeof value === 'string' ? value : pythonicToTs(value);
  return out;
}

function camel(s: string): string {
  return s.length <= 1 || !s.includes('_') ? s : s.replace(/[_]+(\w|$)/g, (_m, c: string) => c.toUpperCase());
}
