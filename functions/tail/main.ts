/**
 * The tail function's handler bundle (issue 11): everything the tail runs —
 * tfjs, the AWS SDK, the runtime — loaded by the entry (./index.ts) once it
 * has started the early download. Init (the model build, or the download
 * when there is no early one) starts here, at module load, so it overlaps
 * Lambda's init phase; a failed init is retried on the next invocation. All
 * logic lives in functions/commons/tail.ts.
 *
 * SIGTERM comes in Lambda's Shutdown phase (the CDK app registers the
 * extension that makes Lambda send it; the local emulator sends it when it
 * reaps or closes an environment): the instance marks itself gone in the
 * fleet registry, then exits.
 */
import { createTailHandler, onShutdownSignal, TailRuntime } from '../commons/tail';
import { logLine } from '../commons/http';
import type { PrefetchHandle } from '../commons/prefetch-protocol';
import { offerEarlyPthreadWorkers } from '../../models/backend';
import { startEarlyEngine } from '../commons/early-engine';

/** The environment's runtime, started: `prefetch` is the entry's early download, `notStarted` why there is none when one was wanted. */
export function startTail(prefetch: PrefetchHandle | undefined, notStarted?: string): ReturnType<typeof createTailHandler> {
  if (notStarted) logLine('warn', 'early download not started; the tail downloads its artifact after loading', { reason: notStarted });
  // the engine's pthread workers boot while init waits for the registry mark (functions/commons/early-engine.ts)
  const engine = startEarlyEngine(process.env, (reason) => logLine('warn', 'early pthread workers not started; the engine starts its own', { reason }));
  if (engine) offerEarlyPthreadWorkers(engine);
  const runtime = new TailRuntime(prefetch ? { prefetch } : {});
  runtime.prewarm();
  onShutdownSignal(runtime);
  return createTailHandler(runtime);
}
