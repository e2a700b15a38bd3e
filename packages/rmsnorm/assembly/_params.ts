// dgamma/dbeta accumulation: per-part workspace layout, f32 block accumulators flushed into f64 sums, and the final
// reduction over parts (threads) into the caller's f32 outputs.
import { CHANNELS, COLS, DBETA, DGAMMA, OP, OP_LN_CH_BWD, OP_RMS_CH_FWD, WS, WS_STRIDE, at, ptr, slot } from './_job';

// Per-part workspace (bytes from its base; c4 = cols rounded up to 4), parts `stride` bytes apart:
//   sumG f64[c4] @0 | sumB f64[c4] @8·c4 | accG f32[c4] @16·c4 | accB f32[c4] @20·c4 (f32 blocks of ≤ 32 rows) |
//   per-row splats of a LayerNorm 4-row group @24·c4: (rs, hi, lo, a, b): 320 bytes (the RMS family needs none)
// The f64 sums of all parts are added by reduceParams.

export function zeroBytes(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}

/** p[0..4) += promote(v) (four f64 sums). */
@inline export function addPromoted(p: usize, v: v128): void {
  v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
  v128.store(p, f64x2.add(v128.load(p, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))), 16);
}

/** Add the f32 block accumulators into the f64 sums and clear them (dbeta's only when withB: it stays zero else). */
export function flushParams(ws: usize, cols: i32, withB: bool = true): void {
  const c4 = (cols + 3) & ~3;
  const sumG = ws;
  const sumB = ws + (<usize>c4 << 3);
  const accG = ws + (<usize>c4 << 4);
  const accB = accG + (<usize>c4 << 2);
  if (withB) {
    for (let i: i32 = 0; i < c4; i += 4) {
      const o = <usize>i << 3;
      addPromoted(sumG + o, v128.load(at(accG, i)));
      addPromoted(sumB + o, v128.load(at(accB, i)));
    }
    zeroBytes(accG, <usize>c4 << 3);
  } else {
    for (let i: i32 = 0; i < c4; i += 4) addPromoted(sumG + (<usize>i << 3), v128.load(at(accG, i)));
    zeroBytes(accG, <usize>c4 << 2);
  }
}

/** dgamma/dbeta = Σ over parts of the f64 sums, stored as f32 (overwrites; 0 pointer = not wanted). */
export function reduceParams(args: usize, parts: i32): void {
  // one parameter per column, or per channel for the channels-last ops
  const op = <i32>slot(args, OP);
  const cols = <i32>slot(args, op >= OP_RMS_CH_FWD && op <= OP_LN_CH_BWD ? CHANNELS : COLS);
  const ws = ptr(args, WS);
  const stride = ptr(args, WS_STRIDE);
  const dgamma = ptr(args, DGAMMA);
  const dbeta = ptr(args, DBETA);
  const c4 = (cols + 3) & ~3;
  if (dgamma != 0) reduceSums(ws, stride, parts, cols, dgamma);
  if (dbeta != 0) reduceSums(ws + (<usize>c4 << 3), stride, parts, cols, dbeta);
}

/** out[j] = f32(Σ_p sums_p[j]) for j < cols; each part's sums (padded to a multiple of 4) are `stride` bytes apart. */
export function reduceSums(sums: usize, stride: usize, parts: i32, cols: i32, out: usize): void {
  let j: i32 = 0;
  const n4 = cols & ~3;
  for (; j < n4; j += 4) {
    const o = <usize>j << 3;
    let a = v128.load(sums + o);
    let b = v128.load(sums + o, 16);
    for (let p: i32 = 1; p < parts; p++) {
      const q = sums + <usize>p * stride + o;
      a = f64x2.add(a, v128.load(q));
      b = f64x2.add(b, v128.load(q, 16));
    }
    const lo = f32x4.demote_f64x2_zero(a);
    const hi = f32x4.demote_f64x2_zero(b);
    v128.store(at(out, j), v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
  }
  for (; j < cols; j++) {
    let g: f64 = 0;
    for (let p: i32 = 0; p < parts; p++) g += load<f64>(sums + <usize>p * stride + (<usize>j << 3));
    store<f32>(at(out, j), <f32>g);
  }
}
