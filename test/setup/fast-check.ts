/**
 * Property tests run from one fixed seed, so CI on a clean clone sees the same
 * scenarios every time: several tests also check that their generators reached
 * each branch a number of times, and an unseeded run can fall short of such a
 * count by chance (the prewarm property's `no-gain` branch: 15 to 44 hits in
 * 3,000 runs over 40 seeds). To explore other scenarios, run with
 * FC_SEED=<integer>, or FC_SEED=random for a new seed each run; fast-check
 * prints the seed and path of any counterexample.
 */
import fc from 'fast-check';

const DEFAULT_SEED = 20_261_201;
const raw = process.env.FC_SEED;

if (raw !== 'random') {
  const seed = raw === undefined || raw === '' ? DEFAULT_SEED : Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED: must be an integer or "random", got "${raw}"`);
  fc.configureGlobal({ seed });
}
