/**
 * AWS SDK clients configured the one way the project needs them: real AWS by
 * default; local stand-ins when the standard endpoint env vars are set.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RegistryWriter } from './registrar';

/**
 * An S3 client. SDK v3 picks up `AWS_ENDPOINT_URL_S3` by itself; when it is
 * set we are talking to s3rver, which needs path-style addressing and only
 * the checksums the protocol requires (streamed uploads are corrupted otherwise).
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const local = Boolean(env.AWS_ENDPOINT_URL_S3);
  return new S3Client(
    local
      ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {},
  );
}

/**
 * A DynamoDB document client (plain JS values in and out). The endpoint comes
 * from `AWS_ENDPOINT_URL_DYNAMODB` when set. Retries are kept low: registry
 * writes are best-effort bookkeeping and must never hold a response hostage.
 */
export function createDocumentClient(opts: { maxAttempts?: number } = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ maxAttempts: opts.maxAttempts ?? 2 });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** The registry's writes (./registrar.ts) through a DynamoDB document client. */
export function documentClientWriter(client: Pick<DynamoDBDocumentClient, 'send'>): RegistryWriter {
  return async (update) => {
    await client.send(new UpdateCommand(update));
  };
}
