// Verdicts on the paper's claims (paper.md §6), computed from the reproduction's numbers with explicit rules.
// Rules (documented in docs/reproduction.md):
//   Two variants' metrics are "the same" when |Δ| ≤ tol, tol = max(2·s_pooled, 2% of |LN metric|) with ≥ 2 seeds.
//   With 1 seed there is no spread: |Δ| ≤ 2% rel is only "consistent" (→ inconclusive), |Δ| > 10% rel counts as a
//   clear difference, anything between is unclear. Per-task verdicts combine: all holds → holds; any 'does not hold'
//   and no 'holds' → does not hold; otherwise inconclusive. Near-zero metrics (BLEU, error %) get an absolute floor
//   on tol (ABS_TOL). Step-time comparisons ignore gaps below TIME_TOL = 5%.
import { PAPER_CLAIMS } from './paper-numbers.js';
import type { ClaimResult, KernelChecks, SummaryRow, TaskSummary, Verdict } from './types.js';

export const REL_TOL = 0.02;
export const CLEAR_REL = 0.1;
/** Table 5 rule: a std is "stable across positions" when max/min over positions 1–4 ≤ 1.5 (paper: LN 1.27, RMS 1.19, baseline 3.15). */
export const STD_RATIO_STABLE = 1.5;
/** Step-time gaps below 5% are treated as noise (separate processes on a shared 2-core machine). */
export const TIME_TOL = 0.05;

/** Claim 6.1: a finite-difference error counts when > 1e-7 relative to the gradient's natural scale (float64). */
export const FD_REL_TOL = 1e-7;
/** Claim 6.3: a float64 deviation from the gradient law counts when > 1e-9 relative (rounding alone gives ~1e-15). */
export const GRADIENT_LAW_TOL = 1e-9;
/** Claim 6.4: kernel time gaps below 3% are noise (median of ≥ 20 interleaved reps in one process). */
export const KERNEL_TIME_TOL = 0.03;

/** Absolute floors of the "same" tolerance per task metric (BLEU points, error %, bits/char): near 0, 2% rel is meaningless. */
export const ABS_TOL: Record<string, number> = { translation: 0.5, cnn: 0.5, 'char-lm': 0.01, transformer: 0.01, cloze: 0.5 };

export type Comparison = 'same' | 'consistent' | 'better' | 'worse' | 'unclear';

/**
 * Compare variant a against b on a task's metric: 'better'/'worse' is from a's point of view.
 * @example compareRows(rms, ln, false) // 'same' when |Δ| ≤ max(2·s_pooled, 2% rel) over ≥ 2 seeds
 */
export function compareRows(a: SummaryRow, b: SummaryRow, higherIsBetter: boolean, absTol = 0): { cmp: Comparison; delta: number; tol: number } {
  const delta = (a.metric.mean - b.metric.mean) * (higherIsBetter ? 1 : -1); // > 0: a is better
  const scale = Math.max(Math.abs(b.metric.mean), 1e-12);
  if (!Number.isFinite(delta)) return { cmp: a.divergedRuns > b.divergedRuns ? 'worse' : b.divergedRuns > a.divergedRuns ? 'better' : 'unclear', delta, tol: NaN };
  if (a.seeds >= 2 && b.seeds >= 2) {
    const pooled = Math.sqrt((a.metric.std ** 2 + b.metric.std ** 2) / 2);
    const tol = Math.max(2 * pooled, REL_TOL * scale, absTol);
    return { cmp: Math.abs(delta) <= tol ? 'same' : delta > 0 ? 'better' : 'worse', delta, tol };
  }
  const tol = Math.max(REL_TOL * scale, absTol);
  if (Math.abs(delta) <= tol) return { cmp: 'consistent', delta, tol };
  if (Math.abs(delta) > Math.max(CLEAR_REL * scale, 5 * absTol)) return { cmp: delta > 0 ? 'better' : 'worse', delta, tol };
  return { cmp: 'unclear', delta, tol };
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
const row = (s: TaskSummary, v: SummaryRow['variant']) => s.rows.find((r) => r.variant === v);
const seedsNote = (r: SummaryRow) => (r.seeds === 1 ? '1 seed' : `${r.seeds} seeds`);

function parityClaim(summaries: TaskSummary[], a: SummaryRow['variant'], b: SummaryRow['variant'], tasks?: string[]): { verdict: Verdict; evidence: string } {
  const parts: string[] = [];
  const verdicts: Verdict[] = [];
  for (const s of summaries) {
    if (tasks && !tasks.includes(s.task)) continue;
    const ra = row(s, a);
    const rb = row(s, b);
    if (!ra || !rb) continue;
    const c = compareRows(ra, rb, s.higherIsBetter, absTolOf(s));
    verdicts.push(c.cmp === 'same' ? 'holds' : c.cmp === 'better' || c.cmp === 'worse' ? 'does not hold' : 'inconclusive');
    parts.push(`${s.task}: ${a} ${f(ra.metric.mean)} vs ${b} ${f(rb.metric.mean)} (Δ ${f(Math.abs(ra.metric.mean - rb.metric.mean))}, tol ${f(c.tol)}, ${c.cmp}, ${seedsNote(ra)})`);
  }
  return { verdict: combine(verdicts), evidence: parts.length ? parts.join('; ') : `no task ran both ${a} and ${b}` };
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
  /** Invariance table (src/check/invariance.ts) or null when it could not be computed. */
  invariance: { allMatch: boolean } | null;
  /** Claims 6.1, 6.3, 6.4 measured live (src/check); absent → those claims are inconclusive. */
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

/** Every claim of paper.md §6 with a verdict and the numbers behind it. */
export function evaluateClaims(input: ClaimInputs): ClaimResult[] {
  const main = mainSummaries(input.summaries);
  const text = new Map(PAPER_CLAIMS.map((c) => [c.id, c.claim]));
  const out: ClaimResult[] = [];
  const add = (id: string, v: { verdict: Verdict; evidence: string }) => out.push({ id, claim: text.get(id) ?? id, ...v });

  add('6.1', correctnessClaim(input.kernelChecks));
  add(
    '6.2',
    input.invariance
      ? { verdict: input.invariance.allMatch ? 'holds' : 'does not hold', evidence: `live invariance table (results.invariance): ${input.invariance.allMatch ? 'every cell matches' : 'some cells differ from'} paper Table 1` }
      : { verdict: 'inconclusive', evidence: 'invariance table not available in this run' },
  );
  add('6.3', gradientLawClaim(input.kernelChecks));
  add('6.4', kernelSpeedClaim(input.kernelChecks));

  add('6.5a', parityClaim(main, 'rms', 'layer'));

  {
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
    add('6.5b', { verdict: combine(verdicts), evidence: parts.join('; ') || 'no task with a loss threshold' });
  }

  {
    const parts: string[] = [];
    const verdicts: Verdict[] = [];
    for (const s of main) {
      const l2 = row(s, 'l2');
      const base = row(s, 'none');
      if (!l2 || !base) continue;
      const c = compareRows(l2, base, s.higherIsBetter, absTolOf(s));
      // "No better": worse or the same holds; clearly better does not; with 1 seed a worse point estimate suffices.
      verdicts.push(c.cmp === 'better' ? 'does not hold' : c.cmp === 'worse' || c.cmp === 'same' || c.delta <= 0 ? 'holds' : 'inconclusive');
      parts.push(`${s.task}: L2 ${f(l2.metric.mean)} vs none ${f(base.metric.mean)} (${c.cmp}, ${seedsNote(l2)})`);
    }
    add('6.5c', { verdict: combine(verdicts), evidence: parts.join('; ') || 'no task ran L2-Norm and the baseline' });
  }

  add('6.5d', parityClaim(main, 'prms', 'rms'));

  {
    const parts: string[] = [];
    const verdicts: Verdict[] = [];
    for (const s of main) {
      const ln = row(s, 'layer');
      const rms = row(s, 'rms');
      const base = row(s, 'none');
      if (!ln || !rms || !base) continue;
      // Step times of separate processes on a shared machine wobble by several %: only gaps > TIME_TOL count.
      const ordered = ln.medianStepMs > (1 + TIME_TOL) * rms.medianStepMs && rms.medianStepMs > (1 + TIME_TOL) * base.medianStepMs;
      verdicts.push(ordered ? 'holds' : rms.medianStepMs > (1 + TIME_TOL) * ln.medianStepMs ? 'does not hold' : 'inconclusive');
      parts.push(`${s.task}: LN ${f(ln.medianStepMs, 1)} ms, RMS ${f(rms.medianStepMs, 1)} ms, none ${f(base.medianStepMs, 1)} ms (RMS speed-up vs LN ${f(100 * (rms.speedupVsLayerNorm ?? NaN), 1)}%)`);
    }
    const source = main.some((s) => s.rows.some((r) => r.stepTimeSource === 'interleaved')) ? 'interleaved timing pass' : "training runs' own medians";
    add('6.5e', { verdict: combine(verdicts), evidence: `${parts.join('; ') || 'no timings'} — step times from the ${source}; gaps under ${100 * TIME_TOL}% count as noise` });
  }

  {
    const sweep = input.summaries.find((s) => s.task.endsWith('/p-sweep'));
    if (!sweep || sweep.rows.length < 2) add('6.6', { verdict: 'inconclusive', evidence: 'no p-sweep in this preset' });
    else {
      const vals = sweep.rows.map((r) => r.metric.mean);
      const spread = Math.max(...vals) - Math.min(...vals);
      const m = vals.reduce((a, b) => a + b, 0) / vals.length;
      const pooled = Math.sqrt(sweep.rows.reduce((a, r) => a + r.metric.std ** 2, 0) / sweep.rows.length);
      const multi = sweep.rows.every((r) => r.seeds >= 2);
      const tol = Math.max(multi ? 2 * pooled : 0, 0.05 * Math.abs(m));
      const verdict: Verdict = spread <= tol ? 'holds' : spread > 2 * tol ? 'does not hold' : 'inconclusive';
      add('6.6', {
        verdict,
        evidence: `${sweep.task}: ${sweep.rows.map((r) => `p=${r.p}: ${f(r.metric.mean)}`).join(', ')}; range ${f(spread)} vs tol ${f(tol)} (max(2·s_pooled, 5% of mean); holds if range ≤ tol, fails if > 2·tol)`,
      });
    }
  }

  {
    const shifted = input.summaries.find((s) => s.task.endsWith('/init-0.2'));
    const ln = shifted && row(shifted, 'layer');
    const rms = shifted && row(shifted, 'rms');
    if (!shifted || !ln || !rms) add('6.7', { verdict: 'inconclusive', evidence: 'no shifted-init runs of both LN and RMSNorm in this preset' });
    else {
      const c = compareRows(rms, ln, shifted.higherIsBetter, absTolOf(shifted));
      const lnWorse = ln.divergedRuns > rms.divergedRuns || c.cmp === 'better';
      const rmsWorse = rms.divergedRuns > ln.divergedRuns || c.cmp === 'worse';
      add('6.7', {
        verdict: lnWorse ? 'holds' : rmsWorse ? 'does not hold' : 'inconclusive',
        evidence: `${shifted.task}: LN ${f(ln.metric.mean)} (${ln.divergedRuns} diverged), RMS ${f(rms.metric.mean)} (${rms.divergedRuns} diverged); RMS vs LN: ${c.cmp}, ${seedsNote(rms)}`,
      });
    }
  }

  {
    // Table 5: prefer the translation decoder (non-zero initial state, as the paper's), else the char LM.
    const task = input.recurrentStats['translation'] ? 'translation' : 'char-lm';
    const st = input.recurrentStats[task];
    const none = st?.['none'];
    const ln = st?.['layer'];
    const rms = st?.['rms'];
    if (!none || !ln || !rms) add('6.8', { verdict: 'inconclusive', evidence: 'recurrent statistics of none/LN/RMS not available' });
    else {
      const ratio = (s: RecurrentStats) => Math.max(...s.std) / Math.min(...s.std);
      const range = (s: RecurrentStats) => Math.max(...s.mean) - Math.min(...s.mean);
      const stable = (s: RecurrentStats) => ratio(s) <= STD_RATIO_STABLE;
      const holds = stable(ln) && stable(rms) && range(rms) < range(none);
      const fails = !stable(rms) || range(rms) > range(none);
      add('6.8', {
        verdict: holds ? 'holds' : fails ? 'does not hold' : 'inconclusive',
        evidence: `${task}, positions ${none.positions.join('/')}: std max/min ratio none ${f(ratio(none), 2)}, LN ${f(ratio(ln), 2)}, RMS ${f(ratio(rms), 2)} (stable if ≤ ${STD_RATIO_STABLE}); mean range none ${f(range(none), 3)}, LN ${f(range(ln), 3)}, RMS ${f(range(rms), 3)}`,
      });
    }
  }

  {
    const s = main.find((x) => x.task === 'transformer');
    const base = s && row(s, 'none');
    const ln = s && row(s, 'layer');
    if (!s || !base || !ln) add('6.9a', { verdict: 'inconclusive', evidence: 'transformer task not run' });
    else {
      const c = compareRows(base, ln, s.higherIsBetter, absTolOf(s));
      const failed = base.divergedRuns === base.seeds || c.cmp === 'worse';
      add('6.9a', {
        verdict: failed ? 'holds' : c.cmp === 'same' || c.cmp === 'consistent' || c.cmp === 'better' ? 'does not hold' : 'inconclusive',
        evidence: `transformer: none ${f(base.metric.mean)} (${base.divergedRuns}/${base.seeds} diverged) vs LN ${f(ln.metric.mean)}: ${c.cmp} (failing = diverged in every seed or clearly worse than LN)`,
      });
    }
  }

  {
    const s = main.find((x) => x.task === 'transformer');
    const ln = s && row(s, 'layer');
    const rms = s && row(s, 'rms');
    if (!s || !ln || !rms) add('6.9b', { verdict: 'inconclusive', evidence: 'transformer task not run' });
    else {
      const q = parityClaim([s], 'rms', 'layer');
      const faster = rms.medianStepMs < ln.medianStepMs / (1 + TIME_TOL);
      const slower = rms.medianStepMs > ln.medianStepMs * (1 + TIME_TOL);
      const verdict: Verdict = q.verdict === 'holds' && faster ? 'holds' : q.verdict === 'does not hold' || slower ? 'does not hold' : 'inconclusive';
      add('6.9b', { verdict, evidence: `${q.evidence}; step ${f(rms.medianStepMs, 1)} ms vs LN ${f(ln.medianStepMs, 1)} ms (speed-up ${f(100 * (rms.speedupVsLayerNorm ?? NaN), 1)}%, paper 6.9%)` });
    }
  }
  return out;
}
