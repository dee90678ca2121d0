/**
 * Errors that carry what went wrong in a form every edge can render:
 * the CLI prints `offload: <message>` and exits non-zero, the HTTP API answers
 * `status` with `{ code, message }`.
 */
export type ErrorCode =
  | 'invalid-input'
  | 'not-found'
  | 'wire-format'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'throttled'
  | 'unavailable'
  | 'backend-unavailable'
  | 'model-format'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  'invalid-input': 400,
  'not-found': 404,
  'wire-format': 400,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  throttled: 429,
  unavailable: 503,
  'backend-unavailable': 500,
  'model-format': 400,
  internal: 500,
};

export interface OffloadErrorOptions {
  /** Dotted path of the offending input field, e.g. `network.uplinkMbps`. */
  field?: string;
  cause?: unknown;
  /**
   * Internal specifics (S3 endpoint, bucket, key, SDK error) for the log and
   * the local CLI only: an HTTP answer carries `message` alone, which says what
   * failed without naming the deployment's internals.
   */
  detail?: string;
}

export class OffloadError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  /** Log-only specifics (see {@link OffloadErrorOptions.detail}); never in {@link toJSON}. */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options: OffloadErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OffloadError';
    this.code = code;
    this.field = options.field;
    this.detail = options.detail;
  }

  get status(): number {
    return STATUS[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/** A bad input value; `field` names where it is, and the message starts with it. */
export class ValidationError extends OffloadError {
  constructor(field: string, problem: string, cause?: unknown) {
    super('invalid-input', field ? `${field}: ${problem}` : problem, { field, cause });
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends OffloadError {
  constructor(message: string) {
    super('not-found', message);
    this.name = 'NotFoundError';
  }
}

/** A malformed tensor payload; the message says which check failed. */
export class WireFormatError extends OffloadError {
  constructor(message: string) {
    super('wire-format', message);
    this.name = 'WireFormatError';
  }
}

export function isOffloadError(e: unknown): e is OffloadError {
  return e instanceof OffloadError;
}
