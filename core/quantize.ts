/**
 * Element conversions behind the tensor wire format: float32 ⇄ IEEE 754
 * binary16 ("half") and float32 ⇄ int8 with a per-tensor affine scale and zero
 * point. Pure functions over typed arrays, no allocation per element; the wire
 * codec (core/wire.ts) decides where the bytes live.
 *
 * Error bounds (x = original float32 value, x̂ = value after a round trip):
 * - float16: |x − x̂| ≤ max(2⁻¹¹·|x|, 2⁻²⁵) for |x| < 65520; larger magnitudes
 *   become ±Infinity (IEEE overflow), NaN stays NaN, ±0 and ±Infinity are exact.
 * - int8: |x − x̂| ≤ scale / 2 (plus float32 rounding of x̂), where
 *   scale = (max(x_max, 0) − min(x_min, 0)) / 255; 0 is represented exactly.
 */

/** Relative error bound of float16 rounding in the normal range: the unit roundoff 2⁻¹¹. */
export const FLOAT16_RELATIVE_ERROR = 2 ** -11;
/** Absolute error bound of float16 rounding in the subnormal range: half of the smallest subnormal, 2⁻²⁵. */
export const FLOAT16_ABSOLUTE_ERROR = 2 ** -25;

const TWO_POW_24 = 16777216;

/**
 * Rounds one number to the nearest float16 (ties to even) and returns its 16
 * bits. Same rounding as {@link float32ToFloat16}, for one value (applied to
 * the float32 nearest to `x`).
 */
export function float16Bits(x: number): number {
  const src = new Float32Array([x]);
  const dst = new Uint16Array(1);
  float32ToFloat16(src, dst);
  return dst[0] as number;
}

/** The value of a float16 given by its 16 bits (NaN for every NaN pattern). */
export function float16Value(bits: number): number {
  const h = bits & 0xffff;
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/**
 * Converts float32 values to float16 bit patterns, rounding to nearest, ties
 * to even (IEEE 754 default). Overflow gives ±Infinity, NaN gives a quiet NaN
 * with the sign kept, subnormal halves are produced exactly.
 *
 * Works on the float32 bit patterns with integer ops, plus one exact float64
 * product for results in the subnormal range.
 */
export function float32ToFloat16(src: Float32Array, dst: Uint16Array): void {
  const n = src.length;
  if (dst.length < n) throw new RangeError(`float32ToFloat16: destination holds ${dst.length} < ${n} values`);
  const bits = new Uint32Array(src.buffer, src.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const u = bits[i] as number;
    const a = u & 0x7fffffff;
    let h: number;
    if (a >= 0x47800000) {
      // |x| ≥ 65536, Infinity or NaN (rare, so this branch predicts well); the
      // normal-path rounding below already maps [65520, 65536) to Infinity.
      h = a > 0x7f800000 ? 0x7e00 : 0x7c00;
    } else {
      // Normal half: rebias the exponent (127 → 15), then add 0xfff plus the
      // lowest kept mantissa bit so that the truncating shift rounds to
      // nearest with ties to even; a mantissa carry correctly bumps the
      // exponent (up to 0x7c00 = Infinity).
      const normal = (a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13;
      // Subnormal half (|x| < 2⁻¹⁴): its bits are |x|·2²⁴ (exact in float64)
      // rounded to an integer, ties to even.
      const v = Math.abs(src[i] as number) * TWO_POW_24;
      let r = (v + 0.5) | 0;
      r -= +(r - v === 0.5) & r;
      // Both are computed and one is picked by mask: post-ReLU data mixes
      // zeros (subnormal path) and normals at random, and a branch here
      // mispredicts often enough to cost ~30% of the throughput.
      const subnormal = (a - 0x38800000) >> 31;
      h = (r & subnormal) | (normal & ~subnormal);
    }
    dst[i] = ((u >>> 16) & 0x8000) | h;
  }
}

let halfToFloatBits: Uint32Array | undefined;

/** 65,536 float32 bit patterns, one per float16 pattern, built on first use (256 KiB). */
function halfTable(): Uint32Array {
  if (halfToFloatBits) return halfToFloatBits;
  const table = new Uint32Array(65536);
  const asFloat = new Float32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 31) {
      // Keep NaN payloads and the sign bit-exactly rather than via a number.
      table[h] = ((h & 0x8000) << 16) | 0x7f800000 | (mantissa << 13);
    } else {
      asFloat[h] = float16Value(h);
    }
  }
  halfToFloatBits = table;
  return table;
}

/** Converts float16 bit patterns to float32 values (exact: every half is a float32). */
export function float16ToFloat32(src: Uint16Array, dst: Float32Array): void {
  const n = src.length;
  if (dst.length < n) throw new RangeError(`float16ToFloat32: destination holds ${dst.length} < ${n} values`);
  const table = halfTable();
  const out = new Uint32Array(dst.buffer, dst.byteOffset, n);
  for (let i = 0; i < n; i++) out[i] = table[src[i] as number] as number;
}

/** Affine int8 parameters: x ≈ scale · (q − zeroPoint), q ∈ [−128, 127]. */
export interface Int8Params {
  /** Step between adjacent levels; finite and > 0. */
  scale: number;
  /** The int8 level that represents 0 exactly; an integer in [−128, 127]. */
  zeroPoint: number;
}

/** Where a value int8 cannot carry sits, so the caller can name it. */
export class NonFiniteValueError extends Error {
  constructor(readonly index: number, readonly value: number) {
    super(`element ${index} is ${value}, which int8 cannot represent`);
    this.name = 'NonFiniteValueError';
  }
}

/**
 * Picks the per-tensor affine parameters that spread the 256 int8 levels over
 * [min(x_min, 0), max(x_max, 0)]. Widening the range to include 0 keeps 0
 * exact, which matters for post-ReLU activations (mostly zeros) and padding.
 * Throws {@link NonFiniteValueError} on NaN or ±Infinity.
 */
export function chooseInt8Params(src: Float32Array): Int8Params {
  let lo = 0;
  let hi = 0;
  // x·0 is ±0 for finite x and NaN for NaN/±Infinity, so one add per element
  // flags any non-finite value without a data-dependent branch.
  let poison = 0;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const x = src[i] as number;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    poison += x * 0;
  }
  if (Number.isNaN(poison)) {
    const index = src.findIndex((x) => !Number.isFinite(x));
    throw new NonFiniteValueError(index, src[index] as number);
  }
  const range = hi - lo;
  if (range === 0) return { scale: 1, zeroPoint: 0 };
  const scale = range / 255;
  // lo ≤ 0 ≤ hi, so −lo/scale ∈ [0, 255] and the zero point lands in [−128, 127].
  const zeroPoint = Math.min(127, Math.max(-128, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}

/** Quantises float32 values to int8 levels: q = clamp(round(x / scale) + zeroPoint, −128, 127). */
export function quantizeInt8(src: Float32Array, params: Int8Params, dst: Int8Array): void {
  const n = src.length;
  if (dst.length < n) throw new RangeError(`quantizeInt8: destination holds ${dst.length} < ${n} values`);
  const inv = 1 / params.scale;
  // Work in the unsigned level u = q + 128 ∈ [0, 255]: floor(t + 0.5) is
  // Math.round, and `| 0` is floor once t is clamped into [0, 255] (which also
  // keeps it far from int32 wrap-around). Storing u ^ 0x80 into the byte view
  // writes the int8 two's complement of u − 128 — about twice as fast as
  // Math.round plus a signed store.
  const bias = params.zeroPoint + 128.5;
  const out = new Uint8Array(dst.buffer, dst.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const t = (src[i] as number) * inv + bias;
    out[i] = (t >= 255 ? 255 : t > 0 ? t | 0 : 0) ^ 0x80;
  }
}

/** Dequantises int8 levels to float32: x̂ = scale · (q − zeroPoint), via a 256-entry table. */
export function dequantizeInt8(src: Int8Array, params: Int8Params, dst: Float32Array): void {
  const n = src.length;
  if (dst.length < n) throw new RangeError(`dequantizeInt8: destination holds ${dst.length} < ${n} values`);
  // Index the table by the unsigned byte, so no sign handling per element.
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) table[b] = params.scale * ((b < 128 ? b : b - 256) - params.zeroPoint);
  const bytes = new Uint8Array(src.buffer, src.byteOffset, n);
  for (let i = 0; i < n; i++) dst[i] = table[bytes[i] as number] as number;
}

/**
 * V8 allocates a function's type feedback only after several calls, and
 * compiles a long loop on-stack while the first big call is still inside it.
 * Code before and after the loop then has no feedback, the optimised code
 * bails out on later calls, and those calls run in the interpreter — measured
 * 3–7× slower, at random from run to run. A few tiny calls at load time
 * record the feedback first (well under a millisecond, plus building the
 * 256 KiB float16 table).
 */
function warmUpConversions(): void {
  const n = 32;
  const src = new Float32Array(n).map((_, i) => (i - 12) * 0.37);
  src[3] = 0;
  src[5] = 1e-6; // float16 subnormal
  const halves = new Uint16Array(n);
  const back = new Float32Array(n);
  const levels = new Int8Array(n);
  for (let round = 0; round < 16; round++) {
    float32ToFloat16(src, halves);
    float16ToFloat32(halves, back);
    const params = chooseInt8Params(src);
    quantizeInt8(src, params, levels);
    dequantizeInt8(levels, params, back);
  }
}
warmUpConversions();
