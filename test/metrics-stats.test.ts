// Statistics helpers against values worked out by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, argmaxRows, bitsPerChar, ema, firstIndexBelow, mean, median, quantile, speedupVsLayerNorm, std, stepsToThreshold } from '../src/experiments/metrics/stats.js';

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
