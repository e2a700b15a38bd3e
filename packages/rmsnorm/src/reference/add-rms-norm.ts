// float64 oracle for the fused residual add + RMSNorm, forward and backward (docs/math.md §7). The sum is rounded to
// the storage type exactly as the contract says (its rounding is part of the op), everything after it is float64.
import type { Dtype } from '../backends/backend.js';
import { roundToDtype } from './half.js';
import { rmsNormBackwardRef, rmsNormRef, type RefBackward, type RmsNormRefOptions } from './rms-norm.js';

export interface AddRmsNormRefOptions extends RmsNormRefOptions {
  /** Storage type the sum is rounded to (default 'float32'). Inputs are given as their decoded values. */
  dtype?: Dtype;
}

export interface AddRmsNormRefForward {
  /** rmsNorm(sum) in float64 (not rounded to the storage type). */
  y: Float64Array;
  /** x + residual rounded to the storage type (so it is exactly what a kernel must store). */
  sum: Float64Array;
  rstd: Float64Array;
}

/**
 * sum = round_dtype(x + residual), y = rmsNorm(sum) with every RMSNorm option (k for pRMSNorm).
 * @example addRmsNormRef([1, 2], [0, 1], 2).sum // [1, 3]
 */
export function addRmsNormRef(
  x: ArrayLike<number>,
  residual: ArrayLike<number>,
  cols: number,
  o: AddRmsNormRefOptions = {},
): AddRmsNormRefForward {
  const dtype = o.dtype ?? 'float32';
  const sum = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) sum[i] = roundToDtype(x[i] + residual[i], dtype);
  const { y, rstd } = rmsNormRef(sum, cols, o);
  return { y, sum, rstd };
}

/**
 * dx = dsum + ∂y/∂sum·dy (the gradient for both x and residual, since ∂sum/∂x = ∂sum/∂residual = I; the rounding
 * of the sum is treated as the identity, as every framework does); dgamma/dbeta as for RMSNorm of sum.
 */
export function addRmsNormBackwardRef(
  dy: ArrayLike<number>,
  dsum: ArrayLike<number> | null,
  sum: ArrayLike<number>,
  cols: number,
  o: AddRmsNormRefOptions = {},
): RefBackward {
  const g = rmsNormBackwardRef(dy, sum, cols, o);
  if (dsum !== null) for (let i = 0; i < g.dx.length; i++) g.dx[i] += dsum[i];
  return g;
}
