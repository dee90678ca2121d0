/**
 * Per-layer time predictor, in the spirit of Neurosurgeon's per-layer-type
 * regressions: fitted on layers measured on this machine, it predicts a
 * layer's time on a device described by two numbers (effective GMAC/s and
 * memory bandwidth GB/s).
 *
 * The model, per layer group g (convolution, 1×1 convolution, depthwise,
 * dense, pooling, element-wise, concatenation, reshaping):
 *
 * ```
 * t_host(l)   = a_g · GMAC(l) + b_g · activationMB(l) + c_g · weightMB(l) + d_g
 * t_device(l) = a_g · GMAC(l) · S_host/S_device
 *             + (b_g · activationMB(l) + c_g · weightMB(l)) · B_host/B_device
 *             + o_device
 * ```
 *
 * a roofline made additive: a compute term (ms per GMAC: the inverse of the
 * group's effective throughput here), a memory term for activations read and
 * written and one for weights read once, and a fixed per-call overhead. The
 * coefficients are fitted by non-negative least squares on RELATIVE error
 * (each row divided by its measured time), so a 0.05 ms layer counts as much
 * as a 200 ms one, and no term can turn negative and "save" time. Groups with
 * fewer measured layers than {@link MIN_GROUP_SAMPLES} use a fit over all layers.
 *
 * The machine numbers: S is the effective dense-convolution throughput
 * (GMAC/s); for this machine it is read off the fit (1 / a of the 1×1
 * convolutions, the bulk of modern CNNs' MACs), for a device it comes from a
 * published latency of a convolution-dominated network. B is the memory
 * bandwidth. The per-call overhead o is the runtime's, not the chip's: tfjs
 * pays tenths of a millisecond per layer here, a native runtime on a phone
 * a few microseconds, so the device gives its own (`overheadMs`); without
 * one the host overhead is scaled like compute.
 *
 * Scaling assumes each group's efficiency relative to dense convolution
 * carries over to the device (Neurosurgeon's assumption as well). That is the
 * weakest link: docs/profiles.md reports the held-out error on this machine
 * and a cross-device check against published latencies of a second network.
 */

/** Layer groups that get their own coefficients. */
export const LAYER_GROUPS = [
  'conv',
  'conv1x1',
  'depthwise',
  'dense',
  'pool',
  'globalpool',
  'batchnorm',
  'activation',
  'activation-other',
  'add',
  'concat',
  'pad',
  'reshape',
  'other',
] as const;
export type LayerGroup = (typeof LAYER_GROUPS)[number];

/**
 * Groups a native mobile runtime folds into the neighbouring convolution:
 * TFLite folds batch normalisation into the convolution's weights, and
 * XNNPACK fuses activations (clamps) and explicit padding into the
 * convolution operator. On a device with `fusesElementwise` they cost nothing.
 */
export const FUSED_GROUPS: ReadonlySet<LayerGroup> = new Set<LayerGroup>(['batchnorm', 'activation', 'activation-other', 'pad']);

/** What the predictor needs to know about a layer (a `LayerProfile` has all of it). */
export interface LayerFeatures {
  className: string;
  kernel?: number[] | undefined;
  /** The layer's activation function when it has one ('relu', 'relu6', …). */
  activation?: string | undefined;
  /** Multiply-adds. */
  flops: number;
  inputBytes: number;
  outputBytes: number;
  weightBytes: number;
}

/** A measured layer: features plus its time, ms. */
export interface MeasuredLayer extends LayerFeatures {
  ms: number;
}

/** The speed of a machine, in the predictor's few numbers. */
export interface MachineSpeed {
  /** Effective dense-convolution throughput, billions of multiply-adds per second. */
  gmacPerSecond: number;
  /** Memory bandwidth, GB/s. */
  memGBps: number;
  /** Per-layer runtime overhead, ms; when absent the host's fitted overhead is scaled like compute. */
  overheadMs?: number;
  /** The runtime folds batch norm, activations and padding into convolutions ({@link FUSED_GROUPS} cost 0). */
  fusesElementwise?: boolean;
}

/** Fitted coefficients of one group. */
export interface GroupFit {
  /** ms per billion MACs. */
  msPerGmac: number;
  /** ms per MB (1e6 bytes) of activations read and written. */
  msPerActivationMB: number;
  /** ms per MB of weights. */
  msPerWeightMB: number;
  /** ms per call. */
  overheadMs: number;
  /** Layers the fit used (0 for a group that falls back to the pooled fit). */
  samples: number;
}

/** A fitted predictor: coefficients per group plus the speed of the machine they were measured on. */
export interface Predictor {
  host: MachineSpeed;
  groups: Record<LayerGroup, GroupFit>;
  pooled: GroupFit;
}

const ACTIVATIONS = new Set(['Activation', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax']);
const MERGE = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum']);
const POOL = new Set(['MaxPooling1D', 'AveragePooling1D', 'MaxPooling2D', 'AveragePooling2D', 'MaxPooling3D', 'AveragePooling3D']);
const GLOBAL_POOL = new Set(['GlobalAveragePooling1D', 'GlobalMaxPooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D']);
const RESHAPE = new Set(['Flatten', 'Reshape', 'Permute', 'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);
const PAD = new Set(['ZeroPadding2D', 'Cropping2D']);
/** Activation functions tfjs-wasm runs as one cheap kernel; others (relu6 measured ~4× slower per element here) get their own group. */
const CHEAP_ACTIVATIONS = new Set([undefined, 'relu', 'linear']);

/** The group whose coefficients predict a layer of this class. */
export function layerGroup(layer: Pick<LayerFeatures, 'className' | 'kernel' | 'activation'>): LayerGroup {
  const c = layer.className;
  if (c === 'Conv2D' || c === 'Conv1D' || c === 'Conv3D' || c === 'SeparableConv2D' || c === 'Conv2DTranspose') {
    const k = layer.kernel;
    return k && k.length > 0 && k.every((v) => v === 1) ? 'conv1x1' : 'conv';
  }
  if (c === 'DepthwiseConv2D') return 'depthwise';
  if (c === 'Dense') return 'dense';
  if (POOL.has(c)) return 'pool';
  if (GLOBAL_POOL.has(c)) return 'globalpool';
  if (c === 'BatchNormalization' || c === 'LayerNormalization') return 'batchnorm';
  if (ACTIVATIONS.has(c)) return c === 'Activation' && !CHEAP_ACTIVATIONS.has(layer.activation) ? 'activation-other' : 'activation';
  if (MERGE.has(c)) return 'add';
  if (c === 'Concatenate') return 'concat';
  if (PAD.has(c)) return 'pad';
  if (RESHAPE.has(c)) return 'reshape';
  return 'other';
}

/** The regressors of a layer: [GMAC, activation MB, weight MB, 1]. */
export function layerRegressors(l: LayerFeatures): [number, number, number, number] {
  return [l.flops / 1e9, (l.inputBytes + l.outputBytes) / 1e6, l.weightBytes / 1e6, 1];
}

/**
 * Non-negative least squares for a handful of columns: minimises ‖Xβ − y‖²
 * subject to β ≥ 0, with optional row weights. Exact: the optimum is the
 * unconstrained least-squares solution on its own support, so the best
 * non-negative solution over every subset of columns is the answer (2^k
 * subsets; k ≤ 6 here).
 *
 * @returns β, one entry per column (0 for the columns left out)
 */
export function nnls(X: readonly (readonly number[])[], y: readonly number[], weights?: readonly number[]): number[] {
  const n = X.length;
  const k = X[0]?.length ?? 0;
  if (n === 0 || k === 0) return new Array<number>(k).fill(0);
  if (k > 12) throw new RangeError('nnls: at most 12 columns');
  let best: number[] = new Array<number>(k).fill(0);
  let bestSse = sse(X, y, best, weights);
  for (let mask = 1; mask < 1 << k; mask++) {
    const cols: number[] = [];
    for (let j = 0; j < k; j++) if (mask & (1 << j)) cols.push(j);
    const sub = leastSquares(X, y, cols, weights);
    if (!sub || sub.some((b) => !(b >= 0))) continue;
    const beta = new Array<number>(k).fill(0);
    cols.forEach((j, i) => (beta[j] = sub[i]!));
    const e = sse(X, y, beta, weights);
    if (e < bestSse * (1 - 1e-12)) {
      bestSse = e;
      best = beta;
    }
  }
  return best;
}

function sse(X: readonly (readonly number[])[], y: readonly number[], beta: readonly number[], w?: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < X.length; i++) {
    let r = -y[i]!;
    for (let j = 0; j < beta.length; j++) r += X[i]![j]! * beta[j]!;
    s += (w ? w[i]! * w[i]! : 1) * r * r;
  }
  return s;
}

/** Weighted least squares on the given columns via the normal equations; null when singular. */
function leastSquares(X: readonly (readonly number[])[], y: readonly number[], cols: readonly number[], w?: readonly number[]): number[] | null {
  const m = cols.length;
  const A = Array.from({ length: m }, () => new Array<number>(m + 1).fill(0));
  for (let i = 0; i < X.length; i++) {
    const wi = w ? w[i]! * w[i]! : 1;
    const row = X[i]!;
    for (let a = 0; a < m; a++) {
      const xa = row[cols[a]!]!;
      if (xa === 0) continue;
      for (let b = 0; b < m; b++) A[a]![b]! += wi * xa * row[cols[b]!]!;
      A[a]![m]! += wi * xa * y[i]!;
    }
  }
  // Gaussian elimination with partial pivoting, scaled by the diagonal so columns of very different magnitudes stay comparable.
  const scale = A.map((r, i) => Math.sqrt(Math.abs(r[i]!)) || 1);
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) A[a]![b]! /= scale[a]! * scale[b]!;
    A[a]![m]! /= scale[a]!;
  }
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[p]![c]!)) p = r;
    if (Math.abs(A[p]![c]!) < 1e-12) return null;
    [A[c], A[p]] = [A[p]!, A[c]!];
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / A[c]![c]!;
      if (f === 0) continue;
      for (let j = c; j <= m; j++) A[r]![j]! -= f * A[c]![j]!;
    }
  }
  return A.map((r, i) => r[m]! / r[i]! / scale[i]!);
}

/**
 * Groups whose layers do one multiply-add per weight or per element at batch
 * one (matrix-vector products, element-wise ops): their MACs are proportional
 * to the bytes they move, so the fit cannot tell compute from memory, and the
 * roofline says memory. Their compute column is left out.
 */
export const MEMORY_BOUND_GROUPS: ReadonlySet<LayerGroup> = new Set<LayerGroup>(['dense', 'batchnorm', 'activation', 'activation-other', 'add']);

function fitGroup(layers: readonly MeasuredLayer[], memoryBound = false): GroupFit {
  const rows = layers.filter((l) => l.ms > 0);
  const X = rows.map((l) => {
    const x = layerRegressors(l);
    if (memoryBound) x[0] = 0;
    return x;
  });
  const y = rows.map((l) => l.ms);
  // Relative error: each row weighted by 1/measured time.
  const w = rows.map((l) => 1 / l.ms);
  const [a, b, c, d] = nnls(X, y, w) as [number, number, number, number];
  // Least squares on relative error leans low (an over-prediction by x costs
  // as much as an under-prediction by x, but only the latter is bounded by
  // 100 %); rescale so that the median predicted/measured ratio is 1.
  const ratios = X.map((x, i) => (a * x[0]! + b * x[1]! + c * x[2]! + d) / y[i]!);
  const m = quantile(ratios, 0.5);
  const k = m > 0 && Number.isFinite(m) ? 1 / m : 1;
  return { msPerGmac: a * k, msPerActivationMB: b * k, msPerWeightMB: c * k, overheadMs: d * k, samples: rows.length };
}

/** Fewer measured layers than this in a group → the group uses the pooled fit. */
export const MIN_GROUP_SAMPLES = 4;

/**
 * Fits the predictor on layers measured on one machine whose memory
 * bandwidth is `hostMemGBps`; its dense-convolution throughput is read off the
 * fit (see {@link convThroughput}).
 *
 * @example
 * const p = fitPredictor(profiles.flatMap((p) => p.layers), profile.machine.memGBps);
 * predictLayerMs(p, layer, DEVICE_PROFILES['flagship-phone']);
 */
export function fitPredictor(layers: readonly MeasuredLayer[], hostMemGBps: number): Predictor {
  const pooled = fitGroup(layers);
  const byGroup = new Map<LayerGroup, MeasuredLayer[]>();
  for (const l of layers) {
    const g = layerGroup(l);
    const list = byGroup.get(g) ?? [];
    list.push(l);
    byGroup.set(g, list);
  }
  const groups = {} as Record<LayerGroup, GroupFit>;
  for (const g of LAYER_GROUPS) {
    const list = byGroup.get(g) ?? [];
    groups[g] = list.filter((l) => l.ms > 0).length >= MIN_GROUP_SAMPLES ? fitGroup(list, MEMORY_BOUND_GROUPS.has(g)) : { ...pooled, samples: 0 };
  }
  return { host: { gmacPerSecond: convThroughput(groups, pooled), memGBps: hostMemGBps }, groups, pooled };
}

/**
 * Effective dense-convolution throughput of the fitted machine, GMAC/s:
 * 1000 / (ms per GMAC) of the 1×1 convolutions, else of all convolutions,
 * else of the pooled fit.
 */
export function convThroughput(groups: Record<LayerGroup, GroupFit>, pooled: GroupFit): number {
  for (const g of [groups.conv1x1, groups.conv, pooled]) {
    if (g.samples > 0 && g.msPerGmac > 0) return 1000 / g.msPerGmac;
  }
  return pooled.msPerGmac > 0 ? 1000 / pooled.msPerGmac : 1;
}

/** The three parts of a predicted time on the host, ms. */
export function hostTerms(p: Predictor, layer: LayerFeatures): { computeMs: number; memoryMs: number; overheadMs: number } {
  const g = p.groups[layerGroup(layer)];
  const [gmac, actMB, wMB] = layerRegressors(layer);
  return { computeMs: g.msPerGmac * gmac, memoryMs: g.msPerActivationMB * actMB + g.msPerWeightMB * wMB, overheadMs: g.overheadMs };
}

function ratios(p: Predictor, target: MachineSpeed): { compute: number; memory: number } {
  if (!(target.gmacPerSecond > 0) || !(target.memGBps > 0)) throw new RangeError('target speed must be positive');
  return { compute: p.host.gmacPerSecond / target.gmacPerSecond, memory: p.host.memGBps / target.memGBps };
}

/**
 * Predicted time of `layer` on `target` (default: the host it was fitted on), ms.
 * @throws RangeError when the target's numbers are not positive
 */
export function predictLayerMs(p: Predictor, layer: LayerFeatures, target: MachineSpeed = p.host): number {
  if (target.fusesElementwise && FUSED_GROUPS.has(layerGroup(layer))) return 0;
  const r = ratios(p, target);
  const { computeMs, memoryMs, overheadMs } = hostTerms(p, layer);
  const overhead = target.overheadMs ?? overheadMs * r.compute;
  return computeMs * r.compute + memoryMs * r.memory + overhead;
}

/**
 * Time of a MEASURED layer on `target`: the measurement split into compute,
 * memory and overhead in the proportions the fit predicts for it, each part
 * scaled to the target (the overhead replaced by the target's own). Keeps
 * what the measurement knows about this very layer (the regression's
 * residual) and takes from the regression only how its time divides.
 */
export function scaleMeasuredMs(p: Predictor, layer: MeasuredLayer, target: MachineSpeed): number {
  if (target.fusesElementwise && FUSED_GROUPS.has(layerGroup(layer))) return 0;
  const r = ratios(p, target);
  const { computeMs, memoryMs, overheadMs } = hostTerms(p, layer);
  const total = computeMs + memoryMs + overheadMs;
  if (!(total > 0)) return layer.ms * r.compute;
  const overhead = target.overheadMs ?? layer.ms * (overheadMs / total) * r.compute;
  return layer.ms * ((computeMs / total) * r.compute + (memoryMs / total) * r.memory) + overhead;
}

/** |predicted − measured| / measured for each layer with a measured time > 0. */
export function relativeErrors(p: Predictor, layers: readonly MeasuredLayer[]): number[] {
  return layers.filter((l) => l.ms > 0).map((l) => Math.abs(predictLayerMs(p, l) - l.ms) / l.ms);
}

/** The q-quantile (0..1) of `xs` by linear interpolation; NaN for an empty list. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Held-out error of one split. */
export interface HeldOutError {
  heldOut: string;
  layers: number;
  medianRelError: number;
  p90RelError: number;
  /** Σ predicted / Σ measured − 1 over the held-out model's layers. */
  totalRelError: number;
}

/**
 * Leave-one-model-out evaluation: for each model, fit on the others' layers
 * and measure the relative error on its own.
 */
export function leaveOneModelOut(models: readonly { name: string; layers: readonly MeasuredLayer[] }[], hostMemGBps: number): {
  perModel: HeldOutError[];
  all: { layers: number; medianRelError: number; p90RelError: number };
} {
  const perModel: HeldOutError[] = [];
  const allErrors: number[] = [];
  for (const m of models) {
    const train = models.filter((o) => o !== m).flatMap((o) => o.layers);
    const p = fitPredictor(train, hostMemGBps);
    const errs = relativeErrors(p, m.layers);
    allErrors.push(...errs);
    const measured = m.layers.reduce((s, l) => s + l.ms, 0);
    const predicted = m.layers.reduce((s, l) => s + predictLayerMs(p, l), 0);
    perModel.push({
      heldOut: m.name,
      layers: errs.length,
      medianRelError: quantile(errs, 0.5),
      p90RelError: quantile(errs, 0.9),
      totalRelError: measured > 0 ? predicted / measured - 1 : NaN,
    });
  }
  return { perModel, all: { layers: allErrors.length, medianRelError: quantile(allErrors, 0.5), p90RelError: quantile(allErrors, 0.9) } };
}
