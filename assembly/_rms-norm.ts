// RMS family kernels (RMSNorm, pRMSNorm with k < cols, L2-Norm with divisor 1), forward and backward, on one part
// (a contiguous row range) of a job. Formulas: src/backends/backend.ts (RmsNormKernelArgs), docs/math.md.
import {
  BLOCK, COLS, DBETA, DGAMMA, DIVISOR, EPS, EPS_OUTSIDE, GAMMA_OFFSET, K, P0, PARAM_BLOCK_ROWS, TINY_SUM, WS,
  WS_STRIDE, WS_BYTES_PER_COL, at, hsum, ptr, slot,
} from './_job';
import { sumSquares, sumSquaresExact } from './_reduce';
import { flushParams, zeroBytes } from './_params';

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
  const n8 = n16;
  for (let j = n16; j < k; j++) {
    const v = <f64>load<f32>(at(xn, j));
    total += v * v;
  }
  scaleRange(xr, yr, n8, cols, rs, gamma, beta, goff, hasG, hasB, hasOff);
  if (!(total >= TINY_SUM && total < f64.MAX_VALUE)) total = sumSquaresExact(xn, k, 0);
  return total;
}

@inline export function rmsRstd(ss: f64, divisor: f64, eps: f64, epsOutside: bool): f64 {
  const ms = ss / divisor;
  return epsOutside ? 1.0 / (Math.sqrt(ms) + eps) : 1.0 / Math.sqrt(ms + eps);
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
    const rs = <f32>rmsRstd(ss, divisor, eps, epsOutside);
    store<f32>(at(rstd, r), rs);
    if (r + 1 < rows) ss = scaleAndReduceNext(xr, yr, xr + rowBytes, cols, k, rs, gamma, beta, goff, hasG, hasB, hasOff);
    else scaleRange(xr, yr, 0, cols, rs, gamma, beta, goff, hasG, hasB, hasOff);
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

// ---------------------------------------------------------------- backward

/**
 * Σ u_i·x̂_i over a row (u = (goff + gamma)·dy, x̂ = x·rs) as rs·Σ u_i·x_i: blocked f32 into f64, rerun exactly in
 * f64 when the f32 sum is not finite (|u·x| beyond f32 range). rs multiplies once, in f64, at the end.
 */
@inline export function dotUXhat(dyr: usize, xr: usize, gamma: usize, cols: i32, rs: f32, goff: f32, hasG: bool): f64 {
  const vo = f32x4.splat(goff);
  let total: f64 = 0;
  let i: i32 = 0;
  const n16 = cols & ~15;
  while (i < n16) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    const end = i + BLOCK < n16 ? i + BLOCK : n16;
    for (; i < end; i += 16) {
      let u0 = v128.load(at(dyr, i));
      let u1 = v128.load(at(dyr, i), 16);
      let u2 = v128.load(at(dyr, i), 32);
      let u3 = v128.load(at(dyr, i), 48);
      if (hasG) {
        u0 = f32x4.mul(u0, f32x4.add(vo, v128.load(at(gamma, i))));
        u1 = f32x4.mul(u1, f32x4.add(vo, v128.load(at(gamma, i), 16)));
        u2 = f32x4.mul(u2, f32x4.add(vo, v128.load(at(gamma, i), 32)));
        u3 = f32x4.mul(u3, f32x4.add(vo, v128.load(at(gamma, i), 48)));
      }
      a0 = f32x4.add(a0, f32x4.mul(u0, v128.load(at(xr, i))));
      a1 = f32x4.add(a1, f32x4.mul(u1, v128.load(at(xr, i), 16)));
      a2 = f32x4.add(a2, f32x4.mul(u2, v128.load(at(xr, i), 32)));
      a3 = f32x4.add(a3, f32x4.mul(u3, v128.load(at(xr, i), 48)));
    }
    total += hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  }
  for (; i < cols; i++) {
    let u = <f64>load<f32>(at(dyr, i));
    if (hasG) u *= <f64>(goff + load<f32>(at(gamma, i)));
    total += u * <f64>load<f32>(at(xr, i));
  }
  if (!isFinite(total)) {
    total = 0;
    for (let j: i32 = 0; j < cols; j++) {
      let u = <f64>load<f32>(at(dyr, j));
      if (hasG) u *= <f64>(goff + load<f32>(at(gamma, j)));
      total += u * <f64>load<f32>(at(xr, j));
    }
  }
  return total * <f64>rs;
}

/** A row with eps outside and RMS = 0: the correction is dropped (subgradient), dx = u·rs (scalar, rare). */
export function gradDegenerate(
  dyr: usize, xr: usize, dxr: usize, gamma: usize, cols: i32, rs: f32, goff: f32, accG: usize, accB: usize,
  params: bool,
): void {
  for (let j: i32 = 0; j < cols; j++) {
    const d = load<f32>(at(dyr, j));
    const xh = load<f32>(at(xr, j)) * rs;
    const u = gamma != 0 ? d * (goff + load<f32>(at(gamma, j))) : d;
    store<f32>(at(dxr, j), u * rs);
    if (params) {
      store<f32>(at(accG, j), load<f32>(at(accG, j)) + d * xh);
      store<f32>(at(accB, j), load<f32>(at(accB, j)) + d);
    }
  }
}

/** Σ u_i·x_i exactly in f64 (u = (goff + gamma)·dy): the rerun for a row whose f32 dot product is not finite. */
export function dotExact(dyr: usize, xr: usize, gamma: usize, cols: i32, goff: f32, hasG: bool): f64 {
  let total: f64 = 0;
  for (let j: i32 = 0; j < cols; j++) {
    let u = <f64>load<f32>(at(dyr, j));
    if (hasG) u *= <f64>(goff + load<f32>(at(gamma, j)));
    total += u * <f64>load<f32>(at(xr, j));
  }
  return total;
}

// The pipelined backward, one row at a time as the forward: the loop that writes row r's dx (dx = rs·u − cc·x̂ for
// j < k, rs·u beyond; and the dgamma/dbeta f32 block accumulators; row r re-read from L1) also runs pass 1 of row r+1
// (Σ u·x over all cols, and Σ x² over i < k when eps is outside), so the read streams of the new row and the dx write
// stream are in flight together, as in a triad. One row per loop keeps every value in a register (4-row groups made
// TurboFan spill in the inner loops). A row is split at k into two column segments, each its own SIMD loop + tail.

// Σ x_i² (i < k) of the next row from the last rowStep with sq (a second result; per instance, so per thread).
let stepSq: f64 = 0;
// Set by rowCc with eps outside: the row's ρ is 0 (dx = u·rs by gradDegenerate; x̂·0 would be NaN when rs = ∞).
let rowDegenerate: bool = false;

/**
 * One pipelined step over columns [c0, c1): pass 2 of the current row (when cur; the correction −cc·x̂ when corr)
 * and pass 1 of the next row (returns its Σ u·x with the blocked-f32/f64 scheme of dotUXhat: 2 accumulators × 4
 * lanes × 16 terms per 128 floats, then f64; when sq, Σ x² likewise into stepSq).
 */
@inline export function rowStep(
  dyr: usize, xr: usize, dxr: usize, dyn: usize, xn: usize, gamma: usize, accG: usize, accB: usize, c0: i32, c1: i32,
  rs: f32, cc: f32, goff: f32, hasG: bool, hasOff: bool, params: bool, wantB: bool, corr: bool, sq: bool,
): f64 {
  const vr = f32x4.splat(rs);
  const vc = f32x4.splat(cc);
  const vo = f32x4.splat(goff);
  let total: f64 = 0;
  let total2: f64 = 0;
  let i: i32 = c0;
  const n8 = c0 + ((c1 - c0) & ~7);
  while (i < n8) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let s0 = a0;
    let s1 = a0;
    const end = i + 128 < n8 ? i + 128 : n8;
    for (; i < end; i += 8) {
      const o = <usize>i << 2;
      let g0 = vr;
      let g1 = vr;
      if (hasG) {
        g0 = hasOff ? f32x4.add(vo, v128.load(gamma + o)) : v128.load(gamma + o);
        g1 = hasOff ? f32x4.add(vo, v128.load(gamma + o, 16)) : v128.load(gamma + o, 16);
      }
      // every load before any store: rows 4 KiB apart would make a load wait on a store (4K aliasing)
      const d0 = v128.load(dyr + o);
      const d1 = v128.load(dyr + o, 16);
      const x0 = v128.load(xr + o);
      const x1 = v128.load(xr + o, 16);
      const e0 = v128.load(dyn + o);
      const e1 = v128.load(dyn + o, 16);
      const y0 = v128.load(xn + o);
      const y1 = v128.load(xn + o, 16);
      a0 = f32x4.add(a0, f32x4.mul(hasG ? f32x4.mul(e0, g0) : e0, y0));
      a1 = f32x4.add(a1, f32x4.mul(hasG ? f32x4.mul(e1, g1) : e1, y1));
      if (sq) {
        s0 = f32x4.add(s0, f32x4.mul(y0, y0));
        s1 = f32x4.add(s1, f32x4.mul(y1, y1));
      }
      // x̂ first: x·rs stays in range for |x| up to 1e±30 where x·w or dy·x would not
      const h0 = f32x4.mul(x0, vr);
      const h1 = f32x4.mul(x1, vr);
      if (params) {
        const q0 = f32x4.add(v128.load(accG + o), f32x4.mul(d0, h0));
        const q1 = f32x4.add(v128.load(accG + o, 16), f32x4.mul(d1, h1));
        if (wantB) {
          const b0 = f32x4.add(v128.load(accB + o), d0);
          const b1 = f32x4.add(v128.load(accB + o, 16), d1);
          v128.store(accB + o, b0);
          v128.store(accB + o, b1, 16);
        }
        v128.store(accG + o, q0);
        v128.store(accG + o, q1, 16);
      }
      let r0 = f32x4.mul(hasG ? f32x4.mul(d0, g0) : d0, vr);
      let r1 = f32x4.mul(hasG ? f32x4.mul(d1, g1) : d1, vr);
      if (corr) {
        r0 = f32x4.sub(r0, f32x4.mul(h0, vc));
        r1 = f32x4.sub(r1, f32x4.mul(h1, vc));
      }
      v128.store(dxr + o, r0);
      v128.store(dxr + o, r1, 16);
    }
    total += hsum(f32x4.add(a0, a1));
    if (sq) total2 += hsum(f32x4.add(s0, s1));
  }
  for (; i < c1; i++) {
    const o = <usize>i << 2;
    const g = goff + (hasG ? load<f32>(gamma + o) : 0);
    const d = load<f32>(dyr + o);
    const xv = load<f32>(xr + o);
    const e = load<f32>(dyn + o);
    const y = <f64>load<f32>(xn + o);
    total += <f64>(hasG ? e * g : e) * y;
    if (sq) total2 += y * y;
    const h = xv * rs;
    if (params) {
      store<f32>(accG + o, load<f32>(accG + o) + d * h);
      if (wantB) store<f32>(accB + o, load<f32>(accB + o) + d);
    }
    store<f32>(dxr + o, corr ? (hasG ? d * g : d) * rs - h * cc : (hasG ? d * g : d) * rs);
  }
  if (sq) stepSq = total2;
  return total;
}

/**
 * cc for the row at (dyr, xr) from its Σ u·x (total; exact f64 rerun when not finite) and, eps outside, Σ_{i<k} x²
 * (ss; exact rerun outside the normal range): rs·(rs·Σu·x)/divisor (eps inside) or rs·Σu·x/(divisor·ρ) with
 * ρ = sqrt(ss/divisor), 0 when ρ = 0 (the subgradient of gradDegenerate).
 */
@inline export function rowCc(
  total: f64, ss: f64, dyr: usize, xr: usize, gamma: usize, cols: i32, k: i32, divisor: f64, rs: f32, goff: f32,
  hasG: bool, epsOutside: bool,
): f32 {
  const r = <f64>rs;
  if (epsOutside) {
    if (!(ss >= TINY_SUM && ss < f64.MAX_VALUE)) ss = sumSquaresExact(xr, k, 0);
    const rho = Math.sqrt(ss / divisor);
    rowDegenerate = rho == 0;
    if (rowDegenerate) return 0;
    if (!isFinite(total)) total = dotExact(dyr, xr, gamma, cols, goff, hasG);
    return <f32>((r * total) / (divisor * rho));
  }
  if (!isFinite(total)) total = dotExact(dyr, xr, gamma, cols, goff, hasG);
  return <f32>((r * (total * r)) / divisor);
}

/**
 * Pass 2 of the current row and pass 1 of the next over a whole row: columns [0, k) with the correction (and Σ x²
 * when epsOutside), then [k, cols) without.
 */
@inline export function rowPair(
  dyr: usize, xr: usize, dxr: usize, dyn: usize, xn: usize, gamma: usize, accG: usize, accB: usize, cols: i32, k: i32,
  rs: f32, cc: f32, goff: f32, hasG: bool, hasOff: bool, params: bool, wantB: bool, epsOutside: bool,
): f64 {
  let t = rowStep(dyr, xr, dxr, dyn, xn, gamma, accG, accB, 0, k, rs, cc, goff, hasG, hasOff, params, wantB, true, epsOutside);
  if (k < cols) {
    t += rowStep(dyr, xr, dxr, dyn, xn, gamma, accG, accB, k, cols, rs, cc, goff, hasG, hasOff, params, wantB, false, false);
  }
  return t;
}

@inline export function rmsBackwardPipelined(
  dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32,
  ws: usize, hasG: bool, hasOff: bool, params: bool, wantB: bool, epsOutside: bool,
): void {
  const rowBytes = <usize>cols << 2;
  const c4 = (cols + 3) & ~3;
  const accG = ws + (<usize>c4 << 4);
  const accB = accG + (<usize>c4 << 2);
  let rs = load<f32>(rstd);
  // row 0's pass 1 alone (dotUXhat with rs = 1 returns Σ u·x, already rerun exactly when not finite)
  let t = dotUXhat(dy, x, gamma, cols, 1, goff, hasG);
  let cc = rowCc(t, epsOutside ? sumSquares(x, k) : 0, dy, x, gamma, cols, k, divisor, rs, goff, hasG, epsOutside);
  let sinceFlush: i32 = 0;
  for (let r: i32 = 0; r < rows; r++) {
    const o = <usize>r * rowBytes;
    // the last row "reads ahead" its own row again (L1-resident, result unused) so one loop body serves every row;
    // the loads of a position precede its dx store, so dx may alias dy
    const last = r + 1 >= rows;
    const n = last ? o : o + rowBytes;
    if (params && sinceFlush >= PARAM_BLOCK_ROWS) {
      flushParams(ws, cols, wantB);
      sinceFlush = 0;
    }
    const rsn = load<f32>(at(rstd, last ? r : r + 1));
    let ss: f64 = 0;
    if (epsOutside && rowDegenerate) {
      // rare: this row unpipelined, then the next row's pass 1 alone
      gradDegenerate(dy + o, x + o, dx + o, gamma, cols, rs, goff, accG, accB, params);
      sinceFlush++;
      if (last) break;
      t = dotUXhat(dy + n, x + n, gamma, cols, 1, goff, hasG);
      ss = sumSquares(x + n, k);
    } else {
      t = rowPair(dy + o, x + o, dx + o, dy + n, x + n, gamma, accG, accB, cols, k, rs, cc, goff, hasG, hasOff, params, wantB, epsOutside);
      sinceFlush++;
      if (last) break;
      ss = stepSq;
    }
    rs = rsn;
    cc = rowCc(t, ss, dy + n, x + n, gamma, cols, k, divisor, rs, goff, hasG, epsOutside);
  }
  if (params) flushParams(ws, cols, wantB);
}

// (The previous two-pass path over 4-row groups, still used by LayerNorm, ran pRMSNorm and eps outside ≈ 40 % slower
// at 4096×512: its dx write stream and the next rows' read streams did not overlap.)
@inline export function rmsBackwardRows(
  dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64,
  epsOutside: bool, goff: f32, ws: usize, hasG: bool, hasOff: bool, params: bool, wantB: bool,
): void {
  if (rows < 1) return; // the pipeline reads its first row before the loop; the zeroed sums stand
  if (epsOutside) rmsBackwardPipelined(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, ws, hasG, hasOff, params, wantB, true);
  else rmsBackwardPipelined(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, ws, hasG, hasOff, params, wantB, false);
}

export function rmsBackward(args: usize, r0: i32, r1: i32, part: i32): void {
  const cols = <i32>slot(args, COLS);
  const k = <i32>slot(args, K);
  const divisor = slot(args, DIVISOR);
  const epsOutside = slot(args, EPS_OUTSIDE) != 0;
  const goff = <f32>slot(args, GAMMA_OFFSET);
  const rowOff = <usize>r0 * (<usize>cols << 2);
  const dy = ptr(args, P0) + rowOff;
  const x = ptr(args, P0 + 1) + rowOff;
  const rstd = ptr(args, P0 + 2) + (<usize>r0 << 2);
  const gamma = ptr(args, P0 + 3);
  const dx = ptr(args, P0 + 4) + rowOff;
  const params = ptr(args, DGAMMA) != 0 || ptr(args, DBETA) != 0;
  const ws = ptr(args, WS) + <usize>part * ptr(args, WS_STRIDE);
  const rows = r1 - r0;
  if (params) zeroBytes(ws, <usize>((cols + 3) & ~3) * WS_BYTES_PER_COL);
  const wantB = ptr(args, DBETA) != 0;
  // dbeta's f32 block accumulator is only read and written when dbeta is wanted (RMSNorm rarely has a bias).
  if (gamma == 0) {
    if (wantB) rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, epsOutside, goff, ws, false, false, true, true);
    else if (params) rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, epsOutside, goff, ws, false, false, true, false);
    else rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, epsOutside, goff, ws, false, false, false, false);
  } else if (goff == 0) {
    // gammaOffset = 0 saves an add per vector (and a register) in the inner loop
    if (wantB) rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, epsOutside, goff, ws, true, false, true, true);
    else if (params) rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, epsOutside, goff, ws, true, false, true, false);
    else rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, epsOutside, goff, ws, true, false, false, false);
  } else {
    if (wantB) rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, epsOutside, goff, ws, true, true, true, true);
    else if (params) rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, epsOutside, goff, ws, true, true, true, false);
    else rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, epsOutside, goff, ws, true, true, false, false);
  }
}
