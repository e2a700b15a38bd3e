// Turn a task's runs into chart series: per (variant, p), the seed-mean of the EMA-smoothed training loss against
// step and against wall time, and the seed-mean validation metric against step. A seed that diverged makes the
// mean NaN from that point (a visible gap), never a silently smaller average.

import type { RunResult, Variant } from '../experiments/types.js';
import { ema } from '../experiments/metrics/stats.js';
import type { ChartSeries } from './svg-chart.js';
import { variantColor, variantLabel } from './format.js';

export interface RunGroup {
  key: string;
  variant: Variant;
  p?: number;
  label: string;
  color: string;
  runs: RunResult[];
}

const VARIANT_ORDER: Variant[] = ['none', 'layer', 'layer-stock', 'rms', 'prms', 'l2'];

/** Group runs by variant and p, in the fixed variant order (then by p). */
export function groupRuns(runs: readonly RunResult[]): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  let spare = 0;
  const sorted = [...runs].sort(
    (a, b) => VARIANT_ORDER.indexOf(a.variant) - VARIANT_ORDER.indexOf(b.variant) || (a.p ?? 0) - (b.p ?? 0) || a.seed - b.seed,
  );
  for (const r of sorted) {
    const key = `${r.variant}|${r.p ?? ''}`;
    let g = groups.get(key);
    if (g === undefined) {
      const color = variantColor(r.variant, r.p, spare);
      if (r.variant === 'prms' && r.p !== undefined && r.p !== 0.0625 && r.p !== 0.125) spare++;
      g = { key, variant: r.variant, label: variantLabel(r.variant, r.p), color, runs: [] };
      if (r.p !== undefined) g.p = r.p;
      groups.set(key, g);
    }
    g.runs.push(r);
  }
  return [...groups.values()];
}

/** Mean over seeds at each index; NaN where any seed is NaN or missing after another seed's end. */
function meanAcross(columns: number[][]): number[] {
  const len = Math.max(0, ...columns.map((c) => c.length));
  const out: number[] = [];
  for (let i = 0; i < len; i++) {
    let s = 0;
    for (const c of columns) {
      const v = c[i];
      if (v === undefined || !Number.isFinite(v)) {
        s = NaN;
        break;
      }
      s += v;
    }
    out.push(s / columns.length);
  }
  return out;
}

function thin<T>(xs: T[], maxPoints: number): T[] {
  if (xs.length <= maxPoints) return xs;
  const stride = Math.ceil(xs.length / maxPoints);
  return xs.filter((_, i) => i % stride === 0 || i === xs.length - 1);
}

/** Training-loss series (EMA β = 0.9, mean over seeds) against 'step' or 'wall' (seconds, seed-mean wall clock). */
export function trainLossSeries(groups: readonly RunGroup[], x: 'step' | 'wall', maxPoints = 300): ChartSeries[] {
  return groups.map((g) => {
    const loss = meanAcross(g.runs.map((r) => ema(r.steps.map((s) => s.loss), 0.9)));
    const xs = x === 'step' ? g.runs[0]?.steps.map((s) => s.step) ?? [] : meanAcross(g.runs.map((r) => r.steps.map((s) => s.wallMs / 1000)));
    const n = Math.min(loss.length, xs.length);
    const points: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) points.push([xs[i] as number, loss[i] as number]);
    return { name: diverged(g), color: g.color, points: thin(points, maxPoints) };
  });
}

/** Validation-metric series against step (seed mean); key defaults to the first non-valLoss metric. */
export function evalSeries(groups: readonly RunGroup[], metricKey: string): ChartSeries[] {
  return groups.map((g) => {
    const ys = meanAcross(g.runs.map((r) => r.evals.map((e) => e.metrics[metricKey] ?? NaN)));
    const steps = g.runs[0]?.evals.map((e) => e.step) ?? [];
    const points: Array<[number, number]> = ys.map((y, i) => [steps[i] ?? NaN, y]);
    return { name: diverged(g), color: g.color, points };
  });
}

/** Validation-metric series of every run on its own (label "<variant> s<seed>"), to show instability a seed mean hides. */
export function evalSeriesPerSeed(groups: readonly RunGroup[], metricKey: string): ChartSeries[] {
  return groups.flatMap((g) =>
    g.runs.map((r) => ({
      name: `${g.label} s${r.seed}${r.diverged ? ' (diverged)' : ''}`,
      color: g.color,
      points: r.evals.map((e): [number, number] => [e.step, e.metrics[metricKey] ?? NaN]),
    })),
  );
}

function diverged(g: RunGroup): string {
  const d = g.runs.filter((r) => r.diverged).length;
  return d > 0 ? `${g.label} (${d}/${g.runs.length} diverged)` : g.label;
}

/** The metric key to plot for a task: summary.metricKey, else the first eval key that is not valLoss. */
export function pickMetricKey(runs: readonly RunResult[], preferred?: string): string {
  if (preferred !== undefined) return preferred;
  for (const r of runs) for (const e of r.evals) for (const k of Object.keys(e.metrics)) if (k !== 'valLoss') return k;
  return 'valLoss';
}
