// tfjs-backend-wasm ships its pthread worker source as a CommonJS module without a declaration.
declare module '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js' {
  export const wasmWorkerContents: string;
}
