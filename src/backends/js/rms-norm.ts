// Portable RMSNorm / pRMSNorm / L2-Norm kernels: Float32Array storage, float64 accumulation (JS numbers),
// so |x| from 1e-30 to 1e30 squares without overflow. Rows are independent; nothing is allocated.
import type { RmsNormBackwardKernelArgs, RmsNormKernelArgs } from '../backend.js';
import { clearAccumulators, storeAccumulators } from './accumulate.js';

export function rmsNorm(a: RmsNormKernelArgs): void {
  const { x, gamma, beta, gammaOffset, y, rstd, rows, cols, k, divisor, eps, epsOutside } = a;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let sumSquares = 0;
    for (let i = base, end = base + k; i < end; i++) sumSquares += x[i] * x[i];
    const ms = sumSquares / divisor;
    const rs = epsOutside ? 1 / (Math.sqrt(ms) + eps) : 1 / Math.sqrt(ms + eps);
    rstd[r] = rs;
    if (gamma === null && beta === null) {
      for (let j = 0; j < cols; j++) y[base + j] = x[base + j] * rs;
    } else if (beta === null) {
      for (let j = 0; j < cols; j++) y[base + j] = x[base + j] * rs * (gammaOffset + gamma![j]);
    } else if (gamma === null) {
      for (let j = 0; j < cols; j++) y[base + j] = x[base + j] * rs + beta[j];
    } else {
      for (let j = 0; j < cols; j++) y[base + j] = x[base + j] * rs * (gammaOffset + gamma[j]) + beta[j];
    }
  }
}

export function rmsNormBackward(a: RmsNormBackwardKernelArgs): void {
  const { dy, x, rstd, gamma, gammaOffset, dx, dgamma, dbeta, rows, cols, k, divisor, epsOutside, workspace } = a;
  const wantParams = dgamma !== null || dbeta !== null;
  if (wantParams) clearAccumulators(workspace, cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const rs = rstd[r];
    // dot = Σ_i u_i x_i over all cols (u = gain ⊙ dy); x̂ = x·rs.
    let dot = 0;
    if (gamma === null) for (let i = base, end = base + cols; i < end; i++) dot += dy[i] * x[i];
    else for (let i = 0; i < cols; i++) dot += (gammaOffset + gamma[i]) * dy[base + i] * x[base + i];
    // coef multiplies x_j (j < k): inside rs³·dot/divisor; outside rs²·dot/(divisor·ρ).
    let coef: number;
    if (epsOutside) {
      let sumSquares = 0;
      for (let i = base, end = base + k; i < end; i++) sumSquares += x[i] * x[i];
      const rho = Math.sqrt(sumSquares / divisor);
      coef = rho === 0 ? 0 : (rs * rs * dot) / (divisor * rho);
    } else {
      coef = (rs * rs * rs * dot) / divisor;
    }
    // Read dy_j and x_j before writing dx_j, so dx may alias dy (in-place backward).
    for (let j = 0; j < cols; j++) {
      const dyj = dy[base + j];
      const xj = x[base + j];
      const u = gamma === null ? dyj : (gammaOffset + gamma[j]) * dyj;
      dx[base + j] = j < k ? u * rs - xj * coef : u * rs;
      if (wantParams) {
        workspace[j] += dyj * xj * rs;
        workspace[cols + j] += dyj;
      }
    }
  }
  if (wantParams) storeAccumulators(workspace, cols, dgamma, dbeta);
}
