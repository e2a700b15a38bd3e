// Moby Dick character corpus: sizes, vocabulary round trip and UNK, contiguous disjoint split, seeded batches.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCharVocab, evalCharBatches, loadCharCorpus, mobyDickText, sampleCharBatch } from '../src/experiments/data/char-lm.js';
import { createRng } from 'rmsnorm/internal';

const corpus = loadCharCorpus();
const text = mobyDickText();

test('corpus: the whole book (≈1.2 M chars) split 90/10 at one point, nothing lost or shared', () => {
  const n = [...text].length;
  assert.ok(n > 1_150_000 && n < 1_250_000, `book length ${n}`);
  assert.equal(corpus.train.length + corpus.valid.length, n);
  assert.equal(corpus.train.length, Math.floor(n * 0.9));
  // The split is contiguous: train is the book's beginning, validation its end.
  assert.equal(corpus.vocab.decode(corpus.train.subarray(0, 16)), [...text].slice(0, 16).join(''));
  assert.equal(corpus.vocab.decode(corpus.valid.subarray(corpus.valid.length - 16)), [...text].slice(n - 16).join(''));
});

test('vocabulary: UNK at 0, frequent characters kept, rare ones mapped to UNK, round trip', () => {
  const v = corpus.vocab;
  assert.equal(v.unk, 0);
  assert.ok(v.size >= 70 && v.size <= 90, `vocab ${v.size}`);
  for (const ch of 'aZ .,;\n—') assert.notEqual(v.encode(ch)[0], 0, `'${ch}' is frequent`);
  assert.equal(v.encode('ϰ')[0], 0, 'a Greek letter seen once maps to UNK');
  const s = 'Call me Ishmael. Some years ago—never mind how long';
  assert.equal(v.decode(v.encode(s)), s);
  // Independent check of the rule on a tiny text: counts a:3 b:2 c:1, minCount 2 → [UNK, a, b].
  const tiny = buildCharVocab('aabcab', 2);
  assert.deepEqual(tiny.chars, ['\u0000', 'a', 'b']);
  assert.deepEqual([...tiny.encode('abc')], [1, 2, 0]);
});

test('sampleCharBatch: [B, T+1] windows of the training text, same seed → same batch', () => {
  const a = sampleCharBatch(corpus.train, 4, 16, createRng(7));
  const b = sampleCharBatch(corpus.train, 4, 16, createRng(7));
  const c = sampleCharBatch(corpus.train, 4, 16, createRng(8));
  assert.equal(a.length, 4 * 17);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const trainText = corpus.vocab.decode(corpus.train);
  for (let r = 0; r < 4; r++) assert.ok(trainText.includes(corpus.vocab.decode(a.subarray(r * 17, (r + 1) * 17))));
});

test('evalCharBatches: consecutive windows overlapping by one id, deterministic, capped', () => {
  const bs = evalCharBatches(corpus.valid, 2, 10, 3);
  assert.equal(bs.length, 3);
  const rows = bs.flatMap((x) => [x.subarray(0, 11), x.subarray(11, 22)]);
  rows.forEach((row, i) => assert.deepEqual(Array.from(row), Array.from(corpus.valid.subarray(i * 10, i * 10 + 11))));
  assert.throws(() => sampleCharBatch(corpus.train.subarray(0, 5), 1, 10, createRng(1)), /seqLen/);
});
