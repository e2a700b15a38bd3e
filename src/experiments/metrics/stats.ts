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
