/**
 * tfjs's WebGPU backend (it registers itself on import). Its own module so
 * that the build splits it into a chunk named after it, `offload-webgpu-*.js`,
 * which backend.ts imports only where the browser has a WebGPU adapter.
 */
import '@tensorflow/tfjs-backend-webgpu';
