// Zero-copy buffers: Float32Arrays that live in the wasm backend's memory. Ops called with such arrays (inputs and
// `out` outputs) run with no copy at all; plain Float32Arrays still work but are copied in and out.
import { BackendUnavailableError } from '../backend.js';
import { wasmFailure, wasmState, type WasmState } from './instance.js';

interface Block {
  ptr: number;
  length: number;
}

const blocks = new WeakMap<Float32Array, Block>();

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
  const ptr = state.heap.alloc(length * 4);
  state.heap.refresh();
  const view = new Float32Array(state.memory.buffer, ptr, length);
  view.fill(0);
  blocks.set(view, { ptr, length });
  return view;
}

/** Return a buffer from allocFloat32 to the wasm heap. The view (and views derived from it) must not be used after. */
export function freeFloat32(view: Float32Array): void {
  const block = blocks.get(view);
  if (block === undefined) throw new RangeError('freeFloat32: view must be an array returned by allocFloat32 (and not freed yet)');
  blocks.delete(view);
  ready().heap.release(block.ptr);
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

/** Whether an array lives in the wasm memory, so wasm-backend calls use it with no copy. */
export function isWasmBuffer(view: ArrayBufferView): boolean {
  const state = wasmState();
  return state !== null && state.heap.isResident(view);
}

/** Bytes of wasm memory currently mapped (grows with allocations and large copied calls; never shrinks). */
export function wasmMemoryBytes(): number {
  return wasmState()?.heap.byteLength ?? 0;
}
