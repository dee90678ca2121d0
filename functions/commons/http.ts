/**
 * Middy middleware for the HTTP API (API Gateway v2 payload format 2.0):
 * each a small factory returning `{ before, after, onError }`.
 *
 * Why not the middy packages that do similar jobs (checked against middy 6):
 * - `@middy/http-error-handler` answers `{ message }` (or plain text) with the
 *   status of an `http-errors` error; the API contract here is JSON
 *   `{ code, message[, field] }` for every error, 5xx messages scrubbed of
 *   internal names, and the instance header on error answers too.
 * - `@middy/http-json-body-parser` answers 415/422 with its own messages and
 *   has no size limit; here a bad body is 400 `invalid-input` quoting the JSON
 *   error, a large one 413 naming the limit, and an empty body may be allowed.
 * - `@middy/http-content-negotiation` answers 406 when nothing in `Accept`
 *   matches; this API falls back to its default type instead (a device must
 *   not need a 406 path), and it would pull in its charset/encoding/language parsers.
 * The routing itself does use `@middy/http-router`.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { isOffloadError, OffloadError } from '../../core/errors';
import { logger } from './observability';

/** Spec default: Lambda's 6 MB synchronous payload limit, in bytes. */
export const DEFAULT_PAYLOAD_LIMIT_BYTES = 6_291_456;

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/**
 * Every middleware here is typed on the plain event so handlers accept what
 * API Gateway sends; the fields a middleware adds are read through the
 * extended event types below (`BinaryBodyEvent`, …) after it has run.
 */
export type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult, Error, Context>;

/**
 * One structured log line through the process's Powertools Logger
 * (functions/commons/observability.ts): JSON with level, message, service,
 * timestamp, and — inside a handler wrapped by `observe` — the request id and
 * cold-start flag. CloudWatch keeps each line as one event.
 */
export function logLine(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  logger[level](msg, fields);
}

/** Reads a header case-insensitively (API Gateway v2 lower-cases them; hand-built events may not). */
export function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** A JSON response. */
export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** A binary response, base64-encoded as API Gateway requires for Lambda proxy results. */
export function binaryResponse(statusCode: number, bytes: Uint8Array, contentType: string, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': contentType, ...headers },
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    isBase64Encoded: true,
  };
}

/**
 * Turns any error into `status` + JSON `{ code, message }`. An OffloadError
 * keeps its code and message; anything else becomes a 500 `internal` whose
 * details go to the log only, so no stack trace reaches a caller.
 * `headers` (e.g. the instance id) are added to every error response.
 */
export function httpErrors(opts: { headers?: () => Record<string, string> } = {}): HttpMiddleware {
  const httpErrorsOnError: HttpMiddleware['onError'] = (request) => {
    const err = request.error;
    const extra = opts.headers?.() ?? {};
    if (isOffloadError(err)) {
      if (err.status >= 500) {
        logLine('error', err.message, { code: err.code, path: request.event.rawPath, ...(err.detail === undefined ? {} : { detail: err.detail }) });
        request.response = jsonResponse(err.status, { ...err.toJSON(), message: withoutInternals(err.message) }, extra);
        return;
      }
      request.response = jsonResponse(err.status, err.toJSON(), extra);
      return;
    }
    logLine('error', 'unhandled error', {
      path: request.event?.rawPath,
      error: err instanceof Error ? err.message : String(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
    request.response = jsonResponse(500, { code: 'internal', message: 'internal error (see the function log)' }, extra);
  };
  return { name: 'httpErrors', onError: httpErrorsOnError };
}

/**
 * A 5xx message as a caller sees it: S3 URLs and endpoints are cut out as a
 * backstop (throw sites put them in `detail`, which only the log sees).
 */
export function withoutInternals(message: string): string {
  return message.replace(/\b(?:s3|https?):\/\/\S+/g, '(internal location)');
}

/** What {@link binaryBody} adds to the event. */
export interface BinaryBodyEvent extends HttpEvent {
  /** The request body as bytes (base64 decoded when API Gateway encoded it). */
  bodyBytes: Uint8Array;
}

/**
 * Checks the body's content type (415 otherwise) and size (413 above
 * `maxBytes` as delivered, i.e. after API Gateway's base64 inflation, which
 * is what counts against Lambda's payload limit), then decodes it into
 * `event.bodyBytes`. A body that is not base64-encoded is read byte for byte
 * (latin1), the only lossless way a JS string can carry binary data.
 */
export function binaryBody(opts: {
  contentTypes: readonly string[];
  maxBytes: number | (() => number);
  hint?: string;
  /**
   * Called after the type and size checks and before the body is decoded, with
   * a reader of the body's first bytes (decoding only those): a limit that the
   * start of a payload reveals (its batch size) is refused without decoding the rest.
   */
  peek?: (prefix: (bytes: number) => Uint8Array, event: HttpEvent) => void;
}): HttpMiddleware {
  const binaryBodyBefore: HttpMiddleware['before'] = (request) => {
    const event = request.event as BinaryBodyEvent;
    const type = (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!opts.contentTypes.includes(type)) {
      throw new OffloadError(
        'unsupported-media-type',
        `content-type must be ${opts.contentTypes.join(' or ')}${type ? `, got ${type}` : ' (none given)'}`,
      );
    }
    const body = event.body ?? '';
    const maxBytes = typeof opts.maxBytes === 'function' ? opts.maxBytes() : opts.maxBytes;
    if (body.length > maxBytes) {
      throw new OffloadError(
        'payload-too-large',
        `request body is ${body.length} bytes${event.isBase64Encoded ? ' after base64' : ''}, above the ${maxBytes}-byte payload limit` +
          (opts.hint ? `; ${opts.hint}` : ''),
      );
    }
    opts.peek?.((bytes) => bodyPrefix(body, event.isBase64Encoded, bytes), event);
    event.bodyBytes = event.isBase64Encoded ? decodeBase64Strict(body) : Buffer.from(body, 'latin1');
  };
  return { name: 'binaryBody', before: binaryBodyBefore };
}

/** The first `bytes` bytes of a body, decoding only the base64 characters that carry them (lenient: the full decode is strict). */
function bodyPrefix(body: string, base64: boolean, bytes: number): Uint8Array {
  if (!base64) return Buffer.from(body.slice(0, bytes), 'latin1');
  return Buffer.from(body.slice(0, Math.ceil(bytes / 3) * 4), 'base64').subarray(0, bytes);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Node's base64 decoder skips junk silently; a body that is not base64 is a client error. */
function decodeBase64Strict(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new OffloadError('wire-format', 'request body is flagged base64 but is not valid base64');
  }
  return Buffer.from(text, 'base64');
}

/** What {@link jsonBody} adds to the event. */
export interface JsonBodyEvent extends HttpEvent {
  jsonBody: unknown;
}

/** Parses a JSON body (415 for another content type, 400 for bad JSON, 413 above `maxBytes`). */
export function jsonBody(opts: { maxBytes?: number; optional?: boolean } = {}): HttpMiddleware {
  const jsonBodyBefore: HttpMiddleware['before'] = (request) => {
    const event = request.event as JsonBodyEvent;
    const raw = event.body;
    if (raw === undefined || raw === null || raw === '') {
      if (opts.optional) {
        event.jsonBody = undefined;
        return;
      }
      throw new OffloadError('invalid-input', 'request body is empty; expected a JSON object');
    }
    const type = (header(event, 'content-type') ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
    if (type !== 'application/json' && !type.endsWith('+json')) {
      throw new OffloadError('unsupported-media-type', `content-type must be application/json, got ${type}`);
    }
    if (opts.maxBytes !== undefined && raw.length > opts.maxBytes) {
      throw new OffloadError('payload-too-large', `request body is ${raw.length} bytes, above the ${opts.maxBytes}-byte limit`);
    }
    const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    try {
      event.jsonBody = JSON.parse(text);
    } catch (err) {
      throw new OffloadError('invalid-input', `request body is not valid JSON: ${(err as Error).message}`);
    }
  };
  return { name: 'jsonBody', before: jsonBodyBefore };
}

/** What {@link negotiate} adds to the event. */
export interface NegotiatedEvent extends HttpEvent {
  /** The media type the response should use (one of `produces`). */
  responseType: string;
}

/**
 * Chooses the response media type from `Accept` (quality values honoured;
 * `*\/*`, a missing header, or nothing acceptable → the first of `produces`,
 * the API's default rather than a 406 a device would have to handle).
 */
export function negotiate(opts: { produces: readonly string[] }): HttpMiddleware {
  const negotiateBefore: HttpMiddleware['before'] = (request) => {
    (request.event as NegotiatedEvent).responseType = chooseMediaType(header(request.event, 'accept'), opts.produces);
  };
  return { name: 'negotiate', before: negotiateBefore };
}

/** The best of `produces` for an Accept header (exported for tests). */
export function chooseMediaType(accept: string | undefined, produces: readonly string[]): string {
  const fallback = produces[0] ?? 'application/json';
  if (!accept) return fallback;
  let best: { type: string; q: number; order: number } | undefined;
  for (const part of accept.split(',')) {
    const [rangeRaw, ...params] = part.split(';');
    const range = rangeRaw?.trim().toLowerCase() ?? '';
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k === 'q' && v !== undefined && Number.isFinite(Number(v))) q = Number(v);
    }
    if (q <= 0) continue;
    produces.forEach((type, order) => {
      const [main] = type.split('/');
      const matches = range === type || range === '*/*' || range === `${main}/*`;
      // exact matches beat wildcards at equal q; then the server's order
      const score = q + (range === type ? 1e-3 : 0);
      if (matches && (!best || score > best.q || (score === best.q && order < best.order))) best = { type, q: score, order };
    });
  }
  return best?.type ?? fallback;
}

/** Adds headers to every response, success or error (e.g. `x-offload-instance`). */
export function responseHeaders(headers: () => Record<string, string>): HttpMiddleware {
  const add = (request: { response: HttpResult | null }): void => {
    if (request.response) request.response.headers = { ...headers(), ...request.response.headers };
  };
  return { name: 'responseHeaders', after: add, onError: add };
}
