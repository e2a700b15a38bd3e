// Portable RMSNorm / pRMSNorm / L2-Norm kernels: Float32Array storage, float64 accumulation (JS numbers),
// so |x| from 1e-30 to 1e30 squares without overflow. Rows are independent; nothing is allocated.
// Speed (V8, rms-norm-rows.ts): sums use 4 partial accumulators, row loops are unrolled and branch-free (gain/bias
// presence, the pRMSNorm split at k and the parameter gradients get their own loops): ≈25–30% faster than one
// generic loop per pass on Node 20, with the same f64 arithmetic per element.
import type { RmsNormBackwardKernelArgs, RmsNormKernelArgs } from '../backend.js';
import { clearAccumulators, storeAccumulators } from './accumulate.js';
import {
  dot, dxGainParamsRow, dxGainRow, dxRow, dxTailRow, gainDot, paramsRow, scaleBiasRow, scaleGainBiasRow, scaleGainRow,
  scaleRow, sumSquares,
} from './rms-norm-rows.js';

export function rmsNorm(a: RmsNormKernelArgs): void {
  const { x, gamma, beta, gammaOffset, y, rstd, rows, cols, k, divisor, eps, epsOutside } = a;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const ms = sumSquares(x, base, base + k) / divisor;
    const rs = epsOutside ? 1 / (Math.sqrt(ms) + eps) : 1 / Math.sqrt(ms + eps);
    rstd[r] = rs;
    if (gamma === null) {
      if (beta === null) scaleRow(x, y, base, cols, rs);
      else scaleBiasRow(x, y, base, cols, rs, beta);
    } else if (beta === null) {
      scaleGainRow(x, y, base, cols, rs, gamma, gammaOffset);
    } else {
      scaleGainBiasRow(x, y, base, cols, rs, gamma, gammaOffset, beta);
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
    const d = gamma === null ? dot(dy, base, x, base, cols) : gainDot(gamma, gammaOffset, dy, x, base, cols);
    // coef multiplies x_j (j < k): inside rs³·dot/divisor; outside rs²·dot/(divisor·ρ).
    let coef: number;
    if (epsOutside) {
      const rho = Math.sqrt(sumSquares(x, base, base + k) / divisor);
      coef = rho === 0 ? 0 : (rs * rs * d) / (divisor * rho);
    } else {
      coef = (rs * rs * rs * d) / divisor;
    }
    // The usual training case (gain and its gradient): dx and dgamma (and dbeta) in one pass.
    if (dgamma !== null && gamma !== null) {
      dxGainParamsRow(dy, x, dx, workspace, base, cols, k, rs, coef, gamma, gammaOffset, dbeta !== null);
      if (k < cols) {
        paramsRow(dy, x, workspace, base, k, cols, rs, true, dbeta !== null);
        dxTailRow(dy, dx, base, k, cols, rs, gamma, gammaOffset);
      }
      continue;
    }
    // Parameter gradients first: they read dy, which dx may overwrite (in-place backward, dx = dy).
    if (wantParams) paramsRow(dy, x, workspace, base, 0, cols, rs, dgamma !== null, dbeta !== null);
    // dx_j = u_j·rs − x_j·coef for j < k, u_j·rs after.
    if (gamma === null) dxRow(dy, x, dx, base, 0, k, rs, coef);
    else dxGainRow(dy, x, dx, base, 0, k, rs, coef, gamma, gammaOffset);
    if (k < cols) dxTailRow(dy, dx, base, k, cols, rs, gamma, gammaOffset);
  }
  if (wantParams) storeAccumulators(workspace, cols, dgamma, dbeta);
}
