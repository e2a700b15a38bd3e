// Fashion-MNIST subset (sizes, class balance, normalisation, batches) and the generated cloze questions
// (determinism, answers among candidates, document-disjoint split, batch masks).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageBatches, loadFashionMnist } from '../src/experiments/data/fashion-mnist.js';
import { generateClozeQuestions, loadCloze, makeClozeBatch, PLACEHOLDER } from '../src/experiments/data/cloze.js';
import { createRng } from 'rmsnorm/internal';

test('fashion-mnist: 6,000/1,000 images of 28×28×1, 600/100 per class, standardised', () => {
  const d = loadFashionMnist();
  assert.equal(d.train.n, 6000);
  assert.equal(d.test.n, 1000);
  assert.equal(d.train.x.length, 6000 * 28 * 28);
  const per = new Array(10).fill(0);
  for (const y of d.train.y) per[y]++;
  assert.deepEqual(per, new Array(10).fill(600));
  let s = 0;
  let sq = 0;
  for (const v of d.train.x) {
    s += v;
    sq += v * v;
  }
  const m = s / d.train.x.length;
  assert.ok(Math.abs(m) < 1e-4 && Math.abs(Math.sqrt(sq / d.train.x.length - m * m) - 1) < 1e-3);
  const unit = loadFashionMnist({ normalize: 'unit', trainLimit: 10 });
  assert.equal(unit.train.n, 10);
  assert.ok(unit.train.x.every((v) => v >= 0 && v <= 1));
  const a = imageBatches(d.train, 16, createRng(1)).next().value;
  const b = imageBatches(d.train, 16, createRng(1)).next().value;
  assert.deepEqual(a.y, b.y);
  assert.equal(a.x.length, 16 * 784);
});

test('cloze: deterministic, one @placeholder per query, answer among candidates and in the passage', () => {
  const qs = generateClozeQuestions();
  assert.ok(qs.length > 1000, `${qs.length} questions`);
  assert.deepEqual(generateClozeQuestions().slice(0, 20), qs.slice(0, 20));
  for (const q of qs) {
    assert.equal(q.query.filter((t) => t === PLACEHOLDER).length >= 1, true);
    assert.ok(q.candidates.includes(q.answer));
    assert.ok(q.passage.includes(q.answer));
    assert.ok(!q.query.includes(q.answer), 'every mention of the answer in the query is masked');
    assert.ok(q.candidates.length >= 2);
  }
  assert.notDeepEqual(generateClozeQuestions({ seed: 2 }).slice(0, 20).map((q) => q.answer), qs.slice(0, 20).map((q) => q.answer));
});

test('cloze: document-disjoint split, entity slots, padded batch with candidate mask', () => {
  const d = loadCloze();
  const doc = (id: string): string => id.split(':')[0] as string;
  const trainDocs = new Set(d.train.map((q) => doc(q.id)));
  assert.ok(d.valid.length > 50);
  assert.ok(d.valid.every((q) => !trainDocs.has(doc(q.id))));
  assert.ok(d.train.every((q) => q.answer >= 0 && q.answer < d.numEntities && q.candidates.includes(q.answer)));
  const b = makeClozeBatch(d.train, [0, 1], d.numEntities);
  for (let r = 0; r < 2; r++) {
    const q = d.train[r]!;
    assert.equal(b.answer[r], q.answer);
    assert.equal(b.candidateMask[r * d.numEntities + q.answer], 1);
    assert.equal(b.passageMask.subarray(r * b.passageLen, (r + 1) * b.passageLen).reduce((a, x) => a + x, 0), q.passage.length);
  }
});
