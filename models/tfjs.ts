/**
 * The tfjs API this project runs, and only that: tfjs-core (tensors, ops,
 * io), tfjs-layers (the zoo and the sliced head/tail models) and the pure-JS
 * cpu backend (always there; the wasm backend is loaded on demand by
 * models/backend.ts). Importing all of `@tensorflow/tfjs` would also bundle
 * the webgl backend, the graph-model converter, tfjs-data and the URL
 * polyfills they pull in (tr46, whatwg-url): about 1.2 MiB of a tail bundle
 * that never runs, parsed at every cold start.
 *
 * Every module imports tfjs values from here; `import type` from
 * `@tensorflow/tfjs` is fine (the types are the same classes). Tensors have
 * no chained-op methods here (`x.reshape()`, `x.flatten()`: `@tensorflow/tfjs`
 * registers those, and tfjs-core's Node build cannot): call the op functions,
 * `tf.reshape(x, …)`.
 */
import '@tensorflow/tfjs-backend-cpu';
import { version_core } from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';

/** Versions of the tfjs packages in use (`tfjs` = the core version, as `@tensorflow/tfjs` reports it). */
export const version = { tfjs: version_core, 'tfjs-core': version_core, 'tfjs-layers': version_layers } as const;
