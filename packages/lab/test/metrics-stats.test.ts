// Statistics helpers against values worked out by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, argmaxRows, bitsPerChar, ema, firstIndexBelow, incompleteBeta, mean, median, pairedInterval, quantile, speedupVsLayerNorm, std, stepsToThreshold, studentTCdf, studentTQuantile, tInterval } from '../src/experiments/metrics/stats.js';

test('mean, sample std, median, quantile', () => {
  assert.equal(mean([1, 2, 3, 6]), 3);
  // deviations from 5: −3 −1 −1 −1 0 0 2 4 → squares sum 32, n − 1 = 7
  assert.ok(Math.abs(std([2, 4, 4, 4, 5, 5, 7, 9]) - Math.sqrt(32 / 7)) < 1e-12);
  assert.equal(std([3]), 0);
  assert.ok(Number.isNaN(mean([])) && Number.isNaN(median([])));
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(quantile([0, 10], 0.25), 2.5);
});

test('ema: bias-corrected, constant input stays constant, NaN poisons the rest', () => {
  assert.deepEqual(ema([4, 4, 4], 0.9).map((x) => +x.toFixed(12)), [4, 4, 4]);
  // β = 0.5: s1 = 0.5·2 = 1 → /0.5 = 2; s2 = 0.5·1 + 0.5·4 = 2.5 → /0.75 = 10/3
  const e = ema([2, 4], 0.5);
  assert.equal(e[0], 2);
  assert.ok(Math.abs((e[1] as number) - 10 / 3) < 1e-12);
  const p = ema([1, NaN, 1], 0.9);
  assert.ok(Number.isNaN(p[1]) && Number.isNaN(p[2]));
});

test('steps to threshold on the smoothed loss; null when never reached', () => {
  assert.equal(firstIndexBelow([3, 2, 1], 2), 1);
  assert.equal(firstIndexBelow([3, 2.5], 2), null);
  const recs = [5, 4, 3, 2, 1].map((loss, i) => ({ step: (i + 1) * 10, loss }));
  assert.equal(stepsToThreshold(recs, 3, 0), 30, 'β = 0: raw loss');
  // β = 0.5 bias-corrected: 5, 13/3, 25/7, 41/15 ≈ 2.73 ≤ 3 at the 4th record
  assert.equal(stepsToThreshold(recs, 3, 0.5), 40);
  assert.equal(stepsToThreshold(recs, 0.5, 0), null);
});

test('bits per character, accuracy, argmax, speed-up', () => {
  assert.equal(bitsPerChar(Math.LN2), 1);
  assert.ok(Math.abs(bitsPerChar(Math.log(256)) - 8) < 1e-12);
  assert.equal(accuracy([1, 2, 3, 4], [1, 0, 3, 0]), 0.5);
  assert.throws(() => accuracy([1], [1, 2]), /predicted: expected 2/);
  assert.deepEqual([...argmaxRows([0, 5, 1, 9, 2, 3], 2, 3)], [1, 0]);
  assert.ok(Math.abs(speedupVsLayerNorm(665, 501) - 0.2466) < 1e-4, 'Table 2 RMSNorm: (665 − 501)/665 = 24.7%');
});

test('Student-t quantiles match published tables and the closed forms for df = 1, 2', () => {
  // Two-sided 95 % critical values t_{0.975, df} (standard tables; scipy.stats.t.ppf gives the same digits).
  const table: Array<[number, number]> = [[1, 12.70620474], [2, 4.30265273], [3, 3.18244631], [4, 2.77644511], [5, 2.57058184], [9, 2.26215716], [11, 2.20098516], [19, 2.09302405], [30, 2.04227246], [100, 1.98397152]];
  for (const [df, t] of table) assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 5e-8, `df ${df}: ${studentTQuantile(0.975, df)} vs ${t}`);
  assert.ok(Math.abs(studentTQuantile(0.95, 2) - 2.91998558) < 5e-8);
  assert.ok(Math.abs(studentTQuantile(0.025, 4) + 2.77644511) < 5e-8, 'symmetric lower tail');
  // df = 1 is the Cauchy distribution: F(t) = ½ + atan(t)/π, quantile tan(π(p − ½)).
  for (const p of [0.6, 0.9, 0.99]) assert.ok(Math.abs(studentTQuantile(p, 1) - Math.tan(Math.PI * (p - 0.5))) < 1e-9 * Math.tan(Math.PI * (p - 0.5)));
  for (const t of [-3, 0.5, 7]) assert.ok(Math.abs(studentTCdf(t, 1) - (0.5 + Math.atan(t) / Math.PI)) < 1e-13);
  // df = 2: quantile (2p − 1)/√(2p(1 − p)).
  for (const p of [0.7, 0.975, 0.999]) assert.ok(Math.abs(studentTQuantile(p, 2) - (2 * p - 1) / Math.sqrt(2 * p * (1 - p))) < 1e-9 * 40);
  // Large df approaches the normal: z_{0.975} = 1.959963985.
  assert.ok(Math.abs(studentTQuantile(0.975, 1e6) - 1.959963985) < 1e-5);
  // I_x(a, 1) = x^a and I_x(1, b) = 1 − (1 − x)^b.
  assert.ok(Math.abs(incompleteBeta(0.3, 2.5, 1) - 0.3 ** 2.5) < 1e-13);
  assert.ok(Math.abs(incompleteBeta(0.8, 1, 3) - (1 - 0.2 ** 3)) < 1e-13);
  assert.throws(() => studentTQuantile(1, 3), /p: expected a probability/);
  assert.throws(() => studentTQuantile(0.5, 0), /df: expected/);
});

test('t-interval and paired differences by seed, worked by hand', () => {
  // [1, 2, 3]: mean 2, sd 1, half = t_{0.975,2}/√3 = 4.30265273/1.7320508 = 2.48413771.
  const ci = tInterval([1, 2, 3]);
  assert.equal(ci.mean, 2);
  assert.ok(Math.abs(ci.half - 2.48413771) < 1e-7);
  assert.ok(Math.abs(ci.lo + 0.48413771) < 1e-7 && Math.abs(ci.hi - 4.48413771) < 1e-7);
  // One value: no spread, an unbounded interval.
  const one = tInterval([5]);
  assert.equal(one.half, Infinity);
  assert.equal(one.lo, -Infinity);
  // Pairs by key, skipping keys missing or non-finite on either side: seeds 1, 2, 4 → diffs 0.1, −0.1, 0.3.
  const a = new Map([[1, 2.1], [2, 1.9], [3, NaN], [4, 2.3], [5, 7]]);
  const b = new Map([[1, 2.0], [2, 2.0], [3, 2.0], [4, 2.0]]);
  const p = pairedInterval(a, b);
  assert.deepEqual(p.keys, [1, 2, 4]);
  assert.deepEqual(p.diffs.map((d) => +d.toFixed(12)), [0.1, -0.1, 0.3]);
  // mean 0.1, sd = √((0 + 0.04 + 0.04)/2) = 0.2, half = 4.30265273 · 0.2/√3 = 0.49682754
  assert.ok(Math.abs(p.mean - 0.1) < 1e-12 && Math.abs(p.sd - 0.2) < 1e-12);
  assert.ok(Math.abs(p.half - 0.49682754) < 1e-7);
});
