/**
 * Tail function: `POST /infer/{model}/{cut}` for the one (model, cut) in its
 * environment. Init (artifact download, model build) starts at module load so
 * it overlaps Lambda's init phase; a failed init is retried on the next
 * invocation. All logic lives in functions/commons/tail.ts.
 *
 * SIGTERM comes in Lambda's Shutdown phase (the CDK app registers the
 * extension that makes Lambda send it; the local emulator sends it when it
 * reaps or closes an environment): the instance marks itself gone in the
 * fleet registry, then exits.
 */
import { createTailHandler, onShutdownSignal, TailRuntime } from '../commons/tail';

const runtime = new TailRuntime();
runtime.prewarm();
onShutdownSignal(runtime);

export const handler = createTailHandler(runtime);
