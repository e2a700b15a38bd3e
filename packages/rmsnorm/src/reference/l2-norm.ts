// float64 oracle for the L2-Norm ablation: y = x/‖x‖·g + b with ‖x‖ = sqrt(Σx² + eps) (inside) or sqrt(Σx²) + eps.
// Written independently of rms-norm.ts so the backends' "RMS with divisor 1" shortcut is checked, not assumed.
import type { RefBackward, RefForward } from './rms-norm.js';

export interface L2NormRefOptions {
  gamma?: ArrayLike<number>;
  beta?: ArrayLike<number>;
  gammaOffset?: number;
  eps?: number;
  epsPlacement?: 'inside' | 'outside';
}

function norm(x: ArrayLike<number>, base: number, cols: number, eps: number, outside: boolean): number {
  let s = 0;
  for (let i = 0; i < cols; i++) s += x[base + i] * x[base + i];
  return outside ? Math.sqrt(s) + eps : Math.sqrt(s + eps);
}

export function l2NormRef(x: ArrayLike<number>, cols: number, o: L2NormRefOptions = {}): RefForward {
  const rows = x.length / cols;
  const eps = o.eps ?? 1e-6;
  const y = new Float64Array(x.length);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const n = norm(x, base, cols, eps, o.epsPlacement === 'outside');
    rstd[r] = 1 / n;
    for (let j = 0; j < cols; j++) {
      const g = o.gamma === undefined ? 1 : (o.gammaOffset ?? 0) + o.gamma[j];
      y[base + j] = (x[base + j] / n) * g + (o.beta === undefined ? 0 : o.beta[j]);
    }
  }
  return { y, rstd };
}

/** dx = (u − x̂(x̂·u))/‖x‖ (inside); outside: u/d − x̂ (x̂·u)/sqrt(Σx²). */
export function l2NormBackwardRef(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  cols: number,
  o: L2NormRefOptions = {},
): RefBackward {
  const rows = x.length / cols;
  const eps = o.eps ?? 1e-6;
  const outside = o.epsPlacement === 'outside';
  const dx = new Float64Array(x.length);
  const dgamma = o.gamma === undefined ? null : new Float64Array(cols);
  const dbeta = o.beta === undefined ? null : new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const n = norm(x, base, cols, eps, outside);
    const plain = norm(x, base, cols, 0, false); // ‖x‖ without eps, for the outside-eps derivative
    let xhatDotU = 0;
    const g = (j: number) => (o.gamma === undefined ? 1 : (o.gammaOffset ?? 0) + o.gamma[j]);
    for (let i = 0; i < cols; i++) xhatDotU += (x[base + i] / n) * g(i) * dy[base + i];
    for (let j = 0; j < cols; j++) {
      const u = g(j) * dy[base + j];
      const xhat = x[base + j] / n;
      const correction = outside ? (plain === 0 ? 0 : (xhat * xhatDotU) / plain) : (xhat * xhatDotU) / n;
      dx[base + j] = u / n - correction;
      if (dgamma !== null) dgamma[j] += dy[base + j] * xhat;
      if (dbeta !== null) dbeta[j] += dy[base + j];
    }
  }
  return { dx, dgamma, dbeta };
}
