/**
 * The body of the early-engine test bundle (test/models/backend-bundle.test.ts): loaded after the
 * bundle has (or has not) started the engine's pthread workers, as the tail's main.mjs is after its entry.
 */
import * as tf from '../../models/tfjs';
import { initBackend, offerEarlyPthreadWorkers, wasmThreads } from '../../models/backend';
import type { EarlyPthreadWorkers } from '../../models/wasm-threads';
import { ZOO } from '../../models/zoo';

export async function runThreads(early: EarlyPthreadWorkers | string | undefined): Promise<{ name: string; threads: unknown; output: number[] }> {
  if (typeof early === 'string') throw new Error(early);
  if (early) offerEarlyPthreadWorkers(early);
  const name = await initBackend();
  const model = ZOO.mobilenetv2.build();
  const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 11);
  const y = model.predict(x) as tf.Tensor;
  return { name, threads: wasmThreads(), output: Array.from(y.dataSync()) };
}
