// Portable fused residual add + RMS family kernels (float32 and 16-bit storage): sum = x + residual rounded to the
// storage type, then the RMS-family forward of sum; backward dx = dsum + ∂y/∂sum·dy. f64 arithmetic, no allocation.
import type {
  AddRmsNorm16KernelArgs, AddRmsNormBackward16KernelArgs, AddRmsNormBackwardKernelArgs, AddRmsNormKernelArgs,
} from '../backend.js';
import { clearAccumulators, storeAccumulators } from './accumulate.js';
import { decodeTable, encoder } from './half.js';
import { rmsBackwardRow16, rmsRow16 } from './rms-norm.js';
import {
  dot, gainDot, paramsRow, scaleBiasRow, scaleGainBiasRow, scaleGainRow, scaleRow, sumSquares,
} from './rms-norm-rows.js';

/**
 * sum_i = fround(x_i + residual_i) over one row, returning Σ_{i<k} sum_i² in f64 (the stored, rounded sums: the
 * statistic is of what the next block reads). One pass over x and residual, 4-way unrolled like rms-norm-rows.ts;
 * sum may be x or residual (each element is read before it is written).
 */
function addSquaresRow(
  x: Float32Array, residual: Float32Array, sum: Float32Array, base: number, k: number, cols: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = base;
  const endK = base + k;
  for (const end4 = endK - 3; i < end4; i += 4) {
    const a0 = Math.fround(x[i] + residual[i]);
    const a1 = Math.fround(x[i + 1] + residual[i + 1]);
    const a2 = Math.fround(x[i + 2] + residual[i + 2]);
    const a3 = Math.fround(x[i + 3] + residual[i + 3]);
    sum[i] = a0;
    sum[i + 1] = a1;
    sum[i + 2] = a2;
    sum[i + 3] = a3;
    s0 += a0 * a0;
    s1 += a1 * a1;
    s2 += a2 * a2;
    s3 += a3 * a3;
  }
  for (; i < endK; i++) {
    const a = Math.fround(x[i] + residual[i]);
    sum[i] = a;
    s0 += a * a;
  }
  for (const end = base + cols; i < end; i++) sum[i] = x[i] + residual[i];
  return s0 + s1 + (s2 + s3);
}

export function addRmsNorm(a: AddRmsNormKernelArgs): void {
  const { x, residual, sum, gamma, beta, gammaOffset, y, rstd, rows, cols, k, divisor, eps, epsOutside } = a;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const ms = addSquaresRow(x, residual, sum, base, k, cols) / divisor;
    const rs = epsOutside ? 1 / (Math.sqrt(ms) + eps) : 1 / Math.sqrt(ms + eps);
    rstd[r] = rs;
    if (gamma === null) {
      if (beta === null) scaleRow(sum, y, base, cols, rs);
      else scaleBiasRow(sum, y, base, cols, rs, beta);
    } else if (beta === null) {
      scaleGainRow(sum, y, base, cols, rs, gamma, gammaOffset);
    } else {
      scaleGainBiasRow(sum, y, base, cols, rs, gamma, gammaOffset, beta);
    }
  }
}

/**
 * dx_j = dsum_j + u_j·rs − [j<k]·sum_j·coef over one row (u = (g0 + gamma) ⊙ dy, gain 1 without gamma; dsum null:
 * no term). dy_j and dsum_j are read before dx_j is written, so dx may be either (in place).
 */
function dxRow(
  dy: Float32Array, sum: Float32Array, dsum: Float32Array | null, dx: Float32Array, base: number, cols: number,
  k: number, rs: number, coef: number, gamma: Float32Array | null, g0: number,
): void {
  for (let j = 0; j < cols; j++) {
    const i = base + j;
    const u = gamma === null ? dy[i] : (g0 + gamma[j]) * dy[i];
    const v = u * rs - (j < k ? sum[i] * coef : 0);
    dx[i] = dsum === null ? v : dsum[i] + v;
  }
}

export function addRmsNormBackward(a: AddRmsNormBackwardKernelArgs): void {
  const { dy, dsum, sum, rstd, gamma, gammaOffset, dx, dgamma, dbeta, rows, cols, k, divisor, epsOutside } = a;
  const ws = a.workspace;
  const wantParams = dgamma !== null || dbeta !== null;
  if (wantParams) clearAccumulators(ws, cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const rs = rstd[r];
    // as rmsNormBackward (rms-norm.ts) with x = sum: coef multiplies sum_j for j < k
    const d = gamma === null ? dot(dy, base, sum, base, cols) : gainDot(gamma, gammaOffset, dy, sum, base, cols);
    let coef: number;
    if (epsOutside) {
      const rho = Math.sqrt(sumSquares(sum, base, base + k) / divisor);
      coef = rho === 0 ? 0 : (rs * rs * d) / (divisor * rho);
    } else {
      coef = (rs * rs * rs * d) / divisor;
    }
    // parameter sums first: they read dy, which dx may overwrite
    if (wantParams) paramsRow(dy, sum, ws, base, 0, cols, rs, dgamma !== null, dbeta !== null);
    dxRow(dy, sum, dsum, dx, base, cols, k, rs, coef, gamma, gammaOffset);
  }
  if (wantParams) storeAccumulators(ws, cols, dgamma, dbeta);
}

export function addRmsNorm16(a: AddRmsNorm16KernelArgs): void {
  const { x, residual, sum, y, rstd, rows, cols } = a;
  const t = decodeTable(a.dtype);
  const enc = encoder(a.dtype);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    // the sum of two 16-bit values is exact in f64: one rounding, to the storage type
    for (let i = base; i < base + cols; i++) sum[i] = enc(t[x[i]] + t[residual[i]]);
    rstd[r] = rmsRow16(t, enc, sum, y, base, a);
  }
}

export function addRmsNormBackward16(a: AddRmsNormBackward16KernelArgs): void {
  const t = decodeTable(a.dtype);
  const enc = encoder(a.dtype);
  const wantParams = a.dgamma !== null || a.dbeta !== null;
  if (wantParams) clearAccumulators(a.workspace, a.cols);
  for (let r = 0; r < a.rows; r++) {
    const base = r * a.cols;
    rmsBackwardRow16(t, enc, a.dy, a.sum, a.dsum, a.dx, base, a.rstd[r], a.dgamma !== null, a.dbeta !== null, a);
  }
  if (wantParams) storeAccumulators(a.workspace, a.cols, a.dgamma, a.dbeta);
}
