// The WebAssembly SIMD backend: registers itself on import. Available when the engine validates WebAssembly SIMD
// and the module is instantiated (synchronously from the embedded base64 on first use in Node; in browsers await
// initWasm() first). Public extras: zero-copy buffers (buffers.ts) and the optional worker pool (threads.ts).
import { registerBackend, type Backend } from '../backend.js';
import {
  addRmsNorm, addRmsNorm16, addRmsNormBackward, addRmsNormBackward16, rmsNorm16, rmsNormBackward16,
} from './add-rms-norm.js';
import { wasmState } from './instance.js';
import { layerNorm, layerNorm16, layerNormBackward, layerNormBackward16 } from './layer-norm.js';
import { rmsNorm, rmsNormBackward } from './rms-norm.js';
import { layerNormChannels, layerNormChannelsBackward } from './layer-norm-channels.js';
import { rmsNormChannels, rmsNormChannelsBackward } from './rms-norm-channels.js';

export const wasmBackend: Backend = {
  name: 'wasm',
  isAvailable: () => wasmState() !== null,
  rmsNorm: (a) => rmsNorm(wasmState()!, a),
  rmsNormBackward: (a) => rmsNormBackward(wasmState()!, a),
  layerNorm: (a) => layerNorm(wasmState()!, a),
  layerNormBackward: (a) => layerNormBackward(wasmState()!, a),
  // fused residual add and 16-bit storage
  addRmsNorm: (a) => addRmsNorm(wasmState()!, a),
  addRmsNormBackward: (a) => addRmsNormBackward(wasmState()!, a),
  addRmsNorm16: (a) => addRmsNorm16(wasmState()!, a),
  addRmsNormBackward16: (a) => addRmsNormBackward16(wasmState()!, a),
  rmsNorm16: (a) => rmsNorm16(wasmState()!, a),
  rmsNormBackward16: (a) => rmsNormBackward16(wasmState()!, a),
  layerNorm16: (a) => layerNorm16(wasmState()!, a),
  layerNormBackward16: (a) => layerNormBackward16(wasmState()!, a),
  // channels-last layout (x [blocks, cols, channels])
  rmsNormChannels: (a) => rmsNormChannels(wasmState()!, a),
  rmsNormChannelsBackward: (a) => rmsNormChannelsBackward(wasmState()!, a),
  layerNormChannels: (a) => layerNormChannels(wasmState()!, a),
  layerNormChannelsBackward: (a) => layerNormChannelsBackward(wasmState()!, a),
};

registerBackend(wasmBackend);

export {
  allocFloat32, allocUint16, freeFloat32, freeUint16, isWasmBuffer, refreshFloat32, wasmMemoryBytes,
} from './buffers.js';
export { initWasm, _resetWasm, _setSimdOverride } from './instance.js';
export { getThreads, initThreads, terminateThreads, type ThreadOptions } from './threads.js';
