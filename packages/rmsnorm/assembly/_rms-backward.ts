// RMS family backward (RMSNorm, pRMSNorm with k < cols, L2-Norm with divisor 1; eps inside or outside) on one part
// (a contiguous row range) of a job. Formulas: docs/math.md; with u = (goff + gamma)·dy and x̂ = x·rs,
//   dx_j = (u_j − c·x̂_j)·rs for j < k, u_j·rs for j ≥ k, where c = Σ_j u_j·x̂_j / divisor (eps inside) or
//   Σ_j u_j·x_j / (divisor·ρ) with ρ = sqrt(Σ_{i<k} x_i²/divisor) (eps outside; c = 0 at ρ = 0, the subgradient).
// c and x̂ are O(1) whatever the scale of x, so no f32 intermediate overflows where the result is finite (the old
// cc = rs·c overflowed for all-subnormal L2-Norm rows).
//
// Speed: one row at a time, two sweeps. Sweep A streams the row's dy and x once: Σ u·x̂ (four f32x4 accumulators over
// blocks of 256 columns, each block flushed into f64), and dy·x̂ (dgamma needs no c) and dy added into the f32 block
// accumulators. Sweep B re-reads the row from L1 and writes dx. 16 floats per loop iteration, so V8's per-iteration
// overhead (stack check, index) is amortised 4×. Blocking 4 rows to share the gamma/accumulator traffic spilled
// registers, and fusing sweep B of row r with sweep A of row r+1 was no faster (docs/wasm.md). Rows whose saved rstd
// is not a normal f32 (subnormal, zero, Inf, NaN) are done by a scalar f64 path like the js backend's, their
// parameter sums in f64.
import {
  ACCUMULATE, COLS, DBETA, DGAMMA, DIVISOR, EPS_OUTSIDE, GAMMA_OFFSET, K, P0, PARAM_BLOCK_ROWS, RS_MAX, RS_MIN,
  TINY_SUM, WS, WS_BYTES_PER_COL, WS_STRIDE, at, hsum, ptr, slot,
} from './_job';
import { sumSquares } from './_reduce';
import { flushParams, zeroBytes } from './_params';

/** goff + gamma at byte offset o + off (or gamma alone when goff = 0; hasOff is a constant after inlining). */
@inline function gainAt(gamma: usize, o: usize, off: usize, vo: v128, hasOff: bool): v128 {
  return hasOff ? f32x4.add(vo, v128.load(gamma + o + off)) : v128.load(gamma + o + off);
}

/** dy·x̂ for the vector at o + off of one row (x̂ = x·rs: in range for |x| up to 1e±38 where dy·x would not be). */
@inline function dyXhat(dyr: usize, xr: usize, o: usize, off: usize, vr: v128): v128 {
  return f32x4.mul(v128.load(dyr + o + off), f32x4.mul(v128.load(xr + o + off), vr));
}

/**
 * Sweep A over all columns of one row: returns Σ u·x̂ (u = (goff + gamma)·dy; four f32x4 accumulators over blocks of
 * 256 columns, each block flushed into f64) and adds dy·x̂ into accG and dy into accB (f32, when params / wantB).
 * 16 floats per iteration, every access at an immediate offset from one address per stream.
 */
@inline function sweepA(
  dyr: usize, xr: usize, gamma: usize, accG: usize, accB: usize, cols: i32, rs: f32, goff: f32,
  hasG: bool, hasOff: bool, params: bool, wantB: bool,
): f64 {
  const vr = f32x4.splat(rs);
  const vo = f32x4.splat(goff);
  let total: f64 = 0;
  const n16 = cols & ~15;
  let i: i32 = 0;
  while (i < n16) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    const end = i + 256 < n16 ? i + 256 : n16;
    for (; i < end; i += 16) {
      const o = <usize>i << 2;
      const p0 = dyXhat(dyr, xr, o, 0, vr);
      const p1 = dyXhat(dyr, xr, o, 16, vr);
      const p2 = dyXhat(dyr, xr, o, 32, vr);
      const p3 = dyXhat(dyr, xr, o, 48, vr);
      a0 = f32x4.add(a0, hasG ? f32x4.mul(p0, gainAt(gamma, o, 0, vo, hasOff)) : p0);
      a1 = f32x4.add(a1, hasG ? f32x4.mul(p1, gainAt(gamma, o, 16, vo, hasOff)) : p1);
      a2 = f32x4.add(a2, hasG ? f32x4.mul(p2, gainAt(gamma, o, 32, vo, hasOff)) : p2);
      a3 = f32x4.add(a3, hasG ? f32x4.mul(p3, gainAt(gamma, o, 48, vo, hasOff)) : p3);
      if (params) {
        const q = accG + o;
        v128.store(q, f32x4.add(v128.load(q), p0));
        v128.store(q, f32x4.add(v128.load(q, 16), p1), 16);
        v128.store(q, f32x4.add(v128.load(q, 32), p2), 32);
        v128.store(q, f32x4.add(v128.load(q, 48), p3), 48);
      }
      if (wantB) {
        const q = accB + o;
        v128.store(q, f32x4.add(v128.load(q), v128.load(dyr + o)));
        v128.store(q, f32x4.add(v128.load(q, 16), v128.load(dyr + o, 16)), 16);
        v128.store(q, f32x4.add(v128.load(q, 32), v128.load(dyr + o, 32)), 32);
        v128.store(q, f32x4.add(v128.load(q, 48), v128.load(dyr + o, 48)), 48);
      }
    }
    total += hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  }
  for (; i < cols; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(dyr + o);
    const p = d * (load<f32>(xr + o) * rs);
    const g: f32 = hasG ? (hasOff ? goff + load<f32>(gamma + o) : load<f32>(gamma + o)) : 1;
    total += <f64>(p * g);
    if (params) store<f32>(accG + o, load<f32>(accG + o) + p);
    if (wantB) store<f32>(accB + o, load<f32>(accB + o) + d);
  }
  return total;
}

/** dx for one vector at o + off: (u − c·x̂)·rs (corr) or u·rs, u = (goff + gamma)·dy. */
@inline function dxAt(
  dyr: usize, xr: usize, dxr: usize, gamma: usize, o: usize, off: usize, vr: v128, vc: v128, vo: v128,
  hasG: bool, hasOff: bool, corr: bool,
): void {
  const d = v128.load(dyr + o + off);
  let u = hasG ? f32x4.mul(d, gainAt(gamma, o, off, vo, hasOff)) : d;
  if (corr) u = f32x4.sub(u, f32x4.mul(f32x4.mul(v128.load(xr + o + off), vr), vc));
  v128.store(dxr + o + off, f32x4.mul(u, vr));
}

/** Sweep B over columns [c0, c1) of one row: dx (with the correction when corr), 16 floats per iteration. */
@inline function sweepB(
  dyr: usize, xr: usize, dxr: usize, gamma: usize, c0: i32, c1: i32, rs: f32, c: f32, goff: f32,
  hasG: bool, hasOff: bool, corr: bool,
): void {
  const vr = f32x4.splat(rs);
  const vc = f32x4.splat(c);
  const vo = f32x4.splat(goff);
  let i = c0;
  // each vector is loaded before it is stored (dx may be dy); 4 KiB-apart streams: the dy/x loads of a vector come
  // after the previous vector's store, at a different offset, so no load waits on a store (4K aliasing)
  for (; i + 16 <= c1; i += 16) {
    const o = <usize>i << 2;
    dxAt(dyr, xr, dxr, gamma, o, 0, vr, vc, vo, hasG, hasOff, corr);
    dxAt(dyr, xr, dxr, gamma, o, 16, vr, vc, vo, hasG, hasOff, corr);
    dxAt(dyr, xr, dxr, gamma, o, 32, vr, vc, vo, hasG, hasOff, corr);
    dxAt(dyr, xr, dxr, gamma, o, 48, vr, vc, vo, hasG, hasOff, corr);
  }
  for (; i + 4 <= c1; i += 4) dxAt(dyr, xr, dxr, gamma, <usize>i << 2, 0, vr, vc, vo, hasG, hasOff, corr);
  for (; i < c1; i++) {
    const o = <usize>i << 2;
    const g: f32 = hasG ? (hasOff ? goff + load<f32>(gamma + o) : load<f32>(gamma + o)) : 1;
    let u = hasG ? load<f32>(dyr + o) * g : load<f32>(dyr + o);
    if (corr) u -= c * (load<f32>(xr + o) * rs);
    store<f32>(dxr + o, u * rs);
  }
}

/** Σ u_j·x_j in f64 (exact promotion): the rerun for a row whose f32 Σ u·x̂ is not finite. */
function dotExact(dyr: usize, xr: usize, gamma: usize, cols: i32, goff: f32): f64 {
  let total: f64 = 0;
  for (let j: i32 = 0; j < cols; j++) {
    let u = <f64>load<f32>(at(dyr, j));
    if (gamma != 0) u *= <f64>goff + <f64>load<f32>(at(gamma, j));
    total += u * <f64>load<f32>(at(xr, j));
  }
  return total;
}

/**
 * c of one row (see the file comment) from its f32-path Σ u·x̂ (`dot`, rerun exactly in f64 when not finite).
 * Eps outside: ρ from Σ_{i<k} x² (sumSquares: exact rerun out of the normal range).
 */
function rowC(dot: f64, dyr: usize, xr: usize, gamma: usize, cols: i32, k: i32, divisor: f64, rs: f32, goff: f32, epsOutside: bool): f32 {
  if (!isFinite(dot)) dot = dotExact(dyr, xr, gamma, cols, goff) * <f64>rs;
  if (!epsOutside) return <f32>(dot / divisor);
  const rho = Math.sqrt(sumSquares(xr, k) / divisor);
  return rho == 0 ? 0 : <f32>(dot / (<f64>rs * divisor * rho));
}

/**
 * A row whose saved rstd is not a normal f32, in f64 as the js backend does (dx_j = u_j·rs − [j<k]·x_j·coef, coef =
 * rs³·Σu·x/divisor inside, rs²·Σu·x/(divisor·ρ) outside, 0 at ρ = 0); dgamma/dbeta straight into the f64 sums.
 */
export function rowExact(
  dyr: usize, xr: usize, dxr: usize, gamma: usize, cols: i32, k: i32, divisor: f64, rs32: f32, goff: f32,
  epsOutside: bool, sumG: usize, sumB: usize, params: bool,
): void {
  const rs = <f64>rs32;
  const d = dotExact(dyr, xr, gamma, cols, goff);
  let coef: f64;
  if (epsOutside) {
    let ss: f64 = 0;
    for (let j: i32 = 0; j < k; j++) ss += <f64>load<f32>(at(xr, j)) * <f64>load<f32>(at(xr, j));
    const rho = Math.sqrt(ss / divisor);
    coef = rho == 0 ? 0 : (rs * rs * d) / (divisor * rho);
  } else {
    coef = (rs * rs * rs * d) / divisor;
  }
  for (let j: i32 = 0; j < cols; j++) {
    const dy = <f64>load<f32>(at(dyr, j));
    const xv = <f64>load<f32>(at(xr, j));
    if (params) {
      store<f64>(sumG + (<usize>j << 3), load<f64>(sumG + (<usize>j << 3)) + dy * xv * rs);
      store<f64>(sumB + (<usize>j << 3), load<f64>(sumB + (<usize>j << 3)) + dy);
    }
    const g = gamma != 0 ? <f64>goff + <f64>load<f32>(at(gamma, j)) : 1;
    store<f32>(at(dxr, j), <f32>(g * dy * rs - (j < k ? xv * coef : 0)));
  }
}


/** One specialisation (hasG, hasOff, params, wantB constant): its own function, so its loops get all registers. */
@inline function rmsBackwardRows(
  dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32,
  epsOutside: bool, ws: usize, hasG: bool, hasOff: bool, params: bool, wantB: bool,
): void {
  const rowBytes = <usize>cols << 2;
  const c4 = (cols + 3) & ~3;
  const sumG = ws;
  const sumB = ws + (<usize>c4 << 3);
  const accG = ws + (<usize>c4 << 4);
  const accB = accG + (<usize>c4 << 2);
  const g = hasG ? gamma : 0;
  let sinceFlush: i32 = 0;
  for (let r: i32 = 0; r < rows; r++) {
    const o = <usize>r * rowBytes;
    const dyr = dy + o;
    const xr = x + o;
    const dxr = dx + o;
    const rs = load<f32>(at(rstd, r));
    if (<f64>rs >= RS_MIN && <f64>rs <= RS_MAX) {
      const dot = sweepA(dyr, xr, gamma, accG, accB, cols, rs, goff, hasG, hasOff, params, wantB);
      const c = rowC(dot, dyr, xr, g, cols, k, divisor, rs, goff, epsOutside);
      sweepB(dyr, xr, dxr, gamma, 0, k, rs, c, goff, hasG, hasOff, true);
      if (k < cols) sweepB(dyr, xr, dxr, gamma, k, cols, rs, c, goff, hasG, hasOff, false);
    } else {
      rowExact(dyr, xr, dxr, g, cols, k, divisor, rs, goff, epsOutside, sumG, sumB, params);
    }
    if (params && ++sinceFlush >= PARAM_BLOCK_ROWS) {
      flushParams(ws, cols, wantB);
      sinceFlush = 0;
    }
  }
  if (params) flushParams(ws, cols, wantB);
}

// The specialisations, each a separate wasm function (small bodies: TurboFan allocates registers per function).
function bwdGOffPB(dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32, eo: bool, ws: usize): void {
  rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, true, true, true, true);
}
function bwdGOffP(dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32, eo: bool, ws: usize): void {
  rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, true, true, true, false);
}
function bwdGOff(dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32, eo: bool, ws: usize): void {
  rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, true, true, false, false);
}
function bwdGPB(dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32, eo: bool, ws: usize): void {
  rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, true, false, true, true);
}
function bwdGP(dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32, eo: bool, ws: usize): void {
  rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, true, false, true, false);
}
function bwdG(dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32, eo: bool, ws: usize): void {
  rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, true, false, false, false);
}
function bwdPB(dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32, eo: bool, ws: usize): void {
  rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, false, false, true, true);
}
function bwdP(dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32, eo: bool, ws: usize): void {
  rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, false, false, true, false);
}
function bwd(dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32, divisor: f64, goff: f32, eo: bool, ws: usize): void {
  rmsBackwardRows(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, false, false, false, false);
}

export function rmsBackward(args: usize, r0: i32, r1: i32, part: i32): void {
  const cols = <i32>slot(args, COLS);
  const k = <i32>slot(args, K);
  const divisor = slot(args, DIVISOR);
  const eo = slot(args, EPS_OUTSIDE) != 0;
  const goff = <f32>slot(args, GAMMA_OFFSET);
  const rowOff = <usize>r0 * (<usize>cols << 2);
  const dy = ptr(args, P0) + rowOff;
  const x = ptr(args, P0 + 1) + rowOff;
  const rstd = ptr(args, P0 + 2) + (<usize>r0 << 2);
  const gamma = ptr(args, P0 + 3);
  const dx = ptr(args, P0 + 4) + rowOff;
  const params = ptr(args, DGAMMA) != 0 || ptr(args, DBETA) != 0;
  const wantB = ptr(args, DBETA) != 0;
  const ws = ptr(args, WS) + <usize>part * ptr(args, WS_STRIDE);
  const rows = r1 - r0;
  // the next row chunk of one job (ACCUMULATE, src/backends/wasm/chunked.ts) adds to the sums the previous one left
  if (params && slot(args, ACCUMULATE) == 0) zeroBytes(ws, <usize>((cols + 3) & ~3) * WS_BYTES_PER_COL);
  // dbeta's accumulator is only touched when dbeta is wanted; gammaOffset = 0 saves an add per vector
  if (gamma == 0) {
    if (wantB) bwdPB(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws);
    else if (params) bwdP(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws);
    else bwd(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws);
  } else if (goff == 0) {
    if (wantB) bwdGPB(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws);
    else if (params) bwdGP(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws);
    else bwdG(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws);
  } else {
    if (wantB) bwdGOffPB(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws);
    else if (params) bwdGOffP(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws);
    else bwdGOff(dy, x, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws);
  }
}
