// The job layout (one definition: src/backends/wasm/job-layout.ts, shared with the host), the kernels' block sizes,
// and the small inline helpers every kernel uses.

export {
  OP, ROWS, COLS, K, DIVISOR, EPS, EPS_OUTSIDE, GAMMA_OFFSET, P0, WS, WS_STRIDE, DGAMMA, DBETA, SLOTS,
  OP_RMS_FWD, OP_RMS_BWD, OP_LN_FWD, OP_LN_BWD, WS_BYTES_PER_COL, WS_EXTRA, WS_ALIGN,
  DTYPE, OP_ADD_RMS_FWD, OP_ADD_RMS_BWD, DT_F32, DT_F16, DT_BF16, OP_LN16_FWD, OP_LN16_BWD,
  CHANNELS, OP_RMS_CH_FWD, OP_RMS_CH_BWD, OP_LN_CH_FWD, OP_LN_CH_BWD, CH_WS_BYTES_PER_CHANNEL, ACCUMULATE,
} from '../src/backends/wasm/job-layout';

// Floats per f32 partial-sum block before it is flushed into an f64 total: with 2–4 accumulators of 4 lanes, each
// f32 lane adds at most 32 terms (relative error ≲ 2e-6 of the block) and the f64 total carries the rest.
export const BLOCK: i32 = 256;
// Rows per f32 dgamma/dbeta block before flushing into the f64 sums.
export const PARAM_BLOCK_ROWS: i32 = 32;
// A sum of squares below this came (partly) from f32 squares that underflowed: redo the row in f64.
export const TINY_SUM: f64 = 1e-24;

// A row's f64 rstd outside [RS_MIN, RS_MAX] is not a normal f32 (subnormal or zero-ish rows with tiny eps: 1e40;
// |x| ≈ 3e38: 3e-39), or (LayerNorm, RS_MIN_LN) its centred values could overflow in f32: such rows are scaled by a
// scalar f64 path, so y is the f64 result rounded once, as on the js backend. NaN/Inf rstd rows take it too (same
// IEEE result, and they are rare).
export const RS_MIN: f64 = 1.1754943508222875e-38; // 2^-126, the smallest normal f32
export const RS_MAX: f64 = 3.4028234663852886e38; // the largest f32
export const RS_MIN_LN: f64 = 7.888609052210118e-31; // 2^-100: σ ≤ 1.3e30, so x − mean stays far inside f32

@inline export function slot(args: usize, i: i32): f64 {
  return load<f64>(args + (<usize>i << 3));
}

@inline export function ptr(args: usize, i: i32): usize {
  return <usize>slot(args, i);
}

/** Horizontal sum of four f32 lanes, in f64. */
@inline export function hsum(v: v128): f64 {
  const lo = f64x2.promote_low_f32x4(v);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const s = f64x2.add(lo, hi);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}
