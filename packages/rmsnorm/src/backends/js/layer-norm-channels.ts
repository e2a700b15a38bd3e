// Portable LayerNorm kernels for the channels-last layout (x [blocks, cols, channels], statistics per block and
// channel, gain/bias per channel): two-pass f64 as the row kernels (layer-norm.ts), one f64 accumulator per channel
// in the caller's workspace, each block walked in memory order (i outer, channel inner).
import type { LayerNormChannelsBackwardKernelArgs, LayerNormChannelsKernelArgs } from '../backend.js';

/**
 * Forward: mean, then the centred variance, per (block, channel); y = (x − mean)·rstd·gamma_c + beta_c.
 * Workspace: [0, C) sums then means, [C, 2C) centred squares then rstd.
 */
export function layerNormChannels(a: LayerNormChannelsKernelArgs): void {
  const { x, gamma, beta, y, mean, rstd, blocks, cols, channels: C, eps, workspace: ws } = a;
  for (let b = 0; b < blocks; b++) {
    const base = b * cols * C;
    ws.fill(0, 0, 2 * C);
    for (let i = 0; i < cols; i++) {
      const o = base + i * C;
      for (let c = 0; c < C; c++) ws[c] += x[o + c];
    }
    for (let c = 0; c < C; c++) ws[c] /= cols;
    for (let i = 0; i < cols; i++) {
      const o = base + i * C;
      for (let c = 0; c < C; c++) ws[C + c] += (x[o + c] - ws[c]) * (x[o + c] - ws[c]);
    }
    for (let c = 0; c < C; c++) {
      ws[C + c] = 1 / Math.sqrt(ws[C + c] / cols + eps);
      mean[b * C + c] = ws[c];
      rstd[b * C + c] = ws[C + c];
    }
    for (let i = 0; i < cols; i++) {
      const o = base + i * C;
      for (let c = 0; c < C; c++) {
        const v = (x[o + c] - ws[c]) * ws[C + c] * (gamma === null ? 1 : gamma[c]);
        y[o + c] = v + (beta === null ? 0 : beta[c]);
      }
    }
  }
}

/**
 * Backward per (block, channel) with the constant gain g = gamma_c (u = g·dy), the row kernel's formulas:
 *   μ = Σx/cols (exact f64; the saved mean is f32-rounded), x̂ = (x − μ)·rs,
 *   dx = rs·(u − mean(u) − x̂·mean(u·x̂)),   dgamma_c += Σ dy·x̂,   dbeta_c += Σ dy
 * mean(u·x̂) comes from Σ dy·(x − saved mean), corrected for μ − saved mean as the row kernel does.
 * Workspace: [0, C) Σx, [C, 2C) Σdy, [2C, 3C) Σdy·(x − saved), [3C, 4C) mean(u·x̂), [4C, 6C) dgamma/dbeta sums.
 * All sums of a block are taken before its dx is written, so dx may be dy (in place).
 */
export function layerNormChannelsBackward(a: LayerNormChannelsBackwardKernelArgs): void {
  const { dy, x, mean, rstd, gamma, dx, dgamma, dbeta, blocks, cols, channels: C, workspace: ws } = a;
  ws.fill(0, 4 * C, 6 * C);
  for (let b = 0; b < blocks; b++) {
    const base = b * cols * C;
    const s = b * C;
    ws.fill(0, 0, 3 * C);
    for (let i = 0; i < cols; i++) {
      const o = base + i * C;
      for (let c = 0; c < C; c++) {
        ws[c] += x[o + c];
        ws[C + c] += dy[o + c];
        ws[2 * C + c] += dy[o + c] * (x[o + c] - mean[s + c]);
      }
    }
    for (let c = 0; c < C; c++) {
      const rs = rstd[s + c];
      const g = gamma === null ? 1 : gamma[c];
      const mu = ws[c] / cols;
      // Σ dy·x̂ about the exact mean: Σ dy·(x − saved)·rs − (μ − saved)·rs·Σ dy.
      const sumDyXhat = (ws[2 * C + c] - (mu - mean[s + c]) * ws[C + c]) * rs;
      ws[c] = mu;
      ws[3 * C + c] = (g * sumDyXhat) / cols;
      ws[4 * C + c] += sumDyXhat;
      ws[5 * C + c] += ws[C + c];
      ws[C + c] = (g * ws[C + c]) / cols; // mean(u)
    }
    for (let i = 0; i < cols; i++) {
      const o = base + i * C;
      for (let c = 0; c < C; c++) {
        const rs = rstd[s + c];
        const xhat = (x[o + c] - ws[c]) * rs;
        const g = gamma === null ? 1 : gamma[c];
        dx[o + c] = rs * (g * dy[o + c] - ws[C + c] - xhat * ws[3 * C + c]);
      }
    }
  }
  if (dgamma !== null) for (let c = 0; c < C; c++) dgamma[c] = ws[4 * C + c];
  if (dbeta !== null) for (let c = 0; c < C; c++) dbeta[c] = ws[5 * C + c];
}
