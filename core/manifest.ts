import * as z from 'zod';
import { parseWith } from './validation';

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

/** `DIR/<model>/manifest.json`. Paths in `files` are relative to `DIR/<model>/`, with `/` separators. */
export const ManifestSchema = z
  .object({
    /** Format version of this manifest. */
    manifestVersion: z.literal(1).default(1),
    model: z.string().min(1),
    inputShape: shape,
    inputBytes: count,
    outputBytes: count,
    layers: z.array(LayerInfoSchema).min(1),
    candidates: z.array(CutCandidateSchema).min(1),
    /** Cuts with an exported tail (`tails/<cut>/`); cuts > 0 also have `heads/<cut>/`. */
    exportedCuts: z.array(count),
    files: z.record(z.string().min(1), ManifestFileSchema),
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

/** Folder of a cut's tail inside an export, relative to `DIR/<model>/` (`tails/<cut>`). */
export function tailDir(cut: number): string {
  return `tails/${cut}`;
}

/** Folder of a cut's head inside an export, relative to `DIR/<model>/` (`heads/<cut>`). */
export function headDir(cut: number): string {
  return `heads/${cut}`;
}

/** Folder of the whole model inside an export (`full`). */
export const FULL_DIR = 'full';

/** S3 key prefix under which the export trees sit in the artifact bucket (docs/deploy.md: `models/<model>/…`). */
export const ARTIFACT_KEY_PREFIX = 'models/';

/** Key prefix of one model's export in the bucket: `models/<model>/`. */
export function modelKeyPrefix(model: string): string {
  return `${ARTIFACT_KEY_PREFIX}${model}/`;
}

/** Key of a model's export manifest: `models/<model>/manifest.json`. */
export function manifestKey(model: string): string {
  return `${modelKeyPrefix(model)}manifest.json`;
}

/** Key prefix of a cut's tail artifact, what a tail function loads: `models/<model>/tails/<cut>/`. */
export function tailKeyPrefix(model: string, cut: number): string {
  return `${modelKeyPrefix(model)}${tailDir(cut)}/`;
}

/** The files of one part of an export (`full`, `tails/3`, …): manifest entries under that folder. */
export function filesUnder(manifest: Manifest, dir: string): Record<string, ManifestFile> {
  const prefix = `${dir}/`;
  return Object.fromEntries(Object.entries(manifest.files).filter(([p]) => p.startsWith(prefix)));
}
