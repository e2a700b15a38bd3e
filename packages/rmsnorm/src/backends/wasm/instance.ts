// Loads the SIMD norm module: feature check, memory creation and synchronous instantiation from the embedded base64
// (no file I/O, no fetch), lazily on first use. Shared memory when SharedArrayBuffer exists (Node; cross-origin-
// isolated browsers) so worker threads can join later without moving user buffers; a private memory otherwise.
import { wasmBase64 as privateBase64 } from './generated/norm.js';
import { wasmBase64 as sharedBase64 } from './generated/norm-shared.js';
import { ForeignHeap } from './foreign-heap.js';
import { GrowingBlock, WasmHeap } from './heap.js';

/** The kernel module's exports (assembly/_norm-kernels.ts). */
export interface NormExports {
  runJob(args: number, part: number, parts: number): void;
  reduceParams(args: number, parts: number): void;
  heapBase(): number;
}

/**
 * Everything the wasm backend needs at run time: one memory, its allocator, the compiled module and its exports.
 * `heap` is our own allocator (WasmHeap) for our memory, or a ForeignHeap when the module runs on another module's
 * memory (tfjs-backend-wasm's heap: foreignWasmState).
 */
export interface WasmState {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  exports: NormExports;
  heap: WasmHeap | ForeignHeap;
  shared: boolean;
  /** Reused blocks of this memory: a job's argument slots, the copy scratch, per-part backward workspaces. */
  blocks: { args: GrowingBlock; scratch: GrowingBlock; workspace: GrowingBlock };
}

// Smallest module using a v128 instruction (i8x16.splat + i8x16.popcnt), as in wasm-feature-detect.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);
const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB: the wasm32 limit; pages are reserved, not committed
const INITIAL_PAGES = 16;

let state: WasmState | null | undefined; // undefined = not tried yet, null = failed
let failure = '';
let simdOverride: boolean | undefined;
let sharedOverride: boolean | undefined;

/** Whether this engine validates WebAssembly SIMD (false while a test forces it off). */
export function simdSupported(): boolean {
  if (simdOverride !== undefined) return simdOverride;
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * Test hook: pretend SIMD is (un)available; `undefined` restores detection. Not part of the public API.
 * @example _setSimdOverride(false); // now backend 'auto' resolves to js and 'wasm' throws BackendUnavailableError
 */
export function _setSimdOverride(value: boolean | undefined): void {
  simdOverride = value;
}

/**
 * Test hook: forget the instance so the next use creates a fresh one; `{ shared: false }` forces a private
 * (non-shared) memory as in browsers without cross-origin isolation. Every existing wasm buffer becomes invalid;
 * stop the thread pool first. Not part of the public API.
 */
export function _resetWasm(options: { shared?: boolean } = {}): void {
  state = undefined;
  failure = '';
  sharedOverride = options.shared;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function createMemory(): { memory: WebAssembly.Memory; shared: boolean } {
  if (typeof SharedArrayBuffer === 'function' && sharedOverride !== false) {
    try {
      return { memory: new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true }), shared: true };
    } catch {
      // shared memory refused (e.g. a browser that is not cross-origin isolated): private memory below
    }
  }
  return { memory: new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES }), shared: false };
}

// Compiled modules by variant, shared by our own instance and instances on foreign memories.
const compiled: { private?: WebAssembly.Module; shared?: WebAssembly.Module } = {};

function moduleFor(shared: boolean): WebAssembly.Module {
  const key = shared ? 'shared' : 'private';
  return (compiled[key] ??= new WebAssembly.Module(decode(shared ? sharedBase64 : privateBase64)));
}

function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory, shared: boolean): WasmState {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as NormExports;
  const heap = new WasmHeap(memory, exports.heapBase(), PAGE);
  const blocks = { args: new GrowingBlock(), scratch: new GrowingBlock(), workspace: new GrowingBlock() };
  return { memory, module, exports, heap, shared, blocks };
}

/** The allocator of a foreign memory (Emscripten's exported malloc/free). */
export interface ForeignAllocator {
  malloc(bytes: number): number;
  free(ptr: number): void;
}

/**
 * Our kernels instantiated on another module's memory (tfjs-backend-wasm's heap), with the blocks a job needs taken
 * from that module's allocator: arrays living in that memory are then read and written in place (no copy).
 * Our module has no data segments and keeps its state in wasm globals, so instantiating it writes nothing into the
 * foreign memory. Returns null where the engine cannot (no SIMD, or a browser refusing synchronous compilation of
 * a module over 4 KiB before initWasm() compiled it). Never grows or frees anything the owner allocated.
 *
 * @example const s = foreignWasmState(tfjsMemory, { malloc: m._malloc, free: m._free });
 */
export function foreignWasmState(memory: WebAssembly.Memory, allocator: ForeignAllocator): WasmState | null {
  if (!simdSupported()) return null;
  const shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
  try {
    const module = moduleFor(shared);
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const exports = instance.exports as unknown as NormExports;
    const heap = new ForeignHeap(memory, allocator.malloc, allocator.free);
    const blocks = { args: new GrowingBlock(), scratch: new GrowingBlock(), workspace: new GrowingBlock() };
    return { memory, module, exports, heap, shared, blocks };
  } catch {
    return null;
  }
}

/** Synchronous initialisation (Node; browsers may refuse synchronous compilation of modules over 4 KiB). */
function initSync(): WasmState | null {
  if (state !== undefined) return state;
  state = null;
  if (!simdSupported()) {
    failure = 'WebAssembly SIMD is not supported by this engine';
    return state;
  }
  try {
    const { memory, shared } = createMemory();
    state = instantiate(moduleFor(shared), memory, shared);
  } catch (err) {
    failure = `WebAssembly instantiation failed: ${(err as Error).message}`;
  }
  return state;
}

/**
 * The instantiated module, or null when the backend cannot run here (SIMD unsupported or forced off, or synchronous
 * instantiation refused: then await initWasm()).
 */
export function wasmState(): WasmState | null {
  if (simdOverride === false) return null;
  return state === undefined ? initSync() : state;
}

/** Why wasmState() is null (for error messages). */
export function wasmFailure(): string {
  return simdOverride === false ? 'WebAssembly SIMD is disabled (test override)' : failure;
}

/**
 * Make the wasm backend ready, asynchronously where synchronous compilation is refused (browsers' main thread).
 * Resolves to whether the backend is available. In Node the backend also initialises by itself on first use.
 * @example await initWasm(); rmsNorm(x, cols, { backend: 'wasm' });
 */
export async function initWasm(): Promise<boolean> {
  if (wasmState() !== null) return true;
  if (!simdSupported()) return false;
  try {
    const { memory, shared } = createMemory();
    const key = shared ? 'shared' : 'private';
    const module = (compiled[key] ??= await WebAssembly.compile(decode(shared ? sharedBase64 : privateBase64)));
    state = instantiate(module, memory, shared);
    return true;
  } catch (err) {
    failure = `WebAssembly instantiation failed: ${(err as Error).message}`;
    return false;
  }
}
