/**
 * A small seeded pseudo-random generator, so experiments, benchmarks and tests
 * draw the same numbers on every run (and a failure reproduces).
 */

/**
 * mulberry32: a 32-bit state generator returning uniform numbers in [0, 1).
 *
 * @example
 * const random = seededRandom(7);
 * random(); // the same sequence for seed 7 on every run
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
