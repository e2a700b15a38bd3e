// Plain-array calls too large for the caches run in row chunks: copy a chunk's rows into scratch, run the kernel on
// them while they are in L2, copy its results out, next chunk. Copying whole arrays moved every byte through memory
// three times (copy in, kernel, copy out: the bench's wasm+copy rows read 2.7–3.9x the zero-copy time at
// 16384x1024); chunked, the caller's arrays are read and written once and the scratch stays in cache. For the row
// ops of job.ts (f32) and half-job.ts (f32 fused add, 16-bit storage), every array plain; on the calling thread,
// also when a worker pool runs (the workers could only read whole copies in the shared memory: slower, job.ts).
import type { WasmState } from './instance.js';
import {
  ACCUMULATE, CHANNELS, DTYPE, OP_ADD_RMS_BWD, OP_ADD_RMS_FWD, OP_LN16_BWD, OP_LN16_FWD, OP_LN_BWD, OP_LN_FWD,
  OP_RMS_BWD, OP_RMS_FWD, ROWS, SLOTS, WS_ALIGN, WS_BYTES_PER_COL, WS_EXTRA,
} from './job-layout.js';
import { _copyStats, writeSlots, type JobScalars } from './slots.js';

type Arr = Float32Array | Uint16Array;

/** Plain-array jobs with at least this much scratch run in row chunks (smaller ones fit the caches whole). */
export const CHUNK_MIN_BYTES = 4 << 20;
/** Scratch bytes of one chunk's row arrays: a quarter of a 1 MiB L2 (Zen 4/5); 256 vs 512 KiB: 1.0–1.05x. */
const CHUNK_BYTES = 256 << 10;

// Per op, what each pointer slot holds (kernel order, then dgamma/dbeta for backward; job-layout.ts): bit i of the
// row mask = slot i is [rows, cols], of the statistic mask = [rows]; the others (gamma, beta, dgamma, dbeta) are per
// column, copied whole.
const ROW_MASK = new Map<number, number>([
  [OP_RMS_FWD, 0b01001], [OP_RMS_BWD, 0b10011], [OP_LN_FWD, 0b001001], [OP_LN_BWD, 0b100011],
  [OP_LN16_FWD, 0b001001], [OP_LN16_BWD, 0b100011], [OP_ADD_RMS_FWD, 0b0110011], [OP_ADD_RMS_BWD, 0b100111],
]);
const STAT_MASK = new Map<number, number>([
  [OP_RMS_FWD, 0b10000], [OP_RMS_BWD, 0b00100], [OP_LN_FWD, 0b110000], [OP_LN_BWD, 0b001100],
  [OP_LN16_FWD, 0b110000], [OP_LN16_BWD, 0b001100], [OP_ADD_RMS_FWD, 0b1000000], [OP_ADD_RMS_BWD, 0b001000],
]);

/**
 * How the caller laid out the job's arrays: `all` (kernel order, then dgamma/dbeta for backward; `count` entries),
 * which go through scratch, and each one's owner (the first entry holding the same array: in-place aliases share it).
 */
export interface Placement {
  all: ReadonlyArray<Arr | null>;
  viaScratch: readonly boolean[];
  owners: readonly number[];
  count: number;
}

/**
 * Rows per chunk for an all-plain job (0: do not chunk): a multiple of 32, the kernels' dgamma/dbeta f32 block
 * (PARAM_BLOCK_ROWS), so a chunked backward flushes its blocks at the same rows as one call over all rows does.
 */
export function chunkRowsFor(op: number, rows: number, cols: number, p: Placement): number {
  const rowMask = ROW_MASK.get(op);
  if (rowMask === undefined) return 0;
  let rowBytes = 0;
  for (let i = 0; i < p.count; i++) {
    if ((rowMask >> i) & 1 && p.viaScratch[i] && p.owners[i] === i) rowBytes += cols * p.all[i]!.BYTES_PER_ELEMENT;
  }
  if (rowBytes === 0) return 0;
  const chunk = Math.max(32, Math.floor(CHUNK_BYTES / rowBytes / 32) * 32);
  return rows >= 4 * chunk ? chunk : 0;
}

const ptrs: number[] = [];
const offsets: number[] = [];

/**
 * Run an all-plain job on the calling thread in chunks of `chunkRows` rows on `state`. A backward chunk after the
 * first adds into the dgamma/dbeta f64 sums the previous chunks left in the workspace (slot ACCUMULATE), so the f32 block
 * boundaries, the order of the sums and every result bit are those of one call over all rows. `dtype`: the DTYPE
 * slot (half-job.ts jobs; 0 for f32 jobs).
 */
export function executeChunked(
  state: WasmState, job: JobScalars, n: number, backward: boolean, outMask: number, p: Placement, chunkRows: number,
  dtype: number,
): void {
  const { heap, exports } = state;
  const { count, all, viaScratch, owners } = p;
  const cols = job.cols;
  const rowMask = ROW_MASK.get(job.op)!;
  const statMask = STAT_MASK.get(job.op)!;
  // scratch: chunkRows rows of each row array, chunkRows values of each statistic, whole per-column arrays
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    if (!viaScratch[i] || owners[i] !== i) continue;
    offsets[i] = bytes;
    const len = (rowMask >> i) & 1 ? chunkRows * cols : (statMask >> i) & 1 ? chunkRows : all[i]!.length;
    bytes += Math.ceil((len * all[i]!.BYTES_PER_ELEMENT) / 16) * 16;
  }
  const stride = Math.ceil((WS_BYTES_PER_COL * ((cols + 3) & ~3) + WS_EXTRA) / WS_ALIGN) * WS_ALIGN;
  const ws = backward ? state.blocks.workspace.ensure(heap, stride) : 0;
  const base = state.blocks.scratch.ensure(heap, bytes);
  const args = state.blocks.args.ensure(heap, SLOTS * 8);
  heap.refresh();
  for (let i = 0; i < count; i++) ptrs[i] = viaScratch[i] ? base + offsets[owners[i]] : 0;
  const mem = state.memory.buffer;
  // the per-column inputs (gamma, beta) once
  const perRowOrOut = rowMask | statMask | outMask;
  for (let i = 0; i < count; i++) {
    const a = all[i];
    const perColumnInput = a !== null && viaScratch[i] && owners[i] === i && ((perRowOrOut >> i) & 1) === 0;
    if (perColumnInput) copy(a, 0, a.length, mem, ptrs[i], true);
  }
  const f64 = heap.f64;
  writeSlots(f64, args, job, ptrs, n, ws, stride, backward);
  f64[(args >>> 3) + CHANNELS] = 0;
  f64[(args >>> 3) + DTYPE] = dtype;
  for (let r0 = 0; r0 < job.rows; r0 += chunkRows) {
    const r1 = Math.min(job.rows, r0 + chunkRows);
    copyRows(p, rowMask, statMask, outMask, r0, r1, cols, mem, true);
    f64[(args >>> 3) + ROWS] = r1 - r0;
    f64[(args >>> 3) + ACCUMULATE] = r0 > 0 ? 1 : 0;
    exports.runJob(args, 0, 1);
    _copyStats.chunks++;
    copyRows(p, rowMask, statMask, outMask, r0, r1, cols, mem, false);
  }
  if (backward && (ptrs[n] !== 0 || ptrs[n + 1] !== 0)) {
    exports.reduceParams(args, 1);
    for (let i = n; i < n + 2; i++) {
      const a = all[i];
      if (a !== null && viaScratch[i]) copy(a, 0, a.length, mem, ptrs[i], false);
    }
  }
}

/** Copy rows [r0, r1) of the row and statistic arrays into scratch (`into`: the inputs) or out of it (the outputs). */
function copyRows(
  p: Placement, rowMask: number, statMask: number, outMask: number, r0: number, r1: number, cols: number,
  mem: ArrayBufferLike, into: boolean,
): void {
  for (let i = 0; i < p.count; i++) {
    const per = (rowMask >> i) & 1 ? cols : (statMask >> i) & 1 ? 1 : 0;
    const isOut = ((outMask >> i) & 1) === 1;
    if (per === 0 || !p.viaScratch[i] || isOut === into || (into && p.owners[i] !== i)) continue;
    copy(p.all[i]!, r0 * per, (r1 - r0) * per, mem, ptrs[i], into);
  }
}

/** Copy `len` elements of a from index `from` to scratch address `at` (`into`), or back from it. */
function copy(a: Arr, from: number, len: number, mem: ArrayBufferLike, at: number, into: boolean): void {
  const bytes = len * a.BYTES_PER_ELEMENT;
  const js = new Uint8Array(a.buffer, a.byteOffset + from * a.BYTES_PER_ELEMENT, bytes);
  const wasm = new Uint8Array(mem, at, bytes);
  if (into) {
    wasm.set(js);
    _copyStats.bytesIn += bytes;
  } else {
    js.set(wasm);
    _copyStats.bytesOut += bytes;
  }
}
