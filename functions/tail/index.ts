/**
 * Tail function: `POST /infer/{model}/{cut}` for the one (model, cut) in its
 * environment. Init (artifact download, model build) starts at module load so
 * it overlaps Lambda's init phase; a failed init is retried on the next
 * invocation. All logic lives in functions/commons/tail.ts.
 */
import { createTailHandler, TailRuntime } from '../commons/tail';

const runtime = new TailRuntime();
runtime.prewarm();

export const handler = createTailHandler(runtime);
