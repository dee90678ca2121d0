/** A real HTTP server on a free loopback port, for the unit next to a fake API (client tests). */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

/**
 * Serves `handle` on 127.0.0.1 at an ephemeral port.
 *
 * @example
 * const api = await startLocalServer(async (req, res) => void res.writeHead(200).end('{}'));
 * await api.close();
 */
export async function startLocalServer(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void): Promise<LocalServer> {
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The whole body of a request. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
