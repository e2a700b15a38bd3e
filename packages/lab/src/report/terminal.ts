// Plain-text summary printed by `rmsnorm reproduce` at the end: one block per task, aligned columns, the paper's
// speed-up beside ours, then the claim verdicts.

import type { ReproductionResults } from '../experiments/types.js';
import { fmt, pct, variantLabel } from './format.js';

/** Signed number with 3 decimals; ±∞ for an unbounded interval end. */
const ivText = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(3)}` : x > 0 ? '+∞' : x < 0 ? '−∞' : 'NaN');

function table(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (rightAlign[i] === true ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * A terminal table of every task summary and the claims.
 * @example
 * console.log(formatSummaryTable(results));
 */
export function formatSummaryTable(results: ReproductionResults): string {
  const out: string[] = [];
  for (const s of results.summaries) {
    out.push(`${s.title} [${s.task}] — ${s.metricName} (${s.higherIsBetter ? 'higher' : 'lower'} is better)`);
    const rows = s.rows.map((r) => {
      const paper = s.paper?.rows.find((x) => x.variant === r.variant);
      return [
        variantLabel(r.variant, r.p),
        r.seeds > 1 ? `${fmt(r.metric.mean, 4)} ± ${fmt(r.metric.std, 2)}` : fmt(r.metric.mean, 4),
        fmt(r.medianStepMs, 3),
        pct(r.speedupVsLayerNorm),
        r.stepsToThreshold === null ? 'never' : String(r.stepsToThreshold),
        String(r.divergedRuns),
        paper === undefined ? '–' : fmt(paper.metric, 3),
        paper === undefined ? '–' : pct(paper.speedup),
      ];
    });
    out.push(
      table(
        ['variant', s.metricName, 'ms/step', 'vs LN', `steps≤${fmt(s.lossThreshold, 3)}`, 'diverged', 'paper metric', 'paper vs LN'],
        rows,
        [false, true, true, true, true, true, true, true],
      ),
    );
    if (s.paper !== null) out.push(`paper columns: ${s.paper.source}; metric ${s.paper.metricName}`);
    out.push('');
  }
  if (results.claims.length > 0) {
    out.push('Claims (paper §6)');
    out.push(table(['id', 'verdict', 'claim'], results.claims.map((c) => [c.id, c.verdict, c.claim.length > 90 ? `${c.claim.slice(0, 89)}…` : c.claim]), [false, false, false]));
    const ivs = results.claims.flatMap((c) => (c.intervals ?? []).map((iv) => [c.id, iv.label, ivText(iv.mean), `[${ivText(iv.lo)}, ${ivText(iv.hi)}]`, iv.tol > 0 ? `±${iv.tol.toFixed(3)}` : '0', String(iv.n), iv.position]));
    if (ivs.length > 0) {
      out.push('');
      out.push('95% confidence intervals of the paired differences behind the verdicts (seeds; timing rounds for step times)');
      out.push(table(['id', 'difference', 'mean', '95% CI', 'tol', 'n', 'against ±tol'], ivs, [false, false, true, true, true, true, false]));
    }
  }
  return out.join('\n');
}
