// Portable LayerNorm kernels: two-pass (mean, then centred variance) in float64, so 1e4 + N(0,1) rows stay exact.
import type { LayerNormBackwardKernelArgs, LayerNormKernelArgs } from '../backend.js';
import { clearAccumulators, storeAccumulators } from './accumulate.js';

export function layerNorm(a: LayerNormKernelArgs): void {
  const { x, gamma, beta, y, mean, rstd, rows, cols, eps } = a;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let sum = 0;
    for (let i = base, end = base + cols; i < end; i++) sum += x[i];
    const mu = sum / cols;
    let sq = 0;
    for (let i = base, end = base + cols; i < end; i++) sq += (x[i] - mu) * (x[i] - mu);
    const rs = 1 / Math.sqrt(sq / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[base + j] - mu) * rs;
      y[base + j] = (gamma === null ? xhat : xhat * gamma[j]) + (beta === null ? 0 : beta[j]);
    }
  }
}

export function layerNormBackward(a: LayerNormBackwardKernelArgs): void {
  const { dy, x, mean, rstd, gamma, dx, dgamma, dbeta, rows, cols, workspace } = a;
  const wantParams = dgamma !== null || dbeta !== null;
  if (wantParams) clearAccumulators(workspace, cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const savedMu = mean[r];
    const rs = rstd[r];
    let sumX = 0;
    let sumU = 0;
    let sumUXhat = 0;
    for (let i = 0; i < cols; i++) {
      const u = gamma === null ? dy[base + i] : gamma[i] * dy[base + i];
      sumX += x[base + i];
      sumU += u;
      sumUXhat += u * (x[base + i] - savedMu) * rs;
    }
    // The saved mean is f32-rounded: off by up to ulp(|mean|)/2 (≈5e-4 for rows 1e4 + N(0,1)), which would shift
    // every x̂ by that·rstd. Re-derive the f64 mean from the sum fused above and correct Σu·x̂ for the shift.
    const mu = sumX / cols;
    sumUXhat -= (mu - savedMu) * rs * sumU;
    const meanU = sumU / cols;
    const meanUXhat = sumUXhat / cols;
    for (let j = 0; j < cols; j++) {
      // Read dy_j before writing dx_j, so dx may alias dy (in-place backward).
      const dyj = dy[base + j];
      const u = gamma === null ? dyj : gamma[j] * dyj;
      const xhat = (x[base + j] - mu) * rs;
      dx[base + j] = rs * (u - meanU - xhat * meanUXhat);
      if (wantParams) {
        workspace[j] += dyj * xhat;
        workspace[cols + j] += dyj;
      }
    }
  }
  if (wantParams) storeAccumulators(workspace, cols, dgamma, dbeta);
}
