/**
 * The tensor wire format: one binary payload carrying one or more named
 * tensors between a device (head) and a tail function. Layout, fields, error
 * bounds and the validation list are documented in docs/wire-format.md.
 *
 *   offset 0   4 bytes  magic "OFLT"
 *          4   u16 LE   version (1)
 *          6   u16 LE   reserved, 0
 *          8   u32 LE   header length H (multiple of 8)
 *         12   u32 LE   data length D
 *         16   H bytes  UTF-8 JSON header, padded with spaces
 *       16+H   D bytes  tensor data, each tensor at an 8-aligned offset
 */
import * as z from 'zod';
import { ValidationError, WireFormatError } from './errors';
import {
  NonFiniteValueError,
  chooseInt8Params,
  dequantizeInt8,
  float16ToFloat32,
  float32ToFloat16,
  quantizeInt8,
} from './quantize';
import { formatPath } from './validation';
import { DTYPE_BYTES, DTYPES, isDType, type DType } from './dtypes';

/** Element encodings a payload can carry (core/dtypes.ts). */
export type WireDType = DType;

/** HTTP content type of a wire payload. */
export const WIRE_CONTENT_TYPE = 'application/vnd.offload.tensors';

export { DTYPE_BYTES, DTYPE_FACTOR } from './dtypes';

/** The four bytes every payload starts with: ASCII "OFLT". */
export const WIRE_MAGIC: readonly number[] = [0x4f, 0x46, 0x4c, 0x54];
/** The format version this code writes and reads. */
export const WIRE_VERSION = 1;
/** Bytes before the JSON header. */
export const WIRE_PREAMBLE_BYTES = 16;
/** Alignment of the header end and of every tensor's data offset. */
export const WIRE_ALIGNMENT = 8;
/** Largest JSON header accepted (bounds the work a hostile payload can cause). */
export const WIRE_MAX_HEADER_BYTES = 1 << 20;
/** Longest tensor name accepted. */
export const WIRE_MAX_NAME_LENGTH = 1024;
/** Highest tensor rank accepted. */
export const WIRE_MAX_RANK = 16;
/** Largest data section (the length field is a u32). */
export const WIRE_MAX_DATA_BYTES = 0xffffffff;

/** A named float32 tensor; `shape` includes the batch dimension. */
export interface WireTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A decoded tensor: `data` is dequantised to float32, `dtype` says how it travelled. */
export interface DecodedTensor extends WireTensor {
  dtype: WireDType;
  /** int8 only: the affine scale it was quantised with. */
  scale?: number;
  /** int8 only: the affine zero point it was quantised with. */
  zeroPoint?: number;
}

export interface DecodeOptions {
  /**
   * Always copy float32 data out of `bytes`. By default a float32 tensor whose
   * data is 4-byte aligned in memory is returned as a view into `bytes`
   * (zero-copy), so it changes if `bytes` is later overwritten.
   */
  copy?: boolean;
}

/** True when typed arrays are little-endian here, so the wire bytes can be viewed directly. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const TEXT_ENCODER = new TextEncoder();
const TEXT_DECODER = new TextDecoder('utf-8', { fatal: true });

export function isWireDType(value: unknown): value is WireDType {
  return isDType(value);
}

function alignUp(n: number): number {
  return Math.ceil(n / WIRE_ALIGNMENT) * WIRE_ALIGNMENT;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---------------------------------------------------------------- header

const dtypeSchema = z.enum(DTYPES, {
  error: (issue) => `unknown dtype ${JSON.stringify(issue.input)} (expected ${DTYPES.slice(0, -1).join(', ')} or ${DTYPES.at(-1)})`,
});

const tensorEntrySchema = z.strictObject({
  name: z
    .string()
    .min(1, 'tensor name must not be empty')
    .max(WIRE_MAX_NAME_LENGTH, `tensor name longer than ${WIRE_MAX_NAME_LENGTH} characters`),
  dtype: dtypeSchema,
  shape: z
    .array(z.int().nonnegative('dimension must be a non-negative integer'))
    .max(WIRE_MAX_RANK, `rank above ${WIRE_MAX_RANK}`),
  offset: z.int().nonnegative('offset must be a non-negative integer'),
  length: z.int().nonnegative('length must be a non-negative integer'),
  scale: z.number({ error: 'scale must be a finite number' }).optional(),
  zeroPoint: z.number({ error: 'zeroPoint must be a finite number' }).optional(),
});

/** The JSON header of a payload. */
export const WireHeaderSchema = z.strictObject({
  tensors: z.array(tensorEntrySchema),
});
export type WireHeader = z.infer<typeof WireHeaderSchema>;
type WireHeaderEntry = z.infer<typeof tensorEntrySchema>;

// ---------------------------------------------------------------- encode

interface Planned {
  tensor: WireTensor;
  entry: WireHeaderEntry;
}

function checkEncodeInput(tensors: readonly WireTensor[], dtype: WireDType): void {
  if (!isWireDType(dtype)) {
    throw new ValidationError('dtype', `unknown dtype ${JSON.stringify(dtype)} (expected ${DTYPES.slice(0, -1).join(', ')} or ${DTYPES.at(-1)})`);
  }
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new ValidationError('tensors', 'at least one tensor is required');
  }
  const seen = new Set<string>();
  tensors.forEach((t, i) => {
    const at = `tensors[${i}]`;
    if (typeof t.name !== 'string' || t.name.length === 0 || t.name.length > WIRE_MAX_NAME_LENGTH) {
      throw new ValidationError(`${at}.name`, `must be a string of 1 to ${WIRE_MAX_NAME_LENGTH} characters`);
    }
    if (seen.has(t.name)) throw new ValidationError(`${at}.name`, `duplicate tensor name "${t.name}"`);
    seen.add(t.name);
    if (!Array.isArray(t.shape) || t.shape.length > WIRE_MAX_RANK) {
      throw new ValidationError(`${at}.shape`, `must be an array of at most ${WIRE_MAX_RANK} dimensions`);
    }
    if (!t.shape.every((d: number) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ValidationError(`${at}.shape`, `dimensions must be non-negative integers, got ${shapeText(t.shape)}`);
    }
    if (!(t.data instanceof Float32Array)) throw new ValidationError(`${at}.data`, 'must be a Float32Array');
    const n = elementCount(t.shape);
    if (n !== t.data.length) {
      throw new ValidationError(`${at}.data`, `shape ${shapeText(t.shape)} has ${n} elements but data has ${t.data.length}`);
    }
  });
}

/**
 * Encodes named float32 tensors into one payload, converting every tensor to
 * `dtype` (default float32, which is exact).
 *
 * @throws ValidationError on bad input: no tensors, empty or duplicate names,
 *   a shape that does not match the data length, or (int8) NaN/±Infinity.
 * @example
 * const body = encodeTensors([{ name: 'block3_out', shape: [1, 28, 28, 256], data }], 'float16');
 */
export function encodeTensors(tensors: readonly WireTensor[], dtype: WireDType = 'float32'): Uint8Array {
  checkEncodeInput(tensors, dtype);
  const size = DTYPE_BYTES[dtype];
  const planned: Planned[] = [];
  let end = 0;
  tensors.forEach((tensor, i) => {
    const offset = alignUp(end);
    const length = tensor.data.length * size;
    const entry: WireHeaderEntry = { name: tensor.name, dtype, shape: [...tensor.shape], offset, length };
    if (dtype === 'int8') {
      try {
        Object.assign(entry, chooseInt8Params(tensor.data));
      } catch (e) {
        if (e instanceof NonFiniteValueError) throw new ValidationError(`tensors[${i}].data`, e.message);
        throw e;
      }
    }
    planned.push({ tensor, entry });
    end = offset + length;
  });
  if (end > WIRE_MAX_DATA_BYTES) {
    throw new ValidationError('tensors', `${end} data bytes exceed the format's ${WIRE_MAX_DATA_BYTES}-byte limit`);
  }

  const json = TEXT_ENCODER.encode(JSON.stringify({ tensors: planned.map((p) => p.entry) }));
  const headerLength = alignUp(json.length);
  if (headerLength > WIRE_MAX_HEADER_BYTES) {
    throw new ValidationError('tensors', `header of ${headerLength} bytes exceeds ${WIRE_MAX_HEADER_BYTES} (too many or too long names)`);
  }
  const dataStart = WIRE_PREAMBLE_BYTES + headerLength;
  const out = new Uint8Array(dataStart + end);
  out.set(WIRE_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint16(4, WIRE_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint32(8, headerLength, true);
  view.setUint32(12, end, true);
  out.set(json, WIRE_PREAMBLE_BYTES);
  out.fill(0x20, WIRE_PREAMBLE_BYTES + json.length, dataStart);

  for (const { tensor, entry } of planned) {
    writeData(out, dataStart + entry.offset, tensor.data, entry);
  }
  return out;
}

/** Writes one tensor's elements at `at` (absolute, 8-aligned, in a buffer that starts at byteOffset 0). */
function writeData(out: Uint8Array, at: number, data: Float32Array, entry: WireHeaderEntry): void {
  const n = data.length;
  if (n === 0) return;
  if (entry.dtype === 'int8') {
    quantizeInt8(data, { scale: entry.scale as number, zeroPoint: entry.zeroPoint as number }, new Int8Array(out.buffer, at, n));
  } else if (entry.dtype === 'float16') {
    if (HOST_LITTLE_ENDIAN) {
      float32ToFloat16(data, new Uint16Array(out.buffer, at, n));
    } else {
      const halves = new Uint16Array(n);
      float32ToFloat16(data, halves);
      const view = new DataView(out.buffer, at, n * 2);
      for (let i = 0; i < n; i++) view.setUint16(i * 2, halves[i] as number, true);
    }
  } else if (HOST_LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, n * 4), at);
  } else {
    const view = new DataView(out.buffer, at, n * 4);
    for (let i = 0; i < n; i++) view.setFloat32(i * 4, data[i] as number, true);
  }
}

// ---------------------------------------------------------------- decode

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function fail(message: string): never {
  throw new WireFormatError(message);
}

/** The preamble's fields, checked on their own (magic, version, reserved, header length bounds). */
function readPreamble(bytes: Uint8Array): { headerLength: number; dataLength: number } {
  const head = bytes.subarray(0, 4);
  for (let i = 0; i < head.length; i++) {
    if (head[i] !== WIRE_MAGIC[i]) {
      fail(`bad magic bytes ${hex(head)} (expected 4f 46 4c 54, "OFLT"): not an offload tensor payload`);
    }
  }
  if (bytes.length < WIRE_PREAMBLE_BYTES) {
    fail(`truncated payload: ${bytes.length} bytes is shorter than the ${WIRE_PREAMBLE_BYTES}-byte preamble`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, WIRE_PREAMBLE_BYTES);
  const version = view.getUint16(4, true);
  if (version !== WIRE_VERSION) fail(`unsupported wire format version ${version} (this build reads version ${WIRE_VERSION})`);
  const reserved = view.getUint16(6, true);
  if (reserved !== 0) fail(`reserved preamble field is ${reserved}, must be 0`);
  const headerLength = view.getUint32(8, true);
  const dataLength = view.getUint32(12, true);
  if (headerLength === 0 || headerLength > WIRE_MAX_HEADER_BYTES || headerLength % WIRE_ALIGNMENT !== 0) {
    fail(
      `header length ${headerLength} out of bounds (must be a multiple of ${WIRE_ALIGNMENT} in 8..${WIRE_MAX_HEADER_BYTES})`,
    );
  }
  return { headerLength, dataLength };
}

function checkPreamble(bytes: Uint8Array): { headerLength: number; dataLength: number } {
  const { headerLength, dataLength } = readPreamble(bytes);
  if (WIRE_PREAMBLE_BYTES + headerLength > bytes.length) {
    fail(
      `header length ${headerLength} out of bounds: only ${bytes.length - WIRE_PREAMBLE_BYTES} bytes follow the preamble`,
    );
  }
  const expected = WIRE_PREAMBLE_BYTES + headerLength + dataLength;
  if (bytes.length < expected) {
    fail(
      `truncated payload: preamble announces ${expected} bytes (${headerLength} header + ${dataLength} data), got ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    fail(`${bytes.length - expected} trailing bytes after the data section (payload should be ${expected} bytes)`);
  }
  return { headerLength, dataLength };
}

function parseHeader(bytes: Uint8Array): WireHeader {
  let text: string;
  try {
    text = TEXT_DECODER.decode(bytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const result = WireHeaderSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue ? formatPath(issue.path) : '';
    fail(`bad header structure at ${path ? `header.${path}` : 'header'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** Cross-field checks the schema cannot express: sizes, quantisation parameters, names, layout. */
function checkEntries(entries: readonly WireHeaderEntry[], dataLength: number): void {
  if (entries.length === 0) fail('empty tensor list: a payload carries at least one tensor');
  const names = new Set<string>();
  for (const e of entries) {
    const who = `tensor "${e.name}"`;
    if (names.has(e.name)) fail(`duplicate tensor name "${e.name}"`);
    names.add(e.name);
    const expected = elementCount(e.shape) * DTYPE_BYTES[e.dtype];
    if (expected !== e.length) {
      fail(
        `${who}: shape ${shapeText(e.shape)} × ${e.dtype} (${DTYPE_BYTES[e.dtype]} bytes) = ${expected} bytes, but length is ${e.length}`,
      );
    }
    if (e.dtype === 'int8') {
      if (e.scale === undefined || e.zeroPoint === undefined) fail(`${who}: int8 needs both scale and zeroPoint`);
      if (!Number.isFinite(e.scale) || e.scale <= 0) fail(`${who}: int8 scale ${e.scale} must be finite and > 0`);
      if (!Number.isInteger(e.zeroPoint) || e.zeroPoint < -128 || e.zeroPoint > 127) {
        fail(`${who}: int8 zero point ${e.zeroPoint} out of range (integer in -128..127)`);
      }
    } else if (e.scale !== undefined || e.zeroPoint !== undefined) {
      fail(`${who}: scale and zeroPoint are only allowed for int8, not ${e.dtype}`);
    }
    if (e.offset % WIRE_ALIGNMENT !== 0) fail(`${who}: offset ${e.offset} is not a multiple of ${WIRE_ALIGNMENT}`);
    if (e.offset + e.length > dataLength) {
      fail(`${who}: bytes ${e.offset}..${e.offset + e.length} out of bounds of the ${dataLength}-byte data section`);
    }
  }
  // The layout must be the packed one the encoder writes: sorted by offset,
  // each tensor starts at the first aligned byte after the previous one, and
  // the data section ends with the last tensor. Anything else either overlaps
  // or hides unreferenced bytes.
  const order = [...entries].sort((a, b) => a.offset - b.offset || a.length - b.length);
  let end = 0;
  let previous: WireHeaderEntry | undefined;
  for (const e of order) {
    if (previous && e.offset < end) fail(`tensors "${previous.name}" and "${e.name}" overlap in the data section`);
    const packed = alignUp(end);
    if (e.offset > packed) fail(`${e.offset - end} unreferenced bytes before tensor "${e.name}" in the data section`);
    end = e.offset + e.length;
    previous = e;
  }
  if (end !== dataLength) fail(`${dataLength - end} unreferenced bytes after the last tensor in the data section`);
}

/** Reads one tensor's data; bounds were checked by checkEntries. */
function readData(bytes: Uint8Array, at: number, entry: WireHeaderEntry, copy: boolean): Float32Array {
  const n = elementCount(entry.shape);
  const src = bytes.subarray(at, at + entry.length);
  const absolute = bytes.byteOffset + at;
  if (entry.dtype === 'float32') {
    if (!HOST_LITTLE_ENDIAN) {
      const view = new DataView(src.buffer, src.byteOffset, src.length);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    if (!copy && absolute % 4 === 0) return new Float32Array(bytes.buffer, absolute, n);
    return new Float32Array(src.slice().buffer, 0, n);
  }
  const out = new Float32Array(n);
  if (n === 0) return out;
  if (entry.dtype === 'float16') {
    let halves: Uint16Array;
    if (!HOST_LITTLE_ENDIAN) {
      const view = new DataView(src.buffer, src.byteOffset, src.length);
      halves = new Uint16Array(n);
      for (let i = 0; i < n; i++) halves[i] = view.getUint16(i * 2, true);
    } else {
      halves = absolute % 2 === 0 ? new Uint16Array(bytes.buffer, absolute, n) : new Uint16Array(src.slice().buffer, 0, n);
    }
    float16ToFloat32(halves, out);
    return out;
  }
  dequantizeInt8(
    new Int8Array(bytes.buffer, absolute, n),
    { scale: entry.scale as number, zeroPoint: entry.zeroPoint as number },
    out,
  );
  return out;
}

/**
 * Decodes and validates a payload. Every tensor comes back as float32
 * (float16 widened exactly, int8 dequantised), in header order.
 *
 * @throws WireFormatError naming the problem for any malformed payload — bad
 *   magic, unsupported version, header length out of bounds, truncated or
 *   trailing bytes, header not UTF-8/JSON or of the wrong structure, unknown
 *   dtype, shape × dtype size ≠ length, bad int8 scale/zero point, misaligned,
 *   out-of-bounds, overlapping or gapped offsets, duplicate names, no tensors.
 */
export function decodeTensors(bytes: Uint8Array, options: DecodeOptions = {}): DecodedTensor[] {
  if (!(bytes instanceof Uint8Array)) fail('payload must be a Uint8Array (or Buffer) of bytes');
  const { headerLength, dataLength } = checkPreamble(bytes);
  const header = parseHeader(bytes.subarray(WIRE_PREAMBLE_BYTES, WIRE_PREAMBLE_BYTES + headerLength));
  checkEntries(header.tensors, dataLength);
  const dataStart = WIRE_PREAMBLE_BYTES + headerLength;
  return header.tensors.map((entry) => {
    const data = readData(bytes, dataStart + entry.offset, entry, options.copy === true);
    const tensor: DecodedTensor = { name: entry.name, shape: entry.shape, dtype: entry.dtype, data };
    if (entry.dtype === 'int8') {
      tensor.scale = entry.scale;
      tensor.zeroPoint = entry.zeroPoint;
    }
    return tensor;
  });
}

/**
 * Reads the preamble and JSON header from the first bytes of a payload, before
 * (or without) the rest: what a server needs to check limits such as the batch
 * size before it decodes a body. `prefix(n)` returns the payload's first `n`
 * bytes (fewer when the payload is shorter).
 *
 * @returns the header, or undefined when the payload is too short to hold it.
 * @throws WireFormatError for a malformed preamble or header (as {@link decodeTensors} would).
 * @example
 * const header = peekWireHeader((n) => body.subarray(0, n));
 * const batch = header && wireBatchSize(header);
 */
export function peekWireHeader(prefix: (bytes: number) => Uint8Array): WireHeader | undefined {
  const preamble = prefix(WIRE_PREAMBLE_BYTES);
  if (preamble.length < WIRE_PREAMBLE_BYTES) return undefined;
  const { headerLength } = readPreamble(preamble);
  const head = prefix(WIRE_PREAMBLE_BYTES + headerLength);
  if (head.length < WIRE_PREAMBLE_BYTES + headerLength) return undefined;
  return parseHeader(head.subarray(WIRE_PREAMBLE_BYTES));
}

/** The largest leading (batch) dimension among a header's tensors; undefined when none has a dimension. */
export function wireBatchSize(header: WireHeader): number | undefined {
  let batch: number | undefined;
  for (const t of header.tensors) {
    const b = t.shape[0];
    if (b !== undefined && (batch === undefined || b > batch)) batch = b;
  }
  return batch;
}

/**
 * Bytes {@link encodeTensors} would write for tensors of these names and
 * shapes, without the data: lets a server refuse a response too large to send
 * before computing it.
 */
export function encodedSize(tensors: readonly { name: string; shape: readonly number[] }[], dtype: WireDType = 'float32'): number {
  let end = 0;
  const entries = tensors.map((t) => {
    const offset = alignUp(end);
    const length = elementCount(t.shape) * DTYPE_BYTES[dtype];
    end = offset + length;
    // int8 adds scale and zero point; their longest spelling bounds the header
    return dtype === 'int8' ? { name: t.name, dtype, shape: t.shape, offset, length, scale: -1.2345678901234567e-300, zeroPoint: -128 } : { name: t.name, dtype, shape: t.shape, offset, length };
  });
  const json = TEXT_ENCODER.encode(JSON.stringify({ tensors: entries }));
  return WIRE_PREAMBLE_BYTES + alignUp(json.length) + end;
}

/**
 * Index of the first NaN or ±Infinity in `data`, or -1. Float payloads can
 * carry them (int8 cannot); a tail answers 400 rather than computing garbage.
 */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    // v - v is NaN exactly for NaN and ±Infinity, and faster than Number.isFinite in this loop
    if (v - v !== 0) return i;
  }
  return -1;
}

// ---------------------------------------------------------------- crossing check

/** A tensor a cut expects: its name and per-example shape (no batch dimension). */
export interface ExpectedTensor {
  name: string;
  shape: readonly number[];
}

function quoted(names: Iterable<string>): string {
  return [...names].map((n) => `"${n}"`).join(', ');
}

/**
 * Checks decoded tensors against a cut's crossing set: the names must match
 * the set exactly (order free), each shape must be [batch, ...expected shape],
 * and every tensor must have the same batch size (≥ 1).
 *
 * @throws WireFormatError saying which tensor is missing, unexpected, or of the wrong shape.
 */
export function checkCrossing(tensors: readonly DecodedTensor[], expected: readonly ExpectedTensor[]): void {
  const expectedByName = new Map(expected.map((e) => [e.name, e]));
  const got = new Set<string>();
  for (const t of tensors) {
    if (got.has(t.name)) fail(`crossing mismatch: tensor "${t.name}" appears twice`);
    got.add(t.name);
  }
  const missing = [...expectedByName.keys()].filter((n) => !got.has(n));
  const unexpected = [...got].filter((n) => !expectedByName.has(n));
  if (missing.length > 0 || unexpected.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${quoted(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected ${quoted(unexpected)}`);
    fail(`crossing mismatch: ${parts.join('; ')} (this cut expects ${quoted(expectedByName.keys()) || 'no tensors'})`);
  }
  let batch: { size: number; name: string } | undefined;
  for (const t of tensors) {
    const want = (expectedByName.get(t.name) as ExpectedTensor).shape;
    const fits = t.shape.length === want.length + 1 && want.every((d, i) => t.shape[i + 1] === d);
    if (!fits) {
      fail(`tensor "${t.name}": shape ${shapeText(t.shape)} does not match the crossing shape [batch,${want.join(',')}]`);
    }
    const size = t.shape[0] as number;
    if (size < 1) fail(`tensor "${t.name}": batch size ${size} must be at least 1`);
    if (batch === undefined) batch = { size, name: t.name };
    else if (batch.size !== size) {
      fail(`batch sizes differ: tensor "${batch.name}" has ${batch.size}, tensor "${t.name}" has ${size}`);
    }
  }
}

/**
 * {@link checkCrossing}, then returns the tensors in the order of `expected`
 * (the order a tail model takes its inputs in).
 */
export function orderCrossing(tensors: readonly DecodedTensor[], expected: readonly ExpectedTensor[]): DecodedTensor[] {
  checkCrossing(tensors, expected);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return expected.map((e) => byName.get(e.name) as DecodedTensor);
}
