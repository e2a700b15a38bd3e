// LayerNorm kernels, forward (pipelined mean and pivot-shifted sum of squares; two-pass variance as the fallback)
// and backward (two sweeps per row), on one part (a contiguous row range) of a job. Formulas: src/backends/backend.ts (LayerNormKernelArgs), docs/math.md.
import { ACCUMULATE, BLOCK, DT_F32, TINY_SUM, COLS, DBETA, DGAMMA, EPS, P0, PARAM_BLOCK_ROWS, RS_MAX, RS_MIN_LN, WS, WS_BYTES_PER_COL, WS_STRIDE, at, hsum, ptr, slot } from './_job';
import { sumExact, sumSquaresCentred } from './_reduce';
import { flushParams, zeroBytes } from './_params';
import { load1, store1 } from './_half';

/** y = ((x − hi) − lo)·rs·gamma + beta for 8 values at index i (hasG/hasB: loop-invariant, predictable branches). */
@inline export function lnScale8(
  xr: usize, yr: usize, i: i32, vh: v128, vl: v128, vr: v128, gamma: usize, beta: usize, hasG: bool, hasB: bool,
): void {
  const q = at(xr, i);
  let v0 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(q), vh), vl), vr);
  let v1 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(q, 16), vh), vl), vr);
  if (hasG) {
    v0 = f32x4.mul(v0, v128.load(at(gamma, i)));
    v1 = f32x4.mul(v1, v128.load(at(gamma, i), 16));
  }
  if (hasB) {
    v0 = f32x4.add(v0, v128.load(at(beta, i)));
    v1 = f32x4.add(v1, v128.load(at(beta, i), 16));
  }
  v128.store(at(yr, i), v0);
  v128.store(at(yr, i), v1, 16);
}

// Σ(x − pivot)² of the row summed by the last lnScaleAndMeanNext (f64, from f32 blocks), and its pivot; per
// instance, so per thread.
let shiftedSq: f64 = 0;
let shiftedPivot: f64 = 0;

/** The pivot of a row: the f32 mean of its first (up to) 16 values, so the row's mean is usually within σ/2 of it. */
@inline function rowPivot(xn: usize, cols: i32): f32 {
  const m = cols < 16 ? cols : 16;
  let s: f32 = 0;
  for (let j: i32 = 0; j < m; j++) s += load<f32>(at(xn, j));
  const p = s / <f32>m;
  return isFinite(p) ? p : load<f32>(xn);
}

/**
 * LayerNorm row pipeline: scale row r (when xr != 0) while summing row n = r+1 as Σ(x − pivot) and Σ(x − pivot)² in
 * blocked f32 (pivot ≈ the row's mean, so 1e4 + N(0,1) rows sum small numbers); returns row n's f64 mean (exact f64
 * rerun if the f32 sums are not finite) and leaves Σ(x − pivot)² in shiftedSq, from which lnVariance takes the
 * variance without a second pass over the row when the pivot was close enough to the mean.
 */
@inline export function lnScaleAndMeanNext(
  xr: usize, yr: usize, xn: usize, cols: i32, mu: f64, rs: f32, gamma: usize, beta: usize, hasG: bool, hasB: bool,
): f64 {
  const hi = <f32>mu;
  const lo = <f32>(mu - <f64>hi);
  const vh = f32x4.splat(hi);
  const vl = f32x4.splat(lo);
  const vr = f32x4.splat(rs);
  const pivot = rowPivot(xn, cols);
  const vp = f32x4.splat(pivot);
  let total: f64 = 0;
  let sq: f64 = 0;
  let i: i32 = 0;
  const n8 = cols & ~7;
  while (i < n8) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let b0 = a0;
    let b1 = a0;
    const end = i + BLOCK < n8 ? i + BLOCK : n8;
    for (; i < end; i += 8) {
      const d0 = f32x4.sub(v128.load(at(xn, i)), vp);
      const d1 = f32x4.sub(v128.load(at(xn, i), 16), vp);
      a0 = f32x4.add(a0, d0);
      a1 = f32x4.add(a1, d1);
      b0 = f32x4.add(b0, f32x4.mul(d0, d0));
      b1 = f32x4.add(b1, f32x4.mul(d1, d1));
      if (xr != 0) lnScale8(xr, yr, i, vh, vl, vr, gamma, beta, hasG, hasB);
    }
    total += hsum(f32x4.add(a0, a1));
    sq += hsum(f32x4.add(b0, b1));
  }
  for (let j = n8; j < cols; j++) {
    const d = <f64>load<f32>(at(xn, j)) - <f64>pivot;
    total += d;
    sq += d * d;
  }
  if (xr != 0) {
    for (let j = n8; j < cols; j++) {
      let v = (load<f32>(at(xr, j)) - hi - lo) * rs;
      if (hasG) v *= load<f32>(at(gamma, j));
      if (hasB) v += load<f32>(at(beta, j));
      store<f32>(at(yr, j), v);
    }
  }
  shiftedSq = sq;
  shiftedPivot = <f64>pivot;
  if (!isFinite(total)) {
    shiftedSq = NaN; // lnVariance takes the two-pass path
    return sumExact(xn, cols) / <f64>cols;
  }
  return <f64>pivot + total / <f64>cols;
}

/**
 * Σ(x − mean)² of row xr from the shifted sums its lnScaleAndMeanNext left (Σ(x − p)² − n·(mean − p)²) when that is
 * as accurate as a second pass: the sums are in the normal range and (mean − p)² ≤ var/4, so the subtraction
 * cancels at most a fifth of Σ(x − p)². Otherwise (far pivot, constant or extreme rows) the two-pass sum.
 */
@inline function lnSumSq(xr: usize, cols: i32, mu: f64): f64 {
  const n = <f64>cols;
  const m1 = mu - shiftedPivot;
  const ss = shiftedSq - n * m1 * m1;
  if (shiftedSq >= TINY_SUM && shiftedSq < f64.MAX_VALUE && 4 * n * m1 * m1 <= ss) return ss;
  return sumSquaresCentred(xr, cols, mu);
}

/**
 * y = f32((x − mean)·rs·gamma + beta) in f64 for one row off the fast path (rstd outside [RS_MIN_LN, RS_MAX]; as the js
 * backend), stored in storage dt (16-bit: rounded to nearest-even); the f32 and the 16-bit kernels' one slow path.
 */
export function lnScaleRowExact(xr: usize, yr: usize, cols: i32, mu: f64, rs: f64, gamma: usize, beta: usize, dt: i32): void {
  for (let j: i32 = 0; j < cols; j++) {
    let v = (<f64>load1(xr, j, dt) - mu) * rs;
    if (gamma != 0) v *= <f64>load<f32>(at(gamma, j));
    if (beta != 0) v += <f64>load<f32>(at(beta, j));
    store1(yr, j, <f32>v, dt);
  }
}

@inline export function lnForwardRows(
  x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, rows: i32, cols: i32, eps: f64,
  hasG: bool, hasB: bool,
): void {
  const rowBytes = <usize>cols << 2;
  let mu = lnScaleAndMeanNext(0, 0, x, cols, 0, 0, gamma, beta, hasG, hasB);
  for (let r: i32 = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    // the variance from the shifted sums of the pipelined pass, or two-pass around the f64 mean (re-read from L1)
    const rs64 = 1.0 / Math.sqrt(lnSumSq(xr, cols, mu) / <f64>cols + eps);
    const rs = <f32>rs64;
    store<f32>(at(mean, r), <f32>mu);
    store<f32>(at(rstd, r), rs);
    if (!(rs64 >= RS_MIN_LN && rs64 <= RS_MAX)) {
      lnScaleRowExact(xr, yr, cols, mu, rs64, gamma, beta, DT_F32);
      // the next row's mean exactly (a call, not another inlined copy of the pipelined loop: that copy made the
      // common path ~10 % slower)
      if (r + 1 < rows) mu = sumExact(xr + rowBytes, cols) / <f64>cols;
      shiftedSq = NaN; // no shifted sums for that row: two-pass
    } else if (r + 1 < rows) {
      mu = lnScaleAndMeanNext(xr, yr, xr + rowBytes, cols, mu, rs, gamma, beta, hasG, hasB);
    } else {
      // last row: scale only (pivot sums of the row itself are discarded)
      lnScaleAndMeanNext(xr, yr, xr, cols, mu, rs, gamma, beta, hasG, hasB);
    }
  }
}

export function lnForward(args: usize, r0: i32, r1: i32): void {
  if (r1 <= r0) return; // the pipeline reads its first row before the loop
  const cols = <i32>slot(args, COLS);
  const eps = slot(args, EPS);
  const rowBytes = <usize>cols << 2;
  const rowOff = <usize>r0 * rowBytes;
  const x = ptr(args, P0) + rowOff;
  const gamma = ptr(args, P0 + 1);
  const beta = ptr(args, P0 + 2);
  const y = ptr(args, P0 + 3) + rowOff;
  const mean = ptr(args, P0 + 4) + (<usize>r0 << 2);
  const rstd = ptr(args, P0 + 5) + (<usize>r0 << 2);
  const rows = r1 - r0;
  // One function for every gain/bias combination (hasG/hasB are tested in the loop; the branches predict
  // perfectly), so lnForwardRows has one call site and binaryen inlines the variance (lnSumSq) into it. Four
  // specialised functions kept that reduction an out-of-line call per row and ran 8–10 % slower
  // (packages/lab/src/bench/scripts/kernel-ab.ts --alt).
  lnForwardRows(x, gamma, beta, y, mean, rstd, rows, cols, eps, gamma != 0, beta != 0);
}

// ---------------------------------------------------------------- backward
// Per row, u = gamma·dy, x̂ = (x − μ)·rs with μ the exact f64 mean (the saved mean is f32-rounded, off by up to
// ulp/2 — ≈5e-4 on 1e4 + N(0,1) rows — so it is re-derived: an exact f64 Σx rides along in sweep A):
//   dx = (u − a − x̂·b)·rs, a = Σu/cols, b = Σu·x̂/cols; dgamma += dy·x̂, dbeta += dy.
// Sweep A (no side effects) sums Σu, Σu·(x − saved) in f32x4 blocks of 256 columns flushed into f64, and Σx in f64;
// sweep B writes dx and the f32 dgamma/dbeta block accumulators. 16 floats per iteration at immediate offsets from
// one address per stream (V8 spends an instruction per distinct address). Rows whose rstd is outside
// [RS_MIN_LN, RS_MAX], or whose f32 sums are not finite, take the scalar f64 path of the js backend.

// Σx and Σu·(x − saved) of the last lnSweepA (its return value is Σu); per instance, so per thread.
let sumX: f64 = 0;

@inline function promoteLo(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

@inline function promoteHi(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}
let sumUXm: f64 = 0;

@inline function lnSweepA(dyr: usize, xr: usize, gamma: usize, cols: i32, mu: f32, hasG: bool): f64 {
  const vm = f32x4.splat(mu);
  let tU: f64 = 0;
  let tUX: f64 = 0;
  let tX: f64 = 0;
  const n16 = cols & ~15;
  let ax0 = f64x2.splat(0);
  let ax1 = ax0;
  let i: i32 = 0;
  while (i < n16) {
    let au = f32x4.splat(0);
    let aux = au;
    const end = i + 256 < n16 ? i + 256 : n16;
    for (; i < end; i += 16) {
      const o = <usize>i << 2;
      let u0 = v128.load(dyr + o);
      let u1 = v128.load(dyr + o, 16);
      let u2 = v128.load(dyr + o, 32);
      let u3 = v128.load(dyr + o, 48);
      if (hasG) {
        u0 = f32x4.mul(u0, v128.load(gamma + o));
        u1 = f32x4.mul(u1, v128.load(gamma + o, 16));
        u2 = f32x4.mul(u2, v128.load(gamma + o, 32));
        u3 = f32x4.mul(u3, v128.load(gamma + o, 48));
      }
      const x0 = v128.load(xr + o);
      const x1 = v128.load(xr + o, 16);
      const x2 = v128.load(xr + o, 32);
      const x3 = v128.load(xr + o, 48);
      const m0 = f32x4.sub(x0, vm);
      const m1 = f32x4.sub(x1, vm);
      const m2 = f32x4.sub(x2, vm);
      const m3 = f32x4.sub(x3, vm);
      au = f32x4.add(au, f32x4.add(f32x4.add(u0, u1), f32x4.add(u2, u3)));
      // Σx exactly in f64 (every value promoted): it sets the mean shift. f32 sums of x − saved are biased: with
      // |x| ≫ |saved| every x − saved rounds the same way (1e-8 off on 2^20 columns, 70 ulps of the mean)
      ax0 = f64x2.add(ax0, f64x2.add(promoteLo(x0), promoteHi(x0)));
      ax1 = f64x2.add(ax1, f64x2.add(promoteLo(x1), promoteHi(x1)));
      ax0 = f64x2.add(ax0, f64x2.add(promoteLo(x2), promoteHi(x2)));
      ax1 = f64x2.add(ax1, f64x2.add(promoteLo(x3), promoteHi(x3)));
      aux = f32x4.add(aux, f32x4.add(f32x4.add(f32x4.mul(u0, m0), f32x4.mul(u1, m1)), f32x4.add(f32x4.mul(u2, m2), f32x4.mul(u3, m3))));
    }
    tU += hsum(au);
    tUX += hsum(aux);
  }
  const sx = f64x2.add(ax0, ax1);
  tX = f64x2.extract_lane(sx, 0) + f64x2.extract_lane(sx, 1);
  for (; i < cols; i++) {
    const o = <usize>i << 2;
    let u = load<f32>(dyr + o);
    if (hasG) u *= load<f32>(gamma + o);
    const xv = <f64>load<f32>(xr + o);
    tU += <f64>u;
    tUX += <f64>u * (xv - <f64>mu);
    tX += xv;
  }
  sumX = tX;
  sumUXm = tUX;
  return tU;
}

/** dx and (params) the dgamma/dbeta f32 block accumulators for the vector at o + off. */
@inline function lnDxAt(
  dyr: usize, xr: usize, dxr: usize, gamma: usize, accG: usize, accB: usize, o: usize, off: usize,
  vm: v128, vs: v128, vr: v128, va: v128, vb: v128, hasG: bool, params: bool,
): void {
  const d = v128.load(dyr + o + off);
  const h = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o + off), vm), vs), vr);
  const u = hasG ? f32x4.mul(d, v128.load(gamma + o + off)) : d;
  v128.store(dxr + o + off, f32x4.mul(f32x4.sub(f32x4.sub(u, va), f32x4.mul(h, vb)), vr));
  if (params) {
    v128.store(accG + o + off, f32x4.add(v128.load(accG + o + off), f32x4.mul(d, h)));
    v128.store(accB + o + off, f32x4.add(v128.load(accB + o + off), d));
  }
}

@inline function lnSweepB(
  dyr: usize, xr: usize, dxr: usize, gamma: usize, accG: usize, accB: usize, cols: i32,
  mu: f32, shift: f32, rs: f32, a: f32, b: f32, hasG: bool, params: bool,
): void {
  const vm = f32x4.splat(mu);
  const vs = f32x4.splat(shift);
  const vr = f32x4.splat(rs);
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  let i: i32 = 0;
  for (; i + 16 <= cols; i += 16) {
    const o = <usize>i << 2;
    lnDxAt(dyr, xr, dxr, gamma, accG, accB, o, 0, vm, vs, vr, va, vb, hasG, params);
    lnDxAt(dyr, xr, dxr, gamma, accG, accB, o, 16, vm, vs, vr, va, vb, hasG, params);
    lnDxAt(dyr, xr, dxr, gamma, accG, accB, o, 32, vm, vs, vr, va, vb, hasG, params);
    lnDxAt(dyr, xr, dxr, gamma, accG, accB, o, 48, vm, vs, vr, va, vb, hasG, params);
  }
  for (; i + 4 <= cols; i += 4) lnDxAt(dyr, xr, dxr, gamma, accG, accB, <usize>i << 2, 0, vm, vs, vr, va, vb, hasG, params);
  for (; i < cols; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(dyr + o);
    const h = (load<f32>(xr + o) - mu - shift) * rs;
    const u = hasG ? d * load<f32>(gamma + o) : d;
    store<f32>(dxr + o, (u - a - h * b) * rs);
    if (params) {
      store<f32>(accG + o, load<f32>(accG + o) + d * h);
      store<f32>(accB + o, load<f32>(accB + o) + d);
    }
  }
}

/**
 * One backward row in f64, as the js backend (rstd outside the SIMD range, or non-finite sums), activations in storage
 * dt; parameter sums straight into the f64 sums. The f32 and the 16-bit kernels' one slow path.
 */
export function lnRowExact(
  dyr: usize, xr: usize, dxr: usize, gamma: usize, cols: i32, savedMu: f32, rs32: f32, sumG: usize, sumB: usize,
  params: bool, dt: i32,
): void {
  const rs = <f64>rs32;
  const sm = <f64>savedMu;
  let sx: f64 = 0;
  let su: f64 = 0;
  let suxh: f64 = 0;
  for (let j: i32 = 0; j < cols; j++) {
    const xv = <f64>load1(xr, j, dt);
    const u = <f64>load1(dyr, j, dt) * (gamma != 0 ? <f64>load<f32>(at(gamma, j)) : 1);
    sx += xv;
    su += u;
    suxh += u * (xv - sm) * rs;
  }
  const mu = sx / <f64>cols;
  const meanU = su / <f64>cols;
  const meanUXhat = (suxh - (mu - sm) * rs * su) / <f64>cols;
  for (let j: i32 = 0; j < cols; j++) {
    const d = <f64>load1(dyr, j, dt);
    const xhat = (<f64>load1(xr, j, dt) - mu) * rs;
    const u = d * (gamma != 0 ? <f64>load<f32>(at(gamma, j)) : 1);
    store1(dxr, j, <f32>(rs * (u - meanU - xhat * meanUXhat)), dt);
    if (params) {
      store<f64>(sumG + (<usize>j << 3), load<f64>(sumG + (<usize>j << 3)) + d * xhat);
      store<f64>(sumB + (<usize>j << 3), load<f64>(sumB + (<usize>j << 3)) + d);
    }
  }
}

@inline function lnBackwardRows(
  dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, ws: usize,
  hasG: bool, params: bool,
): void {
  const rowBytes = <usize>cols << 2;
  const c4 = (cols + 3) & ~3;
  const sumG = ws;
  const sumB = ws + (<usize>c4 << 3);
  const accG = ws + (<usize>c4 << 4);
  const accB = accG + (<usize>c4 << 2);
  const g = hasG ? gamma : 0;
  const n = <f64>cols;
  let sinceFlush: i32 = 0;
  for (let r: i32 = 0; r < rows; r++) {
    const o = <usize>r * rowBytes;
    const dyr = dy + o;
    const xr = x + o;
    const dxr = dx + o;
    const rs = load<f32>(at(rstd, r));
    const mu = load<f32>(at(mean, r));
    let exact = !(<f64>rs >= RS_MIN_LN && <f64>rs <= RS_MAX);
    if (!exact) {
      const sumU = lnSweepA(dyr, xr, gamma, cols, mu, hasG);
      const shift = sumX / n - <f64>mu; // exact mean − saved mean
      const r64 = <f64>rs;
      const a = sumU / n;
      const b = (r64 * (sumUXm - shift * sumU)) / n;
      exact = !(isFinite(a) && isFinite(b) && isFinite(shift));
      if (!exact) lnSweepB(dyr, xr, dxr, gamma, accG, accB, cols, mu, <f32>shift, rs, <f32>a, <f32>b, hasG, params);
    }
    if (exact) lnRowExact(dyr, xr, dxr, g, cols, mu, rs, sumG, sumB, params, DT_F32);
    if (params && ++sinceFlush >= PARAM_BLOCK_ROWS) {
      flushParams(ws, cols);
      sinceFlush = 0;
    }
  }
  if (params) flushParams(ws, cols);
}

// One wasm function per specialisation (TurboFan allocates registers per function).
function lnBwdGP(dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  lnBackwardRows(dy, x, mean, rstd, gamma, dx, rows, cols, ws, true, true);
}
function lnBwdG(dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  lnBackwardRows(dy, x, mean, rstd, gamma, dx, rows, cols, ws, true, false);
}
function lnBwdP(dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  lnBackwardRows(dy, x, mean, rstd, gamma, dx, rows, cols, ws, false, true);
}
function lnBwd(dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  lnBackwardRows(dy, x, mean, rstd, gamma, dx, rows, cols, ws, false, false);
}

export function lnBackward(args: usize, r0: i32, r1: i32, part: i32): void {
  const cols = <i32>slot(args, COLS);
  const rowBytes = <usize>cols << 2;
  const rowOff = <usize>r0 * rowBytes;
  const dy = ptr(args, P0) + rowOff;
  const x = ptr(args, P0 + 1) + rowOff;
  const mean = ptr(args, P0 + 2) + (<usize>r0 << 2);
  const rstd = ptr(args, P0 + 3) + (<usize>r0 << 2);
  const gamma = ptr(args, P0 + 4);
  const dx = ptr(args, P0 + 5) + rowOff;
  const params = ptr(args, DGAMMA) != 0 || ptr(args, DBETA) != 0;
  const ws = ptr(args, WS) + <usize>part * ptr(args, WS_STRIDE);
  const rows = r1 - r0;
  // the next row chunk of one job (ACCUMULATE, src/backends/wasm/chunked.ts) adds to the sums the previous one left
  if (params && slot(args, ACCUMULATE) == 0) zeroBytes(ws, <usize>((cols + 3) & ~3) * WS_BYTES_PER_COL);
  if (gamma == 0) {
    if (params) lnBwdP(dy, x, mean, rstd, gamma, dx, rows, cols, ws);
    else lnBwd(dy, x, mean, rstd, gamma, dx, rows, cols, ws);
  } else {
    if (params) lnBwdGP(dy, x, mean, rstd, gamma, dx, rows, cols, ws);
    else lnBwdG(dy, x, mean, rstd, gamma, dx, rows, cols, ws);
  }
}
