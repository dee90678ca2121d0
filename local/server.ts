/**
 * The local stack's HTTP front door, one server for:
 * - Lambda's Invoke API, `POST /2015-03-31/functions/{name}/invocations`
 *   (RequestResponse, Event, DryRun), answering as AWS does so
 *   `@aws-sdk/client-lambda` works with `endpoint` pointed here;
 * - the HTTP API routes of the template (payload format 2.0);
 * - `GET /_local/functions` (emulator state), `GET /_local/routes`,
 *   `GET /_local/health` — the `/_local/` prefix is reserved.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { NotFoundError, OffloadError, type ErrorCode } from '../core/errors';
import { eventJsonBytes, fromResultV2, MalformedResultError, RouteTable, toEventV2 } from './apigw';
import { MAX_REQUEST_PAYLOAD_BYTES, type InvokeResult, type LambdaEmulator } from './emulator';
import type { RouteSpec } from './template';

/** HTTP API request payload limit. */
export const MAX_HTTP_API_BODY_BYTES = 10 * 1024 * 1024;

export interface LocalServerOptions {
  emulator: LambdaEmulator;
  /** HTTP API routes (from discovery); none → only the Invoke API. */
  routes?: readonly RouteSpec[];
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface LocalServer {
  /** `http://host:port` */
  url: string;
  port: number;
  server: Server;
  /** Stops accepting requests and drops open connections (the emulator stays up). */
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Starts the server; resolves once it listens.
 *
 * @example
 * const server = await startLocalServer({ emulator, routes: app.routes });
 * const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1' });
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const { emulator } = options;
  const routes = options.routes ?? [];
  const table = new RouteTable(routes);
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { code: 'internal', message: 'Internal Server Error' });
      else res.destroy();
      process.stderr.write(`offload local server: ${e instanceof Error ? e.message : String(e)}\n`);
    });
  });
  // Keep-alive connections from SDK clients must not hold close() open.
  server.keepAliveTimeout = 5_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q >= 0 ? url.slice(0, q) : url;
    const rawQueryString = q >= 0 ? url.slice(q + 1) : '';
    const method = (req.method ?? 'GET').toUpperCase();

    if (rawPath.startsWith('/_local/')) return handleLocal(method, rawPath, res);
    const invokeMatch = rawPath.match(INVOKE_PATH);
    if (invokeMatch && method === 'POST') {
      return handleInvoke(req, res, decodeURIComponent(invokeMatch[1] as string), new URLSearchParams(rawQueryString));
    }
    return handleRoute(req, res, method, rawPath, rawQueryString);
  }

  function handleLocal(method: string, path: string, res: ServerResponse): void {
    if (method === 'GET' && path === '/_local/functions') return sendJson(res, 200, emulator.stats());
    if (method === 'GET' && path === '/_local/routes') return sendJson(res, 200, { routes });
    if (method === 'GET' && path === '/_local/health') return sendJson(res, 200, { ok: true });
    sendJson(res, 404, { code: 'not-found', message: `no local endpoint ${method} ${path}` });
  }

  // ---------------------------------------------------------------------------
  // Lambda Invoke API

  async function handleInvoke(req: IncomingMessage, res: ServerResponse, target: string, query: URLSearchParams): Promise<void> {
    const requestId = randomUUID();
    const awsError = (status: number, type: string, body: Record<string, unknown>, extra: Record<string, string> = {}): void => {
      sendJson(res, status, body, { 'x-amzn-errortype': type, 'x-amzn-requestid': requestId, ...extra });
    };
    const qualifier = query.get('Qualifier');
    const name = emulator.resolveFunctionName(target);
    if (name === undefined || (qualifier !== null && qualifier !== '$LATEST')) {
      const arn = `arn:aws:lambda:${emulator.region}:${emulator.accountId}:function:${target}${qualifier ? `:${qualifier}` : ''}`;
      return awsError(404, 'ResourceNotFoundException', { Type: 'User', Message: `Function not found: ${arn}` });
    }
    const body = await readBody(req, MAX_REQUEST_PAYLOAD_BYTES);
    if (body === null) {
      return awsError(413, 'RequestTooLargeException', {
        Type: 'User',
        message: `Request must be smaller than ${MAX_REQUEST_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
      });
    }
    const payload = body.length === 0 ? '{}' : body.toString('utf8');
    let event: unknown;
    try {
      event = JSON.parse(payload);
    } catch (e) {
      return awsError(400, 'InvalidRequestContentException', {
        Type: 'User',
        message: `Could not parse request body into json: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
    const invocationType = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (invocationType === 'DryRun') {
      res.writeHead(204, { 'x-amzn-requestid': requestId }).end();
      return;
    }
    const clientContext = header(req, 'x-amz-client-context');
    if (invocationType === 'Event') {
      // Lambda queues asynchronous events; here a throttled event is dropped (the lifecycle event tells).
      void emulator
        .invokeEvent(name, event, { requestId, sizeBytes: body.length, ...(clientContext ? { clientContext } : {}) })
        .catch(() => undefined);
      res.writeHead(202, { 'x-amzn-requestid': requestId }).end();
      return;
    }
    if (invocationType !== 'RequestResponse') {
      return awsError(400, 'InvalidParameterValueException', { Type: 'User', message: `Unsupported invocation type ${invocationType}` });
    }
    let result: InvokeResult;
    try {
      // already parsed (to validate it): pass the value on rather than parse it again in the environment
      result = await emulator.invokeEvent(name, event, { requestId, sizeBytes: body.length, ...(clientContext ? { clientContext } : {}) });
    } catch (e) {
      if (e instanceof NotFoundError) return awsError(404, 'ResourceNotFoundException', { Type: 'User', Message: e.message });
      if (e instanceof OffloadError && e.code === 'payload-too-large') {
        return awsError(413, 'RequestTooLargeException', { Type: 'User', message: e.message });
      }
      if (e instanceof OffloadError && e.code === 'unavailable') {
        return awsError(503, 'ServiceException', { Type: 'Service', Message: e.message });
      }
      throw e;
    }
    if (result.status === 'throttled') {
      return awsError(429, 'TooManyRequestsException', { Reason: result.reason, Type: 'User', message: 'Rate Exceeded.' });
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amzn-requestid': requestId,
      'x-amz-executed-version': '$LATEST',
      'x-local-cold-start': String(result.cold),
    };
    if (result.status === 'function-error') headers['x-amz-function-error'] = 'Unhandled';
    res.writeHead(200, headers).end(result.payload);
  }

  // ---------------------------------------------------------------------------
  // HTTP API routes

  async function handleRoute(req: IncomingMessage, res: ServerResponse, method: string, rawPath: string, rawQueryString: string): Promise<void> {
    const requestId = randomBytes(12).toString('base64url');
    const base = { 'apigw-requestid': requestId };
    const fail = (status: number, code: ErrorCode, message: string, extra: Record<string, string> = {}): void =>
      sendJson(res, status, { code, message }, { ...base, ...extra });

    const match = table.match(method, rawPath);
    if (!match) return fail(404, 'not-found', `Not Found: no route for ${method} ${rawPath}`);
    const { route } = match;
    if (route.payloadFormatVersion !== '2.0') {
      return fail(500, 'internal', `route ${route.routeKey}: payload format ${route.payloadFormatVersion} is not emulated (use 2.0)`);
    }
    const body = await readBody(req, MAX_HTTP_API_BODY_BYTES);
    if (body === null) return fail(413, 'payload-too-large', `Request Entity Too Large: the HTTP API limit is ${MAX_HTTP_API_BODY_BYTES} bytes`);
    const event = toEventV2(
      {
        method,
        rawPath,
        rawQueryString,
        headers: req.headers,
        body,
        sourceIp: normalizeIp(req.socket.remoteAddress),
        protocol: `HTTP/${req.httpVersion}`,
      },
      match,
      { apiId: route.apiId, accountId: emulator.accountId, requestId, timeEpoch: Date.now() },
    );

    let timer: NodeJS.Timeout | undefined;
    const integrationTimeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), route.timeoutMs);
    });
    let result: InvokeResult | 'timeout';
    try {
      result = await Promise.race([
        emulator.invokeEvent(route.functionName, event, { requestId: randomUUID(), sizeBytes: eventJsonBytes(event) }),
        integrationTimeout,
      ]);
    } catch (e) {
      if (e instanceof OffloadError && e.code === 'payload-too-large') {
        return fail(413, 'payload-too-large', `the event for ${route.functionName} exceeds Lambda's 6 MB request limit (binary bodies grow by a third in base64)`);
      }
      if (e instanceof OffloadError && e.code === 'unavailable') return fail(503, 'unavailable', 'Service Unavailable');
      throw e;
    } finally {
      clearTimeout(timer);
    }
    if (result === 'timeout') {
      return fail(503, 'unavailable', `Service Unavailable: the integration did not answer within ${route.timeoutMs} ms`);
    }
    if (result.status === 'throttled') {
      return fail(429, 'throttled', `Too Many Requests: ${route.functionName} is at its concurrency limit (${result.reason})`, {
        'x-amzn-errortype': 'TooManyRequestsException',
      });
    }
    if (result.status === 'function-error') {
      // API Gateway hides the function's error; the emulator names it in a header for debugging.
      return fail(500, 'internal', 'Internal Server Error', { 'x-local-function-error': result.errorType });
    }
    let mapped;
    try {
      mapped = fromResultV2(result.payload);
    } catch (e) {
      if (e instanceof MalformedResultError) {
        return fail(500, 'internal', 'Internal Server Error', { 'x-local-function-error': `MalformedResponse: ${e.message}` });
      }
      throw e;
    }
    const headers: Record<string, string | string[]> = { ...mapped.headers, ...base, 'x-local-cold-start': String(result.cold) };
    if (mapped.cookies.length > 0) headers['set-cookie'] = mapped.cookies;
    headers['content-length'] = String(mapped.body.length);
    res.writeHead(mapped.statusCode, headers).end(mapped.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Reads the whole body; `null` (and the rest discarded) once it passes `limit`. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      req.once('end', () => resolve(null));
      req.once('error', reject);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.once('end', () => resolve(over ? null : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function normalizeIp(ip: string | undefined): string {
  if (!ip) return '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
}
