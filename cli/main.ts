import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { isOffloadError } from '../core/errors';

/**
 * A subcommand module in `cli/commands/` exports `register`, which declares the
 * command on `program`. Modules import heavy dependencies (tfjs, AWS SDK) inside
 * their actions, so `offload --help` stays fast.
 */
export type RegisterCommand = (program: Command) => void;

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));

/** The package's version, as `offload --version` prints it. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

async function buildProgram(): Promise<Command> {
  const program = new Command('offload')
    .description('Plan and run collaborative DNN inference between a device and AWS Lambda.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const files = (await readdir(commandsDir)).filter((f) => /\.ts$/.test(f) && !f.endsWith('.test.ts')).sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(commandsDir + file).href)) as { register?: RegisterCommand };
    mod.register?.(program);
  }
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failed, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its message (or the help text).
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isOffloadError(e)) {
      // Local runs may name the internals an HTTP answer keeps to the log.
      process.stderr.write(`offload: ${e.message}${e.detail ? ` (${e.detail})` : ''}\n`);
      return 1;
    }
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`offload: unexpected error: ${message}\n`);
    if (process.env.OFFLOAD_DEBUG) console.error(e);
    return 1;
  }
}
