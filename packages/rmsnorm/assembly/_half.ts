// 16-bit storage for the wasm kernels: binary16 (float16) and bfloat16 bit patterns ↔ f32, four lanes at a time
// (i32x4 lanes holding the 16-bit patterns) and scalar. Decoding is exact; encoding rounds to nearest-even with
// subnormals, overflow to ±Inf and NaN kept (quiet) NaN. No data segments: every constant is an immediate.
// Storage codes (the DTYPE job slot): DT_F32 = 0, DT_F16 = 1, DT_BF16 = 2 (src/backends/wasm/job-layout.ts).
import { DT_BF16, DT_F16, DT_F32 } from './_job';

/**
 * f32 lanes of four binary16 patterns (exact): exponent and mantissa moved to f32 position are the value × 2^-112
 * (normal and subnormal alike), so one multiply by 2^112 rebiases; Inf/NaN get the f32 all-ones exponent OR-ed in.
 */
@inline export function f16x4ToF32(h: v128): v128 {
  const m = v128.and(h, i32x4.splat(0x7fff));
  const f = f32x4.mul(i32x4.shl(m, 13), f32x4.splat(5.192296858534828e33)); // 2^112
  const special = v128.and(i32x4.gt_s(m, i32x4.splat(0x7bff)), i32x4.splat(0x7f800000));
  return v128.or(v128.or(f, special), i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** binary16 patterns (i32 lanes in [0, 0xffff]) of four f32, rounded to nearest-even (F. Giesen's float_to_half_rtne). */
@inline export function f32x4ToF16(f: v128): v128 {
  return f32x4ToF16n(f, true);
}

/** f32x4ToF16; nan = false drops the NaN line for lanes known not to be NaN (3 of its 19 instructions). */
@inline export function f32x4ToF16n(f: v128, nan: bool): v128 {
  const sign = v128.and(f, i32x4.splat(0x80000000));
  const a = v128.xor(f, sign);
  // |f| < 2^-14: a binary16 subnormal; adding 0.5 lets the f32 adder round at the 2^-24 quantum (RNE)
  const small = i32x4.sub(f32x4.add(a, f32x4.splat(0.5)), i32x4.splat(0x3f000000));
  // normal: rebias, add 0xfff + the lowest kept bit (ties to even), drop 13 bits; |f| ≥ 65536 (Inf, NaN) is clamped
  // to 65536, which lands on 0x7c00 (Inf), as does everything from 65520 up through the rounding
  const c = i32x4.min_s(a, i32x4.splat(0x47800000));
  const odd = v128.and(i32x4.shr_u(c, 13), i32x4.splat(1));
  const norm = i32x4.shr_u(i32x4.add(i32x4.add(c, i32x4.splat(-0x38000000 + 0xfff)), odd), 13);
  let o = v128.bitselect(small, norm, i32x4.lt_s(a, i32x4.splat(0x38800000)));
  if (nan) o = v128.or(o, v128.and(i32x4.gt_s(a, i32x4.splat(0x7f800000)), i32x4.splat(0x0200))); // NaN → 0x7e00
  return v128.or(o, i32x4.shr_u(sign, 16));
}

/** bfloat16 patterns of four f32, rounded to nearest-even; NaN stays a quiet NaN (the rounding add could make Inf). */
@inline export function f32x4ToBf16(f: v128): v128 {
  const hi = i32x4.shr_u(f, 16);
  const r = i32x4.shr_u(i32x4.add(i32x4.add(f, i32x4.splat(0x7fff)), v128.and(hi, i32x4.splat(1))), 16);
  return v128.bitselect(v128.or(hi, i32x4.splat(0x40)), r, f32x4.ne(f, f));
}

/** Four values of storage `dt` at element index i of p, as f32 lanes (exact). dt is a constant after inlining. */
@inline export function load4(p: usize, i: i32, dt: i32): v128 {
  if (dt == DT_F32) return v128.load(p + (<usize>i << 2));
  const h = v128.load16x4_u(p + (<usize>i << 1));
  return dt == DT_F16 ? f16x4ToF32(h) : i32x4.shl(h, 16);
}

/** Store four f32 lanes at element index i of p in storage `dt` (16-bit: rounded to nearest-even). */
@inline export function store4(p: usize, i: i32, v: v128, dt: i32): void {
  if (dt == DT_F32) {
    v128.store(p + (<usize>i << 2), v);
    return;
  }
  const b = dt == DT_F16 ? f32x4ToF16(v) : f32x4ToBf16(v);
  v128.store64_lane(p + (<usize>i << 1), i16x8.narrow_i32x4_u(b, b), 0);
}

/** One value of storage `dt` at index i as f32 (exact). */
@inline export function load1(p: usize, i: i32, dt: i32): f32 {
  if (dt == DT_F32) return load<f32>(p + (<usize>i << 2));
  const h = <i32>load<u16>(p + (<usize>i << 1));
  return dt == DT_F16 ? f32x4.extract_lane(f16x4ToF32(i32x4.splat(h)), 0) : reinterpret<f32>(h << 16);
}

/** Store one f32 at index i in storage `dt` (16-bit: rounded to nearest-even). */
@inline export function store1(p: usize, i: i32, v: f32, dt: i32): void {
  if (dt == DT_F32) {
    store<f32>(p + (<usize>i << 2), v);
    return;
  }
  const b = dt == DT_F16 ? f32x4ToF16(f32x4.splat(v)) : f32x4ToBf16(f32x4.splat(v));
  store<u16>(p + (<usize>i << 1), <u16>i32x4.extract_lane(b, 0));
}

/** f32 lanes of four 16-bit patterns (i32 lanes). */
@inline export function dec4(v: v128, dt: i32): v128 {
  return dt == DT_F16 ? f16x4ToF32(v) : i32x4.shl(v, 16);
}

/** 16-bit patterns (i32 lanes) of four f32, rounded to nearest-even. */
@inline export function enc4(v: v128, dt: i32): v128 {
  return dt == DT_F16 ? f32x4ToF16(v) : f32x4ToBf16(v);
}

/**
 * Values [i, i + 4) (hi = false) or [i + 4, i + 8) (hi = true) of storage `dt` as f32 lanes. 16-bit: one 16-byte
 * load of all eight widened in halves (a kernel loads the same 16 bytes for both halves: an L1 hit), so a loop step of
 * 8 values moves whole vectors; the narrowing store (store8) likewise. c (a constant 0 or 1) reads values 8·c further
 * on, the 8·c folded into the address's constant part: a loop of 16 values per step keeps one address per stream
 * (V8 computes (i + 8) << 2 apart from i << 2).
 */
@inline export function ld8(p: usize, i: i32, dt: i32, hi: bool, c: i32 = 0): v128 {
  if (dt == DT_F32) return v128.load(p + (<usize>i << 2) + (hi ? 16 : 0) + (<usize>c << 5));
  const h = v128.load(p + (<usize>i << 1) + (<usize>c << 4));
  const u = hi ? bf16Hi(h) : bf16Lo(h);
  return dt == DT_BF16 ? u : f16HighToF32(u);
}

/**
 * f32 lanes of bfloat16 patterns 0–3 (bf16Lo) or 4–7 (bf16Hi) of h: zero low halves interleaved with the patterns
 * (one punpcklwd/punpckhwd in V8, where extend + shift is two instructions).
 */
@inline export function bf16Lo(h: v128): v128 {
  return v128.shuffle<u16>(v128.splat<i32>(0), h, 0, 8, 1, 9, 2, 10, 3, 11);
}
@inline export function bf16Hi(h: v128): v128 {
  return v128.shuffle<u16>(v128.splat<i32>(0), h, 4, 12, 5, 13, 6, 14, 7, 15);
}

/**
 * f + 0x7fff + (bit 16 of f) as i32 lanes: the bfloat16 round-to-nearest-even of a non-NaN f32 is the high half
 * (its f32 value: the low half cleared). NaN lanes may come out as Inf or a wrapped pattern: callers check for NaN
 * (anyNaN8) or know there is none.
 */
@inline export function bf16Round(f: v128): v128 {
  return i32x4.add(i32x4.add(f, i32x4.splat(0x7fff)), v128.and(i32x4.shr_u(f, 16), i32x4.splat(1)));
}

/**
 * f16x4ToF32 of patterns held in the high halves of the i32 lanes (u = h << 16, as bf16Lo/bf16Hi give them: one
 * unpack instead of extend + shift): the sign is already in place.
 */
@inline export function f16HighToF32(u: v128): v128 {
  const m = v128.and(u, i32x4.splat(0x7fff0000));
  const f = f32x4.mul(i32x4.shr_u(m, 3), f32x4.splat(5.192296858534828e33)); // 2^112
  const special = v128.and(i32x4.gt_s(m, i32x4.splat(0x7bff0000)), i32x4.splat(0x7f800000));
  return v128.or(v128.or(f, special), v128.xor(u, m));
}

/**
 * |value| of binary16 magnitude patterns (sign cleared, finite) held in the high halves of the i32 lanes, as f32:
 * what a sum of squares needs (3 instructions). Inf/NaN patterns (≥ 0x7c00) come out finite: callers check them.
 */
@inline export function f16MagToF32(u: v128): v128 {
  return f32x4.mul(i32x4.shr_u(u, 3), f32x4.splat(5.192296858534828e33)); // 2^112
}

/** The largest of the eight u16 lanes of m, in lane 0. */
@inline export function maxLanes16(m: v128): v128 {
  m = i16x8.max_u(m, v128.shuffle<u16>(m, m, 4, 5, 6, 7, 0, 1, 2, 3));
  m = i16x8.max_u(m, v128.shuffle<u16>(m, m, 2, 3, 0, 1, 2, 3, 0, 1));
  return i16x8.max_u(m, v128.shuffle<u16>(m, m, 1, 0, 1, 0, 1, 0, 1, 0));
}

/**
 * f16HighToF32 for patterns known finite (no Inf/NaN exponent line): 3 instructions instead of 8. The arithmetic
 * shift by 3 puts exponent and mantissa in f32 position and copies the sign into bits 28–30, which the mask clears;
 * the multiply by 2^112 rebiases and keeps the sign (−0 stays −0).
 */
@inline export function f16HighToF32Finite(u: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shr_s(u, 3), i32x4.splat(0x8fffffff)), f32x4.splat(5.192296858534828e33)); // 2^112
}

/**
 * binary16 in the "scaled" f32 domain: lanes holding value × 2^-112. There the f16 exponent field is the f32 one and
 * binary16 subnormals are f32 subnormals (both exact), so decoding is 2 instructions and encoding has one rounding
 * formula for normal and subnormal results (no subnormal line, no rebias). A kernel that stays scaled from load to
 * store (y' = x'·rs·gamma + beta·2^-112) rounds its products as the unscaled ones, except results below 2^-14
 * (f16 subnormal): those are rounded first to the f32-subnormal quantum (2^-37 unscaled), then to f16.
 */
export const F16_SCALE: f32 = 1.925929944387236e-34; // 2^-112

/** Scaled f32 lanes (value × 2^-112) of finite binary16 patterns held in the high halves of the i32 lanes. */
@inline export function f16HighToScaled(u: v128): v128 {
  // the arithmetic shift copies the sign into bits 28–30, which the mask clears
  return v128.and(i32x4.shr_s(u, 3), i32x4.splat(0x8fffffff));
}

/** binary16 patterns (i32 lanes) of four scaled f32 lanes, not NaN: nearest-even, |value| ≥ 65,520 → ±Inf. */
@inline export function scaledToF16(f: v128): v128 {
  const sign = v128.and(f, i32x4.splat(0x80000000));
  const c = i32x4.min_s(v128.xor(f, sign), i32x4.splat(0x0f800000)); // 65536 scaled: rounds to 0x7c00 (Inf)
  const t = i32x4.add(i32x4.add(c, i32x4.splat(0xfff)), v128.and(i32x4.shr_u(c, 13), i32x4.splat(1)));
  return v128.or(i32x4.shr_u(t, 13), i32x4.shr_u(sign, 16));
}

/**
 * No Inf/NaN among the binary16 values [0, n) of a, b and (hasC) c: the magnitude patterns' maximum is below
 * 0x7c00. A backward row that passes decodes with ld8Finite; one that does not takes its kernel's f64 row path.
 */
export function finite16(a: usize, b: usize, c: usize, n: i32, hasC: bool): bool {
  const mag = i16x8.splat(0x7fff);
  let m = i16x8.splat(0);
  let i: i32 = 0;
  for (; i + 8 <= n; i += 8) {
    const q = <usize>i << 1;
    m = i16x8.max_u(m, i16x8.max_u(v128.and(v128.load(a + q), mag), v128.and(v128.load(b + q), mag)));
    if (hasC) m = i16x8.max_u(m, v128.and(v128.load(c + q), mag));
  }
  let best = <i32>i16x8.extract_lane_u(maxLanes16(m), 0);
  for (; i < n; i++) {
    const q = <usize>i << 1;
    best = max(best, max(<i32>load<u16>(a + q) & 0x7fff, <i32>load<u16>(b + q) & 0x7fff));
    if (hasC) best = max(best, <i32>load<u16>(c + q) & 0x7fff);
  }
  return best < 0x7c00;
}

/** How many of the binary16 values [0, n) of p are subnormal (magnitude pattern in [1, 0x3ff]). */
export function subnormals16(p: usize, n: i32): i32 {
  let count = 0;
  for (let i: i32 = 0; i < n; i++) {
    const m = <i32>load<u16>(p + (<usize>i << 1)) & 0x7fff;
    if (m != 0 && m < 0x400) count++;
  }
  return count;
}

/**
 * f16HighToF32Finite without f32 subnormal arithmetic: exponent + 112 in integer arithmetic (exact for normal
 * values); exponent-0 lanes (zero, subnormal) get exponent 113 and then − 2^-14: (1 + m/1024)·2^-14 − 2^-14 =
 * m·2^-24, every operand normal. 9 instructions per 4 values instead of 3.
 */
@inline export function f16HighToF32NoSub(u: v128): v128 {
  const m = v128.and(u, i32x4.splat(0x7fff0000));
  const z = i32x4.eq(v128.and(u, i32x4.splat(0x7c000000)), i32x4.splat(0));
  const b = i32x4.add(i32x4.add(i32x4.shr_u(m, 3), i32x4.splat(0x38000000)), v128.and(z, i32x4.splat(0x00800000)));
  return v128.or(f32x4.sub(b, v128.and(z, i32x4.splat(0x38800000))), v128.xor(u, m));
}

/**
 * ld8 for values known finite (a row whose sum of squares was finite). sub: binary16 gradients in the subnormal range,
 * decoded without f32 subnormal arithmetic (f16HighToF32NoSub; the kernels pick it per call part).
 */
@inline export function ld8Finite(p: usize, i: i32, dt: i32, hi: bool, sub: bool = false, c: i32 = 0): v128 {
  if (dt != DT_F16) return ld8(p, i, dt, hi, c);
  const h = v128.load(p + (<usize>i << 1) + (<usize>c << 4));
  const u = hi ? bf16Hi(h) : bf16Lo(h);
  return sub ? f16HighToF32NoSub(u) : f16HighToF32Finite(u);
}

/**
 * binary16 patterns of four f32 lanes that are finite with |f| ≥ 2^-14 (no subnormal, zero or NaN line): rebias
 * and round to nearest-even, ≥ 65,520 → ±Inf.
 */
@inline function f32x4ToF16Normal(f: v128, sign: v128, a: v128): v128 {
  const c = i32x4.min_s(a, i32x4.splat(0x47800000));
  const odd = v128.and(i32x4.shr_u(c, 13), i32x4.splat(1));
  const norm = i32x4.shr_u(i32x4.add(i32x4.add(c, i32x4.splat(-0x38000000 + 0xfff)), odd), 13);
  return v128.or(norm, i32x4.shr_u(sign, 16));
}

/** True when any lane of lo or hi is NaN. */
@inline export function anyNaN8(lo: v128, hi: v128): bool {
  return v128.any_true(v128.or(f32x4.ne(lo, lo), f32x4.ne(hi, hi)));
}

/**
 * st8 for values known not to be NaN (bfloat16: the rounding without the NaN select; binary16: without the NaN
 * line).
 */
@inline export function st8NoNaN(p: usize, i: i32, lo: v128, hi: v128, dt: i32, c: i32 = 0): void {
  if (dt == DT_F32) {
    st8(p, i, lo, hi, dt, c);
    return;
  }
  if (dt == DT_F16) {
    // the subnormal/zero line only for an 8-value chunk that needs it (rare in normalised outputs)
    const sl = v128.and(lo, i32x4.splat(0x80000000));
    const sh = v128.and(hi, i32x4.splat(0x80000000));
    const al = v128.xor(lo, sl);
    const ah = v128.xor(hi, sh);
    const small = v128.or(i32x4.lt_s(al, i32x4.splat(0x38800000)), i32x4.lt_s(ah, i32x4.splat(0x38800000)));
    const q = v128.any_true(small)
      ? i16x8.narrow_i32x4_u(f32x4ToF16n(lo, false), f32x4ToF16n(hi, false))
      : i16x8.narrow_i32x4_u(f32x4ToF16Normal(lo, sl, al), f32x4ToF16Normal(hi, sh, ah));
    v128.store(p + (<usize>i << 1) + (<usize>c << 4), q);
    return;
  }
  const q = i16x8.narrow_i32x4_u(i32x4.shr_u(bf16Round(lo), 16), i32x4.shr_u(bf16Round(hi), 16));
  v128.store(p + (<usize>i << 1) + (<usize>c << 4), q);
}

/**
 * Store values [i, i + 8) (lanes lo then hi; c: 8·c further on, as ld8) in storage `dt` (16-bit: rounded, packed,
 * one 16-byte store).
 */
@inline export function st8(p: usize, i: i32, lo: v128, hi: v128, dt: i32, c: i32 = 0): void {
  if (dt == DT_F32) {
    const q = p + (<usize>i << 2) + (<usize>c << 5);
    v128.store(q, lo);
    v128.store(q, hi, 16);
    return;
  }
  v128.store(p + (<usize>i << 1) + (<usize>c << 4), i16x8.narrow_i32x4_u(enc4(lo, dt), enc4(hi, dt)));
}
