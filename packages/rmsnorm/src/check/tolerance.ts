// The one tolerance table: how far each backend's float32 results may be from the float64 reference.
// Shipped in src (not test/) because `rmsnorm check` uses it; test/tolerance.ts re-exports it.

/** Backends whose kernels are checked against the float64 reference. */
export type ToleranceBackend = 'js' | 'wasm';
/** Op families; pRMSNorm is rmsNorm with p < 1. */
export type ToleranceOp = 'rmsNorm' | 'layerNorm' | 'l2Norm';
export type Direction = 'forward' | 'backward';

/**
 * Element-wise bound, checked as |actual − expected| ≤ atol · scale + rtol · |expected|, where `scale` is the natural
 * size of the element's row (run-case.ts): y: max |x̂·g| + |beta|; dx: its largest term before cancellation,
 * rstd·(max|u| + max|x̂|·Σ|u x̂|/divisor); dgamma/dbeta: Σ_rows |dy x̂|, Σ_rows |dy|; rstd: itself; mean: max |x|.
 * Scaling atol by the row makes the table scale-free: y is O(1) but dx scales as 1/|x| (|x| = 1e30 gives dx ≈ 1e-30).
 */
export interface Tolerance {
  atol: number;
  rtol: number;
}

// js: f64 accumulation and one final f32 rounding (forward ≈ 0.5 ulp); backward reads the f32-rounded saved rstd
// (and mean), so its cancellation terms carry a few f32 ulps of the row scale.
// wasm: f32 SIMD arithmetic allowed (a few ulps more per op), same structure.
const JS_FORWARD: Tolerance = { atol: 2e-7, rtol: 2e-7 };
const JS_BACKWARD: Tolerance = { atol: 5e-7, rtol: 5e-7 };
const WASM_FORWARD: Tolerance = { atol: 2e-6, rtol: 2e-6 };
const WASM_BACKWARD: Tolerance = { atol: 2e-5, rtol: 2e-5 };

export const TOLERANCES: Readonly<Record<ToleranceBackend, Readonly<Record<ToleranceOp, Readonly<Record<Direction, Tolerance>>>>>> = {
  js: {
    rmsNorm: { forward: JS_FORWARD, backward: JS_BACKWARD },
    layerNorm: { forward: JS_FORWARD, backward: JS_BACKWARD },
    l2Norm: { forward: JS_FORWARD, backward: JS_BACKWARD },
  },
  wasm: {
    rmsNorm: { forward: WASM_FORWARD, backward: WASM_BACKWARD },
    layerNorm: { forward: WASM_FORWARD, backward: WASM_BACKWARD },
    l2Norm: { forward: WASM_FORWARD, backward: WASM_BACKWARD },
  },
};

/**
 * Normalised mean squared error bound for large random inputs: Σ(actual − expected)² / Σ expected² ≤ NMSE_BOUND.
 * Catches small systematic drift (e.g. f32 accumulation over 2^20 values) that a per-element bound lets through.
 */
export const NMSE_BOUND = 1e-7;

/** Look up the bound for one backend × op × direction. @example tolerance('js', 'rmsNorm', 'forward') */
export function tolerance(backend: ToleranceBackend, op: ToleranceOp, direction: Direction): Tolerance {
  return TOLERANCES[backend][op][direction];
}

/** Storage type of the activation arrays (options.dtype). */
export type StorageDtype = 'float32' | 'float16' | 'bfloat16';

/**
 * What storing an activation output (y, sum, dx) in a 16-bit type adds to the float32 bound: one ulp of the type
 * relative (round to nearest gives ≤ 1/2 ulp ≤ 2^-11·|e| for binary16; 1 ulp leaves room for one rounding of an
 * f32-rounded intermediate, e.g. wasm's f32 arithmetic) and one subnormal quantum absolute (results below the
 * normal range, e.g. dx of rows of magnitude 6e4). rstd, mean, dgamma and dbeta stay float32: the table above.
 */
export const STORAGE_TOLERANCES: Readonly<Record<StorageDtype, { rtol: number; abs: number }>> = {
  float32: { rtol: 0, abs: 0 },
  float16: { rtol: 2 ** -10, abs: 2 ** -24 },
  bfloat16: { rtol: 2 ** -7, abs: 2 ** -133 },
};

/**
 * Bound for an activation output stored as `dtype`: |a − e| ≤ atol·scale + rtol·|e| + abs, the float32 entry of
 * the table widened by STORAGE_TOLERANCES. addRmsNorm uses the rmsNorm rows (the add is exact before its rounding).
 * @example storageTolerance('js', 'rmsNorm', 'forward', 'float16') // { atol: 2e-7, rtol: 2e-7 + 2^-10, abs: 2^-24 }
 */
export function storageTolerance(
  backend: ToleranceBackend, op: ToleranceOp, direction: Direction, dtype: StorageDtype,
): Tolerance & { abs: number } {
  const base = TOLERANCES[backend][op][direction];
  const s = STORAGE_TOLERANCES[dtype];
  return { atol: base.atol, rtol: base.rtol + s.rtol, abs: s.abs };
}
