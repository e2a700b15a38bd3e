// A second instance of the kernels on a private (non-shared) memory, used for calls whose arrays are ALL plain JS
// arrays and that run on one thread. Copying a plain array into or out of a SharedArrayBuffer goes through V8's
// relaxed (atomic-safe, word-by-word) copy, ≈3× slower than the memcpy used between non-shared buffers; the copies
// dominate small plain-array calls (32×768: ~100 KB each way), so those run here. Arrays already in the shared memory
// (allocFloat32) and jobs split across the worker pool keep using the shared instance.
import { wasmBase64 } from './generated/norm.js';
import { GrowingBlock, WasmHeap } from './heap.js';
import type { NormExports, WasmState } from './instance.js';

const PAGE = 65536;
let staging: WasmState | null | undefined; // undefined = not tried, null = unavailable (then the shared path is used)

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** The private-memory instance (created on first use; compiling the private module variant takes a few ms once). */
export function stagingState(): WasmState | null {
  if (staging !== undefined) return staging;
  staging = null;
  try {
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
    const module = new WebAssembly.Module(decode(wasmBase64));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const exports = instance.exports as unknown as NormExports;
    const heap = new WasmHeap(memory, exports.heapBase(), PAGE);
    const blocks = { args: new GrowingBlock(), scratch: new GrowingBlock(), workspace: new GrowingBlock() };
    staging = { memory, module, exports, heap, shared: false, blocks };
  } catch {
    // e.g. a browser main thread refusing synchronous compilation: plain-array calls use the shared instance
  }
  return staging;
}

/** Bytes mapped by the staging memory (0 before its first use). */
export function stagingBytes(): number {
  return staging?.heap.byteLength ?? 0;
}
