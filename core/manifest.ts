import * as z from 'zod';
import { parseWith } from './validation';
import { modelKeyPrefix, partModelJson, tailDir } from './artifact-layout';

export { ARTIFACT_KEY_PREFIX, modelKeyPrefix, partModelJson, tailDir, weightGroupBytes, weightSpecBytes, type WeightSpecLike } from './artifact-layout';

/**
 * The manifest of an exported model (`DIR/<model>/manifest.json`, written by
 * `offload export`). It carries the graph analysis the planner needs (layers,
 * candidates) and, per file of the export, its size and sha256 so that readers
 * (the tail function, the local stack, the CDK app) can verify what they load.
 * Pure TypeScript: readable without tfjs.
 */

const count = z.number().int().nonnegative();
const shape = z.array(z.number().int().positive());

/** models/graph.ts LayerInfo. */
export const LayerInfoSchema = z.object({
  index: count,
  name: z.string().min(1),
  className: z.string().min(1),
  outputShape: shape,
  outputBytes: count,
  weightBytes: count,
  params: count,
  flops: z.number().nonnegative(),
});

/** models/graph.ts CrossingTensor. */
export const CrossingTensorSchema = z.object({
  name: z.string().min(1),
  shape,
  bytes: count,
});

/** models/graph.ts CutCandidate. */
export const CutCandidateSchema = z.object({
  cut: count,
  layer: z.string().min(1),
  crossing: z.array(CrossingTensorSchema).min(1),
  crossingBytes: count,
  headFlops: z.number().nonnegative(),
  tailFlops: z.number().nonnegative(),
  tailWeightBytes: count,
});

/** One file of the export: size and hex sha256 of its content. */
export const ManifestFileSchema = z.object({
  bytes: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256'),
});

/**
 * One weight segment: the weights of layers [from, to) in one object
 * (`segments/<from>-<to>.bin`), shared by every part that holds those layers.
 * Segments lie between consecutive exported cuts; intervals without weights
 * have none.
 */
export const SegmentSchema = z.object({
  from: count,
  to: count,
  path: z.string().regex(/^segments\/\d+-\d+\.bin$/, 'must be segments/<from>-<to>.bin'),
});
export type Segment = z.infer<typeof SegmentSchema>;

/**
 * `DIR/<model>/manifest.json`. Paths in `files` are relative to `DIR/<model>/`, with `/` separators.
 *
 * Layout (version 2): each model's weights are stored once, in `segments/`;
 * `full/model.json`, `tails/<cut>/model.json` and `heads/<cut>/model.json` hold
 * only a topology and a weights manifest whose paths are relative to the model
 * folder (tfjs `weightPathPrefix` = `DIR/<model>/`): a part reads exactly the
 * segments of its layers.
 */
export const ManifestSchema = z
  .object({
    /** Format version of this manifest (2: weights in shared segments). */
    manifestVersion: z.literal(2),
    model: z.string().min(1),
    inputShape: shape,
    inputBytes: count,
    outputBytes: count,
    layers: z.array(LayerInfoSchema).min(1),
    candidates: z.array(CutCandidateSchema).min(1),
    /** Cuts with an exported tail (`tails/<cut>/`); cuts > 0 also have `heads/<cut>/`. */
    exportedCuts: z.array(count),
    files: z.record(z.string().min(1), ManifestFileSchema),
    /** The weight segments, by increasing `from`; each is also in `files`. */
    segments: z.array(SegmentSchema),
    /** sha256 over the full model's topology and weights: an export with the same fingerprint and intact files is up to date. */
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    /** The `maxCrossing` rule the candidates were computed with. */
    maxCrossing: z.number().int().positive().default(1),
    /** Where the model came from, e.g. `zoo` with its build options, or a folder. */
    source: z
      .object({ kind: z.enum(['zoo', 'folder']), inputSize: z.number().int().positive().optional(), seed: z.number().int().optional() })
      .optional(),
  })
  .superRefine((m, ctx) => {
    const candidateCuts = new Set(m.candidates.map((c) => c.cut));
    m.exportedCuts.forEach((cut, i) => {
      if (!candidateCuts.has(cut)) ctx.addIssue({ code: 'custom', path: ['exportedCuts', i], message: `cut ${cut} is not a candidate` });
    });
    m.candidates.forEach((c, i) => {
      if (c.cut >= m.layers.length) ctx.addIssue({ code: 'custom', path: ['candidates', i, 'cut'], message: `must be < ${m.layers.length} (the layer count)` });
    });
    m.segments.forEach((seg, i) => {
      if (seg.path !== segmentPath(seg.from, seg.to)) ctx.addIssue({ code: 'custom', path: ['segments', i, 'path'], message: `must be ${segmentPath(seg.from, seg.to)}` });
      if (!(seg.from < seg.to && seg.to <= m.layers.length)) ctx.addIssue({ code: 'custom', path: ['segments', i], message: `must have from < to <= ${m.layers.length}` });
      const prev = m.segments[i - 1];
      if (prev && prev.to > seg.from) ctx.addIssue({ code: 'custom', path: ['segments', i, 'from'], message: 'segments must be sorted and must not overlap' });
      if (!Object.hasOwn(m.files, seg.path)) ctx.addIssue({ code: 'custom', path: ['segments', i, 'path'], message: 'is not listed in files' });
    });
    m.exportedCuts.forEach((cut, i) => {
      const straddles = m.segments.some((seg) => seg.from < cut && cut < seg.to);
      if (straddles) ctx.addIssue({ code: 'custom', path: ['exportedCuts', i], message: `cut ${cut} falls inside a segment` });
    });
  });

/** A parsed manifest. */
export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestFile = z.infer<typeof ManifestFileSchema>;

/**
 * Parses a manifest (e.g. `JSON.parse` of manifest.json).
 *
 * @throws ValidationError naming the first bad field, prefixed with `manifest`
 * @example
 * const manifest = parseManifest(JSON.parse(await readFile('out/resnet50/manifest.json', 'utf8')));
 */
export function parseManifest(input: unknown): Manifest {
  return parseWith(ManifestSchema, input, 'manifest');
}

/** Folder of a cut's head inside an export, relative to `DIR/<model>/` (`heads/<cut>`). */
export function headDir(cut: number): string {
  return `heads/${cut}`;
}

/** Folder of the whole model inside an export (`full`). */
export const FULL_DIR = 'full';

/** The file of a weight segment, relative to `DIR/<model>/`: `segments/<from>-<to>.bin`. */
export function segmentPath(from: number, to: number): string {
  return `segments/${from}-${to}.bin`;
}

/** The segments holding the weights of layers ≥ cut (what tail `cut` reads). */
export function tailSegments(manifest: Manifest, cut: number): Segment[] {
  return manifest.segments.filter((s) => s.from >= cut);
}

/** The segments holding the weights of layers < cut (what head `cut` reads). */
export function headSegments(manifest: Manifest, cut: number): Segment[] {
  return manifest.segments.filter((s) => s.to <= cut);
}

/**
 * Every file one part of an export reads, relative to `DIR/<model>/`: its
 * model.json, then its segments. `part` is `full`, `tails/<cut>` or `heads/<cut>`.
 */
export function partFiles(manifest: Manifest, part: string): string[] {
  const [kind, cutText] = part.split('/');
  const cut = Number(cutText);
  const segments =
    part === FULL_DIR ? manifest.segments : kind === 'tails' ? tailSegments(manifest, cut) : kind === 'heads' ? headSegments(manifest, cut) : undefined;
  if (segments === undefined || (part !== FULL_DIR && !Number.isInteger(cut))) throw new Error(`not a part of an export: ${part}`);
  return [partModelJson(part), ...segments.map((s) => s.path)];
}

/** Key of a model's export manifest: `models/<model>/manifest.json`. */
export function manifestKey(model: string): string {
  return `${modelKeyPrefix(model)}manifest.json`;
}

/** Key of a cut's tail model.json, what a tail function loads first: `models/<model>/tails/<cut>/model.json`. */
export function tailModelKey(model: string, cut: number): string {
  return `${modelKeyPrefix(model)}${partModelJson(tailDir(cut))}`;
}

/** The files one part of an export reads (see {@link partFiles}), with their sizes and hashes. */
export function filesOfPart(manifest: Manifest, part: string): Record<string, ManifestFile> {
  return Object.fromEntries(
    partFiles(manifest, part).flatMap((p) => {
      const f = manifest.files[p];
      return f ? [[p, f] as const] : [];
    }),
  );
}

