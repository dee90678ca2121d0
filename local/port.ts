/**
 * The local stack's port check: `npm start` binds its API port last, after
 * exports, synthesis and uploads (a minute on a fresh clone); a busy port must
 * fail before all that, in well under a second. Only node:net here, so the CLI
 * can check before it loads the stack's modules.
 */
import { createServer } from 'node:net';
import { OffloadError } from '../core/errors';

/**
 * Resolves when `host:port` can be listened on right now (port 0 always can);
 * rejects with OffloadError `invalid-input` naming the port when it is in use
 * or not allowed.
 */
export function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? 'is in use' : e.code === 'EACCES' ? 'needs privileges to listen on' : `cannot be listened on (${e.code ?? e.message})`;
      reject(new OffloadError('invalid-input', `port ${port} on ${host} ${why}: pick another with --port N (0 picks a free one)`));
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolvePort()));
  });
}
