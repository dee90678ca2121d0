/**
 * The tail's logs and metrics as CloudWatch would read them: Powertools
 * Logger JSON lines carrying the request id and the cold-start flag, and EMF
 * metric lines (namespace `offload`) with the cold start, init and compute
 * times, bytes in and out, and the error classes.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createTailHandler, TailRuntime } from '../../functions/commons/tail';
import { METRICS_NAMESPACE } from '../../functions/commons/observability';
import { encodeTensors, WIRE_CONTENT_TYPE } from '../../core/wire';
import { httpEvent, lambdaContext, startStandInBackend, type StandInBackend } from '../../testkit/lambda';
import { uploadSlicedTail, type SlicedFixture } from '../../testkit/tail-fixture';

// What Lambda (and the local emulator) sets for an on-demand environment; Powertools reports cold starts only then.
vi.hoisted(() => {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
});

const BUCKET = 'obs-artifacts';
const TABLE = 'obs-registry';

type Line = Record<string, unknown>;

/** Every JSON line written to stdout and stderr while `act` runs. */
async function capture(act: () => Promise<void>): Promise<Line[]> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  let calls: unknown[][];
  try {
    await act();
  } finally {
    calls = [...out.mock.calls, ...err.mock.calls]; // before restoring, which clears them
    out.mockRestore();
    err.mockRestore();
  }
  return calls
    .flatMap((c) => String(c[0]).split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

/** The EMF lines' metric values by name (summed over lines; arrays flattened). */
function metricsOf(lines: Line[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of lines) {
    const aws = line['_aws'] as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] } | undefined;
    if (!aws) continue;
    for (const group of aws.CloudWatchMetrics) {
      expect(group.Namespace).toBe(METRICS_NAMESPACE);
      for (const { Name } of group.Metrics) {
        const v = line[Name] as number | number[];
        out.set(Name, [...(out.get(Name) ?? []), ...(Array.isArray(v) ? v : [v])]);
      }
    }
  }
  return out;
}

describe('tail logs and metrics (Powertools Logger and Metrics, EMF)', () => {
  let backend: StandInBackend;
  let fx: SlicedFixture;

  beforeAll(async () => {
    backend = await startStandInBackend({ bucket: BUCKET, table: TABLE });
    fx = await uploadSlicedTail(backend.s3, BUCKET, 'tinychain', 3);
  });

  afterAll(async () => {
    await backend.close();
  });

  it('emits the cold start, init and compute times and bytes, and logs with the request id and cold-start flag', async () => {
    // Prepare
    const env = { ...process.env, MODEL_NAME: 'tinychain', CUT: '3', ARTIFACT_BUCKET: BUCKET, ARTIFACT_PREFIX: fx.prefix };
    const handler = createTailHandler(new TailRuntime({ env }));
    const body = encodeTensors(fx.headOutputs);
    const event = () =>
      httpEvent({
        method: 'POST',
        path: '/infer/tinychain/3',
        routeKey: 'POST /infer/{model}/{cut}',
        pathParameters: { model: 'tinychain', cut: '3' },
        headers: { 'content-type': WIRE_CONTENT_TYPE },
        body,
      });
    const first = lambdaContext('offload-tinychain-3');
    const results: APIGatewayProxyStructuredResultV2[] = [];

    // Act: a cold request (init happens inside it, so its log line has the request context), a warm one, a bad one
    const lines = await capture(async () => {
      results.push((await handler(event(), first)) as APIGatewayProxyStructuredResultV2);
      results.push((await handler(event(), lambdaContext('offload-tinychain-3'))) as APIGatewayProxyStructuredResultV2);
      results.push((await handler({ ...event(), body: 'bm90IHRlbnNvcnM=' }, lambdaContext('offload-tinychain-3'))) as APIGatewayProxyStructuredResultV2);
    });

    // Assess: the answers
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 400]);
    // the log line of init carries the request id of the request that paid it, and cold_start
    const ready = lines.find((l) => l['message'] === 'tail ready');
    expect(ready).toMatchObject({ level: 'INFO', service: 'offload', function_request_id: first.awsRequestId, cold_start: true, function_name: 'offload-tinychain-3' });
    // the metrics, one EMF line per invocation
    const m = metricsOf(lines);
    expect(m.get('ColdStart')).toEqual([1]);
    expect(m.get('InitMs')).toHaveLength(1);
    expect(m.get('InitMs')![0]).toBeGreaterThan(0);
    expect(m.get('ComputeMs')).toHaveLength(2);
    expect(m.get('BytesIn')).toEqual([body.byteLength, body.byteLength, 'bm90IHRlbnNvcnM='.length].map((n, i) => (i < 2 ? Math.ceil(n / 3) * 4 : n)));
    expect(m.get('BytesOut')!.every((n) => n > 0)).toBe(true);
    expect(m.get('ClientErrors')).toEqual([1]);
    expect(m.get('ServerErrors')).toBeUndefined();
  });
});
