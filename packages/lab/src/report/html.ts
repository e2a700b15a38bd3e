// Render ReproductionResults as one self-contained HTML page: inline CSS and SVG, no scripts, no external requests.
// Per task: our table beside the paper's numbers, loss curves against steps and wall time, validation curves,
// the Table 5 analogue when runs carry it; then the claims table, the live invariance table (paper Table 1) and the
// kernel checks (claims 6.1, 6.3, 6.4; kernel-checks-html.ts).

import type { ClaimResult, ReproductionResults, RunResult, SummaryRow, TaskSummary, Verdict } from '../experiments/types.js';
import { TABLE5 } from '../experiments/paper-numbers.js';
import { lineChart } from './svg-chart.js';
import { evalSeries, evalSeriesPerSeed, groupRuns, pickMetricKey, trainLossSeries } from './curves.js';
import { kernelChecksSection } from './kernel-checks-html.js';
import { intervalBars } from './interval-chart.js';
import { escapeHtml as h, fmt, pct, variantLabel, VARIANT_LABEL } from './format.js';

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#111;margin:0;background:#fafafa}
main{max-width:1480px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}
.meta{color:#444;font-size:13px}.note{color:#555;font-size:12.5px;margin:2px 0}
table{border-collapse:collapse;margin:6px 0 10px;background:#fff;font-size:13px}
th,td{border:1px solid #d6d6d6;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f0f0f0;font-weight:600}td.l,th.l{text-align:left}
th.paper,td.paper{background:#f6f8fc}
.charts{display:flex;flex-wrap:wrap;gap:10px}.charts svg{background:#fff;border:1px solid #e3e3e3}
.v-holds{color:#0a6b2b;font-weight:600}.v-does-not-hold{color:#b00020;font-weight:600}.v-inconclusive{color:#8a6d00;font-weight:600}
.ok{color:#0a6b2b}.bad{color:#b00020}td.mismatch{background:#fde8e8}
table.invariance td{text-align:center}
code{font-size:12.5px}
`;

const verdictClass = (v: Verdict): string => `v-${v.replace(/ /g, '-')}`;

/** "1.234 ± 0.010" (± omitted for a single seed). */
function meanStd(m: { mean: number; std: number }, seeds: number): string {
  return seeds > 1 ? `${fmt(m.mean, 4)} ± ${fmt(m.std, 2)}` : fmt(m.mean, 4);
}

function paperCells(summary: TaskSummary, row: SummaryRow): string {
  const ref = summary.paper?.rows.find((r) => r.variant === row.variant);
  if (summary.paper === null) return '';
  if (ref === undefined) return '<td class="paper">–</td><td class="paper">–</td><td class="paper">–</td>';
  return `<td class="paper">${fmt(ref.metric, 3)}</td><td class="paper">${h(ref.time ?? '–')}</td><td class="paper">${pct(ref.speedup)}</td>`;
}

function taskTable(summary: TaskSummary): string {
  const otherKeys = [...new Set(summary.rows.flatMap((r) => Object.keys(r.others)))];
  const paper = summary.paper;
  const head =
    `<tr><th class="l">variant</th><th>seeds</th><th>${h(summary.metricName)} ${summary.higherIsBetter ? '↑' : '↓'}</th>` +
    otherKeys.map((k) => `<th>${h(k)}</th>`).join('') +
    `<th>median step (ms)</th><th>speed-up vs LN</th><th>steps to loss ≤ ${fmt(summary.lossThreshold, 3)}</th><th>diverged</th>` +
    (paper !== null ? `<th class="paper">paper: ${h(paper.metricName)}</th><th class="paper">paper: time${paper.timeUnit !== undefined ? ` (${h(paper.timeUnit)})` : ''}</th><th class="paper">paper: speed-up</th>` : '') +
    '</tr>';
  const body = summary.rows
    .map(
      (r) =>
        `<tr><td class="l">${h(variantLabel(r.variant, r.p))}</td><td>${r.seeds}</td><td>${meanStd(r.metric, r.seeds)}</td>` +
        otherKeys.map((k) => `<td>${fmt(r.others[k], 4)}</td>`).join('') +
        `<td>${fmt(r.medianStepMs, 3)}</td><td>${pct(r.speedupVsLayerNorm)}</td><td>${r.stepsToThreshold ?? 'never'}</td>` +
        `<td class="${r.divergedRuns > 0 ? 'bad' : ''}">${r.divergedRuns}</td>${paperCells(summary, r)}</tr>`,
    )
    .join('');
  const others = (paper?.otherRows ?? [])
    .map(
      (o) =>
        `<tr><td class="l">${h(o.label)} (paper only)</td><td colspan="${5 + otherKeys.length}"></td><td class="paper">${fmt(o.metric, 3)}</td><td class="paper">${h(o.time ?? '–')}</td><td class="paper">${pct(o.speedup)}</td></tr>`,
    )
    .join('');
  return `<table class="summary"><thead>${head}</thead><tbody>${body}${others}</tbody></table>`;
}

interface PositionStats {
  positions: number[];
  mean: number[];
  std: number[];
  all: { mean: number; std: number };
}

function isPositionStats(x: unknown): x is PositionStats {
  const o = x as PositionStats | null;
  return typeof o === 'object' && o !== null && Array.isArray(o.positions) && Array.isArray(o.mean) && Array.isArray(o.std) && typeof o.all === 'object';
}

/** Table 5 analogue: seed-mean per-position mean/std of the recurrent pre-activations, beside the paper's. */
function positionStatsTable(runs: readonly RunResult[]): string {
  const groups = groupRuns(runs)
    .map((g) => ({ g, stats: g.runs.map((r) => r.extra?.['recurrentStats']).filter(isPositionStats) }))
    .filter((x) => x.stats.length > 0);
  if (groups.length === 0) return '';
  const positions = groups[0]?.stats[0]?.positions ?? [];
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = groups
    .flatMap(({ g, stats }) =>
      (['mean', 'std'] as const).map((stat) => {
        const vals = positions.map((_, i) => avg(stats.map((s) => s[stat][i] ?? NaN)));
        const all = avg(stats.map((s) => s.all[stat]));
        const paper = TABLE5.rows.find((r) => r.variant === g.variant && r.stat === stat);
        return (
          `<tr><td class="l">${h(g.label)}</td><td class="l">${stat === 'mean' ? 'M' : 'S'}</td>${vals.map((v) => `<td>${fmt(v, 3)}</td>`).join('')}<td>${fmt(all, 3)}</td>` +
          `${paper !== undefined ? paper.values.map((v) => `<td class="paper">${fmt(v, 3)}</td>`).join('') : TABLE5.positions.map(() => '<td class="paper">–</td>').join('')}</tr>`
        );
      }),
    )
    .join('');
  return (
    `<h3>Recurrent pre-activation statistics (paper Table 5 analogue)</h3>` +
    `<table><thead><tr><th class="l">variant</th><th class="l"></th>${positions.map((p) => `<th>pos ${p}</th>`).join('')}<th>ALL</th>` +
    `${TABLE5.positions.map((p) => `<th class="paper">paper ${p}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="note">Ours: the recurrent hidden-to-hidden statistics the task records (see its notes), mean over seeds; paper: ${h(TABLE5.source)}. Compare the stability across positions, not the values.</p>`
  );
}

/**
 * The summary key a run belongs to. The runner puts extra experiments of a task (p-sweep, shifted init) in
 * config.group and names their summary "<task>/<group>"; the main runs keep the bare task name.
 */
export function summaryKeyOf(r: RunResult): string {
  const group = r.config['group'];
  return typeof group === 'string' && group !== 'main' ? `${r.task}/${group}` : r.task;
}

function taskSection(summary: TaskSummary, runs: readonly RunResult[]): string {
  const taskRuns = runs.filter((r) => summaryKeyOf(r) === summary.task);
  const groups = groupRuns(taskRuns);
  const metricKey = pickMetricKey(taskRuns, summary.metricKey);
  const charts =
    taskRuns.length === 0
      ? '<p class="note">No runs recorded for this task.</p>'
      : `<div class="charts">${[
          lineChart({ title: 'Training loss vs steps (EMA 0.9, seed mean)', xLabel: 'step', yLabel: 'training loss', series: trainLossSeries(groups, 'step') }),
          lineChart({ title: 'Training loss vs wall time', xLabel: 'training time (s)', yLabel: 'training loss', series: trainLossSeries(groups, 'wall') }),
          lineChart({ title: `Validation ${metricKey} vs steps`, xLabel: 'step', yLabel: metricKey, series: evalSeries(groups, metricKey) }),
          // Shifted init (paper Fig. 4: LN's dev BLEU "very unstable"): every seed's curve, which a seed mean would smooth.
          ...(summary.task.includes('/init-')
            ? [lineChart({ title: `Validation ${metricKey} per seed`, xLabel: 'step', yLabel: metricKey, series: evalSeriesPerSeed(groups, metricKey) })]
            : []),
        ].join('')}</div>`;
  const paper = summary.paper;
  return (
    `<section class="task" id="task-${h(summary.task)}"><h2>${h(summary.title)} <small><code>${h(summary.task)}</code></small></h2>` +
    summary.notes.map((n) => `<p class="note">${h(n)}</p>`).join('') +
    (paper !== null ? `<p class="note">Paper columns: ${h(paper.source)}.${paper.note !== undefined ? ` ${h(paper.note)}` : ''}</p>` : '') +
    taskTable(summary) +
    charts +
    positionStatsTable(taskRuns) +
    '</section>'
  );
}

function claimsTable(claims: readonly ClaimResult[]): string {
  if (claims.length === 0) return '<p class="note">No claims evaluated.</p>';
  const rows = claims
    .map(
      (c) =>
        `<tr><td class="l">${h(c.id)}</td><td class="l">${h(c.claim)}</td><td class="l ${verdictClass(c.verdict)}">${h(c.verdict)}</td><td class="l">${h(c.evidence)}</td><td class="l">${intervalBars(c.intervals ?? [])}</td></tr>`,
    )
    .join('');
  return (
    `<p class="note">Intervals: 95% Student-t confidence intervals of paired differences (across seeds for metrics, across interleaved timing rounds for step times); ` +
    `shaded = the tolerance band ±tol, line = 0, dot = mean. Parity holds when the bar lies inside the band, fails when it lies outside, and is inconclusive only when it straddles an edge.</p>` +
    `<table class="claims"><thead><tr><th class="l">§6</th><th class="l">claim</th><th class="l">verdict</th><th class="l">evidence</th><th class="l">95% intervals</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

function cell(v: unknown): string {
  if (v === true) return '<span class="ok">☑</span>';
  if (v === false) return '<span class="bad">☒</span>';
  if (typeof v === 'number') return fmt(v, 3);
  if (v === null || v === undefined) return '–';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // A cell like { invariant: true, maxDiff: 3e-9 } or { expected, observed, ... }: show the verdict, then numbers.
    const flag = o['invariant'] ?? o['observed'] ?? o['ok'] ?? o['pass'];
    const rest = Object.entries(o)
      .filter(([, x]) => typeof x === 'number' || typeof x === 'string')
      .map(([k, x]) => `${h(k)}=${typeof x === 'number' ? fmt(x, 2) : h(x as string)}`)
      .join(' ');
    return `${typeof flag === 'boolean' ? cell(flag) + ' ' : ''}<small>${rest}</small>`;
  }
  return h(String(v));
}

/** Render any table-like value: {columns, rows}, an array of row objects, or an object of row → cells. */
export function genericTable(value: unknown): string {
  if (value === null || value === undefined) return '<p class="note">Not computed in this run.</p>';
  const v = value as Record<string, unknown>;
  let rows: Array<Record<string, unknown>> | null = null;
  let columns: string[] | null = Array.isArray(v['columns']) ? (v['columns'] as unknown[]).map(String) : null;
  if (Array.isArray(value)) rows = value as Array<Record<string, unknown>>;
  else if (Array.isArray(v['rows'])) rows = v['rows'] as Array<Record<string, unknown>>;
  else if (typeof value === 'object') rows = Object.entries(v).map(([k, x]) => ({ row: k, ...(typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : { value: x }) }));
  if (rows === null || rows.some((r) => typeof r !== 'object' || r === null)) return `<pre>${h(JSON.stringify(value, null, 2))}</pre>`;
  // Rows shaped { name|row|method, cells: {...} } are flattened so each cell is a column.
  const flat = rows.map((r) => {
    const cells = r['cells'];
    return typeof cells === 'object' && cells !== null && !Array.isArray(cells) ? { ...r, ...(cells as Record<string, unknown>), cells: undefined } : r;
  });
  columns ??= [...new Set(flat.flatMap((r) => Object.keys(r).filter((k) => r[k] !== undefined)))];
  const body = flat.map((r) => `<tr>${(columns as string[]).map((c, i) => `<td class="${i === 0 ? 'l' : ''}">${cell(r[c])}</td>`).join('')}</tr>`).join('');
  return `<table class="generic"><thead><tr>${columns.map((c, i) => `<th class="${i === 0 ? 'l' : ''}">${h(c)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

interface InvarianceLike {
  columns: string[];
  rows: Array<{ norm: string; cells: Array<{ transform: string; relativeDelta: number; invariant: boolean; paper: boolean; matches: boolean }> }>;
  threshold?: number;
  allMatch?: boolean;
}

function isInvarianceTable(x: unknown): x is InvarianceLike {
  const o = x as InvarianceLike | null;
  return (
    typeof o === 'object' && o !== null && Array.isArray(o.columns) && Array.isArray(o.rows) &&
    o.rows.every((r) => typeof r?.norm === 'string' && Array.isArray(r.cells) && r.cells.every((c) => typeof c?.invariant === 'boolean'))
  );
}

/**
 * Paper Table 1 as computed by the library's packages/rmsnorm/src/check/invariance.ts: measured mark (☑ invariant / ☒ not), the relative change,
 * and the paper's mark; a cell that disagrees with the paper is highlighted. Other shapes fall back to genericTable.
 */
export function invarianceSection(value: unknown): string {
  if (!isInvarianceTable(value)) return genericTable(value);
  const v = value;
  const setup = Object.entries(v as unknown as Record<string, unknown>)
    .filter(([k, x]) => k !== 'columns' && k !== 'rows' && (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean'))
    .map(([k, x]) => `${h(k)} = ${typeof x === 'number' ? fmt(x, 3) : h(String(x))}`)
    .join(' · ');
  const body = v.rows
    .map(
      (r) =>
        `<tr><td class="l">${h(r.norm)}</td>${v.columns
          .map((col) => {
            const c = r.cells.find((x) => x.transform === col);
            if (c === undefined) return '<td>–</td>';
            return `<td class="${c.matches ? '' : 'mismatch'}" title="relative change ${fmt(c.relativeDelta, 3)}">${c.invariant ? '<span class="ok">☑</span>' : '<span class="bad">☒</span>'} <small>${fmt(c.relativeDelta, 2)}</small><br><small>paper ${c.paper ? '☑' : '☒'}${c.matches ? '' : ' ≠'}</small></td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return (
    `<table class="invariance"><thead><tr><th class="l">norm</th>${v.columns.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>` +
    `<p class="note">☑ = output unchanged (relative change ≤ threshold) under the transform, ☒ = changed; the small number is the measured relative change. ${
      v.allMatch === true ? '<span class="ok">Every cell matches the paper.</span>' : v.allMatch === false ? '<span class="bad">Some cells differ from the paper (highlighted).</span>' : ''
    }</p><p class="note">Setup: ${setup}</p>`
  );
}

/**
 * The whole report page as a string.
 * @example
 * writeFileSync('report.html', renderReportHtml(results));
 */
export function renderReportHtml(results: ReproductionResults): string {
  const m = results.machine;
  const seconds = (Date.parse(results.finishedAt) - Date.parse(results.startedAt)) / 1000;
  const tasksKnown = new Set(results.summaries.map((s) => s.task));
  const orphanTasks = [...new Set(results.runs.map(summaryKeyOf))].filter((t) => !tasksKnown.has(t));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>RMSNorm reproduction report (${h(results.preset)})</title><style>${CSS}</style></head>
<body><main>
<h1>Root Mean Square Layer Normalization — reproduction report</h1>
<p class="meta">rmsnorm ${h(results.version)} · preset <b>${h(results.preset)}</b> · ${h(results.startedAt)} → ${h(results.finishedAt)}${Number.isFinite(seconds) ? ` (${fmt(seconds / 60, 3)} min)` : ''}</p>
<p class="meta machine">Machine: ${h(m.cpu)} · ${m.cores} cores · Node ${h(m.node)} · backend ${h(m.backend)}</p>
<p class="note">Miniature tasks on a CPU: compare directions and ratios with the paper (who wins, relative speed), not absolute values. Variants: ${Object.values(VARIANT_LABEL).map(h).join(', ')}. Speed-up = (T<sub>LN</sub> − T)/T<sub>LN</sub>, the paper's definition.</p>
<h2>Claims (paper §6)</h2>
${claimsTable(results.claims)}
${results.summaries.map((s) => taskSection(s, results.runs)).join('\n')}
${orphanTasks.map((t) => `<p class="note">Runs of task ${h(t)} have no summary.</p>`).join('')}
<h2>Invariance table (paper Table 1, computed live)</h2>
${invarianceSection(results.invariance)}
${kernelChecksSection(results.kernelChecks)}
<p class="note">Generated by <code>rmsnorm reproduce</code>; data: results.json, summary.csv, runs.csv next to this file.</p>
</main></body></html>
`;
}
