// float64 oracle for RMSNorm and pRMSNorm, forward and backward: plain loops, obviously correct, no shortcuts.
// Every backend and test compares against this file. Formulas: docs/math.md §1–2.

export interface RmsNormRefOptions {
  gamma?: ArrayLike<number>;
  beta?: ArrayLike<number>;
  gammaOffset?: number;
  eps?: number;
  epsPlacement?: 'inside' | 'outside';
  /** Number of leading inputs in the statistic (pRMSNorm); default cols. */
  k?: number;
}

export interface RefForward {
  y: Float64Array;
  rstd: Float64Array;
}

export interface RefBackward {
  dx: Float64Array;
  dgamma: Float64Array | null;
  dbeta: Float64Array | null;
}

function gain(o: RmsNormRefOptions, j: number): number {
  return o.gamma === undefined ? 1 : (o.gammaOffset ?? 0) + o.gamma[j];
}

/** rstd of one row from its first k values, eps placed as asked. */
function rowRstd(x: ArrayLike<number>, base: number, k: number, eps: number, outside: boolean): number {
  let sumSquares = 0;
  for (let i = 0; i < k; i++) sumSquares += x[base + i] * x[base + i];
  const ms = sumSquares / k;
  return outside ? 1 / (Math.sqrt(ms) + eps) : 1 / Math.sqrt(ms + eps);
}

/** y = x · rstd · (gammaOffset + gamma) + beta with rstd from the first k inputs of each row. */
export function rmsNormRef(x: ArrayLike<number>, cols: number, o: RmsNormRefOptions = {}): RefForward {
  const rows = x.length / cols;
  const k = o.k ?? cols;
  const eps = o.eps ?? 1e-6;
  const outside = o.epsPlacement === 'outside';
  const y = new Float64Array(x.length);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const rs = rowRstd(x, base, k, eps, outside);
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) y[base + j] = x[base + j] * rs * gain(o, j) + (o.beta === undefined ? 0 : o.beta[j]);
  }
  return { y, rstd };
}

/**
 * Gradients of Σ dy ⊙ rmsNorm(x). rstd is recomputed from x in float64 (the oracle trusts no saved state).
 * Inside:  dx_j = r·(u_j − [j<k]·x̂_j·(1/k)Σ_i u_i x̂_i).  Outside: dx_j = u_j/d − [j<k]·x̂_j·(1/(kρ))Σ_i u_i x̂_i.
 */
export function rmsNormBackwardRef(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  cols: number,
  o: RmsNormRefOptions = {},
): RefBackward {
  const rows = x.length / cols;
  const k = o.k ?? cols;
  const eps = o.eps ?? 1e-6;
  const outside = o.epsPlacement === 'outside';
  const dx = new Float64Array(x.length);
  const dgamma = o.gamma === undefined ? null : new Float64Array(cols);
  const dbeta = o.beta === undefined ? null : new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const rs = rowRstd(x, base, k, eps, outside);
    let dot = 0; // Σ_i u_i x̂_i over all cols
    for (let i = 0; i < cols; i++) dot += gain(o, i) * dy[base + i] * x[base + i] * rs;
    let sumSquares = 0;
    for (let i = 0; i < k; i++) sumSquares += x[base + i] * x[base + i];
    const rho = Math.sqrt(sumSquares / k);
    // Correction coefficient multiplying x̂_j for j < k. Outside with ρ = 0 the term is dropped entirely (the
    // subgradient dx = u/(0 + eps)), not multiplied by 0: with eps = 0, x̂ = 0·∞ is NaN and must not leak in.
    const corrected = !(outside && rho === 0);
    const coef = outside ? (rho === 0 ? 0 : dot / (k * rho)) : (rs * dot) / k;
    for (let j = 0; j < cols; j++) {
      const u = gain(o, j) * dy[base + j];
      const xhat = x[base + j] * rs;
      dx[base + j] = u * rs - (j < k && corrected ? xhat * coef : 0);
      if (dgamma !== null) dgamma[j] += dy[base + j] * xhat;
      if (dbeta !== null) dbeta[j] += dy[base + j];
    }
  }
  return { dx, dgamma, dbeta };
}
