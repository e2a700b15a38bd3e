// 16-bit storage for the js kernels: decode tables (exact 16-bit → number) and round-to-nearest-even encoders from
// a float64 value. Written independently of src/reference/half.ts (which the tests use to check these).
import type { HalfDtype } from '../backend.js';

// One f32 slot viewed as bits: fround and bit access without allocating. Signed int32 bits keep V8 on its word32
// fast path (unsigned values ≥ 2^31 become heap numbers: encoding was 50× slower that way).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const i32 = new Int32Array(f32.buffer);

/**
 * The bits of v rounded to float32 *to odd* (truncate toward zero, set the last bit when inexact). Rounding that
 * to a format with ≤ 22 significand bits by nearest-even gives the correctly rounded result of v (round-to-odd
 * theorem: 24 ≥ 11 + 2), which a plain fround followed by a second rounding would not (double rounding at ties).
 */
function roundToOddF32Bits(v: number): number {
  f32[0] = v;
  let b = i32[0];
  const r = f32[0];
  if (r !== v && v === v) {
    // sign-magnitude: b − 1 steps the magnitude down by one ulp for either sign (also Infinity → max finite)
    if (Math.abs(r) > Math.abs(v)) b = (b - 1) | 0;
    b |= 1;
  }
  return b;
}

/** float32 bits (as int32) → binary16 bits, round to nearest even; subnormals, overflow to ±Inf, NaN kept quiet. */
export function f32BitsToF16(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const abs = b & 0x7fffffff;
  if (abs >= 0x38800000 && abs < 0x477ff000) {
    // the common case, a normal half that cannot round to Inf: add-rounding (a carry steps the exponent), rebias
    return sign | ((abs + 0xfff + ((abs >>> 13) & 1) - 0x38000000) >>> 13);
  }
  const e = (b >>> 23) & 0xff;
  const m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m !== 0 ? 0x200 | (m >>> 13) : 0);
  if (e > 142) return sign | 0x7c00; // ≥ 2^16: beyond the largest finite half even after rounding
  if (e >= 113) {
    // normal half: biased exponent e − 112 in [1, 30]; a carry out of the mantissa steps the exponent (30 → Inf)
    let h = ((e - 112) << 10) | (m >>> 13);
    const rest = m & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) !== 0)) h++;
    return sign | h;
  }
  if (e < 101) return sign; // below 2^-25 (half the smallest subnormal): rounds to ±0
  // subnormal half: the 24-bit significand in units of 2^-24 is (1.m · 2^23) >> (126 − e)
  const mant = 0x800000 | m;
  const shift = 126 - e;
  let h = mant >>> shift;
  const rest = mant & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) !== 0)) h++;
  return sign | h;
}

/** float32 bits (as int32) → bfloat16 bits, round to nearest even; NaN kept NaN (quiet). */
export function f32BitsToBf16(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return (((b + 0x7fff + ((b >>> 16) & 1)) | 0) >>> 16) & 0xffff;
}

/** A float64 value → binary16 bits, correctly rounded (nearest even). */
export function toF16(v: number): number {
  return f32BitsToF16(roundToOddF32Bits(v));
}

/** A float64 value → bfloat16 bits, correctly rounded (nearest even). */
export function toBf16(v: number): number {
  return f32BitsToBf16(roundToOddF32Bits(v));
}

let f16Table: Float32Array | null = null;
let bf16Table: Float32Array | null = null;

function buildF16Table(): Float32Array {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const e = (h >>> 10) & 0x1f;
    let m = h & 0x3ff;
    if (e === 0x1f) {
      u32[0] = sign | 0x7f800000 | (m << 13);
    } else if (e !== 0) {
      u32[0] = sign | ((e + 112) << 23) | (m << 13);
    } else if (m === 0) {
      u32[0] = sign;
    } else {
      // subnormal half: normalise the mantissa into an f32 normal
      let ex = 113;
      while ((m & 0x400) === 0) {
        m <<= 1;
        ex--;
      }
      u32[0] = sign | (ex << 23) | ((m & 0x3ff) << 13);
    }
    t[h] = f32[0];
  }
  return t;
}

function buildBf16Table(): Float32Array {
  const t = new Float32Array(65536);
  const bits = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) bits[h] = h << 16;
  return t;
}

/**
 * The exact value of every 16-bit pattern of `dtype` (256 KiB, built on first use): a load is `table[bits]`.
 * @example decodeTable('float16')[0x3c00] // 1
 */
export function decodeTable(dtype: HalfDtype): Float32Array {
  if (dtype === 'float16') return (f16Table ??= buildF16Table());
  return (bf16Table ??= buildBf16Table());
}

/** The encoder of `dtype`: a float64 value → its correctly rounded 16-bit pattern. */
export function encoder(dtype: HalfDtype): (v: number) => number {
  return dtype === 'float16' ? toF16 : toBf16;
}
