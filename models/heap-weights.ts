/**
 * A streamed tail's weights written straight into the memory the wasm engine
 * gave its variables (issue 11: cold-start cost per MiB of tail weights).
 *
 * tfjs's own way costs three passes over every weight before the engine packs
 * it: the model is built with zero-filled variables (tf.zeros fills a
 * JavaScript array, then the engine mallocs and copies it into its heap),
 * each weight then becomes a new tensor (another malloc and copy), and the
 * zeros are freed. On ResNet-50 cut 0 (97.7 MiB, Xeon) those took ~0.9 and
 * ~0.5 ms per MiB of the tail's one JavaScript thread, which the download
 * and the layers' packing share (docs/local-stack.md, "Where a cold start
 * goes"). Here the variables are built on memory the engine allocates and
 * nothing writes ({@link UnsetWeights}), each weight's bytes are copied
 * once, from the download buffer into that memory ({@link writeInPlace}),
 * and a fused kernel is multiplied by its batch norm's scale where it is
 * ({@link multiplyInPlace}) instead of into a new tensor: fresh engine memory
 * costs a page fault per 4 KiB at its first write (~0.5 ms per MiB here).
 *
 * Only on the wasm backend (tfjs-backend-wasm 4.22: `write(null, …)`
 * allocates without writing, `typedArrayFromHeap` views a tensor's memory);
 * any other backend, or `OFFLOAD_HEAP_WEIGHTS=off`, keeps tfjs's way. An
 * unset variable holds whatever its memory held: the streamed load writes
 * every weight before its layer first runs (models/streamed-load.ts checks
 * that each variable has exactly one weight of the manifest).
 */
import * as tf from './tfjs';
import { switchOn } from '../core/env-switch';

/** The slice of tfjs-backend-wasm's BackendWasm this module uses. */
interface HeapBackend {
  write(values: null, shape: number[], dtype: tf.DataType): object;
  refCount(dataId: object): number;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  dataIdMap: { get(dataId: object): { id: number } | undefined };
  wasm: { cwrap(name: string, returns: null, args: string[]): (...args: unknown[]) => void };
}

/** Environment switch: `OFFLOAD_HEAP_WEIGHTS=off` builds a streamed tail's variables zero-filled and sets each weight as a new tensor, as before (for comparison). */
export const HEAP_WEIGHTS_ENV = 'OFFLOAD_HEAP_WEIGHTS';

/**
 * Whether a streamed tail writes its weights into the engine's memory: `OFFLOAD_HEAP_WEIGHTS` unset, empty or `on` → on; `off` → off.
 * @throws OffloadError `invalid-input` for any other value (a typo must not silently pick one)
 */
export function heapWeightsEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return switchOn(env, HEAP_WEIGHTS_ENV);
}

/** The active backend when it is tfjs-backend-wasm with the calls this module needs. */
function heapBackend(): HeapBackend | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const b = tf.backend() as unknown as Partial<HeapBackend>;
  return typeof b.write === 'function' && typeof b.typedArrayFromHeap === 'function' && typeof b.refCount === 'function' ? (b as HeapBackend) : undefined;
}

/** Whether {@link UnsetWeights} and {@link writeInPlace} work on the active backend. */
export function heapWeightsAvailable(): boolean {
  return heapBackend() !== undefined;
}

/** A tensor on memory the engine allocated and nothing wrote (zeros on a backend without {@link heapWeightsAvailable}). */
export function unsetTensor(shape: number[], dtype: tf.DataType = 'float32'): tf.Tensor {
  const backend = heapBackend();
  if (!backend || (dtype !== 'float32' && dtype !== 'int32')) return tf.zeros(shape, dtype);
  return tf.engine().makeTensorFromDataId(backend.write(null, shape, dtype), shape, dtype, tf.backend());
}

type ZerosInitializer = ReturnType<typeof tf.initializers.zeros>;
// tfjs-layers exports the initializers' factories, not their classes
const Zeros = tf.initializers.zeros().constructor as (new () => ZerosInitializer) & Pick<typeof tf.serialization.Serializable, 'fromConfig'>;

/**
 * The initializer of a variable whose values are written before it is read:
 * {@link unsetTensor}. Registered for model.json topologies (`class_name`
 * `OffloadUnsetWeights`); a Zeros as far as tfjs's checks go.
 */
export class UnsetWeights extends Zeros {
  static readonly className = 'OffloadUnsetWeights';

  override apply(shape: tf.Shape, dtype?: tf.DataType): tf.Tensor {
    return unsetTensor(shape as number[], dtype);
  }

  override getClassName(): string {
    return UnsetWeights.className;
  }
}
tf.serialization.registerClass(UnsetWeights);

/**
 * Copies `bytes` into the engine memory of `variable`, which then holds them
 * without a new tensor. False (nothing written) when that is not possible:
 * another backend, memory shared with another tensor, a size that differs,
 * or a heap view the engine cannot give; the caller then writes a new tensor.
 */
export function writeInPlace(variable: tf.Tensor, bytes: Uint8Array): boolean {
  const backend = heapBackend();
  if (!backend || backend.refCount(variable.dataId) !== 1) return false;
  let heap: tf.TypedArray;
  try {
    heap = backend.typedArrayFromHeap(variable);
  } catch {
    return false; // e.g. a view past the end of a stale heap buffer
  }
  if (heap.byteLength !== bytes.byteLength) return false;
  new Uint8Array(heap.buffer, heap.byteOffset, heap.byteLength).set(bytes);
  return true;
}

/** tfjs-backend-wasm's Multiply entry (a_id, a_shape, a_rank, b_id, b_shape, b_rank, dtype, out_id), per backend. */
const multiplyEntry = new WeakMap<HeapBackend, (...args: unknown[]) => void>();
/** tfjs-backend-wasm's CppDType of float32. */
const CPP_FLOAT32 = 0;

/**
 * x ← x · y, y broadcast to x's shape, in x's own engine memory: the
 * engine's Multiply kernel (XNNPACK's, element-wise, so writing over its
 * input is safe) with x as its output, the products tf.mul gives. False
 * (nothing done) where {@link writeInPlace} would be: the caller then uses
 * tf.mul. x must not have fed a convolution yet: the engine caches a
 * convolution's packed weights by the filter tensor, and would not see the
 * change.
 */
export function multiplyInPlace(x: tf.Tensor, y: tf.Tensor): boolean {
  const backend = heapBackend();
  if (!backend || x.dtype !== 'float32' || y.dtype !== 'float32' || backend.refCount(x.dataId) !== 1) return false;
  let shape: number[];
  try {
    shape = tf.backend_util.assertAndGetBroadcastShape(x.shape, y.shape);
  } catch {
    return false;
  }
  if (shape.length !== x.shape.length || shape.some((d, i) => d !== x.shape[i])) return false;
  const xId = backend.dataIdMap.get(x.dataId)?.id;
  const yId = backend.dataIdMap.get(y.dataId)?.id;
  if (xId === undefined || yId === undefined) return false;
  let multiply = multiplyEntry.get(backend);
  if (!multiply) {
    multiply = backend.wasm.cwrap(tf.Multiply, null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number']);
    multiplyEntry.set(backend, multiply);
  }
  const shapeBytes = (s: readonly number[]) => new Uint8Array(new Int32Array(s).buffer);
  multiply(xId, shapeBytes(x.shape), x.shape.length, yId, shapeBytes(y.shape), y.shape.length, CPP_FLOAT32, xId);
  return true;
}
