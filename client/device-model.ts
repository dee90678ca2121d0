/**
 * The device side of a collaborative inference (Node and browser alike): the whole model held locally,
 * split on demand at the cut the planner chose. The head produces the crossing
 * tensors to send; the tail is kept for finishing on the device when the cloud
 * throttles, fails or times out.
 */
import * as tf from '../models/tfjs';
import type { WireTensor } from '../core/wire';
import { analyzeModel, type ModelAnalysis } from '../models/graph';
import { splitModel, type SplitModel } from '../models/slice';
import { fuseModel, fusionEnabled } from '../models/fuse';

export interface DeviceOutput {
  shape: number[];
  data: Float32Array;
}

export class DeviceModel {
  readonly name: string;
  readonly model: tf.LayersModel;
  readonly analysis: ModelAnalysis;
  private readonly splits = new Map<number, SplitModel>();

  protected constructor(name: string, model: tf.LayersModel, analysis: ModelAnalysis) {
    this.name = name;
    this.model = model;
    this.analysis = analysis;
  }

  /** A model already built (e.g. from downloaded artifacts in a browser), analysed for its cuts. */
  static fromLayersModel(name: string, model: tf.LayersModel, opts: { maxCrossing?: number } = {}): DeviceModel {
    const analysis = analyzeModel(model, { name, ...(opts.maxCrossing === undefined ? {} : { maxCrossing: opts.maxCrossing }) });
    return new DeviceModel(name, model, analysis);
  }

  get layerCount(): number {
    return this.analysis.layers.length;
  }

  /** A reproducible input of the model's shape (batch 1), uniform in [-1, 1). */
  randomInput(seed = 7): tf.Tensor {
    return tf.randomUniform([1, ...this.analysis.inputShape], -1, 1, 'float32', seed);
  }

  /** Runs layers [0, cut) and returns the crossing tensors, named and in crossing order. */
  async runHead(cut: number, input: tf.Tensor): Promise<WireTensor[]> {
    const { head, crossing } = this.split(cut);
    const produced = head ? asArray(head.predict(input)) : [input];
    try {
      return await Promise.all(
        produced.map(async (t, i) => ({ name: crossing[i]!.name, shape: t.shape.slice(), data: (await t.data()) as Float32Array })),
      );
    } finally {
      if (head) tf.dispose(produced);
    }
  }

  /** Runs layers [cut, L) from crossing tensors (any order; matched by name). */
  async runTail(cut: number, tensors: readonly WireTensor[]): Promise<DeviceOutput> {
    const { tail, crossing } = this.split(cut);
    if (!tail) throw new Error(`cut ${cut} is device-only: it has no tail`);
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const inputs = crossing.map((c) => {
      const t = byName.get(c.name);
      if (!t) throw new Error(`crossing tensor ${c.name} is missing`);
      return tf.tensor(t.data, t.shape, 'float32');
    });
    const out = tail.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
    try {
      return { shape: out.shape.slice(), data: (await out.data()) as Float32Array };
    } finally {
      tf.dispose([...inputs, out]);
    }
  }

  /** The whole model on the device. */
  async runAll(input: tf.Tensor): Promise<DeviceOutput> {
    const out = this.model.predict(input) as tf.Tensor;
    try {
      return { shape: out.shape.slice(), data: (await out.data()) as Float32Array };
    } finally {
      out.dispose();
    }
  }

  /**
   * The head and tail at `cut`, batch norm and relu folded into the convolutions
   * as the cloud's tails run them (models/fuse.ts; `OFFLOAD_FUSE=off` keeps every
   * layer): the head's time is then the one its profile measured.
   */
  private split(cut: number): SplitModel {
    let s = this.splits.get(cut);
    if (!s) {
      s = splitModel(this.model, this.analysis, cut);
      if (fusionEnabled()) s = { ...s, head: fused(s.head), tail: fused(s.tail) };
      this.splits.set(cut, s);
    }
    return s;
  }

  dispose(): void {
    for (const s of this.splits.values()) {
      s.head?.dispose();
      s.tail?.dispose();
    }
    this.splits.clear();
    this.model.dispose();
  }
}

/** The fused rebuild of a piece (the unfused piece is disposed: the rebuild shares or replaces its weights). */
function fused(piece: tf.LayersModel | null): tf.LayersModel | null {
  if (!piece) return null;
  const { model } = fuseModel(piece);
  if (model !== piece) piece.dispose();
  return model;
}

function asArray(t: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(t) ? t : [t];
}
