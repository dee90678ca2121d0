/**
 * The planner's side of prewarm (core/prewarm.ts decides): an asynchronous
 * Lambda Invoke (`X-Amz-Invocation-Type: Event`) of a tail function, signed
 * with SigV4 — one small signed HTTP call rather than `@aws-sdk/client-lambda`
 * in the planner bundle (bench/tails.ts tracks its size).
 *
 * Lambda answers an Event invoke with 202 as soon as the event is queued;
 * the tail then starts (cold: init, registered busy, then idle and warm) with
 * no one waiting for it.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** Sends an asynchronous invocation; resolves once the service accepted it (202), rejects otherwise. */
export interface EventInvoker {
  invokeEvent(functionName: string, payload: unknown): Promise<void>;
}

/** How long one Invoke call may take before it is abandoned (and counted failed), ms. */
export const INVOKE_TIMEOUT_MS = 3_000;

export interface LambdaEventInvokerOptions {
  /** `AWS_REGION` (Lambda sets it), else `AWS_DEFAULT_REGION`. */
  region?: string;
  /** Default `AWS_ENDPOINT_URL_LAMBDA`, else `AWS_ENDPOINT_URL`, else `https://lambda.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Default: the standard chain (in Lambda, the role's credentials from the environment). */
  credentials?: SignatureV4['credentialProvider'];
  timeoutMs?: number;
}

/** The Invoke API path of a function. */
export function invokePath(functionName: string): string {
  return `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
}

/**
 * An {@link EventInvoker} over `fetch` with SigV4 (`service: lambda`).
 *
 * @example
 * const invoker = lambdaEventInvoker(process.env);
 * await invoker.invokeEvent('offload-resnet50-156', { offloadPrewarm: { model: 'resnet50', cut: 156, at: Date.now() } });
 */
export function lambdaEventInvoker(env: NodeJS.ProcessEnv = process.env, opts: LambdaEventInvokerOptions = {}): EventInvoker {
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = new URL(opts.endpoint ?? env.AWS_ENDPOINT_URL_LAMBDA ?? env.AWS_ENDPOINT_URL ?? `https://lambda.${region}.amazonaws.com`);
  const timeoutMs = opts.timeoutMs ?? INVOKE_TIMEOUT_MS;
  const signer = new SignatureV4({
    service: 'lambda',
    region,
    credentials: opts.credentials ?? defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
  });
  return {
    async invokeEvent(functionName, payload) {
      const body = JSON.stringify(payload);
      const path = invokePath(functionName);
      const signed = await signer.sign({
        method: 'POST',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
        path,
        query: {},
        headers: { host: endpoint.host, 'content-type': 'application/json', 'x-amz-invocation-type': 'Event' },
        body,
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== 'host') headers[k] = String(v);
      const res = await fetch(new URL(path, endpoint), { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (res.status !== 202) {
        const type = res.headers.get('x-amzn-errortype') ?? '';
        throw new Error(`Invoke ${functionName} (Event): HTTP ${res.status}${type ? ` ${type}` : ''}${text ? `: ${text.slice(0, 200)}` : ''}`);
      }
    },
  };
}
