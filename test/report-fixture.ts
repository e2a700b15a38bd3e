// A small synthetic ReproductionResults for the report tests (not a test file itself): two tasks, five variants,
// two seeds, one diverged run, an invariance table and claims. Values follow simple formulas, no training.

import type { ReproductionResults, RunResult, SummaryRow, TaskSummary, Variant } from '../src/experiments/types.js';
import { PAPER_REFERENCES } from '../src/experiments/paper-numbers.js';

const VARIANTS: Variant[] = ['none', 'layer', 'rms', 'prms', 'l2'];
const RATE: Record<string, number> = { none: 0.004, layer: 0.012, rms: 0.011, prms: 0.0105, l2: 0.003, 'layer-stock': 0.012 };
const MS: Record<string, number> = { none: 40, layer: 70, rms: 52, prms: 50, l2: 48, 'layer-stock': 150 };

function makeRun(task: string, variant: Variant, seed: number, steps: number, divergeAt: number | null): RunResult {
  const recs = [];
  let wall = 0;
  for (let s = 1; s <= steps; s++) {
    const stepMs = (MS[variant] as number) * (1 + 0.05 * Math.sin(s + seed));
    wall += stepMs;
    const loss = divergeAt !== null && s >= divergeAt ? NaN : 1.5 + 3 * Math.exp(-(RATE[variant] as number) * s) + 0.05 * Math.sin(3 * s + seed);
    recs.push({ step: s, wallMs: wall, stepMs, loss });
    if (divergeAt !== null && s >= divergeAt + 5) break;
  }
  const evals = [];
  for (let s = 50; s <= steps; s += 50) {
    const bad = divergeAt !== null && s >= divergeAt;
    const v = bad ? NaN : 1.6 + 3 * Math.exp(-(RATE[variant] as number) * s);
    evals.push({ step: s, wallMs: s * (MS[variant] as number), metrics: { valLoss: v, bpc: v / Math.LN2 } });
  }
  const last = evals[evals.length - 1]?.metrics ?? { valLoss: NaN, bpc: NaN };
  const run: RunResult = {
    task,
    variant,
    seed,
    config: { hidden: 64, steps },
    steps: recs,
    evals,
    final: { ...last },
    medianStepMs: MS[variant] as number,
    stepsToThreshold: divergeAt === null ? Math.round(Math.log(3 / 0.6) / (RATE[variant] as number)) : null,
    diverged: divergeAt !== null,
    extra: {
      recurrentStats: { positions: [1, 2, 3, 4], mean: [-1, -0.5, -0.6, -0.7], std: [3, 1.5, 1.5, 1.5], all: { mean: -0.6, std: 1.6 } },
    },
  };
  if (variant === 'prms') run.p = 0.0625;
  return run;
}

function summarise(task: string, title: string, runs: RunResult[]): TaskSummary {
  const ln = runs.find((r) => r.variant === 'layer')?.medianStepMs ?? null;
  const rows: SummaryRow[] = VARIANTS.map((v) => {
    const rs = runs.filter((r) => r.variant === v);
    const ms = rs.map((r) => r.final['bpc'] as number);
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    const row: SummaryRow = {
      variant: v,
      seeds: rs.length,
      metric: { mean, std: 0.01 },
      others: { valLoss: mean * Math.LN2 },
      medianStepMs: MS[v] as number,
      speedupVsLayerNorm: v === 'layer' || ln === null ? null : (ln - (MS[v] as number)) / ln,
      stepsToThreshold: rs[0]?.stepsToThreshold ?? null,
      divergedRuns: rs.filter((r) => r.diverged).length,
    };
    if (v === 'prms') row.p = 0.0625;
    return row;
  });
  return {
    task,
    title,
    metricName: 'validation bits/char',
    metricKey: 'bpc',
    higherIsBetter: false,
    lossThreshold: 2.1,
    rows,
    paper: PAPER_REFERENCES[task as 'char-lm'] ?? null,
    notes: ['Synthetic fixture <not real> & "quoted"'],
  };
}

export function syntheticResults(): ReproductionResults {
  const runs: RunResult[] = [];
  for (const task of ['char-lm', 'translation'])
    for (const v of VARIANTS) for (const seed of [1, 2]) runs.push(makeRun(task, v, seed, 300, task === 'char-lm' && v === 'l2' && seed === 2 ? 120 : null));
  const mainRuns = [...runs];
  // An extra experiment of char-lm (the p-sweep): same task name, config.group set, summary named "char-lm/p-sweep".
  const sweep = [0.0625, 0.25, 1].map((p) => {
    const r = makeRun('char-lm', 'prms', 1, 200, null);
    r.p = p;
    r.config = { ...r.config, group: 'p-sweep' };
    return r;
  });
  runs.push(...sweep);
  const sweepSummary: TaskSummary = {
    ...summarise('char-lm', 'Character LM — p-sweep', []),
    task: 'char-lm/p-sweep',
    paper: null,
    rows: sweep.map((r) => ({
      variant: 'prms' as const,
      p: r.p as number,
      seeds: 1,
      metric: { mean: r.final['bpc'] as number, std: 0 },
      others: {},
      medianStepMs: r.medianStepMs,
      speedupVsLayerNorm: null,
      stepsToThreshold: r.stepsToThreshold,
      divergedRuns: 0,
    })),
  };
  return {
    version: '0.1.0-test',
    preset: 'test',
    startedAt: '2026-11-28T09:00:00.000Z',
    finishedAt: '2026-11-28T09:12:30.000Z',
    machine: { node: 'v20.20.2', cpu: 'AMD EPYC (test)', cores: 2, backend: 'wasm' },
    runs,
    summaries: [
      summarise('char-lm', 'Character LM (synthetic)', mainRuns.filter((r) => r.task === 'char-lm')),
      summarise('translation', 'Translation (synthetic)', mainRuns.filter((r) => r.task === 'translation')),
      sweepSummary,
    ],
    claims: [
      { id: '6.5a', claim: 'RMSNorm ≈ LayerNorm in final loss.', verdict: 'holds', evidence: 'bpc 2.31 vs 2.30' },
      { id: '6.5c', claim: 'L2-Norm is no better than the baseline.', verdict: 'does not hold', evidence: '<b>escaped</b>' },
      { id: '6.7', claim: 'LN less stable under shifted init.', verdict: 'inconclusive', evidence: 'not run' },
    ],
    // The shape of src/check/invariance.ts's InvarianceTable (copied by value, so this fixture has no runtime link).
    invariance: {
      backend: 'js',
      batch: 8,
      threshold: 1e-4,
      columns: ['W-matrix re-scaling', 'dataset re-centering'],
      rows: [
        {
          norm: 'LayerNorm',
          cells: [
            { transform: 'W-matrix re-scaling', maxAbsDelta: 4e-7, relativeDelta: 1.6e-7, invariant: true, paper: true, matches: true },
            { transform: 'dataset re-centering', maxAbsDelta: 1.2, relativeDelta: 0.4, invariant: false, paper: false, matches: true },
          ],
        },
        {
          norm: 'RMSNorm',
          cells: [
            { transform: 'W-matrix re-scaling', maxAbsDelta: 5e-7, relativeDelta: 2e-7, invariant: true, paper: true, matches: true },
            { transform: 'dataset re-centering', maxAbsDelta: 1e-7, relativeDelta: 3e-8, invariant: true, paper: false, matches: false },
          ],
        },
      ],
      allMatch: false,
    },
  };
}
