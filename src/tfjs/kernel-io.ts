// Zero-copy access to tfjs tensor data inside registered kernels, for the 'cpu' and 'wasm' backends.
// cpu: readSync returns the backend's own Float32Array; wasm: views into tfjs's heap, outputs allocated on it.
import type { TensorInfo } from '@tensorflow/tfjs';

/** The tfjs backends our kernels are registered for. */
export const KERNEL_BACKENDS = ['cpu', 'wasm'] as const;
export type KernelBackendName = (typeof KERNEL_BACKENDS)[number];

interface CpuBackendLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function cpuRead(backend: CpuBackendLike, info: TensorInfo): Float32Array {
  const values = backend.readSync(info.dataId);
  // float32 tensors hold a Float32Array on cpu; anything else (never seen) is converted rather than misread.
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

/**
 * Run `compute(inputs, outputs)` on Float32Array views of a kernel's inputs and freshly allocated outputs.
 * Inputs may be null (absent optional tensor). Outputs have the given shapes and dtype float32.
 *
 * On wasm the outputs are allocated on tfjs's heap first and every view is made afterwards: an allocation can grow
 * the heap, which detaches views made earlier.
 */
export function withKernelData(
  backendName: KernelBackendName,
  backend: unknown,
  inputs: ReadonlyArray<TensorInfo | null>,
  outShapes: ReadonlyArray<number[]>,
  compute: (inputs: Array<Float32Array | null>, outputs: Float32Array[]) => void,
): TensorInfo[] {
  for (const info of inputs) {
    if (info !== null && info.dtype !== 'float32') {
      throw new TypeError(`rmsnorm tfjs kernels need float32 tensors, got dtype ${info.dtype}`);
    }
  }
  if (backendName === 'cpu') {
    const b = backend as CpuBackendLike;
    const ins = inputs.map((info) => (info === null ? null : cpuRead(b, info)));
    const outs = outShapes.map((s) => new Float32Array(size(s)));
    compute(ins, outs);
    return outShapes.map((s, i) => b.makeTensorInfo(s, 'float32', outs[i]));
  }
  const b = backend as WasmBackendLike;
  const infos = outShapes.map((s) => b.makeOutput(s, 'float32'));
  const ins = inputs.map((info) => (info === null ? null : b.typedArrayFromHeap(info)));
  const outs = infos.map((info) => b.typedArrayFromHeap(info));
  compute(ins, outs);
  return infos;
}
