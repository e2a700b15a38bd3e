// Public L2-Norm ops (the paper's ablation): the RMS-family kernels with k = cols and divisor 1.
import type { Storage } from '../backends/backend.js';
import type {
  BackwardResult,
  BackwardResultWith,
  L2NormBackwardOptions,
  L2NormOptions,
  RmsNormResult,
  WithBeta,
  WithGamma,
} from '../types.js';
import { rmsFamilyBackward, rmsFamilyForward, rmsFamilySettings } from './rms-norm.js';

/**
 * L2-Norm over the last axis: rstd = 1/sqrt(Σ x² + eps) (inside, default) or 1/(‖x‖ + eps) (outside),
 * y = x · rstd · (gammaOffset + gamma) + beta. Equals RMSNorm with the gain scaled by 1/√cols (and eps/cols).
 *
 * Shapes: x rows × cols; gamma/beta cols; y rows × cols; rstd rows (= 1/‖x‖ per row). `options.channels`: the
 * channels-last layout as for rmsNorm (docs/math.md §9).
 *
 * @example
 * const { y } = l2Norm(new Float32Array([3, 4]), 2); // y ≈ [0.6, 0.8]
 */
export function l2Norm<A extends Storage = Float32Array>(x: A, cols: number, options?: L2NormOptions): RmsNormResult<A> {
  return rmsFamilyForward(rmsFamilySettings(x, cols, options, true, ['y', 'rstd'])) as RmsNormResult<A>;
}

/**
 * Gradients of L2-Norm: dx = rstd·(u − x̂ (x̂·u)) with u = (gammaOffset + gamma) ⊙ dy, x̂ = x·rstd (eps inside);
 * dgamma = Σ_rows dy ⊙ x̂, dbeta = Σ_rows dy.
 *
 * @example
 * const { rstd } = l2Norm(x, cols);
 * const { dx } = l2NormBackward(dy, x, rstd, cols);
 */
export function l2NormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, rstd: Float32Array, cols: number, options: L2NormBackwardOptions & WithGamma & WithBeta,
): BackwardResultWith<A, 'dgamma' | 'dbeta'>;
export function l2NormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, rstd: Float32Array, cols: number, options: L2NormBackwardOptions & WithGamma,
): BackwardResultWith<A, 'dgamma'>;
export function l2NormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, rstd: Float32Array, cols: number, options: L2NormBackwardOptions & WithBeta,
): BackwardResultWith<A, 'dbeta'>;
export function l2NormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, rstd: Float32Array, cols: number, options?: L2NormBackwardOptions,
): BackwardResult<A>;
export function l2NormBackward<A extends Storage = Float32Array>(
  dy: A,
  x: A,
  rstd: Float32Array,
  cols: number,
  options?: L2NormBackwardOptions,
): BackwardResult<A> {
  const s = rmsFamilySettings(x, cols, options, true, ['dx', 'dgamma', 'dbeta']);
  return rmsFamilyBackward(dy, rstd, s) as BackwardResult<A>;
}
