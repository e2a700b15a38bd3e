// The typed paper numbers are consistent with themselves: every bracketed speed-up equals (T_LN − T)/T_LN recomputed
// from the table's own times (as the paper's printed percentages are), each table has a LayerNorm row, and the claim ids are the
// items the claim evaluator judges.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEADLINE_SPEEDUP, PAPER_CLAIMS, PAPER_REFERENCES, TABLE2, TABLE3, TABLE4, TABLE5, TABLE6, TABLE8, TABLE10 } from '../src/experiments/paper-numbers.js';
import type { PaperReference } from '../src/experiments/types.js';

const seconds = (t: string | null): number => Number((t ?? '').split('±')[0]);

test('bracketed speed-ups = (T_LN − T)/T_LN from the times, to the paper’s rounding', () => {
  const tables: PaperReference[] = [TABLE2, TABLE3.theano, TABLE3.pytorch, TABLE4, TABLE6, TABLE8, TABLE10];
  let checked = 0;
  for (const t of tables) {
    const ln = t.rows.find((r) => r.variant === 'layer');
    assert.ok(ln !== undefined, `${t.source} has a LayerNorm row`);
    for (const r of t.rows) {
      if (r.speedup === null) continue;
      const recomputed = (seconds(ln.time) - seconds(r.time)) / seconds(ln.time);
      assert.ok(Math.abs(recomputed - r.speedup) < 0.0011, `${t.source} ${r.variant}: ${r.speedup} vs ${recomputed.toFixed(4)}`);
      checked++;
    }
  }
  assert.equal(checked, 14);
  assert.equal(Math.min(...tables.flatMap((t) => t.rows.map((r) => r.speedup ?? 1))), HEADLINE_SPEEDUP.min);
  assert.equal(Math.max(...tables.flatMap((t) => t.rows.map((r) => r.speedup ?? 0))), HEADLINE_SPEEDUP.max);
});

test('task mapping, Table 5 shape and claim ids', () => {
  assert.deepEqual(Object.keys(PAPER_REFERENCES).sort(), ['char-lm', 'cloze', 'cnn', 'transformer', 'translation']);
  assert.equal(PAPER_REFERENCES.translation.rows.find((r) => r.variant === 'rms')?.metric, 22.4);
  assert.equal(PAPER_REFERENCES.cnn.rows.find((r) => r.variant === 'rms')?.metric, 8.83);
  for (const r of TABLE5.rows) assert.equal(r.values.length, TABLE5.positions.length);
  const ids = PAPER_CLAIMS.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const n of [1, 2, 3, 4, 6, 7, 8]) assert.ok(ids.includes(`6.${n}`));
  for (const id of ['6.5a', '6.5b', '6.5c', '6.5d', '6.5e', '6.9a', '6.9b']) assert.ok(ids.includes(id));
});
