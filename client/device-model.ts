/**
 * The device side of a collaborative inference (Node and browser alike): the whole model held locally,
 * split on demand at the cut the planner chose. The head produces the crossing
 * tensors to send; the tail is kept for finishing on the device when the cloud
 * throttles, fails or times out.
 */
import * as tf from '../models/tfjs';
import type { WireTensor } from '../core/wire';
import { isOffloadError, OffloadError } from '../core/errors';
import { analyzeModel, candidateAt, type ModelAnalysis } from '../models/graph';
import { segmentModel, splitModel, type SplitModel } from '../models/slice';
import { fuseModel, fusionEnabled } from '../models/fuse';

export interface DeviceOutput {
  shape: number[];
  data: Float32Array;
}

/** What {@link DeviceModel.runAhead} ended with: the crossing tensors at the cut it was given, or the whole model's output. */
export type AheadResult = (
  | { cut: number; crossing: WireTensor[]; output?: undefined }
  /** The whole model ran (the cut was L, or the model was done before the cut was known: `cut` is L either way). */
  | { cut: number; output: DeviceOutput; crossing?: undefined }
) & {
  /** The last layer computed (exclusive): past `cut` when the cut came after the head had passed it. */
  computedTo: number;
  /** From the call to the layers before `cut` done (the whole model at L), ms. */
  headMs: number;
  /** From the call to the crossing tensors (or the output) ready to use: the later of `headMs` and the cut known, ms. */
  readyMs: number;
};

/** {@link DeviceModel.runAhead} runs at most 1/this of a model's FLOPs between looks at whether the plan has come. */
export const AHEAD_CHUNKS = 8;

/** A piece of a head run ahead of its plan: the layers [from, to), giving the crossing tensors at `to`. */
interface Chunk {
  from: number;
  to: number;
  model: tf.LayersModel;
}

/** Lets pending I/O callbacks run (a plan's answer), without the ≥ 1 ms of a timer: setImmediate, or a message in a browser. */
function yieldToEvents(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  return new Promise((r) => {
    const channel = new MessageChannel();
    // The DOM's port (this branch runs in browsers only: Node has setImmediate).
    const port = channel.port1 as unknown as { onmessage: (() => void) | null; close(): void };
    port.onmessage = () => {
      port.close();
      r();
    };
    channel.port2.postMessage(0);
  });
}

export class DeviceModel {
  readonly name: string;
  readonly model: tf.LayersModel;
  readonly analysis: ModelAnalysis;
  private readonly splits = new Map<number, SplitModel>();
  /** The model in chunks for {@link runAhead}, by the cuts kept (built on first use); null when it cannot be cut so. */
  private readonly chunks = new Map<string, Chunk[] | null>();
  /** Pieces of {@link runAhead} that end at a cut inside a chunk. */
  private readonly pieces = new Map<string, Chunk | null>();

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

  /**
   * Builds now the chunks {@link runAhead} will use for `keep` (else built at its first call). The build is
   * synchronous and takes a while (ResNet-50: ~200 ms on an Intel Xeon, 2026-12-01): inside a request it holds the
   * event loop, so a plan that came in a few ms is read only after it and the request counts the build as waiting
   * for its plan. A client calls this before its first request with the cuts it will keep.
   * Returns whether the model can be run ahead so (false: runAhead waits for the cut, then runs the head).
   */
  prepareAhead(keep?: readonly number[]): boolean {
    return this.segmentsOf(keep) !== null;
  }

  /**
   * Runs the model from layer 0 before the cut is known (a device that asks for its plan and computes meanwhile).
   * Every layer run is in the head of every cut, so nothing is lost: it runs the model in chunks, keeping the
   * crossing tensors at each cut of `keep` it passes (default every candidate; a client passes the cuts its plans
   * can choose: the deployed ones), each chunk at most 1/{@link AHEAD_CHUNKS} of the FLOPs, and between chunks lets
   * the event loop run so that `cut` can settle. Once it has: at a cut not reached yet it goes on to it; at a cut
   * passed it returns the crossing tensors kept there (a cut below what was computed wastes only the layers past
   * it; one passed but not kept runs the head again); at L it goes on to the end. When the whole model is done
   * before `cut` settles, its output is the answer (cut L). A plan that comes mid-chunk is seen at the chunk's end.
   * The crossing tensors are the head's at that cut up to float rounding (each chunk built as {@link runHead}'s
   * head is, batch norm and relu folded in where they fall inside one chunk). A model whose cuts cannot be run so
   * (a tensor crossing two consecutive candidates) waits for `cut`, then runs the head. A rejected `cut` rejects.
   */
  async runAhead(input: tf.Tensor, cut: Promise<number>, opts: { keep?: readonly number[] } = {}): Promise<AheadResult> {
    const L = this.layerCount;
    const t0 = performance.now();
    let known: { cut: number } | { error: unknown } | undefined;
    const settled = cut.then(
      (c) => void (known = { cut: c }),
      (error: unknown) => void (known = { error }),
    );
    const segments = this.segmentsOf(opts.keep);
    const decided = async (): Promise<number> => {
      await settled;
      if (known && 'error' in known) throw known.error;
      return (known as { cut: number }).cut;
    };
    if (!segments) {
      const c = await decided();
      const h0 = performance.now() - t0;
      const done = c === L ? { cut: L, output: await this.runAll(input) } : { cut: c, crossing: await this.runHead(c, input) };
      const end = performance.now() - t0;
      return { ...done, computedTo: c, headMs: end - h0, readyMs: end };
    }
    // The crossing tensors at each candidate passed (cut 0: the input, which the caller owns).
    const kept = new Map<number, tf.Tensor[]>([[0, [input]]]);
    /** When the layers before each candidate passed were done, ms from the call. */
    const reached = new Map<number, number>([[0, 0]]);
    let at = 0;
    let target: number | undefined;
    try {
      const next = new Map(segments.map((c) => [c.from, c]));
      while (at < L) {
        if (target === undefined) {
          // Let the plan's answer in (I/O and its parsing run between chunks).
          await yieldToEvents();
          if (known && 'error' in known) throw known.error;
          if (known) target = known.cut;
        }
        if (target !== undefined && target !== L && target <= at) break;
        let chunk = next.get(at)!;
        // A cut ahead inside the next chunk, not kept by it: a piece that ends there.
        if (target !== undefined && target !== L && target < chunk.to) chunk = this.pieceTo(at, target) ?? chunk;
        const from = kept.get(at)!;
        const produced = chunk.model.predict(from.length === 1 ? from[0]! : from);
        kept.set(chunk.to, Array.isArray(produced) ? produced : [produced]);
        reached.set(chunk.to, performance.now() - t0);
        at = chunk.to;
      }
      if (at === L && (target === undefined || target === L)) {
        const out = kept.get(L)![0]!;
        const data = (await out.data()) as Float32Array;
        const end = performance.now() - t0;
        return { cut: L, output: { shape: out.shape.slice(), data }, computedTo: L, headMs: end, readyMs: end };
      }
      const c = target ?? (await decided());
      const readyMs = performance.now() - t0;
      if (c === L) throw new Error('unreachable: a device-only cut runs to the end');
      const names = candidateAt(this.analysis, c).crossing;
      const tensors = kept.get(c);
      if (!tensors) {
        // Passed without being kept (not in `keep`): the head again, from the input.
        const h0 = performance.now() - t0;
        const crossing = await this.runHead(c, input);
        const end = performance.now() - t0;
        return { cut: c, crossing, computedTo: at, headMs: end - h0, readyMs: end };
      }
      const crossing = await Promise.all(tensors.map(async (t, i) => ({ name: names[i]!.name, shape: t.shape.slice(), data: (await t.data()) as Float32Array })));
      return { cut: c, crossing, computedTo: at, headMs: reached.get(c)!, readyMs };
    } finally {
      // Never the caller's input (kept at cut 0).
      for (const [c, ts] of kept) if (c !== 0) tf.dispose(ts);
    }
  }

  /**
   * The chunks of {@link runAhead}: pieces from one candidate to the next cut in `keep` (default every candidate),
   * split further at candidates so that none has more than 1/{@link AHEAD_CHUNKS} of the FLOPs, each giving the
   * crossing tensors at its end; fused as the split pieces are. Null when the model cannot be cut so (a tensor
   * crossing consecutive candidates).
   */
  private segmentsOf(keep: readonly number[] | undefined): Chunk[] | null {
    const L = this.layerCount;
    const candidates = this.analysis.candidates.map((c) => c.cut);
    const kept = keep ? candidates.filter((c) => keep.includes(c)) : candidates;
    const key = kept.join(',');
    if (this.chunks.has(key)) return this.chunks.get(key)!;
    const cuts = [...candidates.filter((c) => c > 0), L].sort((a, b) => a - b);
    const flopsBefore = [0];
    for (const layer of this.analysis.layers) flopsBefore.push(flopsBefore[flopsBefore.length - 1]! + layer.flops);
    const step = flopsBefore[L]! / AHEAD_CHUNKS;
    const built: Chunk[] = [];
    let result: Chunk[] | null = built;
    try {
      let from = 0;
      for (const c of cuts) {
        if (c !== L && !kept.includes(c) && flopsBefore[c]! - flopsBefore[from]! < step) continue;
        built.push(this.piece(from, c));
        from = c;
      }
    } catch (e) {
      for (const b of built) b.model.dispose();
      if (!isOffloadError(e)) throw e;
      result = null;
    }
    this.chunks.set(key, result);
    return result;
  }

  /** The layers [from, to) as a fused chunk giving the crossing tensors at `to` (the output at L). */
  private piece(from: number, to: number): Chunk {
    const model = segmentModel(this.model, this.analysis, from, to);
    return { from, to, model: fusionEnabled() ? fused(model)! : model };
  }

  /** A chunk from `from` to exactly `to` (kept for reuse), or null when the model cannot be cut so. */
  private pieceTo(from: number, to: number): Chunk | null {
    const key = `${from}-${to}`;
    if (!this.pieces.has(key)) {
      try {
        this.pieces.set(key, this.piece(from, to));
      } catch (e) {
        if (!isOffloadError(e)) throw e;
        this.pieces.set(key, null);
      }
    }
    return this.pieces.get(key)!;
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
    for (const chunks of this.chunks.values()) for (const c of chunks ?? []) c.model.dispose();
    for (const p of this.pieces.values()) p?.model.dispose();
    this.chunks.clear();
    this.pieces.clear();
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
