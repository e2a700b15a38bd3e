// Fused residual add + RMS family (RMSNorm, pRMSNorm k < cols, L2-Norm divisor 1), forward and backward, for
// float32, binary16 and bfloat16 activation storage (job slot DTYPE), on one part (a contiguous row range) of a job.
// The 16-bit rmsNorm is the forward with no residual. Formulas: src/backends/backend.ts, docs/math.md.
//   forward:  sum = round(x + residual): the f32 sum rounded to the storage type is the correctly rounded sum (two
//             16-bit operands: double rounding through a format of p' ≥ 2p + 2 bits is innocuous, 24 ≥ 2·11 + 2;
//             binary16 sums and y in the scaled domain of _half.ts, where small sums are exact f32 subnormals),
//             rs = 1/sqrt(Σ_{i<k} sum_i²/divisor + eps) (or 1/(sqrt(·) + eps)), y = round(sum·rs·(goff + gamma) + beta)
//   backward: dx = round(dsum + ∂y/∂sum·dy), dgamma += dy·ŝ, dbeta += dy (ŝ = sum·rs; as _rms-backward.ts)
// Per row: one sweep reads x and residual, writes sum and accumulates Σ sum² of the STORED (rounded) values; a second
// sweep re-reads sum from L1 and writes y. Sums of squares: f32x4 blocks of 256 values flushed into f64 (16-bit
// values: no f32 square can overflow or underflow), an exact f64 rerun for rows out of the normal range; rows whose
// rstd is not a normal f32 take a scalar f64 path, as the f32 kernels do (docs/math.md §5).
import {
  ACCUMULATE, BLOCK, COLS, DBETA, DGAMMA, DIVISOR, DT_BF16, DT_F16, DT_F32, DTYPE, EPS, EPS_OUTSIDE, GAMMA_OFFSET, K,
  P0, PARAM_BLOCK_ROWS, RS_MAX, RS_MIN, TINY_SUM, WS, WS_BYTES_PER_COL, WS_STRIDE, hsum, ptr, slot,
} from './_job';
import {
  anyNaN8, bf16Hi, bf16Lo, bf16Round, F16_SCALE, f16HighToScaled, f16MagToF32, f16x4ToF32, ld8, ld8Finite, load1,
  finite16, maxLanes16, scaledToF16, st8, st8NoNaN, store1, subnormals16,
} from './_half';
import { flushParams, zeroBytes } from './_params';
import { rmsRstd } from './_rms-norm';

@inline function elemShift(dt: i32): usize {
  return dt == DT_F32 ? 2 : 1;
}

/** sum = round(x + residual) for values [i, i + 8), stored. */
@inline function addStore8(xr: usize, rr: usize, sr: usize, i: i32, dt: i32): void {
  const s0 = f32x4.add(ld8(xr, i, dt, false), ld8(rr, i, dt, false));
  const s1 = f32x4.add(ld8(xr, i, dt, true), ld8(rr, i, dt, true));
  st8(sr, i, s0, s1, dt);
}

/** Scalar addStore8: returns the stored value. */
@inline function addStore1(xr: usize, rr: usize, sr: usize, i: i32, dt: i32): f32 {
  store1(sr, i, load1(xr, i, dt) + load1(rr, i, dt), dt);
  return load1(sr, i, dt);
}

/** Σ_{i<n} v_i² in f64, exactly promoted (rows out of the f32 normal range, NaN/Inf). */
function sumSquaresExact16(p: usize, n: i32, dt: i32): f64 {
  let total: f64 = 0;
  if (dt == DT_F32) {
    for (let i: i32 = 0; i < n; i++) total += <f64>load1(p, i, DT_F32) * <f64>load1(p, i, DT_F32);
  } else if (dt == DT_F16) {
    for (let i: i32 = 0; i < n; i++) total += <f64>load1(p, i, DT_F16) * <f64>load1(p, i, DT_F16);
  } else {
    for (let i: i32 = 0; i < n; i++) total += <f64>load1(p, i, DT_BF16) * <f64>load1(p, i, DT_BF16);
  }
  return total;
}

/**
 * y = round(s·rs·(goff + gamma) + beta) for values [i + 8c, i + 8c + 8) (c: a constant, as ld8's); gm: 0 no gamma,
 * 1 gamma, 2 goff + gamma (constant).
 * y is never NaN here (fwdRows: finite s, rs a normal f32, finite parameters), so 16-bit stores skip the NaN select.
 */
@inline function scale8(
  sr: usize, yr: usize, i: i32, vr: v128, gamma: usize, beta: usize, vo: v128, dt: i32, gm: i32, c: i32 = 0,
): void {
  let v0: v128;
  let v1: v128;
  if (dt == DT_F16) {
    // binary16 stays in the scaled domain (_half.ts) from load to store: 2-instruction decode, no subnormal line
    const h = v128.load(sr + (<usize>i << 1) + (<usize>c << 4));
    v0 = f32x4.mul(f16HighToScaled(bf16Lo(h)), vr);
    v1 = f32x4.mul(f16HighToScaled(bf16Hi(h)), vr);
  } else {
    v0 = f32x4.mul(ld8Finite(sr, i, dt, false, false, c), vr);
    v1 = f32x4.mul(ld8Finite(sr, i, dt, true, false, c), vr);
  }
  const o = (<usize>i << 2) + (<usize>c << 5);
  if (gm == 1) {
    v0 = f32x4.mul(v0, v128.load(gamma + o));
    v1 = f32x4.mul(v1, v128.load(gamma + o, 16));
  } else if (gm == 2) {
    v0 = f32x4.mul(v0, f32x4.add(vo, v128.load(gamma + o)));
    v1 = f32x4.mul(v1, f32x4.add(vo, v128.load(gamma + o, 16)));
  }
  if (beta != 0) {
    const bs = f32x4.splat(dt == DT_F16 ? F16_SCALE : 1);
    v0 = f32x4.add(v0, dt == DT_F16 ? f32x4.mul(v128.load(beta + o), bs) : v128.load(beta + o));
    v1 = f32x4.add(v1, dt == DT_F16 ? f32x4.mul(v128.load(beta + o, 16), bs) : v128.load(beta + o, 16));
  }
  if (dt == DT_F16) v128.store(yr + (<usize>i << 1) + (<usize>c << 4), i16x8.narrow_i32x4_u(scaledToF16(v0), scaledToF16(v1)));
  else st8NoNaN(yr, i, v0, v1, dt, c);
}

/** scale8 over columns [i0, cols), then a scalar tail. */
@inline function scaleRange(
  sr: usize, yr: usize, i0: i32, cols: i32, rs: f32, gamma: usize, beta: usize, goff: f32, dt: i32, gm: i32,
): void {
  const vr = f32x4.splat(rs);
  const vo = f32x4.splat(goff);
  let i = i0;
  for (; i + 16 <= cols; i += 16) {
    scale8(sr, yr, i, vr, gamma, beta, vo, dt, gm);
    scale8(sr, yr, i, vr, gamma, beta, vo, dt, gm, 1);
  }
  for (; i + 8 <= cols; i += 8) scale8(sr, yr, i, vr, gamma, beta, vo, dt, gm);
  for (; i < cols; i++) {
    let v = load1(sr, i, dt) * rs;
    if (gm != 0) v *= goff + load<f32>(gamma + (<usize>i << 2));
    if (beta != 0) v += load<f32>(beta + (<usize>i << 2));
    store1(yr, i, v, dt);
  }
}

/** No Inf/NaN among binary16 values [i, i + 16) of x and residual (magnitude patterns below 0x7c00). */
@inline function noInfNaN16(xr: usize, rr: usize, i: i32): bool {
  const q = <usize>i << 1;
  const mag = i16x8.splat(0x7fff);
  const a = i16x8.max_u(v128.and(v128.load(xr + q), mag), v128.and(v128.load(xr + q, 16), mag));
  const b = i16x8.max_u(v128.and(v128.load(rr + q), mag), v128.and(v128.load(rr + q, 16), mag));
  return !v128.any_true(i16x8.gt_u(i16x8.max_u(a, b), i16x8.splat(0x7bff)));
}

/**
 * A scaled magnitude (sign cleared) rounded to binary16 nearest-even, as f32 bits whose low 13 bits are the
 * rounding residue: >> 13 is the pattern, & 0xffffe000 the rounded value; ≥ 0x0f800000 is Inf (scaledToF16).
 */
@inline function scaledRoundMag(a: v128): v128 {
  const c = i32x4.min_s(a, i32x4.splat(0x0f800000));
  return i32x4.add(i32x4.add(c, i32x4.splat(0xfff)), v128.and(i32x4.shr_u(c, 13), i32x4.splat(1)));
}

/** The binary16 pattern (i32 lanes) of a scaledRoundMag result and its lanes' sign bits. */
@inline function scaledPattern(t: v128, sign: v128): v128 {
  return v128.or(i32x4.shr_u(t, 13), i32x4.shr_u(sign, 16));
}

/**
 * With res: sum = round(x + residual) over the row (stored at sr) and Σ_{i<k} sum_i²; without: Σ_{i<k} x_i² only.
 * Blocked f32x4 sums (16 values per iteration, four accumulators) flushed into f64 every BLOCK values. With pipe,
 * the previous row (ps → py, scale rs) is scaled in the same loop, so its y write stream and this row's read streams
 * are in flight together (as in _rms-norm.ts).
 */
@inline function addAndSquares(
  xr: usize, rr: usize, sr: usize, cols: i32, k: i32, dt: i32, hasRes: bool,
  pipe: bool, ps: usize, py: usize, rs: f32, gamma: usize, beta: usize, goff: f32, gm: i32,
): f64 {
  const vr = f32x4.splat(rs);
  const vo = f32x4.splat(goff);
  let total: f64 = 0;
  let mx = i16x8.splat(0); // binary16 without residual: the largest magnitude pattern summed
  let top = i32x4.splat(0); // binary16 with residual: the largest rounded scaled magnitude stored (Inf: ≥ 0x0f800000)
  const sgn = i32x4.splat(0x80000000);
  const keep = i32x4.splat(0xffffe000); // a rounded scaled magnitude's value bits
  const unscale = f32x4.splat(5.192296858534828e33); // 2^112
  let i: i32 = 0;
  const k16 = k & ~15;
  while (i < k16) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    const end = i + BLOCK < k16 ? i + BLOCK : k16;
    for (; i < end; i += 16) {
      let v0: v128;
      let v1: v128;
      let v2: v128;
      let v3: v128;
      if (hasRes && dt == DT_F16 && noInfNaN16(xr, rr, i)) {
        // binary16 sum of finite values in the scaled domain (_half.ts): exact 2-instruction decodes, one rounding
        // formula for normal and subnormal sums; the squares come from the rounded magnitudes in registers
        const q = <usize>i << 1;
        const x0 = v128.load(xr + q);
        const x1 = v128.load(xr + q, 16);
        const r0 = v128.load(rr + q);
        const r1 = v128.load(rr + q, 16);
        v0 = f32x4.add(f16HighToScaled(bf16Lo(x0)), f16HighToScaled(bf16Lo(r0)));
        v1 = f32x4.add(f16HighToScaled(bf16Hi(x0)), f16HighToScaled(bf16Hi(r0)));
        v2 = f32x4.add(f16HighToScaled(bf16Lo(x1)), f16HighToScaled(bf16Lo(r1)));
        v3 = f32x4.add(f16HighToScaled(bf16Hi(x1)), f16HighToScaled(bf16Hi(r1)));
        if (pipe) {
          scale8(ps, py, i, vr, gamma, beta, vo, dt, gm); // before this row's store (4K aliasing, below)
          scale8(ps, py, i, vr, gamma, beta, vo, dt, gm, 1);
        }
        const s0 = v128.and(v0, sgn);
        const s1 = v128.and(v1, sgn);
        const s2 = v128.and(v2, sgn);
        const s3 = v128.and(v3, sgn);
        const t0 = scaledRoundMag(v128.xor(v0, s0));
        const t1 = scaledRoundMag(v128.xor(v1, s1));
        const t2 = scaledRoundMag(v128.xor(v2, s2));
        const t3 = scaledRoundMag(v128.xor(v3, s3));
        top = i32x4.max_s(top, i32x4.max_s(i32x4.max_s(t0, t1), i32x4.max_s(t2, t3)));
        v128.store(sr + q, i16x8.narrow_i32x4_u(scaledPattern(t0, s0), scaledPattern(t1, s1)));
        v128.store(sr + q, i16x8.narrow_i32x4_u(scaledPattern(t2, s2), scaledPattern(t3, s3)), 16);
        v0 = f32x4.mul(v128.and(t0, keep), unscale);
        v1 = f32x4.mul(v128.and(t1, keep), unscale);
        v2 = f32x4.mul(v128.and(t2, keep), unscale);
        v3 = f32x4.mul(v128.and(t3, keep), unscale);
      } else if (hasRes) {
        v0 = f32x4.add(ld8(xr, i, dt, false), ld8(rr, i, dt, false));
        v1 = f32x4.add(ld8(xr, i, dt, true), ld8(rr, i, dt, true));
        v2 = f32x4.add(ld8(xr, i, dt, false, 1), ld8(rr, i, dt, false, 1));
        v3 = f32x4.add(ld8(xr, i, dt, true, 1), ld8(rr, i, dt, true, 1));
        if (pipe) {
          // the previous row's sum is read before this row's sum is stored at the same offset: rows 4 KiB apart
          // would make those loads wait on the stores (4K aliasing)
          scale8(ps, py, i, vr, gamma, beta, vo, dt, gm);
          scale8(ps, py, i, vr, gamma, beta, vo, dt, gm, 1);
        }
        if (dt == DT_BF16 && !anyNaN8(f32x4.add(v0, v1), f32x4.add(v2, v3))) {
          // no NaN among the 16 sums (a NaN lane makes its pair sum NaN; +Inf with −Inf also sends the chunk to
          // the select path, which is correct and rare): round once, the rounded f32 values are the rounding's
          // high halves (no re-read from L1)
          v0 = bf16Round(v0);
          v1 = bf16Round(v1);
          v2 = bf16Round(v2);
          v3 = bf16Round(v3);
          v128.store(sr + (<usize>i << 1), i16x8.narrow_i32x4_u(i32x4.shr_u(v0, 16), i32x4.shr_u(v1, 16)));
          v128.store(sr + (<usize>i << 1), i16x8.narrow_i32x4_u(i32x4.shr_u(v2, 16), i32x4.shr_u(v3, 16)), 16);
          const hi = i32x4.splat(0xffff0000);
          v0 = v128.and(v0, hi);
          v1 = v128.and(v1, hi);
          v2 = v128.and(v2, hi);
          v3 = v128.and(v3, hi);
        } else if (dt != DT_F32) {
          st8(sr, i, v0, v1, dt);
          st8(sr, i, v2, v3, dt, 1);
          // the statistic is of the stored (rounded) sum: re-read from L1
          v0 = ld8(sr, i, dt, false);
          v1 = ld8(sr, i, dt, true);
          v2 = ld8(sr, i, dt, false, 1);
          v3 = ld8(sr, i, dt, true, 1);
        } else {
          st8(sr, i, v0, v1, dt);
          st8(sr, i, v2, v3, dt, 1);
        }
      } else if (dt == DT_F16) {
        // only |x| is squared: magnitude bits → f32 (shift, ×2^112: 3 instructions per 4 values instead of the full
        // decode's 8 with sign and Inf/NaN lines); Inf/NaN show in the running maximum of the magnitude patterns
        const q = xr + (<usize>i << 1);
        const m0 = v128.and(v128.load(q), i16x8.splat(0x7fff));
        const m1 = v128.and(v128.load(q, 16), i16x8.splat(0x7fff));
        mx = i16x8.max_u(mx, i16x8.max_u(m0, m1));
        v0 = f16MagToF32(bf16Lo(m0));
        v1 = f16MagToF32(bf16Hi(m0));
        v2 = f16MagToF32(bf16Lo(m1));
        v3 = f16MagToF32(bf16Hi(m1));
      } else {
        v0 = ld8(xr, i, dt, false);
        v1 = ld8(xr, i, dt, true);
        v2 = ld8(xr, i, dt, false, 1);
        v3 = ld8(xr, i, dt, true, 1);
      }
      a0 = f32x4.add(a0, f32x4.mul(v0, v0));
      a1 = f32x4.add(a1, f32x4.mul(v1, v1));
      a2 = f32x4.add(a2, f32x4.mul(v2, v2));
      a3 = f32x4.add(a3, f32x4.mul(v3, v3));
      if (pipe && !hasRes) {
        scale8(ps, py, i, vr, gamma, beta, vo, dt, gm);
        scale8(ps, py, i, vr, gamma, beta, vo, dt, gm, 1);
      }
    }
    total += hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  }
  if (hasRes) {
    for (; i + 8 <= cols; i += 8) addStore8(xr, rr, sr, i, dt);
    for (; i < cols; i++) addStore1(xr, rr, sr, i, dt);
  }
  if (pipe) scaleRange(ps, py, k16, cols, rs, gamma, beta, goff, dt, gm);
  // an Inf or NaN among the binary16 values summed above (patterns ≥ 0x7c00): the caller's exact rerun gives Σx²
  if (!hasRes && dt == DT_F16 && i16x8.extract_lane_u(maxLanes16(mx), 0) >= 0x7c00) total = Infinity;
  // a scaled sum that rounded to Inf was squared as 65536: the exact rerun reads the stored Inf
  if (hasRes && dt == DT_F16 && v128.any_true(i32x4.gt_s(top, i32x4.splat(0x0f7fffff)))) total = Infinity;
  const src = hasRes ? sr : xr;
  for (let j = k16; j < k; j++) {
    const v = <f64>load1(src, j, dt);
    total += v * v;
  }
  return total;
}

/**
 * The largest magnitude among the 16-bit values [i0, i1) of p, +Inf when one is Inf or NaN (magnitude patterns
 * order as their values, and Inf/NaN patterns above every finite one).
 */
function maxAbs16(p: usize, i0: i32, i1: i32, dt: i32): f64 {
  const mask = i16x8.splat(0x7fff);
  let m = i16x8.splat(0);
  let i = i0;
  for (; i + 8 <= i1; i += 8) m = i16x8.max_u(m, v128.and(v128.load(p + (<usize>i << 1)), mask));
  let best = <i32>i16x8.extract_lane_u(maxLanes16(m), 0);
  for (; i < i1; i++) {
    const h = <i32>load<u16>(p + (<usize>i << 1)) & 0x7fff;
    if (h > best) best = h;
  }
  if (best >= (dt == DT_F16 ? 0x7c00 : 0x7f80)) return Infinity;
  return dt == DT_F16 ? <f64>f32x4.extract_lane(f16x4ToF32(i32x4.splat(best)), 0) : <f64>reinterpret<f32>(best << 16);
}

/** y in f64 for a row whose rstd is not a normal f32 (subnormal rows, tiny eps, |x| ≈ 3e38), rounded once to f32. */
function scaleRowExact16(sr: usize, yr: usize, cols: i32, rs: f64, gamma: usize, beta: usize, goff: f32, dt: i32): void {
  for (let j: i32 = 0; j < cols; j++) {
    let v = <f64>load1(sr, j, dt) * rs;
    if (gamma != 0) v *= <f64>goff + <f64>load<f32>(gamma + (<usize>j << 2));
    if (beta != 0) v += <f64>load<f32>(beta + (<usize>j << 2));
    if (dt == DT_F32) store1(yr, j, <f32>v, DT_F32);
    else if (dt == DT_F16) store1(yr, j, <f32>v, DT_F16);
    else store1(yr, j, <f32>v, DT_BF16);
  }
}

@inline function fwdRows(
  x: usize, res: usize, gamma: usize, beta: usize, sum: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32,
  divisor: f64, eps: f64, eo: bool, goff: f32, dt: i32, hasRes: bool, gm: i32, paramsOk: bool,
): void {
  const rowBytes = <usize>cols << elemShift(dt);
  let ss = addAndSquares(x, res, hasRes ? sum : x, cols, k, dt, hasRes, false, 0, 0, 0, gamma, beta, goff, gm);
  for (let r: i32 = 0; r < rows; r++) {
    const o = <usize>r * rowBytes;
    const sr = hasRes ? sum + o : x + o;
    const yr = y + o;
    if (!(ss >= TINY_SUM && ss < f64.MAX_VALUE)) ss = sumSquaresExact16(sr, k, dt);
    const rs64 = rmsRstd(ss, divisor, eps, eo);
    const rs = <f32>rs64;
    store<f32>(rstd + (<usize>r << 2), rs);
    const n = o + rowBytes; // the next row
    const sn = hasRes ? sum + n : x + n;
    // 16-bit: the fast path stores y without the NaN select and decodes without the Inf/NaN line. y is not NaN
    // when s·rs is finite and the gain and bias are (paramsOk): |s_j|·rs ≤ √k for j < k, and a pRMSNorm row's
    // columns [k, cols), outside Σ, are checked here (finite, and s·rs far from overflow). Otherwise the f64 path,
    // whose store keeps NaN.
    if (
      !(rs64 >= RS_MIN && rs64 <= RS_MAX) ||
      (dt != DT_F32 && (!paramsOk || (k < cols && !(maxAbs16(sr, k, cols, dt) * rs64 < 1e38))))
    ) {
      scaleRowExact16(sr, yr, cols, rs64, gamma, beta, goff, dt);
      if (r + 1 < rows) ss = addAndSquares(x + n, res + n, sn, cols, k, dt, hasRes, false, 0, 0, 0, gamma, beta, goff, gm);
    } else if (r + 1 < rows) {
      ss = addAndSquares(x + n, res + n, sn, cols, k, dt, hasRes, true, sr, yr, rs, gamma, beta, goff, gm);
    } else {
      scaleRange(sr, yr, 0, cols, rs, gamma, beta, goff, dt, gm);
    }
  }
}

// One wasm function per (storage, residual, gamma mode), each with a single inlined fwdRows: the conversions and
// the gain are constants in their loops (three fwdRows in one function came out of binaryen as one loop with a
// runtime gain-mode branch and spilled accumulators).
function fwdF32g0(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F32, true, 0, ok);
}
function fwdF32g1(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F32, true, 1, ok);
}
// gain without bias (the pre-norm transformer case: LLaMA's gamma, g1nb; Gemma's 1 + gamma, g2nb): beta passed as
// the constant 0, so the bias test folds out of the loops (in the shared g1/g2 functions it is a runtime test per 8
// values and costs the loop registers)
function fwdF32g1nb(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, 0, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F32, true, 1, ok);
}
function fwdF32g2(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F32, true, 2, ok);
}
function fwdF32g2nb(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, 0, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F32, true, 2, ok);
}
function fwdF16g0(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F16, true, 0, ok);
}
function fwdF16g1(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F16, true, 1, ok);
}
function fwdF16g2(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F16, true, 2, ok);
}
function fwdBf16g0(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_BF16, true, 0, ok);
}
function fwdBf16g1(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_BF16, true, 1, ok);
}
function fwdBf16g2(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_BF16, true, 2, ok);
}
function fwdNormF16g0(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F16, false, 0, ok);
}
function fwdNormF16g1(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F16, false, 1, ok);
}
function fwdNormF16g2(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_F16, false, 2, ok);
}
function fwdNormBf16g0(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_BF16, false, 0, ok);
}
function fwdNormBf16g1(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_BF16, false, 1, ok);
}
function fwdNormBf16g2(x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64, eps: f64, eo: bool, goff: f32, ok: bool): void {
  fwdRows(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, DT_BF16, false, 2, ok);
}

/** Dispatch on the storage (dt), the residual and the gain mode. */
@inline function fwdAll(
  x: usize, res: usize, g: usize, b: usize, s: usize, y: usize, rstd: usize, rows: i32, cols: i32, k: i32, d: f64,
  eps: f64, eo: bool, goff: f32, ok: bool, dt: i32,
): void {
  const gm = g == 0 ? 0 : goff == 0 ? 1 : 2;
  if (res != 0 && dt == DT_F32) {
    if (gm == 0) fwdF32g0(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else if (gm == 1 && b == 0) fwdF32g1nb(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else if (gm == 1) fwdF32g1(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else if (b == 0) fwdF32g2nb(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else fwdF32g2(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
  } else if (res != 0 && dt == DT_F16) {
    if (gm == 0) fwdF16g0(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else if (gm == 1) fwdF16g1(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else fwdF16g2(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
  } else if (res != 0) {
    if (gm == 0) fwdBf16g0(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else if (gm == 1) fwdBf16g1(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else fwdBf16g2(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
  } else if (dt == DT_F16) {
    if (gm == 0) fwdNormF16g0(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else if (gm == 1) fwdNormF16g1(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else fwdNormF16g2(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
  } else {
    if (gm == 0) fwdNormBf16g0(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else if (gm == 1) fwdNormBf16g1(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
    else fwdNormBf16g2(x, res, g, b, s, y, rstd, rows, cols, k, d, eps, eo, goff, ok);
  }
}

export function addRmsForward(args: usize, r0: i32, r1: i32): void {
  if (r1 <= r0) return;
  const dt = <i32>slot(args, DTYPE);
  const cols = <i32>slot(args, COLS);
  const k = <i32>slot(args, K);
  const divisor = slot(args, DIVISOR);
  const eps = slot(args, EPS);
  const eo = slot(args, EPS_OUTSIDE) != 0;
  const gamma = ptr(args, P0 + 2);
  const goff: f32 = gamma == 0 ? 0 : <f32>slot(args, GAMMA_OFFSET);
  const rowOff = <usize>r0 * (<usize>cols << elemShift(dt));
  const x = ptr(args, P0) + rowOff;
  const res = ptr(args, P0 + 1);
  const beta = ptr(args, P0 + 3);
  const y = ptr(args, P0 + 5) + rowOff;
  const rstd = ptr(args, P0 + 6) + (<usize>r0 << 2);
  const rows = r1 - r0;
  const r: usize = res == 0 ? 0 : res + rowOff;
  const s: usize = res == 0 ? 0 : ptr(args, P0 + 4) + rowOff;
  const ok = dt == DT_F32 || paramsFinite(gamma, beta, goff, cols);
  fwdAll(x, r, gamma, beta, s, y, rstd, rows, cols, k, divisor, eps, eo, goff, ok, dt);
}

/** goff + gamma and beta all finite (absent ones count as finite): then a row with finite sums has a finite y. */
function paramsFinite(gamma: usize, beta: usize, goff: f32, cols: i32): bool {
  let bad = f32x4.splat(0);
  const vo = f32x4.splat(goff);
  let i: i32 = 0;
  // w − w is 0 for finite w, NaN for ±Inf and NaN; the NaN survives the adds
  for (; i + 4 <= cols; i += 4) {
    const o = <usize>i << 2;
    if (gamma != 0) {
      const w = f32x4.add(vo, v128.load(gamma + o));
      bad = f32x4.add(bad, f32x4.sub(w, w));
    }
    if (beta != 0) {
      const w = v128.load(beta + o);
      bad = f32x4.add(bad, f32x4.sub(w, w));
    }
  }
  let ok = !anyNaN8(bad, bad);
  for (; i < cols; i++) {
    const o = <usize>i << 2;
    if (gamma != 0 && !isFinite(goff + load<f32>(gamma + o))) ok = false;
    if (beta != 0 && !isFinite(load<f32>(beta + o))) ok = false;
  }
  return ok;
}

// ---- backward ----

/**
 * Sweep A of one row: Σ u·ŝ (u = (goff + gamma)·dy, ŝ = s·rs; blocked f32 flushed into f64) and, when wanted, dy·ŝ
 * into the f32 dgamma accumulator and dy into dbeta's. Decodes as sweepB16 (finite rows; sub as bwdRowFast).
 */
@inline function sweepA16(
  dyr: usize, sr: usize, gamma: usize, accG: usize, accB: usize, cols: i32, rs: f32, goff: f32, params: bool,
  wantB: bool, dt: i32, sub: bool,
): f64 {
  const vr = f32x4.splat(rs);
  const vo = f32x4.splat(goff);
  let total: f64 = 0;
  let i: i32 = 0;
  const n8 = cols & ~7;
  while (i < n8) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    const end = i + BLOCK < n8 ? i + BLOCK : n8;
    for (; i < end; i += 8) {
      const d0 = ld8Finite(dyr, i, dt, false, sub);
      const d1 = ld8Finite(dyr, i, dt, true, sub);
      const p0 = f32x4.mul(d0, f32x4.mul(ld8Finite(sr, i, dt, false, sub), vr));
      const p1 = f32x4.mul(d1, f32x4.mul(ld8Finite(sr, i, dt, true, sub), vr));
      const o = <usize>i << 2;
      if (gamma != 0) {
        a0 = f32x4.add(a0, f32x4.mul(p0, f32x4.add(vo, v128.load(gamma + o))));
        a1 = f32x4.add(a1, f32x4.mul(p1, f32x4.add(vo, v128.load(gamma + o, 16))));
      } else {
        a0 = f32x4.add(a0, p0);
        a1 = f32x4.add(a1, p1);
      }
      if (params) {
        v128.store(accG + o, f32x4.add(v128.load(accG + o), p0));
        v128.store(accG + o, f32x4.add(v128.load(accG + o, 16), p1), 16);
      }
      if (wantB) {
        v128.store(accB + o, f32x4.add(v128.load(accB + o), d0));
        v128.store(accB + o, f32x4.add(v128.load(accB + o, 16), d1), 16);
      }
    }
    total += hsum(f32x4.add(a0, a1));
  }
  for (; i < cols; i++) {
    const o = <usize>i << 2;
    const d = load1(dyr, i, dt);
    const p = d * (load1(sr, i, dt) * rs);
    total += <f64>(gamma != 0 ? p * (goff + load<f32>(gamma + o)) : p);
    if (params) store<f32>(accG + o, load<f32>(accG + o) + p);
    if (wantB) store<f32>(accB + o, load<f32>(accB + o) + d);
  }
  return total;
}

/**
 * dx = round(dsum + (u − [corr]·c·ŝ)·rs) over columns [c0, c1); dy and dsum are read before dx is written. The row's
 * inputs are finite when binary16 (bwdRows checks), so its decodes skip the Inf/NaN line; sub as bwdRowFast.
 */
@inline function sweepB16(
  dyr: usize, dsr: usize, sr: usize, dxr: usize, gamma: usize, c0: i32, c1: i32, rs: f32, c: f32, goff: f32,
  corr: bool, dt: i32, hasDsum: bool, sub: bool,
): void {
  const vr = f32x4.splat(rs);
  const vc = f32x4.splat(c);
  const vo = f32x4.splat(goff);
  let i = c0;
  for (; i + 8 <= c1; i += 8) {
    let u0 = ld8Finite(dyr, i, dt, false, sub);
    let u1 = ld8Finite(dyr, i, dt, true, sub);
    const o = <usize>i << 2;
    if (gamma != 0) {
      u0 = f32x4.mul(u0, f32x4.add(vo, v128.load(gamma + o)));
      u1 = f32x4.mul(u1, f32x4.add(vo, v128.load(gamma + o, 16)));
    }
    if (corr) {
      u0 = f32x4.sub(u0, f32x4.mul(f32x4.mul(ld8Finite(sr, i, dt, false, sub), vr), vc));
      u1 = f32x4.sub(u1, f32x4.mul(f32x4.mul(ld8Finite(sr, i, dt, true, sub), vr), vc));
    }
    let v0 = f32x4.mul(u0, vr);
    let v1 = f32x4.mul(u1, vr);
    if (hasDsum) {
      v0 = f32x4.add(ld8Finite(dsr, i, dt, false, sub), v0);
      v1 = f32x4.add(ld8Finite(dsr, i, dt, true, sub), v1);
    }
    // after every load of [i, i + 8): dx may be dy or dsum. 16-bit: the NaN lines only for a chunk with a NaN
    if (dt != DT_F32 && !anyNaN8(v0, v1)) st8NoNaN(dxr, i, v0, v1, dt);
    else st8(dxr, i, v0, v1, dt);
  }
  for (; i < c1; i++) {
    let u = load1(dyr, i, dt);
    if (gamma != 0) u *= goff + load<f32>(gamma + (<usize>i << 2));
    if (corr) u -= c * (load1(sr, i, dt) * rs);
    let v = u * rs;
    if (hasDsum) v = load1(dsr, i, dt) + v;
    store1(dxr, i, v, dt);
  }
}

/** Σ u_j·s_j in f64 (exact promotion): the rerun for a row whose f32 Σ u·ŝ is not finite. */
@inline function dotExact16(dyr: usize, sr: usize, gamma: usize, cols: i32, goff: f32, dt: i32): f64 {
  let total: f64 = 0;
  for (let j: i32 = 0; j < cols; j++) {
    let u = <f64>load1(dyr, j, dt);
    if (gamma != 0) u *= <f64>goff + <f64>load<f32>(gamma + (<usize>j << 2));
    total += u * <f64>load1(sr, j, dt);
  }
  return total;
}

/** Σ_{i<k} s_i² in f64 for ρ (eps outside): blocked sums via addAndSquares' no-residual path, exact rerun. */
@inline function sumSq16(sr: usize, k: i32, dt: i32): f64 {
  let ss = addAndSquares(sr, 0, 0, k, k, dt, false, false, 0, 0, 0, 0, 0, 0, 0);
  if (!(ss >= TINY_SUM && ss < f64.MAX_VALUE)) ss = sumSquaresExact16(sr, k, dt);
  return ss;
}

/** A row whose saved rstd is not a normal f32, in f64 as _rms-backward.ts rowExact (plus dsum). */
@inline function rowExact16(
  dyr: usize, dsr: usize, sr: usize, dxr: usize, gamma: usize, cols: i32, k: i32, divisor: f64, rs32: f32, goff: f32,
  eo: bool, sumG: usize, sumB: usize, params: bool, dt: i32, hasDsum: bool,
): void {
  const rs = <f64>rs32;
  const d = dotExact16(dyr, sr, gamma, cols, goff, dt);
  let coef: f64;
  if (eo) {
    const rho = Math.sqrt(sumSquaresExact16(sr, k, dt) / divisor);
    coef = rho == 0 ? 0 : (rs * rs * d) / (divisor * rho);
  } else {
    coef = (rs * rs * rs * d) / divisor;
  }
  for (let j: i32 = 0; j < cols; j++) {
    const dy = <f64>load1(dyr, j, dt);
    const sv = <f64>load1(sr, j, dt);
    if (params) {
      store<f64>(sumG + (<usize>j << 3), load<f64>(sumG + (<usize>j << 3)) + dy * sv * rs);
      store<f64>(sumB + (<usize>j << 3), load<f64>(sumB + (<usize>j << 3)) + dy);
    }
    const g = gamma != 0 ? <f64>goff + <f64>load<f32>(gamma + (<usize>j << 2)) : 1;
    let v = g * dy * rs - (j < k ? sv * coef : 0);
    if (hasDsum) v += <f64>load1(dsr, j, dt);
    store1(dxr, j, <f32>v, dt);
  }
}

/**
 * One backward row on the SIMD path: sweep A, the coefficient, sweep B. sub: binary16 gradients in the subnormal
 * range (the call part's pick, addRmsBackward), decoded without f32 subnormal arithmetic (ld8Finite's sub decode).
 */
@inline function bwdRowFast(
  dyr: usize, dsr: usize, sr: usize, dxr: usize, gamma: usize, cols: i32, k: i32, divisor: f64, rs: f32, goff: f32,
  eo: bool, accG: usize, accB: usize, params: bool, wantB: bool, dt: i32, hasDsum: bool, sub: bool,
): void {
  let dot = sweepA16(dyr, sr, gamma, accG, accB, cols, rs, goff, params, wantB, dt, sub);
  if (!isFinite(dot)) dot = dotExact16(dyr, sr, gamma, cols, goff, dt) * <f64>rs;
  let c: f32;
  if (!eo) c = <f32>(dot / divisor);
  else {
    const rho = Math.sqrt(sumSq16(sr, k, dt) / divisor);
    c = rho == 0 ? 0 : <f32>(dot / (<f64>rs * divisor * rho));
  }
  sweepB16(dyr, dsr, sr, dxr, gamma, 0, k, rs, c, goff, true, dt, hasDsum, sub);
  if (k < cols) sweepB16(dyr, dsr, sr, dxr, gamma, k, cols, rs, c, goff, false, dt, hasDsum, sub);
}

@inline function bwdRows(
  dy: usize, dsum: usize, sum: usize, rstd: usize, gamma: usize, dx: usize, rows: i32, cols: i32, k: i32,
  divisor: f64, goff: f32, eo: bool, ws: usize, params: bool, wantB: bool, dt: i32, hasDsum: bool, sub: bool,
): void {
  const rowBytes = <usize>cols << elemShift(dt);
  const c4 = (cols + 3) & ~3;
  const sumG = ws;
  const sumB = ws + (<usize>c4 << 3);
  const accG = ws + (<usize>c4 << 4);
  const accB = accG + (<usize>c4 << 2);
  let sinceFlush: i32 = 0;
  for (let r: i32 = 0; r < rows; r++) {
    const o = <usize>r * rowBytes;
    const dyr = dy + o;
    const dsr = dsum + o;
    const sr = sum + o;
    const dxr = dx + o;
    const rs = load<f32>(rstd + (<usize>r << 2));
    // binary16 rows holding Inf/NaN (rare) take the f64 row path: the SIMD sweeps decode without the Inf/NaN line
    if (<f64>rs >= RS_MIN && <f64>rs <= RS_MAX && (dt != DT_F16 || finite16(dyr, sr, dsr, cols, hasDsum))) {
      bwdRowFast(dyr, dsr, sr, dxr, gamma, cols, k, divisor, rs, goff, eo, accG, accB, params, wantB, dt, hasDsum, sub);
    } else {
      rowExact16(dyr, dsr, sr, dxr, gamma, cols, k, divisor, rs, goff, eo, sumG, sumB, params, dt, hasDsum);
    }
    if (params && ++sinceFlush >= PARAM_BLOCK_ROWS) {
      flushParams(ws, cols, wantB);
      sinceFlush = 0;
    }
  }
  if (params) flushParams(ws, cols, wantB);
}

// One wasm function per (storage, dsum) pair; gamma and the parameter gradients are loop-invariant branches.
function bwdF32(dy: usize, ds: usize, s: usize, rstd: usize, g: usize, dx: usize, rows: i32, cols: i32, k: i32, d: f64, goff: f32, eo: bool, ws: usize, pr: bool, wb: bool): void {
  bwdRows(dy, ds, s, rstd, g, dx, rows, cols, k, d, goff, eo, ws, pr, wb, DT_F32, true, false);
}
function bwdF32n(dy: usize, ds: usize, s: usize, rstd: usize, g: usize, dx: usize, rows: i32, cols: i32, k: i32, d: f64, goff: f32, eo: bool, ws: usize, pr: bool, wb: bool): void {
  bwdRows(dy, ds, s, rstd, g, dx, rows, cols, k, d, goff, eo, ws, pr, wb, DT_F32, false, false);
}
function bwdF16(dy: usize, ds: usize, s: usize, rstd: usize, g: usize, dx: usize, rows: i32, cols: i32, k: i32, d: f64, goff: f32, eo: bool, ws: usize, pr: bool, wb: bool): void {
  bwdRows(dy, ds, s, rstd, g, dx, rows, cols, k, d, goff, eo, ws, pr, wb, DT_F16, true, false);
}
function bwdF16n(dy: usize, ds: usize, s: usize, rstd: usize, g: usize, dx: usize, rows: i32, cols: i32, k: i32, d: f64, goff: f32, eo: bool, ws: usize, pr: bool, wb: bool): void {
  bwdRows(dy, ds, s, rstd, g, dx, rows, cols, k, d, goff, eo, ws, pr, wb, DT_F16, false, false);
}
// binary16 gradients in the subnormal range (most of a row): decoded without f32 subnormal arithmetic (ld8Finite's sub decode)
function bwdF16sub(dy: usize, ds: usize, s: usize, rstd: usize, g: usize, dx: usize, rows: i32, cols: i32, k: i32, d: f64, goff: f32, eo: bool, ws: usize, pr: bool, wb: bool): void {
  bwdRows(dy, ds, s, rstd, g, dx, rows, cols, k, d, goff, eo, ws, pr, wb, DT_F16, true, true);
}
function bwdF16nsub(dy: usize, ds: usize, s: usize, rstd: usize, g: usize, dx: usize, rows: i32, cols: i32, k: i32, d: f64, goff: f32, eo: bool, ws: usize, pr: bool, wb: bool): void {
  bwdRows(dy, ds, s, rstd, g, dx, rows, cols, k, d, goff, eo, ws, pr, wb, DT_F16, false, true);
}
function bwdBf16(dy: usize, ds: usize, s: usize, rstd: usize, g: usize, dx: usize, rows: i32, cols: i32, k: i32, d: f64, goff: f32, eo: bool, ws: usize, pr: bool, wb: bool): void {
  bwdRows(dy, ds, s, rstd, g, dx, rows, cols, k, d, goff, eo, ws, pr, wb, DT_BF16, true, false);
}
function bwdBf16n(dy: usize, ds: usize, s: usize, rstd: usize, g: usize, dx: usize, rows: i32, cols: i32, k: i32, d: f64, goff: f32, eo: bool, ws: usize, pr: bool, wb: bool): void {
  bwdRows(dy, ds, s, rstd, g, dx, rows, cols, k, d, goff, eo, ws, pr, wb, DT_BF16, false, false);
}

export function addRmsBackward(args: usize, r0: i32, r1: i32, part: i32): void {
  const dt = <i32>slot(args, DTYPE);
  const cols = <i32>slot(args, COLS);
  const k = <i32>slot(args, K);
  const divisor = slot(args, DIVISOR);
  const eo = slot(args, EPS_OUTSIDE) != 0;
  const gamma = ptr(args, P0 + 4);
  const goff: f32 = gamma == 0 ? 0 : <f32>slot(args, GAMMA_OFFSET);
  const rowOff = <usize>r0 * (<usize>cols << elemShift(dt));
  const dy = ptr(args, P0) + rowOff;
  const dsum0 = ptr(args, P0 + 1);
  const dsum = dsum0 + rowOff;
  const sum = ptr(args, P0 + 2) + rowOff;
  const rstd = ptr(args, P0 + 3) + (<usize>r0 << 2);
  const dx = ptr(args, P0 + 5) + rowOff;
  const params = ptr(args, DGAMMA) != 0 || ptr(args, DBETA) != 0;
  const wantB = ptr(args, DBETA) != 0;
  const ws = ptr(args, WS) + <usize>part * ptr(args, WS_STRIDE);
  const rows = r1 - r0;
  // the next row chunk of one job (ACCUMULATE, src/backends/wasm/chunked.ts) adds to the sums the previous one left
  if (params && slot(args, ACCUMULATE) == 0) zeroBytes(ws, <usize>((cols + 3) & ~3) * WS_BYTES_PER_COL);
  if (r1 <= r0) return;
  if (dt == DT_F32) {
    if (dsum0 != 0) bwdF32(dy, dsum, sum, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, params, wantB);
    else bwdF32n(dy, dsum, sum, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, params, wantB);
  } else if (dt == DT_F16) {
    // gradients are alike in scale across rows: the first row's dy picks the decode for the part (a wrong pick
    // costs time only: both decodes are exact). More than 1 in 64 subnormal: the sub decode of ld8Finite.
    const sub = subnormals16(dy, cols) * 64 > cols;
    if (dsum0 != 0 && sub) bwdF16sub(dy, dsum, sum, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, params, wantB);
    else if (dsum0 != 0) bwdF16(dy, dsum, sum, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, params, wantB);
    else if (sub) bwdF16nsub(dy, dsum, sum, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, params, wantB);
    else bwdF16n(dy, dsum, sum, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, params, wantB);
  } else {
    if (dsum0 != 0) bwdBf16(dy, dsum, sum, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, params, wantB);
    else bwdBf16n(dy, dsum, sum, rstd, gamma, dx, rows, cols, k, divisor, goff, eo, ws, params, wantB);
  }
}
