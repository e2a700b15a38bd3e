// A small synthetic ReproductionResults for the report tests (not a test file itself): two tasks, five variants,
// two seeds, one diverged run, an invariance table and claims. Values follow simple formulas, no training.

import type { KernelChecks, ReproductionResults, RunResult, SummaryRow, TaskSummary, Variant } from '../src/experiments/types.js';
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

/**
 * Synthetic kernel checks (claims 6.1, 6.3, 6.4) in the shapes of packages/rmsnorm/src/check/{correctness,gradient-claims,kernel-speed}.ts:
 * two ops (one f32 row over its tolerance), two gradient laws at two δ, two shapes × one backend of kernel times
 * (LN 10 ms, RMS 8 ms, pRMS 8.4 ms at 4096×1024: speed-ups 20% and 16%, pRMS +5% vs RMS).
 */
export function syntheticKernelChecks(): KernelChecks {
  const fdCase = (op: string, relError: number) => ({ op, eps: 1e-6, rows: 1, cols: 7, k: 7, maxAbsError: { dx: 2e-10, dgamma: 1e-10, dbeta: 1e-10 }, relError });
  const f32 = (op: string, direction: 'forward' | 'backward', scaledError: number, atol: number) => ({
    backend: 'wasm' as const, op, direction, scaledError, atol, worstRatio: scaledError / atol, ok: scaledError <= atol,
  });
  const law = (quantity: 'dL/dg' | 'dL/dW', transform: 'x → δx' | 'W → δW', expected: 'unchanged' | '× 1/δ', delta: number, deviation: number) => ({
    norm: 'RMSNorm' as const, quantity, transform, delta, expected, deviation, deviationF32: 1e-7,
  });
  const speed = (rows: number, op: 'layerNorm' | 'rmsNorm' | 'pRmsNorm', ms: number, ln: number) => ({
    backend: 'auto' as const, resolved: 'wasm' as const, rows, cols: 1024, op, p: op === 'layerNorm' ? null : op === 'rmsNorm' ? 1 : 0.0625,
    k: op === 'pRmsNorm' ? 64 : 1024, ms_p20: 0.95 * ms, ms_p50: ms, ms_p80: 1.05 * ms, samples: 20,
    speedupVsLn: op === 'layerNorm' ? null : (100 * (ln - ms)) / ln,
  });
  return {
    correctness: {
      h: 1e-4, threshold: 1e-7, eps: [1e-6], shapes: [[1, 7]],
      fd: [fdCase('RMSNorm eps inside', 3e-9), fdCase('LayerNorm', 1e-9)],
      perOp: [
        { op: 'RMSNorm eps inside', maxAbsError: 2e-10, maxRelError: 3e-9, cases: 1 },
        { op: 'LayerNorm', maxAbsError: 2e-10, maxRelError: 1e-9, cases: 1 },
      ],
      f32: [f32('RMSNorm eps inside', 'forward', 1e-7, 2e-6), f32('RMSNorm eps inside', 'backward', 2e-7, 2e-5), f32('LayerNorm', 'forward', 3e-6, 2e-6), f32('LayerNorm', 'backward', 2e-7, 2e-5)],
      ok: false,
    },
    gradientClaims: {
      batch: 4, inputs: 16, outputs: 64, p: 0.0625, k: 4, eps: 0, seed: 1, deltas: [0.01, 1000], backend: 'auto', threshold: 1e-9,
      rows: [law('dL/dg', 'x → δx', 'unchanged', 0.01, 3e-16), law('dL/dg', 'x → δx', 'unchanged', 1000, 4e-16), law('dL/dW', 'W → δW', '× 1/δ', 0.01, 5e-16), law('dL/dW', 'W → δW', '× 1/δ', 1000, 6e-16)],
      maxDeviation: 6e-16, maxDeviationF32: 1e-7, ok: true,
    },
    kernelSpeed: {
      shapes: [[4096, 1024], [80, 1024]], p: 0.0625, reps: 20, sets: 3, wallMs: 4200, notes: [],
      rows: [speed(4096, 'layerNorm', 10, 10), speed(4096, 'rmsNorm', 8, 10), speed(4096, 'pRmsNorm', 8.4, 10), speed(80, 'layerNorm', 0.15, 0.15), speed(80, 'rmsNorm', 0.1, 0.15), speed(80, 'pRmsNorm', 0.1, 0.15)],
    },
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
      {
        id: '6.5a',
        claim: 'RMSNorm ≈ LayerNorm in final loss.',
        verdict: 'holds',
        evidence: 'bpc 2.31 vs 2.30',
        intervals: [
          { label: 'char-lm: RMS − LN (+ = RMS better)', task: 'char-lm', n: 3, mean: -0.01, lo: -0.03, hi: 0.01, tol: 0.046, position: 'inside', unit: 'bits/char' },
          { label: 'cnn: RMS − LN (+ = RMS better)', task: 'cnn', n: 1, mean: 0.2, lo: -Infinity, hi: Infinity, tol: 0.5, position: 'no interval' },
        ],
      },
      { id: '6.5c', claim: 'L2-Norm is no better than the baseline.', verdict: 'does not hold', evidence: '<b>escaped</b>' },
      { id: '6.7', claim: 'LN less stable under shifted init.', verdict: 'inconclusive', evidence: 'not run' },
    ],
    // The shape of packages/rmsnorm/src/check/invariance.ts's InvarianceTable (copied by value, so this fixture has no runtime link).
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
    kernelChecks: syntheticKernelChecks(),
  };
}
