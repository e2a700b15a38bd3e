// Public exports of `rmsnorm`: the core ops, their types, backend selection and the float64 reference.
import './backends/js/index.js';
import './backends/wasm/index.js';

export { rmsNorm, rmsNormBackward } from './ops/rms-norm.js';
export { layerNorm, layerNormBackward } from './ops/layer-norm.js';
export { l2Norm, l2NormBackward } from './ops/l2-norm.js';
export { addRmsNorm, addRmsNormBackward } from './ops/add-rms-norm.js';
export { partialK } from './ops/partial-k.js';
export { availableBackends, BackendUnavailableError, type Backend } from './backends/backend.js';
export * as reference from './reference/index.js';
export {
  allocFloat32,
  allocUint16,
  freeFloat32,
  freeUint16,
  getThreads,
  initThreads,
  initWasm,
  isWasmBuffer,
  refreshFloat32,
  terminateThreads,
  wasmMemoryBytes,
  type ThreadOptions,
} from './backends/wasm/index.js';
export type * from './types.js';
