/**
 * Ctrl-C handling for long-running local stacks (`npm start`): the first
 * SIGINT/SIGTERM runs `close` (which kills every environment process) and
 * exits with 128 + signal number; a second signal exits at once. Environment
 * processes also exit by themselves when their IPC channel to this process
 * closes, so even an abrupt exit leaves no orphans behind.
 */
import { constants } from 'node:os';

export interface ShutdownOptions {
  signals?: readonly NodeJS.Signals[];
  /** Called instead of process.exit (tests). */
  exit?: (code: number) => void;
  /** Called if close() throws. */
  onError?: (e: unknown) => void;
}

/**
 * Installs the handlers; returns a function that removes them.
 *
 * @example
 * const stack = await startLocalEmulator({ cdkOut: 'cdk.out' });
 * onShutdownSignals(() => stack.close());
 */
export function onShutdownSignals(close: () => Promise<void>, options: ShutdownOptions = {}): () => void {
  const signals = options.signals ?? (['SIGINT', 'SIGTERM'] as const);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let closing = false;
  const handler = (signal: NodeJS.Signals): void => {
    const code = 128 + (constants.signals[signal] ?? 1);
    if (closing) {
      exit(code);
      return;
    }
    closing = true;
    close().then(
      () => exit(code),
      (e: unknown) => {
        options.onError?.(e);
        exit(code);
      },
    );
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
