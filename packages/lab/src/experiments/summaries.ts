// Aggregates finished runs into one TaskSummary per task (and per extra experiment: p-sweep, shifted init):
// metric mean ± std over seeds, median step time, the paper's speed-up (T_LN − T)/T_LN, steps to threshold.
import { mean, std, median } from './metrics/stats.js';
import { paperReferenceFor } from './paper-numbers.js';
import { getTask } from './tasks/index.js';
import type { RunResult, SummaryRow, TaskSummary, Variant } from './types.js';

export interface StepTimingRow {
  variant: Variant;
  p?: number;
  medianMs: number;
  /** Timed steps in round order (rows of one pass are paired by round). */
  samples?: number[];
}

/** Step time of a row: the interleaved timing when there is one for (variant, p), else the runs' median. */
function stepTime(rs: RunResult[], timing: StepTimingRow[] | undefined): Pick<SummaryRow, 'medianStepMs' | 'stepTimeSource' | 'trainStepMs' | 'stepSamples'> {
  const train = median(rs.map((r) => r.medianStepMs));
  const t = timing?.find((x) => x.variant === rs[0].variant && (x.p ?? null) === (rs[0].p ?? null));
  return t
    ? { medianStepMs: t.medianMs, stepTimeSource: 'interleaved', trainStepMs: train, ...(t.samples ? { stepSamples: t.samples } : {}) }
    : { medianStepMs: train, stepTimeSource: 'training' };
}

const ORDER: Variant[] = ['none', 'layer', 'layer-stock', 'rms', 'prms', 'l2'];

function groupKey(r: RunResult): string {
  return `${(r.config.group as string | undefined) ?? 'main'}`;
}

/** Largest drop of a run's held-out metric below its running best across its evaluations (≥ 0, metric units). */
export function curveDrop(r: RunResult, metricKey: string, higherIsBetter: boolean): number {
  let best = -Infinity;
  let drop = 0;
  for (const e of r.evals) {
    const v = e.metrics[metricKey];
    if (v === undefined || !Number.isFinite(v)) continue;
    const g = higherIsBetter ? v : -v;
    best = Math.max(best, g);
    drop = Math.max(drop, best - g);
  }
  return drop;
}

/** Summary rows of runs of one task and group, one row per (variant, p). */
export function summaryRows(runs: RunResult[], metricKey: string, timing?: StepTimingRow[], higherIsBetter = false): SummaryRow[] {
  const byVariant = new Map<string, RunResult[]>();
  for (const r of runs) {
    const k = `${r.variant}|${r.p ?? ''}`;
    byVariant.set(k, [...(byVariant.get(k) ?? []), r]);
  }
  const rows: SummaryRow[] = [...byVariant.values()].map((rs) => {
    const metricValues = rs.map((r) => r.final[metricKey]).filter((v): v is number => Number.isFinite(v));
    const otherKeys = [...new Set(rs.flatMap((r) => Object.keys(r.final)))].filter((k) => k !== metricKey);
    const reached = rs.map((r) => r.stepsToThreshold);
    return {
      variant: rs[0].variant,
      ...(rs[0].p !== undefined ? { p: rs[0].p } : {}),
      seeds: rs.length,
      metric: { mean: metricValues.length ? mean(metricValues) : NaN, std: metricValues.length > 1 ? std(metricValues) : 0 },
      others: Object.fromEntries(otherKeys.map((k) => [k, mean(rs.map((r) => r.final[k]).filter((v) => Number.isFinite(v)))])),
      ...stepTime(rs, timing),
      speedupVsLayerNorm: null,
      // A seed that never reaches the threshold makes the row "never" (null): the mean would hide it.
      stepsToThreshold: reached.every((s) => s !== null) ? Math.round(mean(reached as number[])) : null,
      divergedRuns: rs.filter((r) => r.diverged).length,
      instability: mean(rs.map((r) => curveDrop(r, metricKey, higherIsBetter))),
      perSeed: rs
        .map((r) => ({
          seed: r.seed,
          value: r.diverged ? NaN : (r.final[metricKey] ?? NaN),
          others: Object.fromEntries(otherKeys.map((k) => [k, r.diverged ? NaN : (r.final[k] ?? NaN)])),
        }))
        .sort((a, b) => a.seed - b.seed),
    };
  });
  rows.sort((a, b) => ORDER.indexOf(a.variant) - ORDER.indexOf(b.variant) || (a.p ?? 0) - (b.p ?? 0));
  const ln = rows.find((r) => r.variant === 'layer');
  for (const r of rows) {
    // Paper's definition: (T_LN − T)/T_LN against our fused LayerNorm ('layer'), not the stock one.
    r.speedupVsLayerNorm = ln && r.variant !== 'layer' && ln.medianStepMs > 0 ? (ln.medianStepMs - r.medianStepMs) / ln.medianStepMs : null;
  }
  return rows;
}

/** One TaskSummary per (task, group) present in `runs`, tasks in registry order, 'main' first. */
export function summarize(runs: RunResult[], timings: Record<string, StepTimingRow[]> = {}): TaskSummary[] {
  const keys = [...new Set(runs.map((r) => `${r.task}\u0000${groupKey(r)}`))];
  const out: TaskSummary[] = [];
  for (const key of keys) {
    const [taskName, group] = key.split('\u0000');
    const task = getTask(taskName);
    const rs = runs.filter(
      (r) => r.task === taskName && (groupKey(r) === group || (group === 'p-sweep' && groupKey(r) === 'main' && r.variant === 'prms')),
    );
    const main = group === 'main';
    const extraNotes: string[] =
      group === 'p-sweep'
        ? ['pRMSNorm with the statistic over the first p·n units (p-sweep, paper Fig. 3); the p = 6.25% row is the main run.']
        : group.startsWith('init-')
          ? [`Every weight matrix and embedding initialised with mean ${group.slice(5)} (paper Fig. 4 uses 0.2; biases and norm gains unchanged); same seeds, noise and batches as the main runs.`]
          : [];
    out.push({
      task: main ? taskName : `${taskName}/${group}`,
      title: main ? task.title : `${task.title} — ${group}`,
      metricName: task.metricName,
      higherIsBetter: task.higherIsBetter,
      lossThreshold: (rs[0].config.lossThreshold as number | null | undefined) ?? null,
      rows: summaryRows(rs, task.metricKey, main || group === 'p-sweep' ? timings[taskName] : undefined, task.higherIsBetter),
      paper: main ? paperReferenceFor(taskName) : null,
      notes: [
        ...(main ? task.notes : []),
        ...extraNotes,
        ...((main || group === 'p-sweep') && timings[taskName]
          ? ['ms/step: median of steps timed in an interleaved pass over all variants in one process (load drift hits all alike); the training runs\' own medians are in trainStepMs.']
          : []),
      ],
    });
  }
  return out;
}
