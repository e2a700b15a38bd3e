// The reference keeps its own k rule (src/reference/partial-k.ts) so it stays independent of the code it checks;
// the ops, tfjs and WebGPU use src/ops/partial-k.ts (also the public `partialK`). Both must agree everywhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partialK as opsK } from '../src/ops/partial-k.js';
import { partialK as publicK, reference } from '../src/index.js';
import { partialK as referenceK } from '../src/reference/partial-k.js';

const RULES = ['ceil', 'floor'] as const;

describe('partialK: the ops rule and the reference rule agree', () => {
  it('the public export is the ops rule, and the reference namespace exports its own', () => {
    assert.equal(publicK, opsK);
    assert.equal(reference.partialK, referenceK);
    assert.notEqual(opsK, referenceK);
  });

  it('on a grid of p (0, tiny, 1/cols steps, decimals, 1) × cols (1 … 4096)', () => {
    const ps = [0, 1e-12, 1e-9, 1e-6, 0.001, 0.01, 0.03, 0.07, 0.0625, 0.1, 0.125, 0.2, 0.29, 0.3, 1 / 3, 0.5, 0.57, 0.7, 0.9, 0.99, 0.999, 1];
    const colsList = [1, 2, 3, 4, 5, 7, 10, 16, 30, 64, 96, 100, 128, 240, 255, 300, 512, 768, 1000, 1024, 4096];
    let checked = 0;
    for (const cols of colsList) {
      const grid = [...ps];
      // Every multiple of 1/cols and its decimal neighbours: where binary rounding of p·cols matters.
      for (let j = 1; j <= Math.min(cols, 128); j++) grid.push(j / cols, Math.round((j / cols) * 100) / 100);
      for (const p of grid) {
        for (const rule of RULES) {
          const a = opsK(p, cols, rule);
          const b = referenceK(p, cols, rule);
          assert.equal(a, b, `k(p=${p}, cols=${cols}, ${rule}): ops ${a}, reference ${b}`);
          assert.ok(Number.isInteger(a) && a >= 1 && a <= cols, `k(p=${p}, cols=${cols}, ${rule}) = ${a} not in [1, cols]`);
          checked++;
        }
      }
    }
    assert.ok(checked > 5000);
  });

  it('edge cases by value: p = 0 and tiny p give 1, cols = 1 gives 1, 0.07·100 and 0.29·100 are not moved by rounding', () => {
    for (const k of [opsK, referenceK]) {
      assert.equal(k(0, 512, 'ceil'), 1);
      assert.equal(k(0, 512, 'floor'), 1);
      assert.equal(k(1e-12, 4096, 'ceil'), 1);
      assert.equal(k(0.5, 1, 'floor'), 1);
      assert.equal(k(1, 1, 'ceil'), 1);
      assert.equal(k(0.07, 100, 'ceil'), 7);
      assert.equal(k(0.07, 100, 'floor'), 7);
      assert.equal(k(0.29, 100, 'ceil'), 29);
      assert.equal(k(0.29, 100, 'floor'), 29);
      assert.equal(k(0.0625, 300, 'ceil'), 19);
      assert.equal(k(0.0625, 300, 'floor'), 18);
      assert.equal(k(0.0625, 300), 19);
    }
  });
});
