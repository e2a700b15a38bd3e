// Portable RMS family kernels for the channels-last layout (x [blocks, cols, channels]: NHWC images normalised over
// H×W per sample and channel, gain/bias per channel). float64 accumulation as the row kernels (rms-norm.ts). The
// loops walk each block in memory order — i outer, channel inner — with one f64 accumulator per channel in the
// caller's workspace, so nothing is transposed and nothing is allocated.
import type { RmsNormChannelsBackwardKernelArgs, RmsNormChannelsKernelArgs } from '../backend.js';

/** ws[at + c] = Σ_{i<k} x[base + i·channels + c]² for every channel c. */
function channelSquares(x: Float32Array, ws: Float64Array, at: number, base: number, k: number, channels: number): void {
  ws.fill(0, at, at + channels);
  for (let i = 0; i < k; i++) {
    const o = base + i * channels;
    for (let c = 0; c < channels; c++) ws[at + c] += x[o + c] * x[o + c];
  }
}

/** rstd of a vector from its sum of squares (the row kernels' formula). */
function rstdOf(sumSq: number, divisor: number, eps: number, epsOutside: boolean): number {
  const ms = sumSq / divisor;
  return epsOutside ? 1 / (Math.sqrt(ms) + eps) : 1 / Math.sqrt(ms + eps);
}

/**
 * Forward: rstd per (block, channel), then y = x·rstd·(gammaOffset + gamma_c) + beta_c in memory order.
 * Workspace: [0, C) sums of squares, [C, 2C) rstd as f64.
 */
export function rmsNormChannels(a: RmsNormChannelsKernelArgs): void {
  const { x, gamma, beta, gammaOffset, y, rstd, blocks, cols, channels, k, divisor, eps, epsOutside, workspace: ws } = a;
  for (let b = 0; b < blocks; b++) {
    const base = b * cols * channels;
    channelSquares(x, ws, 0, base, k, channels);
    for (let c = 0; c < channels; c++) {
      const rs = rstdOf(ws[c], divisor, eps, epsOutside);
      rstd[b * channels + c] = rs;
      ws[channels + c] = rs;
    }
    for (let i = 0; i < cols; i++) {
      const o = base + i * channels;
      for (let c = 0; c < channels; c++) {
        const g = gamma === null ? 1 : gammaOffset + gamma[c];
        y[o + c] = x[o + c] * ws[channels + c] * g + (beta === null ? 0 : beta[c]);
      }
    }
  }
}

/**
 * Backward per (block, channel), the row kernel's formulas with the constant gain g = gammaOffset + gamma_c:
 *   d = g·Σ_i dy_i x_i,  coef = rs³·d/divisor (inside) or rs²·d/(divisor·ρ) (outside; 0 at ρ = 0)
 *   dx_i = g·dy_i·rs − [i<k]·x_i·coef,   dgamma_c += Σ dy·x·rs,   dbeta_c += Σ dy
 * Workspace: [0, C) Σdy·x, [C, 2C) Σdy, [2C, 3C) Σ_{i<k} x² (outside), [3C, 4C) coef, [4C, 6C) dgamma/dbeta sums.
 * All sums of a block are taken before its dx is written, so dx may be dy (in place).
 */
export function rmsNormChannelsBackward(a: RmsNormChannelsBackwardKernelArgs): void {
  const { dy, x, rstd, gamma, gammaOffset, dx, dgamma, dbeta, blocks, cols, channels: C, k, divisor, epsOutside } = a;
  const ws = a.workspace;
  ws.fill(0, 4 * C, 6 * C);
  for (let b = 0; b < blocks; b++) {
    const base = b * cols * C;
    ws.fill(0, 0, 2 * C);
    for (let i = 0; i < cols; i++) {
      const o = base + i * C;
      for (let c = 0; c < C; c++) {
        ws[c] += dy[o + c] * x[o + c];
        ws[C + c] += dy[o + c];
      }
    }
    if (epsOutside) channelSquares(x, ws, 2 * C, base, k, C);
    for (let c = 0; c < C; c++) {
      const rs = rstd[b * C + c];
      const d = (gamma === null ? 1 : gammaOffset + gamma[c]) * ws[c];
      let coef: number;
      if (epsOutside) {
        const rho = Math.sqrt(ws[2 * C + c] / divisor);
        coef = rho === 0 ? 0 : (rs * rs * d) / (divisor * rho);
      } else {
        coef = (rs * rs * rs * d) / divisor;
      }
      ws[3 * C + c] = coef;
      ws[4 * C + c] += ws[c] * rs;
      ws[5 * C + c] += ws[C + c];
    }
    for (let i = 0; i < cols; i++) {
      const o = base + i * C;
      const inK = i < k;
      for (let c = 0; c < C; c++) {
        const g = gamma === null ? 1 : gammaOffset + gamma[c];
        dx[o + c] = g * dy[o + c] * rstd[b * C + c] - (inK ? x[o + c] * ws[3 * C + c] : 0);
      }
    }
  }
  if (dgamma !== null) for (let c = 0; c < C; c++) dgamma[c] = ws[4 * C + c];
  if (dbeta !== null) for (let c = 0; c < C; c++) dbeta[c] = ws[5 * C + c];
}
