// CSV views of the results: summary.csv (one row per task × variant, with the paper's numbers) and runs.csv (one
// row per run, final metrics flattened into columns). RFC 4180 quoting.

import type { ReproductionResults } from '../experiments/types.js';

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : String(v)) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows to CSV text with a header line. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/**
 * summary.csv: task, variant, p, seeds, metric, mean, std, other metrics (others_<key>), median step ms, speed-up vs
 * LN, steps to threshold, diverged runs, and the paper's metric / time / speed-up for that variant.
 */
export function summaryCsv(results: ReproductionResults): string {
  const otherKeys = [...new Set(results.summaries.flatMap((s) => s.rows.flatMap((r) => Object.keys(r.others))))].sort();
  const header = [
    'task', 'variant', 'p', 'seeds', 'metric_name', 'metric_mean', 'metric_std',
    ...otherKeys.map((k) => `others_${k}`),
    'median_step_ms', 'speedup_vs_layernorm', 'steps_to_threshold', 'diverged_runs',
    'paper_source', 'paper_metric', 'paper_time', 'paper_speedup',
  ];
  const rows = results.summaries.flatMap((s) =>
    s.rows.map((r) => {
      const paper = s.paper?.rows.find((x) => x.variant === r.variant);
      return [
        s.task, r.variant, r.p, r.seeds, s.metricName, r.metric.mean, r.metric.std,
        ...otherKeys.map((k) => r.others[k]),
        r.medianStepMs, r.speedupVsLayerNorm, r.stepsToThreshold, r.divergedRuns,
        s.paper?.source, paper?.metric, paper?.time, paper?.speedup,
      ];
    }),
  );
  return toCsv(header, rows);
}

/** runs.csv: one row per run with final_<key> columns, steps run, training seconds, config as JSON. */
export function runsCsv(results: ReproductionResults): string {
  const finalKeys = [...new Set(results.runs.flatMap((r) => Object.keys(r.final)))].sort();
  const header = [
    'task', 'variant', 'p', 'seed', ...finalKeys.map((k) => `final_${k}`),
    'median_step_ms', 'steps_to_threshold', 'diverged', 'steps_run', 'train_seconds', 'config',
  ];
  const rows = results.runs.map((r) => [
    r.task, r.variant, r.p, r.seed, ...finalKeys.map((k) => r.final[k]),
    r.medianStepMs, r.stepsToThreshold, r.diverged, r.steps.length,
    r.steps.length > 0 ? (r.steps[r.steps.length - 1]?.wallMs ?? 0) / 1000 : 0, JSON.stringify(r.config),
  ]);
  return toCsv(header, rows);
}
