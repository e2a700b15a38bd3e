// Compare a float32 result with its float64 reference under a {atol, rtol} bound; report the worst element.
import type { Tolerance } from './tolerance.js';

/** 2^-149, the spacing of float32 subnormals (its smallest positive value). */
const SUBNORMAL_SPACING = 2 ** -149;

/** Outcome of one comparison. `ratio` = worst error / allowed error (≤ 1 passes); `scaledError` = worst |Δ|/scale. */
export interface Comparison {
  ok: boolean;
  /** Index of the worst element (largest error / allowed), or of the first NaN/Inf mismatch; -1 when empty. */
  worstIndex: number;
  actual: number;
  expected: number;
  error: number;
  allowed: number;
  ratio: number;
  /** Largest |actual − expected| / row scale over the array: the dimensionless f32-vs-f64 error. Its first
   * non-finite mismatch sets ratio = Infinity. */
  scaledError: number;
  /** Σ(a − e)² / Σ e² over finite expected values (0 when Σ e² = 0). */
  nmse: number;
}

/**
 * Element-wise check |a − e| ≤ atol·scale + rtol·|e| where scale = max finite |e| of the element's row
 * (rows of length `rowLength`; pass 1 to compare each element on its own), or `rowScales[row]` when given (e.g. the
 * row's max |x| for a saved mean). NaN must match NaN and ±Inf must match
 * exactly: non-finite values are semantics, not rounding.
 * @example compareArrays(y, ref.y, { atol: 1e-7, rtol: 1e-7 }, cols)
 */
export function compareArrays(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  rowLength: number,
  rowScales?: ArrayLike<number>,
): Comparison {
  const result: Comparison = {
    ok: actual.length === expected.length,
    worstIndex: -1,
    actual: NaN,
    expected: NaN,
    error: 0,
    allowed: 0,
    ratio: 0,
    scaledError: 0,
    nmse: 0,
  };
  if (!result.ok) {
    result.ratio = Infinity;
    return result;
  }
  let sumSqErr = 0;
  let sumSqRef = 0;
  const n = expected.length;
  const step = Math.max(1, rowLength);
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    let scale = 0;
    for (let i = start; i < end; i++) {
      const e = Math.abs(expected[i]);
      if (Number.isFinite(e) && e > scale) scale = e;
    }
    if (rowScales !== undefined) scale = Math.abs(rowScales[start / step]);
    for (let i = start; i < end; i++) {
      const a = actual[i];
      const e = expected[i];
      if (!Number.isFinite(e) || !Number.isFinite(a)) {
        const same = Number.isNaN(e) ? Number.isNaN(a) : a === e;
        if (!same && result.ratio !== Infinity) {
          Object.assign(result, { ok: false, worstIndex: i, actual: a, expected: e, error: Infinity, ratio: Infinity });
          result.allowed = 0;
        }
        continue;
      }
      const error = Math.abs(a - e);
      // + one float32 subnormal spacing: a result in the subnormal range cannot be stored any closer
      const allowed = tol.atol * scale + tol.rtol * Math.abs(e) + SUBNORMAL_SPACING;
      const ratio = error === 0 ? 0 : allowed === 0 ? Infinity : error / allowed;
      sumSqErr += error * error;
      sumSqRef += e * e;
      if (scale > 0 && error / scale > result.scaledError) result.scaledError = error / scale;
      if (ratio > result.ratio || result.worstIndex === -1) {
        Object.assign(result, { worstIndex: i, actual: a, expected: e, error, allowed, ratio });
        if (ratio > 1) result.ok = false;
      }
    }
  }
  result.nmse = sumSqRef === 0 ? 0 : sumSqErr / sumSqRef;
  return result;
}

/** One line naming the worst element, for assertion messages. */
export function describeComparison(name: string, c: Comparison): string {
  return (
    `${name}: worst index ${c.worstIndex}: actual ${c.actual}, expected ${c.expected}, ` +
    `|error| ${c.error.toExponential(3)} > allowed ${c.allowed.toExponential(3)} (ratio ${c.ratio.toFixed(2)})`
  );
}
