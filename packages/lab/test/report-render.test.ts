// Report writer without a browser: SVG chart geometry (ticks, gaps for NaN, clipping), the HTML's tables and
// escaping, the files writeReport produces (JSON round trip, CSV row counts) and the terminal table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intervalBars, lineChart, niceTicks, renderReportHtml, writeReport, formatSummaryTable, genericTable, invarianceSection, kernelChecksSection } from '../src/report/index.js';
import { syntheticKernelChecks, syntheticResults } from './report-fixture.js';

test('niceTicks: steps of 1/2/2.5/5 × 10^k covering the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 300, 5), [0, 100, 200, 300]);
  assert.deepEqual(niceTicks(1.5, 4.6, 5), [2, 3, 4]);
  assert.deepEqual(niceTicks(-7, 7, 4), [-5, 0, 5]);
});

test('lineChart: one path per series, a NaN starts a new sub-path, legend lists every series', () => {
  const svg = lineChart({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      { name: 'A', color: '#000', points: [[0, 1], [1, 2], [2, NaN], [3, 2], [4, 1]] },
      { name: 'B', color: '#f00', points: [[0, 2], [4, 3]] },
    ],
  });
  const paths = [...svg.matchAll(/<path class="series" d="([^"]*)"/g)].map((m) => m[1] as string);
  assert.equal(paths.length, 2);
  assert.equal((paths[0]?.match(/M/g) ?? []).length, 2, 'the NaN at x=2 splits series A in two');
  assert.equal((paths[1]?.match(/M/g) ?? []).length, 1);
  assert.equal((svg.match(/class="legend-item"/g) ?? []).length, 2);
  // x = 0 maps to the left edge of the plot (62 px margin), x = 4 to the right edge (460 − 14).
  assert.match(paths[1] as string, /^M62\.0 [\d.]+L446\.0 /);
});

test('lineChart: a few huge values are clipped to the top edge and flagged, not allowed to squash the axis', () => {
  const pts: Array<[number, number]> = Array.from({ length: 50 }, (_, i) => [i, 2 + 0.01 * i]);
  pts.push([50, 1e6]);
  const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'A', color: '#000', points: pts }] });
  assert.match(svg, /clipped/);
  const ticks = [...svg.matchAll(/text-anchor="end" font-size="11" fill="#333">([^<]*)</g)].map((m) => Number(m[1]));
  assert.ok(Math.max(...ticks) < 10, `y ticks stay near the bulk of the data, got ${ticks.join(',')}`);
});

test('renderReportHtml: a table per task with the paper columns, claims, invariance, escaped text, no scripts', () => {
  const r = syntheticResults();
  const html = renderReportHtml(r);
  assert.equal((html.match(/<table class="summary">/g) ?? []).length, 3);
  assert.equal((html.match(/<svg class="chart"/g) ?? []).length, 9, 'three charts per summary, the p-sweep included');
  assert.doesNotMatch(html, /No runs recorded/);
  assert.match(html, /pRMSNorm \(p=25%\)/);
  assert.match(html, /paper: BLEU Test14/);
  assert.match(html, /399±3\.40s/, 'the paper time of the Table 2 baseline is shown');
  assert.match(html, /L2-Norm \(1\/2 diverged\)/);
  assert.match(html, /class="l v-does-not-hold"/);
  assert.match(html, /&lt;b&gt;escaped&lt;\/b&gt;/);
  assert.doesNotMatch(html, /<b>escaped<\/b>/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  assert.match(html, /Table 5 analogue/);
  assert.match(html, /Machine: AMD EPYC \(test\)/);
});

test('invarianceSection: the check/invariance table shape as norms × transforms, mismatches highlighted', () => {
  const t = invarianceSection(syntheticResults().invariance);
  assert.equal((t.match(/<tr>/g) ?? []).length, 3);
  assert.equal((t.match(/class="mismatch"/g) ?? []).length, 1);
  assert.match(t, /<th>dataset re-centering<\/th>/);
  assert.match(t, /Some cells differ from the paper/);
});

test('kernelChecksSection: correctness per op, gradient-law deviations per δ, kernel speed with speed-ups', () => {
  const t = kernelChecksSection(syntheticKernelChecks());
  const table = (cls: string) => t.match(new RegExp(`<table class="${cls}">([\\s\\S]*?)</table>`))?.[1] ?? '';
  const bodyRows = (cls: string) => (table(cls).split('<tbody>')[1]?.match(/<tr>/g) ?? []).length;
  assert.equal(bodyRows('kernel-correctness'), 2, 'one row per op');
  assert.equal(bodyRows('gradient-laws'), 2, 'one row per (gradient, transform), δ in columns');
  assert.equal(bodyRows('kernel-speed'), 2, 'one row per backend × shape');
  // The LayerNorm f32 forward error 3e-6 exceeds its tolerance 2e-6: that cell alone is highlighted.
  assert.equal((table('kernel-correctness').match(/class="mismatch"/g) ?? []).length, 1);
  assert.match(table('kernel-correctness'), /f32 wasm fwd<br><small>tol 2\.0e-6/);
  assert.match(table('gradient-laws'), /<th>δ = 1000<\/th>/);
  assert.match(table('gradient-laws'), /6\.0e-16/);
  // 4096×1024: (10 − 8)/10 = 20.0%, (10 − 8.4)/10 = 16.0%, pRMS vs RMS (8.4 − 8)/8 = +5.0%.
  assert.match(table('kernel-speed'), /<td>20\.0%<\/td><td[^>]*>8\.40<\/td><td>16\.0%<\/td><td>\+5\.0%<\/td>/);
  assert.match(table('kernel-speed'), /auto \(wasm\)/);
  assert.equal(kernelChecksSection(undefined), '');
  const html = renderReportHtml(syntheticResults());
  assert.match(html, /Kernel checks \(claims 6\.1, 6\.3, 6\.4, computed live\)[\s\S]*kernel-correctness[\s\S]*gradient-laws[\s\S]*kernel-speed/);
  assert.doesNotMatch(renderReportHtml({ ...syntheticResults(), kernelChecks: undefined }), /Kernel checks/);
});

test('genericTable: {columns, rows}, arrays of objects and unknown values all render', () => {
  const t = genericTable({ columns: ['method', 'x'], rows: [{ method: 'RMSNorm', x: { invariant: false, maxDiff: 0.19 } }] });
  assert.equal((t.match(/<tr>/g) ?? []).length, 2);
  assert.match(t, /☒/);
  assert.match(genericTable([{ a: 1, b: 'x' }]), /<th class="l">a<\/th><th class="">b<\/th>/);
  assert.match(genericTable(null), /Not computed/);
  assert.match(genericTable(42), /<td class="l">42<\/td>|42/);
});

test('writeReport: four files, results.json round-trips, CSVs have a row per task×variant and per run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rmsnorm-report-'));
  try {
    const r = syntheticResults();
    const files = writeReport(r, join(dir, 'out'));
    assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['report.html', 'results.json', 'runs.csv', 'summary.csv']);
    const back = JSON.parse(readFileSync(files.json, 'utf8'));
    assert.equal(back.runs.length, r.runs.length);
    assert.equal(back.summaries[0].rows[2].variant, 'rms');
    assert.equal(back.runs.find((x: { diverged: boolean }) => x.diverged).steps.at(-1).loss, null, 'NaN is stored as null');
    const summary = readFileSync(files.summaryCsv, 'utf8').trim().split('\n');
    assert.equal(summary.length, 1 + 10 + 3);
    assert.match(summary[0] as string, /^task,variant,p,seeds,metric_name,metric_mean,metric_std,others_valLoss,median_step_ms/);
    assert.equal(readFileSync(files.runsCsv, 'utf8').trim().split('\n').length, 1 + r.runs.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('formatSummaryTable: a block per task, aligned columns, speed-ups and claims', () => {
  const text = formatSummaryTable(syntheticResults());
  const lines = text.split('\n');
  assert.ok(lines.some((l) => /^RMSNorm\s+\d/.test(l)));
  assert.match(text, /25\.7%/, 'RMSNorm (52 ms) vs LayerNorm (70 ms): (70 − 52)/70 = 25.7%');
  assert.match(text, /24\.7%/, 'the paper speed-up of RMSNorm in Table 2');
  assert.match(text, /6\.5c\s+does not hold/);
  const header = lines[1] as string;
  const rule = lines[2] as string;
  assert.equal(header.length >= rule.length - 2, true);
});

test('renderReportHtml: degenerate inputs (no runs, empty curves, all-NaN losses) still render', () => {
  const r = syntheticResults();
  const empty = { ...r, runs: [], summaries: [], claims: [], invariance: undefined };
  assert.match(renderReportHtml(empty), /No claims evaluated[\s\S]*Not computed in this run/);
  const run = { ...r.runs[0]!, steps: [], evals: [] };
  const nan = { ...r.runs[1]!, steps: r.runs[1]!.steps.map((s) => ({ ...s, loss: NaN })), evals: [] };
  const html = renderReportHtml({ ...r, runs: [run, nan], summaries: [r.summaries[0]!] });
  assert.equal((html.match(/no finite data/g) ?? []).length, 3);
  assert.doesNotMatch(html, /NaN[^<]*<\/path>|d="[^"]*NaN/);
});

test('intervalBars: one row per interval with the ±tol band, caps at finite ends, a dashed bar for an unbounded one', () => {
  const svg = intervalBars([
    { label: 'a', task: 't', n: 3, mean: 0.01, lo: -0.02, hi: 0.04, tol: 0.05, position: 'inside' },
    { label: 'b', task: 't', n: 1, mean: 0.2, lo: -Infinity, hi: Infinity, tol: 0.5, position: 'no interval' },
    { label: 'c <x>', task: 't', n: 12, mean: 0.08, lo: 0.05, hi: 0.11, tol: 0, position: 'above' },
  ]);
  assert.equal((svg.match(/<rect /g) ?? []).length, 2, 'a band for the two rows with tol > 0');
  assert.equal((svg.match(/<circle /g) ?? []).length, 3);
  assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 1, 'only the unbounded interval is dashed');
  assert.match(svg, />c &lt;x&gt;<\/text>/);
  assert.match(svg, />\+0\.080 \[\+0\.050, \+0\.110\] · n 12 · above</);
  assert.match(svg, />\+0\.200 \[−∞, ∞\] · tol ±0\.500 · n 1 · no interval</);
  // Row a: span = 0.05 · 1.15, x maps [−span, span] onto [8, 392]; the band spans ±0.05 → 384/1.15 = 333.9 px wide.
  assert.match(svg, /<rect x="[0-9.]+" y="31" width="333\.9"/);
  assert.equal(intervalBars([]), '');
});

test('claims: the HTML draws the intervals, the terminal table lists them', () => {
  const r = syntheticResults();
  const html = renderReportHtml(r);
  assert.match(html, /95% intervals/);
  assert.match(html, /<svg[^>]*class="intervals"/);
  const text = formatSummaryTable(r);
  assert.match(text, /95% confidence intervals/);
  assert.match(text, /char-lm: RMS − LN \(\+ = RMS better\)\s+-0\.010\s+\[-0\.030, \+0\.010\]\s+±0\.046\s+3\s+inside/);
  assert.match(text, /\[−∞, \+∞\]/);
});
