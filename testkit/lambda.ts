/**
 * Test fixtures for the Lambda handlers: API Gateway v2 (payload format 2.0)
 * events exactly as an HTTP API delivers them, a Lambda context, and the
 * stand-in environment.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createS3Client } from '../functions/commons/aws';
import { createRegistryTable } from '../functions/commons/registry';
import { startDynamo, startS3, useStandInEnv } from '../local/stand-ins';

/** The AWS side of a handler test: S3 and DynamoDB stand-ins, with SDK clients pointed at them. */
export interface StandInBackend {
  s3: S3Client;
  doc: DynamoDBDocumentClient;
  /** Destroys the clients, stops both stand-ins and restores the environment. */
  close(): Promise<void>;
}

/**
 * Starts s3rver with `bucket` and dynalite with the registry `table`, and sets
 * the endpoint env vars the handlers' SDK clients read (as the local stack does).
 */
export async function startStandInBackend(opts: { bucket: string; table: string }): Promise<StandInBackend> {
  const s3stand = await startS3({ buckets: [opts.bucket] });
  const ddb = await startDynamo();
  const restoreEnv = useStandInEnv({ s3: s3stand.endpoint, dynamodb: ddb.endpoint });
  await createRegistryTable(new DynamoDBClient({}), opts.table);
  const s3 = createS3Client();
  const doc = createDocumentClient();
  return {
    s3,
    doc,
    close: async () => {
      s3.destroy();
      doc.destroy();
      await s3stand.close();
      await ddb.close();
      restoreEnv();
    },
  };
}

export interface EventOptions {
  method: 'GET' | 'POST';
  path: string;
  /** Route key as configured on the HTTP API, e.g. `POST /infer/{model}/{cut}`; default `METHOD path`. */
  routeKey?: string;
  pathParameters?: Record<string, string>;
  headers?: Record<string, string>;
  /** Bytes are sent as API Gateway sends binary bodies: base64 with `isBase64Encoded: true`. */
  body?: string | Uint8Array;
  /** Force the raw (not base64) form for a byte body: each byte becomes one latin1 character. */
  raw?: boolean;
}

/**
 * An HTTP API event. Header names are lower-cased and the request context is
 * complete, as API Gateway builds it for the `$default` stage.
 */
export function httpEvent(opts: EventOptions): APIGatewayProxyEventV2 {
  const now = Date.now();
  const headers: Record<string, string> = {
    accept: '*/*',
    host: 'abc123.execute-api.us-east-1.amazonaws.com',
    'user-agent': 'offload-test',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  };
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  let body: string | undefined;
  let isBase64Encoded = false;
  if (opts.body instanceof Uint8Array) {
    if (opts.raw) body = Buffer.from(opts.body).toString('latin1');
    else {
      body = Buffer.from(opts.body).toString('base64');
      isBase64Encoded = true;
    }
    headers['content-length'] = String(opts.body.byteLength);
  } else if (typeof opts.body === 'string') {
    body = opts.body;
    headers['content-length'] = String(Buffer.byteLength(opts.body));
  }
  const routeKey = opts.routeKey ?? `${opts.method} ${opts.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: opts.path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method: opts.method, path: opts.path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'offload-test' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(opts.pathParameters ? { pathParameters: opts.pathParameters } : {}),
    ...(body === undefined ? {} : { body }),
    isBase64Encoded,
  };
}

/** A Lambda context with a deadline `timeoutMs` from now. */
export function lambdaContext(functionName = 'test-fn', timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1769',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Parses a handler's JSON body. */
export function jsonOf(result: { body?: string; isBase64Encoded?: boolean }): unknown {
  const text = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64').toString('utf8') : (result.body ?? '');
  return JSON.parse(text);
}

/** Decodes a handler's body to bytes. */
export function bytesOf(result: { body?: string; isBase64Encoded?: boolean }): Uint8Array {
  return result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : Buffer.from(result.body ?? '', 'latin1');
}
