/**
 * Picks the tfjs backend a page runs its head on: webgl where the browser
 * has it (GPU or SwiftShader), else wasm (SIMD where supported), else the
 * pure-JS cpu backend. WebGPU is not bundled (see docs/browser.md).
 */
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '../../models/tfjs';

export const BROWSER_BACKENDS = ['webgl', 'wasm', 'cpu'] as const;
export type BrowserBackend = (typeof BROWSER_BACKENDS)[number];

export interface BackendChoice {
  backend: BrowserBackend;
  /** Backends tried before it and why they were passed over. */
  skipped: { backend: BrowserBackend; reason: string }[];
}

/**
 * Initialises the first backend of `prefer` that works.
 *
 * @param wasmBase URL of the folder holding tfjs-backend-wasm's `.wasm` files (the bundle ships them beside itself).
 * @example
 * const { backend } = await initBrowserBackend(new URL('./', import.meta.url).href);
 */
export async function initBrowserBackend(wasmBase: string, prefer: readonly BrowserBackend[] = BROWSER_BACKENDS): Promise<BackendChoice> {
  setWasmPaths(wasmBase.endsWith('/') ? wasmBase : `${wasmBase}/`);
  const skipped: BackendChoice['skipped'] = [];
  for (const backend of prefer) {
    try {
      if (await tf.setBackend(backend)) {
        await tf.ready();
        return { backend, skipped };
      }
      skipped.push({ backend, reason: 'not available in this browser' });
    } catch (e) {
      skipped.push({ backend, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  throw new Error(`no tfjs backend works here (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`);
}
