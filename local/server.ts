/**
 * The local stack's HTTP front door, one server for:
 * - Lambda's Invoke API, `POST /2015-03-31/functions/{name}/invocations`
 *   (RequestResponse, Event, DryRun), answering as AWS does so
 *   `@aws-sdk/client-lambda` works with `endpoint` pointed here;
 * - the HTTP API routes of the template (payload format 2.0);
 * - `GET /_local/functions` (emulator state), `GET /_local/routes`,
 *   `GET /_local/health` — the `/_local/` prefix is reserved.
 *
 * One named handler per route below; `dispatch` picks the handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { NotFoundError, OffloadError, type ErrorCode } from '../core/errors';
import { eventJsonBytes, fromResultV2, MalformedResultError, RouteTable, toEventV2 } from './apigw';
import { MAX_REQUEST_PAYLOAD_BYTES, type InvokeOptions, type InvokeResult, type LambdaEmulator } from './emulator';
import type { RouteSpec } from './template';
import { isPreflight, preflightHeaders, responseCorsHeaders, type CorsConfiguration } from './cors';

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
  /** The HTTP API's CORS configuration (from the template); null/absent: no CORS, as without one in AWS. */
  cors?: CorsConfiguration | null;
  /** Files served under {@link DEMO_PATH} (the demo page); null for a path it does not have. */
  pages?: (path: string) => Promise<StaticFile | null>;
}

/** A file the server hands out as is. */
export interface StaticFile {
  body: Uint8Array;
  contentType: string;
}

/** Where the local stack serves the demo page (docs/browser.md). */
export const DEMO_PATH = '/_local/demo/';

export interface LocalServer {
  /** `http://host:port` */
  url: string;
  port: number;
  server: Server;
  /** Stops accepting requests and drops open connections (the emulator stays up). */
  close(): Promise<void>;
}

/** What every handler needs: the emulator and the HTTP API routes. */
interface ServerContext {
  emulator: LambdaEmulator;
  routes: readonly RouteSpec[];
  table: RouteTable;
  cors: CorsConfiguration | null;
  pages: ((path: string) => Promise<StaticFile | null>) | null;
}

/** One parsed request line. */
interface RequestTarget {
  method: string;
  rawPath: string;
  rawQueryString: string;
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
  const routes = options.routes ?? [];
  const ctx: ServerContext = {
    emulator: options.emulator,
    routes,
    table: new RouteTable(routes),
    cors: options.cors ?? null,
    pages: options.pages ?? null,
  };
  const server = createServer((req, res) => {
    dispatch(ctx, req, res).catch((e: unknown) => answerUnexpected(res, e));
  });
  // Keep-alive connections from SDK clients must not hold close() open.
  server.keepAliveTimeout = 5_000;
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    server,
    close: () => closeServer(server),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A handler threw: a plain 500 if nothing was sent yet, else drop the connection; the operator sees why. */
function answerUnexpected(res: ServerResponse, e: unknown): void {
  if (!res.headersSent) sendJson(res, 500, { code: 'internal', message: 'Internal Server Error' });
  else res.destroy();
  process.stderr.write(`offload local server: ${e instanceof Error ? e.message : String(e)}\n`);
}

function parseTarget(req: IncomingMessage): RequestTarget {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    rawPath: q >= 0 ? url.slice(0, q) : url,
    rawQueryString: q >= 0 ? url.slice(q + 1) : '',
  };
}

/** Routes a request: `/_local/*`, then the Invoke API, then the HTTP API routes. */
async function dispatch(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = parseTarget(req);
  if (target.rawPath.startsWith(DEMO_PATH) && target.method === 'GET') return getDemoFile(ctx, target.rawPath.slice(DEMO_PATH.length), res);
  if (target.rawPath.startsWith('/_local/')) return handleLocal(ctx, target, res);
  const invokeMatch = target.rawPath.match(INVOKE_PATH);
  if (invokeMatch && target.method === 'POST') {
    return handleInvoke(ctx, req, res, decodeURIComponent(invokeMatch[1] as string), new URLSearchParams(target.rawQueryString));
  }
  if (ctx.cors) {
    if (isPreflight(target.method, req.headers)) {
      const h = preflightHeaders(ctx.cors, header(req, 'origin') as string, header(req, 'access-control-request-method') as string, header(req, 'access-control-request-headers'));
      res.writeHead(204, h).end();
      return;
    }
    // added to whatever the route answers, errors included, as API Gateway does
    for (const [k, v] of Object.entries(responseCorsHeaders(ctx.cors, header(req, 'origin')))) res.setHeader(k, v);
  }
  return handleRoute(ctx, req, res, target);
}

/** `GET /_local/demo/<path>`: the demo page and its bundle. */
async function getDemoFile(ctx: ServerContext, path: string, res: ServerResponse): Promise<void> {
  const file = ctx.pages && !path.split('/').includes('..') ? await ctx.pages(path === '' ? 'index.html' : path) : null;
  if (!file) return sendJson(res, 404, { code: 'not-found', message: `no demo file ${DEMO_PATH}${path}` });
  res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.body.length), 'cache-control': 'no-cache' }).end(file.body);
}

// ---------------------------------------------------------------------------
// /_local/ endpoints

/** `GET /_local/functions`: the emulator's per-function state. */
function getLocalFunctions(ctx: ServerContext, res: ServerResponse): void {
  sendJson(res, 200, ctx.emulator.stats());
}

/** `GET /_local/routes`: the HTTP API routes served. */
function getLocalRoutes(ctx: ServerContext, res: ServerResponse): void {
  sendJson(res, 200, { routes: ctx.routes });
}

/** `GET /_local/health`: the server answers. */
function getLocalHealth(_ctx: ServerContext, res: ServerResponse): void {
  sendJson(res, 200, { ok: true });
}

const LOCAL_ENDPOINTS: Readonly<Record<string, (ctx: ServerContext, res: ServerResponse) => void>> = {
  '/_local/functions': getLocalFunctions,
  '/_local/routes': getLocalRoutes,
  '/_local/health': getLocalHealth,
};

function handleLocal(ctx: ServerContext, { method, rawPath }: RequestTarget, res: ServerResponse): void {
  const endpoint = method === 'GET' && Object.hasOwn(LOCAL_ENDPOINTS, rawPath) ? LOCAL_ENDPOINTS[rawPath] : undefined;
  if (endpoint) return endpoint(ctx, res);
  sendJson(res, 404, { code: 'not-found', message: `no local endpoint ${method} ${rawPath}` });
}

// ---------------------------------------------------------------------------
// Lambda Invoke API

type AwsErrorReply = (status: number, type: string, body: Record<string, unknown>) => void;

/** `POST /2015-03-31/functions/{name}/invocations`, answered as Lambda does. */
async function handleInvoke(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, target: string, query: URLSearchParams): Promise<void> {
  const { emulator } = ctx;
  const requestId = randomUUID();
  const awsError: AwsErrorReply = (status, type, body) => {
    sendJson(res, status, body, { 'x-amzn-errortype': type, 'x-amzn-requestid': requestId });
  };
  const qualifier = query.get('Qualifier');
  const name = emulator.resolveFunctionName(target);
  if (name === undefined || (qualifier !== null && qualifier !== '$LATEST')) {
    const arn = `arn:aws:lambda:${emulator.region}:${emulator.accountId}:function:${target}${qualifier ? `:${qualifier}` : ''}`;
    return awsError(404, 'ResourceNotFoundException', { Type: 'User', Message: `Function not found: ${arn}` });
  }
  const request = await readInvokeEvent(req, awsError);
  if (request === undefined) return;
  const invocationType = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  const clientContext = header(req, 'x-amz-client-context');
  const invokeOptions = { requestId, sizeBytes: request.sizeBytes, ...(clientContext ? { clientContext } : {}) };
  switch (invocationType) {
    case 'DryRun':
      res.writeHead(204, { 'x-amzn-requestid': requestId }).end();
      return;
    case 'Event':
      // Lambda queues asynchronous events; here a throttled event is dropped (the lifecycle event tells).
      void emulator.invokeEvent(name, request.event, invokeOptions).catch(() => undefined);
      res.writeHead(202, { 'x-amzn-requestid': requestId }).end();
      return;
    case 'RequestResponse':
      return invokeRequestResponse(ctx, res, name, request.event, invokeOptions, awsError);
    default:
      return awsError(400, 'InvalidParameterValueException', { Type: 'User', message: `Unsupported invocation type ${invocationType}` });
  }
}

/** The Invoke body parsed as JSON (empty → `{}`); `undefined` once an error has been answered. */
async function readInvokeEvent(req: IncomingMessage, awsError: AwsErrorReply): Promise<{ event: unknown; sizeBytes: number } | undefined> {
  const body = await readBody(req, MAX_REQUEST_PAYLOAD_BYTES);
  if (body === null) {
    awsError(413, 'RequestTooLargeException', {
      Type: 'User',
      message: `Request must be smaller than ${MAX_REQUEST_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
    });
    return undefined;
  }
  const payload = body.length === 0 ? '{}' : body.toString('utf8');
  try {
    return { event: JSON.parse(payload), sizeBytes: body.length };
  } catch (e) {
    awsError(400, 'InvalidRequestContentException', {
      Type: 'User',
      message: `Could not parse request body into json: ${e instanceof Error ? e.message : String(e)}`,
    });
    return undefined;
  }
}

async function invokeRequestResponse(
  ctx: ServerContext,
  res: ServerResponse,
  name: string,
  event: unknown,
  invokeOptions: InvokeOptions & { requestId: string; sizeBytes: number },
  awsError: AwsErrorReply,
): Promise<void> {
  let result: InvokeResult;
  try {
    // already parsed (to validate it): pass the value on rather than parse it again in the environment
    result = await ctx.emulator.invokeEvent(name, event, invokeOptions);
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
    'x-amzn-requestid': invokeOptions.requestId,
    'x-amz-executed-version': '$LATEST',
    'x-local-cold-start': String(result.cold),
  };
  if (result.status === 'function-error') headers['x-amz-function-error'] = 'Unhandled';
  res.writeHead(200, headers).end(result.payload);
}

// ---------------------------------------------------------------------------
// HTTP API routes

type RouteErrorReply = (status: number, code: ErrorCode, message: string, extra?: Record<string, string>) => void;

/** Any other request: the template's HTTP API route, payload format 2.0, through the emulator. */
async function handleRoute(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
  const { method, rawPath } = target;
  const requestId = randomBytes(12).toString('base64url');
  const base = { 'apigw-requestid': requestId };
  const fail: RouteErrorReply = (status, code, message, extra = {}) => sendJson(res, status, { code, message }, { ...base, ...extra });

  const match = ctx.table.match(method, rawPath);
  if (!match) return fail(404, 'not-found', `Not Found: no route for ${method} ${rawPath}`);
  const { route } = match;
  if (route.payloadFormatVersion !== '2.0') {
    return fail(500, 'internal', `route ${route.routeKey}: payload format ${route.payloadFormatVersion} is not emulated (use 2.0)`);
  }
  const body = await readBody(req, MAX_HTTP_API_BODY_BYTES);
  if (body === null) return fail(413, 'payload-too-large', `Request Entity Too Large: the HTTP API limit is ${MAX_HTTP_API_BODY_BYTES} bytes`);
  const event = toEventV2(
    {
      ...target,
      headers: req.headers,
      body,
      sourceIp: normalizeIp(req.socket.remoteAddress),
      protocol: `HTTP/${req.httpVersion}`,
    },
    match,
    { apiId: route.apiId, accountId: ctx.emulator.accountId, requestId, timeEpoch: Date.now() },
  );
  const result = await invokeIntegration(ctx, route, event, fail);
  if (result === undefined) return;
  sendRouteResult(res, route, result, base, fail);
}

/** Invokes the route's function within the integration timeout; `undefined` once an error has been answered. */
async function invokeIntegration(
  ctx: ServerContext,
  route: RouteSpec,
  event: APIGatewayProxyEventV2,
  fail: RouteErrorReply,
): Promise<InvokeResult | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const integrationTimeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), route.timeoutMs);
  });
  let result: InvokeResult | 'timeout';
  try {
    result = await Promise.race([
      ctx.emulator.invokeEvent(route.functionName, event, { requestId: randomUUID(), sizeBytes: eventJsonBytes(event) }),
      integrationTimeout,
    ]);
  } catch (e) {
    if (e instanceof OffloadError && e.code === 'payload-too-large') {
      fail(413, 'payload-too-large', `the event for ${route.functionName} exceeds Lambda's 6 MB request limit (binary bodies grow by a third in base64)`);
      return undefined;
    }
    if (e instanceof OffloadError && e.code === 'unavailable') {
      fail(503, 'unavailable', 'Service Unavailable');
      return undefined;
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (result === 'timeout') {
    fail(503, 'unavailable', `Service Unavailable: the integration did not answer within ${route.timeoutMs} ms`);
    return undefined;
  }
  return result;
}

/** Maps the function's answer to the HTTP response as API Gateway does (format 2.0). */
function sendRouteResult(
  res: ServerResponse,
  route: RouteSpec,
  result: InvokeResult,
  base: Record<string, string>,
  fail: RouteErrorReply,
): void {
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
