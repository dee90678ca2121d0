/** Comparing tensors and arrays of numbers in tests and benchmarks. */
import type { Tensor } from '@tensorflow/tfjs';

/**
 * Largest absolute elementwise difference between two arrays or tensors of the
 * same size; throws when the sizes differ (a silent broadcast would hide a bug).
 *
 * @example
 * expect(maxAbsDiff(split.dataSync(), full.dataSync())).toBeLessThan(1e-5);
 */
export function maxAbsDiff(a: ArrayLike<number> | Tensor, b: ArrayLike<number> | Tensor): number {
  const x = values(a);
  const y = values(b);
  if (x.length !== y.length) throw new Error(`maxAbsDiff: ${x.length} elements vs ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
}

function values(v: ArrayLike<number> | Tensor): ArrayLike<number> {
  return 'dataSync' in v ? (v.dataSync() as ArrayLike<number>) : v;
}
