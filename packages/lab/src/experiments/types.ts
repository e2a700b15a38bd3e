// The reproduction's data model: what a training run records, what a task summary holds, and results.json.
// Shared contract between the runner (src/experiments) and the report writer (src/report).
import type { CorrectnessResult } from 'rmsnorm/internal';
import type { GradientClaimsResult } from 'rmsnorm/internal';
import type { KernelSpeedResult } from '../bench/kernel-speed.js';

/**
 * A sample of the interleaved timing pass (timing.ts) lasts at least this long (ms): fast steps (the CNN's ≈ 17 ms)
 * are averaged over several consecutive steps, so a single GC pause or scheduler tick does not decide a round's pair
 * (with one step a sample, the CNN's per-round gaps spread ±10 %).
 */
export const MIN_SAMPLE_MS = 100;

/** Normalisation variants compared in every task. 'layer-stock' = tfjs's own tf.layers.layerNormalization. */
export type Variant = 'none' | 'layer' | 'layer-stock' | 'rms' | 'prms' | 'l2';

/** One optimisation step, appended to the run's JSONL as it happens. */
export interface StepRecord {
  step: number;
  /** Milliseconds since the run started (training time only, evaluation excluded). */
  wallMs: number;
  /** Duration of this step in ms. */
  stepMs: number;
  loss: number;
  gradNorm?: number;
}

/** One evaluation on held-out data. */
export interface EvalRecord {
  step: number;
  wallMs: number;
  /** e.g. { valLoss, bpc } | { valLoss, bleu } | { valLoss, accuracy, error } */
  metrics: Record<string, number>;
}

export interface RunResult {
  task: string;
  variant: Variant;
  seed: number;
  /** pRMSNorm fraction used (only for 'prms'). */
  p?: number;
  /** Any other knob of this run (init mean, model sizes, lr, steps). */
  config: Record<string, unknown>;
  steps: StepRecord[];
  evals: EvalRecord[];
  /** Final held-out metrics (same keys as EvalRecord.metrics). */
  final: Record<string, number>;
  medianStepMs: number;
  /** First step at which the training loss (smoothed) reached the task's threshold; null if never. */
  stepsToThreshold: number | null;
  /** True when the loss became NaN/Inf or blew up; such runs keep their steps up to that point. */
  diverged: boolean;
  /** Task-specific extras, e.g. per-position pre-activation statistics (paper Table 5). */
  extra?: Record<string, unknown>;
}

/** One row of a task's table: a variant's aggregate over seeds. */
export interface SummaryRow {
  variant: Variant;
  p?: number;
  seeds: number;
  metric: { mean: number; std: number };
  /** Secondary metrics (mean over seeds), e.g. valLoss next to BLEU. */
  others: Record<string, number>;
  medianStepMs: number;
  /** Where medianStepMs comes from: 'interleaved' = the timing pass (src/experiments/timing.ts), 'training' = the runs. */
  stepTimeSource?: 'interleaved' | 'training';
  /** Median step time of the training runs themselves (ms), when medianStepMs comes from the interleaved pass. */
  trainStepMs?: number;
  /** The paper's speed-up over LayerNorm: (T_LN − T)/T_LN, null for LN itself or when LN was not run. */
  speedupVsLayerNorm: number | null;
  stepsToThreshold: number | null;
  divergedRuns: number;
  /**
   * The headline metric of each seed (NaN for a diverged run): claims compare variants on paired differences by seed
   * (same initial weights and batches, only the norm differs).
   */
  perSeed?: Array<{ seed: number; value: number; /** Secondary metrics of that seed (e.g. valLoss). */ others?: Record<string, number> }>;
  /**
   * Instability of the held-out curve: the largest drop of the metric below its running best across a run's
   * evaluations (metric units, ≥ 0), mean over seeds (paper Fig. 4: LN's dev BLEU "very unstable").
   */
  instability?: number;
  /** Step times (ms) of the interleaved timing pass in round order: sample r of two rows was timed in the same round. */
  stepSamples?: number[];
}

/** The paper's published numbers for the matching experiment, shown beside ours. */
export interface PaperReference {
  source: string; // e.g. "Table 2 (TF Nematus, WMT14 En-De)"
  metricName: string; // e.g. "BLEU Test14"
  rows: Array<{ variant: Variant; metric: number | null; time: string | null; speedup: number | null }>;
  /** Optional (E1): the paper's rows for methods we do not run (BatchNorm, WeightNorm), shown for context. */
  otherRows?: Array<{ label: string; metric: number | null; time: string | null; speedup: number | null }>;
  /** Optional (E1): unit of the time column, e.g. "s per 1k steps (TITAN X)". */
  timeUnit?: string;
  /** Optional (E1): caveats of the mapping between the paper's experiment and our miniature. */
  note?: string;
}

export interface TaskSummary {
  task: string;
  title: string;
  metricName: string;
  /** Optional (E1): key of the metric in EvalRecord.metrics / RunResult.final (e.g. 'bpc'); the report plots it. */
  metricKey?: string;
  higherIsBetter: boolean;
  lossThreshold: number | null;
  rows: SummaryRow[];
  paper: PaperReference | null;
  notes: string[];
}

export type Verdict = 'holds' | 'does not hold' | 'inconclusive';

/**
 * One confidence interval behind a verdict: the mean paired difference (oriented as `label` says) with its 95 % interval
 * and the tolerance band it is judged against; the report draws it as an interval bar.
 */
export interface ClaimInterval {
  /** e.g. "char-lm: RMS − LN (bits/char, + = RMS better)". */
  label: string;
  task: string;
  n: number;
  mean: number;
  lo: number;
  hi: number;
  /** Equivalence / ordering margin (same unit); 0 for pure ordering tests. */
  tol: number;
  /** How the interval lies against ±tol: 'inside', 'above', 'below', 'straddles +tol', 'straddles −tol', 'straddles both', 'no interval'. */
  position: string;
  unit?: string;
}

export interface ClaimResult {
  id: string; // claim id of CLAIMS (paper-numbers.ts), e.g. "6.5a"
  claim: string;
  verdict: Verdict;
  evidence: string;
  /** The confidence intervals the verdict rests on (paired differences across seeds or timing rounds). */
  intervals?: ClaimInterval[];
}

export interface ReproductionResults {
  version: string;
  preset: string;
  startedAt: string;
  finishedAt: string;
  machine: { node: string; cpu: string; cores: number; backend: string };
  runs: RunResult[];
  summaries: TaskSummary[];
  claims: ClaimResult[];
  /** Paper Table 1 computed live from the kernels (packages/rmsnorm/src/check/invariance.ts). */
  invariance: unknown;
  /** Interleaved step timings per task (src/experiments/timing.ts): variant, p, median ms, samples. */
  stepTimings?: Record<string, Array<{ variant: Variant; p?: number; medianMs: number; samples: number[] }>>;
  /** Optional (H): claims 6.1, 6.3, 6.4 measured live in the main process (packages/rmsnorm/src/check/{correctness,gradient-claims}.ts, src/bench/kernel-speed.ts). */
  kernelChecks?: KernelChecks;
}

/** Kernel-level checks of `reproduce`; a part that failed to run is absent and its message is in `errors`. */
export interface KernelChecks {
  /** Claim 6.1: finite differences (float64) and float32-vs-float64 errors per op. */
  correctness?: CorrectnessResult;
  /** Claim 6.3: gradient scaling laws on a linear layer followed by RMSNorm / pRMSNorm. */
  gradientClaims?: GradientClaimsResult;
  /** Claim 6.4: forward+backward kernel times of LN, RMSNorm, pRMSNorm. */
  kernelSpeed?: KernelSpeedResult;
  errors?: string[];
}
