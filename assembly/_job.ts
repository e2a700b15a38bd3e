// Job layout shared by the kernels and src/backends/wasm/job.ts (keep in sync): f64 argument slots at `args`, op
// codes, block sizes, and the small inline helpers every kernel uses.

export const OP: i32 = 0;
export const ROWS: i32 = 1;
export const COLS: i32 = 2;
export const K: i32 = 3;
export const DIVISOR: i32 = 4;
export const EPS: i32 = 5;
export const EPS_OUTSIDE: i32 = 6;
export const GAMMA_OFFSET: i32 = 7;
export const P0: i32 = 8; // first pointer slot; meaning per op below
export const WS: i32 = 20; // per-part workspace base (backward)
export const WS_STRIDE: i32 = 21; // bytes between parts' workspaces
export const DGAMMA: i32 = 22; // 0 = not wanted
export const DBETA: i32 = 23; // 0 = not wanted

export const OP_RMS_FWD: i32 = 1; // P0.. = x, gamma, beta, y, rstd
export const OP_RMS_BWD: i32 = 2; // P0.. = dy, x, rstd, gamma, dx
export const OP_LN_FWD: i32 = 3; // P0.. = x, gamma, beta, y, mean, rstd
export const OP_LN_BWD: i32 = 4; // P0.. = dy, x, mean, rstd, gamma, dx

// Floats per f32 partial-sum block before it is flushed into an f64 total: with 2–4 accumulators of 4 lanes, each
// f32 lane adds at most 32 terms (relative error ≲ 2e-6 of the block) and the f64 total carries the rest.
export const BLOCK: i32 = 256;
// Rows per f32 dgamma/dbeta block before flushing into the f64 sums.
export const PARAM_BLOCK_ROWS: i32 = 32;
// A sum of squares below this came (partly) from f32 squares that underflowed: redo the row in f64.
export const TINY_SUM: f64 = 1e-24;

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
