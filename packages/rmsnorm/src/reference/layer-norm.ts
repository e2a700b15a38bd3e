// float64 oracle for LayerNorm (two-pass population variance, eps inside), forward and backward.
import type { RefBackward } from './rms-norm.js';

export interface LayerNormRefOptions {
  gamma?: ArrayLike<number>;
  beta?: ArrayLike<number>;
  eps?: number;
}

function rowStats(x: ArrayLike<number>, base: number, cols: number, eps: number): { mean: number; rstd: number } {
  let sum = 0;
  for (let i = 0; i < cols; i++) sum += x[base + i];
  const mean = sum / cols;
  let sq = 0;
  for (let i = 0; i < cols; i++) sq += (x[base + i] - mean) * (x[base + i] - mean);
  return { mean, rstd: 1 / Math.sqrt(sq / cols + eps) };
}

/** y = (x − mean)·rstd·gamma + beta, rstd = 1/sqrt(var + eps). */
export function layerNormRef(
  x: ArrayLike<number>,
  cols: number,
  o: LayerNormRefOptions = {},
): { y: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const rows = x.length / cols;
  const eps = o.eps ?? 1e-6;
  const y = new Float64Array(x.length);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const s = rowStats(x, base, cols, eps);
    mean[r] = s.mean;
    rstd[r] = s.rstd;
    for (let j = 0; j < cols; j++) {
      const g = o.gamma === undefined ? 1 : o.gamma[j];
      y[base + j] = (x[base + j] - s.mean) * s.rstd * g + (o.beta === undefined ? 0 : o.beta[j]);
    }
  }
  return { y, mean, rstd };
}

/** dx_j = rstd·(u_j − mean(u) − x̂_j·mean(u ⊙ x̂)), u = gamma ⊙ dy; dgamma = Σ dy ⊙ x̂; dbeta = Σ dy. */
export function layerNormBackwardRef(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  cols: number,
  o: LayerNormRefOptions = {},
): RefBackward {
  const rows = x.length / cols;
  const eps = o.eps ?? 1e-6;
  const dx = new Float64Array(x.length);
  const dgamma = o.gamma === undefined ? null : new Float64Array(cols);
  const dbeta = o.beta === undefined ? null : new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const s = rowStats(x, base, cols, eps);
    let meanU = 0;
    let meanUXhat = 0;
    for (let i = 0; i < cols; i++) {
      const u = (o.gamma === undefined ? 1 : o.gamma[i]) * dy[base + i];
      meanU += u;
      meanUXhat += u * (x[base + i] - s.mean) * s.rstd;
    }
    meanU /= cols;
    meanUXhat /= cols;
    for (let j = 0; j < cols; j++) {
      const u = (o.gamma === undefined ? 1 : o.gamma[j]) * dy[base + j];
      const xhat = (x[base + j] - s.mean) * s.rstd;
      dx[base + j] = s.rstd * (u - meanU - xhat * meanUXhat);
      if (dgamma !== null) dgamma[j] += dy[base + j] * xhat;
      if (dbeta !== null) dbeta[j] += dy[base + j];
    }
  }
  return { dx, dgamma, dbeta };
}
