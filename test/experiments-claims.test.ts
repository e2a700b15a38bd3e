// Claim verdict rules (src/experiments/claims.ts) on synthetic numbers: parity tolerance, single-seed handling,
// steps-to-threshold, transformer failure, p-sweep flatness, the per-task combination rule, and the kernel-check
// claims 6.1 (FD ≤ 1e-7 rel, f32 within tolerance), 6.3 (deviations ≤ 1e-9), 6.4 (RMS > 3% faster than LN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combine, compareRows, evaluateClaims } from '../src/experiments/claims.js';
import type { KernelChecks, SummaryRow, TaskSummary, Variant } from '../src/experiments/types.js';
import { syntheticKernelChecks } from './report-fixture.js';

function row(variant: Variant, mean: number, std: number, seeds: number, extra: Partial<SummaryRow> = {}): SummaryRow {
  return { variant, seeds, metric: { mean, std }, others: {}, medianStepMs: 10, speedupVsLayerNorm: null, stepsToThreshold: 100, divergedRuns: 0, ...extra };
}

function summary(task: string, rows: SummaryRow[], higherIsBetter = false, lossThreshold: number | null = 2): TaskSummary {
  return { task, title: task, metricName: 'm', higherIsBetter, lossThreshold, rows, paper: null, notes: [] };
}

const verdict = (claims: ReturnType<typeof evaluateClaims>, id: string) => claims.find((c) => c.id === id)?.verdict;

test('compareRows: ≥ 2 seeds use max(2·pooled std, 2% rel)', () => {
  // |Δ| = 0.05, pooled std 0.03 → tol 0.06: same.
  assert.equal(compareRows(row('rms', 2.05, 0.03, 3), row('layer', 2.0, 0.03, 3), false).cmp, 'same');
  // |Δ| = 0.1 > tol 0.06, lower is better and rms is higher → worse.
  assert.equal(compareRows(row('rms', 2.1, 0.03, 3), row('layer', 2.0, 0.03, 3), false).cmp, 'worse');
  // Higher is better (BLEU): rms higher → better.
  assert.equal(compareRows(row('rms', 12, 0.1, 3), row('layer', 10, 0.1, 3), true).cmp, 'better');
});

test('compareRows: one seed is only "consistent" within 2%, a clear gap beyond 10%', () => {
  assert.equal(compareRows(row('rms', 2.01, 0, 1), row('layer', 2.0, 0, 1), false).cmp, 'consistent');
  assert.equal(compareRows(row('rms', 2.1, 0, 1), row('layer', 2.0, 0, 1), false).cmp, 'unclear');
  assert.equal(compareRows(row('rms', 2.5, 0, 1), row('layer', 2.0, 0, 1), false).cmp, 'worse');
});

test('combine: all holds → holds; failures without any holds → does not hold; mixed → inconclusive', () => {
  assert.equal(combine(['holds', 'holds']), 'holds');
  assert.equal(combine(['does not hold', 'inconclusive']), 'does not hold');
  assert.equal(combine(['holds', 'does not hold']), 'inconclusive');
  assert.equal(combine([]), 'inconclusive');
});

test('6.5a parity holds with 3 seeds, is inconclusive with 1 seed, fails on a clear gap', () => {
  const three = [summary('char-lm', [row('none', 2.5, 0.02, 3), row('layer', 2.0, 0.02, 3), row('rms', 2.01, 0.02, 3)])];
  assert.equal(verdict(evaluateClaims({ summaries: three, recurrentStats: {}, invariance: null }), '6.5a'), 'holds');
  const one = [summary('char-lm', [row('none', 2.5, 0, 1), row('layer', 2.0, 0, 1), row('rms', 2.01, 0, 1)])];
  assert.equal(verdict(evaluateClaims({ summaries: one, recurrentStats: {}, invariance: null }), '6.5a'), 'inconclusive');
  const gap = [summary('char-lm', [row('layer', 2.0, 0.01, 3), row('rms', 2.5, 0.01, 3)])];
  assert.equal(verdict(evaluateClaims({ summaries: gap, recurrentStats: {}, invariance: null }), '6.5a'), 'does not hold');
});

test('6.5b: LN and RMS must reach the threshold in < 0.9× the baseline steps', () => {
  const fast = [summary('t', [row('none', 3, 0, 1, { stepsToThreshold: 200 }), row('layer', 2, 0, 1, { stepsToThreshold: 100 }), row('rms', 2, 0, 1, { stepsToThreshold: 110 })])];
  assert.equal(verdict(evaluateClaims({ summaries: fast, recurrentStats: {}, invariance: null }), '6.5b'), 'holds');
  const never = [summary('t', [row('none', 3, 0, 1, { stepsToThreshold: null }), row('layer', 2, 0, 1, { stepsToThreshold: 100 }), row('rms', 2, 0, 1, { stepsToThreshold: 110 })])];
  assert.equal(verdict(evaluateClaims({ summaries: never, recurrentStats: {}, invariance: null }), '6.5b'), 'holds');
  const slow = [summary('t', [row('none', 3, 0, 1, { stepsToThreshold: 100 }), row('layer', 2, 0, 1, { stepsToThreshold: 150 }), row('rms', 2, 0, 1, { stepsToThreshold: 50 })])];
  assert.equal(verdict(evaluateClaims({ summaries: slow, recurrentStats: {}, invariance: null }), '6.5b'), 'does not hold');
});

test('6.9a: a diverged or clearly worse un-normalised Transformer counts as failing to train', () => {
  const diverged = [summary('transformer', [row('none', NaN, 0, 1, { divergedRuns: 1 }), row('layer', 2.2, 0, 1), row('rms', 2.2, 0, 1)])];
  assert.equal(verdict(evaluateClaims({ summaries: diverged, recurrentStats: {}, invariance: null }), '6.9a'), 'holds');
  const trains = [summary('transformer', [row('none', 2.2, 0, 1), row('layer', 2.2, 0, 1), row('rms', 2.2, 0, 1)])];
  assert.equal(verdict(evaluateClaims({ summaries: trains, recurrentStats: {}, invariance: null }), '6.9a'), 'does not hold');
});

test('6.6: p-sweep flat within 5% holds, a large spread does not', () => {
  const sweep = (vals: number[]) => [
    summary('char-lm/p-sweep', vals.map((v, i) => row('prms', v, 0, 1, { p: [0.0625, 0.25, 1][i] }))),
  ];
  assert.equal(verdict(evaluateClaims({ summaries: sweep([2.0, 2.02, 2.01]), recurrentStats: {}, invariance: null }), '6.6'), 'holds');
  assert.equal(verdict(evaluateClaims({ summaries: sweep([2.0, 2.5, 2.01]), recurrentStats: {}, invariance: null }), '6.6'), 'does not hold');
  assert.equal(verdict(evaluateClaims({ summaries: [], recurrentStats: {}, invariance: null }), '6.6'), 'inconclusive');
});

test('6.2 follows the invariance table; 6.8 follows the Table 5 statistics', () => {
  assert.equal(verdict(evaluateClaims({ summaries: [], recurrentStats: {}, invariance: { allMatch: true } }), '6.2'), 'holds');
  assert.equal(verdict(evaluateClaims({ summaries: [], recurrentStats: {}, invariance: { allMatch: false } }), '6.2'), 'does not hold');
  const st = (mean: number[], std: number[]) => ({ positions: [1, 2, 3, 4], mean, std, all: { mean: 0, std: 1 } });
  const stats = {
    translation: {
      none: st([-2.6, -1.2, -1.4, -1.5], [7.3, 2.3, 2.6, 2.7]),
      layer: st([-0.43, -0.48, -0.5, -0.5], [1.19, 1.51, 1.51, 1.51]),
      rms: st([-0.4, -0.6, -0.69, -0.74], [1.27, 1.51, 1.5, 1.49]),
    },
  };
  // The paper's own Table 5 numbers satisfy the rule (LN std ratio 1.27, RMS 1.19; RMS mean range 0.34 < baseline 1.4).
  assert.equal(verdict(evaluateClaims({ summaries: [], recurrentStats: stats, invariance: null }), '6.8'), 'holds');
  // A baseline-like RMS row (std ratio 3) fails.
  stats.translation.rms = st([-2.6, -1.2, -1.4, -1.5], [7.3, 2.3, 2.6, 2.7]);
  assert.equal(verdict(evaluateClaims({ summaries: [], recurrentStats: stats, invariance: null }), '6.8'), 'does not hold');
});

const kernelVerdict = (k: KernelChecks | undefined, id: string) => verdict(evaluateClaims({ summaries: [], recurrentStats: {}, invariance: null, kernelChecks: k }), id);

test('6.1: holds when every FD error ≤ 1e-7 relative and every f32 row is within tolerance; fails otherwise', () => {
  const k = syntheticKernelChecks();
  const c = k.correctness!;
  // The fixture's LayerNorm f32 forward error 3e-6 > tol 2e-6.
  assert.equal(kernelVerdict(k, '6.1'), 'does not hold');
  c.f32 = c.f32.filter((r) => r.worstRatio <= 1);
  assert.equal(kernelVerdict(k, '6.1'), 'holds');
  c.fd[0]!.relError = 2e-7;
  assert.equal(kernelVerdict(k, '6.1'), 'does not hold');
  c.fd[0]!.relError = NaN; // a NaN error is not "within"
  assert.equal(kernelVerdict(k, '6.1'), 'does not hold');
  assert.equal(kernelVerdict(undefined, '6.1'), 'inconclusive');
  assert.equal(kernelVerdict({ errors: ['correctness: boom'] }, '6.1'), 'inconclusive');
});

test('6.3: holds when every float64 deviation ≤ 1e-9, fails on one above; evidence names the worst per law', () => {
  const k = syntheticKernelChecks();
  const claims = evaluateClaims({ summaries: [], recurrentStats: {}, invariance: null, kernelChecks: k });
  assert.equal(verdict(claims, '6.3'), 'holds');
  assert.match(claims.find((c) => c.id === '6.3')!.evidence, /dL\/dW W → δW × 1\/δ 6\.0e-16/);
  k.gradientClaims!.rows[1]!.deviation = 2e-9;
  assert.equal(kernelVerdict(k, '6.3'), 'does not hold');
  assert.equal(kernelVerdict({}, '6.3'), 'inconclusive');
});

test('6.4: RMS > 3% faster than LN at every shape and pRMS ≤ 3% slower than RMS → holds; RMS > 3% slower → fails', () => {
  const k = syntheticKernelChecks();
  const rows = k.kernelSpeed!.rows;
  const set = (shapeRows: number, op: string, ms: number) => {
    rows.find((r) => r.rows === shapeRows && r.op === op)!.ms_p50 = ms;
  };
  // Fixture: 4096 rows LN 10 / RMS 8 / pRMS 8.4 (+5% vs RMS): pRMS too slow → not 'holds', RMS not slower → inconclusive.
  assert.equal(kernelVerdict(k, '6.4'), 'inconclusive');
  set(4096, 'pRmsNorm', 8.2); // +2.5% vs RMS: within 3%
  assert.equal(kernelVerdict(k, '6.4'), 'holds');
  set(80, 'rmsNorm', 0.147); // 2% faster than LN at 80 rows: not > 3%
  assert.equal(kernelVerdict(k, '6.4'), 'inconclusive');
  set(80, 'rmsNorm', 0.16); // 6.7% slower than LN
  assert.equal(kernelVerdict(k, '6.4'), 'does not hold');
  // js rows are reported but do not decide: only the default backend ('auto') counts.
  const js = syntheticKernelChecks();
  js.kernelSpeed!.rows = js.kernelSpeed!.rows.map((r) => ({ ...r, backend: 'js' as const, resolved: 'js' as const }));
  assert.equal(kernelVerdict(js, '6.4'), 'inconclusive');
  assert.equal(kernelVerdict(undefined, '6.4'), 'inconclusive');
});
