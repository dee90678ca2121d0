/**
 * Tail function entry (`index.handler`): `POST /infer/{model}/{cut}` for the
 * one (model, cut) in its environment.
 *
 * Loading the handler bundle (tfjs, the AWS SDK: ~1.4 MiB to compile and
 * evaluate) takes a few hundred ms of a cold start, and nothing of the
 * artifact download used to start before it was done. So this entry holds
 * nothing but what starts the download, on a worker thread
 * (./prefetch-worker.ts), and only then loads the bundle (./main.ts, built
 * next to it as main.mjs) and exports its handler. `OFFLOAD_PREFETCH=off`
 * skips the early download.
 */
import { siblingModule, startPrefetch } from '../commons/prefetch-start';

let notStarted: string | undefined;
const prefetch = startPrefetch(process.env, import.meta.url, (reason) => (notStarted = reason));
const tail = (await import(siblingModule(import.meta.url, 'main').href)) as typeof import('./main');

export const handler = tail.startTail(prefetch, notStarted);
