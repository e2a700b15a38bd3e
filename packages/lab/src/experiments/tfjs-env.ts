// Brings TF.js up for training in this process: the wasm backend (one process per core; wasm threads don't work in
// Node) plus the gradient kernels stock tfjs-wasm lacks (embeddings, conv filters), all from the project's plug-in.
import * as tf from '@tensorflow/tfjs';
import { initTfjsWasm } from 'rmsnorm/tfjs/node';
import { registerWasmTrainingKernels } from 'rmsnorm/tfjs';

let ready: Promise<string> | null = null;

/** Initialise tfjs once per process with `backend` ('wasm' default, 'cpu' as fallback); resolves to its name. */
export function ensureTfjs(backend: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  ready ??= (async () => {
    if (backend === 'wasm') {
      await initTfjsWasm();
      registerWasmTrainingKernels();
    } else {
      await tf.setBackend('cpu');
      await tf.ready();
    }
    return tf.getBackend();
  })();
  return ready;
}
