// Portable LayerNorm kernels for the channels-last layout (x [blocks, cols, channels], statistics per block and
// channel, gain/bias per channel): two-pass f64 as the row kernels (layer-norm.ts). Each (block, channel) vector is
// walked at stride `channels` with local accumulators (see rms-norm-channels.ts for why); nothing is allocated.
import type { LayerNormChannelsBackwardKernelArgs, LayerNormChannelsKernelArgs } from '../backend.js';

/** Forward: mean, then the centred variance, per (block, channel); y = (x − mean)·rstd·gamma_c + beta_c. */
export function layerNormChannels(a: LayerNormChannelsKernelArgs): void {
  const { x, gamma, beta, y, mean, rstd, blocks, cols, channels: C, eps } = a;
  for (let b = 0; b < blocks; b++) {
    for (let c = 0; c < C; c++) {
      const base = b * cols * C + c;
      const end = base + cols * C;
      let s = 0;
      for (let o = base; o < end; o += C) s += x[o];
      const mu = s / cols;
      let sq = 0;
      for (let o = base; o < end; o += C) sq += (x[o] - mu) * (x[o] - mu);
      const rs = 1 / Math.sqrt(sq / cols + eps);
      mean[b * C + c] = mu;
      rstd[b * C + c] = rs;
      const gr = rs * (gamma === null ? 1 : gamma[c]);
      const bias = beta === null ? 0 : beta[c];
      for (let o = base; o < end; o += C) y[o] = (x[o] - mu) * gr + bias;
    }
  }
}

/**
 * Backward per (block, channel) with the constant gain g = gamma_c (u = g·dy), the row kernel's formulas:
 *   μ = Σx/cols (exact f64; the saved mean is f32-rounded), x̂ = (x − μ)·rs,
 *   dx = rs·(u − mean(u) − x̂·mean(u·x̂)),   dgamma_c += Σ dy·x̂,   dbeta_c += Σ dy
 * Σ dy·x̂ comes from Σ dy·(x − saved mean), corrected for μ − saved mean as the row kernel does.
 * Workspace [0, 2C): the dgamma/dbeta sums. A vector's sums are taken before its dx is written (dx may be dy).
 */
export function layerNormChannelsBackward(a: LayerNormChannelsBackwardKernelArgs): void {
  const { dy, x, mean, rstd, gamma, dx, dgamma, dbeta, blocks, cols, channels: C, workspace: ws } = a;
  ws.fill(0, 0, 2 * C);
  for (let b = 0; b < blocks; b++) {
    for (let c = 0; c < C; c++) {
      const base = b * cols * C + c;
      const end = base + cols * C;
      const saved = mean[b * C + c];
      let sumX = 0;
      let sumDy = 0;
      let sumDyXc = 0;
      for (let o = base; o < end; o += C) {
        sumX += x[o];
        sumDy += dy[o];
        sumDyXc += dy[o] * (x[o] - saved);
      }
      const rs = rstd[b * C + c];
      const g = gamma === null ? 1 : gamma[c];
      const mu = sumX / cols;
      const sumDyXhat = (sumDyXc - (mu - saved) * sumDy) * rs;
      ws[c] += sumDyXhat;
      ws[C + c] += sumDy;
      const meanU = (g * sumDy) / cols;
      const meanUXhat = (g * sumDyXhat) / cols;
      for (let o = base; o < end; o += C) {
        const xhat = (x[o] - mu) * rs;
        dx[o] = rs * (g * dy[o] - meanU - xhat * meanUXhat);
      }
    }
  }
  if (dgamma !== null) for (let c = 0; c < C; c++) dgamma[c] = ws[c];
  if (dbeta !== null) for (let c = 0; c < C; c++) dbeta[c] = ws[C + c];
}
