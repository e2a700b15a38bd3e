// Node helper: point @tensorflow/tfjs-backend-wasm at its installed dist/ folder and switch tfjs to 'wasm'.
// Node-only imports stay lazy so the rest of the plug-in still bundles for browsers.
import * as tf from '@tensorflow/tfjs';

/**
 * The installed @tensorflow/tfjs-backend-wasm dist/ folder (with a trailing slash), resolved from this package.
 * @example tfjsWasmDistPath() // '/…/node_modules/@tensorflow/tfjs-backend-wasm/dist/'
 */
export async function tfjsWasmDistPath(): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/**
 * Load the tfjs wasm backend in Node (file paths, no fetch) and make it current. Idempotent. Returns the backend name.
 * Threads are not used: tfjs-backend-wasm's threaded build does not run in Node (run one process per core instead).
 *
 * @example
 * await initTfjsWasm();
 * tf.getBackend(); // 'wasm'
 */
export async function initTfjsWasm(): Promise<string> {
  if (tf.getBackend() === 'wasm') return 'wasm';
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Paths only matter before the first initialisation (tfjs may refuse them afterwards).
  if (tf.findBackend('wasm') === null) wasm.setWasmPaths(await tfjsWasmDistPath());
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('initTfjsWasm: tf.setBackend("wasm") failed');
  await tf.ready();
  return tf.getBackend();
}
