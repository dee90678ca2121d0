import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError, WireFormatError } from '../../core/errors';
import {
  FLOAT16_ABSOLUTE_ERROR,
  FLOAT16_RELATIVE_ERROR,
  float16Bits,
  float16Value,
} from '../../core/quantize';
import {
  DTYPE_FACTOR,
  WIRE_CONTENT_TYPE,
  WIRE_MAX_HEADER_BYTES,
  checkCrossing,
  encodedSize,
  firstNonFinite,
  peekWireHeader,
  wireBatchSize,
  decodeTensors,
  encodeTensors,
  orderCrossing,
  type DecodedTensor,
  type WireDType,
  type WireTensor,
} from '../../core/wire';
import { seededRandom } from '../../core/random';

// ------------------------------------------------------------------ helpers

function randomData(n: number, seed: number, spread = 10): Float32Array {
  const next = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * spread;
  return out;
}

function tensor(name: string, shape: number[], seed = 1): WireTensor {
  return { name, shape, data: randomData(shape.reduce((a, b) => a * b, 1), seed) };
}

function bitsOf(data: Float32Array): Uint32Array {
  return new Uint32Array(data.buffer, data.byteOffset, data.length);
}

interface FrameOptions {
  magic?: number[];
  version?: number;
  reserved?: number;
  headerLength?: number;
  dataLength?: number;
}

/**
 * Builds a payload by hand around any header (object → JSON, string → raw
 * text, bytes → raw) so each malformed case is exactly one deviation from a
 * well-formed payload.
 */
function frame(header: unknown, data: Uint8Array = new Uint8Array(0), options: FrameOptions = {}): Uint8Array {
  const raw =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const padded = Math.ceil(raw.length / 8) * 8;
  const out = new Uint8Array(16 + padded + data.length);
  out.set(options.magic ?? [0x4f, 0x46, 0x4c, 0x54], 0);
  const view = new DataView(out.buffer);
  view.setUint16(4, options.version ?? 1, true);
  view.setUint16(6, options.reserved ?? 0, true);
  view.setUint32(8, options.headerLength ?? padded, true);
  view.setUint32(12, options.dataLength ?? data.length, true);
  out.set(raw, 16);
  out.fill(0x20, 16 + raw.length, 16 + padded);
  out.set(data, 16 + padded);
  return out;
}

function headerOf(bytes: Uint8Array): { tensors: Record<string, unknown>[] } {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length)));
}

function dataOf(bytes: Uint8Array): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return bytes.slice(16 + length);
}

function decodeError(bytes: Uint8Array): WireFormatError {
  try {
    decodeTensors(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(WireFormatError);
    return e as WireFormatError;
  }
  throw new Error('expected decodeTensors to throw');
}

const float32Entry = (over: Record<string, unknown> = {}) => ({
  name: 'x',
  dtype: 'float32',
  shape: [1, 2],
  offset: 0,
  length: 8,
  ...over,
});

// ------------------------------------------------------------------ constants

describe('wire constants', () => {
  it('match the contract and the cost model factors', () => {
    expect(WIRE_CONTENT_TYPE).toBe('application/vnd.offload.tensors');
    expect(DTYPE_FACTOR).toEqual({ float32: 1, float16: 0.5, int8: 0.25 });
  });

  it('size the data section by DTYPE_FACTOR', () => {
    const t = tensor('a', [2, 64, 64]);
    const sizes = (['float32', 'float16', 'int8'] as const).map((d) => dataOf(encodeTensors([t], d)).length);
    expect(sizes).toEqual([t.data.length * 4, t.data.length * 4 * 0.5, t.data.length * 4 * 0.25]);
  });
});

// ------------------------------------------------------------------ round trips

describe('float32 round trip', () => {
  it('is bit-exact, including NaN, ±Infinity, −0 and subnormals', () => {
    // Prepare
    const special = new Float32Array([0, -0, 1, -1, Infinity, -Infinity, NaN, 1e-45, -3.4e38, 3.4028234663852886e38]);
    const data = new Float32Array(special.length + 1000);
    data.set(special);
    data.set(randomData(1000, 7, 1e6), special.length);
    // Act
    const [out] = decodeTensors(encodeTensors([{ name: 'act', shape: [1, data.length], data }]));
    // Assess
    expect(out?.dtype).toBe('float32');
    expect(out?.shape).toEqual([1, data.length]);
    expect(Array.from(bitsOf(out!.data))).toEqual(Array.from(bitsOf(data)));
  });

  it('uses float32 by default', () => {
    const bytes = encodeTensors([tensor('a', [3])]);
    expect(headerOf(bytes).tensors[0]?.dtype).toBe('float32');
  });

  it('returns a zero-copy view when aligned, and a copy when asked or unaligned', () => {
    const bytes = encodeTensors([tensor('a', [1, 16])]);
    const view = decodeTensors(bytes)[0]!;
    expect(view.data.buffer).toBe(bytes.buffer);
    const copied = decodeTensors(bytes, { copy: true })[0]!;
    expect(copied.data.buffer).not.toBe(bytes.buffer);
    expect(Array.from(copied.data)).toEqual(Array.from(view.data));

    // A payload at an odd byte offset of a larger buffer (e.g. a slice of a network read).
    const host = new Uint8Array(bytes.length + 1);
    host.set(bytes, 1);
    const unaligned = decodeTensors(host.subarray(1))[0]!;
    expect(unaligned.data.buffer).not.toBe(host.buffer);
    expect(Array.from(unaligned.data)).toEqual(Array.from(view.data));
  });

  it('decodes from a Node Buffer', () => {
    const t = tensor('a', [2, 3], 5);
    const out = decodeTensors(Buffer.from(encodeTensors([t])))[0]!;
    expect(Array.from(out.data)).toEqual(Array.from(t.data));
  });
});

describe('float16 round trip', () => {
  it('maps every float16 bit pattern to itself (exhaustive)', () => {
    const mismatches: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const exponent = (h >>> 10) & 0x1f;
      const isNaN = exponent === 31 && (h & 0x3ff) !== 0;
      const bits = float16Bits(float16Value(h));
      // A NaN travels through a JS number as the canonical NaN, so only "is a quiet NaN" is checked.
      if (isNaN ? (bits & 0x7fff) !== 0x7e00 : bits !== h) mismatches.push(h);
    }
    expect(mismatches).toEqual([]);
  });

  it('rounds every midpoint between adjacent halves to the even one (exhaustive)', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x7bff; h++) {
      const mid = (float16Value(h) + float16Value(h + 1)) / 2; // exact in float32: needs 12 significant bits
      const even = h % 2 === 0 ? h : h + 1;
      if (float16Bits(mid) !== even || float16Bits(-mid) !== (0x8000 | even)) wrong.push(h);
      // Just off the midpoint, rounding goes to the nearer neighbour.
      const below = Math.fround(mid - (float16Value(h + 1) - float16Value(h)) / 4);
      if (float16Bits(below) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('handles the documented edge cases', () => {
    expect(float16Bits(65504)).toBe(0x7bff);
    expect(float16Bits(65519.99)).toBe(0x7bff);
    expect(float16Bits(65520)).toBe(0x7c00); // tie with 65536 → even → Infinity
    expect(float16Bits(-1e6)).toBe(0xfc00);
    expect(float16Bits(Infinity)).toBe(0x7c00);
    expect(float16Bits(NaN) & 0x7fff).toBe(0x7e00);
    expect(float16Bits(-0)).toBe(0x8000);
    expect(float16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float16Bits(2 ** -25)).toBe(0x0000); // tie → even (0)
    expect(float16Bits(3 * 2 ** -25)).toBe(0x0002); // tie → even (2)
    expect(float16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400); // subnormal rounds up into the normals
    expect(float16Bits(1e-9)).toBe(0);
  });

  it('keeps random values within max(2^-11·|x|, 2^-25) through the wire', () => {
    // Prepare: magnitudes from subnormal to near the float16 maximum.
    const next = seededRandom(11);
    const data = new Float32Array(20000);
    for (let i = 0; i < data.length; i++) data[i] = (next() < 0.5 ? -1 : 1) * 2 ** (next() * 40 - 25);
    // Act
    const out = decodeTensors(encodeTensors([{ name: 'h', shape: [4, 5000], data }], 'float16'))[0]!;
    // Assess
    expect(out.dtype).toBe('float16');
    let worst = 0;
    for (let i = 0; i < data.length; i++) {
      const x = data[i]!;
      const bound = Math.max(FLOAT16_RELATIVE_ERROR * Math.abs(x), FLOAT16_ABSOLUTE_ERROR);
      worst = Math.max(worst, Math.abs(x - out.data[i]!) / bound);
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(worst).toBeGreaterThan(0.5); // the bound is tight, not vacuous
  });

  it('carries specials through the wire', () => {
    const data = new Float32Array([Infinity, -Infinity, NaN, -0, 1e5, -70000]);
    const out = decodeTensors(encodeTensors([{ name: 's', shape: [6], data }], 'float16'))[0]!.data;
    expect(out[0]).toBe(Infinity);
    expect(out[1]).toBe(-Infinity);
    expect(out[2]).toBeNaN();
    expect(Object.is(out[3], -0)).toBe(true);
    expect(out[4]).toBe(Infinity);
    expect(out[5]).toBe(-Infinity);
  });
});

describe('int8 round trip', () => {
  function roundTrip(data: Float32Array): DecodedTensor {
    return decodeTensors(encodeTensors([{ name: 'q', shape: [1, data.length], data }], 'int8'))[0]!;
  }

  function maxError(a: Float32Array, b: Float32Array): number {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    return m;
  }

  it.each([
    ['symmetric', randomData(5000, 3, 4)],
    ['post-ReLU (non-negative, many zeros)', randomData(5000, 4, 6).map((x) => Math.max(0, x))],
    ['all negative', randomData(5000, 5, 2).map((x) => -Math.abs(x) - 1)],
    ['skewed', randomData(5000, 6, 1).map((x) => x * 100 + 40)],
  ])('stays within scale/2 for %s data and keeps 0 exact', (_label, data) => {
    const out = roundTrip(data);
    const lo = Math.min(0, ...data);
    const hi = Math.max(0, ...data);
    expect(out.dtype).toBe('int8');
    expect(out.scale).toBeCloseTo((hi - lo) / 255, 12);
    expect(Number.isInteger(out.zeroPoint)).toBe(true);
    const bound = (out.scale! / 2) * (1 + 1e-6) + Math.max(-lo, hi) * 2 ** -24;
    const err = maxError(data, out.data);
    expect(err).toBeLessThanOrEqual(bound);
    expect(err).toBeGreaterThan(out.scale! / 4); // the bound is tight, not vacuous
    for (let i = 0; i < data.length; i++) if (data[i] === 0) expect(out.data[i]).toBe(0);
  });

  it('round-trips a constant and an all-zero tensor', () => {
    expect(Array.from(roundTrip(new Float32Array(8)).data)).toEqual(new Array(8).fill(0));
    const c = roundTrip(new Float32Array(8).fill(2.5));
    expect(maxError(c.data, new Float32Array(8).fill(2.5))).toBeLessThanOrEqual(2.5 / 255 / 2 + 1e-6);
  });

  it('refuses NaN and Infinity on encode with a ValidationError naming the element', () => {
    const data = new Float32Array([1, 2, NaN]);
    expect(() => encodeTensors([{ name: 'q', shape: [3], data }], 'int8')).toThrow(ValidationError);
    expect(() => encodeTensors([{ name: 'q', shape: [3], data }], 'int8')).toThrow(/tensors\[0\]\.data: element 2 is NaN/);
    const inf = new Float32Array([1, -Infinity]);
    expect(() => encodeTensors([{ name: 'q', shape: [2], data: inf }], 'int8')).toThrow(/element 1 is -Infinity/);
  });
});

describe('multi-tensor payloads', () => {
  it.each(['float32', 'float16', 'int8'] as const)('keep names, shapes, order and alignment (%s)', (dtype: WireDType) => {
    // Prepare: odd element counts force padding between tensors.
    const tensors = [
      tensor('block4/add', [1, 7, 7, 3], 1),
      tensor('branch_ü', [1, 5], 2),
      tensor('empty', [1, 0, 4], 3),
      tensor('scalarish', [1], 4),
    ];
    // Act
    const bytes = encodeTensors(tensors, dtype);
    const out = decodeTensors(bytes);
    // Assess
    expect(out.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
    expect(out.map((t) => t.shape)).toEqual(tensors.map((t) => t.shape));
    expect(out.every((t) => t.dtype === dtype)).toBe(true);
    for (const entry of headerOf(bytes).tensors) expect((entry.offset as number) % 8).toBe(0);
    out.forEach((t, i) => {
      const want = tensors[i]!.data;
      expect(t.data.length).toBe(want.length);
      for (let j = 0; j < want.length; j++) expect(Math.abs(t.data[j]! - want[j]!)).toBeLessThan(0.05);
    });
  });
});

describe('views as input', () => {
  it.each(['float32', 'float16', 'int8'] as const)('encodes a Float32Array that is a view into a larger buffer (%s)', (dtype) => {
    // Prepare: the tensor's data starts 3 floats into a shared buffer, as tfjs dataSync() views may.
    const backing = randomData(64, 9, 2);
    const data = backing.subarray(3, 3 + 20);
    // Act
    const out = decodeTensors(encodeTensors([{ name: 'v', shape: [4, 5], data }], dtype))[0]!;
    // Assess
    const worst = Math.max(...Array.from(data, (x, i) => Math.abs(x - out.data[i]!)));
    expect(worst).toBeLessThanOrEqual(dtype === 'float32' ? 0 : dtype === 'float16' ? 2 * 2 ** -11 : 4 / 255 / 2 + 1e-6);
  });
});

describe('encode input validation', () => {
  it.each([
    ['no tensors', [], /tensors: at least one tensor/],
    ['empty name', [{ name: '', shape: [1], data: new Float32Array(1) }], /tensors\[0\]\.name/],
    ['duplicate names', [tensor('a', [1]), tensor('a', [2])], /tensors\[1\]\.name: duplicate tensor name "a"/],
    ['fractional dim', [{ name: 'a', shape: [1.5], data: new Float32Array(1) }], /tensors\[0\]\.shape: dimensions/],
    ['negative dim', [{ name: 'a', shape: [-1], data: new Float32Array(1) }], /tensors\[0\]\.shape/],
    ['shape/data mismatch', [{ name: 'a', shape: [2, 3], data: new Float32Array(5) }], /shape \[2,3\] has 6 elements but data has 5/],
  ] as [string, WireTensor[], RegExp][])('rejects %s', (_label, tensors, message) => {
    expect(() => encodeTensors(tensors)).toThrow(ValidationError);
    expect(() => encodeTensors(tensors)).toThrow(message);
  });

  it('rejects an unknown dtype', () => {
    expect(() => encodeTensors([tensor('a', [1])], 'bfloat16' as WireDType)).toThrow(/dtype: unknown dtype "bfloat16"/);
  });
});

// ------------------------------------------------------------------ malformed payloads

describe('decode validation', () => {
  const good = encodeTensors([tensor('x', [1, 2])]);
  const eightBytes = new Uint8Array(8);

  it('accepts the hand-built reference frame (so the cases below differ by one thing)', () => {
    expect(decodeTensors(frame({ tensors: [float32Entry()] }, eightBytes))[0]?.shape).toEqual([1, 2]);
    expect(Array.from(frame({ tensors: [float32Entry()] }, good.subarray(good.length - 8)))).toEqual(Array.from(good));
  });

  it.each([
    ['bad magic', () => frame({ tensors: [float32Entry()] }, eightBytes, { magic: [0x89, 0x50, 0x4e, 0x47] }), /bad magic bytes 89 50 4e 47/],
    ['JSON sent by mistake', () => new TextEncoder().encode('{"outputs":[]}'), /bad magic/],
    ['empty body', () => new Uint8Array(0), /truncated payload: 0 bytes is shorter than the 16-byte preamble/],
    ['cut inside the preamble', () => good.slice(0, 10), /truncated payload: 10 bytes/],
    ['unsupported version', () => frame({ tensors: [float32Entry()] }, eightBytes, { version: 2 }), /unsupported wire format version 2/],
    ['reserved field set', () => frame({ tensors: [float32Entry()] }, eightBytes, { reserved: 1 }), /reserved preamble field is 1/],
    ['header length 0', () => frame({ tensors: [float32Entry()] }, eightBytes, { headerLength: 0 }), /header length 0 out of bounds/],
    ['header length not aligned', () => frame({ tensors: [float32Entry()] }, eightBytes, { headerLength: 12 }), /header length 12 out of bounds/],
    ['header length above the limit', () => frame({ tensors: [float32Entry()] }, eightBytes, { headerLength: WIRE_MAX_HEADER_BYTES + 8 }), /header length \d+ out of bounds/],
    ['header length past the end', () => frame({ tensors: [float32Entry()] }, eightBytes, { headerLength: 4096 }), /header length 4096 out of bounds: only \d+ bytes follow/],
    ['truncated data', () => good.slice(0, good.length - 1), /truncated payload: preamble announces \d+ bytes .* got \d+/],
    ['trailing bytes', () => new Uint8Array([...good, 0, 0, 0]), /3 trailing bytes after the data section/],
    ['header not UTF-8', () => frame(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), eightBytes), /header is not valid UTF-8/],
    ['header not JSON', () => frame('{"tensors": [', eightBytes), /header is not valid JSON/],
    ['header deeply nested', () => frame('['.repeat(100000), eightBytes), /header is not valid JSON/],
    ['header is an array', () => frame([float32Entry()], eightBytes), /bad header structure at header: /],
    ['tensors missing', () => frame({ tensor: [] }, eightBytes), /bad header structure at header/],
    ['unknown header key', () => frame({ tensors: [float32Entry()], extra: 1 }, eightBytes), /bad header structure at header: .*extra/],
    ['unknown entry key', () => frame({ tensors: [float32Entry({ strides: [1] })] }, eightBytes), /header\.tensors\[0\].*strides/],
    ['name not a string', () => frame({ tensors: [float32Entry({ name: 7 })] }, eightBytes), /header\.tensors\[0\]\.name/],
    ['empty name', () => frame({ tensors: [float32Entry({ name: '' })] }, eightBytes), /header\.tensors\[0\]\.name: tensor name must not be empty/],
    ['negative dimension', () => frame({ tensors: [float32Entry({ shape: [1, -2] })] }, eightBytes), /header\.tensors\[0\]\.shape\[1\]: dimension must be a non-negative integer/],
    ['fractional dimension', () => frame({ tensors: [float32Entry({ shape: [1, 2.5] })] }, eightBytes), /header\.tensors\[0\]\.shape\[1\]/],
    ['rank too high', () => frame({ tensors: [float32Entry({ shape: new Array(17).fill(1) })] }, eightBytes), /header\.tensors\[0\]\.shape: rank above 16/],
    ['offset as a string', () => frame({ tensors: [float32Entry({ offset: '0' })] }, eightBytes), /header\.tensors\[0\]\.offset/],
    ['unknown dtype', () => frame({ tensors: [float32Entry({ dtype: 'bfloat16' })] }, eightBytes), /header\.tensors\[0\]\.dtype: unknown dtype "bfloat16"/],
    ['shape × dtype ≠ length', () => frame({ tensors: [float32Entry({ shape: [1, 3] })] }, eightBytes), /tensor "x": shape \[1,3\] × float32 \(4 bytes\) = 12 bytes, but length is 8/],
    ['float16 size mismatch', () => frame({ tensors: [float32Entry({ dtype: 'float16' })] }, eightBytes), /shape \[1,2\] × float16 \(2 bytes\) = 4 bytes, but length is 8/],
    ['misaligned offset', () => frame({ tensors: [float32Entry({ offset: 4, length: 4, shape: [1] })] }, eightBytes), /offset 4 is not a multiple of 8/],
    ['offset out of bounds', () => frame({ tensors: [float32Entry({ offset: 8 })] }, eightBytes), /tensor "x": bytes 8\.\.16 out of bounds of the 8-byte data section/],
    ['huge offset', () => frame({ tensors: [float32Entry({ offset: 2 ** 52 })] }, eightBytes), /out of bounds/],
    ['overlapping tensors', () => frame({ tensors: [float32Entry(), float32Entry({ name: 'y' })] }, eightBytes), /tensors "x" and "y" overlap/],
    ['gap before a tensor', () => frame({ tensors: [float32Entry({ offset: 8 })] }, new Uint8Array(16)), /8 unreferenced bytes before tensor "x"/],
    ['bytes after the last tensor', () => frame({ tensors: [float32Entry()] }, new Uint8Array(16)), /8 unreferenced bytes after the last tensor/],
    ['zero scale', () => frame({ tensors: [float32Entry({ dtype: 'int8', length: 2, scale: 0, zeroPoint: 0 })] }, new Uint8Array(2)), /tensor "x": int8 scale 0 must be finite and > 0/],
    ['negative scale', () => frame({ tensors: [float32Entry({ dtype: 'int8', length: 2, scale: -0.5, zeroPoint: 0 })] }, new Uint8Array(2)), /int8 scale -0\.5 must be finite and > 0/],
    ['infinite scale (1e999 in JSON)', () => frame(`{"tensors":[{"name":"x","dtype":"int8","shape":[1,2],"offset":0,"length":2,"scale":1e999,"zeroPoint":0}]}`, new Uint8Array(2)), /header\.tensors\[0\]\.scale: scale must be a finite number/],
    ['zero point out of range', () => frame({ tensors: [float32Entry({ dtype: 'int8', length: 2, scale: 0.1, zeroPoint: 200 })] }, new Uint8Array(2)), /int8 zero point 200 out of range/],
    ['fractional zero point', () => frame({ tensors: [float32Entry({ dtype: 'int8', length: 2, scale: 0.1, zeroPoint: 1.5 })] }, new Uint8Array(2)), /int8 zero point 1\.5 out of range/],
    ['int8 without scale', () => frame({ tensors: [float32Entry({ dtype: 'int8', length: 2, zeroPoint: 0 })] }, new Uint8Array(2)), /int8 needs both scale and zeroPoint/],
    ['scale on float32', () => frame({ tensors: [float32Entry({ scale: 1, zeroPoint: 0 })] }, eightBytes), /scale and zeroPoint are only allowed for int8, not float32/],
    ['duplicate names', () => frame({ tensors: [float32Entry(), float32Entry({ offset: 8 })] }, new Uint8Array(16)), /duplicate tensor name "x"/],
    ['empty tensor list', () => frame({ tensors: [] }), /empty tensor list/],
  ] as [string, () => Uint8Array, RegExp][])('rejects %s', (_label, build, message) => {
    expect(decodeError(build()).message).toMatch(message);
  });

  it('rejects a value that is not bytes', () => {
    expect(decodeError('OFLT' as unknown as Uint8Array).message).toMatch(/payload must be a Uint8Array/);
  });

  it('maps to HTTP 400 with code wire-format', () => {
    const e = decodeError(new Uint8Array(3));
    expect(e.status).toBe(400);
    expect(e.toJSON().code).toBe('wire-format');
  });
});

// ------------------------------------------------------------------ crossing check

describe('checkCrossing', () => {
  const decoded = (name: string, shape: number[]): DecodedTensor => ({
    name,
    shape,
    dtype: 'float32',
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  });
  const expected = [
    { name: 'a', shape: [4, 4, 8] },
    { name: 'b', shape: [16] },
  ];

  it('accepts the crossing set in any order and with any common batch', () => {
    expect(() => checkCrossing([decoded('b', [3, 16]), decoded('a', [3, 4, 4, 8])], expected)).not.toThrow();
    const ordered = orderCrossing([decoded('b', [1, 16]), decoded('a', [1, 4, 4, 8])], expected);
    expect(ordered.map((t) => t.name)).toEqual(['a', 'b']);
  });

  it.each([
    ['a missing tensor', [decoded('a', [1, 4, 4, 8])], /crossing mismatch: missing "b" \(this cut expects "a", "b"\)/],
    ['an unexpected tensor', [decoded('a', [1, 4, 4, 8]), decoded('b', [1, 16]), decoded('c', [1, 2])], /crossing mismatch: unexpected "c"/],
    ['a renamed tensor', [decoded('a', [1, 4, 4, 8]), decoded('B', [1, 16])], /missing "b"; unexpected "B"/],
    ['a duplicate tensor', [decoded('a', [1, 4, 4, 8]), decoded('a', [1, 4, 4, 8])], /tensor "a" appears twice/],
    ['a missing batch dimension', [decoded('a', [4, 4, 8]), decoded('b', [1, 16])], /tensor "a": shape \[4,4,8\] does not match the crossing shape \[batch,4,4,8\]/],
    ['a wrong dimension', [decoded('a', [1, 4, 4, 9]), decoded('b', [1, 16])], /tensor "a": shape \[1,4,4,9\] does not match/],
    ['different batch sizes', [decoded('a', [2, 4, 4, 8]), decoded('b', [3, 16])], /batch sizes differ: tensor "a" has 2, tensor "b" has 3/],
    ['an empty batch', [decoded('a', [0, 4, 4, 8]), decoded('b', [0, 16])], /batch size 0 must be at least 1/],
  ] as [string, DecodedTensor[], RegExp][])('rejects %s', (_label, tensors, message) => {
    expect(() => checkCrossing(tensors, expected)).toThrow(WireFormatError);
    expect(() => checkCrossing(tensors, expected)).toThrow(message);
  });

  it('checks what came off the wire', () => {
    const bytes = encodeTensors([tensor('a', [2, 4, 4, 8]), tensor('b', [2, 16])], 'float16');
    expect(() => checkCrossing(decodeTensors(bytes), expected)).not.toThrow();
    expect(() => checkCrossing(decodeTensors(bytes), [{ name: 'a', shape: [4, 4, 8] }])).toThrow(/unexpected "b"/);
  });
});

// ------------------------------------------------------------------ fuzzing

/** Decodes; anything thrown that is not a WireFormatError fails the property. A success must be self-consistent. */
function decodesOrRejects(bytes: Uint8Array): boolean {
  let out: DecodedTensor[];
  try {
    out = decodeTensors(bytes);
  } catch (e) {
    if (e instanceof WireFormatError) return true;
    throw e;
  }
  expect(out.length).toBeGreaterThan(0);
  for (const t of out) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  return true;
}

const tensorArb = fc.record({
  name: fc.string({ minLength: 1, maxLength: 12 }),
  shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
  seed: fc.integer(),
});

const payloadArb = fc
  .tuple(
    fc.uniqueArray(tensorArb, { minLength: 1, maxLength: 4, selector: (t) => t.name }),
    fc.constantFrom<WireDType>('float32', 'float16', 'int8'),
  )
  .map(([specs, dtype]) => encodeTensors(specs.map((s) => tensor(s.name, s.shape, s.seed)), dtype));

describe('fuzzing: malformed payloads decode or throw WireFormatError, never anything else', () => {
  it('valid payloads always decode', () => {
    fc.assert(fc.property(payloadArb, (bytes) => decodeTensors(bytes).length > 0), { numRuns: 200 });
  });

  it('survives random byte mutations', () => {
    fc.assert(
      fc.property(
        payloadArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (bytes, edits) => {
          const mutated = bytes.slice();
          for (const [at, value] of edits) mutated[at % mutated.length] = value;
          return decodesOrRejects(mutated);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('survives mutations aimed at the preamble and header', () => {
    fc.assert(
      fc.property(
        payloadArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (bytes, edits) => {
          const headerEnd = 16 + new DataView(bytes.buffer).getUint32(8, true);
          const mutated = bytes.slice();
          for (const [at, value] of edits) mutated[at % headerEnd] = value;
          return decodesOrRejects(mutated);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('survives truncation and extension', () => {
    fc.assert(
      fc.property(payloadArb, fc.nat(), fc.uint8Array({ maxLength: 16 }), (bytes, cut, extra) => {
        const truncated = bytes.subarray(0, cut % (bytes.length + 1));
        const extended = new Uint8Array([...truncated, ...extra]);
        return decodesOrRejects(truncated) && decodesOrRejects(extended);
      }),
      { numRuns: 1000 },
    );
  });

  it('survives well-framed headers with arbitrary field values', () => {
    const fields = ['name', 'dtype', 'shape', 'offset', 'length', 'scale', 'zeroPoint'];
    const valueArb = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.integer({ min: -300, max: 300 }),
      fc.constantFrom(0, -1, 1.5, 2 ** 53, 1e308, 'float16', 'int8', [], [1, 2]),
    );
    fc.assert(
      fc.property(
        payloadArb,
        fc.nat(),
        fc.constantFrom(...fields),
        valueArb,
        fc.boolean(),
        (bytes, which, field, value, remove) => {
          const header = headerOf(bytes);
          const entry = header.tensors[which % header.tensors.length]!;
          if (remove) delete entry[field];
          else entry[field] = value;
          return decodesOrRejects(frame(header, dataOf(bytes)));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('survives random bytes behind a valid magic and version', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (tail) => {
        return decodesOrRejects(new Uint8Array([0x4f, 0x46, 0x4c, 0x54, 1, 0, 0, 0, ...tail]));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('reading limits before decoding', () => {
  const tensors = [
    { name: 'a', shape: [3, 2, 5], data: Float32Array.from({ length: 30 }, (_, i) => i / 7) },
    { name: 'b', shape: [3, 7], data: Float32Array.from({ length: 21 }, (_, i) => -i) },
  ];

  it('peekWireHeader reads the header from the first bytes alone, and wireBatchSize the batch', () => {
    const bytes = encodeTensors(tensors, 'float16');
    const asked: number[] = [];
    const header = peekWireHeader((n) => {
      asked.push(n);
      return bytes.subarray(0, n);
    });
    expect(header?.tensors.map((t) => [t.name, t.shape])).toEqual([['a', [3, 2, 5]], ['b', [3, 7]]]);
    expect(wireBatchSize(header!)).toBe(3);
    expect(Math.max(...asked)).toBeLessThan(bytes.byteLength); // the data section was never read
    expect(peekWireHeader((n) => bytes.subarray(0, Math.min(n, 20)))).toBeUndefined(); // too short: undefined
    expect(() => peekWireHeader(() => new TextEncoder().encode('not a payload at all'))).toThrow(/bad magic/);
  });

  it('encodedSize equals the size encodeTensors writes', () => {
    for (const dtype of ['float32', 'float16'] as const) {
      expect(encodedSize(tensors, dtype)).toBe(encodeTensors(tensors, dtype).byteLength);
    }
    expect(encodedSize(tensors, 'int8')).toBeGreaterThanOrEqual(encodeTensors(tensors, 'int8').byteLength);
  });

  it('firstNonFinite finds NaN and ±Infinity, and nothing in finite data', () => {
    expect(firstNonFinite(Float32Array.from([0, -0, 3.4e38, -1e-45]))).toBe(-1);
    expect(firstNonFinite(Float32Array.from([1, Number.NaN, 2]))).toBe(1);
    expect(firstNonFinite(Float32Array.from([1, 2, Number.NEGATIVE_INFINITY]))).toBe(2);
    expect(firstNonFinite(Float32Array.from([Number.POSITIVE_INFINITY]))).toBe(0);
  });
});
