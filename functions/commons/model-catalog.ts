/**
 * The model catalog `GET /models` serves: the deployed models' export
 * manifests read from S3 (cached for the life of the warm planner instance —
 * an export is immutable for a deployment), their optional cloud profiles, and
 * which cuts have functions (from the deployment catalog, core/catalog.ts).
 */
import * as z from 'zod';
import { NotFoundError, OffloadError } from '../../core/errors';
import { filesOfPart, FULL_DIR, headDir, modelKeyPrefix, parseManifest, tailDir, type Manifest } from '../../core/manifest';
import type { PresignedS3 } from './s3-presign';
import type { DeployedFunction, DeployedFunctions, DeployedModel } from './deployment';
import { MB_PER_VCPU, parseModelProfile } from '../../core/profiles';
import { predictorFromProfiles } from '../../core/profile-scenario';
import type { CloudProfile } from './scenario';
import type { ModelCatalogEntry, ModelsResponse } from '../../core/api';

/** Key of a model's optional cloud profile: measured warm per-layer times of the tail at `memoryMB`. */
export function cloudProfileKey(model: string): string {
  return `${modelKeyPrefix(model)}profiles/cloud.json`;
}

/**
 * Cloud profile file (`models/<model>/profiles/cloud.json`): per-layer warm
 * times, by layer name, measured at `memoryMB` (default one vCPU). An
 * `offload profile` file (`profiles/<model>.wasm.json`) has this shape and
 * more (see {@link alignProfile}).
 */
export const CloudProfileFileSchema = z.object({
  memoryMB: z.number().positive().default(MB_PER_VCPU),
  /** Threads of the engine that measured it, each on a full core (`offload profile --threads N`); absent: 1. */
  threads: z.number().int().min(1).optional(),
  /** The model's measured parallel fraction on the threaded engine (`offload profile --parallel-from`); absent: WASM_PARALLEL_FRACTION. */
  parallelFraction: z.number().min(0).max(1).optional(),
  layers: z.array(z.object({ name: z.string(), ms: z.number().nonnegative() })),
});

/** How long a missing cloud profile is remembered before S3 is asked again. */
export const PROFILE_RETRY_MS = 60_000;

/** Reads manifests (and cloud profiles) once per warm instance. */
export class ModelCatalog {
  private readonly manifests = new Map<string, Promise<Manifest>>();
  private readonly profiles = new Map<string, { at: number; profile: Promise<CloudProfile | undefined> }>();

  /**
   * @param s3 reads the manifests and profiles of `bucket`
   * @param presign a time-limited GET URL for a key, handed out with every artifact file so
   *   that a page without AWS credentials of its own can download its model (docs/browser.md)
   */
  constructor(
    private readonly s3: Pick<PresignedS3, 'getJson'>,
    private readonly bucket: string,
    private readonly deployed: DeployedFunctions,
    private readonly presign?: (key: string) => Promise<string>,
  ) {}

  /** Deployed models, sorted. */
  models(): string[] {
    return Object.keys(this.deployed).sort();
  }

  /** The model's deployment; NotFoundError (404) listing the deployed models otherwise. */
  modelOf(model: string): DeployedModel {
    const entry = Object.hasOwn(this.deployed, model) ? this.deployed[model] : undefined;
    if (!entry) {
      throw new NotFoundError(`model "${model}" is not deployed (deployed: ${this.models().join(', ') || 'none'})`);
    }
    return entry;
  }

  /** The model's deployed functions by cut. */
  functionsOf(model: string): Record<string, DeployedFunction> {
    return this.modelOf(model).functions;
  }

  /** The model's export manifest (a failed read is not cached, so a later request retries). */
  manifest(model: string): Promise<Manifest> {
    const key = this.modelOf(model).manifestKey;
    let hit = this.manifests.get(model);
    if (!hit) {
      hit = this.s3.getJson(key, `export manifest of "${model}"`).then((raw) => {
        try {
          return parseManifest(raw);
        } catch (err) {
          throw new OffloadError('unavailable', `the export manifest of "${model}" is unusable: ${(err as Error).message}`, {
            cause: err,
            detail: `s3://${this.bucket}/${key}`,
          });
        }
      });
      hit.catch(() => this.manifests.delete(model));
      this.manifests.set(model, hit);
    }
    return hit;
  }

  /**
   * The model's cloud profile aligned with its manifest, or undefined (→ FLOPs-derived times).
   * A found profile is kept; a miss is re-checked after {@link PROFILE_RETRY_MS}, so a
   * profile uploaded after the planner started is picked up without a redeploy.
   */
  async cloudProfile(model: string, manifest: Manifest, now = Date.now()): Promise<CloudProfile | undefined> {
    const hit = this.profiles.get(model);
    if (hit && ((await hit.profile) !== undefined || now - hit.at < PROFILE_RETRY_MS)) return hit.profile;
    const profile = this.s3.getJson(cloudProfileKey(model), 'cloud profile')
      .then((raw) => alignProfile(raw, manifest))
      .catch(() => undefined); // absent or unreadable: derive from FLOPs (documented in scenario.ts)
    this.profiles.set(model, { at: now, profile });
    return profile;
  }

  /** `GET /models`: one entry per deployed model. */
  async describe(): Promise<ModelsResponse> {
    const models = await Promise.all(this.models().map((m) => this.describeModel(m)));
    return { models };
  }

  private async describeModel(model: string): Promise<ModelCatalogEntry> {
    const { functions: fns, manifestKey: key } = this.modelOf(model);
    const manifest = await this.manifest(model);
    const prefix = key.slice(0, key.lastIndexOf('/') + 1); // the export tree sits beside its manifest
    const presign = this.presign;
    const file = async (key: string, f: { bytes: number; sha256: string }) =>
      presign ? { key, bytes: f.bytes, sha256: f.sha256, url: await presign(key) } : { key, bytes: f.bytes, sha256: f.sha256 };
    // weight paths in a part's model.json are relative to the model's folder (`prefix`), not to the part's
    const artifact = async (dir: string) => ({
      prefix: `${prefix}${dir}/`,
      weightPrefix: prefix,
      files: await Promise.all(Object.entries(filesOfPart(manifest, dir)).map(([path, f]) => file(`${prefix}${path}`, f))),
    });
    const heads = new Map(
      await Promise.all(
        manifest.candidates
          .filter((c) => c.cut > 0 && manifest.exportedCuts.includes(c.cut))
          .map(async (c) => [c.cut, await artifact(headDir(c.cut))] as const),
      ),
    );
    return {
      name: manifest.model,
      inputShape: manifest.inputShape,
      inputBytes: manifest.inputBytes,
      outputBytes: manifest.outputBytes,
      layers: manifest.layers.length,
      bucket: this.bucket,
      full: await artifact(FULL_DIR),
      candidates: manifest.candidates.map((c) => {
        const fn = fns[String(c.cut)];
        return {
          cut: c.cut,
          layer: c.layer,
          crossing: c.crossing,
          crossingBytes: c.crossingBytes,
          tailWeightBytes: c.tailWeightBytes,
          deployed: fn !== undefined,
          function: fn?.name ?? null,
          route: fn?.route ?? null,
          head: heads.get(c.cut) ?? null,
          tail: manifest.exportedCuts.includes(c.cut) ? { prefix: `${prefix}${tailDir(c.cut)}/` } : null,
        };
      }),
    };
  }
}

/**
 * A profile file aligned with the manifest's layers (by name), or undefined
 * when a layer is missing: a partial profile would mix measured and derived
 * times silently. A full `offload profile` file (core/profiles.ts) also gets
 * a predictor fitted on its layers, so device times can be scaled from it.
 */
export function alignProfile(raw: unknown, manifest: Manifest): CloudProfile | undefined {
  const file = CloudProfileFileSchema.safeParse(raw);
  if (!file.success) return undefined;
  const byName = new Map(file.data.layers.map((l) => [l.name, l.ms]));
  const layerMs: number[] = [];
  for (const layer of manifest.layers) {
    const ms = byName.get(layer.name);
    if (ms === undefined) return undefined;
    layerMs.push(ms);
  }
  let measured: CloudProfile['measured'];
  try {
    const profile = parseModelProfile(raw, 'cloud profile');
    if (profile.layers.length === manifest.layers.length && profile.layers.every((l, i) => l.name === manifest.layers[i]?.name)) {
      measured = { profile, predictor: predictorFromProfiles([profile]) };
    }
  } catch {
    // the simple { memoryMB, layers: [{ name, ms }] } form: cloud times only
  }
  return {
    memoryMB: file.data.memoryMB,
    layerMs,
    ...(file.data.threads ? { threads: file.data.threads } : {}),
    ...(file.data.parallelFraction === undefined ? {} : { parallelFraction: file.data.parallelFraction }),
    ...(measured ? { measured } : {}),
  };
}

export type { ArtifactFile, ModelCatalogEntry } from '../../core/api';
