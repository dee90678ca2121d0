/**
 * The device model under Node: a zoo name or a folder on disk (the browser
 * builds its models from downloaded artifacts, client/browser/).
 */
import { analyzeModel } from '../models/graph';
import { resolveModel } from '../models/load';
import { DeviceModel as DeviceModelBase } from './device-model';

export type { DeviceOutput } from './device-model';

export class DeviceModel extends DeviceModelBase {
  /** A zoo name (seeded weights, as the exported artifacts) or a folder with a tfjs layers model. */
  static async load(nameOrPath: string, opts: { maxCrossing?: number } = {}): Promise<DeviceModel> {
    const { name, model } = await resolveModel(nameOrPath);
    const analysis = analyzeModel(model, { name, ...(opts.maxCrossing === undefined ? {} : { maxCrossing: opts.maxCrossing }) });
    return new DeviceModel(name, model, analysis);
  }
}
