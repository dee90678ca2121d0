/**
 * Time to the 4xx for an oversized batch (issue 13: ≤ 50 ms, no compute):
 * the request the issue reports — MobileNetV2 at cut 0, batch 29, int8
 * (4.4 MB, 5.8 MB once API Gateway has base64-encoded it) — through the tail
 * handler in process, with the default `MAX_BATCH` of 16. The handler reads
 * the batch from the payload's header before decoding the body and before
 * init is awaited, so the tail is never loaded: the runtime points at an
 * unreachable artifact store, and the bench fails if init was attempted.
 *
 * Run alone with `npx tsx bench/limits.ts`, or call {@link runLimitsBench}.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { encodeTensors, WIRE_CONTENT_TYPE } from '../core/wire';
import { createTailHandler, TailRuntime } from '../functions/commons/tail';
import { formatResults, isMain, median, quantile, type BenchResult } from './report';

const TARGET_MS = 50;

export interface LimitsBenchOptions {
  /** Timed requests (default 41). */
  samples?: number;
  /** Batch of the oversized request (default 29, as in the issue). */
  batch?: number;
}

function event(body: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /infer/{model}/{cut}',
    rawPath: '/infer/mobilenetv2/0',
    rawQueryString: '',
    headers: { 'content-type': WIRE_CONTENT_TYPE },
    pathParameters: { model: 'mobilenetv2', cut: '0' },
    isBase64Encoded: true,
    body,
    requestContext: {} as APIGatewayProxyEventV2['requestContext'],
  };
}

const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'bench' } as unknown as Context;

export async function runLimitsBench(opts: LimitsBenchOptions = {}): Promise<BenchResult[]> {
  const samples = opts.samples ?? 41;
  const batch = opts.batch ?? 29;
  const elements = batch * 224 * 224 * 3;
  const data = new Float32Array(elements);
  for (let i = 0; i < elements; i++) data[i] = ((i * 2654435761) % 1000) / 500 - 1;
  const body = Buffer.from(encodeTensors([{ name: 'input', shape: [batch, 224, 224, 3], data }], 'int8')).toString('base64');
  const env = {
    ...process.env,
    MODEL_NAME: 'mobilenetv2',
    CUT: '0',
    ARTIFACT_BUCKET: 'unreachable',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', // discard port: an init would fail (and log) at once
  };
  const runtime = new TailRuntime({ env });
  const handler = createTailHandler(runtime);
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void errors.push(args.map(String).join(' '));
  const times: number[] = [];
  let status = 0;
  let message = '';
  try {
    for (let i = 0; i < samples + 3; i++) {
      const started = performance.now();
      const res = (await handler(event(body), context)) as APIGatewayProxyStructuredResultV2;
      const ms = performance.now() - started;
      if (i >= 3) times.push(ms); // the first calls pay module JIT
      status = res.statusCode ?? 0;
      message = (JSON.parse(String(res.body)) as { message: string }).message;
    }
  } finally {
    console.error = original;
  }
  if (status !== 413) throw new Error(`expected 413, got ${status}: ${message}`);
  if (errors.length > 0) throw new Error(`the tail attempted init (compute) for an oversized batch: ${errors[0]}`);
  times.sort((a, b) => a - b);
  const p50 = median(times);
  const max = quantile(times, 1);
  const detail = `MobileNetV2 cut 0, batch ${batch} int8, ${(body.length / 1e6).toFixed(2)} MB base64 body, ${samples} requests; p50 ${p50.toFixed(2)} ms; no init attempted; "${message}"`;
  return [
    { name: 'oversized batch → 413, max', value: max, unit: 'ms', target: TARGET_MS, ratio: TARGET_MS / max, met: max <= TARGET_MS, detail },
  ];
}

if (isMain(import.meta.url)) {
  const results = await runLimitsBench();
  process.stdout.write(`load average ${loadavg()[0]?.toFixed(2)} at the end\n${formatResults(results, { digits: 2 })}\n`);
  for (const r of results) process.stdout.write(`${r.detail}\n`);
}
