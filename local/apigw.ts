/**
 * API Gateway HTTP API (v2) behaviour for Lambda proxy integrations with
 * payload format 2.0: route selection, the event a request becomes, and how
 * the function's result becomes the HTTP response.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { RouteSpec } from './template';

export interface RouteMatch {
  route: RouteSpec;
  pathParameters: Record<string, string>;
}

interface Compiled {
  route: RouteSpec;
  segments: string[];
  greedy: boolean;
}

/**
 * Picks the route for a request as HTTP APIs do: an exact path beats one with
 * path variables, which beats a greedy `{proxy+}`, which beats `$default`;
 * between equals, the one whose first differing segment is literal wins, and a
 * specific method beats `ANY`.
 */
export class RouteTable {
  private readonly compiled: Compiled[];
  private readonly defaults: RouteSpec[];

  constructor(routes: readonly RouteSpec[]) {
    this.compiled = routes
      .filter((r) => r.path !== null)
      .map((route) => {
        const segments = splitPath(route.path as string);
        const last = segments[segments.length - 1] ?? '';
        return { route, segments, greedy: /^\{[^}]+\+\}$/.test(last) };
      });
    this.defaults = routes.filter((r) => r.path === null);
  }

  match(method: string, rawPath: string): RouteMatch | null {
    const upper = method.toUpperCase();
    const parts = splitPath(rawPath);
    let best: { c: Compiled; params: Record<string, string>; score: number[] } | null = null;
    for (const c of this.compiled) {
      if (c.route.method !== 'ANY' && c.route.method !== upper) continue;
      const params = matchSegments(c, parts);
      if (!params) continue;
      // lexicographic score: no greedy > per-segment literal (1) over variable (0) > specific method
      const score = [c.greedy ? 0 : 1, ...c.segments.map((s) => (isVariable(s) ? 0 : 1)), c.route.method === 'ANY' ? 0 : 1];
      if (!best || compareScores(score, best.score) > 0) best = { c, params, score };
    }
    if (best) return { route: best.c.route, pathParameters: best.params };
    const fallback = this.defaults.find((r) => r.method === 'ANY' || r.method === upper);
    return fallback ? { route: fallback, pathParameters: {} } : null;
  }
}

function splitPath(path: string): string[] {
  return path.split('/').slice(1);
}

function isVariable(segment: string): boolean {
  return /^\{[^}]+\}$/.test(segment);
}

function matchSegments(c: Compiled, parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  const n = c.segments.length;
  if (c.greedy ? parts.length < n : parts.length !== n) return null;
  for (let i = 0; i < n; i++) {
    const pattern = c.segments[i] as string;
    const part = parts[i] as string;
    if (c.greedy && i === n - 1) {
      const rest = parts.slice(i).join('/');
      if (rest === '') return null;
      params[pattern.slice(1, -2)] = safeDecode(rest);
      return params;
    }
    if (isVariable(pattern)) {
      if (part === '') return null;
      params[pattern.slice(1, -1)] = safeDecode(part);
    } else if (pattern !== part) {
      return null;
    }
  }
  return params;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Whether HTTP APIs pass a body of this content type as text; every other
 * body (and one with no content type) reaches the function base64-encoded.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/graphql'
  );
}

export interface HttpRequestParts {
  method: string;
  /** Path as received, without the query string, not decoded. */
  rawPath: string;
  rawQueryString: string;
  /** Node's incoming headers: lower-case names, arrays for repeated ones. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  sourceIp: string;
  protocol: string;
}

export interface EventContext {
  apiId: string;
  accountId: string;
  requestId: string;
  /** Request time (epoch ms). */
  timeEpoch: number;
}

/** The payload format 2.0 event for a request matched to a route. */
export function toEventV2(req: HttpRequestParts, match: RouteMatch, ctx: EventContext): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(',') : value;
    if (name === 'cookie') {
      cookies = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/;\s*/)).filter((c) => c !== '');
      continue;
    }
    headers[name.toLowerCase()] = joined;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(req.rawQueryString)) {
    query[k] = k in query ? `${query[k]},${v}` : v;
  }
  const host = headers.host ?? 'localhost';
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: match.route.routeKey,
    rawPath: req.rawPath,
    rawQueryString: req.rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: ctx.accountId,
      apiId: ctx.apiId,
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: req.method.toUpperCase(),
        path: req.rawPath,
        protocol: req.protocol,
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: ctx.requestId,
      routeKey: match.route.routeKey,
      stage: '$default',
      time: clfTime(ctx.timeEpoch),
      timeEpoch: ctx.timeEpoch,
    },
    ...(Object.keys(match.pathParameters).length > 0 ? { pathParameters: match.pathParameters } : {}),
    isBase64Encoded: false,
  };
  if (req.body.length > 0) {
    const text = isTextContentType(headers['content-type']);
    event.body = text ? req.body.toString('utf8') : req.body.toString('base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the format of requestContext.time. */
function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export interface HttpResponseParts {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** A function result API Gateway cannot turn into a response (it answers 500). */
export class MalformedResultError extends Error {}

/**
 * Maps a function's JSON result to the HTTP response, format 2.0 rules: an
 * object with `statusCode` is a structured response (headers, cookies, body,
 * isBase64Encoded); anything else is sent as is with status 200 and
 * `content-type: application/json` (so a returned string keeps its JSON quotes).
 */
export function fromResultV2(payload: string): HttpResponseParts {
  let result: unknown;
  try {
    result = JSON.parse(payload);
  } catch {
    throw new MalformedResultError('function result is not JSON');
  }
  if (typeof result !== 'object' || result === null || Array.isArray(result) || !('statusCode' in result)) {
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(payload, 'utf8') };
  }
  const r = result as Record<string, unknown>;
  const statusCode = Number(r.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new MalformedResultError(`statusCode ${String(r.statusCode)} is not an HTTP status`);
  }
  const headers: Record<string, string> = {};
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object' || Array.isArray(r.headers)) throw new MalformedResultError('headers is not an object');
    for (const [k, v] of Object.entries(r.headers as Record<string, unknown>)) {
      if (v !== undefined && v !== null) headers[k.toLowerCase()] = String(v);
    }
  }
  const cookies = Array.isArray(r.cookies) ? r.cookies.map(String) : [];
  let body = Buffer.alloc(0);
  if (r.body !== undefined && r.body !== null) {
    const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  }
  return { statusCode, headers, cookies, body };
}

/**
 * The size of `JSON.stringify(event)` in bytes without serialising the body
 * again: a base64 body needs no escaping, so only the rest is measured.
 */
export function eventJsonBytes(event: APIGatewayProxyEventV2): number {
  if (event.body === undefined) return Buffer.byteLength(JSON.stringify(event), 'utf8');
  const { body, ...rest } = event;
  const bodyBytes = event.isBase64Encoded ? body.length + 2 : Buffer.byteLength(JSON.stringify(body), 'utf8');
  // rest serialises as {…}; adding the body inserts `,"body":` plus the string
  return Buffer.byteLength(JSON.stringify(rest), 'utf8') + ',"body":'.length + bodyBytes;
}
