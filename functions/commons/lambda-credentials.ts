/**
 * Stands in for `@aws-sdk/credential-provider-node` inside the Lambda bundles
 * (cdk/bundling.ts `BUNDLE_ALIASES`): every AWS SDK client's default
 * credentials become the environment's.
 *
 * Lambda puts the execution role's credentials in AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and the local emulator does the
 * same with its stand-in credentials, so the SDK's full chain always stops at
 * its first link (`fromEnv`) in a handler. The rest of the chain — shared ini
 * files, SSO, web identity, process, container and instance metadata, with the
 * STS, SSO and OIDC clients they bring — was ~120 KB of each bundle that never
 * ran but was parsed at every cold start. Outside the bundles (CLI, tests, the
 * local stack's own process) the SDK's real chain is used.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The export the SDK clients import from `@aws-sdk/credential-provider-node`; its options concern the links dropped here. */
export function defaultProvider(_init?: unknown): ReturnType<typeof fromEnv> {
  return fromEnv();
}
