// The reference's own pRMSNorm k rule. Written independently of the ops' rule (src/ops/partial-k.ts), which it
// checks: p·cols is first snapped to the nearest integer when binary rounding put it just beside one, then rounded
// by the rule; test/partial-k.test.ts checks that both rules agree.
import type { KRule } from '../types.js';

/** |p·cols − n| up to this is rounding noise: 100 * 0.07 = 7.000000000000001 is the integer 7. */
const SNAP = 1e-9;

/**
 * k = ⌈p·cols⌉ ('ceil', the paper) or ⌊p·cols⌋ ('floor', the paper's code), robust to rounding of p·cols,
 * clamped to [1, cols].
 * @example partialK(0.0625, 512, 'ceil') // 32
 */
export function partialK(p: number, cols: number, rule: KRule = 'ceil'): number {
  const product = p * cols;
  const nearest = Math.round(product);
  const t = Math.abs(product - nearest) <= SNAP ? nearest : product;
  const k = rule === 'floor' ? Math.floor(t) : Math.ceil(t);
  return k < 1 ? 1 : k > cols ? cols : k;
}
