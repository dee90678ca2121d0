/**
 * What fleet-registry bookkeeping adds to a warm tail invocation.
 *
 * Runs the real tail handler (tinychain cut 2, wasm backend; its artifact in
 * s3rver) against dynalite, warm, in three ways, interleaved in rounds so
 * drift hits all alike:
 *
 *   none        no registry (REGISTRY_TABLE unset)
 *   background  busy and idle writes queued, not awaited (REGISTRY_WAIT_MS=0;
 *               the busy mark then lands after the compute)
 *   awaited     the shipped behaviour: busy awaited before computing, idle
 *               awaited before answering, each bounded by REGISTRY_WAIT_MS
 *
 * dynalite runs in a child process, as DynamoDB is a remote service to a
 * Lambda environment (and as the local stack's handlers are separate
 * processes). `--inprocess` runs it in this process instead (pessimistic:
 * the server then competes with the handler for one event loop).
 *
 *   npx tsx bench/registry.ts [--n 400] [--gap-ms 5] [--inprocess]
 *
 * Target (issue 4): the shipped variant − none ≤ 5 ms at p50.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { startDynamo, startS3, useStandInEnv, type StandIn } from '../local/stand-ins';
import { createS3Client } from '../functions/commons/aws';
import { createRegistryTable } from '../functions/commons/registry';
import { createTailHandler, TailRuntime } from '../functions/commons/tail';
import { encodeTensors, WIRE_CONTENT_TYPE } from '../core/wire';
import { httpEvent, lambdaContext } from '../testkit/lambda';
import { uploadSlicedTail } from '../testkit/tail-fixture';
import { quantile } from './report';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt('n', 400);
const GAP_MS = opt('gap-ms', 5);
const IN_PROCESS = args.includes('--inprocess');
const ROUNDS = 20;
const BUCKET = 'artifacts';
const TABLE = 'registry';

/** dynalite in a child process; resolves with its endpoint. */
async function childDynamo(): Promise<StandIn> {
  const code = `const d = require('dynalite')({ createTableMs: 0 }); d.listen(0, '127.0.0.1', () => console.log(d.address().port));`;
  const child: ChildProcess = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(Number(line)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      child.kill();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const s3stand = await startS3({ buckets: [BUCKET] });
  const ddb = IN_PROCESS ? await startDynamo() : await childDynamo();
  const restore = useStandInEnv({ s3: s3stand.endpoint, dynamodb: ddb.endpoint });
  try {
    await createRegistryTable(new DynamoDBClient({}), TABLE);
    const s3 = createS3Client();
    const fx = await uploadSlicedTail(s3, BUCKET, 'tinychain', 2);
    const body = encodeTensors(fx.headOutputs);
    const env = (table: boolean) => ({
      ...process.env,
      MODEL_NAME: 'tinychain',
      CUT: '2',
      ARTIFACT_BUCKET: BUCKET,
      ...(table ? { REGISTRY_TABLE: TABLE } : {}),
    });
    const variants = {
      none: new TailRuntime({ env: env(false) }),
      background: new TailRuntime({ env: env(true), registryWaitMs: 0 }),
      awaited: new TailRuntime({ env: env(true) }),
    };
    const handlers = Object.fromEntries(Object.entries(variants).map(([k, r]) => [k, createTailHandler(r)]));
    const event = () =>
      httpEvent({
        method: 'POST',
        path: '/infer/tinychain/2',
        pathParameters: { model: 'tinychain', cut: '2' },
        headers: { 'content-type': WIRE_CONTENT_TYPE },
        body,
      });
    const times: Record<string, number[]> = { none: [], background: [], awaited: [] };
    // warm up: init plus a few invocations each
    for (const h of Object.values(handlers)) for (let i = 0; i < 20; i++) await h(event(), lambdaContext());
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, h] of Object.entries(handlers)) {
        for (let i = 0; i < N / ROUNDS; i++) {
          const e = event();
          const t0 = performance.now();
          const res = (await h(e, lambdaContext())) as APIGatewayProxyStructuredResultV2;
          const dt = performance.now() - t0;
          if (res.statusCode !== 200) throw new Error(`${name}: status ${res.statusCode} ${res.body}`);
          (times[name] as number[]).push(dt);
          await sleep(GAP_MS); // the client's round trip between requests
        }
        await variants[name as keyof typeof variants].flush();
      }
    }
    const stats = Object.fromEntries(
      Object.entries(times).map(([k, v]) => {
        const s = [...v].sort((a, b) => a - b);
        return [k, { p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99) }];
      }),
    ) as Record<string, { p50: number; p90: number; p99: number }>;
    console.log(`warm tail invocation, tinychain cut 2, ${N} per variant, dynalite ${IN_PROCESS ? 'in process' : 'in a child process'}, ${GAP_MS} ms between requests`);
    console.log('variant      p50 ms   p90 ms   p99 ms');
    for (const [k, s] of Object.entries(stats)) console.log(`${k.padEnd(11)} ${s.p50.toFixed(3).padStart(7)}  ${s.p90.toFixed(3).padStart(7)}  ${s.p99.toFixed(3).padStart(7)}`);
    const none = stats.none as { p50: number };
    const overhead = (stats.background as { p50: number }).p50 - none.p50;
    const awaited = (stats.awaited as { p50: number }).p50 - none.p50;
    console.log(`busy-marking overhead at p50: awaited (shipped) ${awaited.toFixed(3)} ms (target ≤ 5 ms: ${awaited <= 5 ? 'met' : 'NOT met'}), background ${overhead.toFixed(3)} ms`);
    console.log(`ratio awaited/none at p50: ${((stats.awaited as { p50: number }).p50 / none.p50).toFixed(3)}`);
    s3.destroy();
  } finally {
    restore();
    await ddb.close();
    await s3stand.close();
  }
}

await main();
