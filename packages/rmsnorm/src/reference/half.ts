// float64 oracle for 16-bit storage (IEEE binary16, bfloat16): exact decode and round-to-nearest-even encode, by
// plain arithmetic on powers of two (no bit tricks), written independently of the kernels' src/backends/js/half.ts.
import type { Dtype } from '../backends/backend.js';

interface Format {
  /** stored significand bits */
  man: number;
  /** exponent of the smallest normal */
  emin: number;
  /** exponent of the largest finite binade */
  emax: number;
  bias: number;
  nanBits: number;
}

const FORMATS: Record<'float16' | 'bfloat16', Format> = {
  float16: { man: 10, emin: -14, emax: 15, bias: 15, nanBits: 0x7e00 },
  bfloat16: { man: 7, emin: -126, emax: 127, bias: 127, nanBits: 0x7fc0 },
};

function format(dtype: 'float16' | 'bfloat16'): Format {
  return FORMATS[dtype];
}

/**
 * The exact value of a 16-bit pattern: (−1)^s · 2^(e−bias) · (1 + m/2^man), subnormal (−1)^s · 2^emin · m/2^man.
 * @example halfToNumber(0x3c00, 'float16') // 1
 */
export function halfToNumber(bits: number, dtype: 'float16' | 'bfloat16'): number {
  const f = format(dtype);
  const expBits = 15 - f.man;
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> f.man) & ((1 << expBits) - 1);
  const m = bits & ((1 << f.man) - 1);
  if (e === (1 << expBits) - 1) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * m * 2 ** (f.emin - f.man);
  return sign * 2 ** (e - f.bias) * (1 + m / 2 ** f.man);
}

/** Round a non-negative real q to the nearest integer, ties to even. */
function roundHalfEven(q: number): number {
  const n = Math.floor(q);
  const frac = q - n; // exact: q < 2^53
  if (frac > 0.5) return n + 1;
  if (frac < 0.5) return n;
  return n % 2 === 0 ? n : n + 1;
}

/**
 * The 16-bit pattern nearest to v (ties to even), with subnormals, overflow to ±Inf (from max + ulp/2 on) and
 * NaN → the canonical quiet NaN.
 * @example numberToHalf(1 / 3, 'float16') // 0x3555
 */
export function numberToHalf(v: number, dtype: 'float16' | 'bfloat16'): number {
  const f = format(dtype);
  const infBits = ((1 << (15 - f.man)) - 1) << f.man;
  if (Number.isNaN(v)) return f.nanBits;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a === Infinity) return sign | infBits;
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  e = Math.max(e, f.emin);
  if (e > f.emax) return sign | infBits;
  // a = q · 2^(e − man) exactly (division by a power of two), 0 < q < 2^(man+1)
  let n = roundHalfEven(a / 2 ** (e - f.man));
  if (n === 2 ** (f.man + 1)) {
    n = 2 ** f.man;
    e++;
  }
  if (e > f.emax) return sign | infBits;
  if (n < 2 ** f.man) return sign | n; // subnormal (only possible at e = emin)
  return sign | ((e + f.bias) << f.man) | (n - 2 ** f.man);
}

/**
 * v rounded to the storage type (float32: Math.fround; 16-bit: nearest even), as a number.
 * @example roundToDtype(1 + 2 ** -12, 'float16') // 1
 */
export function roundToDtype(v: number, dtype: Dtype): number {
  if (dtype === 'float32') return Math.fround(v);
  return halfToNumber(numberToHalf(v, dtype), dtype);
}

/** Decode a whole storage array to float64 (Float32Array values as they are, Uint16Array through halfToNumber). */
export function decodeArray(a: Float32Array | Uint16Array, dtype: Dtype): Float64Array {
  const out = new Float64Array(a.length);
  if (dtype === 'float32') {
    for (let i = 0; i < a.length; i++) out[i] = a[i];
  } else {
    for (let i = 0; i < a.length; i++) out[i] = halfToNumber(a[i], dtype);
  }
  return out;
}

/** Encode float64 values into 16-bit patterns (nearest even). */
export function encodeArray(values: ArrayLike<number>, dtype: 'float16' | 'bfloat16'): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToHalf(values[i], dtype);
  return out;
}
