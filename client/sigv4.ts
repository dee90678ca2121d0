/**
 * SigV4 request signing for the deployed HTTP API, whose routes use IAM
 * authorization (`execute-api:Invoke`). Credentials come from the standard
 * AWS chain (env, profile, SSO, web identity…), so a device with a Cognito
 * identity pool role or a CLI user with the stack's ClientPolicy can call it.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RequestSigner } from './api';

/** A signer for API Gateway (`execute-api`) in `region`, credentials from the default AWS chain. */
export function sigV4Signer(region: string): RequestSigner {
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
  });
  return async ({ method, url, headers, body }) => {
    const u = new URL(url);
    const query: Record<string, string> = {};
    u.searchParams.forEach((v, k) => {
      query[k] = v;
    });
    const signed = await signer.sign({
      method,
      protocol: u.protocol,
      hostname: u.hostname,
      ...(u.port ? { port: Number(u.port) } : {}),
      path: u.pathname,
      query,
      headers: { ...headers, host: u.host },
      ...(body === undefined ? {} : { body }),
    });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== 'host') out[k] = String(v);
    return out;
  };
}
