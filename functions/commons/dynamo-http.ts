/**
 * The tail's registry writes (./registrar.ts) as SigV4-signed HTTP requests,
 * without the DynamoDB client.
 *
 * The tail awaits its busy mark before it builds the model, and with the SDK
 * that first write cost 35–90 ms of every cold start on the local stack
 * (loading the client and its first request: endpoint rules, middleware,
 * credentials; docs/local-stack.md), while the write itself takes a few ms.
 * The registrar sends one kind of request, a conditional UpdateItem of
 * strings and numbers: this is that request in DynamoDB's JSON protocol
 * (`X-Amz-Target: DynamoDB_20120810.UpdateItem`), signed as the SDK signs it
 * (./sigv4.ts), sent on a keep-alive agent and retried once when the SDK
 * (`maxAttempts: 2`, ./aws.ts) would retry. Errors carry DynamoDB's error code
 * as their `name`, as the SDK's do, so the registrar tells a failed condition
 * from a failed write the same way. test/functions/dynamo-http.test.ts
 * compares the request with the SDK's and runs the registry's tests over both.
 *
 * `OFFLOAD_REGISTRY_HTTP=off` makes the tail write with the SDK client again
 * (loaded at the first write).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { signPost, type SigV4Credentials } from './sigv4';
import { switchOn, switchSetting } from '../../core/env-switch';
import type { RegistryUpdate, RegistryWriter } from './registrar';

/** Environment switch: `OFFLOAD_REGISTRY_HTTP=off` writes the tail's registry marks with the SDK's DynamoDB client, as before. */
export const REGISTRY_HTTP_ENV = 'OFFLOAD_REGISTRY_HTTP';

/** Whether the tail writes its marks as signed HTTP requests; throws naming the variable for a bad value. */
export function registryHttpEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  return switchOn(env, REGISTRY_HTTP_ENV);
}

/** The same, without throwing (a bad value counts as on here; init reports it by name). */
export function registryHttpSetting(env: Readonly<Record<string, string | undefined>>): boolean {
  return switchSetting(env, REGISTRY_HTTP_ENV) !== 'off';
}

/** Attempts per write, as the SDK client the registry used (./aws.ts createDocumentClient). */
const MAX_ATTEMPTS = 2;
/** A write with no answer for this long is abandoned (the registrar's callers wait far less anyway). */
const TIMEOUT_MS = 10_000;
/** DynamoDB's codes for a request worth one more try (the SDK's throttling and transient errors). */
const RETRYABLE = new Set(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'InternalServerError', 'ServiceUnavailable', 'TransactionInProgressException']);

type Credentials = SigV4Credentials | (() => Promise<SigV4Credentials>);

/**
 * The keys in `env` (Lambda's execution role, the local emulator's stand-in keys), else the SDK's default
 * chain, imported at the first signature: its environment link alone (fromEnv) pulls @aws-sdk/core and
 * ~120 KB of @smithy/core into whatever imports it statically.
 */
function credentialsOf(env: Readonly<Record<string, string | undefined>>): Credentials {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  let chain: ReturnType<typeof import('@aws-sdk/credential-provider-node').defaultProvider> | undefined;
  return async () => {
    chain ??= (await import('@aws-sdk/credential-provider-node')).defaultProvider();
    return chain();
  };
}

export interface HttpRegistryWriterOptions {
  /** Default: the keys in the environment, else the SDK's default chain. */
  credentials?: Credentials;
  /** Signing time (tests). */
  now?: () => Date;
}

/** A DynamoDB error answer: `name` is its code (`ConditionalCheckFailedException`, …), as the SDK names its exceptions. */
export class DynamoHttpError extends Error {
  constructor(
    name: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = name;
  }
}

/** DynamoDB's JSON for a plain value (the registrar writes strings and numbers only). */
function attributeValue(name: string, v: string | number): { S: string } | { N: string } {
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number' && Number.isFinite(v)) return { N: String(v) };
  throw new TypeError(`registry update: ${name} is not a string or a finite number`);
}

function attributeValues(values: Readonly<Record<string, string | number>>): Record<string, { S: string } | { N: string }> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, attributeValue(k, v)]));
}

/** The UpdateItem request body, members in the order of the service's model (as the SDK writes them). */
export function updateItemBody(u: RegistryUpdate): string {
  return JSON.stringify({
    TableName: u.TableName,
    Key: attributeValues(u.Key),
    UpdateExpression: u.UpdateExpression,
    ConditionExpression: u.ConditionExpression,
    ExpressionAttributeNames: u.ExpressionAttributeNames,
    ExpressionAttributeValues: attributeValues(u.ExpressionAttributeValues),
  });
}

/** The DynamoDB endpoint the SDK would use: `AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL` when set, else the Region's. */
export function dynamoEndpoint(env: Readonly<Record<string, string | undefined>>, region: string): URL {
  const configured = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL;
  if (configured) return new URL(configured);
  return new URL(`https://dynamodb.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/`);
}

/**
 * A {@link RegistryWriter} sending signed UpdateItem requests. The Region and
 * endpoint are read from `env` now; a write without a Region rejects, as
 * the SDK client's would (the registrar logs it and goes on).
 */
export function httpRegistryWriter(env: Readonly<Record<string, string | undefined>> = process.env, opts: HttpRegistryWriterOptions = {}): RegistryWriter {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) return () => Promise.reject(new Error('Region is missing (AWS_REGION)'));
  const endpoint = dynamoEndpoint(env, region);
  const https = endpoint.protocol === 'https:';
  // one connection, kept: the registrar has one write in flight at a time
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const credentials = opts.credentials ?? credentialsOf(env);
  const host = endpoint.host;

  const once = async (body: string): Promise<void> => {
    const headers = signPost({
      host,
      service: 'dynamodb',
      region,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.UpdateItem', 'content-length': String(Buffer.byteLength(body)) },
      body,
      credentials: typeof credentials === 'function' ? await credentials() : credentials,
      ...(opts.now ? { date: opts.now() } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      const send = https ? httpsRequest : httpRequest;
      const req = send(endpoint, { method: 'POST', agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 200) return resolve();
          reject(errorOf(status, Buffer.concat(chunks).toString('utf8'), res.headers['x-amzn-errortype']));
        });
      });
      req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer from DynamoDB for ${TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  };

  return async (update) => {
    const body = updateItemBody(update);
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(body);
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !retryable(err)) throw err;
      }
    }
  };
}

/** The SDK's error for an answer: its code from `__type` (`com.amazonaws.dynamodb.v20120810#Code`) or the header, its message. */
function errorOf(status: number, body: string, header: string | string[] | undefined): DynamoHttpError {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // not JSON (a proxy's page): the status names it
  }
  const type = typeof parsed.__type === 'string' ? parsed.__type : typeof header === 'string' ? header : '';
  const code = type.split('#').pop()?.split(':')[0] || `HTTP${status}`;
  const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.Message === 'string' ? parsed.Message : `HTTP ${status}`;
  return new DynamoHttpError(code, message, status);
}

/** Network failures, 5xx and throttling: what the SDK's standard retry tries again. */
function retryable(err: unknown): boolean {
  if (err instanceof DynamoHttpError) return err.status >= 500 || RETRYABLE.has(err.name);
  return true;
}
