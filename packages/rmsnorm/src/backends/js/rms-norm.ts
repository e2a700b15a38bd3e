// Portable RMSNorm / pRMSNorm / L2-Norm kernels: Float32Array storage, float64 accumulation (JS numbers),
// so |x| from 1e-30 to 1e30 squares without overflow. Rows are independent; nothing is allocated.
// Speed (V8, rms-norm-rows.ts): sums use 4 partial accumulators, row loops are unrolled and branch-free (gain/bias
// presence, the pRMSNorm split at k and the parameter gradients get their own loops): ≈25–30% faster than one
// generic loop per pass on Node 20, with the same f64 arithmetic per element.
import type {
  RmsNorm16KernelArgs, RmsNormBackward16KernelArgs, RmsNormBackwardKernelArgs, RmsNormKernelArgs,
} from '../backend.js';
import { clearAccumulators, storeAccumulators } from './accumulate.js';
import { decodeTable, encoder } from './half.js';
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

// 16-bit storage (Uint16Array bit patterns): every load through the format's exact decode table, f64 arithmetic as
// above, every store rounded once to nearest even (half.ts). Plain loops: correctness first, speed is wasm's job.

/** Forward of one row of 16-bit x into y; returns its rstd (shared with the fused add, add-rms-norm.ts). */
export function rmsRow16(
  t: Float32Array, enc: (v: number) => number, x: Uint16Array, y: Uint16Array, base: number,
  a: Omit<RmsNorm16KernelArgs, 'x' | 'y' | 'rstd' | 'rows'>,
): number {
  const { gamma, beta, gammaOffset, cols, k, divisor, eps, epsOutside } = a;
  let s = 0;
  for (let i = base; i < base + k; i++) s += t[x[i]] * t[x[i]];
  const ms = s / divisor;
  const rs = epsOutside ? 1 / (Math.sqrt(ms) + eps) : 1 / Math.sqrt(ms + eps);
  for (let j = 0; j < cols; j++) {
    const g = gamma === null ? 1 : gammaOffset + gamma[j];
    y[base + j] = enc(t[x[base + j]] * rs * g + (beta === null ? 0 : beta[j]));
  }
  return rs;
}

export function rmsNorm16(a: RmsNorm16KernelArgs): void {
  const t = decodeTable(a.dtype);
  const enc = encoder(a.dtype);
  for (let r = 0; r < a.rows; r++) a.rstd[r] = rmsRow16(t, enc, a.x, a.y, r * a.cols, a);
}

/**
 * Backward of one row of 16-bit storage: dx_j = dsum_j + (g·dy)_j·rs − [j<k]·x_j·coef (dsum absent: 0), parameter
 * sums into ws. Reads dy_j, x_j, dsum_j before writing dx_j, so dx may be dy or dsum (in place).
 */
export function rmsBackwardRow16(
  t: Float32Array, enc: (v: number) => number, dy: Uint16Array, x: Uint16Array, dsum: Uint16Array | null,
  dx: Uint16Array, base: number, rs: number, wantGamma: boolean, wantBeta: boolean,
  a: Omit<RmsNormBackward16KernelArgs, 'dy' | 'x' | 'dx' | 'rstd' | 'rows' | 'dgamma' | 'dbeta'>,
): void {
  const { gamma, gammaOffset, cols, k, divisor, epsOutside, workspace: ws } = a;
  let d = 0;
  for (let j = 0; j < cols; j++) d += (gamma === null ? 1 : gammaOffset + gamma[j]) * t[dy[base + j]] * t[x[base + j]];
  let coef: number;
  if (epsOutside) {
    let s = 0;
    for (let i = base; i < base + k; i++) s += t[x[i]] * t[x[i]];
    const rho = Math.sqrt(s / divisor);
    coef = rho === 0 ? 0 : (rs * rs * d) / (divisor * rho);
  } else {
    coef = (rs * rs * rs * d) / divisor;
  }
  for (let j = 0; j < cols; j++) {
    const dyj = t[dy[base + j]];
    const xj = t[x[base + j]];
    if (wantGamma) ws[j] += dyj * xj * rs;
    if (wantBeta) ws[cols + j] += dyj;
    const g = gamma === null ? 1 : gammaOffset + gamma[j];
    let v = g * dyj * rs - (j < k ? xj * coef : 0);
    if (dsum !== null) v += t[dsum[base + j]];
    dx[base + j] = enc(v);
  }
}

export function rmsNormBackward16(a: RmsNormBackward16KernelArgs): void {
  const t = decodeTable(a.dtype);
  const enc = encoder(a.dtype);
  const wantParams = a.dgamma !== null || a.dbeta !== null;
  if (wantParams) clearAccumulators(a.workspace, a.cols);
  for (let r = 0; r < a.rows; r++) {
    rmsBackwardRow16(t, enc, a.dy, a.x, null, a.dx, r * a.cols, a.rstd[r], a.dgamma !== null, a.dbeta !== null, a);
  }
  if (wantParams) storeAccumulators(a.workspace, a.cols, a.dgamma, a.dbeta);
}
