/**
 * The device's view of the offload HTTP API: `POST /plan`, `GET /models`,
 * `POST /infer/{model}/{cut}`. Every failure becomes an {@link ApiError} that
 * says whether finishing on the device is the right answer.
 */
import type { z } from 'zod';
import {
  ErrorBodySchema,
  ModelsResponseSchema,
  parseInferHeaders,
  PlanRequestSchema,
  PlanResponseSchema,
  type InferTiming,
  type ModelsResponse,
  type PlanRequestInput,
  type PlanResponse,
} from '../core/api';
import { parseWith } from '../core/validation';
import { WIRE_CONTENT_TYPE } from '../core/wire';

/** What the device sends to `POST /plan` (core/api.ts PlanRequestSchema). */
export type PlanRequestBody = PlanRequestInput;
export type { PlanResponse, ModelsResponse } from '../core/api';

export interface InferResponse extends InferTiming {
  body: Uint8Array;
  /** Request sent → response body read, as the device saw it. */
  roundTripMs: number;
}

/** Why a call failed: `throttled` (429), `server` (5xx), `timeout`, `network`, or `client` (4xx: our request was wrong). */
export type ApiFailure = 'throttled' | 'server' | 'timeout' | 'network' | 'client';

export class ApiError extends Error {
  readonly failure: ApiFailure;
  readonly status: number | null;
  readonly code: string | null;

  constructor(failure: ApiFailure, message: string, status: number | null = null, code: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.failure = failure;
    this.status = status;
    this.code = code;
  }

  /** 429, 5xx, a timeout or a dropped connection: the device should finish the inference itself. */
  get shouldFallBack(): boolean {
    return this.failure !== 'client';
  }
}

/** Returns the headers to send: the given ones plus whatever authorises the request (e.g. SigV4). */
export type RequestSigner = (req: { method: string; url: string; headers: Record<string, string>; body?: string | Uint8Array }) => Promise<Record<string, string>>;

export interface ApiOptions {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:3000` or the API Gateway URL. */
  baseUrl: string;
  /** Signs each request; the deployed API requires SigV4 (see client/sigv4.ts). The local stack needs none. */
  signer?: RequestSigner;
  /** Per-request timeout; default 30 s, API Gateway's integration limit. */
  timeoutMs?: number;
}

/**
 * @example
 * const api = new OffloadApi({ baseUrl: 'http://127.0.0.1:3000' });
 * const plan = await api.plan({ model: 'mobilenetv2', device: 'flagship-phone', network: '4g' });
 */
export class OffloadApi {
  private readonly baseUrl: string;
  private readonly signer: RequestSigner | undefined;
  private readonly timeoutMs: number;

  constructor(opts: ApiOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.signer = opts.signer;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** `POST /plan`. A request the contract rejects throws its ValidationError here, before any round trip. */
  async plan(body: PlanRequestBody): Promise<PlanResponse> {
    parseWith(PlanRequestSchema, body, 'plan request');
    const res = await this.send('/plan', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return answer(PlanResponseSchema, await readJson(res, 'POST /plan'), 'POST /plan');
  }

  /** `GET /models`: the deployed models, their cuts and where their artifacts are. */
  async models(): Promise<ModelsResponse> {
    const res = await this.send('/models', { method: 'GET' });
    return answer(ModelsResponseSchema, await readJson(res, 'GET /models'), 'GET /models');
  }

  /** Sends wire-format crossing tensors to a tail; the answer is wire-format output tensors. */
  async infer(route: string, payload: Uint8Array): Promise<InferResponse> {
    const started = performance.now();
    const res = await this.send(route, {
      method: 'POST',
      headers: { 'content-type': WIRE_CONTENT_TYPE, accept: WIRE_CONTENT_TYPE },
      body: payload,
    });
    const body = new Uint8Array(await res.arrayBuffer());
    const roundTripMs = performance.now() - started;
    let timing: InferTiming;
    try {
      timing = parseInferHeaders((name) => res.headers.get(name));
    } catch (e) {
      throw new ApiError('server', `POST ${route}: the answer breaks the API contract: ${e instanceof Error ? e.message : String(e)}`);
    }
    return { body, ...timing, roundTripMs };
  }

  /** POSTs a JSON `body` and returns the answer's status, whatever it is (network probes: client/browser/network.ts). */
  async rawPost(path: string, body: string): Promise<number> {
    const res = await this.fetchOnce(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    return res.status;
  }

  private async send(path: string, init: { method: string; headers?: Record<string, string>; body?: string | Uint8Array }): Promise<Response> {
    const res = await this.fetchOnce(path, init);
    if (res.ok) return res;
    return this.failed(path, init.method, res);
  }

  /** One signed request within the timeout; a timeout or dropped connection is an ApiError. */
  private async fetchOnce(path: string, init: { method: string; headers?: Record<string, string>; body?: string | Uint8Array }): Promise<Response> {
    const url = this.baseUrl + path;
    let headers = init.headers ?? {};
    if (this.signer) headers = await this.signer({ method: init.method, url, headers, ...(init.body === undefined ? {} : { body: init.body }) });
    let res: Response;
    try {
      res = await fetch(url, {
        method: init.method,
        headers,
        // the bytes of a Uint8Array view over a plain ArrayBuffer (what encodeTensors returns); the cast satisfies the DOM typings too
        body: init.body as string | Uint8Array<ArrayBuffer> | undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const name = e instanceof Error ? e.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new ApiError('timeout', `${init.method} ${path}: no answer within ${this.timeoutMs} ms`);
      }
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
      throw new ApiError('network', `${init.method} ${path}: ${e instanceof Error ? e.message : String(e)}${cause}`);
    }
    return res;
  }

  /** A non-2xx answer as an ApiError saying whether to fall back. */
  private async failed(path: string, method: string, res: Response): Promise<never> {
    const text = await res.text().catch(() => '');
    let code: string | null = null;
    let message = text.slice(0, 300) || res.statusText;
    try {
      const json: unknown = JSON.parse(text);
      const parsed = ErrorBodySchema.safeParse(json);
      if (parsed.success) ({ code, message } = parsed.data);
      // API Gateway's own refusals (403 unsigned or not allowed, 429 over the stage limit) carry only a message.
      else if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') message = (json as { message: string }).message;
    } catch {
      // not JSON (a proxy's error page): keep the text
    }
    const failure: ApiFailure = res.status === 429 ? 'throttled' : res.status >= 500 ? 'server' : 'client';
    throw new ApiError(failure, `${method} ${path}: HTTP ${res.status}${code ? ` ${code}` : ''}: ${message}`, res.status, code);
  }
}

async function readJson(res: Response, what: string): Promise<unknown> {
  try {
    return await res.json();
  } catch (e) {
    throw new ApiError('server', `${what}: the answer is not JSON: ${e instanceof Error ? e.message : String(e)}`, res.status);
  }
}

/** The server's answer checked against the contract: a mismatch is the server's fault (and a reason to fall back). */
function answer<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  try {
    return parseWith(schema, body, 'answer');
  } catch (e) {
    throw new ApiError('server', `${what}: the answer breaks the API contract: ${e instanceof Error ? e.message : String(e)}`);
  }
}
