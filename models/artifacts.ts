import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from './tfjs';
import * as z from 'zod';
import { OffloadError } from '../core/errors';
import { formatPath } from '../core/validation';
import { weightGroupBytes } from '../core/artifact-layout';
import { fuseModel, type FusedModel } from './fuse';
import { foldModelArtifacts, scaleFusedKernels } from './fuse-artifacts';

/**
 * Models on disk (and in S3) in the tfjs layers format, without tfjs-node:
 *
 *   model.json          { format: 'layers-model', generatedBy, convertedBy,
 *                         modelTopology, weightsManifest: [{ paths, weights }] }
 *   group1-shard1ofN.bin  the weights, concatenated in manifest order, cut into
 *   …                     4 MiB shards — the names and the shard size the tfjs
 *                         converters use, so that tfjs's own loaders read our files.
 *
 * Loading accepts any layout tfjs writes: any number of groups, any number of
 * shards per group, any shard sizes, weights straddling shard boundaries, and
 * quantised (uint8/uint16/float16) weights. Before handing the files to tfjs it
 * checks what tfjs would otherwise report obscurely (or not at all): model.json
 * present and valid, every listed weight file present, and each group's files
 * holding exactly the bytes its weights need. Every such problem is an
 * OffloadError 'model-format' whose message names the file.
 */

/** Shard size of the tfjs converters (4 MiB). */
export const SHARD_BYTES = 4 * 1024 * 1024;

export const MODEL_JSON = 'model.json';

/** What `saveModelToDir` wrote. */
export interface SavedModelInfo {
  /** Bytes of model.json. */
  modelJsonBytes: number;
  /** Bytes of all weight files together. */
  weightBytes: number;
  /** File names written, relative to the folder, model.json first. */
  files: string[];
}

/** Serialises a layers model to the files of the tfjs layers format (in memory). */
export async function modelToFiles(model: tf.LayersModel, shardBytes = SHARD_BYTES): Promise<Map<string, Uint8Array>> {
  if (!Number.isInteger(shardBytes) || shardBytes <= 0) throw new Error(`shardBytes must be a positive integer (got ${shardBytes})`);
  let files: Map<string, Uint8Array> | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      files = artifactsToFiles(artifacts, shardBytes);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (!files) throw new OffloadError('internal', 'tfjs did not hand the model artifacts to the save handler');
  return files;
}

function artifactsToFiles(artifacts: tf.io.ModelArtifacts, shardBytes: number): Map<string, Uint8Array> {
  const data = weightBytes(artifacts.weightData);
  const count = Math.max(1, Math.ceil(data.byteLength / shardBytes));
  const paths: string[] = [];
  const files = new Map<string, Uint8Array>();
  const shards: [string, Uint8Array][] = [];
  for (let i = 0; i < count; i++) {
    const name = `group1-shard${i + 1}of${count}.bin`;
    paths.push(name);
    shards.push([name, data.subarray(i * shardBytes, Math.min(data.byteLength, (i + 1) * shardBytes))]);
  }
  const modelJson: tf.io.ModelJSON = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology as object,
    weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  files.set(MODEL_JSON, new TextEncoder().encode(JSON.stringify(modelJson)));
  for (const [name, bytes] of shards) files.set(name, bytes);
  return files;
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(tf.io.concatenateArrayBuffers(data));
}

/**
 * Writes `model` to `dir` (created if needed) in the tfjs layers format:
 * model.json plus 4 MiB weight shards `group1-shard{i}of{n}.bin`.
 */
export async function saveModelToDir(model: tf.LayersModel, dir: string): Promise<SavedModelInfo> {
  const files = await modelToFiles(model);
  await mkdir(dir, { recursive: true });
  let modelJsonBytes = 0;
  let weightTotal = 0;
  for (const [name, bytes] of files) {
    await writeFile(join(dir, name), bytes);
    if (name === MODEL_JSON) modelJsonBytes = bytes.byteLength;
    else weightTotal += bytes.byteLength;
  }
  return { modelJsonBytes, weightBytes: weightTotal, files: [...files.keys()] };
}

/** Reads one file of a model by the name model.json uses; undefined when it does not exist. */
type FileSource = { describe: string; read(name: string): Promise<Uint8Array | undefined> };

/**
 * Loads a layers model from a folder holding model.json and its weight files.
 * `weightDir` is where the weight paths of model.json are relative to (tfjs's
 * `weightPathPrefix`): the folder itself by default, the model's export folder
 * for a part of an export (`loadModelFromDir('out/m/tails/3', 'out/m')`).
 * @throws OffloadError 'model-format' naming the missing or corrupt file.
 */
export async function loadModelFromDir(dir: string, weightDir = dir): Promise<tf.LayersModel> {
  return loadFrom({
    describe: weightDir === dir ? dir : `${dir} (weights in ${weightDir})`,
    async read(name) {
      const path = name === MODEL_JSON ? join(dir, name) : join(weightDir, name);
      try {
        return await readFile(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new OffloadError('model-format', `${name}: cannot read in ${dir} (${(e as Error).message})`);
      }
    },
  });
}

/**
 * Loads a layers model from files held in memory (e.g. downloaded from S3);
 * keys are the names model.json uses ('model.json', 'group1-shard1of3.bin', …).
 * @throws OffloadError 'model-format' naming the missing or corrupt file.
 */
export async function loadModelFromFiles(files: Map<string, Uint8Array>): Promise<tf.LayersModel> {
  return loadFrom({ describe: 'the given files', read: async (name) => files.get(name) });
}

/** What {@link loadFusedModelFromFiles} returns. */
export interface LoadedFusedModel extends FusedModel {
  /** Where the chains were folded: in the files before tfjs built the model (one build), or by rebuilding the built model (fuseModel). */
  foldedIn: 'files' | 'model';
  /** Time spent folding, ms (the topology and weight rewrite, or the rebuild). */
  foldMs: number;
}

/**
 * Loads a layers model from files held in memory with batch norm and
 * relu/relu6 folded into the convolutions (models/fuse.ts), building it once:
 * the fold is done on model.json's topology and on the weight bytes before
 * tfjs builds anything (models/fuse-artifacts.ts). A model that pass does not
 * handle is built as it is and rebuilt by fuseModel (same chains).
 *
 * The weight buffers may be rewritten in place (a download's own buffers: no
 * copy): the caller must not use their contents afterwards.
 * @throws OffloadError 'model-format' naming the missing or corrupt file.
 */
export async function loadFusedModelFromFiles(files: Map<string, Uint8Array>): Promise<LoadedFusedModel> {
  const { modelJson, groups } = await readModelFiles({ describe: 'the given files', read: async (name) => files.get(name) });
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  const buffer = oneBuffer(groups.flat());
  const started = performance.now();
  const folded = foldModelArtifacts(modelJson.modelTopology, weightSpecs, buffer);
  if (folded) {
    let foldMs = performance.now() - started;
    const model = await buildLayersModel({ modelTopology: folded.modelTopology, format: modelJson.format ?? 'layers-model', weightSpecs: folded.weightSpecs, weightData: folded.weightData });
    const scaleStart = performance.now();
    scaleFusedKernels(model, folded.kernelScales);
    foldMs += performance.now() - scaleStart;
    return { model, chains: folded.chains, foldedIn: 'files', foldMs };
  }
  const model = await buildLayersModel({ modelTopology: modelJson.modelTopology, format: modelJson.format ?? 'layers-model', weightSpecs, weightData: buffer });
  const rebuildStart = performance.now();
  const fused = fuseModel(model);
  if (fused.model !== model) model.dispose();
  return { ...fused, foldedIn: 'model', foldMs: performance.now() - rebuildStart };
}

/** The weight files as one buffer: the one they already tile (a streamed download), else a join. */
function oneBuffer(files: readonly Uint8Array[]): ArrayBuffer {
  const whole = wholeBufferOf(files);
  if (whole) return whole;
  if (files.length === 1) return exactArrayBuffer(files[0]!);
  const joined = new Uint8Array(files.reduce((s, f) => s + f.byteLength, 0));
  let at = 0;
  for (const f of files) {
    joined.set(f, at);
    at += f.byteLength;
  }
  return joined.buffer;
}

const WeightEntrySchema = z.looseObject({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool', 'string', 'complex64']),
  quantization: z
    .looseObject({ dtype: z.enum(['uint8', 'uint16', 'float16']) })
    .optional(),
});

const ModelJsonSchema = z.looseObject({
  format: z.string().optional(),
  modelTopology: z.looseObject({}),
  weightsManifest: z.array(z.looseObject({ paths: z.array(z.string().min(1)), weights: z.array(WeightEntrySchema) })),
});

export type ParsedModelJson = z.infer<typeof ModelJsonSchema>;

/** model.json parsed and every weight file read and checked against it. */
async function readModelFiles(source: FileSource): Promise<{ modelJson: ParsedModelJson; groups: Uint8Array[][] }> {
  const json = await source.read(MODEL_JSON);
  if (json === undefined) throw formatError(`${MODEL_JSON}: missing in ${source.describe}`);
  const modelJson = parseModelJson(json);
  return { modelJson, groups: await readWeightGroups(source, modelJson) };
}

async function loadFrom(source: FileSource): Promise<tf.LayersModel> {
  const { modelJson, groups } = await readModelFiles(source);
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  const files = groups.flat();
  const weightData = wholeBufferOf(files) ?? tfjsSafeWeightData(files.map(exactArrayBuffer));
  return buildLayersModel({ modelTopology: modelJson.modelTopology as object, format: modelJson.format ?? 'layers-model', weightSpecs, weightData });
}

/** tfjs builds the model; its errors become 'model-format' errors naming model.json. */
export async function buildLayersModel(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel({ load: async () => artifacts });
  } catch (e) {
    const problem = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw formatError(`${MODEL_JSON}: tfjs cannot build the model from it (${problem})`, e);
  }
}

/**
 * tfjs 4.22's CompositeArrayBuffer assumes every buffer but the last has the
 * size of the first and the last is no larger (it computes the shard of a byte
 * by division): weight files of other sizes (an export's segments) decode as
 * the wrong bytes. Such a list is joined into one buffer first (one copy);
 * a single buffer or converter-style shards go through as they are.
 */
export function tfjsSafeWeightData(buffers: ArrayBuffer[]): ArrayBuffer | ArrayBuffer[] {
  if (buffers.length === 1) return buffers[0]!;
  const first = buffers[0]?.byteLength ?? 0;
  const uniform = buffers.every((b, i) => (i < buffers.length - 1 ? b.byteLength === first : b.byteLength <= first));
  return uniform ? buffers : tf.io.concatenateArrayBuffers(buffers);
}

/** model.json's bytes parsed and checked as a tfjs layers model.json; else an OffloadError 'model-format' saying what is wrong. */
export function parseModelJson(bytes: Uint8Array): ParsedModelJson {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw formatError(`${MODEL_JSON}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, e);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw formatError(`${MODEL_JSON}: not a tfjs model (expected a JSON object)`);
  }
  const format = (raw as { format?: unknown }).format;
  if (format === 'graph-model') {
    throw formatError(`${MODEL_JSON}: a tfjs graph model, not a layers model (re-export it with the layers format)`);
  }
  const topology = (raw as { modelTopology?: unknown }).modelTopology;
  if (typeof topology !== 'object' || topology === null || !('class_name' in topology || 'model_config' in topology)) {
    throw formatError(`${MODEL_JSON}: not a tfjs layers model (no modelTopology with a Keras model config)`);
  }
  const parsed = ModelJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? formatPath(issue.path) : '';
    throw formatError(`${MODEL_JSON}: not a tfjs layers model (${where || '(root)'}: ${issue?.message ?? 'invalid'})`);
  }
  return parsed.data;
}

/**
 * The one buffer that `files`, in order, exactly tile (a download streamed
 * every weight file into its place in one buffer: functions/commons/artifacts.ts),
 * else undefined. tfjs then decodes the weights from it without a join.
 */
function wholeBufferOf(files: readonly Uint8Array[]): ArrayBuffer | undefined {
  const buffer = files[0]?.buffer;
  if (!(buffer instanceof ArrayBuffer) || files.length < 2) return undefined;
  let at = 0;
  for (const f of files) {
    if (f.buffer !== buffer || f.byteOffset !== at) return undefined;
    at += f.byteLength;
  }
  return at === buffer.byteLength ? buffer : undefined;
}

/** Reads every group's weight files, checking each group holds exactly the bytes its weights need. */
async function readWeightGroups(source: FileSource, modelJson: ParsedModelJson): Promise<Uint8Array[][]> {
  const groups: Uint8Array[][] = [];
  for (const group of modelJson.weightsManifest) {
    const buffers: Uint8Array[] = [];
    let total = 0;
    for (const path of group.paths) {
      if (!isSafeRelativePath(path)) {
        throw formatError(`${MODEL_JSON}: weight file path "${path}" must be a plain relative path inside the model folder`);
      }
      const bytes = await source.read(path);
      if (bytes === undefined) throw formatError(`${path}: weight file listed in ${MODEL_JSON} is missing in ${source.describe}`);
      buffers.push(bytes);
      total += bytes.byteLength;
    }
    const expected = weightGroupBytes(group.weights);
    if (expected !== null && expected !== total) {
      const sizes = group.paths.map((p, i) => `${p} ${buffers[i]?.byteLength ?? 0} B`).join(', ');
      const which = group.paths.length === 1 ? group.paths[0] : `weight files ${group.paths.join(', ')}`;
      throw formatError(
        `${which}: wrong size — ${MODEL_JSON} lists weights of ${expected} bytes, ${group.paths.length === 1 ? 'the file holds' : 'the files hold'} ${total} (${sizes}); the file is truncated or belongs to another model`,
      );
    }
    groups.push(buffers);
  }
  return groups;
}


function isSafeRelativePath(path: string): boolean {
  if (path.startsWith('/') || path.includes('\\') || /^[a-zA-Z]:/.test(path) || path.includes('\0')) return false;
  return !path.split('/').some((part) => part === '..' || part === '');
}

/** An ArrayBuffer holding exactly `bytes` (no copy when `bytes` already spans its whole buffer). */
function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer as ArrayBuffer;
}

function formatError(message: string, cause?: unknown): OffloadError {
  return new OffloadError('model-format', message, cause === undefined ? {} : { cause });
}
