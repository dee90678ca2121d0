/**
 * The synthesised app runs under the local emulator (local/) exactly as
 * synthesised: bundled assets, nested-stack parameters, environment, routes.
 * S3 and DynamoDB are the s3rver and dynalite stand-ins, loaded the way a
 * deployment loads them (export tree under models/, registry table).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as tf from '@tensorflow/tfjs';
import { startDynamo, startS3, type StandIn } from '../../local/stand-ins';
import { localResourceNames, startLocalEmulator, type LocalEmulator } from '../../local/index';
import { createRegistryTable } from '../../functions/commons/registry';
import { encodeTensors } from '../../core/wire';
import { loadModelFromDir } from '../../models/artifacts';
import { exportZoo, synth, tempDir, type Synthesized, removeTempDirs } from './helpers';

const CREDS = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

let exportDir: string;
let s: Synthesized;
let s3: StandIn;
let ddb: StandIn;
let local: LocalEmulator;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

beforeAll(async () => {
  exportDir = tempDir('e2e-export');
  await exportZoo(exportDir, ['tinychain']);
  s = synth({ exportDir, models: 'tinychain' });
  [s3, ddb] = await Promise.all([startS3(), startDynamo()]);
  local = await startLocalEmulator({
    cdkOut: s.outdir,
    resolveResource: localResourceNames(),
    env: { ...CREDS, AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint },
    logs: 'ignore',
  });
  // Load the stand-ins the way a deployment is loaded: `aws s3 sync <export> s3://<bucket>/models/`, table from the template.
  const env = local.app.functions.find((f) => f.name === 'offload-tinychain-0')!.environment;
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: CREDS.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: CREDS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDS.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: env['ARTIFACT_BUCKET']! }));
  for (const f of files(exportDir)) {
    await client.send(new PutObjectCommand({ Bucket: env['ARTIFACT_BUCKET']!, Key: `models/${relative(exportDir, f)}`, Body: readFileSync(f) }));
  }
  client.destroy();
  const dynamo = new DynamoDBClient({ endpoint: ddb.endpoint, region: CREDS.AWS_REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await createRegistryTable(dynamo, env['REGISTRY_TABLE']!);
  dynamo.destroy();
});

afterAll(async () => {
  await local?.close();
  await Promise.all([s3?.close(), ddb?.close()]);
  removeTempDirs(); // last: the environments ran code from these folders
});

describe('the synthesised app under the local emulator', () => {
  it('discovers the planner and one function per deployed tail, with their reserved concurrency', () => {
    const names = local.app.functions.map((f) => f.name).sort();
    expect(names).toEqual(['offload-planner', ...s.deployment.models[0]!.tails.map((t) => t.functionName)].sort());
  });

  it('GET /models lists the deployed cuts of the deployment catalog', async () => {
    const r = await fetch(`${local.url}/models`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { models: { name: string; candidates: { cut: number; deployed: boolean; function: string | null }[] }[] };
    const deployed = body.models[0]!.candidates.filter((c) => c.deployed);
    expect(deployed.map((c) => c.function)).toEqual(s.deployment.models[0]!.tails.map((t) => t.functionName));
  });

  it('POST /infer/tinychain/0 answers cold from the bundled tail, with the full model’s output', async () => {
    // Prepare: the raw input (cut 0 sends it) and the reference output of the exported full model.
    const input = Float32Array.from({ length: 16 * 16 * 3 }, (_, i) => ((i * 37) % 101) / 101);
    const crossing = s.deployment.models[0]!.manifest.candidates[0]!.crossing[0]!;
    const full = await loadModelFromDir(join(exportDir, 'tinychain', 'full'), join(exportDir, 'tinychain'));
    const expected = (full.predict(tf.tensor(input, [1, 16, 16, 3])) as tf.Tensor).dataSync();
    // Act
    const r = await fetch(`${local.url}/infer/tinychain/0`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.offload.tensors', accept: 'application/json' },
      body: encodeTensors([{ name: crossing.name, shape: [1, ...crossing.shape], data: input }]),
    });
    // Assess
    expect(r.status).toBe(200);
    expect(r.headers.get('x-offload-cold')).toBe('true');
    const out = (await r.json()) as { outputs: { data: number[] }[] };
    const got = out.outputs[0]!.data;
    expect(got).toHaveLength(expected.length);
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
  });

  it('the tail registers itself in the synthesised registry table and ends idle', async () => {
    // The idle mark is written after the response; poll briefly (this also leaves no write in flight at teardown).
    const dynamo = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: ddb.endpoint, region: CREDS.AWS_REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    );
    const table = local.app.functions.find((f) => f.name === 'offload-tinychain-0')!.environment['REGISTRY_TABLE']!;
    let items: Record<string, unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await dynamo.send(
        new QueryCommand({ TableName: table, IndexName: 'byModel', KeyConditionExpression: '#m = :m', ExpressionAttributeNames: { '#m': 'model' }, ExpressionAttributeValues: { ':m': 'tinychain' } }),
      );
      items = r.Items ?? [];
      if (items.length === 1 && items[0]!['state'] === 'idle') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    dynamo.destroy();
    expect(items).toEqual([expect.objectContaining({ fn: 'tinychain#0', model: 'tinychain', cut: 0, state: 'idle', functionName: 'offload-tinychain-0' })]);
  });
});
