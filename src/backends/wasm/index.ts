// The WebAssembly SIMD backend: registers itself on import. Available when the engine validates WebAssembly SIMD
// and the module is instantiated (synchronously from the embedded base64 on first use in Node; in browsers await
// initWasm() first). Public extras: zero-copy buffers (buffers.ts) and the optional worker pool (threads.ts).
import { registerBackend, type Backend } from '../backend.js';
import { wasmState } from './instance.js';
import { layerNorm, layerNormBackward } from './layer-norm.js';
import { rmsNorm, rmsNormBackward } from './rms-norm.js';

export const wasmBackend: Backend = {
  name: 'wasm',
  isAvailable: () => wasmState() !== null,
  rmsNorm: (a) => rmsNorm(wasmState()!, a),
  rmsNormBackward: (a) => rmsNormBackward(wasmState()!, a),
  layerNorm: (a) => layerNorm(wasmState()!, a),
  layerNormBackward: (a) => layerNormBackward(wasmState()!, a),
};

registerBackend(wasmBackend);

export { allocFloat32, freeFloat32, isWasmBuffer, refreshFloat32, wasmMemoryBytes } from './buffers.js';
export { initWasm, _resetWasm, _setSimdOverride } from './instance.js';
export { getThreads, initThreads, terminateThreads, type ThreadOptions } from './threads.js';
