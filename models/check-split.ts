import * as tf from './tfjs';
import { OffloadError } from '../core/errors';
import { checkCrossing, decodeTensors, encodeTensors, type WireDType, type WireTensor } from '../core/wire';
import { candidateAt, type ModelAnalysis } from './graph';
import { splitModel } from './slice';

/** float32 transport must reproduce the full model to within this absolute difference at every candidate. */
export const FLOAT32_TOLERANCE = 1e-4;

/** Rows whose float32 difference exceeds {@link FLOAT32_TOLERANCE} (NaN counts as exceeding); rows of other dtypes never do. */
export function float32Failures(rows: readonly CheckSplitRow[]): CheckSplitRow[] {
  return rows.filter((r) => r.dtype === 'float32' && !(r.maxAbsDiff <= FLOAT32_TOLERANCE));
}

/** One cut checked by {@link checkSplit}. */
export interface CheckSplitRow {
  cut: number;
  layer: string;
  dtype: WireDType;
  /** max |full − split| over every output element. */
  maxAbsDiff: number;
  /** maxAbsDiff / max |full|: the error relative to the output's scale (0 when the output is all zeros). */
  maxRelDiff: number;
  /** Σ float32 bytes of the crossing tensors (one sample). */
  crossingBytes: number;
  /** Bytes of the encoded wire payload actually sent (one sample, header included). */
  sentBytes: number;
}

/** Options of {@link checkSplit}. */
export interface CheckSplitOptions {
  /** Cuts to check; default every candidate of `analysis`. Each must be a candidate. */
  cuts?: readonly number[];
  /** Payload dtype on the wire; default float32. */
  dtype?: WireDType;
  /** Seed of the uniform [−1, 1) input; default 7. */
  seed?: number;
  /** Called after each cut (for a progress bar). */
  onCut?: (row: CheckSplitRow, done: number, total: number) => void;
}

/**
 * For each cut, runs the full model and head → wire encode → wire decode → tail
 * on the same seeded input (batch 1) and reports how far the split result is
 * from the full model's. Cut 0 sends the raw input through the wire, as a
 * cloud-only request does.
 *
 * @example
 * const rows = await checkSplit(model, analyzeModel(model), { dtype: 'int8' });
 * rows.every((r) => r.maxAbsDiff <= 1e-4);
 */
export async function checkSplit(model: tf.LayersModel, analysis: ModelAnalysis, opts: CheckSplitOptions = {}): Promise<CheckSplitRow[]> {
  const dtype = opts.dtype ?? 'float32';
  const cuts = opts.cuts ?? analysis.candidates.map((c) => c.cut);
  const candidates = cuts.map((cut) => candidateAt(analysis, cut));
  const input = tf.randomUniform([1, ...analysis.inputShape], -1, 1, 'float32', opts.seed ?? 7);
  const expected = model.predict(input) as tf.Tensor;
  const scaleTensor = tf.tidy(() => tf.max(tf.abs(expected)));
  const scale = (await scaleTensor.data())[0]!;
  scaleTensor.dispose();
  const rows: CheckSplitRow[] = [];
  try {
    for (const candidate of candidates) {
      const { head, tail } = splitModel(model, analysis, candidate.cut);
      try {
        const sent = head ? asArray(head.predict(input)) : [input];
        const wire: WireTensor[] = await Promise.all(
          sent.map(async (t, i) => ({ name: candidate.crossing[i]!.name, shape: t.shape, data: (await t.data()) as Float32Array })),
        );
        if (head) tf.dispose(sent);
        const payload = encodeTensors(wire, dtype);
        const received = decodeTensors(payload);
        checkCrossing(received, candidate.crossing);
        const byName = new Map(received.map((t) => [t.name, t]));
        const tailInputs = candidate.crossing.map((c) => {
          const t = byName.get(c.name)!;
          return tf.tensor(t.data, t.shape, 'float32');
        });
        if (!tail) throw new OffloadError('internal', `cut ${candidate.cut} has no tail`);
        const actual = tail.predict(tailInputs.length === 1 ? tailInputs[0]! : tailInputs) as tf.Tensor;
        const diffTensor = tf.tidy(() => tf.max(tf.abs(tf.sub(expected, actual))));
        const diff = (await diffTensor.data())[0]!;
        tf.dispose([...tailInputs, actual, diffTensor]);
        const row: CheckSplitRow = {
          cut: candidate.cut,
          layer: candidate.layer,
          dtype,
          maxAbsDiff: diff,
          maxRelDiff: scale > 0 ? diff / scale : 0,
          crossingBytes: candidate.crossingBytes,
          sentBytes: payload.byteLength,
        };
        rows.push(row);
        opts.onCut?.(row, rows.length, candidates.length);
      } finally {
        head?.dispose();
        tail?.dispose();
      }
    }
  } finally {
    tf.dispose([input, expected]);
  }
  return rows;
}

function asArray(out: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(out) ? out : [out];
}
