/**
 * A page gets its model from what `GET /models` points to: every file of the
 * model's `full` artifact (the device keeps the whole model, to finish on the
 * device when the cloud fails) carries a presigned GET URL the planner made
 * (docs/browser.md). Each file is checked against its sha256 before use.
 */
import { NotFoundError, OffloadError } from '../../core/errors';
import type { ModelCatalogEntry, ModelsResponse } from '../../core/api';
import { loadModelFromFiles, MODEL_JSON } from '../../models/artifacts';
import { DeviceModel } from '../device-model';

export interface LoadProgress {
  files: number;
  total: number;
  bytes: number;
  totalBytes: number;
}

/** The catalog entry of `model`, or a NotFoundError listing what the API has. */
export function catalogEntry(catalog: ModelsResponse, model: string): ModelCatalogEntry {
  const entry = catalog.models.find((m) => m.name === model);
  if (!entry) {
    throw new NotFoundError(`model "${model}" is not listed by the API (listed: ${catalog.models.map((m) => m.name).join(', ') || 'none'})`);
  }
  return entry;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Downloads, verifies and builds the model of a catalog entry.
 *
 * @example
 * const device = await loadDeviceModel(catalogEntry(await api.models(), 'mobilenetv2'));
 */
export async function loadDeviceModel(entry: ModelCatalogEntry, opts: { onProgress?: (p: LoadProgress) => void; timeoutMs?: number } = {}): Promise<DeviceModel> {
  const files = entry.full.files;
  if (files.length === 0) throw new OffloadError('model-format', `${entry.name}: GET /models lists no files for the full model`);
  const missing = files.filter((f) => !f.url);
  if (missing.length > 0) {
    throw new OffloadError(
      'unavailable',
      `${entry.name}: the API hands out no artifact URLs (the deployment's browser.artifactUrlSeconds is 0), so a page cannot download the model`,
    );
  }
  const total = files.reduce((s, f) => s + f.bytes, 0);
  let done = 0;
  let bytes = 0;
  const out = new Map<string, Uint8Array>();
  await Promise.all(
    files.map(async (f) => {
      // model.json sits in the part's folder; the weight paths it lists are relative to weightPrefix (shared segments)
      const name = f.key === `${entry.full.prefix}${MODEL_JSON}` ? MODEL_JSON : f.key.slice(entry.full.weightPrefix.length);
      let res: Response;
      try {
        res = await fetch(f.url as string, { signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000) });
      } catch (e) {
        throw new OffloadError('unavailable', `${entry.name}: cannot download ${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!res.ok) throw new OffloadError('unavailable', `${entry.name}: downloading ${name} answered HTTP ${res.status} (an expired URL? reload the catalog)`);
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.length !== f.bytes || (await sha256Hex(body)) !== f.sha256) {
        throw new OffloadError('model-format', `${entry.name}: ${name} does not match its sha256 in the catalog (${body.length} bytes, expected ${f.bytes})`);
      }
      out.set(name, body);
      done += 1;
      bytes += body.length;
      opts.onProgress?.({ files: done, total: files.length, bytes, totalBytes: total });
    }),
  );
  const model = await loadModelFromFiles(out);
  return DeviceModel.fromLayersModel(entry.name, model);
}
