import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ApiError } from '../client/api';
import { isOffloadError } from '../core/errors';
import { register as registerCheckSplit } from './commands/check-split';
import { register as registerColdFit } from './commands/cold-fit';
import { register as registerCuts } from './commands/cuts';
import { register as registerExport } from './commands/export';
import { register as registerInfer } from './commands/infer';
import { register as registerLoad } from './commands/load';
import { register as registerLocal } from './commands/local';
import { register as registerModels } from './commands/models';
import { register as registerPlan } from './commands/plan';
import { register as registerPrepareDeploy } from './commands/prepare-deploy';
import { register as registerProfile } from './commands/profile';
import { register as registerRecommend } from './commands/recommend';
import { register as registerSimulate } from './commands/simulate';
import { register as registerSplit } from './commands/split';

/**
 * A subcommand module in `cli/commands/` exports `register`, which declares the
 * command on `program`. Modules import heavy dependencies (tfjs, AWS SDK) inside
 * their actions, so `offload --help` stays fast.
 */
export type RegisterCommand = (program: Command) => void;

/**
 * Every subcommand, by its file in `cli/commands/`, in help order. Listed, not
 * discovered: what ships is what the bundle and the type checker see (a file
 * left out of this table fails test/cli/commands.test.ts).
 */
export const COMMANDS: Readonly<Record<string, RegisterCommand>> = {
  'check-split': registerCheckSplit,
  'cold-fit': registerColdFit,
  cuts: registerCuts,
  export: registerExport,
  infer: registerInfer,
  load: registerLoad,
  local: registerLocal,
  models: registerModels,
  plan: registerPlan,
  'prepare-deploy': registerPrepareDeploy,
  profile: registerProfile,
  recommend: registerRecommend,
  simulate: registerSimulate,
  split: registerSplit,
};

/** The package's version, as `offload --version` prints it. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

function buildProgram(): Command {
  const program = new Command('offload')
    .description('Plan and run collaborative DNN inference between a device and AWS Lambda.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of Object.values(COMMANDS)) register(program);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failed, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
    if (e instanceof ApiError) {
      // The API's answer (its status, code and message) is the whole story; a 403 is nearly always missing or wrong credentials.
      const hint = e.status === 403 ? ' (a deployed API needs --sigv4 <region> and credentials allowed by its ClientPolicy)' : '';
      process.stderr.write(`offload: the API refused the request: ${e.message}${hint}\n`);
      return 1;
    }
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`offload: unexpected error: ${message}\n`);
    if (process.env.OFFLOAD_DEBUG) console.error(e);
    return 1;
  }
}
