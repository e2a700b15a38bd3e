// f32x4 SIMD kernels for the RMS family (RMSNorm, pRMSNorm, L2-Norm) and LayerNorm, forward and backward (16-bit
// storage: _add-rms-norm.ts, _layer-norm16.ts; channels-last layout: _channels.ts), on raw byte pointers into (imported) linear memory: the entry points
// included by norm.ts (private memory) and norm-shared.ts (shared memory for worker threads). runJob(args, part,
// parts) reads its arguments from memory, so a worker thread runs its share of rows without knowing any kernel
// signature.
import { OP, OP_LN_BWD, OP_LN_FWD, OP_RMS_BWD, OP_RMS_FWD, ROWS, slot } from './_job';
import { rmsForward } from './_rms-norm';
import { rmsBackward } from './_rms-backward';
import { lnBackward, lnForward } from './_layer-norm';
import { addRmsBackward, addRmsForward } from './_add-rms-norm';
import { OP_ADD_RMS_BWD, OP_ADD_RMS_FWD, OP_LN16_BWD, OP_LN16_FWD } from './_job';
import { lnBackward16, lnForward16 } from './_layer-norm16';
import { OP_LN_CH_BWD, OP_LN_CH_FWD, OP_RMS_CH_BWD, OP_RMS_CH_FWD } from './_job';
import { lnChBackward, lnChForward, rmsChBackward, rmsChForward } from './_channels';

export { reduceParams } from './_params';

/** First byte the host may use for its own allocations (after this module's static data). */
export function heapBase(): usize {
  return __heap_base;
}

/** Run part `part` of `parts` (a contiguous, balanced slice of the rows) of the job described at `args`. */
export function runJob(args: usize, part: i32, parts: i32): void {
  const rows = <i64>slot(args, ROWS);
  const r0 = <i32>((rows * <i64>part) / <i64>parts);
  const r1 = <i32>((rows * <i64>(part + 1)) / <i64>parts);
  const op = <i32>slot(args, OP);
  if (op == OP_RMS_FWD) rmsForward(args, r0, r1);
  else if (op == OP_RMS_BWD) rmsBackward(args, r0, r1, part);
  else if (op == OP_LN_FWD) lnForward(args, r0, r1);
  else if (op == OP_LN_BWD) lnBackward(args, r0, r1, part);
  else if (op == OP_ADD_RMS_FWD) addRmsForward(args, r0, r1);
  else if (op == OP_ADD_RMS_BWD) addRmsBackward(args, r0, r1, part);
  else if (op == OP_LN16_FWD) lnForward16(args, r0, r1);
  else if (op == OP_LN16_BWD) lnBackward16(args, r0, r1, part);
  // channels-last ops: ROWS = blocks, and every part (forward too) has its workspace
  else if (op == OP_RMS_CH_FWD) rmsChForward(args, r0, r1, part);
  else if (op == OP_RMS_CH_BWD) rmsChBackward(args, r0, r1, part);
  else if (op == OP_LN_CH_FWD) lnChForward(args, r0, r1, part);
  else if (op == OP_LN_CH_BWD) lnChBackward(args, r0, r1, part);
}
