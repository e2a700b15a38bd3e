// Small statistics used by the runner and the report: mean ± std over seeds, medians of step times, loss
// smoothing, steps-to-threshold, bits per character, accuracy, and the paper's speed-up definition.

/** Arithmetic mean; NaN for an empty list. */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Sample standard deviation (n − 1 denominator, as for "mean ± std of 3 runs"); 0 for a single value, NaN for none.
 * @example
 * std([1, 2, 3]); // 1
 */
export function std(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  if (xs.length === 1) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) * (x - m), 0) / (xs.length - 1));
}

/** Median (mean of the two middle values for even n); NaN for an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
}

/** Quantile q ∈ [0, 1] with linear interpolation between order statistics. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

/**
 * Exponential moving average with bias correction (as Adam's): s_t = β s_{t−1} + (1 − β) x_t, reported as
 * s_t / (1 − β^t), so early values are not pulled towards 0. A non-finite x makes this and all later values NaN.
 * @example
 * ema([4, 4, 4], 0.9); // [4, 4, 4]
 */
export function ema(xs: readonly number[], beta = 0.9): number[] {
  let s = 0;
  let poisoned = false;
  return xs.map((x, i) => {
    if (!Number.isFinite(x)) poisoned = true;
    if (poisoned) return NaN;
    s = beta * s + (1 - beta) * x;
    return s / (1 - beta ** (i + 1));
  });
}

/** Index of the first value ≤ threshold (e.g. smoothed loss), or null if none. */
export function firstIndexBelow(xs: readonly number[], threshold: number): number | null {
  const i = xs.findIndex((x) => x <= threshold);
  return i < 0 ? null : i;
}

/**
 * The step at which the EMA-smoothed loss first reaches the threshold, or null.
 * @example
 * stepsToThreshold([{ step: 1, loss: 3 }, { step: 2, loss: 1 }], 2, 0); // 2
 */
export function stepsToThreshold(records: ReadonlyArray<{ step: number; loss: number }>, threshold: number, beta = 0.9): number | null {
  const i = firstIndexBelow(ema(records.map((r) => r.loss), beta), threshold);
  return i === null ? null : (records[i] as { step: number }).step;
}

/** Bits per character from a mean cross-entropy in nats: bpc = CE / ln 2. */
export function bitsPerChar(meanCrossEntropyNats: number): number {
  return meanCrossEntropyNats / Math.LN2;
}

/** Perplexity from a mean cross-entropy in nats. */
export function perplexity(meanCrossEntropyNats: number): number {
  return Math.exp(meanCrossEntropyNats);
}

/** Fraction of predictions equal to labels. */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predicted.length !== labels.length) throw new RangeError(`predicted: expected ${labels.length} values (one per label), got ${predicted.length}`);
  if (labels.length === 0) return NaN;
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) hit++;
  return hit / labels.length;
}

/** Row-wise argmax of a [rows, cols] row-major array. */
export function argmaxRows(x: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if ((x[r * cols + c] as number) > (x[r * cols + best] as number)) best = c;
    out[r] = best;
  }
  return out;
}

/** The paper's speed-up over LayerNorm: (T_LN − T)/T_LN (positive = faster than LN). */
export function speedupVsLayerNorm(tLayerNorm: number, t: number): number {
  return (tLayerNorm - t) / tLayerNorm;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; |rel error| < 1e-14 on the arguments used here). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const z = x - 1;
  let a = c[0] as number;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta (modified Lentz; Numerical Recipes' betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b), x ∈ [0, 1]. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) otherwise.
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * Student-t cumulative distribution P(T ≤ t) with `df` degrees of freedom: for t ≥ 0, 1 − ½ I_{df/(df+t²)}(df/2, ½).
 * @example
 * studentTCdf(0, 5); // 0.5
 */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`df: expected a positive number of degrees of freedom, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * Quantile of the Student-t distribution: the t with P(T ≤ t) = p (bisection on the CDF to 1e-12 relative).
 * @example
 * studentTQuantile(0.975, 2); // 4.302652729… (the 95 % two-sided critical value for 3 paired seeds)
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p: expected a probability in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`df: expected a positive number of degrees of freedom, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** A two-sided confidence interval for a mean: mean ± t_{(1+level)/2, n−1} · sd/√n. */
export interface MeanInterval {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1). */
  sd: number;
  /** Half-width of the interval (Infinity with fewer than 2 values). */
  half: number;
  lo: number;
  hi: number;
  level: number;
}

/**
 * Student-t confidence interval of the mean of `xs` (e.g. paired differences across seeds). With n < 2 there is no
 * spread: the interval is (−∞, ∞) around the single value.
 * @example
 * tInterval([1, 2, 3]); // mean 2, half = 4.3027 · 1/√3 ≈ 2.484
 */
export function tInterval(xs: readonly number[], level = 0.95): MeanInterval {
  if (!(level > 0 && level < 1)) throw new RangeError(`level: expected a confidence level in (0, 1), got ${level}`);
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { n, mean: m, sd: NaN, half: Infinity, lo: -Infinity, hi: Infinity, level };
  const sd = std(xs);
  const half = studentTQuantile((1 + level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean: m, sd, half, lo: m - half, hi: m + half, level };
}

/**
 * Paired differences a_i − b_i over the keys both have with finite values (e.g. seeds: same initial weights and
 * batches, only the normalisation differs) and their t-interval.
 * @example
 * pairedInterval(new Map([[1, 2.0], [2, 2.1]]), new Map([[1, 1.9], [2, 2.05]])); // differences 0.1, 0.05
 */
export function pairedInterval(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>, level = 0.95): MeanInterval & { keys: number[]; diffs: number[] } {
  const keys = [...a.keys()].filter((k) => Number.isFinite(a.get(k)) && Number.isFinite(b.get(k))).sort((x, y) => x - y);
  const diffs = keys.map((k) => (a.get(k) as number) - (b.get(k) as number));
  return { ...tInterval(diffs, level), keys, diffs };
}
