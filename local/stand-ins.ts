/**
 * S3 and DynamoDB stand-ins that speak the real wire protocols (s3rver,
 * dynalite), started in-process on ephemeral ports so tests, benchmarks and
 * the local stack talk to them through the real AWS SDK clients.
 *
 * Neither package ships types; each is loaded through `createRequire` and
 * narrowed to the few members used here, so no ambient `declare module`
 * leaks into the rest of the project.
 */
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

/** A running stand-in: where to point the SDK, and how to stop it. */
export interface StandIn {
  /** e.g. `http://127.0.0.1:40123`; use as `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpoint: string;
  port: number;
  /** Stops the server, drops kept-alive SDK connections, removes a temporary data directory. */
  close(): Promise<void>;
}

export interface S3StandInOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Host to bind; default 127.0.0.1. */
  host?: string;
  /** Buckets to create before serving. */
  buckets?: readonly string[];
  /** Data directory; default a fresh temporary directory removed on close. */
  directory?: string;
  /** Print s3rver's request log; default false. */
  verbose?: boolean;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

/**
 * Starts s3rver. Clients must use `forcePathStyle: true` and
 * `requestChecksumCalculation`/`responseChecksumValidation: 'WHEN_REQUIRED'`
 * (s3rver corrupts streamed uploads with the SDK's default checksums).
 *
 * @example
 * const s3 = await startS3({ buckets: ['artifacts'] });
 * process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
 * // ...
 * await s3.close();
 */
export async function startS3(opts: S3StandInOptions = {}): Promise<StandIn> {
  const S3rver = require('s3rver') as S3rverCtor;
  const host = opts.host ?? '127.0.0.1';
  const ownDir = opts.directory === undefined;
  const directory = opts.directory ?? (await mkdtemp(join(tmpdir(), 'offload-s3-')));
  const server = new S3rver({
    address: host,
    port: opts.port ?? 0,
    silent: !opts.verbose,
    directory,
    // Path-style only: vhost parsing would treat `127.0.0.1` labels as bucket names.
    vhostBuckets: false,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const address = await server.run();
  const endpoint = `http://${host}:${address.port}`;
  return {
    endpoint,
    port: address.port,
    async close() {
      // The SDK keeps sockets alive; without this, close() waits for them to time out.
      server.httpServer?.closeAllConnections();
      await server.close();
      if (ownDir) await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface DynamoStandInOptions {
  port?: number;
  host?: string;
  /** LevelDB directory; default in-memory. */
  path?: string;
  /** How long a new table stays CREATING; default 0 so tests need not wait. */
  createTableMs?: number;
}

type DynaliteFactory = (opts: Record<string, unknown>) => Server;

/** Longest close() waits for requests dynalite is still working on. */
const CLOSE_GRACE_MS = 2000;

/**
 * Starts dynalite (in-memory unless `path` is given). dynalite has no
 * UpdateTimeToLive: create tables without TTL settings and let the code that
 * reads them filter expired items itself (DynamoDB's TTL deletion is lazy anyway).
 *
 * @example
 * const ddb = await startDynamo();
 * process.env.AWS_ENDPOINT_URL_DYNAMODB = ddb.endpoint;
 */
export async function startDynamo(opts: DynamoStandInOptions = {}): Promise<StandIn> {
  const dynalite = require('dynalite') as DynaliteFactory;
  const host = opts.host ?? '127.0.0.1';
  const server = dynalite({
    createTableMs: opts.createTableMs ?? 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.path === undefined ? {} : { path: opts.path }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // dynalite keeps working on a request after its socket is gone; if its database closes meanwhile
  // (a Lambda environment killed mid-write at shutdown), the late write throws out of dynalite
  // uncaught. Requests are counted until their response ends, and close() waits for them.
  let inFlight = 0;
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight += 1;
    // dynalite ends every response it answers, even once the socket is gone: that marks its work done
    const end = res.end as (...args: unknown[]) => ServerResponse;
    let open = true;
    res.end = ((...args: unknown[]) => {
      if (open) {
        open = false;
        inFlight -= 1;
      }
      return end.apply(res, args);
    }) as ServerResponse['end'];
  });
  return {
    endpoint: `http://${host}:${port}`,
    port,
    async close() {
      const deadline = Date.now() + CLOSE_GRACE_MS;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/**
 * Sets the environment the AWS SDK v3 reads for local stand-ins: endpoints,
 * a region and dummy credentials. Returns a function that restores the previous values.
 */
export function useStandInEnv(endpoints: { s3?: string; dynamodb?: string }, region = 'us-east-1'): () => void {
  const next: Record<string, string | undefined> = {
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  const previous: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(next)) {
    if (value === undefined) continue;
    previous[key] = process.env[key];
    process.env[key] = value;
  }
  return () => {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
