// Row reductions in f32x4 with f64 totals: blocked f32 sums flushed to f64, exact f64 reruns for rows outside the
// f32 range (|x| ≈ 1e±30), and the exact f64 sum LayerNorm's mean needs.
import { BLOCK, TINY_SUM, at, hsum } from './_job';

/** Σ (x_i − c)² in f64, exactly promoted (slow path for overflow, underflow, NaN). c = 0 for the RMS family. */
export function sumSquaresExact(p: usize, n: i32, c: f64): f64 {
  const vc = f64x2.splat(c);
  let a0 = f64x2.splat(0);
  let a1 = a0;
  let i: i32 = 0;
  const n4 = n & ~3;
  for (; i < n4; i += 4) {
    const v = v128.load(at(p, i));
    const lo = f64x2.sub(f64x2.promote_low_f32x4(v), vc);
    const hi = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), vc);
    a0 = f64x2.add(a0, f64x2.mul(lo, lo));
    a1 = f64x2.add(a1, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(a0, a1);
  let total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const d = <f64>load<f32>(at(p, i)) - c;
    total += d * d;
  }
  return total;
}

/**
 * Σ x_i² over n floats: f32x4 squares summed in 256-float blocks, each block flushed into an f64 total. When the
 * result is not a normal-range number (an f32 square overflowed, underflowed, or x holds NaN/Inf) the row is summed
 * again exactly in f64, so |x| from 1e-30 to 1e30 and rows of 2^20 columns stay accurate.
 */
export function sumSquares(p: usize, n: i32): f64 {
  let total: f64 = 0;
  let i: i32 = 0;
  const n16 = n & ~15;
  while (i < n16) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    const end = i + BLOCK < n16 ? i + BLOCK : n16;
    for (; i < end; i += 16) {
      const q = at(p, i);
      const v0 = v128.load(q);
      const v1 = v128.load(q, 16);
      const v2 = v128.load(q, 32);
      const v3 = v128.load(q, 48);
      a0 = f32x4.add(a0, f32x4.mul(v0, v0));
      a1 = f32x4.add(a1, f32x4.mul(v1, v1));
      a2 = f32x4.add(a2, f32x4.mul(v2, v2));
      a3 = f32x4.add(a3, f32x4.mul(v3, v3));
    }
    total += hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  }
  for (; i < n; i++) {
    const v = <f64>load<f32>(at(p, i));
    total += v * v;
  }
  if (!(total >= TINY_SUM && total < f64.MAX_VALUE)) total = sumSquaresExact(p, n, 0);
  return total;
}

/** Σ x_i in f64 (exact promotion: LayerNorm's mean must not lose 1e4 + N(0,1) rows to f32 rounding). */
export function sumExact(p: usize, n: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = a0;
  let i: i32 = 0;
  const n4 = n & ~3;
  for (; i < n4; i += 4) {
    const v = v128.load(at(p, i));
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
  }
  const s = f64x2.add(a0, a1);
  let total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) total += <f64>load<f32>(at(p, i));
  return total;
}

/**
 * Σ d_i² with d = (x − hi) − lo (the f64 mean split into two f32s, so centring is accurate in f32): blocked f32
 * like sumSquares, exact f64 rerun when out of the normal range.
 */
export function sumSquaresCentred(p: usize, n: i32, mean: f64): f64 {
  const hi = <f32>mean;
  const lo = <f32>(mean - <f64>hi);
  const vh = f32x4.splat(hi);
  const vl = f32x4.splat(lo);
  let total: f64 = 0;
  let i: i32 = 0;
  const n8 = n & ~7;
  while (i < n8) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    const end = i + BLOCK < n8 ? i + BLOCK : n8;
    for (; i < end; i += 8) {
      const q = at(p, i);
      const d0 = f32x4.sub(f32x4.sub(v128.load(q), vh), vl);
      const d1 = f32x4.sub(f32x4.sub(v128.load(q, 16), vh), vl);
      a0 = f32x4.add(a0, f32x4.mul(d0, d0));
      a1 = f32x4.add(a1, f32x4.mul(d1, d1));
    }
    total += hsum(f32x4.add(a0, a1));
  }
  for (; i < n; i++) {
    const d = <f64>load<f32>(at(p, i)) - mean;
    total += d * d;
  }
  if (!(total >= TINY_SUM && total < f64.MAX_VALUE)) total = sumSquaresExact(p, n, mean);
  return total;
}
