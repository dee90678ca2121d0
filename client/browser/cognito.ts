/**
 * Temporary AWS credentials for a page from a Cognito identity pool (the CDK
 * app's `browser.identityPool` option), as a provider function for
 * {@link webCryptoSigner}. Unsigned calls of public APIs, so a guest needs
 * nothing but the pool id:
 * - enhanced flow (default): GetId, then GetCredentialsForIdentity;
 * - basic flow (`flow: 'basic'`, needs the pool's `classicFlow` and the role's ARN):
 *   GetId, GetOpenIdToken, then STS AssumeRoleWithWebIdentity. AWS scopes
 *   enhanced-flow guest credentials down to a list of services; the basic flow
 *   is its documented way around that (docs/browser.md).
 * Credentials are cached until five minutes before they expire.
 */
import { z } from 'zod';
import type { AwsCredentials } from './sigv4';

export interface CognitoOptions {
  identityPoolId: string;
  /** The pool's region; default the prefix of the pool id (`eu-west-1:…`). */
  region?: string;
  /** Overrides `https://cognito-identity.<region>.amazonaws.com/` (tests). */
  endpoint?: string;
  /** An identity provider's token for authenticated identities, e.g. `{ 'cognito-idp.…/pool': idToken }`. */
  logins?: Record<string, string>;
  /** `enhanced` (default) or `basic`. */
  flow?: 'enhanced' | 'basic';
  /** Basic flow: the role to assume (stack output `IdentityPoolUnauthenticatedRoleArn…` or `…AuthenticatedRoleArn…`). */
  roleArn?: string;
  /** Basic flow: overrides `https://sts.<region>.amazonaws.com/` (tests). */
  stsEndpoint?: string;
}

const REFRESH_MARGIN_MS = 5 * 60_000;
const POOL_ID = /^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f-]{36}$/;

const GetIdAnswer = z.object({ IdentityId: z.string().min(1) });
const OpenIdTokenAnswer = z.object({ IdentityId: z.string().min(1), Token: z.string().min(1) });
const CredentialsAnswer = z.object({
  IdentityId: z.string().min(1),
  Credentials: z.object({ AccessKeyId: z.string().min(1), SecretKey: z.string().min(1), SessionToken: z.string().min(1), Expiration: z.number() }),
});

/** The text of `<tag>…</tag>` in an STS XML answer (a flat, AWS-generated document: no DOMParser in workers or Node). */
function xmlText(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}

/**
 * @example
 * const signer = webCryptoSigner({ region: 'eu-west-1', credentials: cognitoCredentials({ identityPoolId }) });
 */
export function cognitoCredentials(opts: CognitoOptions): () => Promise<AwsCredentials> {
  if (!POOL_ID.test(opts.identityPoolId)) throw new Error(`identityPoolId "${opts.identityPoolId}" is not a Cognito identity pool id (<region>:<uuid>)`);
  const flow = opts.flow ?? 'enhanced';
  if (flow === 'basic' && !opts.roleArn) throw new Error('the basic Cognito flow needs roleArn (the identity pool role to assume)');
  const region = opts.region ?? opts.identityPoolId.split(':')[0]!;
  const endpoint = opts.endpoint ?? `https://cognito-identity.${region}.amazonaws.com/`;
  const stsEndpoint = opts.stsEndpoint ?? `https://sts.${region}.amazonaws.com/`;
  const logins = opts.logins ? { Logins: opts.logins } : {};
  let identityId: string | undefined;
  let cached: { creds: AwsCredentials; expiresAt: number } | undefined;

  const call = async <T>(target: string, body: object, schema: z.ZodType<T>): Promise<T> => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityService.${target}` },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new Error(`Cognito ${target}: HTTP ${res.status} ${String(json['__type'] ?? '')}: ${String(json['message'] ?? res.statusText)}`);
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new Error(`Cognito ${target}: unexpected answer (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
    return parsed.data;
  };

  const enhanced = async (id: string): Promise<{ creds: AwsCredentials; expiresAt: number }> => {
    const { Credentials: c } = await call('GetCredentialsForIdentity', { IdentityId: id, ...logins }, CredentialsAnswer);
    return { creds: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretKey, sessionToken: c.SessionToken }, expiresAt: c.Expiration * 1000 };
  };

  const basic = async (id: string): Promise<{ creds: AwsCredentials; expiresAt: number }> => {
    const { Token } = await call('GetOpenIdToken', { IdentityId: id, ...logins }, OpenIdTokenAnswer);
    const form = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: opts.roleArn!,
      RoleSessionName: `offload-page-${id.split(':')[1]?.slice(0, 8) ?? 'guest'}`,
      WebIdentityToken: Token,
    });
    const res = await fetch(stsEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    const xml = await res.text();
    if (!res.ok) throw new Error(`STS AssumeRoleWithWebIdentity: HTTP ${res.status} ${xmlText(xml, 'Code') ?? ''}: ${xmlText(xml, 'Message') ?? res.statusText}`);
    const [accessKeyId, secretAccessKey, sessionToken, expiration] = ['AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'].map((t) => xmlText(xml, t));
    const expiresAt = Date.parse(expiration ?? '');
    if (!accessKeyId || !secretAccessKey || !sessionToken || Number.isNaN(expiresAt)) throw new Error('STS AssumeRoleWithWebIdentity: no credentials in the answer');
    return { creds: { accessKeyId, secretAccessKey, sessionToken }, expiresAt };
  };

  const refresh = async (): Promise<AwsCredentials> => {
    identityId ??= (await call('GetId', { IdentityPoolId: opts.identityPoolId, ...logins }, GetIdAnswer)).IdentityId;
    cached = await (flow === 'basic' ? basic(identityId) : enhanced(identityId));
    return cached.creds;
  };
  // Requests signed at once (a burst) share one refresh instead of each asking Cognito.
  let inflight: Promise<AwsCredentials> | undefined;
  return async () => {
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > Date.now()) return cached.creds;
    inflight ??= refresh().finally(() => (inflight = undefined));
    return inflight;
  };
}
