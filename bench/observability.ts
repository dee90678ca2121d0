/**
 * Warm overhead of the tail's logs and metrics (issue 13: p50 ≤ 0.5 ms in
 * process): the same middy handler answering a tail-sized response, with and
 * without the Powertools middlewares of functions/commons/observability.ts
 * (context injection, ColdStart, bytes in/out, error classes, the timing
 * metrics, one EMF line flushed per invocation). Calls alternate between the
 * two so machine load hits both alike; the figure is the difference of the
 * medians. stdout writes are counted and dropped during the timing (the EMF
 * line is still built and written to the stream).
 *
 * Run alone with `npx tsx bench/observability.ts`, or call {@link runObservabilityBench}.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { INFER_HEADERS, inferHeaders } from '../core/api';
import { createMetrics, METRIC, MetricUnit, observe } from '../functions/commons/observability';
import { formatResults, isMain, median, type BenchResult } from './report';

const TARGET_MS = 0.5;

const event: APIGatewayProxyEventV2 = {
  version: '2.0',
  routeKey: 'POST /infer/{model}/{cut}',
  rawPath: '/infer/mobilenetv2/36',
  rawQueryString: '',
  headers: { 'content-type': 'application/vnd.offload.tensors' },
  isBase64Encoded: true,
  body: 'A'.repeat(200_000),
  requestContext: {} as APIGatewayProxyEventV2['requestContext'],
};
const response: APIGatewayProxyStructuredResultV2 = {
  statusCode: 200,
  headers: inferHeaders({ cold: false, initMs: null, computeMs: 31.2, instance: null }),
  body: 'B'.repeat(5_400),
  isBase64Encoded: true,
};
const context = {
  functionName: 'offload-mobilenetv2-36',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:offload-mobilenetv2-36',
  memoryLimitInMB: '1769',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

export async function runObservabilityBench(opts: { samples?: number } = {}): Promise<BenchResult[]> {
  const samples = opts.samples ?? 4_000;
  const metrics = createMetrics('tail');
  const observed = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(observe(metrics))
    .use({
      after: (request) => {
        metrics.addMetric(METRIC.computeMs, MetricUnit.Milliseconds, Number(request.response?.headers?.[INFER_HEADERS.computeMs]));
      },
    })
    .handler(async () => ({ ...response }));
  const bare = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(async () => ({ ...response }));
  const write = process.stdout.write;
  let bytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    bytes += chunk.length;
    return true;
  }) as typeof process.stdout.write;
  const withObs: number[] = [];
  const without: number[] = [];
  try {
    for (let i = 0; i < samples + 200; i++) {
      const a = performance.now();
      await observed(event, context);
      const b = performance.now();
      await bare(event, context);
      const c = performance.now();
      if (i >= 200) {
        withObs.push(b - a);
        without.push(c - b);
      }
    }
  } finally {
    process.stdout.write = write;
  }
  const overhead = median(withObs) - median(without);
  const detail =
    `${samples} alternating calls; p50 with ${median(withObs).toFixed(4)} ms, without ${median(without).toFixed(4)} ms; ` +
    `${(bytes / (samples + 200)).toFixed(0)} bytes of EMF/log per invocation`;
  return [{ name: 'Logger+Metrics warm overhead, p50', value: overhead, unit: 'ms', target: TARGET_MS, ratio: TARGET_MS / Math.max(overhead, 1e-6), met: overhead <= TARGET_MS, detail }];
}

if (isMain(import.meta.url)) {
  const results = await runObservabilityBench();
  process.stdout.write(`load average ${loadavg()[0]?.toFixed(2)} at the end\n${formatResults(results, { digits: 4 })}\n`);
  for (const r of results) process.stdout.write(`${r.detail}\n`);
}
