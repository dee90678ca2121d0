// `npm start` (`offload local`) checks its port here, in plain JavaScript,
// before tsx and the CLI load (seconds on a loaded machine): a busy port fails
// at once. local/port.ts checks again for programmatic starts; both print the
// same line. Flags it cannot read are left to the CLI to report.
import { createServer } from 'node:net';

/** `--port N` / `--port=N` and `--host H` from the arguments after `local`, with the CLI's defaults. */
function target(args) {
  let port = 3000;
  let host = '127.0.0.1';
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s);
    const value = inline ?? args[i + 1];
    if (flag === '--port') port = /^\d+$/.test(value ?? '') ? Number(value) : NaN;
    if (flag === '--host' && value) host = value;
  }
  return { port, host };
}

/** False (after printing why) when the port `offload local` would listen on is taken. */
export async function localPortFree(args) {
  const { port, host } = target(args);
  if (!Number.isInteger(port) || port === 0 || port > 65535) return true;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (e) => {
      if (e.code !== 'EADDRINUSE') return resolve(true); // anything else: the CLI reports it
      process.stderr.write(`offload: port ${port} on ${host} is in use: pick another with --port N (0 picks a free one)\n`);
      resolve(false);
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
