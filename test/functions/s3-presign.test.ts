import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffloadError } from '../../core/errors';
import { presignedS3 } from '../../functions/commons/s3-presign';
import { startStandInBackend, type StandInBackend } from '../../testkit/lambda';

const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret/example+key', sessionToken: 'token/with+chars=' };
const signingDate = new Date('2026-11-30T12:34:56Z');

/** The URL the SDK's presigner gives for GetObject, with the planner's old client options (functions/commons/aws.ts). */
async function sdkUrl(opts: { region: string; endpoint?: string; bucket: string; key: string; expiresIn: number }): Promise<string> {
  const client = new S3Client({
    region: opts.region,
    credentials,
    ...(opts.endpoint
      ? { endpoint: opts.endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
  });
  try {
    return await getSignedUrl(client, new GetObjectCommand({ Bucket: opts.bucket, Key: opts.key }), { expiresIn: opts.expiresIn, signingDate });
  } finally {
    client.destroy();
  }
}

describe('presigned S3 without the S3 client (the planner bundle)', () => {
  const cases = [
    { name: 'a CDK bucket in us-east-1', region: 'us-east-1', bucket: 'offload-modelstorebucket9405f36e', key: 'models/mobilenetv2/manifest.json' },
    { name: 'another Region', region: 'eu-west-1', bucket: 'my-models', key: 'models/resnet50/tail-93/group1-shard1of4.bin' },
    { name: 'a key that needs escaping', region: 'ap-southeast-2', bucket: 'my-models', key: "models/a b/c+d/(e)!*'~.json" },
    { name: 'a bucket name with dots (path-style)', region: 'us-west-2', bucket: 'models.example.com', key: 'models/x/manifest.json' },
    { name: 'the local stand-in', region: 'us-east-1', endpoint: 'http://127.0.0.1:45685', bucket: 'offload-bucket', key: 'models/tinychain/manifest.json' },
  ];
  for (const c of cases) {
    it(`gives the SDK presigner's URL byte for byte: ${c.name}`, async () => {
      const env = { AWS_REGION: c.region, ...(c.endpoint ? { AWS_ENDPOINT_URL_S3: c.endpoint } : {}) };
      const ours = await presignedS3(c.bucket, env, { credentials, now: () => signingDate }).presignGet(c.key, 600);
      expect(ours).toBe(await sdkUrl({ ...c, expiresIn: 600 }));
    });
  }

  it('refuses to run without a Region, naming it', () => {
    expect(() => presignedS3('b', {})).toThrow(/no AWS Region configured \(AWS_REGION\)/);
    expect(() => presignedS3('b', {})).toThrow(OffloadError);
  });

  describe('reads through the S3 stand-in (s3rver)', () => {
    const BUCKET = 'offload-presign-test';
    let backend: StandInBackend;
    beforeAll(async () => {
      backend = await startStandInBackend({ bucket: BUCKET, table: 'offload-presign-registry' });
      await backend.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/m/manifest.json', Body: JSON.stringify({ version: 1, ok: true }) }));
      await backend.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/m/broken.json', Body: '{"version": ' }));
    });
    afterAll(async () => backend.close());

    it('reads an object as JSON, and a presigned URL downloads it', async () => {
      const s3 = presignedS3(BUCKET);
      expect(await s3.getJson('models/m/manifest.json', 'export manifest')).toEqual({ version: 1, ok: true });
      const res = await fetch(await s3.presignGet('models/m/manifest.json', 60));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ version: 1, ok: true });
    });

    it('a missing object, bad JSON and an unreachable store are 503s that say which file, not where', async () => {
      const s3 = presignedS3(BUCKET);
      await expect(s3.getJson('models/m/none.json', 'export manifest of "m"')).rejects.toMatchObject({
        code: 'unavailable',
        message: 'export manifest of "m" missing from the artifact store',
        detail: `s3://${BUCKET}/models/m/none.json`,
      });
      await expect(s3.getJson('models/m/broken.json', 'export manifest of "m"')).rejects.toMatchObject({
        code: 'unavailable',
        message: 'export manifest of "m" in the artifact store is not valid JSON',
      });
      const down = presignedS3(BUCKET, { ...process.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' });
      await expect(down.getJson('models/m/manifest.json', 'export manifest of "m"')).rejects.toMatchObject({
        code: 'unavailable',
        message: 'artifact store unreachable while reading the export manifest of "m"',
      });
    });
  });
});
