// RMS family forward kernels (RMSNorm, pRMSNorm with k < cols, L2-Norm with divisor 1) on one part (a contiguous
// row range) of a job; the backward is in _rms-backward.ts. Formulas: src/backends/backend.ts, docs/math.md.
import {
  BLOCK, COLS, DIVISOR, EPS, EPS_OUTSIDE, GAMMA_OFFSET, K, P0, RS_MAX, RS_MIN, TINY_SUM, at, hsum, ptr, slot,
} from './_job';
import { sumSquares, sumSquaresExact } from './_reduce';

/** y = x·rs·(goff + gamma) + beta for 8 values at index i (hasG/hasB are constants after inlining). */
@inline export function scale8(
  xr: usize, yr: usize, i: i32, vr: v128, gamma: usize, beta: usize, vo: v128, hasG: bool, hasB: bool, hasOff: bool,
): void {
  const q = at(xr, i);
  let v0 = f32x4.mul(v128.load(q), vr);
  let v1 = f32x4.mul(v128.load(q, 16), vr);
  if (hasG) {
    v0 = f32x4.mul(v0, hasOff ? f32x4.add(vo, v128.load(at(gamma, i))) : v128.load(at(gamma, i)));
    v1 = f32x4.mul(v1, hasOff ? f32x4.add(vo, v128.load(at(gamma, i), 16)) : v128.load(at(gamma, i), 16));
  }
  if (hasB) {
    v0 = f32x4.add(v0, v128.load(at(beta, i)));
    v1 = f32x4.add(v1, v128.load(at(beta, i), 16));
  }
  v128.store(at(yr, i), v0);
  v128.store(at(yr, i), v1, 16);
}

/** y = x·rs·(goff + gamma) + beta for indices [i0, cols) of one row: 8-wide SIMD, then a scalar tail. */
@inline export function scaleRange(
  xr: usize, yr: usize, i0: i32, cols: i32, rs: f32, gamma: usize, beta: usize, goff: f32, hasG: bool, hasB: bool, hasOff: bool,
): void {
  const vr = f32x4.splat(rs);
  const vo = f32x4.splat(goff);
  let i = i0;
  for (; i + 8 <= cols; i += 8) scale8(xr, yr, i, vr, gamma, beta, vo, hasG, hasB, hasOff);
  for (; i < cols; i++) {
    let v = load<f32>(at(xr, i)) * rs;
    if (hasG) v *= goff + load<f32>(at(gamma, i));
    if (hasB) v += load<f32>(at(beta, i));
    store<f32>(at(yr, i), v);
  }
}

/**
 * Software pipelining: scale row r (xr → yr) while summing the squares of the next row's first k values (xn), so
 * the read stream of row r+1 and the write stream of row r are in flight together (as in a plain copy). Returns
 * Σ xn_i² (i < k) with the same blocked-f32/f64 scheme and exact fallback as sumSquares.
 */
@inline export function scaleAndReduceNext(
  xr: usize, yr: usize, xn: usize, cols: i32, k: i32, rs: f32, gamma: usize, beta: usize, goff: f32,
  hasG: bool, hasB: bool, hasOff: bool,
): f64 {
  const vr = f32x4.splat(rs);
  const vo = f32x4.splat(goff);
  let total: f64 = 0;
  let i: i32 = 0;
  const n16 = k & ~15;
  while (i < n16) {
    // four independent accumulators: the add latency chain never limits the loop
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    const end = i + BLOCK < n16 ? i + BLOCK : n16;
    for (; i < end; i += 16) {
      const q = at(xn, i);
      const v0 = v128.load(q);
      const v1 = v128.load(q, 16);
      const v2 = v128.load(q, 32);
      const v3 = v128.load(q, 48);
      a0 = f32x4.add(a0, f32x4.mul(v0, v0));
      a1 = f32x4.add(a1, f32x4.mul(v1, v1));
      a2 = f32x4.add(a2, f32x4.mul(v2, v2));
      a3 = f32x4.add(a3, f32x4.mul(v3, v3));
      scale8(xr, yr, i, vr, gamma, beta, vo, hasG, hasB, hasOff);
      scale8(xr, yr, i + 8, vr, gamma, beta, vo, hasG, hasB, hasOff);
    }
    total += hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  }
  for (let j = n16; j < k; j++) {
    const v = <f64>load<f32>(at(xn, j));
    total += v * v;
  }
  // pRMSNorm (k < cols): keep the next row's read stream going while the rest of row r is scaled — one load per
  // 64-byte line of the next row, so its columns past k are in cache when its turn comes, as a full RMSNorm row's
  // are (without it the scale pass waits on memory: pRMSNorm was 1.3x slower than RMSNorm at 4096x512 in the bench;
  // fused-ab --alt, 3 runs: 1.12–1.22x faster at 4096x512; 256x1024 and 16384x1024 within run-to-run noise). Rows
  // up to 2048 columns only: three 8 KiB row streams fit L1; at 1024x4096 the touched row evicted the one being
  // scaled (0.86x).
  let i2 = n16;
  if (k < cols && cols <= 2048) {
    let sink = f32x4.splat(0);
    for (; i2 + 16 <= cols; i2 += 16) {
      sink = v128.or(sink, v128.load(at(xn, i2)));
      scale8(xr, yr, i2, vr, gamma, beta, vo, hasG, hasB, hasOff);
      scale8(xr, yr, i2 + 8, vr, gamma, beta, vo, hasG, hasB, hasOff);
    }
    touchSink = i32x4.extract_lane(sink, 0); // keeps the loads (their values are not needed)
  }
  scaleRange(xr, yr, i2, cols, rs, gamma, beta, goff, hasG, hasB, hasOff);
  if (!(total >= TINY_SUM && total < f64.MAX_VALUE)) total = sumSquaresExact(xn, k, 0);
  return total;
}

/** Where the prefetching loads of scaleAndReduceNext go (per instance, so per thread; never read). */
let touchSink: i32 = 0;

@inline export function rmsRstd(ss: f64, divisor: f64, eps: f64, epsOutside: bool): f64 {
  const ms = ss / divisor;
  return epsOutside ? 1.0 / (Math.sqrt(ms) + eps) : 1.0 / Math.sqrt(ms + eps);
}

/** y = f32(x·rs·(goff + gamma) + beta) in f64 for one row whose rstd is not a normal f32 (see RS_MIN). */
export function scaleRowExact(xr: usize, yr: usize, cols: i32, rs: f64, gamma: usize, beta: usize, goff: f32): void {
  for (let j: i32 = 0; j < cols; j++) {
    let v = <f64>load<f32>(at(xr, j)) * rs;
    if (gamma != 0) v *= <f64>goff + <f64>load<f32>(at(gamma, j));
    if (beta != 0) v += <f64>load<f32>(at(beta, j));
    store<f32>(at(yr, j), <f32>v);
  }
}

@inline export function rmsForwardRows(
  x: usize, gamma: usize, beta: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32,
  divisor: f64, eps: f64, epsOutside: bool, goff: f32, hasG: bool, hasB: bool, hasOff: bool,
): void {
  const rowBytes = <usize>cols << 2;
  let ss = sumSquares(x, k);
  for (let r: i32 = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const rs64 = rmsRstd(ss, divisor, eps, epsOutside);
    const rs = <f32>rs64;
    store<f32>(at(rstd, r), rs);
    if (!(rs64 >= RS_MIN && rs64 <= RS_MAX)) {
      scaleRowExact(xr, yr, cols, rs64, gamma, beta, goff);
      if (r + 1 < rows) ss = sumSquares(xr + rowBytes, k);
    } else if (r + 1 < rows) {
      ss = scaleAndReduceNext(xr, yr, xr + rowBytes, cols, k, rs, gamma, beta, goff, hasG, hasB, hasOff);
    } else {
      scaleRange(xr, yr, 0, cols, rs, gamma, beta, goff, hasG, hasB, hasOff);
    }
  }
}

export function rmsForward(args: usize, r0: i32, r1: i32): void {
  if (r1 <= r0) return; // the pipeline reads its first row before the loop
  const cols = <i32>slot(args, COLS);
  const k = <i32>slot(args, K);
  const divisor = slot(args, DIVISOR);
  const eps = slot(args, EPS);
  const epsOutside = slot(args, EPS_OUTSIDE) != 0;
  const goff = <f32>slot(args, GAMMA_OFFSET);
  const rowOff = <usize>r0 * (<usize>cols << 2);
  const x = ptr(args, P0) + rowOff;
  const gamma = ptr(args, P0 + 1);
  const beta = ptr(args, P0 + 2);
  const y = ptr(args, P0 + 3) + rowOff;
  const rstd = ptr(args, P0 + 4) + (<usize>r0 << 2);
  const rows = r1 - r0;
  // One specialised loop per combination (gammaOffset = 0 saves an add per vector).
  if (gamma == 0) {
    if (beta == 0) rmsForwardRows(x, gamma, beta, y, rstd, rows, cols, k, divisor, eps, epsOutside, goff, false, false, false);
    else rmsForwardRows(x, gamma, beta, y, rstd, rows, cols, k, divisor, eps, epsOutside, goff, false, true, false);
  } else if (goff == 0) {
    if (beta == 0) rmsForwardRows(x, gamma, beta, y, rstd, rows, cols, k, divisor, eps, epsOutside, goff, true, false, false);
    else rmsForwardRows(x, gamma, beta, y, rstd, rows, cols, k, divisor, eps, epsOutside, goff, true, true, false);
  } else {
    if (beta == 0) rmsForwardRows(x, gamma, beta, y, rstd, rows, cols, k, divisor, eps, epsOutside, goff, true, false, true);
    else rmsForwardRows(x, gamma, beta, y, rstd, rows, cols, k, divisor, eps, epsOutside, goff, true, true, true);
  }
}
