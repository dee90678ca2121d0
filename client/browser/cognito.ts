/**
 * Temporary AWS credentials for a page from a Cognito identity pool (the CDK
 * app's `browser.identityPool` option): GetId, then GetCredentialsForIdentity,
 * unsigned calls of the Cognito Identity JSON API, so a guest needs nothing
 * but the pool id. Cached until five minutes before they expire.
 */
import type { AwsCredentials } from './sigv4';

export interface CognitoOptions {
  identityPoolId: string;
  /** The pool's region; default the prefix of the pool id (`eu-west-1:…`). */
  region?: string;
  /** Overrides `https://cognito-identity.<region>.amazonaws.com/` (tests). */
  endpoint?: string;
  /** An identity provider's token for authenticated identities, e.g. `{ 'cognito-idp.…/pool': idToken }`. */
  logins?: Record<string, string>;
}

const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * @example
 * const signer = webCryptoSigner({ region: 'eu-west-1', credentials: cognitoCredentials({ identityPoolId }) });
 */
export function cognitoCredentials(opts: CognitoOptions): () => Promise<AwsCredentials> {
  const region = opts.region ?? opts.identityPoolId.split(':')[0] ?? '';
  const endpoint = opts.endpoint ?? `https://cognito-identity.${region}.amazonaws.com/`;
  let identityId: string | undefined;
  let cached: { creds: AwsCredentials; expiresAt: number } | undefined;
  const call = async (target: string, body: object): Promise<Record<string, unknown>> => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityService.${target}` },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new Error(`Cognito ${target}: HTTP ${res.status}: ${String(json['message'] ?? json['__type'] ?? res.statusText)}`);
    return json;
  };
  return async () => {
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > Date.now()) return cached.creds;
    const logins = opts.logins ? { Logins: opts.logins } : {};
    identityId ??= String((await call('GetId', { IdentityPoolId: opts.identityPoolId, ...logins }))['IdentityId']);
    const out = (await call('GetCredentialsForIdentity', { IdentityId: identityId, ...logins }))['Credentials'] as
      | { AccessKeyId?: string; SecretKey?: string; SessionToken?: string; Expiration?: number }
      | undefined;
    if (!out?.AccessKeyId || !out.SecretKey) throw new Error('Cognito GetCredentialsForIdentity: no credentials in the answer');
    const creds: AwsCredentials = { accessKeyId: out.AccessKeyId, secretAccessKey: out.SecretKey, ...(out.SessionToken ? { sessionToken: out.SessionToken } : {}) };
    cached = { creds, expiresAt: (out.Expiration ?? Date.now() / 1000 + 3600) * 1000 };
    return creds;
  };
}
