// The pRMSNorm k rule used by the ops, the tfjs plug-in and the WebGPU kernels. The float64 reference keeps its own
// (src/reference/partial-k.ts, written independently) so that it stays independent of what it checks;
// test/partial-k.test.ts checks that both agree.
import type { KRule } from '../types.js';

/** Slack that absorbs binary rounding of p·cols (100 * 0.07 = 7.000000000000001 must give 7, not 8). */
const ROUNDING_SLACK = 1e-9;

/**
 * k = ⌈p·cols⌉ ('ceil', the paper) or ⌊p·cols⌋ ('floor', the paper's code), robust to rounding of p·cols,
 * clamped to [1, cols]. p must already be validated to lie in (0, 1].
 * @example partialK(0.0625, 512, 'ceil') // 32
 */
export function partialK(p: number, cols: number, rule: KRule = 'ceil'): number {
  const t = p * cols;
  const k = rule === 'ceil' ? Math.ceil(t - ROUNDING_SLACK) : Math.floor(t + ROUNDING_SLACK);
  return Math.min(cols, Math.max(1, k));
}
