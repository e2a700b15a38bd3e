// Channels-last kernels: the RMS family and LayerNorm, forward and backward, on one part (a contiguous block range)
// of a job. x is [blocks, cols, channels]; each (block b, channel c) is one normalised vector of `cols` values at
// stride `channels`, its statistics at b·channels + c, gamma/beta/dgamma/dbeta per channel. The math is the row
// kernels' on x transposed to [blocks, channels, cols] (formulas: src/backends/backend.ts, RmsNormChannelsKernelArgs
// and the three after it), without the transposes.
//
// Scheme: SIMD across channels. A chunk of 4·W channels (W = 4, 2 or 1 f32x4 vectors per position) is reduced along
// i with four f32x4 accumulator chains (W vectors × 4/W positions per step, so the add latency never limits the
// loop), each chain flushed into per-channel f64 sums every CH_BLOCK positions (≤ 32 terms per f32 lane, as the row
// kernels' blocks). The per-channel results become per-channel f32 factors with the gain folded in, and one more
// sweep applies them (RMS forward: one multiply-add per value, y = x·s + beta). Sweeps go over tiles of CH_BLOCK
// positions, every chunk per tile (sumsAll: in memory order). A block's data (cols·channels floats) is re-read from
// L1/L2 by the later sweeps. Channels past the last multiple of 4, and blocks holding a (b, c) outside the
// fast path's range (rstd not a normal f32, non-finite sums or factors), are done by scalar f64 loops as the js
// backend does, like the row kernels' slow paths.
import {
  CHANNELS, COLS, DIVISOR, EPS, EPS_OUTSIDE, GAMMA_OFFSET, K, P0, RS_MAX, RS_MIN, RS_MIN_LN,
  TINY_SUM, WS, WS_STRIDE, ptr, slot,
} from './_job';
import { addPromoted, zeroBytes } from './_params';
import { rmsRstd } from './_rms-norm';

// Positions per f32 accumulator block before the flush into f64 (a multiple of 4: whole steps).
const CH_BLOCK: i32 = 32;

// Per-part workspace (bytes from its base; c4 = channels rounded up to 4), CH_WS_BYTES_PER_CHANNEL (job-layout.ts)
// bytes per channel:
//   sumG, sumB f64[c4] @0, @8·c4 (dgamma/dbeta over the part's blocks; reduceParams adds the parts) |
//   q0, q1, q2 f64[c4] @16·c4.. (one block's per-channel sums) | f0..f5 f32[c4] @40·c4.. (per-channel factors)
@inline function wsQ(ws: usize, c4: i32, m: i32): usize {
  return ws + (<usize>(16 + 8 * m) * <usize>c4);
}
@inline function wsF(ws: usize, c4: i32, m: i32): usize {
  return ws + (<usize>(40 + 4 * m) * <usize>c4);
}
@inline function f64At(p: usize, c: i32): usize {
  return p + (<usize>c << 3);
}
@inline function f32At(p: usize, c: i32): usize {
  return p + (<usize>c << 2);
}

// ---------------------------------------------------------------- per-channel sums of one chunk

// What a sum adds per value (kind is a constant after inlining): x², x − p, dy·x·rs, dy·(x − m), x − p; a second
// sum (termB): dy for the two backward kinds, (x − p)² for S_PIV.
const S_SQ: i32 = 0;
const S_SHIFT: i32 = 1;
const S_RMS_B: i32 = 3;
const S_LN_B: i32 = 4;
const S_PIV: i32 = 5;

@inline function hasDy(kind: i32): bool {
  return kind == S_RMS_B || kind == S_LN_B;
}

@inline function hasB(kind: i32): bool {
  return kind == S_RMS_B || kind == S_LN_B || kind == S_PIV;
}

@inline function termB(kind: i32, x: v128, dy: v128, p: v128): v128 {
  if (kind == S_PIV) {
    const d = f32x4.sub(x, p);
    return f32x4.mul(d, d);
  }
  return dy;
}

@inline function term(kind: i32, x: v128, dy: v128, p: v128): v128 {
  if (kind == S_SQ) return f32x4.mul(x, x);
  if (kind == S_SHIFT || kind == S_PIV) return f32x4.sub(x, p);
  if (kind == S_RMS_B) return f32x4.mul(dy, f32x4.mul(x, p)); // dy·x̂: in range where dy·x would overflow
  return f32x4.mul(dy, f32x4.sub(x, p));
}

/** Byte offset of chain j's vector within a step: position j / W of the step, vector j % W of the chunk. */
@inline function offJ(j: i32, W: i32, stride: usize): usize {
  return <usize>(j / W) * stride + <usize>((j % W) << 4);
}

/** Flush four chains into the chunk's f64 sums q (chains on the same vector are added first). */
@inline function flush4(q: usize, W: i32, a0: v128, a1: v128, a2: v128, a3: v128): void {
  if (W == 4) {
    addPromoted(q, a0);
    addPromoted(q + 32, a1);
    addPromoted(q + 64, a2);
    addPromoted(q + 96, a3);
  } else if (W == 2) {
    addPromoted(q, f32x4.add(a0, a2));
    addPromoted(q + 32, f32x4.add(a1, a3));
  } else {
    addPromoted(q, f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  }
}

/**
 * qa[c] += Σ_{i<n} term (and qb[c] += Σ termB for the kinds with two sums) for the 4·W channels of one chunk: x, dy
 * at the chunk's first channel of position 0, positions `stride` bytes apart; pv: the chunk's per-channel f32 p.
 * touch: also load each position's other 64-byte lines (see sumsAll).
 */
@inline function chunkSums(
  kind: i32, W: i32, x: usize, dy: usize, stride: usize, n: i32, pv: usize, qa: usize, qb: usize, touch: bool,
): void {
  const two = hasDy(kind);
  let sink = f32x4.splat(0);
  const second = hasB(kind);
  const U = 4 / W;
  const o1 = offJ(1, W, stride);
  const o2 = offJ(2, W, stride);
  const o3 = offJ(3, W, stride);
  const p0 = v128.load(pv);
  const p1 = v128.load(pv + <usize>((1 % W) << 4));
  const p2 = v128.load(pv + <usize>((2 % W) << 4));
  const p3 = v128.load(pv + <usize>((3 % W) << 4));
  const step = <usize>U * stride;
  const nU = n - n % U;
  let xp = x;
  let dp = dy;
  let i: i32 = 0;
  while (i < nU) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    let b0 = a0;
    let b1 = a0;
    let b2 = a0;
    let b3 = a0;
    const end = i + CH_BLOCK < nU ? i + CH_BLOCK : nU;
    for (; i < end; i += U) {
      const x0 = v128.load(xp);
      const x1 = v128.load(xp + o1);
      const x2 = v128.load(xp + o2);
      const x3 = v128.load(xp + o3);
      const d0 = two ? v128.load(dp) : x0;
      const d1 = two ? v128.load(dp + o1) : x0;
      const d2 = two ? v128.load(dp + o2) : x0;
      const d3 = two ? v128.load(dp + o3) : x0;
      a0 = f32x4.add(a0, term(kind, x0, d0, p0));
      a1 = f32x4.add(a1, term(kind, x1, d1, p1));
      a2 = f32x4.add(a2, term(kind, x2, d2, p2));
      a3 = f32x4.add(a3, term(kind, x3, d3, p3));
      if (second) {
        b0 = f32x4.add(b0, termB(kind, x0, d0, p0));
        b1 = f32x4.add(b1, termB(kind, x1, d1, p1));
        b2 = f32x4.add(b2, termB(kind, x2, d2, p2));
        b3 = f32x4.add(b3, termB(kind, x3, d3, p3));
      }
      if (touch) {
        for (let o: usize = 64; o < stride; o += 64) {
          sink = v128.or(sink, v128.load(xp + o));
          if (two) sink = v128.or(sink, v128.load(dp + o));
        }
      }
      xp += step;
      if (two) dp += step;
    }
    flush4(qa, W, a0, a1, a2, a3);
    if (second) flush4(qb, W, b0, b1, b2, b3);
  }
  if (touch) touchSink = i32x4.extract_lane(sink, 0);
  // positions past the last whole step (fewer than 4/W): one position, W vectors
  for (; i < n; i++) {
    tailSum(kind, xp, dp, p0, qa, qb);
    if (W > 1) tailSum(kind, xp + 16, dp + 16, p1, qa + 32, qb + 32);
    if (W > 2) {
      tailSum(kind, xp + 32, dp + 32, p2, qa + 64, qb + 64);
      tailSum(kind, xp + 48, dp + 48, p3, qa + 96, qb + 96);
    }
    xp += stride;
    dp += stride;
  }
}

/** Where chunkSums' touching loads go (per instance, so per thread; never read). */
let touchSink: i32 = 0;

/** The sums of one vector at one position straight into the f64 sums (chunkSums' leftover positions). */
@inline function tailSum(kind: i32, xp: usize, dp: usize, p: v128, qa: usize, qb: usize): void {
  const xv = v128.load(xp);
  const dv = hasDy(kind) ? v128.load(dp) : xv;
  addPromoted(qa, term(kind, xv, dv, p));
  if (hasB(kind)) addPromoted(qb, termB(kind, xv, dv, p));
}

/**
 * chunkSums over channels [0, cv) (cv a multiple of 4) in chunks of 16, 8 and 4 channels; pv, qa, qb are the
 * per-channel arrays (channel 0), stepped with the chunk.
 */
@inline function sumsAll(
  kind: i32, x: usize, dy: usize, channels: i32, cv: i32, n: i32, pv: usize, qa: usize, qb: usize,
): void {
  const stride = <usize>channels << 2;
  // Tiles of CH_BLOCK positions, every chunk of a tile before the next tile. Above 16 channels a chunk reads one line
  // of each position's several: the first chunk of a tile also loads the others (touch), so the tile is read in
  // memory order, which the hardware prefetchers follow, and the other chunks find it in L1. At 64 channels that
  // was 1.2–1.6x faster than chunks without it, and 1.1–1.6x faster than sweeping each position's channels in
  // memory order into f32 accumulators in L1 (3 loads and a store per vector), which is limited by those.
  for (let i0: i32 = 0; i0 < n; i0 += CH_BLOCK) {
    const m = n - i0 < CH_BLOCK ? n - i0 : CH_BLOCK;
    const xt = x + <usize>i0 * stride;
    const dt = dy + <usize>i0 * stride;
    let c: i32 = 0;
    if (cv > 16) {
      chunkSums(kind, 4, xt, dt, stride, m, pv, qa, qb, true);
      c = 16;
    }
    for (; c + 16 <= cv; c += 16) {
      chunkSums(kind, 4, f32At(xt, c), f32At(dt, c), stride, m, f32At(pv, c), f64At(qa, c), f64At(qb, c), false);
    }
    if (c + 8 <= cv) {
      chunkSums(kind, 2, f32At(xt, c), f32At(dt, c), stride, m, f32At(pv, c), f64At(qa, c), f64At(qb, c), false);
      c += 8;
    }
    if (c + 4 <= cv) {
      chunkSums(kind, 1, f32At(xt, c), f32At(dt, c), stride, m, f32At(pv, c), f64At(qa, c), f64At(qb, c), false);
    }
  }
}

// One wasm function per sum kind (TurboFan allocates registers per function).
function sumSq(x: usize, channels: i32, cv: i32, n: i32, q: usize): void {
  sumsAll(S_SQ, x, 0, channels, cv, n, q, q, 0);
}
function sumShift(x: usize, channels: i32, cv: i32, n: i32, pv: usize, q: usize): void {
  sumsAll(S_SHIFT, x, 0, channels, cv, n, pv, q, 0);
}
function sumPivot(x: usize, channels: i32, cv: i32, n: i32, pv: usize, qa: usize, qb: usize): void {
  sumsAll(S_PIV, x, 0, channels, cv, n, pv, qa, qb);
}
function sumRmsBack(dy: usize, x: usize, channels: i32, cv: i32, n: i32, rv: usize, qa: usize, qb: usize): void {
  sumsAll(S_RMS_B, x, dy, channels, cv, n, rv, qa, qb);
}
function sumLnBack(dy: usize, x: usize, channels: i32, cv: i32, n: i32, mv: usize, qa: usize, qb: usize): void {
  sumsAll(S_LN_B, x, dy, channels, cv, n, mv, qa, qb);
}

// ---------------------------------------------------------------- applying the per-channel factors

// What a sweep writes per value from the factors f0..f5 (consecutive per-channel f32 arrays, F bytes apart):
//   RMS forward   y  = x·s + t                              (s = rstd·gain, t = beta)
//   LN forward    y  = ((x − hi) − lo)·s + t                (mean = hi + lo: centred first, exact on 1e4 + N(0,1))
//   RMS backward  dx = (dy·g − x·B)·rs   (i < k), dy·A     (g = gain, B = c·rstd, A = gain·rstd; dy·g − x·B is
//                                                          O(|dy|) before the final ·rs, so no product overflows
//                                                          where dx is finite: dy·A − x̂·B did at rs ≈ 3e38)
//   LN backward   dx = dy·A − ((x − m) − shift)·rs·B − C   (A = gain·rstd, B = b·rstd, C = a·rstd)
const A_RMS_F: i32 = 0;
const A_LN_F: i32 = 1;
const A_RMS_B: i32 = 2;
const A_RMS_B0: i32 = 3;
const A_LN_B: i32 = 4;

/** Factors per kind (consecutive f32 arrays from fv). */
@inline function nFactors(kind: i32): i32 {
  return kind == A_RMS_F ? 2 : kind == A_LN_F ? 4 : kind == A_RMS_B ? 3 : kind == A_RMS_B0 ? 1 : 6;
}

/** Factor m of vector w of the chunk, loaded once per chunk and tile (zero where the kind or W has none). */
@inline function facAt(kind: i32, W: i32, fv: usize, F: usize, m: i32, w: i32): v128 {
  return m < nFactors(kind) && w < W ? v128.load(fv + <usize>m * F + <usize>(w << 4)) : f32x4.splat(0);
}

/** v_w for a constant w. */
@inline function pick(w: i32, v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  return w == 0 ? v0 : w == 1 ? v1 : w == 2 ? v2 : v3;
}

/** The output vector from its x and dy vectors and its factors f0..f5 (the formulas above). */
@inline function applyVec(
  kind: i32, x: v128, dy: v128, f0: v128, f1: v128, f2: v128, f3: v128, f4: v128, f5: v128,
): v128 {
  if (kind == A_RMS_F) return f32x4.add(f32x4.mul(x, f0), f1);
  if (kind == A_LN_F) return f32x4.add(f32x4.mul(f32x4.sub(f32x4.sub(x, f0), f1), f2), f3);
  if (kind == A_RMS_B) return f32x4.mul(f32x4.sub(f32x4.mul(dy, f0), f32x4.mul(x, f1)), f2);
  if (kind == A_RMS_B0) return f32x4.mul(dy, f0);
  const h = f32x4.mul(f32x4.sub(f32x4.sub(x, f1), f2), f3);
  return f32x4.sub(f32x4.sub(f32x4.mul(dy, f0), f32x4.mul(h, f4)), f5);
}

/**
 * out = the kind's formula for positions [i0, i1) of one chunk of 4·W channels (4 vectors per step; the factors in
 * locals, loaded once). Each vector is loaded before its store, so out may be x (forward) or dy (backward). touch:
 * also load each position's other lines of x and out (as chunkSums; out's lines are then written in L1).
 */
@inline function chunkApply(
  kind: i32, W: i32, x: usize, dy: usize, out: usize, stride: usize, i0: i32, i1: i32, fv: usize, F: usize,
  touch: bool,
): void {
  let sink = f32x4.splat(0);
  const two = kind >= A_RMS_B;
  const needX = kind != A_RMS_B0;
  const U = 4 / W;
  const o1 = offJ(1, W, stride);
  const o2 = offJ(2, W, stride);
  const o3 = offJ(3, W, stride);
  const step = <usize>U * stride;
  const first = <usize>i0 * stride;
  const f00 = facAt(kind, W, fv, F, 0, 0);
  const f01 = facAt(kind, W, fv, F, 0, 1);
  const f02 = facAt(kind, W, fv, F, 0, 2);
  const f03 = facAt(kind, W, fv, F, 0, 3);
  const f10 = facAt(kind, W, fv, F, 1, 0);
  const f11 = facAt(kind, W, fv, F, 1, 1);
  const f12 = facAt(kind, W, fv, F, 1, 2);
  const f13 = facAt(kind, W, fv, F, 1, 3);
  const f20 = facAt(kind, W, fv, F, 2, 0);
  const f21 = facAt(kind, W, fv, F, 2, 1);
  const f22 = facAt(kind, W, fv, F, 2, 2);
  const f23 = facAt(kind, W, fv, F, 2, 3);
  const f30 = facAt(kind, W, fv, F, 3, 0);
  const f31 = facAt(kind, W, fv, F, 3, 1);
  const f32 = facAt(kind, W, fv, F, 3, 2);
  const f33 = facAt(kind, W, fv, F, 3, 3);
  const f40 = facAt(kind, W, fv, F, 4, 0);
  const f41 = facAt(kind, W, fv, F, 4, 1);
  const f42 = facAt(kind, W, fv, F, 4, 2);
  const f43 = facAt(kind, W, fv, F, 4, 3);
  const f50 = facAt(kind, W, fv, F, 5, 0);
  const f51 = facAt(kind, W, fv, F, 5, 1);
  const f52 = facAt(kind, W, fv, F, 5, 2);
  const f53 = facAt(kind, W, fv, F, 5, 3);
  let xp = x + first;
  let dp = dy + first;
  let op = out + first;
  let i = i0;
  const end = i1 - (i1 - i0) % U;
  for (; i < end; i += U) {
    const x0 = needX ? v128.load(xp) : f32x4.splat(0);
    const x1 = needX ? v128.load(xp + o1) : x0;
    const x2 = needX ? v128.load(xp + o2) : x0;
    const x3 = needX ? v128.load(xp + o3) : x0;
    const d0 = two ? v128.load(dp) : x0;
    const d1 = two ? v128.load(dp + o1) : x0;
    const d2 = two ? v128.load(dp + o2) : x0;
    const d3 = two ? v128.load(dp + o3) : x0;
    v128.store(op, applyVec(
      kind, x0, d0, pick(0 % W, f00, f01, f02, f03), pick(0 % W, f10, f11, f12, f13),
      pick(0 % W, f20, f21, f22, f23), pick(0 % W, f30, f31, f32, f33),
      pick(0 % W, f40, f41, f42, f43), pick(0 % W, f50, f51, f52, f53),
    ));
    v128.store(op + o1, applyVec(
      kind, x1, d1, pick(1 % W, f00, f01, f02, f03), pick(1 % W, f10, f11, f12, f13),
      pick(1 % W, f20, f21, f22, f23), pick(1 % W, f30, f31, f32, f33),
      pick(1 % W, f40, f41, f42, f43), pick(1 % W, f50, f51, f52, f53),
    ));
    v128.store(op + o2, applyVec(
      kind, x2, d2, pick(2 % W, f00, f01, f02, f03), pick(2 % W, f10, f11, f12, f13),
      pick(2 % W, f20, f21, f22, f23), pick(2 % W, f30, f31, f32, f33),
      pick(2 % W, f40, f41, f42, f43), pick(2 % W, f50, f51, f52, f53),
    ));
    v128.store(op + o3, applyVec(
      kind, x3, d3, pick(3 % W, f00, f01, f02, f03), pick(3 % W, f10, f11, f12, f13),
      pick(3 % W, f20, f21, f22, f23), pick(3 % W, f30, f31, f32, f33),
      pick(3 % W, f40, f41, f42, f43), pick(3 % W, f50, f51, f52, f53),
    ));
    if (touch) {
      for (let o: usize = 64; o < stride; o += 64) {
        if (needX) sink = v128.or(sink, v128.load(xp + o));
        sink = v128.or(sink, v128.load(op + o));
      }
    }
    xp += step;
    if (two) dp += step;
    op += step;
  }
  if (touch) touchSink = i32x4.extract_lane(sink, 0);
  // positions past the last whole step (fewer than 4/W; W < 4 only): one position, W vectors
  for (; i < i1; i++) {
    for (let w: i32 = 0; w < W; w++) {
      const o = <usize>(w << 4);
      const xv = needX ? v128.load(xp + o) : f32x4.splat(0);
      const dv = two ? v128.load(dp + o) : xv;
      const fw = fv + o;
      v128.store(op + o, applyVec(
        kind, xv, dv, facAt(kind, 1, fw, F, 0, 0), facAt(kind, 1, fw, F, 1, 0), facAt(kind, 1, fw, F, 2, 0),
        facAt(kind, 1, fw, F, 3, 0), facAt(kind, 1, fw, F, 4, 0), facAt(kind, 1, fw, F, 5, 0),
      ));
    }
    xp += stride;
    dp += stride;
    op += stride;
  }
}

/** chunkApply over channels [0, cv) in chunks of 16, 8 and 4 channels (fv: channel 0 of the first factor). */
@inline function applyAll(
  kind: i32, x: usize, dy: usize, out: usize, channels: i32, cv: i32, i0: i32, i1: i32, fv: usize, F: usize,
): void {
  const stride = <usize>channels << 2;
  for (let t0 = i0; t0 < i1; t0 += CH_BLOCK) {
    const t1 = i1 - t0 < CH_BLOCK ? i1 : t0 + CH_BLOCK;
    let c: i32 = 0;
    if (cv > 16) {
      chunkApply(kind, 4, x, dy, out, stride, t0, t1, fv, F, true);
      c = 16;
    }
    for (; c + 16 <= cv; c += 16) {
      chunkApply(kind, 4, f32At(x, c), f32At(dy, c), f32At(out, c), stride, t0, t1, f32At(fv, c), F, false);
    }
    if (c + 8 <= cv) {
      chunkApply(kind, 2, f32At(x, c), f32At(dy, c), f32At(out, c), stride, t0, t1, f32At(fv, c), F, false);
      c += 8;
    }
    if (c + 4 <= cv) {
      chunkApply(kind, 1, f32At(x, c), f32At(dy, c), f32At(out, c), stride, t0, t1, f32At(fv, c), F, false);
    }
  }
}

function applyRmsF(x: usize, y: usize, channels: i32, cv: i32, cols: i32, fv: usize, F: usize): void {
  applyAll(A_RMS_F, x, 0, y, channels, cv, 0, cols, fv, F);
}
function applyLnF(x: usize, y: usize, channels: i32, cv: i32, cols: i32, fv: usize, F: usize): void {
  applyAll(A_LN_F, x, 0, y, channels, cv, 0, cols, fv, F);
}
function applyRmsB(
  dy: usize, x: usize, dx: usize, channels: i32, cv: i32, i0: i32, i1: i32, fv: usize, F: usize,
): void {
  applyAll(A_RMS_B, x, dy, dx, channels, cv, i0, i1, fv, F);
}
function applyRmsB0(dy: usize, dx: usize, channels: i32, cv: i32, i0: i32, i1: i32, fv: usize, F: usize): void {
  applyAll(A_RMS_B0, 0, dy, dx, channels, cv, i0, i1, fv, F);
}
function applyLnB(dy: usize, x: usize, dx: usize, channels: i32, cv: i32, cols: i32, fv: usize, F: usize): void {
  applyAll(A_LN_B, x, dy, dx, channels, cv, 0, cols, fv, F);
}

// ---------------------------------------------------------------- exact f64 paths (one (b, c) vector, strided)

/** Σ_{i<n} (x_i − c)² in f64, x at stride `stride` bytes. */
function sqStrided(x: usize, stride: usize, n: i32, c: f64): f64 {
  let s: f64 = 0;
  for (let i: i32 = 0; i < n; i++) {
    const d = <f64>load<f32>(x + <usize>i * stride) - c;
    s += d * d;
  }
  return s;
}

/** Σ_{i<n} x_i in f64, x at stride `stride` bytes. */
function sumStrided(x: usize, stride: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i: i32 = 0; i < n; i++) s += <f64>load<f32>(x + <usize>i * stride);
  return s;
}

/** RMS forward of one vector in f64 (as the js backend): rstd stored, y = f32(x·rs·g + bias). */
function rmsFwdExact(
  x: usize, y: usize, stride: usize, cols: i32, k: i32, divisor: f64, eps: f64, eo: bool, g: f64, bias: f64,
  rstd: usize,
): void {
  const rs = rmsRstd(sqStrided(x, stride, k, 0), divisor, eps, eo);
  store<f32>(rstd, <f32>rs);
  for (let i: i32 = 0; i < cols; i++) {
    const o = <usize>i * stride;
    store<f32>(y + o, <f32>(<f64>load<f32>(x + o) * rs * g + bias));
  }
}

/** LayerNorm forward of one vector in f64, two-pass (as the js backend). */
function lnFwdExact(
  x: usize, y: usize, stride: usize, cols: i32, eps: f64, g: f64, bias: f64, mean: usize, rstd: usize,
): void {
  const mu = sumStrided(x, stride, cols) / <f64>cols;
  const rs = 1.0 / Math.sqrt(sqStrided(x, stride, cols, mu) / <f64>cols + eps);
  store<f32>(mean, <f32>mu);
  store<f32>(rstd, <f32>rs);
  for (let i: i32 = 0; i < cols; i++) {
    const o = <usize>i * stride;
    store<f32>(y + o, <f32>((<f64>load<f32>(x + o) - mu) * rs * g + bias));
  }
}

/** RMS backward of one vector in f64 (the js backend's formulas); dgamma/dbeta sums += into sumG, sumB. */
function rmsBwdExact(
  dy: usize, x: usize, dx: usize, stride: usize, cols: i32, k: i32, divisor: f64, eo: bool, rs32: f32, g: f64,
  sumG: usize, sumB: usize,
): void {
  const rs = <f64>rs32;
  let sdx: f64 = 0;
  let sd: f64 = 0;
  for (let i: i32 = 0; i < cols; i++) {
    const o = <usize>i * stride;
    const d = <f64>load<f32>(dy + o);
    sdx += d * <f64>load<f32>(x + o);
    sd += d;
  }
  let coef: f64;
  if (eo) {
    const rho = Math.sqrt(sqStrided(x, stride, k, 0) / divisor);
    coef = rho == 0 ? 0 : (rs * rs * g * sdx) / (divisor * rho);
  } else {
    coef = (rs * rs * rs * g * sdx) / divisor;
  }
  store<f64>(sumG, load<f64>(sumG) + sdx * rs);
  store<f64>(sumB, load<f64>(sumB) + sd);
  const gr = g * rs;
  for (let i: i32 = 0; i < cols; i++) {
    const o = <usize>i * stride;
    const v = <f64>load<f32>(dy + o) * gr - (i < k ? <f64>load<f32>(x + o) * coef : 0);
    store<f32>(dx + o, <f32>v);
  }
}

/** LayerNorm backward of one vector in f64 (the js backend's formulas, exact mean re-derived). */
function lnBwdExact(
  dy: usize, x: usize, dx: usize, stride: usize, cols: i32, saved: f32, rs32: f32, g: f64, sumG: usize, sumB: usize,
): void {
  const rs = <f64>rs32;
  const sm = <f64>saved;
  const n = <f64>cols;
  let sx: f64 = 0;
  let sd: f64 = 0;
  let sdxm: f64 = 0;
  for (let i: i32 = 0; i < cols; i++) {
    const o = <usize>i * stride;
    const xv = <f64>load<f32>(x + o);
    const d = <f64>load<f32>(dy + o);
    sx += xv;
    sd += d;
    sdxm += d * (xv - sm);
  }
  const mu = sx / n;
  const sumDyXhat = (sdxm - (mu - sm) * sd) * rs;
  const meanU = (g * sd) / n;
  const meanUXhat = (g * sumDyXhat) / n;
  store<f64>(sumG, load<f64>(sumG) + sumDyXhat);
  store<f64>(sumB, load<f64>(sumB) + sd);
  for (let i: i32 = 0; i < cols; i++) {
    const o = <usize>i * stride;
    const xhat = (<f64>load<f32>(x + o) - mu) * rs;
    store<f32>(dx + o, <f32>(rs * (g * <f64>load<f32>(dy + o) - meanU - xhat * meanUXhat)));
  }
}

// ---------------------------------------------------------------- blocks

@inline function gainOf(gamma: usize, c: i32, goff: f64): f64 {
  return gamma != 0 ? goff + <f64>load<f32>(f32At(gamma, c)) : 1;
}

@inline function biasOf(beta: usize, c: i32): f64 {
  return beta != 0 ? <f64>load<f32>(f32At(beta, c)) : 0;
}

@inline function finite32(v: f32): bool {
  return v - v == 0;
}

/** RMS forward of one block: Σx² per channel, rstd, s = rstd·gain and t = beta per channel, then y = x·s + t. */
function rmsBlock(
  x: usize, y: usize, rstd: usize, gamma: usize, beta: usize, cols: i32, channels: i32, k: i32, divisor: f64,
  eps: f64, eo: bool, goff: f64, ws: usize,
): void {
  const c4 = (channels + 3) & ~3;
  const cv = channels & ~3;
  const stride = <usize>channels << 2;
  const q = wsQ(ws, c4, 0);
  const fs = wsF(ws, c4, 0);
  const ft = wsF(ws, c4, 1);
  zeroBytes(q, <usize>cv << 3);
  sumSq(x, channels, cv, k, q);
  let exact = false;
  for (let c: i32 = 0; c < cv; c++) {
    let ss = load<f64>(f64At(q, c));
    // f32 squares that over- or underflowed, NaN/Inf: the vector's sum again, exactly
    if (!(ss >= TINY_SUM && ss < f64.MAX_VALUE)) ss = sqStrided(f32At(x, c), stride, k, 0);
    const rs = rmsRstd(ss, divisor, eps, eo);
    store<f32>(f32At(rstd, c), <f32>rs);
    const s = <f32>(rs * gainOf(gamma, c, goff));
    exact = exact || !(rs >= RS_MIN && rs <= RS_MAX) || !finite32(s);
    store<f32>(f32At(fs, c), s);
    store<f32>(f32At(ft, c), <f32>biasOf(beta, c));
  }
  // a vector off the fast path: the whole block in f64 (rare; keeps y = x in place correct)
  const cStart = exact ? 0 : cv;
  if (!exact) applyRmsF(x, y, channels, cv, cols, fs, <usize>c4 << 2);
  for (let c = cStart; c < channels; c++) {
    rmsFwdExact(
      f32At(x, c), f32At(y, c), stride, cols, k, divisor, eps, eo, gainOf(gamma, c, goff), biasOf(beta, c),
      f32At(rstd, c),
    );
  }
}

/**
 * LayerNorm forward of one block in one sweep: Σ(x − p) and Σ(x − p)² around a pivot p per channel (the mean of its
 * first PIVOT_N values, so 1e4 + N(0,1) vectors sum small numbers) give the f64 mean μ and Σ(x − μ)² =
 * Σ(x − p)² − n·(μ − p)², taken when (μ − p)² ≤ σ² (the subtraction cancels at most half: within 2× the error of a
 * second pass; fails for N(0,1) data only when the pivot is 4 of its standard errors off), else (and for constant,
 * extreme or non-finite vectors) the exact two-pass sum of that vector. Then y = ((x − hi) − lo)·s + t with μ = hi + lo
 * as two f32s, s = rstd·gamma, t = beta.
 */
function lnBlock(
  x: usize, y: usize, mean: usize, rstd: usize, gamma: usize, beta: usize, cols: i32, channels: i32, eps: f64,
  ws: usize,
): void {
  const c4 = (channels + 3) & ~3;
  const cv = channels & ~3;
  const stride = <usize>channels << 2;
  const n = <f64>cols;
  const q0 = wsQ(ws, c4, 0);
  const q1 = wsQ(ws, c4, 1);
  const fp = wsF(ws, c4, 0); // pivot
  const fh = wsF(ws, c4, 1); // factors hi, lo, s, t
  const fl = wsF(ws, c4, 2);
  const fs = wsF(ws, c4, 3);
  const ft = wsF(ws, c4, 4);
  zeroBytes(q0, <usize>cv << 3);
  zeroBytes(q1, <usize>cv << 3);
  pivots(x, stride, cv, cols, fp);
  sumPivot(x, channels, cv, cols, fp, q0, q1);
  let exact = false;
  for (let c: i32 = 0; c < cv; c++) {
    const p = <f64>load<f32>(f32At(fp, c));
    let mu = p + load<f64>(f64At(q0, c)) / n;
    if (!isFinite(mu)) mu = sumStrided(f32At(x, c), stride, cols) / n;
    const sp = load<f64>(f64At(q1, c));
    const m1 = n * (mu - p) * (mu - p);
    let sq = sp - m1;
    if (!(sp >= TINY_SUM && sp < f64.MAX_VALUE && m1 <= sq)) sq = sqStrided(f32At(x, c), stride, cols, mu);
    const rs = 1.0 / Math.sqrt(sq / n + eps);
    store<f32>(f32At(mean, c), <f32>mu);
    store<f32>(f32At(rstd, c), <f32>rs);
    const hi = <f32>mu;
    store<f32>(f32At(fh, c), hi);
    store<f32>(f32At(fl, c), <f32>(mu - <f64>hi));
    const s = <f32>(rs * gainOf(gamma, c, 0));
    exact = exact || !(rs >= RS_MIN_LN && rs <= RS_MAX) || !finite32(s) || !isFinite(mu);
    store<f32>(f32At(fs, c), s);
    store<f32>(f32At(ft, c), <f32>biasOf(beta, c));
  }
  const cStart = exact ? 0 : cv;
  if (!exact) applyLnF(x, y, channels, cv, cols, fh, <usize>c4 << 2);
  for (let c = cStart; c < channels; c++) {
    lnFwdExact(
      f32At(x, c), f32At(y, c), stride, cols, eps, gainOf(gamma, c, 0), biasOf(beta, c), f32At(mean, c),
      f32At(rstd, c),
    );
  }
}

// Positions whose mean is a LayerNorm vector's pivot: its standard error σ/8 keeps (μ − p)² ≤ σ² but for 4-sigma
// events (the condition in lnBlock).
const PIVOT_N: i32 = 64;

/** pv[c] = mean of x[i, c] for i < min(cols, PIVOT_N), c < cv, in f32 (the first value where that is not finite). */
function pivots(x: usize, stride: usize, cv: i32, cols: i32, pv: usize): void {
  const m = cols < PIVOT_N ? cols : PIVOT_N;
  const inv = f32x4.splat(<f32>(1.0 / <f64>m));
  for (let o: usize = 0; o < (<usize>cv << 2); o += 16) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let i: i32 = 0;
    for (; i + 2 <= m; i += 2) {
      a0 = f32x4.add(a0, v128.load(x + <usize>i * stride + o));
      a1 = f32x4.add(a1, v128.load(x + <usize>(i + 1) * stride + o));
    }
    if (i < m) a0 = f32x4.add(a0, v128.load(x + <usize>i * stride + o));
    const p = f32x4.mul(f32x4.add(a0, a1), inv);
    const finite = f32x4.eq(f32x4.sub(p, p), f32x4.splat(0));
    v128.store(pv + o, v128.bitselect(p, v128.load(x + o), finite));
  }
}

/**
 * RMS backward of one block: Σ dy·x̂ and Σ dy per channel (x̂ = x·rs), then dx = (dy·g − x·B)·rs (i < k; dy·A past
 * k) with g the gain, B = c·rs, A = g·rs, c = g·Σdy·x̂/divisor (eps inside) or g·Σdy·x/(divisor·ρ) (outside).
 */
function rmsBackBlock(
  dy: usize, x: usize, dx: usize, rstd: usize, gamma: usize, cols: i32, channels: i32, k: i32, divisor: f64,
  eo: bool, goff: f64, ws: usize,
): void {
  const c4 = (channels + 3) & ~3;
  const cv = channels & ~3;
  const stride = <usize>channels << 2;
  const sumG = ws;
  const sumB = f64At(ws, c4);
  const q0 = wsQ(ws, c4, 0);
  const q1 = wsQ(ws, c4, 1);
  const q2 = wsQ(ws, c4, 2);
  const fg = wsF(ws, c4, 0); // factors g, B, rs of the sweep up to k (consecutive), A of the sweep past k
  const fb = wsF(ws, c4, 1);
  const fr = wsF(ws, c4, 2);
  const fa = wsF(ws, c4, 3);
  let exact = false;
  for (let c: i32 = 0; c < cv; c++) {
    const rs = load<f32>(f32At(rstd, c));
    exact = exact || !(<f64>rs >= RS_MIN && <f64>rs <= RS_MAX);
    store<f32>(f32At(fr, c), rs);
  }
  if (!exact) {
    zeroBytes(q0, <usize>cv << 3);
    zeroBytes(q1, <usize>cv << 3);
    sumRmsBack(dy, x, channels, cv, cols, fr, q0, q1);
    if (eo) {
      zeroBytes(q2, <usize>cv << 3);
      sumSq(x, channels, cv, k, q2);
    }
    for (let c: i32 = 0; c < cv; c++) {
      const rs = <f64>load<f32>(f32At(fr, c));
      const dot = load<f64>(f64At(q0, c)); // Σ dy·x̂
      const g = gainOf(gamma, c, goff);
      let cc: f64;
      if (eo) {
        let ss = load<f64>(f64At(q2, c));
        if (!(ss >= TINY_SUM && ss < f64.MAX_VALUE)) ss = sqStrided(f32At(x, c), stride, k, 0);
        const rho = Math.sqrt(ss / divisor);
        cc = rho == 0 ? 0 : (g * dot) / (rs * divisor * rho);
      } else {
        cc = (g * dot) / divisor;
      }
      const a = <f32>(g * rs);
      const b = <f32>(cc * rs);
      exact = exact || !isFinite(dot) || !finite32(<f32>g) || !finite32(a) || !finite32(b);
      store<f32>(f32At(fg, c), <f32>g);
      store<f32>(f32At(fa, c), a);
      store<f32>(f32At(fb, c), b);
    }
  }
  if (!exact) {
    for (let c: i32 = 0; c < cv; c++) {
      store<f64>(f64At(sumG, c), load<f64>(f64At(sumG, c)) + load<f64>(f64At(q0, c)));
      store<f64>(f64At(sumB, c), load<f64>(f64At(sumB, c)) + load<f64>(f64At(q1, c)));
    }
    const F = <usize>c4 << 2;
    applyRmsB(dy, x, dx, channels, cv, 0, k, fg, F);
    if (k < cols) applyRmsB0(dy, dx, channels, cv, k, cols, fa, F);
  }
  for (let c = exact ? 0 : cv; c < channels; c++) {
    rmsBwdExact(
      f32At(dy, c), f32At(x, c), f32At(dx, c), stride, cols, k, divisor, eo, load<f32>(f32At(rstd, c)),
      gainOf(gamma, c, goff), f64At(sumG, c), f64At(sumB, c),
    );
  }
}

/**
 * LayerNorm backward of one block: Σ dy·(x − m) and Σ dy per channel (m: the saved, f32-rounded mean), Σ(x − m) for
 * the exact mean μ = m + shift, then dx = dy·A − ((x − m) − shift)·rs·B − C with A = gain·rs, B = b·rs, C = a·rs,
 * a = gain·Σdy/cols, b = gain·Σdy·x̂/cols (the row kernel's dx = (u − a − x̂·b)·rs).
 */
function lnBackBlock(
  dy: usize, x: usize, dx: usize, mean: usize, rstd: usize, gamma: usize, cols: i32, channels: i32, ws: usize,
): void {
  const c4 = (channels + 3) & ~3;
  const cv = channels & ~3;
  const stride = <usize>channels << 2;
  const n = <f64>cols;
  const sumG = ws;
  const sumB = f64At(ws, c4);
  const q0 = wsQ(ws, c4, 0);
  const q1 = wsQ(ws, c4, 1);
  const q2 = wsQ(ws, c4, 2);
  const fa = wsF(ws, c4, 0); // factors A, m, shift, rs, B, C
  const fm = wsF(ws, c4, 1);
  const fsh = wsF(ws, c4, 2);
  const fr = wsF(ws, c4, 3);
  const fb = wsF(ws, c4, 4);
  const fc = wsF(ws, c4, 5);
  let exact = false;
  for (let c: i32 = 0; c < cv; c++) {
    const rs = load<f32>(f32At(rstd, c));
    exact = exact || !(<f64>rs >= RS_MIN_LN && <f64>rs <= RS_MAX);
    store<f32>(f32At(fr, c), rs);
    store<f32>(f32At(fm, c), load<f32>(f32At(mean, c)));
  }
  if (!exact) {
    zeroBytes(q0, <usize>cv << 3);
    zeroBytes(q1, <usize>cv << 3);
    zeroBytes(q2, <usize>cv << 3);
    sumLnBack(dy, x, channels, cv, cols, fm, q0, q1);
    // the saved mean is f32-rounded (≈5e-4 off on 1e4 + N(0,1)): the exact mean from Σ(x − m), f32 blocks into f64
    sumShift(x, channels, cv, cols, fm, q2);
    for (let c: i32 = 0; c < cv; c++) {
      const rs = <f64>load<f32>(f32At(fr, c));
      const g = gainOf(gamma, c, 0);
      const sd = load<f64>(f64At(q1, c));
      const shift = load<f64>(f64At(q2, c)) / n;
      const sumDyXhat = (load<f64>(f64At(q0, c)) - shift * sd) * rs;
      const A = <f32>(g * rs);
      const B = <f32>(((g * sumDyXhat) / n) * rs);
      const C = <f32>(((g * sd) / n) * rs);
      exact = exact || !isFinite(sumDyXhat) || !finite32(A) || !finite32(B) || !finite32(C);
      store<f32>(f32At(fa, c), A);
      store<f32>(f32At(fsh, c), <f32>shift);
      store<f32>(f32At(fb, c), B);
      store<f32>(f32At(fc, c), C);
      store<f64>(f64At(q0, c), sumDyXhat);
    }
  }
  if (!exact) {
    for (let c: i32 = 0; c < cv; c++) {
      store<f64>(f64At(sumG, c), load<f64>(f64At(sumG, c)) + load<f64>(f64At(q0, c)));
      store<f64>(f64At(sumB, c), load<f64>(f64At(sumB, c)) + load<f64>(f64At(q1, c)));
    }
    applyLnB(dy, x, dx, channels, cv, cols, fa, <usize>c4 << 2);
  }
  for (let c = exact ? 0 : cv; c < channels; c++) {
    lnBwdExact(
      f32At(dy, c), f32At(x, c), f32At(dx, c), stride, cols, load<f32>(f32At(mean, c)), load<f32>(f32At(rstd, c)),
      gainOf(gamma, c, 0), f64At(sumG, c), f64At(sumB, c),
    );
  }
}

// ---------------------------------------------------------------- job entry points (blocks [b0, b1) of a part)

@inline function partWs(args: usize, part: i32): usize {
  return ptr(args, WS) + <usize>part * ptr(args, WS_STRIDE);
}

export function rmsChForward(args: usize, b0: i32, b1: i32, part: i32): void {
  const cols = <i32>slot(args, COLS);
  const channels = <i32>slot(args, CHANNELS);
  const k = <i32>slot(args, K);
  const divisor = slot(args, DIVISOR);
  const eps = slot(args, EPS);
  const eo = slot(args, EPS_OUTSIDE) != 0;
  const goff = <f64>(<f32>slot(args, GAMMA_OFFSET));
  const blockBytes = <usize>cols * <usize>channels * 4;
  const statBytes = <usize>channels << 2;
  const ws = partWs(args, part);
  for (let b = b0; b < b1; b++) {
    const o = <usize>b * blockBytes;
    rmsBlock(
      ptr(args, P0) + o, ptr(args, P0 + 3) + o, ptr(args, P0 + 4) + <usize>b * statBytes, ptr(args, P0 + 1),
      ptr(args, P0 + 2), cols, channels, k, divisor, eps, eo, goff, ws,
    );
  }
}

export function lnChForward(args: usize, b0: i32, b1: i32, part: i32): void {
  const cols = <i32>slot(args, COLS);
  const channels = <i32>slot(args, CHANNELS);
  const eps = slot(args, EPS);
  const blockBytes = <usize>cols * <usize>channels * 4;
  const statBytes = <usize>channels << 2;
  const ws = partWs(args, part);
  for (let b = b0; b < b1; b++) {
    const o = <usize>b * blockBytes;
    const so = <usize>b * statBytes;
    lnBlock(
      ptr(args, P0) + o, ptr(args, P0 + 3) + o, ptr(args, P0 + 4) + so, ptr(args, P0 + 5) + so, ptr(args, P0 + 1),
      ptr(args, P0 + 2), cols, channels, eps, ws,
    );
  }
}

export function rmsChBackward(args: usize, b0: i32, b1: i32, part: i32): void {
  const cols = <i32>slot(args, COLS);
  const channels = <i32>slot(args, CHANNELS);
  const k = <i32>slot(args, K);
  const divisor = slot(args, DIVISOR);
  const eo = slot(args, EPS_OUTSIDE) != 0;
  const goff = <f64>(<f32>slot(args, GAMMA_OFFSET));
  const blockBytes = <usize>cols * <usize>channels * 4;
  const statBytes = <usize>channels << 2;
  const ws = partWs(args, part);
  zeroBytes(ws, <usize>((channels + 3) & ~3) << 4); // this part's dgamma/dbeta sums
  for (let b = b0; b < b1; b++) {
    const o = <usize>b * blockBytes;
    rmsBackBlock(
      ptr(args, P0) + o, ptr(args, P0 + 1) + o, ptr(args, P0 + 4) + o, ptr(args, P0 + 2) + <usize>b * statBytes,
      ptr(args, P0 + 3), cols, channels, k, divisor, eo, goff, ws,
    );
  }
}

export function lnChBackward(args: usize, b0: i32, b1: i32, part: i32): void {
  const cols = <i32>slot(args, COLS);
  const channels = <i32>slot(args, CHANNELS);
  const blockBytes = <usize>cols * <usize>channels * 4;
  const statBytes = <usize>channels << 2;
  const ws = partWs(args, part);
  zeroBytes(ws, <usize>((channels + 3) & ~3) << 4);
  for (let b = b0; b < b1; b++) {
    const o = <usize>b * blockBytes;
    const so = <usize>b * statBytes;
    lnBackBlock(
      ptr(args, P0) + o, ptr(args, P0 + 1) + o, ptr(args, P0 + 5) + o, ptr(args, P0 + 2) + so,
      ptr(args, P0 + 3) + so, ptr(args, P0 + 4), cols, channels, ws,
    );
  }
}
