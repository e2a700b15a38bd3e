// Zero-copy buffers: Float32Arrays that live in the wasm backend's memory. Ops called with such arrays (inputs and
// `out` outputs) run with no copy at all; plain Float32Arrays still work but are copied in and out.
import { registerViewGuard } from '../array-guard.js';
import { BackendUnavailableError } from '../backend.js';
import type { WasmHeap } from './heap.js';
import { stagingBytes } from './staging.js';
import { wasmFailure, wasmState, type WasmState } from './instance.js';

interface Block {
  ptr: number;
  length: number;
}

const blocks = new WeakMap<ArrayBufferView, Block>();
/** The heap allocFloat32 last handed buffers out of (null: none yet, so no view can need vetting). */
let handedOut: WasmHeap | null = null;
/** Views given to freeFloat32: their block may already hold a newer buffer at the same address, so the address
 *  range alone cannot tell them apart — the view object can. (A subarray taken from a view before freeing it and
 *  lying inside a newer block cannot be told apart from that block's own subarrays.) */
const freed = new WeakSet<ArrayBufferView>();

/** Whether a view of our memory may be used: not freed, inside a live allocFloat32 block. */
function usable(heap: WasmHeap, view: ArrayBufferView): boolean {
  const start = view.byteOffset;
  // length × BYTES_PER_ELEMENT: .byteLength costs ~60 ns per read in Node 20 (DataViews: no length, use byteLength)
  const a = view as Float32Array;
  const bytes = a.BYTES_PER_ELEMENT === undefined ? view.byteLength : a.length * a.BYTES_PER_ELEMENT;
  return heap.isLive(start, start + bytes) && !freed.has(view);
}

// Every array an op accepts, on every backend: a view of our memory must lie in a live allocFloat32 block.
registerViewGuard((name, view) => {
  const heap = handedOut;
  // an exact allocFloat32 view still registered is live (freeFloat32 unregisters it): one WeakMap lookup, the
  // common zero-copy case; subarrays, freed and hand-made views take the range check
  if (heap === null || blocks.has(view as Float32Array) || !heap.owns(view.buffer)) return;
  if (!usable(heap, view)) {
    throw new RangeError(
      `${name} is a view of the wasm memory outside every live allocFloat32 buffer (freed by freeFloat32, or not ` +
        'made by allocFloat32): using it would read or overwrite memory that belongs to something else',
    );
  }
});

function ready(): WasmState {
  const state = wasmState();
  if (state === null) throw new BackendUnavailableError(`wasm backend not available: ${wasmFailure()}`);
  return state;
}

/**
 * A zero-filled Float32Array of `length` values inside the wasm memory (64-byte aligned). Pass it (or any subarray)
 * as x, dy, gamma, … or as `out.y`, `out.dx`, … and the wasm backend reads and writes it in place.
 * Memory growth (any allocation may grow it) never moves data. With shared memory (Node, cross-origin-isolated
 * browsers) old views stay valid; with a private memory they detach: call refreshFloat32(view) after allocating.
 * @example
 * const x = allocFloat32(rows * cols), y = allocFloat32(rows * cols), rstd = allocFloat32(rows);
 * x.set(data); rmsNorm(x, cols, { out: { y, rstd } }); // no copy
 * freeFloat32(x); freeFloat32(y); freeFloat32(rstd);
 */
export function allocFloat32(length: number): Float32Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`length must be a non-negative integer, got ${length}`);
  const state = ready();
  const heap = state.heap as WasmHeap; // our own instance: always a WasmHeap
  const ptr = heap.alloc(length * 4);
  heap.refresh();
  const view = new Float32Array(state.memory.buffer, ptr, length);
  view.fill(0);
  blocks.set(view, { ptr, length });
  heap.markLive(ptr, length * 4);
  handedOut = heap;
  return view;
}

/** Return a buffer from allocFloat32 to the wasm heap. The view (and views derived from it) must not be used after. */
export function freeFloat32(view: Float32Array): void {
  const block = blocks.get(view);
  if (block === undefined) throw new RangeError('freeFloat32: view must be an array returned by allocFloat32 (and not freed yet)');
  blocks.delete(view);
  freed.add(view);
  const heap = ready().heap as WasmHeap;
  heap.markFreed(block.ptr);
  heap.release(block.ptr);
}

/**
 * A zero-filled Uint16Array of `length` 16-bit values (float16/bfloat16 bit patterns) inside the wasm memory, 64-byte
 * aligned: the 16-bit counterpart of allocFloat32 for `dtype: 'float16' | 'bfloat16'` ops (x, residual, out.y,
 * out.sum, dy, out.dx, …), which the wasm backend then reads and writes in place. Same lifetime rules as allocFloat32.
 * @example
 * const x = allocUint16(rows * cols), y = allocUint16(rows * cols);
 * x.set(bits); rmsNorm(x, cols, { dtype: 'bfloat16', out: { y } }); // no copy
 * freeUint16(x); freeUint16(y);
 */
export function allocUint16(length: number): Uint16Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`length must be a non-negative integer, got ${length}`);
  const state = ready();
  const heap = state.heap as WasmHeap;
  const ptr = heap.alloc(length * 2);
  heap.refresh();
  const view = new Uint16Array(state.memory.buffer, ptr, length);
  view.fill(0);
  blocks.set(view, { ptr, length });
  heap.markLive(ptr, length * 2);
  handedOut = heap;
  return view;
}

/** Return a buffer from allocUint16 to the wasm heap. The view (and views derived from it) must not be used after. */
export function freeUint16(view: Uint16Array): void {
  const block = blocks.get(view);
  if (block === undefined || !(view instanceof Uint16Array)) {
    throw new RangeError('freeUint16: view must be an array returned by allocUint16 (and not freed yet)');
  }
  blocks.delete(view);
  freed.add(view);
  const heap = ready().heap as WasmHeap;
  heap.markFreed(block.ptr);
  heap.release(block.ptr);
}

/**
 * The current view of a buffer from allocFloat32 (same address, same length). Only needed with a private memory
 * (no SharedArrayBuffer), where growth detaches old views; with shared memory it returns an equivalent view.
 * @example x = refreshFloat32(x); // after other allocations
 */
export function refreshFloat32(view: Float32Array): Float32Array {
  const block = blocks.get(view);
  if (block === undefined) throw new RangeError('refreshFloat32: view must be an array returned by allocFloat32');
  const state = ready();
  state.heap.refresh();
  const fresh = new Float32Array(state.memory.buffer, block.ptr, block.length);
  blocks.delete(view);
  blocks.set(fresh, block);
  return fresh;
}

/**
 * Whether `view` is an array inside a live allocFloat32 buffer, so wasm-backend calls use it with no copy. False for
 * anything else: plain arrays, freed or detached views, hand-made views of the memory, non-arrays (null included).
 */
export function isWasmBuffer(view: unknown): boolean {
  if (!ArrayBuffer.isView(view)) return false;
  const heap = handedOut;
  if (heap === null || wasmState()?.heap !== heap || !heap.owns(view.buffer) || view.buffer.byteLength === 0) return false;
  return usable(heap, view);
}

/**
 * Bytes of wasm memory currently mapped: the shared memory (grows with allocations) plus the private staging memory
 * that calls on plain arrays copy through (grows with the largest such call). Never shrinks.
 */
export function wasmMemoryBytes(): number {
  return (wasmState()?.heap.byteLength ?? 0) + stagingBytes();
}
