// Runs one kernel job: maps each Float32Array to a wasm pointer (zero-copy when it already lives in the wasm memory,
// else copied through a reusable scratch block), writes the job's f64 argument slots into memory (the layout read by
// assembly/_norm-kernels.ts), and runs it on the calling thread or split by rows across the worker pool. A large job
// whose arrays are all plain runs in cache-sized row chunks on the calling thread instead (chunked.ts).
import { CHUNK_MIN_BYTES, chunkRowsFor, executeChunked, type Placement } from './chunked.js';
import type { WasmState } from './instance.js';
import { stagingState } from './staging.js';
import { partsFor, runParts } from './threads.js';
import { CH_WS_BYTES_PER_CHANNEL, CHANNELS, SLOTS, WS_ALIGN, WS_BYTES_PER_COL, WS_EXTRA } from './job-layout.js';
import { _copyStats, writeSlots, type JobScalars } from './slots.js';

export { _copyStats, writeSlots, type JobScalars } from './slots.js';

export {
  OP_LN_BWD, OP_LN_CH_BWD, OP_LN_CH_FWD, OP_LN_FWD, OP_RMS_BWD, OP_RMS_CH_BWD, OP_RMS_CH_FWD, OP_RMS_FWD,
} from './job-layout.js';

/**
 * The scalars (JobScalars, in its field order) and the arrays. Every caller builds its Job with all fields in this
 * order, so the property loads in execute stay monomorphic.
 */
export interface Job extends JobScalars {
  /** Pointer slots P0, P0+1, … in the kernel's order (null = absent). */
  arrays: ReadonlyArray<Float32Array | null>;
  /** Bit i set: arrays[i] is an output (copied back when not resident, never copied in). */
  outMask: number;
  /** Backward jobs: dgamma/dbeta follow the arrays as outputs (null = not wanted). */
  backward: boolean;
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
}

// Per-array bookkeeping, reused across calls: pointer, whether it goes through scratch, its owner (the first entry
// holding the same array: in-place y = x or dx = dy share one scratch range) and the owner's scratch offset.
const ptrs: number[] = [];
const viaScratch: boolean[] = [];
const owners: number[] = [];
const offsets: number[] = [];
// The job's arrays (kernel order, then dgamma/dbeta for backward); a fixed array reused by every call.
const all: Array<Float32Array | null> = [null, null, null, null, null, null, null, null];
const placement: Placement = { all, viaScratch, owners, count: 0 };

/** How many of the last placed job's arrays live in the memory (0: all plain, copied through scratch). */
let placedResident = 0;

/** Resolve resident arrays to their addresses and lay out the others in scratch; returns the scratch bytes needed. */
function place(state: WasmState, count: number): number {
  let scratchBytes = 0;
  placedResident = 0;
  for (let i = 0; i < count; i++) {
    const a = all[i];
    viaScratch[i] = false;
    if (a === null) {
      ptrs[i] = 0;
    } else if (state.heap.isResident(a)) {
      ptrs[i] = a.byteOffset;
      placedResident++;
    } else {
      viaScratch[i] = true;
      let same = 0;
      while (all[same] !== a) same++;
      owners[i] = same;
      if (same === i) {
        offsets[i] = scratchBytes;
        scratchBytes += Math.ceil(a.length / 4) * 16;
      }
    }
  }
  return scratchBytes;
}

/**
 * Run a job (see Job); copies results back into non-resident outputs. `channels` > 0: a channels-last job (rows =
 * blocks of cols × channels values; workspace per channel, forward too; slot CHANNELS).
 */
export function execute(main: WasmState, job: Job, channels = 0): void {
  const n = job.arrays.length;
  const backward = job.backward;
  const arrays = job.arrays;
  for (let i = 0; i < n; i++) all[i] = arrays[i];
  if (backward) {
    all[n] = job.dgamma;
    all[n + 1] = job.dbeta;
  }
  const count = backward ? n + 2 : n;
  // dgamma/dbeta (indices n, n+1) are outputs too
  const outMask = job.outMask | (backward ? 3 << n : 0);
  const scratchBytes = place(main, count);
  // Large all-plain jobs run in chunks on one thread even with a worker pool: the workers could only read copies in
  // the shared memory, made whole and through V8's slow shared-buffer copy (staging.ts), and at 2048–16384 × 1024 that
  // was 1.0–1.7x slower than the chunks on one thread (docs/wasm.md).
  if (placedResident === 0 && channels === 0 && scratchBytes >= CHUNK_MIN_BYTES) {
    placement.count = count;
    const chunkRows = chunkRowsFor(job.op, job.rows, job.cols, placement);
    if (chunkRows > 0) {
      executeChunked(main.shared ? (stagingState() ?? main) : main, job, n, backward, outMask, placement, chunkRows, 0);
      for (let i = 0; i < count; i++) all[i] = null; // hold no references to the caller's arrays between calls
      return;
    }
  }
  const parts = partsFor(main, job.rows, job.rows * job.cols * (channels > 0 ? channels : 1));
  // All arrays plain and one thread: the private staging instance copies with memcpy (staging.ts); its scratch
  // layout is the one place() computed (offsets are relative to the scratch block).
  const state = placedResident === 0 && parts === 1 && main.shared ? (stagingState() ?? main) : main;
  const { heap, exports } = state;
  const { args: argsBlock, scratch, workspace } = state.blocks;
  // Allocation may grow the memory: every resident pointer was taken above, before this point.
  const c4 = ((channels > 0 ? channels : job.cols) + 3) & ~3;
  // per-part workspace: f64 sums, f32 blocks, per-row splats, or per-channel sums and factors (job-layout.ts)
  const perCol = channels > 0 ? CH_WS_BYTES_PER_CHANNEL : WS_BYTES_PER_COL;
  const stride = Math.ceil((perCol * c4 + WS_EXTRA) / WS_ALIGN) * WS_ALIGN;
  const ws = backward || channels > 0 ? workspace.ensure(heap, stride * parts) : 0;
  const base = scratchBytes > 0 ? scratch.ensure(heap, scratchBytes) : 0;
  const args = argsBlock.ensure(heap, SLOTS * 8);
  heap.refresh();
  for (let i = 0; i < count; i++) {
    if (viaScratch[i]) {
      const p = base + offsets[owners[i]];
      if (owners[i] === i && (outMask & (1 << i)) === 0) {
        heap.f32.set(all[i]!, p >>> 2);
        _copyStats.bytesIn += all[i]!.byteLength;
      }
      ptrs[i] = p;
    }
  }
  writeSlots(heap.f64, args, job, ptrs, n, ws, stride, backward);
  heap.f64[(args >>> 3) + CHANNELS] = channels;
  if (parts > 1) runParts(state, args, parts);
  else exports.runJob(args, 0, 1);
  if (backward && (ptrs[n] !== 0 || ptrs[n + 1] !== 0)) exports.reduceParams(args, parts);
  // Copy results back into non-resident outputs (dgamma/dbeta count as outputs).
  const f32 = heap.f32;
  for (let i = 0; i < count; i++) {
    const arr = all[i];
    if ((outMask & (1 << i)) !== 0 && viaScratch[i]) {
      const p = ptrs[i] >>> 2;
      arr!.set(f32.subarray(p, p + arr!.length));
      _copyStats.bytesOut += arr!.byteLength;
    }
  }
  for (let i = 0; i < count; i++) all[i] = null; // hold no references to the caller's arrays between calls
}

