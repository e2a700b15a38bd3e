// Small numeric helpers of the benchmark: percentiles of timing samples, bytes moved per call, GB/s, % of ceiling.

// The q-quantile (R type 7, numpy's default: linear between order statistics) and the median: the app's one
// definition, experiments/metrics/stats.ts.
import { quantile } from '../experiments/metrics/stats.js';

export { median, quantile } from '../experiments/metrics/stats.js';

/** p20, p50, p80 of the per-call times (ms). */
export function summarize(samples: readonly number[]): { p20: number; p50: number; p80: number } {
  return { p20: quantile(samples, 0.2), p50: quantile(samples, 0.5), p80: quantile(samples, 0.8) };
}

export type OpName = 'rmsNorm' | 'pRmsNorm' | 'layerNorm';

/**
 * Bytes a kernel must read + write per call (f32 = 4 bytes), the same logical count for every implementation:
 *   forward  RMS: read x, gamma; write y, rstd.      LN: read x, gamma, beta; write y, mean, rstd
 *   backward RMS: read dy, x, rstd, gamma; write dx, dgamma.   LN: read dy, x, mean, rstd, gamma; write dx, dgamma, dbeta
 *   full = forward + backward.   pRMSNorm moves the same bytes as RMSNorm (y needs every x).
 * @example opBytes('rmsNorm', 'forward', 2, 4) // 4·(8 + 4 + 8 + 2) = 88
 */
export function opBytes(op: OpName, direction: 'forward' | 'backward' | 'full', rows: number, cols: number): number {
  const n = rows * cols;
  const ln = op === 'layerNorm';
  const fwd = 4 * (2 * n + cols * (ln ? 2 : 1) + rows * (ln ? 2 : 1));
  const bwd = 4 * (3 * n + rows * (ln ? 2 : 1) + cols * (ln ? 3 : 2));
  return direction === 'forward' ? fwd : direction === 'backward' ? bwd : fwd + bwd;
}

/** GB/s (10⁹ bytes per second) for `bytes` moved in `ms` milliseconds. @example gbps(2e6, 0.1) // 20 */
export function gbps(bytes: number, ms: number): number {
  return bytes / (ms * 1e6);
}

/** Share of the ceiling in percent, or null without a ceiling. @example pctOfCeiling(15, 20) // 75 */
export function pctOfCeiling(achieved: number, ceiling: number | null): number | null {
  return ceiling === null || !(ceiling > 0) ? null : (100 * achieved) / ceiling;
}

/** The paper's speed-up over LayerNorm: (T_LN − T)/T_LN, in percent. @example speedupOverLn(6, 10) // 40 */
export function speedupOverLn(t: number, tLn: number): number {
  return (100 * (tLn - t)) / tLn;
}

/**
 * The ceiling measurement whose bytes per call are nearest (in ratio) to `bytes`, among those with `threads`.
 * @example matchCeiling([{ threads: 1, bytes: 100, gbps: 20 }], 1, 120) // 20
 */
export function matchCeiling(
  ceilings: readonly { threads: number; bytes: number; gbps: number }[],
  threads: number,
  bytes: number,
): number | null {
  let best: { gbps: number; d: number } | null = null;
  for (const c of ceilings) {
    if (c.threads !== threads) continue;
    const d = Math.abs(Math.log(c.bytes / bytes));
    if (best === null || d < best.d) best = { gbps: c.gbps, d };
  }
  return best === null ? null : best.gbps;
}
