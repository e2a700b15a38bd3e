// Verdicts on the paper's claims (the CLAIMS list in paper-numbers.ts), computed from the reproduction's numbers with explicit rules.
// Rules (documented in docs/reproduction.md):
//   Variants are compared on paired differences across seeds (each seed gives every variant the same initial weights
//   and batches, so the seed-to-seed noise cancels in the difference), with a 95 % Student-t interval. A parity claim
//   holds when the whole interval lies inside ±tol, tol = max(2 % of the reference variant's metric, ABS_TOL floor);
//   it does not hold when the whole interval lies outside; it is inconclusive only when the interval straddles ±tol
//   (the evidence says which edge). With 1 seed there is no interval: parity is inconclusive. Ordering claims
//   (step times, "no better than") test the sign of the interval against their margin the same way. Per-task
//   verdicts combine: all holds → holds; any 'does not hold' and no 'holds' → does not hold; otherwise inconclusive.
import { pairedInterval, type MeanInterval } from './metrics/stats.js';
import { PAPER_CLAIMS } from './paper-numbers.js';
import type { ClaimInterval, ClaimResult, KernelChecks, SummaryRow, TaskSummary, Verdict } from './types.js';

/** Parity margin: 2 % of the reference variant's metric (the paper's own "comparable" gaps are 0.2–0.5 BLEU, ≈ 1–2 %). */
export const REL_TOL = 0.02;
/** "Fails to train" (6.9a) needs a gap of more than 10 % of LayerNorm's metric, not a few percent. */
export const CLEAR_REL = 0.1;
/** p-sweep (6.6): "roughly flat" = every p within 5 % of p = 100 % (the paper's Fig. 3 spans 22–25 BLEU). */
export const SWEEP_REL = 0.05;
/** Confidence level of every interval. */
export const LEVEL = 0.95;
/** Table 5 rule: a std is "stable across positions" when max/min over positions 1–4 ≤ 1.5 (paper: LN 1.27, RMS 1.19, baseline 3.15). */
export const STD_RATIO_STABLE = 1.5;

/** Claim 6.1: a finite-difference error counts when > 1e-7 relative to the gradient's natural scale (float64). */
export const FD_REL_TOL = 1e-7;
/** Claim 6.3: a float64 deviation from the gradient law counts when > 1e-9 relative (rounding alone gives ~1e-15). */
export const GRADIENT_LAW_TOL = 1e-9;
/** Claim 6.4: kernel time gaps below 3% are noise (median of ≥ 20 interleaved reps in one process). */
export const KERNEL_TIME_TOL = 0.03;

/** Absolute floors of the parity margin per task metric (BLEU points, error %, bits/char): near 0, 2% rel is meaningless. */
export const ABS_TOL: Record<string, number> = { translation: 0.5, cnn: 0.5, 'char-lm': 0.01, transformer: 0.01, cloze: 0.5 };

export type Comparison = 'same' | 'better' | 'worse' | 'unclear';

/** Where an interval [lo, hi] lies against the band [−tol, +tol]. */
export type Position = 'inside' | 'above' | 'below' | 'straddles +tol' | 'straddles −tol' | 'straddles both' | 'no interval';

/**
 * Position of a confidence interval against ±tol: 'inside' (|everything| ≤ tol), 'above' (lo > tol), 'below'
 * (hi < −tol), or which edge(s) it straddles.
 * @example position({ lo: -0.01, hi: 0.02 }, 0.05) // 'inside'
 */
export function position(ci: Pick<MeanInterval, 'lo' | 'hi' | 'n'>, tol: number): Position {
  if (ci.n < 2 || !Number.isFinite(ci.lo) || !Number.isFinite(ci.hi)) return 'no interval';
  if (ci.lo > tol) return 'above';
  if (ci.hi < -tol) return 'below';
  const overHi = ci.hi > tol;
  const underLo = ci.lo < -tol;
  return overHi && underLo ? 'straddles both' : overHi ? 'straddles +tol' : underLo ? 'straddles −tol' : 'inside';
}

const seedMap = (r: SummaryRow): Map<number, number> => new Map((r.perSeed ?? []).map((x) => [x.seed, x.value]));

/**
 * Paired comparison of variant a against b over seeds, oriented so that a positive difference means a is better.
 * 'same' when the 95 % interval of the difference lies inside ±tol, 'better'/'worse' when it lies wholly above/below,
 * 'unclear' when it straddles an edge or there are fewer than 2 paired seeds.
 * @example compareRows(rms, ln, false, 0.01) // { cmp: 'same', ci: { mean: 0.002, lo: -0.004, hi: 0.008, … }, tol: 0.062 }
 */
export function compareRows(a: SummaryRow, b: SummaryRow, higherIsBetter: boolean, absTol = 0): { cmp: Comparison; delta: number; tol: number; ci: MeanInterval; pos: Position } {
  const sign = higherIsBetter ? 1 : -1;
  const ci0 = pairedInterval(seedMap(a), seedMap(b), LEVEL);
  const ci: MeanInterval = { ...ci0, mean: sign * ci0.mean, lo: sign * (higherIsBetter ? ci0.lo : ci0.hi), hi: sign * (higherIsBetter ? ci0.hi : ci0.lo) };
  const tol = Math.max(REL_TOL * Math.abs(b.metric.mean), absTol);
  const pos = position(ci, tol);
  const cmp: Comparison = pos === 'inside' ? 'same' : pos === 'above' ? 'better' : pos === 'below' ? 'worse' : 'unclear';
  return { cmp, delta: ci.n > 0 ? ci.mean : sign * (a.metric.mean - b.metric.mean), tol, ci, pos };
}

/** Combine per-task verdicts: all holds → holds; some 'does not hold' and none holds → does not hold; else inconclusive. */
export function combine(verdicts: Verdict[]): Verdict {
  if (verdicts.length === 0) return 'inconclusive';
  if (verdicts.every((v) => v === 'holds')) return 'holds';
  if (verdicts.some((v) => v === 'does not hold') && !verdicts.some((v) => v === 'holds')) return 'does not hold';
  return 'inconclusive';
}

const absTolOf = (s: TaskSummary): number => ABS_TOL[s.task.split('/')[0]] ?? 0;
const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const sg = (x: number, d = 3): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(d)}` : String(x));
const row = (s: TaskSummary, v: SummaryRow['variant']) => s.rows.find((r) => r.variant === v);
const ciText = (ci: MeanInterval, d = 3): string => (ci.n < 2 ? `${ci.n} paired seed${ci.n === 1 ? '' : 's'}, no interval` : `Δ ${sg(ci.mean, d)}, 95% CI [${sg(ci.lo, d)}, ${sg(ci.hi, d)}], n ${ci.n}`);
const LABEL: Record<string, string> = { none: 'none', layer: 'LN', 'layer-stock': 'stock LN', rms: 'RMS', prms: 'pRMS', l2: 'L2' };

function interval(label: string, task: string, ci: MeanInterval, tol: number, pos: Position, unit?: string): ClaimInterval {
  return { label, task, n: ci.n, mean: ci.mean, lo: ci.lo, hi: ci.hi, tol, position: pos, ...(unit ? { unit } : {}) };
}

type Judged = { verdict: Verdict; evidence: string; intervals?: ClaimInterval[] };

function parityClaim(summaries: TaskSummary[], a: SummaryRow['variant'], b: SummaryRow['variant'], tasks?: string[]): Judged {
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  const intervals: ClaimInterval[] = [];
  for (const s of summaries) {
    if (tasks && !tasks.includes(s.task)) continue;
    const ra = row(s, a);
    const rb = row(s, b);
    if (!ra || !rb) continue;
    const c = compareRows(ra, rb, s.higherIsBetter, absTolOf(s));
    const diverged = ra.divergedRuns + rb.divergedRuns;
    verdicts.push(c.cmp === 'same' ? 'holds' : c.cmp === 'better' || c.cmp === 'worse' ? 'does not hold' : 'inconclusive');
    intervals.push(interval(`${s.task}: ${LABEL[a]} − ${LABEL[b]} (+ = ${LABEL[a]} better)`, s.task, c.ci, c.tol, c.pos, s.metricName));
    parts.push(
      `${s.task}: ${LABEL[a]} ${f(ra.metric.mean)} vs ${LABEL[b]} ${f(rb.metric.mean)} (${ciText(c.ci)}, tol ±${f(c.tol)}: ${c.pos}${c.pos.startsWith('straddles') ? ' → inconclusive' : ''}${diverged ? `, ${diverged} diverged run(s) left out` : ''})`,
    );
  }
  return { verdict: combine(verdicts), evidence: parts.length ? parts.join('; ') : `no task ran both ${a} and ${b}`, intervals };
}

/**
 * Paired step-time comparison from the interleaved timing pass: relative gap (T_slow − T_fast)/T_slow per round, where
 * `slow` is the variant predicted slower. Positive = the predicted order.
 */
export function stepTimeGap(slow: SummaryRow, fast: SummaryRow): MeanInterval & { keys: number[]; diffs: number[] } {
  const a = slow.stepSamples ?? [];
  const b = fast.stepSamples ?? [];
  const n = Math.min(a.length, b.length);
  const rel = new Map<number, number>();
  const zero = new Map<number, number>();
  for (let r = 0; r < n; r++) {
    rel.set(r, ((a[r] as number) - (b[r] as number)) / (a[r] as number));
    zero.set(r, 0);
  }
  return pairedInterval(rel, zero, LEVEL);
}

/** Ordering verdict of one timing gap: holds when the interval is above 0, fails when below 0, else inconclusive. */
function orderVerdict(ci: MeanInterval): Verdict {
  const pos = position(ci, 0);
  return pos === 'above' ? 'holds' : pos === 'below' ? 'does not hold' : 'inconclusive';
}

function mainSummaries(summaries: TaskSummary[]): TaskSummary[] {
  return summaries.filter((s) => !s.task.includes('/'));
}

interface RecurrentStats {
  positions: number[];
  mean: number[];
  std: number[];
  all: { mean: number; std: number };
}

export interface ClaimInputs {
  summaries: TaskSummary[];
  /** Table 5 statistics by task and variant (first seed), from RunResult.extra.recurrentStats. */
  recurrentStats: Record<string, Partial<Record<string, RecurrentStats>>>;
  /** Invariance table (packages/rmsnorm/src/check/invariance.ts) or null when it could not be computed. */
  invariance: { allMatch: boolean } | null;
  /** Claims 6.1, 6.3, 6.4 measured live (packages/rmsnorm/src/check); absent → those claims are inconclusive. */
  kernelChecks?: KernelChecks | null;
}

const e = (x: number, d = 1): string => (Number.isFinite(x) ? x.toExponential(d) : String(x));

/** 6.1: every FD error ≤ FD_REL_TOL (relative, float64) and every float32 error within the tolerance table. */
export function correctnessClaim(k: KernelChecks | null | undefined): { verdict: Verdict; evidence: string } {
  const c = k?.correctness;
  if (!c) return { verdict: 'inconclusive', evidence: `kernel correctness not computed in this run${k?.errors?.length ? `: ${k.errors.join('; ')}` : ''} (see \`rmsnorm check\`)` };
  const fdBad = c.fd.filter((r) => !(r.relError <= FD_REL_TOL));
  const f32Bad = c.f32.filter((r) => !(r.worstRatio <= 1));
  const perOp = c.perOp.map((o) => `${o.op} ${e(o.maxAbsError)} (rel ${e(o.maxRelError)})`).join(', ');
  const groups = new Map<string, { err: number; atol: number }>();
  for (const r of c.f32) {
    const key = `${r.backend} ${r.direction === 'forward' ? 'fwd' : 'bwd'}`;
    const g = groups.get(key) ?? { err: 0, atol: r.atol };
    groups.set(key, { err: Math.max(g.err, r.scaledError), atol: r.atol });
  }
  const f32 = [...groups].map(([key, g]) => `${key} ${e(g.err)} (tol ${e(g.atol, 0)})`).join(', ');
  const verdict: Verdict = c.fd.length === 0 || c.f32.length === 0 ? 'inconclusive' : fdBad.length === 0 && f32Bad.length === 0 ? 'holds' : 'does not hold';
  return {
    verdict,
    evidence:
      `finite differences (float64, ${c.fd.length} cases, shapes ${c.shapes.map(([r, cc]) => `${r}×${cc}`).join('/')}, eps ${c.eps.join('/')}): max |fd − analytic| per op ${perOp} (rule: rel ≤ ${e(FD_REL_TOL, 0)}${fdBad.length ? `; ${fdBad.length} over` : ''}); ` +
      `worst float32 vs float64 (scaled error): ${f32}${f32Bad.length ? `; ${f32Bad.length} rows outside tolerance: ${f32Bad.map((r) => `${r.backend} ${r.op} ${r.direction}`).join(', ')}` : ', all within tolerance'}`,
  };
}

/** 6.3: every float64 deviation of the gradient laws ≤ GRADIENT_LAW_TOL. */
export function gradientLawClaim(k: KernelChecks | null | undefined): { verdict: Verdict; evidence: string } {
  const g = k?.gradientClaims;
  if (!g || g.rows.length === 0) return { verdict: 'inconclusive', evidence: `gradient laws not computed in this run${k?.errors?.length ? `: ${k.errors.join('; ')}` : ''}` };
  const worst = new Map<string, number>();
  for (const r of g.rows) {
    const key = `${r.quantity} ${r.transform} ${r.expected}`;
    worst.set(key, Math.max(worst.get(key) ?? 0, r.deviation));
  }
  const bad = g.rows.filter((r) => !(r.deviation <= GRADIENT_LAW_TOL));
  return {
    verdict: bad.length === 0 ? 'holds' : 'does not hold',
    evidence:
      `y = norm(x Wᵀ), ${g.batch}×${g.inputs} → ${g.outputs}, RMSNorm and pRMSNorm (k = ${g.k}), eps = ${g.eps}, δ ∈ {${g.deltas.join(', ')}}: ` +
      `max relative deviation (float64) ${[...worst].map(([key, v]) => `${key} ${e(v)}`).join('; ')} (rule ≤ ${e(GRADIENT_LAW_TOL, 0)}${bad.length ? `; ${bad.length} over` : ''}); ` +
      `through the float32 ops (${g.backend}): ≤ ${e(g.maxDeviationF32)}`,
  };
}

/**
 * 6.4 on the default backend: holds when RMSNorm fwd+bwd beats LN by > KERNEL_TIME_TOL at every shape and pRMSNorm
 * is never slower than RMSNorm by > KERNEL_TIME_TOL; does not hold when RMSNorm is slower than LN by > KERNEL_TIME_TOL
 * at some shape; inconclusive otherwise.
 */
export function kernelSpeedClaim(k: KernelChecks | null | undefined): { verdict: Verdict; evidence: string } {
  const s = k?.kernelSpeed;
  if (!s || s.rows.length === 0) return { verdict: 'inconclusive', evidence: `kernel speed not measured in this run${k?.errors?.length ? `: ${k.errors.join('; ')}` : ''} (see \`rmsnorm bench\`)` };
  const verdicts: Verdict[] = [];
  const parts: string[] = [];
  const js: string[] = [];
  for (const [rows, cols] of s.shapes) {
    for (const backend of ['auto', 'js'] as const) {
      const at = (op: string) => s.rows.find((r) => r.backend === backend && r.rows === rows && r.cols === cols && r.op === op);
      const ln = at('layerNorm');
      const rms = at('rmsNorm');
      const prms = at('pRmsNorm');
      if (!ln || !rms || !prms) continue;
      const rmsGain = (ln.ms_p50 - rms.ms_p50) / ln.ms_p50;
      const prmsLoss = (prms.ms_p50 - rms.ms_p50) / rms.ms_p50;
      const text = `${rows}×${cols}: LN ${f(ln.ms_p50)} ms, RMS ${f(rms.ms_p50)} ms (speed-up ${f(100 * rmsGain, 1)}%), pRMS ${f(prms.ms_p50)} ms (speed-up ${f(100 * ((ln.ms_p50 - prms.ms_p50) / ln.ms_p50), 1)}%, ${prmsLoss >= 0 ? '+' : ''}${f(100 * prmsLoss, 1)}% vs RMS)`;
      if (backend === 'js') {
        js.push(text);
        continue;
      }
      parts.push(text);
      const rmsSlower = rms.ms_p50 > (1 + KERNEL_TIME_TOL) * ln.ms_p50;
      verdicts.push(rmsGain > KERNEL_TIME_TOL && prmsLoss <= KERNEL_TIME_TOL ? 'holds' : rmsSlower ? 'does not hold' : 'inconclusive');
    }
  }
  const resolved = s.rows.find((r) => r.backend === 'auto')?.resolved ?? 'none';
  const verdict: Verdict = verdicts.length === 0 ? 'inconclusive' : verdicts.every((v) => v === 'holds') ? 'holds' : verdicts.includes('does not hold') ? 'does not hold' : 'inconclusive';
  return {
    verdict,
    evidence:
      `forward+backward median of ${s.reps} interleaved reps over ${s.sets} buffer sets, default backend (${resolved}): ${parts.join('; ') || 'no rows'}` +
      `${js.length ? `; js: ${js.join('; ')}` : ''} — rule: RMS faster than LN by > ${100 * KERNEL_TIME_TOL}% at every shape and pRMS at most ${100 * KERNEL_TIME_TOL}% slower than RMS`,
  };
}

/** Every claim of CLAIMS (paper-numbers.ts) with a verdict and the numbers behind it. */
export function evaluateClaims(input: ClaimInputs): ClaimResult[] {
  const main = mainSummaries(input.summaries);
  const judged: Array<[string, Judged]> = [
    ['6.1', correctnessClaim(input.kernelChecks)],
    ['6.2', invarianceClaim(input.invariance)],
    ['6.3', gradientLawClaim(input.kernelChecks)],
    ['6.4', kernelSpeedClaim(input.kernelChecks)],
    ['6.5a', parityClaim(main, 'rms', 'layer')],
    ['6.5b', convergenceClaim(main)],
    ['6.5c', l2Claim(main)],
    ['6.5d', parityClaim(main, 'prms', 'rms')],
    ['6.5e', stepOrderClaim(main)],
    ['6.6', pSweepClaim(input.summaries)],
    ['6.7', shiftedInitClaim(input.summaries)],
    ['6.8', recurrentStatsClaim(input.recurrentStats)],
    ['6.9a', transformerBaselineClaim(main)],
    ['6.9b', transformerSpeedClaim(main)],
  ];
  const text = new Map(PAPER_CLAIMS.map((c) => [c.id, c.claim]));
  return judged.map(([id, v]) => ({ id, claim: text.get(id) ?? id, verdict: v.verdict, evidence: v.evidence, ...(v.intervals?.length ? { intervals: v.intervals } : {}) }));
}

/** 6.2: the live invariance table matches paper Table 1 in every cell. */
function invarianceClaim(invariance: ClaimInputs['invariance']): Judged {
  if (!invariance) return { verdict: 'inconclusive', evidence: 'invariance table not available in this run' };
  return { verdict: invariance.allMatch ? 'holds' : 'does not hold', evidence: `live invariance table (results.invariance): ${invariance.allMatch ? 'every cell matches' : 'some cells differ from'} paper Table 1` };
}

/** 6.5b: LN and RMS reach the task's loss threshold in < 90 % of the baseline's steps (slower than it: fails). */
function convergenceClaim(main: TaskSummary[]): Judged {
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  for (const s of main) {
    const base = row(s, 'none');
    const ln = row(s, 'layer');
    const rms = row(s, 'rms');
    if (!base || !ln || !rms || s.lossThreshold === null) continue;
    const b = base.stepsToThreshold ?? Infinity;
    const faster = (x: SummaryRow) => x.stepsToThreshold !== null && x.stepsToThreshold < 0.9 * b;
    const slower = (x: SummaryRow) => x.stepsToThreshold === null ? b !== Infinity : x.stepsToThreshold >= b;
    verdicts.push(faster(ln) && faster(rms) ? 'holds' : slower(ln) || slower(rms) ? 'does not hold' : 'inconclusive');
    const show = (x: SummaryRow) => (x.stepsToThreshold === null ? 'never' : String(x.stepsToThreshold));
    parts.push(`${s.task} (smoothed loss ≤ ${s.lossThreshold}): none ${show(base)}, LN ${show(ln)}, RMS ${show(rms)} steps`);
  }
  return { verdict: combine(verdicts), evidence: parts.join('; ') || 'no task with a loss threshold' };
}

/**
 * 6.8 (Table 5): the recurrent state's statistics stay stable across positions with LN and RMS, and RMS moves the
 * mean less than no norm. Prefers the translation decoder (non-zero initial state, as the paper's), else the char LM.
 */
function recurrentStatsClaim(recurrentStats: ClaimInputs['recurrentStats']): Judged {
  const task = recurrentStats['translation'] ? 'translation' : 'char-lm';
  const st = recurrentStats[task];
  const none = st?.['none'];
  const ln = st?.['layer'];
  const rms = st?.['rms'];
  if (!none || !ln || !rms) return { verdict: 'inconclusive', evidence: 'recurrent statistics of none/LN/RMS not available' };
  const ratio = (s: RecurrentStats) => Math.max(...s.std) / Math.min(...s.std);
  const range = (s: RecurrentStats) => Math.max(...s.mean) - Math.min(...s.mean);
  const stable = (s: RecurrentStats) => ratio(s) <= STD_RATIO_STABLE;
  const holds = stable(ln) && stable(rms) && range(rms) < range(none);
  const fails = !stable(rms) || range(rms) > range(none);
  return {
    verdict: holds ? 'holds' : fails ? 'does not hold' : 'inconclusive',
    evidence: `${task}, positions ${none.positions.join('/')}: std max/min ratio none ${f(ratio(none), 2)}, LN ${f(ratio(ln), 2)}, RMS ${f(ratio(rms), 2)} (stable if ≤ ${STD_RATIO_STABLE}); mean range none ${f(range(none), 3)}, LN ${f(range(ln), 3)}, RMS ${f(range(rms), 3)}`,
  };
}

/** 6.5c: L2-Norm is no better than the baseline: holds when the interval of (L2 − none, + = L2 better) stays ≤ +tol. */
function l2Claim(main: TaskSummary[]): Judged {
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  const intervals: ClaimInterval[] = [];
  for (const s of main) {
    const l2 = row(s, 'l2');
    const base = row(s, 'none');
    if (!l2 || !base) continue;
    const c = compareRows(l2, base, s.higherIsBetter, absTolOf(s));
    // "No better" is one-sided: holds when even the upper end is within +tol; fails when the lower end is above it.
    const v: Verdict = c.ci.n < 2 ? 'inconclusive' : c.ci.hi <= c.tol ? 'holds' : c.ci.lo > c.tol ? 'does not hold' : 'inconclusive';
    verdicts.push(v);
    intervals.push(interval(`${s.task}: L2 − none (+ = L2 better)`, s.task, c.ci, c.tol, c.pos, s.metricName));
    parts.push(`${s.task}: L2 ${f(l2.metric.mean)} vs none ${f(base.metric.mean)} (${ciText(c.ci)}; holds if the upper end ≤ +${f(c.tol)}${v === 'inconclusive' && c.ci.n >= 2 ? ': straddles +tol' : ''})`);
  }
  return { verdict: combine(verdicts), evidence: parts.join('; ') || 'no task ran L2-Norm and the baseline', intervals };
}

/**
 * 6.5e: LN > RMS > none in step time, from the interleaved timing pass: per task, the per-round relative gaps
 * (T_LN − T_RMS)/T_LN and (T_RMS − T_none)/T_RMS with 95 % intervals. Holds when both lie above 0; does not hold when
 * either lies below 0 (the reverse order); inconclusive otherwise. Without paired samples: inconclusive.
 */
function stepOrderClaim(main: TaskSummary[]): Judged {
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  const intervals: ClaimInterval[] = [];
  for (const s of main) {
    const ln = row(s, 'layer');
    const rms = row(s, 'rms');
    const base = row(s, 'none');
    if (!ln || !rms || !base) continue;
    const g1 = stepTimeGap(ln, rms);
    const g2 = stepTimeGap(rms, base);
    const v1 = orderVerdict(g1);
    const v2 = orderVerdict(g2);
    verdicts.push(v1 === 'holds' && v2 === 'holds' ? 'holds' : v1 === 'does not hold' || v2 === 'does not hold' ? 'does not hold' : 'inconclusive');
    intervals.push(interval(`${s.task}: (T_LN − T_RMS)/T_LN`, s.task, g1, 0, position(g1, 0), 'fraction of a step'));
    intervals.push(interval(`${s.task}: (T_RMS − T_none)/T_RMS`, s.task, g2, 0, position(g2, 0), 'fraction of a step'));
    const pct = (ci: MeanInterval) => (ci.n < 2 ? 'no paired rounds' : `${sg(100 * ci.mean, 1)}% [${sg(100 * ci.lo, 1)}, ${sg(100 * ci.hi, 1)}]`);
    parts.push(
      `${s.task}: LN ${f(ln.medianStepMs, 1)} ms, RMS ${f(rms.medianStepMs, 1)} ms, none ${f(base.medianStepMs, 1)} ms; LN→RMS ${pct(g1)}, RMS→none ${pct(g2)} (n ${g1.n} rounds)`,
    );
  }
  return {
    verdict: combine(verdicts),
    evidence: `${parts.join('; ') || 'no timings'} — per-round paired relative gaps of the interleaved timing pass, 95% CI; each gap must lie above 0 (RMS faster than LN, none faster than RMS)`,
    intervals,
  };
}

/** 6.6: every p within ±5 % (SWEEP_REL, floor ABS_TOL) of p = 100 % on paired seeds → holds; any p clearly outside → does not hold. */
function pSweepClaim(summaries: TaskSummary[]): Judged {
  const sweep = summaries.find((s) => s.task.endsWith('/p-sweep'));
  if (!sweep || sweep.rows.length < 2) return { verdict: 'inconclusive', evidence: 'no p-sweep in this preset' };
  const ref = sweep.rows.reduce((a, b) => ((b.p ?? 0) > (a.p ?? 0) ? b : a));
  const floor = absTolOf(sweep);
  const verdicts: Verdict[] = [];
  const parts: string[] = [];
  const intervals: ClaimInterval[] = [];
  for (const r of sweep.rows) {
    if (r === ref) continue;
    const c = compareRows(r, ref, sweep.higherIsBetter, Math.max(floor, SWEEP_REL * Math.abs(ref.metric.mean)));
    verdicts.push(c.cmp === 'same' ? 'holds' : c.cmp === 'unclear' ? 'inconclusive' : 'does not hold');
    intervals.push(interval(`p = ${r.p} − p = ${ref.p}`, sweep.task, c.ci, c.tol, c.pos, sweep.metricName));
    parts.push(`p=${r.p}: ${f(r.metric.mean)} (${ciText(c.ci)}: ${c.pos})`);
  }
  const verdict: Verdict = verdicts.includes('does not hold') ? 'does not hold' : verdicts.every((v) => v === 'holds') ? 'holds' : 'inconclusive';
  return {
    verdict,
    evidence: `${sweep.task}, each p against p=${ref.p} (${f(ref.metric.mean)}) on paired seeds, tol ±max(${100 * SWEEP_REL}% of it, ${floor}): ${parts.join('; ')}`,
    intervals,
  };
}

/** Shift of an 'init-…' group summary ('translation/init-0.2' → 0.2), or null. */
function shiftOf(s: TaskSummary): number | null {
  const m = /\/init-([0-9.]+)$/.exec(s.task);
  return m ? Number(m[1]) : null;
}

/** Per-seed degradation (goodness at the shift − goodness of the same seed's main run): negative = hurt by the shift. */
function degradation(shifted: SummaryRow, main: SummaryRow | undefined, higherIsBetter: boolean): MeanInterval {
  const a = seedMap(shifted);
  const b = main ? seedMap(main) : new Map<number, number>();
  const sign = higherIsBetter ? 1 : -1;
  const ci = pairedInterval(a, b, LEVEL);
  return { ...ci, mean: sign * ci.mean, lo: sign * (higherIsBetter ? ci.lo : ci.hi), hi: sign * (higherIsBetter ? ci.hi : ci.lo) };
}

/**
 * 6.7 (paper Fig. 4: RNNSearch, weights centred at 0.2, dev BLEU; LN "very unstable", RMSNorm more robust). Judged at
 * the paper's shift 0.2: holds when LN diverges in more seeds than RMS or RMS is clearly better (paired interval of
 * RMS − LN above +tol); does not hold when RMS diverges more, is clearly worse, or the two are the same within ±tol
 * (then LN is not less stable). Other shifts (dose-response) and each variant's loss against its own unshifted run are
 * reported in the evidence.
 */
function shiftedInitClaim(summaries: TaskSummary[]): Judged {
  const groups = summaries.map((s) => ({ s, shift: shiftOf(s) })).filter((g): g is { s: TaskSummary; shift: number } => g.shift !== null).sort((a, b) => a.shift - b.shift);
  const withBoth = groups.filter((g) => row(g.s, 'layer') && row(g.s, 'rms'));
  if (withBoth.length === 0) return { verdict: 'inconclusive', evidence: 'no shifted-init runs of both LN and RMSNorm in this preset' };
  const primary = withBoth.find((g) => Math.abs(g.shift - 0.2) < 1e-9) ?? withBoth[withBoth.length - 1]!;
  const parts: string[] = [];
  const intervals: ClaimInterval[] = [];
  let verdict: Verdict = 'inconclusive';
  for (const g of withBoth) {
    const task = g.s.task.split('/')[0] as string;
    const main = summaries.find((x) => x.task === task);
    const ln = row(g.s, 'layer')!;
    const rms = row(g.s, 'rms')!;
    const c = compareRows(rms, ln, g.s.higherIsBetter, absTolOf(g.s));
    const dLn = degradation(ln, main && row(main, 'layer'), g.s.higherIsBetter);
    const dRms = degradation(rms, main && row(main, 'rms'), g.s.higherIsBetter);
    intervals.push(interval(`${task} init ${g.shift}: RMS − LN (+ = RMS better)`, g.s.task, c.ci, c.tol, c.pos, g.s.metricName));
    const inst = (r: SummaryRow) => (r.instability !== undefined ? `, largest dev drop ${f(r.instability, 2)}` : '');
    // The validation loss (lower is better) is reported beside the paper's metric, not judged: at 10² steps greedy BLEU is coarse.
    const loss = (r: SummaryRow) => new Map((r.perSeed ?? []).map((x) => [x.seed, x.others?.['valLoss'] ?? NaN]));
    const dLoss = pairedInterval(loss(ln), loss(rms), LEVEL);
    parts.push(
      `init ${g.shift}: LN ${f(ln.metric.mean)} (${ln.divergedRuns}/${ln.seeds} diverged${inst(ln)}; vs its init-0 run ${ciText(dLn, 2)}), ` +
        `RMS ${f(rms.metric.mean)} (${rms.divergedRuns}/${rms.seeds} diverged${inst(rms)}; vs init 0 ${ciText(dRms, 2)}); RMS − LN ${ciText(c.ci)}, tol ±${f(c.tol)}: ${c.pos}` +
        (dLoss.n > 0 ? `; validation loss LN − RMS (+ = RMS better, reported only) ${ciText(dLoss)}` : ''),
    );
    if (g !== primary) continue;
    if (ln.divergedRuns > rms.divergedRuns || c.cmp === 'better') verdict = 'holds';
    else if (rms.divergedRuns > ln.divergedRuns || c.cmp === 'worse' || c.cmp === 'same') verdict = 'does not hold';
  }
  return {
    verdict,
    evidence: `${primary.s.task.split('/')[0]}, judged at init ${primary.shift} (goodness differences, + = better): ${parts.join('; ')}`,
    intervals,
  };
}

/**
 * 6.9a: the un-normalised post-norm Transformer fails: diverged in every seed, or worse than LN by more than
 * CLEAR_REL of LN's metric with the whole interval (holds); does not hold when the interval shows it is not that
 * much worse; inconclusive when the interval straddles −CLEAR_REL.
 */
function transformerBaselineClaim(main: TaskSummary[]): Judged {
  const s = main.find((x) => x.task === 'transformer');
  const base = s && row(s, 'none');
  const ln = s && row(s, 'layer');
  if (!s || !base || !ln) return { verdict: 'inconclusive', evidence: 'transformer task not run' };
  const c = compareRows(base, ln, s.higherIsBetter, CLEAR_REL * Math.abs(ln.metric.mean));
  const allDiverged = base.divergedRuns === base.seeds && base.seeds > 0;
  const verdict: Verdict = allDiverged || (c.ci.n >= 2 && c.ci.hi < -c.tol) ? 'holds' : c.ci.n >= 2 && c.ci.lo >= -c.tol ? 'does not hold' : 'inconclusive';
  return {
    verdict,
    evidence: `transformer: none ${f(base.metric.mean)} (${base.divergedRuns}/${base.seeds} diverged) vs LN ${f(ln.metric.mean)}: none − LN ${ciText(c.ci)} (+ = none better); failing = diverged in every seed or the whole interval below −${f(c.tol)} (${100 * CLEAR_REL}% of LN)`,
    intervals: [interval('transformer: none − LN (+ = none better)', 'transformer', c.ci, c.tol, c.pos, s.metricName)],
  };
}

/** 6.9b: RMS ≈ LN on the Transformer (parity rule) and RMS's step faster (per-round gap interval above 0). */
function transformerSpeedClaim(main: TaskSummary[]): Judged {
  const s = main.find((x) => x.task === 'transformer');
  const ln = s && row(s, 'layer');
  const rms = s && row(s, 'rms');
  if (!s || !ln || !rms) return { verdict: 'inconclusive', evidence: 'transformer task not run' };
  const q = parityClaim([s], 'rms', 'layer');
  const g = stepTimeGap(ln, rms);
  const speed = orderVerdict(g);
  const verdict: Verdict = q.verdict === 'holds' && speed === 'holds' ? 'holds' : q.verdict === 'does not hold' || speed === 'does not hold' ? 'does not hold' : 'inconclusive';
  const pct = g.n < 2 ? 'no paired rounds' : `${sg(100 * g.mean, 1)}% [${sg(100 * g.lo, 1)}, ${sg(100 * g.hi, 1)}]`;
  return {
    verdict,
    evidence: `${q.evidence}; step ${f(rms.medianStepMs, 1)} ms vs LN ${f(ln.medianStepMs, 1)} ms, per-round gap (T_LN − T_RMS)/T_LN ${pct} (paper 6.9%)`,
    intervals: [...(q.intervals ?? []), interval('transformer: (T_LN − T_RMS)/T_LN', 'transformer', g, 0, position(g, 0), 'fraction of a step')],
  };
}
