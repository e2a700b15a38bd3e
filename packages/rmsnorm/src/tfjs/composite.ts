// The same norms composed from stock tf ops (autodiff gradients). Used as the fallback on tfjs backends without
// our kernels (webgl, webgpu, tensorflow) and as the "LayerNorm from tf.moments" baseline in benchmarks.
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import { partialK } from '../ops/partial-k.js';
import type { EpsPlacement, KRule } from '../types.js';

/** Settings of the composed RMS family on a 2-D x (rows × cols). */
export interface CompositeRmsSettings {
  l2: boolean;
  eps: number;
  epsPlacement: EpsPlacement;
  p: number;
  kRule: KRule;
  gammaOffset: number;
}

/**
 * RMSNorm / pRMSNorm / L2-Norm over the last axis of a 2-D x, composed from tf ops:
 * y = x · rstd · (gammaOffset + gamma) + beta, rstd from the first k columns (eps inside or outside).
 * @example const y = rmsNormComposite(x2d, gamma, null, { l2: false, eps: 1e-6, epsPlacement: 'inside', p: 1, kRule: 'ceil', gammaOffset: 0 });
 */
export function rmsNormComposite(
  x: Tensor,
  gamma: Tensor | null,
  beta: Tensor | null,
  s: CompositeRmsSettings,
): Tensor {
  return tf.tidy(() => {
    const cols = x.shape[x.rank - 1];
    const k = s.l2 || s.p === 1 ? cols : partialK(s.p, cols, s.kRule);
    const head = k === cols ? x : tf.slice(x, [0, 0], [-1, k]);
    const sumSquares = tf.sum(tf.square(head), -1, true);
    const ms = s.l2 ? sumSquares : tf.div(sumSquares, k);
    const rstd = s.epsPlacement === 'outside'
      ? tf.reciprocal(tf.add(tf.sqrt(ms), s.eps))
      : tf.rsqrt(tf.add(ms, s.eps));
    let y = tf.mul(x, rstd);
    if (gamma !== null) y = tf.mul(y, s.gammaOffset === 0 ? gamma : tf.add(gamma, s.gammaOffset));
    if (beta !== null) y = tf.add(y, beta);
    return y;
  });
}

/**
 * LayerNorm over the last axis from tf.moments: y = (x − mean)·rsqrt(var + eps)·gamma + beta.
 * @example const y = layerNormComposite(x, gamma, beta, 1e-6);
 */
export function layerNormComposite(x: Tensor, gamma: Tensor | null, beta: Tensor | null, eps: number): Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    if (gamma !== null) y = tf.mul(y, gamma);
    if (beta !== null) y = tf.add(y, beta);
    return y;
  });
}
