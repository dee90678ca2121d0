import { isIP } from 'node:net';
import type { Command } from 'commander';
import { OffloadError } from '../../core/errors';
import { note, table } from '../output';
import { progressBar } from '../model-command';
import { nonNegativeInt, positiveInt } from '../options';

interface LocalFlags {
  models?: string;
  config?: string;
  port: number;
  host: string;
  allowRemote?: boolean;
  keepAliveMs?: number;
  stateDir?: string;
  resynth?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** True for an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The warning printed when the stack listens beyond loopback (with --allow-remote). */
export function remoteWarning(host: string): string {
  return (
    `WARNING: listening on ${host}, beyond loopback: the local stack has no authentication, so anyone who can reach this ` +
    `address can plan, run inference, invoke any function (Invoke API) and read the environments' state (/_local/functions).`
  );
}

/**
 * `offload local` (= `npm start`): exports the configured models, synthesises
 * the CDK app (or reuses a fresh assembly), starts the S3 and DynamoDB
 * stand-ins and the Lambda emulator, and serves the API until Ctrl-C.
 * See docs/local-stack.md.
 *
 * Output: the ready banner (API URL, functions, an example `offload infer`)
 * on stdout; progress and step notes on stderr. With `--json`, one JSON line
 * `{ url, port, bucket, table, s3, dynamodb, keepAliveMs, tails, report }`
 * on stdout once ready.
 */
export function register(program: Command): void {
  program
    .command('local')
    .description('Run the whole backend locally (S3 and DynamoDB stand-ins, Lambda emulator) until Ctrl-C')
    .option('--models <list>', 'comma-separated models to deploy (default: those of the configuration file)')
    .option('--config <file>', 'configuration file (cdk/config.ts schema)', 'local/offload.local.json')
    .option('--port <n>', 'port of the API (0 picks a free one)', nonNegativeInt('--port'), 3000)
    .option('--host <host>', 'address to listen on; beyond loopback only with --allow-remote (the local API has no authentication)', '127.0.0.1')
    .option('--allow-remote', 'allow a --host other machines can reach (0.0.0.0, a LAN address): anyone there can invoke the functions')
    .option('--keep-alive-ms <ms>', 'idle time after which an execution environment is reaped (default 600000)', positiveInt('--keep-alive-ms'))
    .option('--state-dir <dir>', 'where the cloud assembly and the S3 data live', '.offload/local')
    .option('--resynth', 'synthesise the CDK app even when the assembly is fresh')
    .option('--quiet', "do not print the functions' log lines")
    .option('--json', 'print one JSON line on stdout when ready (notes stay on stderr)')
    .action(async (flags: LocalFlags, command: Command) => {
      if (!isLoopbackHost(flags.host)) {
        // Refused before any work: the API, the raw Invoke API and /_local/functions would be open to the network.
        if (!flags.allowRemote) {
          command.error(
            `error: --host ${flags.host} is reachable from other machines and the local stack has no authentication; ` +
              'add --allow-remote if that is what you want, or keep the default 127.0.0.1',
            { exitCode: 2, code: 'offload.remoteHost' },
          );
        }
        note(remoteWarning(flags.host));
      }
      // The SDK warns once per process that Node 20 support ends in 2027; the banner is not the place for it.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      // A busy port fails now, before the stack's modules load and before any export or synthesis.
      const { assertPortFree } = await import('../../local/port');
      await assertPortFree(flags.port, flags.host);
      const [{ startLocalStack }, { onShutdownSignals }, { browserPages }] = await Promise.all([
        import('../../local/stack'),
        import('../../local/shutdown'),
        import('../../client/browser/build'),
      ]);
      const progress = await progressBar(!flags.json);
      let stack: Awaited<ReturnType<typeof startLocalStack>>;
      try {
        stack = await startLocalStack({
          ...(flags.config ? { configFile: flags.config } : {}),
          ...(flags.models ? { models: flags.models.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
          ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
          ...(flags.keepAliveMs ? { keepAliveMs: flags.keepAliveMs } : {}),
          port: flags.port,
          host: flags.host,
          logs: flags.quiet ? 'ignore' : 'inherit',
          pages: browserPages(),
          ...(flags.resynth ? { forceSynth: true } : {}),
          onProgress: (p) =>
            p.phase === 'export'
              ? progress.update(p.done, p.total, `export ${p.model} ${p.part}`)
              : progress.update(p.done, p.total, `upload ${p.key}`),
          onStep: (message) => {
            progress.stop();
            note(message);
          },
        });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new OffloadError('invalid-input', `port ${flags.port} is in use: pick another with --port N (0 picks a free one)`);
        }
        throw e;
      } finally {
        progress.stop();
      }
      // Installed before anything else can fail, so Ctrl-C always stops the stand-ins and the environments.
      onShutdownSignals(
        async () => {
          note('\nstopping: API, execution environments, stand-ins…');
          await stack.close();
        },
        { onError: (e) => note(`offload local: shutdown: ${e instanceof Error ? e.message : String(e)}`) },
      );
      const seconds = (stack.report.timings.totalMs / 1000).toFixed(1);
      const model = stack.tails[0]?.model ?? 'MODEL';
      const example = `npx offload infer --url ${stack.url} --model ${model}`;
      if (flags.json) {
        const { url, port, bucket, table: tableName, keepAliveMs, tails, report } = stack;
        process.stdout.write(
          `${JSON.stringify({ url, port, bucket, table: tableName, s3: stack.s3.endpoint, dynamodb: stack.dynamo.endpoint, keepAliveMs, tails, report, example })}\n`,
        );
        return;
      }
      const lines = [
        '',
        `offload local stack ready in ${seconds} s`,
        `  API:        ${stack.url}   (POST /plan, GET /models, POST /infer/{model}/{cut}; no auth locally)`,
        `  Invoke API: ${stack.url}/2015-03-31/functions/{name}/invocations`,
        `  demo page:  ${stack.url}/_local/demo/   (plan, split and infer from this browser)`,
        `  state:      ${stack.url}/_local/functions`,
        `  S3:         ${stack.s3.endpoint} (bucket ${stack.bucket})`,
        `  DynamoDB:   ${stack.dynamo.endpoint} (table ${stack.table})`,
        `  keep-alive: ${stack.keepAliveMs} ms`,
        '',
        table(
          stack.tails.map((t) => ({
            model: t.model,
            cut: t.cut,
            function: t.function,
            reserved: t.reservedConcurrency,
            tailMiB: (t.tailWeightBytes / 2 ** 20).toFixed(1),
          })),
        ),
        '',
        'Try:',
        `  ${example}`,
        `  ${example} --cut 0 --json`,
        '',
        'Ctrl-C stops everything.',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
