/**
 * The encodings a crossing tensor can travel in: the one list of dtypes and
 * their sizes. The wire format (core/wire.ts), the cost model (core/cost.ts,
 * docs/cost-model.md §2), the scenario and API schemas and the CLI import them
 * from here; test/health/contracts.test.ts fails if a copy reappears.
 */

/** Every crossing dtype, in decreasing size. */
export const DTYPES = ['float32', 'float16', 'int8'] as const;
export type DType = (typeof DTYPES)[number];

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = Object.freeze({ float32: 4, float16: 2, int8: 1 });

/** Bytes on the wire relative to float32: the cost model's `dtypeFactor`. */
export const DTYPE_FACTOR: Readonly<Record<DType, number>> = Object.freeze({
  float32: DTYPE_BYTES.float32 / DTYPE_BYTES.float32,
  float16: DTYPE_BYTES.float16 / DTYPE_BYTES.float32,
  int8: DTYPE_BYTES.int8 / DTYPE_BYTES.float32,
});

/** True for one of {@link DTYPES}. */
export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}
