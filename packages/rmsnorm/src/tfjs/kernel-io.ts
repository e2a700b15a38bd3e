// Zero-copy access to tfjs tensor data inside registered kernels, for the 'cpu' and 'wasm' tfjs backends, and the
// core kernel implementation that runs on it. cpu: the backend's own Float32Arrays, outputs registered before they
// are written. wasm: views of tfjs's heap, outputs allocated there by the backend, and our SIMD module instantiated
// on tfjs's own WebAssembly.Memory (scratch from tfjs's malloc), so no byte is copied in or out.
import type { TensorInfo } from '@tensorflow/tfjs';
import { resolveBackend, type Backend } from '../backends/backend.js';
import '../backends/js/index.js'; // registers the js and wasm core backends that resolveBackend picks from
import '../backends/wasm/index.js';
import { foreignWasmState, type WasmState } from '../backends/wasm/instance.js';
import { layerNorm, layerNormBackward } from '../backends/wasm/layer-norm.js';
import { rmsNorm, rmsNormBackward } from '../backends/wasm/rms-norm.js';
import { layerNormChannels, layerNormChannelsBackward } from '../backends/wasm/layer-norm-channels.js';
import { rmsNormChannels, rmsNormChannelsBackward } from '../backends/wasm/rms-norm-channels.js';
import type { BackendName } from '../types.js';

/** The tfjs backends our kernels are registered for. */
export const KERNEL_BACKENDS = ['cpu', 'wasm'] as const;
export type KernelBackendName = (typeof KERNEL_BACKENDS)[number];

interface CpuBackendLike {
  data?: { get(dataId: object): { values?: unknown } | undefined };
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

interface EmscriptenModuleLike {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
  HEAPU8?: Uint8Array;
  _malloc?: (bytes: number) => number;
  _free?: (ptr: number) => void;
}

interface WasmBackendLike {
  wasm?: EmscriptenModuleLike;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/** A Backend-shaped wrapper of our wasm kernels on one foreign state (tfjs's heap). */
function foreignBackend(state: WasmState): Backend {
  return {
    name: 'wasm',
    isAvailable: () => true,
    rmsNorm: (a) => rmsNorm(state, a),
    rmsNormBackward: (a) => rmsNormBackward(state, a),
    layerNorm: (a) => layerNorm(state, a),
    layerNormBackward: (a) => layerNormBackward(state, a),
    rmsNormChannels: (a) => rmsNormChannels(state, a),
    rmsNormChannelsBackward: (a) => rmsNormChannelsBackward(state, a),
    layerNormChannels: (a) => layerNormChannels(state, a),
    layerNormChannelsBackward: (a) => layerNormChannelsBackward(state, a),
  };
}

/** The WebAssembly.Memory of a tfjs-backend-wasm instance (its Emscripten module), or null if not found. */
function tfjsMemory(m: EmscriptenModuleLike | undefined): WebAssembly.Memory | null {
  const memory = m?.asm?.memory ?? m?.wasmMemory;
  if (memory instanceof WebAssembly.Memory) return memory;
  return null;
}

// One state (our instance on that backend's memory) per tfjs wasm backend object; null = not possible there.
const onHeap = new WeakMap<object, { state: WasmState; core: Backend } | null>();

/**
 * Our kernels instantiated on this tfjs wasm backend's own memory (made once per backend object), or null where
 * that is impossible (memory or malloc not exposed, no SIMD, synchronous compilation refused).
 * @example tfjsHeapState(tf.backend())?.state.memory === tf.backend().wasm.asm.memory
 */
export function tfjsHeapState(backend: unknown): { state: WasmState; core: Backend } | null {
  const key = backend as object;
  let entry = onHeap.get(key);
  if (entry === undefined) {
    const m = (backend as WasmBackendLike).wasm;
    const memory = tfjsMemory(m);
    const malloc = m?._malloc;
    const free = m?._free;
    const state = memory !== null && typeof malloc === 'function' && typeof free === 'function'
      ? foreignWasmState(memory, { malloc: (n) => malloc(n), free: (p) => free(p) })
      : null;
    entry = state === null ? null : { state, core: foreignBackend(state) };
    onHeap.set(key, entry);
  }
  return entry;
}

/**
 * The core kernel implementation to run on this tfjs backend for the chosen core backend ('auto' | 'js' | 'wasm'):
 * on tfjs wasm, 'auto'/'wasm' = our SIMD kernels on tfjs's heap (zero copy); if that cannot be set up, 'auto' = the js
 * kernels on the heap views (still no copy) and 'wasm' = our own instance (copies in and out). On tfjs cpu: the
 * core's own choice (js works in place; our wasm instance copies through its memory).
 */
export function coreFor(backendName: KernelBackendName, backend: unknown, choice: BackendName): Backend {
  if (backendName === 'wasm' && choice !== 'js') {
    const entry = tfjsHeapState(backend);
    if (entry !== null) return entry.core;
    return resolveBackend(choice === 'auto' ? 'js' : 'wasm');
  }
  return resolveBackend(choice);
}

/**
 * A new float32 output of the given shape (size = product of shape) on the backend. On wasm, views of earlier tensors
 * may be detached by this (the heap can grow): take every view after the last makeOutput.
 */
export function makeOutput(backendName: KernelBackendName, backend: unknown, shape: number[], size: number): TensorInfo {
  if (backendName === 'cpu') return (backend as CpuBackendLike).makeTensorInfo(shape, 'float32', new Float32Array(size));
  return (backend as WasmBackendLike).makeOutput(shape, 'float32');
}

/** The tensor's data itself (cpu: the backend's Float32Array; wasm: a view of tfjs's heap). Never a copy for float32. */
export function f32(backendName: KernelBackendName, backend: unknown, info: TensorInfo): Float32Array {
  if (backendName === 'wasm') return (backend as WasmBackendLike).typedArrayFromHeap(info);
  const b = backend as CpuBackendLike;
  const values = b.data?.get(info.dataId)?.values ?? b.readSync(info.dataId);
  // float32 tensors hold a Float32Array on cpu; anything else (never seen) is converted rather than misread.
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

/** Throw unless every present input is float32 (the op layer checks this; direct runKernel callers may not). */
export function requireFloat32(inputs: ReadonlyArray<TensorInfo | null | undefined>): void {
  for (let i = 0; i < inputs.length; i++) {
    const info = inputs[i];
    if (info != null && info.dtype !== 'float32') {
      throw new TypeError(`rmsnorm tfjs kernels need float32 tensors, got dtype ${info.dtype} for input ${i}`);
    }
  }
}

/**
 * Run `compute(inputs, outputs)` on Float32Array views of a kernel's inputs and freshly allocated outputs (for
 * kernels that call a core op as a whole). Inputs may be null (absent optional tensor). Outputs are float32 with the
 * given shapes; on wasm every view is made after the last allocation.
 */
export function withKernelData(
  backendName: KernelBackendName,
  backend: unknown,
  inputs: ReadonlyArray<TensorInfo | null>,
  outShapes: ReadonlyArray<number[]>,
  compute: (inputs: Array<Float32Array | null>, outputs: Float32Array[]) => void,
): TensorInfo[] {
  requireFloat32(inputs);
  const infos = outShapes.map((s) => makeOutput(backendName, backend, s, s.reduce((p, q) => p * q, 1)));
  const ins = inputs.map((info) => (info === null ? null : f32(backendName, backend, info)));
  const outs = infos.map((info) => f32(backendName, backend, info));
  compute(ins, outs);
  return infos;
}
