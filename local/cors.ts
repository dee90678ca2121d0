/**
 * CORS as an HTTP API with a `CorsConfiguration` does it: API Gateway answers
 * a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
 * itself, without running the authorizer or the integration, and adds
 * `Access-Control-Allow-Origin` / `-Expose-Headers` to every answer to an
 * allowed origin, whatever the integration returned.
 */
import * as z from 'zod';

/** `AWS::ApiGatewayV2::Api` `CorsConfiguration`, as CDK writes it (literal values). */
export const CorsConfigurationSchema = z.object({
  AllowOrigins: z.array(z.string()).default([]),
  AllowMethods: z.array(z.string()).default([]),
  AllowHeaders: z.array(z.string()).default([]),
  ExposeHeaders: z.array(z.string()).default([]),
  MaxAge: z.number().int().min(0).optional(),
  AllowCredentials: z.boolean().default(false),
});
export type CorsConfiguration = z.infer<typeof CorsConfigurationSchema>;

type Headers = Record<string, string>;

function originAllowed(cors: CorsConfiguration, origin: string): string | null {
  if (cors.AllowOrigins.includes('*')) return cors.AllowCredentials ? origin : '*';
  return cors.AllowOrigins.some((o) => o.toLowerCase() === origin.toLowerCase()) ? origin : null;
}

/** True for a CORS preflight, which API Gateway answers without the route. */
export function isPreflight(method: string, headers: Record<string, string | string[] | undefined>): boolean {
  return method === 'OPTIONS' && typeof headers['origin'] === 'string' && typeof headers['access-control-request-method'] === 'string';
}

/**
 * The answer to a preflight: 204, with the allow headers when origin, method
 * and requested headers all pass (a browser then refuses the request itself).
 */
export function preflightHeaders(cors: CorsConfiguration, origin: string, method: string, requested: string | undefined): Headers {
  const allowOrigin = originAllowed(cors, origin);
  if (allowOrigin === null) return {};
  const methods = cors.AllowMethods.map((m) => m.toUpperCase());
  if (!methods.includes('*') && !methods.includes(method.toUpperCase())) return {};
  const allowed = cors.AllowHeaders.map((h) => h.toLowerCase());
  const asked = (requested ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (!allowed.includes('*') && asked.some((h) => !allowed.includes(h))) return {};
  const out: Headers = {
    'access-control-allow-origin': allowOrigin,
    'access-control-allow-methods': cors.AllowMethods.join(','),
    vary: 'origin',
  };
  if (asked.length > 0) out['access-control-allow-headers'] = asked.join(',');
  if (cors.MaxAge !== undefined) out['access-control-max-age'] = String(cors.MaxAge);
  if (cors.AllowCredentials) out['access-control-allow-credentials'] = 'true';
  return out;
}

/** Headers added to an answer to a request from `origin` (none for a disallowed or absent origin). */
export function responseCorsHeaders(cors: CorsConfiguration, origin: string | undefined): Headers {
  if (!origin) return {};
  const allowOrigin = originAllowed(cors, origin);
  if (allowOrigin === null) return {};
  const out: Headers = { 'access-control-allow-origin': allowOrigin, vary: 'origin' };
  if (cors.ExposeHeaders.length > 0) out['access-control-expose-headers'] = cors.ExposeHeaders.join(',');
  if (cors.AllowCredentials) out['access-control-allow-credentials'] = 'true';
  return out;
}
