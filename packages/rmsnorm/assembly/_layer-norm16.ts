// LayerNorm on 16-bit storage (binary16, bfloat16: job slot DTYPE), forward and backward, on one part (a contiguous
// row range) of a job: the scheme of _layer-norm.ts with x, y, dy and dx held as 16-bit patterns, decoded exactly to
// f32 and encoded with one round to nearest-even (_half.ts: 16 values per iteration, 16-byte loads and stores).
// gamma, beta, mean, rstd, dgamma and dbeta are f32. Formulas: src/backends/backend.ts (LayerNormKernelArgs).
//   forward:  the pipelined loop scales row r while summing row r + 1 as Σ(x − p) and Σ(x − p)² around a pivot p (the
//             f32 mean of its first 16 values); var = Σ(x − p)² − n(μ − p)² when (μ − p)² ≤ var/4, else two-pass
//             around the f64 mean; y = round(((x − hi) − lo)·rs·gamma + beta) with μ = hi + lo split into two f32s.
//   backward: sweep A sums Σu, Σu·(x − saved mean) (u = gamma·dy) in f32 blocks and Σx exactly in f64 (the saved
//             mean is f32-rounded: the exact mean is re-derived); sweep B writes dx = round((u − a − x̂·b)·rs) and
//             the f32 dgamma/dbeta block accumulators.
// Every sum is f32x4 blocks of 256 values flushed into f64, with an exact f64 rerun when out of the normal range;
// rows whose rstd is outside [2^-100, f32 max], whose sums are not finite, (backward) binary16 rows holding Inf/NaN,
// or (forward) calls with a non-finite gamma or beta take a scalar f64 path, as on the js backend. Binary16 values are below 65,520, so no f32 square or sum
// of a block overflows (a row of 4,096 × 60,000 is fine); bfloat16 rows near 3e38 take the exact reruns.
// One wasm function per (storage, gamma, beta) in the forward and (storage, gamma, parameter gradients) in the
// backward: a gain mode tested inside a shared loop made V8 spill the accumulators (docs/wasm.md).
import {
  ACCUMULATE, BLOCK, COLS, DBETA, DGAMMA, DT_BF16, DT_F16, DTYPE, EPS, P0, PARAM_BLOCK_ROWS, RS_MAX, RS_MIN_LN, TINY_SUM,
  WS, WS_BYTES_PER_COL, WS_STRIDE, hsum, ptr, slot,
} from './_job';
import {
  anyNaN8, bf16Hi, bf16Lo, F16_SCALE, f16HighToF32Finite, finite16, ld8, ld8Finite, load1, maxLanes16,
  scaledToF16, st8, st8NoNaN, store1, subnormals16,
} from './_half';
import { flushParams, zeroBytes } from './_params';
import { lnRowExact, lnScaleRowExact } from './_layer-norm';

@inline function f32At(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

@inline function promoteLo(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

@inline function promoteHi(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** Σ x_i over n 16-bit values in f64 (each decoded exactly and promoted): the mean of rows out of the f32 range. */
function sumExact16(p: usize, n: i32, dt: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = a0;
  let i: i32 = 0;
  for (; i + 8 <= n; i += 8) {
    const lo = ld8(p, i, dt, false);
    const hi = ld8(p, i, dt, true);
    a0 = f64x2.add(a0, f64x2.add(promoteLo(lo), promoteHi(lo)));
    a1 = f64x2.add(a1, f64x2.add(promoteLo(hi), promoteHi(hi)));
  }
  const s = f64x2.add(a0, a1);
  let total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) total += <f64>load1(p, i, dt);
  return total;
}

/** Σ (x_i − c)² in f64, every value promoted (rows whose f32 sums over- or underflowed, or hold NaN/Inf). */
function sumSquaresExact16(p: usize, n: i32, c: f64, dt: i32): f64 {
  let total: f64 = 0;
  for (let i: i32 = 0; i < n; i++) {
    const d = <f64>load1(p, i, dt) - c;
    total += d * d;
  }
  return total;
}

/** Σ ((x − hi) − lo)² (mean = hi + lo) in blocked f32 flushed into f64; exact f64 rerun out of the normal range. */
function sumSquaresCentred16(p: usize, n: i32, mean: f64, dt: i32): f64 {
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
      const d0 = f32x4.sub(f32x4.sub(ld8(p, i, dt, false), vh), vl);
      const d1 = f32x4.sub(f32x4.sub(ld8(p, i, dt, true), vh), vl);
      a0 = f32x4.add(a0, f32x4.mul(d0, d0));
      a1 = f32x4.add(a1, f32x4.mul(d1, d1));
    }
    total += hsum(f32x4.add(a0, a1));
  }
  for (; i < n; i++) {
    const d = <f64>load1(p, i, dt) - mean;
    total += d * d;
  }
  if (!(total >= TINY_SUM && total < f64.MAX_VALUE)) total = sumSquaresExact16(p, n, mean, dt);
  return total;
}

// Σ(x − pivot)² of the row summed by the last ln16ScaleAndMeanNext (f64, from f32 blocks), and its pivot; per
// instance, so per thread.
let shiftedSq: f64 = 0;
let shiftedPivot: f64 = 0;

/** The pivot of a row: the f32 mean of its first (up to) 16 values, so the row's mean is usually within σ/2 of it. */
function rowPivot16(xn: usize, cols: i32, dt: i32): f32 {
  const m = cols < 16 ? cols : 16;
  let s: f32 = 0;
  for (let j: i32 = 0; j < m; j++) s += load1(xn, j, dt);
  const p = s / <f32>m;
  return isFinite(p) ? p : load1(xn, 0, dt);
}

/**
 * y = round(((x − hi) − lo)·rs·gamma + beta) for values [i, i + 8) of a row whose sums were finite (so every x is
 * finite: the decode skips the binary16 Inf/NaN line) with finite gamma and beta (y is never NaN: no NaN select).
 * binary16 y is rounded from y·2^-112, the scaled domain of _half.ts (no subnormal branch).
 */
@inline function ln16Scale8(
  xr: usize, yr: usize, i: i32, vh: v128, vl: v128, vr: v128, gamma: usize, beta: usize, hasG: bool, hasB: bool,
  dt: i32,
): void {
  let v0 = f32x4.mul(f32x4.sub(f32x4.sub(ld8Finite(xr, i, dt, false), vh), vl), vr);
  let v1 = f32x4.mul(f32x4.sub(f32x4.sub(ld8Finite(xr, i, dt, true), vh), vl), vr);
  const o = <usize>i << 2;
  if (hasG) {
    v0 = f32x4.mul(v0, v128.load(gamma + o));
    v1 = f32x4.mul(v1, v128.load(gamma + o, 16));
  }
  if (hasB) {
    v0 = f32x4.add(v0, v128.load(beta + o));
    v1 = f32x4.add(v1, v128.load(beta + o, 16));
  }
  if (dt == DT_F16) {
    // encoded from the scaled domain (_half.ts): one rounding for normal and subnormal y, no subnormal branch
    const sc = f32x4.splat(F16_SCALE);
    v128.store(yr + (<usize>i << 1), i16x8.narrow_i32x4_u(scaledToF16(f32x4.mul(v0, sc)), scaledToF16(f32x4.mul(v1, sc))));
  } else {
    st8NoNaN(yr, i, v0, v1, dt);
  }
}

/**
 * The row pipeline: scale row r (xr → yr, when xr != 0) while summing row n = r + 1 (xn) as Σ(x − pivot) and
 * Σ(x − pivot)², 16 values per iteration; returns row n's f64 mean (exact f64 rerun when the f32 sums are not
 * finite) and leaves Σ(x − pivot)² in shiftedSq for ln16SumSq.
 */
@inline function ln16ScaleAndMeanNext(
  xr: usize, yr: usize, xn: usize, cols: i32, mu: f64, rs: f32, gamma: usize, beta: usize, hasG: bool, hasB: bool,
  dt: i32,
): f64 {
  const hi = <f32>mu;
  const lo = <f32>(mu - <f64>hi);
  const vh = f32x4.splat(hi);
  const vl = f32x4.splat(lo);
  const vr = f32x4.splat(rs);
  const pivot = rowPivot16(xn, cols, dt);
  const vp = f32x4.splat(pivot);
  let total: f64 = 0;
  let sq: f64 = 0;
  let mx = i16x8.splat(0); // binary16: the largest magnitude pattern summed (Inf/NaN: ≥ 0x7c00)
  let i: i32 = 0;
  const n16 = cols & ~15;
  while (i < n16) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let b0 = a0;
    let b1 = a0;
    const end = i + BLOCK < n16 ? i + BLOCK : n16;
    for (; i < end; i += 16) {
      let d0: v128;
      let d1: v128;
      let d2: v128;
      let d3: v128;
      if (dt == DT_F16) {
        // the decode without the Inf/NaN line; an Inf/NaN shows in the running maximum and voids the sums below
        const q = xn + (<usize>i << 1);
        const h0 = v128.load(q);
        const h1 = v128.load(q, 16);
        mx = i16x8.max_u(mx, i16x8.max_u(v128.and(h0, i16x8.splat(0x7fff)), v128.and(h1, i16x8.splat(0x7fff))));
        d0 = f32x4.sub(f16HighToF32Finite(bf16Lo(h0)), vp);
        d1 = f32x4.sub(f16HighToF32Finite(bf16Hi(h0)), vp);
        d2 = f32x4.sub(f16HighToF32Finite(bf16Lo(h1)), vp);
        d3 = f32x4.sub(f16HighToF32Finite(bf16Hi(h1)), vp);
      } else {
        d0 = f32x4.sub(ld8(xn, i, dt, false), vp);
        d1 = f32x4.sub(ld8(xn, i, dt, true), vp);
        d2 = f32x4.sub(ld8(xn, i + 8, dt, false), vp);
        d3 = f32x4.sub(ld8(xn, i + 8, dt, true), vp);
      }
      a0 = f32x4.add(a0, f32x4.add(d0, d2));
      a1 = f32x4.add(a1, f32x4.add(d1, d3));
      b0 = f32x4.add(b0, f32x4.add(f32x4.mul(d0, d0), f32x4.mul(d2, d2)));
      b1 = f32x4.add(b1, f32x4.add(f32x4.mul(d1, d1), f32x4.mul(d3, d3)));
      if (xr != 0) {
        ln16Scale8(xr, yr, i, vh, vl, vr, gamma, beta, hasG, hasB, dt);
        ln16Scale8(xr, yr, i + 8, vh, vl, vr, gamma, beta, hasG, hasB, dt);
      }
    }
    total += hsum(f32x4.add(a0, a1));
    sq += hsum(f32x4.add(b0, b1));
  }
  for (let j = n16; j < cols; j++) {
    const d = <f64>load1(xn, j, dt) - <f64>pivot;
    total += d;
    sq += d * d;
  }
  if (xr != 0) {
    let j = n16;
    for (; j + 8 <= cols; j += 8) ln16Scale8(xr, yr, j, vh, vl, vr, gamma, beta, hasG, hasB, dt);
    for (; j < cols; j++) {
      let v = (load1(xr, j, dt) - hi - lo) * rs;
      if (hasG) v *= load<f32>(f32At(gamma, j));
      if (hasB) v += load<f32>(f32At(beta, j));
      store1(yr, j, v, dt);
    }
  }
  if (dt == DT_F16 && i16x8.extract_lane_u(maxLanes16(mx), 0) >= 0x7c00) total = NaN;
  shiftedSq = sq;
  shiftedPivot = <f64>pivot;
  if (!isFinite(total)) {
    shiftedSq = NaN; // ln16SumSq takes the two-pass path
    return sumExact16(xn, cols, dt) / <f64>cols;
  }
  return <f64>pivot + total / <f64>cols;
}

/**
 * Σ(x − mean)² of row xr: from the shifted sums (Σ(x − p)² − n·(mean − p)²) when in the normal range and
 * (mean − p)² ≤ var/4 (the subtraction cancels at most a fifth: as accurate as a second pass), else two-pass.
 */
@inline function ln16SumSq(xr: usize, cols: i32, mu: f64, dt: i32): f64 {
  const n = <f64>cols;
  const m1 = mu - shiftedPivot;
  const ss = shiftedSq - n * m1 * m1;
  if (shiftedSq >= TINY_SUM && shiftedSq < f64.MAX_VALUE && 4 * n * m1 * m1 <= ss) return ss;
  return sumSquaresCentred16(xr, cols, mu, dt);
}


@inline function ln16ForwardRows(
  x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, rows: i32, cols: i32, eps: f64,
  paramsOk: bool, hasG: bool, hasB: bool, dt: i32,
): void {
  const rowBytes = <usize>cols << 1;
  let mu = ln16ScaleAndMeanNext(0, 0, x, cols, 0, 0, gamma, beta, hasG, hasB, dt);
  for (let r: i32 = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const rs64 = 1.0 / Math.sqrt(ln16SumSq(xr, cols, mu, dt) / <f64>cols + eps);
    const rs = <f32>rs64;
    store<f32>(f32At(mean, r), <f32>mu);
    store<f32>(f32At(rstd, r), rs);
    if (!(rs64 >= RS_MIN_LN && rs64 <= RS_MAX) || !paramsOk) {
      lnScaleRowExact(xr, yr, cols, mu, rs64, gamma, beta, dt);
      if (r + 1 < rows) mu = sumExact16(xr + rowBytes, cols, dt) / <f64>cols;
      shiftedSq = NaN; // no shifted sums for that row: two-pass
    } else if (r + 1 < rows) {
      mu = ln16ScaleAndMeanNext(xr, yr, xr + rowBytes, cols, mu, rs, gamma, beta, hasG, hasB, dt);
    } else {
      // last row: scale only (the sums of the row itself are discarded; x is read before y is written, y may be x)
      ln16ScaleAndMeanNext(xr, yr, xr, cols, mu, rs, gamma, beta, hasG, hasB, dt);
    }
  }
}

// One wasm function per (storage, gamma, beta).
function lnFwdF16(x: usize, g: usize, b: usize, y: usize, m: usize, rs: usize, rows: i32, cols: i32, eps: f64, ok: bool): void {
  ln16ForwardRows(x, g, b, y, m, rs, rows, cols, eps, ok, false, false, DT_F16);
}
function lnFwdF16G(x: usize, g: usize, b: usize, y: usize, m: usize, rs: usize, rows: i32, cols: i32, eps: f64, ok: bool): void {
  ln16ForwardRows(x, g, b, y, m, rs, rows, cols, eps, ok, true, false, DT_F16);
}
function lnFwdF16B(x: usize, g: usize, b: usize, y: usize, m: usize, rs: usize, rows: i32, cols: i32, eps: f64, ok: bool): void {
  ln16ForwardRows(x, g, b, y, m, rs, rows, cols, eps, ok, false, true, DT_F16);
}
function lnFwdF16GB(x: usize, g: usize, b: usize, y: usize, m: usize, rs: usize, rows: i32, cols: i32, eps: f64, ok: bool): void {
  ln16ForwardRows(x, g, b, y, m, rs, rows, cols, eps, ok, true, true, DT_F16);
}
function lnFwdBf16(x: usize, g: usize, b: usize, y: usize, m: usize, rs: usize, rows: i32, cols: i32, eps: f64, ok: bool): void {
  ln16ForwardRows(x, g, b, y, m, rs, rows, cols, eps, ok, false, false, DT_BF16);
}
function lnFwdBf16G(x: usize, g: usize, b: usize, y: usize, m: usize, rs: usize, rows: i32, cols: i32, eps: f64, ok: bool): void {
  ln16ForwardRows(x, g, b, y, m, rs, rows, cols, eps, ok, true, false, DT_BF16);
}
function lnFwdBf16B(x: usize, g: usize, b: usize, y: usize, m: usize, rs: usize, rows: i32, cols: i32, eps: f64, ok: bool): void {
  ln16ForwardRows(x, g, b, y, m, rs, rows, cols, eps, ok, false, true, DT_BF16);
}
function lnFwdBf16GB(x: usize, g: usize, b: usize, y: usize, m: usize, rs: usize, rows: i32, cols: i32, eps: f64, ok: bool): void {
  ln16ForwardRows(x, g, b, y, m, rs, rows, cols, eps, ok, true, true, DT_BF16);
}

/** gamma and beta all finite (absent ones count as finite): then a fast-path row's y is never NaN. */
function paramsFinite16(gamma: usize, beta: usize, cols: i32): bool {
  let bad = f32x4.splat(0);
  let i: i32 = 0;
  // w − w is 0 for finite w, NaN for ±Inf and NaN; the NaN survives the adds
  for (; i + 4 <= cols; i += 4) {
    const o = <usize>i << 2;
    if (gamma != 0) {
      const w = v128.load(gamma + o);
      bad = f32x4.add(bad, f32x4.sub(w, w));
    }
    if (beta != 0) {
      const w = v128.load(beta + o);
      bad = f32x4.add(bad, f32x4.sub(w, w));
    }
  }
  let ok = !anyNaN8(bad, bad);
  for (; i < cols; i++) {
    if (gamma != 0 && !isFinite(load<f32>(f32At(gamma, i)))) ok = false;
    if (beta != 0 && !isFinite(load<f32>(f32At(beta, i)))) ok = false;
  }
  return ok;
}

export function lnForward16(args: usize, r0: i32, r1: i32): void {
  if (r1 <= r0) return; // the pipeline reads its first row before the loop
  const dt = <i32>slot(args, DTYPE);
  const cols = <i32>slot(args, COLS);
  const eps = slot(args, EPS);
  const rowOff = <usize>r0 * (<usize>cols << 1);
  const x = ptr(args, P0) + rowOff;
  const g = ptr(args, P0 + 1);
  const b = ptr(args, P0 + 2);
  const y = ptr(args, P0 + 3) + rowOff;
  const m = ptr(args, P0 + 4) + (<usize>r0 << 2);
  const rs = ptr(args, P0 + 5) + (<usize>r0 << 2);
  const rows = r1 - r0;
  const ok = paramsFinite16(g, b, cols);
  if (dt == DT_F16) {
    if (g == 0 && b == 0) lnFwdF16(x, g, b, y, m, rs, rows, cols, eps, ok);
    else if (b == 0) lnFwdF16G(x, g, b, y, m, rs, rows, cols, eps, ok);
    else if (g == 0) lnFwdF16B(x, g, b, y, m, rs, rows, cols, eps, ok);
    else lnFwdF16GB(x, g, b, y, m, rs, rows, cols, eps, ok);
  } else {
    if (g == 0 && b == 0) lnFwdBf16(x, g, b, y, m, rs, rows, cols, eps, ok);
    else if (b == 0) lnFwdBf16G(x, g, b, y, m, rs, rows, cols, eps, ok);
    else if (g == 0) lnFwdBf16B(x, g, b, y, m, rs, rows, cols, eps, ok);
    else lnFwdBf16GB(x, g, b, y, m, rs, rows, cols, eps, ok);
  }
}

// ---------------------------------------------------------------- backward
// Σx and Σu·(x − saved) of the last ln16SweepA (its return value is Σu); per instance, so per thread.
let sumX: f64 = 0;
let sumUXm: f64 = 0;

/** Sweep A of one row, 16 values per iteration: Σu, Σu·(x − saved) in f32 blocks flushed into f64, Σx in f64. */
@inline function ln16SweepA(
  dyr: usize, xr: usize, gamma: usize, cols: i32, mu: f32, hasG: bool, dt: i32, sub: bool,
): f64 {
  const vm = f32x4.splat(mu);
  let tU: f64 = 0;
  let tUX: f64 = 0;
  const n16 = cols & ~15;
  let ax0 = f64x2.splat(0);
  let ax1 = ax0;
  let i: i32 = 0;
  while (i < n16) {
    let au = f32x4.splat(0);
    let aux = au;
    const end = i + BLOCK < n16 ? i + BLOCK : n16;
    for (; i < end; i += 16) {
      let u0 = ld8Finite(dyr, i, dt, false, sub);
      let u1 = ld8Finite(dyr, i, dt, true, sub);
      let u2 = ld8Finite(dyr, i + 8, dt, false, sub);
      let u3 = ld8Finite(dyr, i + 8, dt, true, sub);
      if (hasG) {
        const o = <usize>i << 2;
        u0 = f32x4.mul(u0, v128.load(gamma + o));
        u1 = f32x4.mul(u1, v128.load(gamma + o, 16));
        u2 = f32x4.mul(u2, v128.load(gamma + o, 32));
        u3 = f32x4.mul(u3, v128.load(gamma + o, 48));
      }
      const x0 = ld8Finite(xr, i, dt, false);
      const x1 = ld8Finite(xr, i, dt, true);
      const x2 = ld8Finite(xr, i + 8, dt, false);
      const x3 = ld8Finite(xr, i + 8, dt, true);
      au = f32x4.add(au, f32x4.add(f32x4.add(u0, u1), f32x4.add(u2, u3)));
      // Σx exactly in f64 (every value promoted): it sets the mean shift (f32 sums of x − saved are biased)
      ax0 = f64x2.add(ax0, f64x2.add(promoteLo(x0), promoteHi(x0)));
      ax1 = f64x2.add(ax1, f64x2.add(promoteLo(x1), promoteHi(x1)));
      ax0 = f64x2.add(ax0, f64x2.add(promoteLo(x2), promoteHi(x2)));
      ax1 = f64x2.add(ax1, f64x2.add(promoteLo(x3), promoteHi(x3)));
      const p0 = f32x4.add(f32x4.mul(u0, f32x4.sub(x0, vm)), f32x4.mul(u1, f32x4.sub(x1, vm)));
      const p1 = f32x4.add(f32x4.mul(u2, f32x4.sub(x2, vm)), f32x4.mul(u3, f32x4.sub(x3, vm)));
      aux = f32x4.add(aux, f32x4.add(p0, p1));
    }
    tU += hsum(au);
    tUX += hsum(aux);
  }
  const sx = f64x2.add(ax0, ax1);
  let tX = f64x2.extract_lane(sx, 0) + f64x2.extract_lane(sx, 1);
  for (; i < cols; i++) {
    let u = load1(dyr, i, dt);
    if (hasG) u *= load<f32>(f32At(gamma, i));
    const xv = <f64>load1(xr, i, dt);
    tU += <f64>u;
    tUX += <f64>u * (xv - <f64>mu);
    tX += xv;
  }
  sumX = tX;
  sumUXm = tUX;
  return tU;
}

/**
 * dx = round((u − a − x̂·b)·rs) for values [i, i + 8) (x̂ = ((x − saved) − shift)·rs) and, with params, dy·x̂ and dy
 * into the f32 block accumulators. The row's sums were finite, so dy and x are (no Inf/NaN decode line); dy is read
 * before dx is written (dx may be dy). sub: binary16 gradients in the subnormal range, dy decoded by ld8Finite's
 * sub path (the call part's pick, lnBackward16).
 */
@inline function ln16Dx8(
  dyr: usize, xr: usize, dxr: usize, gamma: usize, accG: usize, accB: usize, i: i32,
  vm: v128, vs: v128, vr: v128, va: v128, vb: v128, hasG: bool, params: bool, dt: i32, sub: bool,
): void {
  const o = <usize>i << 2;
  const d0 = ld8Finite(dyr, i, dt, false, sub);
  const d1 = ld8Finite(dyr, i, dt, true, sub);
  const h0 = f32x4.mul(f32x4.sub(f32x4.sub(ld8Finite(xr, i, dt, false), vm), vs), vr);
  const h1 = f32x4.mul(f32x4.sub(f32x4.sub(ld8Finite(xr, i, dt, true), vm), vs), vr);
  const u0 = hasG ? f32x4.mul(d0, v128.load(gamma + o)) : d0;
  const u1 = hasG ? f32x4.mul(d1, v128.load(gamma + o, 16)) : d1;
  const v0 = f32x4.mul(f32x4.sub(f32x4.sub(u0, va), f32x4.mul(h0, vb)), vr);
  const v1 = f32x4.mul(f32x4.sub(f32x4.sub(u1, va), f32x4.mul(h1, vb)), vr);
  // NaN only where f32 intermediates overflowed (Inf − Inf): the NaN-keeping encode only for such a chunk
  if (!anyNaN8(v0, v1)) st8NoNaN(dxr, i, v0, v1, dt);
  else st8(dxr, i, v0, v1, dt);
  if (params) {
    v128.store(accG + o, f32x4.add(v128.load(accG + o), f32x4.mul(d0, h0)));
    v128.store(accG + o, f32x4.add(v128.load(accG + o, 16), f32x4.mul(d1, h1)), 16);
    v128.store(accB + o, f32x4.add(v128.load(accB + o), d0));
    v128.store(accB + o, f32x4.add(v128.load(accB + o, 16), d1), 16);
  }
}

@inline function ln16SweepB(
  dyr: usize, xr: usize, dxr: usize, gamma: usize, accG: usize, accB: usize, cols: i32,
  mu: f32, shift: f32, rs: f32, a: f32, b: f32, hasG: bool, params: bool, dt: i32, sub: bool,
): void {
  const vm = f32x4.splat(mu);
  const vs = f32x4.splat(shift);
  const vr = f32x4.splat(rs);
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  let i: i32 = 0;
  for (; i + 16 <= cols; i += 16) {
    ln16Dx8(dyr, xr, dxr, gamma, accG, accB, i, vm, vs, vr, va, vb, hasG, params, dt, sub);
    ln16Dx8(dyr, xr, dxr, gamma, accG, accB, i + 8, vm, vs, vr, va, vb, hasG, params, dt, sub);
  }
  for (; i + 8 <= cols; i += 8) ln16Dx8(dyr, xr, dxr, gamma, accG, accB, i, vm, vs, vr, va, vb, hasG, params, dt, sub);
  for (; i < cols; i++) {
    const o = <usize>i << 2;
    const d = load1(dyr, i, dt);
    const h = (load1(xr, i, dt) - mu - shift) * rs;
    const u = hasG ? d * load<f32>(gamma + o) : d;
    store1(dxr, i, (u - a - h * b) * rs, dt);
    if (params) {
      store<f32>(accG + o, load<f32>(accG + o) + d * h);
      store<f32>(accB + o, load<f32>(accB + o) + d);
    }
  }
}


@inline function ln16BackwardRows(
  dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, ws: usize,
  hasG: bool, params: bool, dt: i32, sub: bool,
): void {
  const rowBytes = <usize>cols << 1;
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
    const rs = load<f32>(f32At(rstd, r));
    const mu = load<f32>(f32At(mean, r));
    // binary16 rows holding Inf/NaN (their sums would not be finite either) go straight to the f64 row path, so
    // both sweeps decode without the Inf/NaN line
    let exact = !(<f64>rs >= RS_MIN_LN && <f64>rs <= RS_MAX) || (dt == DT_F16 && !finite16(dyr, xr, 0, cols, false));
    if (!exact) {
      const sumU = ln16SweepA(dyr, xr, g, cols, mu, hasG, dt, sub);
      const shift = sumX / n - <f64>mu; // exact mean − saved mean
      const r64 = <f64>rs;
      const a = sumU / n;
      const b = (r64 * (sumUXm - shift * sumU)) / n;
      // f32 a, b, shift: finite as f32 too (a finite f64 beyond f32 range would round to Inf)
      exact = !(Math.abs(a) < RS_MAX && Math.abs(b) < RS_MAX && Math.abs(shift) < RS_MAX);
      if (!exact) ln16SweepB(dyr, xr, dxr, g, accG, accB, cols, mu, <f32>shift, rs, <f32>a, <f32>b, hasG, params, dt, sub);
    }
    if (exact) lnRowExact(dyr, xr, dxr, g, cols, mu, rs, sumG, sumB, params, dt);
    if (params && ++sinceFlush >= PARAM_BLOCK_ROWS) {
      flushParams(ws, cols);
      sinceFlush = 0;
    }
  }
  if (params) flushParams(ws, cols);
}

// One wasm function per (storage, gamma, parameter gradients).
function lnBwdF16(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, false, false, DT_F16, false);
}
function lnBwdF16G(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, true, false, DT_F16, false);
}
function lnBwdF16P(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, false, true, DT_F16, false);
}
function lnBwdF16GP(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, true, true, DT_F16, false);
}
// binary16 gradients in the subnormal range (most of a row): dy decoded without f32 subnormal arithmetic (ld8Finite's sub decode)
function lnBwdF16s(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, false, false, DT_F16, true);
}
function lnBwdF16Gs(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, true, false, DT_F16, true);
}
function lnBwdF16Ps(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, false, true, DT_F16, true);
}
function lnBwdF16GPs(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, true, true, DT_F16, true);
}
function lnBwdBf16(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, false, false, DT_BF16, false);
}
function lnBwdBf16G(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, true, false, DT_BF16, false);
}
function lnBwdBf16P(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, false, true, DT_BF16, false);
}
function lnBwdBf16GP(dy: usize, x: usize, m: usize, rs: usize, g: usize, dx: usize, rows: i32, cols: i32, ws: usize): void {
  ln16BackwardRows(dy, x, m, rs, g, dx, rows, cols, ws, true, true, DT_BF16, false);
}

export function lnBackward16(args: usize, r0: i32, r1: i32, part: i32): void {
  const dt = <i32>slot(args, DTYPE);
  const cols = <i32>slot(args, COLS);
  const rowOff = <usize>r0 * (<usize>cols << 1);
  const dy = ptr(args, P0) + rowOff;
  const x = ptr(args, P0 + 1) + rowOff;
  const m = ptr(args, P0 + 2) + (<usize>r0 << 2);
  const rs = ptr(args, P0 + 3) + (<usize>r0 << 2);
  const g = ptr(args, P0 + 4);
  const dx = ptr(args, P0 + 5) + rowOff;
  const params = ptr(args, DGAMMA) != 0 || ptr(args, DBETA) != 0;
  const ws = ptr(args, WS) + <usize>part * ptr(args, WS_STRIDE);
  const rows = r1 - r0;
  // an empty part still zeroes its workspace: reduceParams adds every part's sums
  // the next row chunk of one job (ACCUMULATE, src/backends/wasm/chunked.ts) adds to the sums the previous one left
  if (params && slot(args, ACCUMULATE) == 0) zeroBytes(ws, <usize>((cols + 3) & ~3) * WS_BYTES_PER_COL);
  if (rows <= 0) return;
  // gradients are alike in scale across rows: the first row's dy picks the binary16 decode for the part (a wrong
  // pick costs time only: both decodes are exact). More than 1 in 64 subnormal: the sub decode of ld8Finite.
  if (dt == DT_F16 && subnormals16(dy, cols) * 64 > cols) {
    if (g == 0) {
      if (params) lnBwdF16Ps(dy, x, m, rs, g, dx, rows, cols, ws);
      else lnBwdF16s(dy, x, m, rs, g, dx, rows, cols, ws);
    } else {
      if (params) lnBwdF16GPs(dy, x, m, rs, g, dx, rows, cols, ws);
      else lnBwdF16Gs(dy, x, m, rs, g, dx, rows, cols, ws);
    }
  } else if (dt == DT_F16) {
    if (g == 0) {
      if (params) lnBwdF16P(dy, x, m, rs, g, dx, rows, cols, ws);
      else lnBwdF16(dy, x, m, rs, g, dx, rows, cols, ws);
    } else {
      if (params) lnBwdF16GP(dy, x, m, rs, g, dx, rows, cols, ws);
      else lnBwdF16G(dy, x, m, rs, g, dx, rows, cols, ws);
    }
  } else {
    if (g == 0) {
      if (params) lnBwdBf16P(dy, x, m, rs, g, dx, rows, cols, ws);
      else lnBwdBf16(dy, x, m, rs, g, dx, rows, cols, ws);
    } else {
      if (params) lnBwdBf16GP(dy, x, m, rs, g, dx, rows, cols, ws);
      else lnBwdBf16G(dy, x, m, rs, g, dx, rows, cols, ws);
    }
  }
}
