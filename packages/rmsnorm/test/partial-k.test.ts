// The pRMSNorm k rule: ceil (paper) / floor (paper's code), robust to binary rounding of p·cols, clamped to [1, cols],
// and the public op really uses that k (checked against the reference with an explicit k).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partialK, reference, rmsNorm } from '../src/index.js';
import { compareArrays, describeComparison, mulberry32, randomNormal } from './compare.js';
import { tolerance } from './tolerance.js';

describe('partialK', () => {
  it('both rules agree when p·cols is an integer (the paper\'s shapes)', () => {
    const cases: Array<[number, number, number]> = [
      [512, 0.0625, 32], [1024, 0.0625, 64], [240, 0.0625, 15], [96, 0.125, 12],
      [512, 0.125, 64], [1024, 0.125, 128], [240, 0.125, 30], [96, 0.0625, 6],
    ];
    for (const [cols, p, k] of cases) {
      assert.equal(partialK(p, cols, 'ceil'), k, `ceil(${p}·${cols})`);
      assert.equal(partialK(p, cols, 'floor'), k, `floor(${p}·${cols})`);
    }
  });

  it('rules differ when p·cols is not an integer: cols 300, p 6.25% gives ceil 19, floor 18', () => {
    assert.equal(partialK(0.0625, 300, 'ceil'), 19);
    assert.equal(partialK(0.0625, 300, 'floor'), 18);
  });

  it('binary rounding of p·cols does not move k: 100·0.07 = 7.000000000000001 gives 7 for both rules', () => {
    assert.equal(100 * 0.07, 7.000000000000001); // the hazard is real
    assert.equal(partialK(0.07, 100, 'ceil'), 7);
    assert.equal(partialK(0.07, 100, 'floor'), 7);
    // and the other direction: 0.29·100 = 28.999999999999996
    assert.equal(0.29 * 100, 28.999999999999996);
    assert.equal(partialK(0.29, 100, 'ceil'), 29);
    assert.equal(partialK(0.29, 100, 'floor'), 29);
  });

  it('the default rule is ceil', () => {
    assert.equal(partialK(0.0625, 300), 19);
  });

  it('k is clamped to [1, cols]', () => {
    assert.equal(partialK(0.0625, 4, 'floor'), 1); // floor(0.25) = 0 → 1
    assert.equal(partialK(0.0625, 4, 'ceil'), 1);
    assert.equal(partialK(1e-9, 1000, 'ceil'), 1);
    assert.equal(partialK(1, 7, 'ceil'), 7);
    assert.equal(partialK(1, 7, 'floor'), 7);
    assert.equal(partialK(1, 1, 'floor'), 1);
    for (let cols = 1; cols <= 64; cols++) {
      for (const p of [0.01, 0.0625, 0.3, 0.5, 0.99, 1]) {
        for (const rule of ['ceil', 'floor'] as const) {
          const k = partialK(p, cols, rule);
          assert.ok(Number.isInteger(k) && k >= 1 && k <= cols, `k(${p}, ${cols}, ${rule}) = ${k}`);
          const exact = rule === 'ceil' ? Math.ceil(p * cols - 1e-9) : Math.floor(p * cols + 1e-9);
          assert.equal(k, Math.min(cols, Math.max(1, exact)));
        }
      }
    }
  });
});

describe('rmsNorm uses partialK', () => {
  it('p = 6.25% on 300 cols: the op matches the reference with k = 19 (ceil) and k = 18 (floor), not the other', () => {
    const cols = 300;
    const rand = mulberry32(300);
    const x = randomNormal(rand, 2 * cols);
    for (const [rule, k, other] of [['ceil', 19, 18], ['floor', 18, 19]] as const) {
      const { y, rstd } = rmsNorm(x, cols, { p: 0.0625, kRule: rule, backend: 'js' });
      const c = compareArrays(y, reference.rmsNormRef(x, cols, { k }).y, tolerance('js', 'rmsNorm', 'forward'), cols);
      assert.ok(c.ok, describeComparison(`y (${rule})`, c));
      const wrong = reference.rmsNormRef(x, cols, { k: other }).rstd;
      assert.ok(Math.abs(rstd[0] - wrong[0]) > 1e-4 * wrong[0], `rstd with ${rule} must differ from k = ${other}`);
    }
  });

  it('p = 1 is exactly RMSNorm (k = cols) for both rules', () => {
    const cols = 33;
    const x = randomNormal(mulberry32(33), 3 * cols);
    const full = rmsNorm(x, cols, { backend: 'js' });
    for (const kRule of ['ceil', 'floor'] as const) {
      assert.deepEqual(rmsNorm(x, cols, { p: 1, kRule, backend: 'js' }).y, full.y);
    }
  });
});
