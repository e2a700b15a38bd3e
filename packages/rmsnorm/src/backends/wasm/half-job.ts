// Runs a job whose activation arrays may be Float32Array or Uint16Array (16-bit bit patterns): the fused
// residual-add and 16-bit kernels of assembly/_add-rms-norm.ts and _layer-norm16.ts. Same contract as job.ts execute (arrays in the wasm
// memory are used in place, others copied through scratch with in-place aliases sharing one range, rows split across
// the worker pool, dgamma/dbeta reduced over parts), but copies are byte copies, and the job carries the DTYPE slot.
// Large all-plain jobs run in cache-sized row chunks (chunked.ts, shared with job.ts). Kept apart from job.ts so the
// f32 hot path stays monomorphic on Float32Array.
import { CHUNK_MIN_BYTES, chunkRowsFor, executeChunked, type Placement } from './chunked.js';
import type { WasmState } from './instance.js';
import { _copyStats, writeSlots, type JobScalars } from './slots.js';
import { stagingState } from './staging.js';
import { partsFor, runParts } from './threads.js';
import { DTYPE, P0, SLOTS, WS_ALIGN, WS_BYTES_PER_COL, WS_EXTRA } from './job-layout.js';

export {
  DT_BF16, DT_F16, DT_F32, OP_ADD_RMS_BWD, OP_ADD_RMS_FWD, OP_LN16_BWD, OP_LN16_FWD,
} from './job-layout.js';

type Arr = Float32Array | Uint16Array;

/** A job as in job.ts, plus the activation storage code (DT_F32, DT_F16, DT_BF16). */
export interface MixedJob extends JobScalars {
  dtype: number;
  /** Pointer slots P0, P0+1, … in the kernel's order (null = absent). */
  arrays: ReadonlyArray<Arr | null>;
  /** Bit i set: arrays[i] is an output (copied back when not resident, never copied in). */
  outMask: number;
  backward: boolean;
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
}

const all: Array<Arr | null> = [];
const ptrs: number[] = [];
const viaScratch: boolean[] = [];
const owners: number[] = [];
const offsets: number[] = [];
const placement: Placement = { all, viaScratch, owners, count: 0 };

function bytesOf(a: Arr): number {
  return a.length * a.BYTES_PER_ELEMENT; // not .byteLength: slow getter in Node 20
}

function bytesView(a: Arr): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, bytesOf(a));
}

/** Run a MixedJob on `state`'s memory; copies results back into non-resident outputs. */
export function executeMixed(state: WasmState, job: MixedJob): void {
  const n = job.arrays.length;
  const backward = job.backward;
  for (let i = 0; i < n; i++) all[i] = job.arrays[i];
  if (backward) {
    all[n] = job.dgamma;
    all[n + 1] = job.dbeta;
  }
  const count = backward ? n + 2 : n;
  const outMask = job.outMask | (backward ? 3 << n : 0);
  const { heap, exports } = state;
  let scratchBytes = 0;
  let resident = 0;
  for (let i = 0; i < count; i++) {
    const a = all[i];
    viaScratch[i] = false;
    if (a === null) ptrs[i] = 0;
    else if (heap.isResident(a)) {
      ptrs[i] = a.byteOffset;
      resident++;
    } else {
      viaScratch[i] = true;
      let same = 0;
      while (all[same] !== a) same++;
      owners[i] = same;
      if (same === i) {
        offsets[i] = scratchBytes;
        scratchBytes += Math.ceil(bytesOf(a) / 16) * 16;
      }
    }
  }
  // large all-plain jobs: chunks on one thread, with or without a worker pool (as in job.ts)
  if (resident === 0 && scratchBytes >= CHUNK_MIN_BYTES) {
    placement.count = count;
    const chunkRows = chunkRowsFor(job.op, job.rows, job.cols, placement);
    if (chunkRows > 0) {
      const run = state.shared ? (stagingState() ?? state) : state;
      executeChunked(run, job, n, backward, outMask, placement, chunkRows, job.dtype);
      for (let i = 0; i < count; i++) all[i] = null; // hold no references to the caller's arrays between calls
      return;
    }
  }
  const parts = partsFor(state, job.rows, job.rows * job.cols);
  const c4 = (job.cols + 3) & ~3;
  const stride = Math.ceil((WS_BYTES_PER_COL * c4 + WS_EXTRA) / WS_ALIGN) * WS_ALIGN;
  // allocation may grow the memory: every resident pointer was taken above
  const ws = backward ? state.blocks.workspace.ensure(heap, stride * parts) : 0;
  const base = scratchBytes > 0 ? state.blocks.scratch.ensure(heap, scratchBytes) : 0;
  const args = state.blocks.args.ensure(heap, SLOTS * 8);
  heap.refresh();
  const mem = state.memory.buffer;
  for (let i = 0; i < count; i++) {
    if (!viaScratch[i]) continue;
    const p = base + offsets[owners[i]];
    const a = all[i]!;
    if (owners[i] === i && (outMask & (1 << i)) === 0) {
      new Uint8Array(mem, p, bytesOf(a)).set(bytesView(a));
      _copyStats.bytesIn += bytesOf(a);
    }
    ptrs[i] = p;
  }
  writeSlots(heap.f64, args, job, ptrs, n, ws, stride, backward);
  heap.f64[(args >>> 3) + DTYPE] = job.dtype;
  if (parts > 1) runParts(state, args, parts);
  else exports.runJob(args, 0, 1);
  if (backward && (ptrs[n] !== 0 || ptrs[n + 1] !== 0)) exports.reduceParams(args, parts);
  for (let i = 0; i < count; i++) {
    const a = all[i];
    if ((outMask & (1 << i)) !== 0 && viaScratch[i]) {
      bytesView(a!).set(new Uint8Array(state.memory.buffer, ptrs[i], bytesOf(a!)));
      _copyStats.bytesOut += bytesOf(a!);
    }
  }
  for (let i = 0; i < count; i++) all[i] = null; // hold no references to the caller's arrays between calls
}
