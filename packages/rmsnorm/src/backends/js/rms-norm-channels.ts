// Portable RMS family kernels for the channels-last layout (x [blocks, cols, channels]: NHWC images normalised over
// H×W per sample and channel, gain/bias per channel). float64 accumulation as the row kernels (rms-norm.ts). Each
// (block, channel) vector is walked at stride `channels` with local accumulators — a block is small enough to stay
// in cache, and V8 keeps locals in registers (memory-order loops with one accumulator per channel in the workspace
// ran 4× slower) — so nothing is transposed and nothing is allocated.
import type { RmsNormChannelsBackwardKernelArgs, RmsNormChannelsKernelArgs } from '../backend.js';

/** Σ_{i<k} x[base + i·stride]² (four partial sums). */
function stridedSquares(x: Float32Array, base: number, k: number, stride: number): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (const k2 = k - 1; i < k2; i += 2) {
    const a = x[base + i * stride];
    const b = x[base + (i + 1) * stride];
    s0 += a * a;
    s1 += b * b;
  }
  if (i < k) s0 += x[base + i * stride] * x[base + i * stride];
  return s0 + s1;
}

/** rstd of a vector from its sum of squares (the row kernels' formula). */
function rstdOf(sumSq: number, divisor: number, eps: number, epsOutside: boolean): number {
  const ms = sumSq / divisor;
  return epsOutside ? 1 / (Math.sqrt(ms) + eps) : 1 / Math.sqrt(ms + eps);
}

/** Forward: rstd per (block, channel), then y = x·rstd·(gammaOffset + gamma_c) + beta_c along the vector. */
export function rmsNormChannels(a: RmsNormChannelsKernelArgs): void {
  const { x, gamma, beta, gammaOffset, y, rstd, blocks, cols, channels: C, k, divisor, eps, epsOutside } = a;
  for (let b = 0; b < blocks; b++) {
    for (let c = 0; c < C; c++) {
      const base = b * cols * C + c;
      const rs = rstdOf(stridedSquares(x, base, k, C), divisor, eps, epsOutside);
      rstd[b * C + c] = rs;
      const g = gamma === null ? 1 : gammaOffset + gamma[c];
      const bias = beta === null ? 0 : beta[c];
      const end = base + cols * C;
      for (let o = base; o < end; o += C) y[o] = x[o] * rs * g + bias;
    }
  }
}

/**
 * Backward per (block, channel), the row kernel's formulas with the constant gain g = gammaOffset + gamma_c:
 *   d = g·Σ_i dy_i x_i,  coef = rs³·d/divisor (inside) or rs²·d/(divisor·ρ) (outside; 0 at ρ = 0)
 *   dx_i = g·dy_i·rs − [i<k]·x_i·coef,   dgamma_c += Σ dy·x·rs,   dbeta_c += Σ dy
 * Workspace [0, 2C): the dgamma/dbeta sums. A vector's sums are taken before its dx is written (dx may be dy).
 */
export function rmsNormChannelsBackward(a: RmsNormChannelsBackwardKernelArgs): void {
  const { dy, x, rstd, gamma, gammaOffset, dx, dgamma, dbeta, blocks, cols, channels: C, k, divisor, epsOutside } = a;
  const ws = a.workspace;
  ws.fill(0, 0, 2 * C);
  for (let b = 0; b < blocks; b++) {
    for (let c = 0; c < C; c++) {
      const base = b * cols * C + c;
      const end = base + cols * C;
      let sumDyX = 0;
      let sumDy = 0;
      for (let o = base; o < end; o += C) {
        sumDyX += dy[o] * x[o];
        sumDy += dy[o];
      }
      const rs = rstd[b * C + c];
      const g = gamma === null ? 1 : gammaOffset + gamma[c];
      const d = g * sumDyX;
      let coef: number;
      if (epsOutside) {
        const rho = Math.sqrt(stridedSquares(x, base, k, C) / divisor);
        coef = rho === 0 ? 0 : (rs * rs * d) / (divisor * rho);
      } else {
        coef = (rs * rs * rs * d) / divisor;
      }
      ws[c] += sumDyX * rs;
      ws[C + c] += sumDy;
      const gr = g * rs;
      const endK = base + k * C;
      for (let o = base; o < endK; o += C) dx[o] = dy[o] * gr - x[o] * coef;
      for (let o = endK; o < end; o += C) dx[o] = dy[o] * gr;
    }
  }
  if (dgamma !== null) for (let c = 0; c < C; c++) dgamma[c] = ws[c];
  if (dbeta !== null) for (let c = 0; c < C; c++) dbeta[c] = ws[C + c];
}
