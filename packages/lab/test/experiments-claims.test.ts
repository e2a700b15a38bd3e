// Claim verdict rules (src/experiments/claims.ts) on synthetic numbers: paired 95 % intervals across seeds against the
// tolerance band (inside → same, outside → different, straddling → inconclusive), step-time order from interleaved
// rounds, steps-to-threshold, transformer failure, p-sweep flatness, shifted init, the per-task combination rule,
// and the kernel-check claims 6.1 (FD ≤ 1e-7 rel, f32 within tolerance), 6.3 (deviations ≤ 1e-9), 6.4 (RMS > 3% faster than LN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combine, compareRows, evaluateClaims, position, stepTimeGap } from '../src/experiments/claims.js';
import type { KernelChecks, RunResult, SummaryRow, TaskSummary, Variant } from '../src/experiments/types.js';
import { syntheticKernelChecks } from './report-fixture.js';

/** A summary row from per-seed values (seeds 1..n); NaN = a diverged seed. */
function row(variant: Variant, values: number[], extra: Partial<SummaryRow> = {}): SummaryRow {
  const ok = values.filter(Number.isFinite);
  const mean = ok.reduce((a, b) => a + b, 0) / Math.max(1, ok.length);
  const std = ok.length > 1 ? Math.sqrt(ok.reduce((a, b) => a + (b - mean) ** 2, 0) / (ok.length - 1)) : 0;
  return {
    variant,
    seeds: values.length,
    metric: { mean, std },
    others: {},
    medianStepMs: 10,
    speedupVsLayerNorm: null,
    stepsToThreshold: 100,
    divergedRuns: values.length - ok.length,
    perSeed: values.map((value, i) => ({ seed: i + 1, value })),
    ...extra,
  };
}

function summary(task: string, rows: SummaryRow[], higherIsBetter = false, lossThreshold: number | null = 2): TaskSummary {
  return { task, title: task, metricName: 'm', higherIsBetter, lossThreshold, rows, paper: null, notes: [] };
}

const verdict = (claims: ReturnType<typeof evaluateClaims>, id: string) => claims.find((c) => c.id === id)?.verdict;
const claimsOf = (summaries: TaskSummary[]) => evaluateClaims({ summaries, recurrentStats: {}, invariance: null });

test('position of an interval against ±tol', () => {
  assert.equal(position({ n: 3, lo: -0.01, hi: 0.02 }, 0.05), 'inside');
  assert.equal(position({ n: 3, lo: 0.06, hi: 0.2 }, 0.05), 'above');
  assert.equal(position({ n: 3, lo: -0.2, hi: -0.06 }, 0.05), 'below');
  assert.equal(position({ n: 3, lo: 0.01, hi: 0.07 }, 0.05), 'straddles +tol');
  assert.equal(position({ n: 3, lo: -0.07, hi: 0.01 }, 0.05), 'straddles −tol');
  assert.equal(position({ n: 3, lo: -0.07, hi: 0.07 }, 0.05), 'straddles both');
  assert.equal(position({ n: 1, lo: -Infinity, hi: Infinity }, 0.05), 'no interval');
});

test('compareRows: paired t-interval by seed, oriented so + = a better, judged against max(2% of b, floor)', () => {
  // rms − layer per seed (bits/char, lower is better): 0.1, −0.1, 0.3 → mean 0.1, sd 0.2, half 4.30265·0.2/√3 = 0.49683.
  // Goodness (+ = rms better) flips the sign: mean −0.1, interval [−0.59683, +0.39683].
  const c = compareRows(row('rms', [3.1, 2.9, 3.3]), row('layer', [3.0, 3.0, 3.0]), false);
  assert.ok(Math.abs(c.ci.mean + 0.1) < 1e-12);
  assert.ok(Math.abs(c.ci.lo + 0.59683) < 1e-5 && Math.abs(c.ci.hi - 0.39683) < 1e-5);
  assert.ok(Math.abs(c.tol - 0.06) < 1e-12, 'tol = 2% of LN 3.0');
  assert.equal(c.pos, 'straddles both');
  assert.equal(c.cmp, 'unclear');
  // Same seeds, tiny paired differences although the seeds themselves spread widely: same.
  assert.equal(compareRows(row('rms', [2.51, 3.02, 2.2]), row('layer', [2.5, 3.0, 2.21]), false).cmp, 'same');
  // A consistent gap of 0.3 bits/char: worse; higher-is-better metric with rms consistently higher: better.
  assert.equal(compareRows(row('rms', [3.3, 3.31, 3.29]), row('layer', [3.0, 3.0, 3.0]), false).cmp, 'worse');
  assert.equal(compareRows(row('rms', [12, 12.2, 11.9]), row('layer', [10, 10.1, 10]), true, 0.5).cmp, 'better');
  // One seed: no interval, never a verdict.
  const one = compareRows(row('rms', [2.0]), row('layer', [2.0]), false);
  assert.equal(one.pos, 'no interval');
  assert.equal(one.cmp, 'unclear');
  // A diverged seed (NaN) is left out of the pairs.
  assert.equal(compareRows(row('rms', [2.0, NaN, 2.01, 2.0]), row('layer', [2.0, 2.0, 2.0, 2.01]), false).ci.n, 3);
});

test('combine: all holds → holds; failures without any holds → does not hold; mixed → inconclusive', () => {
  assert.equal(combine(['holds', 'holds']), 'holds');
  assert.equal(combine(['does not hold', 'inconclusive']), 'does not hold');
  assert.equal(combine(['holds', 'does not hold']), 'inconclusive');
  assert.equal(combine([]), 'inconclusive');
});

test('6.5a parity: holds inside the band, inconclusive with 1 seed or a straddling interval (evidence says which edge), fails outside', () => {
  const three = [summary('char-lm', [row('none', [2.5, 2.6, 2.4]), row('layer', [2.0, 2.1, 1.9]), row('rms', [2.01, 2.1, 1.91])])];
  const c = claimsOf(three).find((x) => x.id === '6.5a')!;
  assert.equal(c.verdict, 'holds');
  assert.equal(c.intervals?.length, 1);
  assert.equal(c.intervals?.[0]?.position, 'inside');
  assert.equal(verdict(claimsOf([summary('char-lm', [row('layer', [2.0]), row('rms', [2.01])])]), '6.5a'), 'inconclusive');
  const straddle = claimsOf([summary('char-lm', [row('layer', [2.0, 2.0, 2.0]), row('rms', [2.0, 2.1, 1.96])])]).find((x) => x.id === '6.5a')!;
  assert.equal(straddle.verdict, 'inconclusive');
  assert.match(straddle.evidence, /straddles/);
  const gap = [summary('char-lm', [row('layer', [2.0, 2.01, 1.99]), row('rms', [2.5, 2.52, 2.49])])];
  assert.equal(verdict(claimsOf(gap), '6.5a'), 'does not hold');
});

test('6.5b: LN and RMS must reach the threshold in < 0.9× the baseline steps', () => {
  const mk = (n: number | null, l: number | null, r: number | null) => [
    summary('t', [row('none', [3], { stepsToThreshold: n }), row('layer', [2], { stepsToThreshold: l }), row('rms', [2], { stepsToThreshold: r })]),
  ];
  assert.equal(verdict(claimsOf(mk(200, 100, 110)), '6.5b'), 'holds');
  assert.equal(verdict(claimsOf(mk(null, 100, 110)), '6.5b'), 'holds');
  assert.equal(verdict(claimsOf(mk(100, 150, 50)), '6.5b'), 'does not hold');
});

test('6.5c: L2 no better than the baseline is one-sided: the upper end must stay within +tol', () => {
  const mk = (l2: number[]) => [summary('cnn', [row('none', [20, 22, 21]), row('l2', l2)], false)];
  assert.equal(verdict(claimsOf(mk([24, 26, 25])), '6.5c'), 'holds', 'L2 clearly worse');
  assert.equal(verdict(claimsOf(mk([20, 22, 21.1])), '6.5c'), 'holds', 'L2 the same');
  assert.equal(verdict(claimsOf(mk([15, 17, 16.2])), '6.5c'), 'does not hold', 'L2 clearly better');
  assert.equal(verdict(claimsOf(mk([17, 23, 19])), '6.5c'), 'inconclusive', 'straddles +tol');
});

test('6.5e: step-time order from per-round paired gaps of the interleaved pass', () => {
  const t = (variant: Variant, samples: number[]) => row(variant, [2, 2, 2], { stepSamples: samples, medianStepMs: samples[0] });
  const ordered = [summary('char-lm', [t('none', [50, 52, 49, 51, 50]), t('layer', [60, 63, 59, 61, 60]), t('rms', [55, 57, 54, 56, 55])])];
  assert.equal(verdict(claimsOf(ordered), '6.5e'), 'holds');
  // Per-round relative gap (T_LN − T_RMS)/T_LN = 1/12, 6/63, 5/59, 5/61, 5/60.
  const g = stepTimeGap(ordered[0]!.rows[1]!, ordered[0]!.rows[2]!);
  assert.equal(g.n, 5);
  assert.ok(Math.abs(g.mean - (5 / 60 + 6 / 63 + 5 / 59 + 5 / 61 + 5 / 60) / 5) < 1e-12);
  const reversed = [summary('char-lm', [t('none', [50, 52, 49, 51, 50]), t('layer', [55, 57, 54, 56, 55]), t('rms', [60, 63, 59, 61, 60])])];
  assert.equal(verdict(claimsOf(reversed), '6.5e'), 'does not hold');
  const noisy = [summary('char-lm', [t('none', [50, 52, 49, 51, 50]), t('layer', [60, 50, 62, 55, 58]), t('rms', [58, 56, 57, 57, 55])])];
  assert.equal(verdict(claimsOf(noisy), '6.5e'), 'inconclusive');
  // No paired samples (the runs' own medians only): inconclusive.
  assert.equal(verdict(claimsOf([summary('char-lm', [row('none', [2]), row('layer', [2]), row('rms', [2])])]), '6.5e'), 'inconclusive');
});

test('6.9a: the un-normalised Transformer fails when diverged in every seed or worse than LN by > 10% on the whole interval', () => {
  const mk = (none: number[]) => [summary('transformer', [row('none', none), row('layer', [2.2, 2.25, 2.2]), row('rms', [2.2, 2.25, 2.21])])];
  assert.equal(verdict(claimsOf(mk([NaN, NaN, NaN])), '6.9a'), 'holds');
  assert.equal(verdict(claimsOf(mk([4.0, 4.2, 4.1])), '6.9a'), 'holds');
  assert.equal(verdict(claimsOf(mk([2.2, 2.26, 2.19])), '6.9a'), 'does not hold');
  assert.equal(verdict(claimsOf(mk([2.2, 3.0, 2.6])), '6.9a'), 'inconclusive');
});

test('6.6: every p within ±5% of p = 100% on paired seeds holds; one p clearly off fails', () => {
  const sweep = (rows: number[][]) => [summary('char-lm/p-sweep', rows.map((v, i) => row('prms', v, { p: [0.0625, 0.25, 1][i] })))];
  assert.equal(verdict(claimsOf(sweep([[2.0, 2.1, 2.05], [2.01, 2.12, 2.04], [2.0, 2.11, 2.06]])), '6.6'), 'holds');
  assert.equal(verdict(claimsOf(sweep([[2.5, 2.6, 2.55], [2.01, 2.12, 2.04], [2.0, 2.11, 2.06]])), '6.6'), 'does not hold');
  assert.equal(verdict(claimsOf([]), '6.6'), 'inconclusive');
});

test('6.7: judged at init 0.2 on the translation task; LN diverging more or RMS clearly better holds; equal or RMS worse fails', () => {
  const main = summary('translation', [row('layer', [8, 9, 8.5]), row('rms', [8.2, 8.8, 8.4])], true);
  const shifted = (ln: number[], rms: number[]) => [main, summary('translation/init-0.1', [row('layer', [7, 8, 7.5]), row('rms', [7.1, 8, 7.4])], true), summary('translation/init-0.2', [row('layer', ln), row('rms', rms)], true)];
  const holds = claimsOf(shifted([3, 4, 2.5], [6, 6.5, 5.8])).find((c) => c.id === '6.7')!;
  assert.equal(holds.verdict, 'holds');
  assert.match(holds.evidence, /judged at init 0\.2/);
  assert.match(holds.evidence, /init 0\.1/, 'the dose-response is reported');
  assert.equal(holds.intervals?.length, 2);
  assert.doesNotMatch(holds.evidence, /validation loss/, 'no per-seed valLoss in these rows: not reported');
  assert.equal(verdict(claimsOf(shifted([NaN, 4, 5], [5, 4.1, 5])), '6.7'), 'holds', 'LN diverged in more seeds');
  assert.equal(verdict(claimsOf(shifted([6, 6.5, 5.8], [3, 4, 2.5])), '6.7'), 'does not hold', 'RMS clearly worse');
  assert.equal(verdict(claimsOf(shifted([6, 6.5, 5.8], [6.1, 6.5, 5.8])), '6.7'), 'does not hold', 'the same: LN not less stable');
  assert.equal(verdict(claimsOf([main]), '6.7'), 'inconclusive');
  // The validation loss is reported beside BLEU (not judged): LN − RMS per seed 3.6 − 4.4, 3.4 − 4.3, 3.5 − 4.4.
  const withLoss = (r: SummaryRow, losses: number[]) => ({ ...r, perSeed: r.perSeed!.map((x, i) => ({ ...x, others: { valLoss: losses[i]! } })) });
  const lossCase = [main, summary('translation/init-0.2', [withLoss(row('layer', [2, 3.5, 1]), [3.6, 3.4, 3.5]), withLoss(row('rms', [0.2, 0, 0.5]), [4.4, 4.3, 4.4])], true)];
  assert.match(claimsOf(lossCase).find((c) => c.id === '6.7')!.evidence, /validation loss LN − RMS \(\+ = RMS better, reported only\) Δ -0\.867/);
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

test('summarize: per-seed values (NaN for a diverged run), curve instability, timing samples, shifted-init groups', async () => {
  const { summarize, curveDrop } = await import('../src/experiments/summaries.js');
  const run = (variant: Variant, seed: number, bleus: number[], group = 'main', diverged = false): RunResult => ({
    task: 'translation',
    variant,
    seed,
    config: { group, lossThreshold: 4.5 },
    steps: [{ step: 1, wallMs: 1, stepMs: 1, loss: 5 }],
    evals: bleus.map((b, i) => ({ step: 20 * (i + 1), wallMs: i, metrics: { bleu: b, valLoss: 5 } })),
    final: { bleu: bleus[bleus.length - 1]!, valLoss: 5 },
    medianStepMs: 1,
    stepsToThreshold: null,
    diverged,
  });
  // Running best 2, 5, 5, 6 → drops 0, 0, 2, 0 → 2 (BLEU, higher is better).
  assert.equal(curveDrop(run('layer', 1, [2, 5, 3, 6]), 'bleu', true), 2);
  // Lower is better: values 3, 2.5, 2.9 → drop 0.4.
  assert.ok(Math.abs(curveDrop(run('layer', 1, [3, 2.5, 2.9]), 'bleu', false) - 0.4) < 1e-12);
  const runs = [
    run('layer', 2, [1, 4]),
    run('layer', 1, [2, 5, 3, 6]),
    run('rms', 1, [1, 2]),
    run('rms', 2, [1, 3], 'main', true),
    run('layer', 1, [0, 1], 'init-0.2'),
    run('rms', 1, [1, 2], 'init-0.2'),
  ];
  const timing = { translation: [{ variant: 'layer' as const, medianMs: 10, samples: [10, 11, 9] }] };
  const sums = summarize(runs, timing);
  assert.deepEqual(sums.map((s) => s.task), ['translation', 'translation/init-0.2']);
  const ln = sums[0]!.rows.find((r) => r.variant === 'layer')!;
  assert.deepEqual(ln.perSeed, [{ seed: 1, value: 6, others: { valLoss: 5 } }, { seed: 2, value: 4, others: { valLoss: 5 } }]);
  assert.equal(ln.instability, 1, 'mean of drops 2 and 0');
  assert.deepEqual(ln.stepSamples, [10, 11, 9]);
  const rms = sums[0]!.rows.find((r) => r.variant === 'rms')!;
  assert.ok(Number.isNaN(rms.perSeed![1]!.value), 'the diverged seed is NaN');
  assert.equal(rms.stepSamples, undefined, 'no timing row for rms');
  assert.match(sums[1]!.notes.join(' '), /mean 0\.2/);
});
