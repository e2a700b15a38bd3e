// Corpus BLEU against hand-worked n-gram counts and sacreBLEU's documented output; the 13a tokenizer against the
// mteval-v13a rules applied by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bleuFromCounts, corpusBleu, tokenize13a } from '../src/experiments/metrics/bleu.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('tokenize13a: punctuation and symbols split, periods/commas kept between digits, dash split after a digit', () => {
  assert.equal(tokenize13a('Hello, world.'), 'Hello , world .');
  assert.equal(tokenize13a('It costs $3.50, ok?'), 'It costs $ 3.50 , ok ?');
  assert.equal(tokenize13a('from 1990-2000 (3,000 men)'), 'from 1990 - 2000 ( 3,000 men )');
  assert.equal(tokenize13a("a-b don't"), "a-b don't", 'a dash between letters and an apostrophe stay');
  assert.equal(tokenize13a('&quot;x&quot; &amp; y&lt;z'), '" x " & y < z');
  assert.equal(tokenize13a('  many   spaces\n'), 'many spaces');
});

// hyp "the cat sat on the mat" vs ref "the cat is on the mat" (6 tokens each, BP = 1):
//  1-grams: the×2 (ref the×2) cat on mat match, sat not → 5/6
//  2-grams: the cat ✓, cat sat ✗, sat on ✗, on the ✓, the mat ✓ → 3/5
//  3-grams: the cat sat ✗, cat sat on ✗, sat on the ✗, on the mat ✓ → 1/4
//  4-grams: none of the 3 match → 0/3
const HYP = ['the cat sat on the mat'];
const REF = [['the cat is on the mat']];

test('corpusBleu: hand-counted n-gram statistics', () => {
  const b = corpusBleu(HYP, REF, { smooth: 'none' });
  assert.deepEqual(b.correct, [5, 3, 1, 0]);
  assert.deepEqual(b.total, [6, 5, 4, 3]);
  assert.equal(b.sysLen, 6);
  assert.equal(b.refLen, 6);
  assert.equal(b.bp, 1);
  assert.equal(b.score, 0, "smooth 'none': a zero 4-gram precision gives BLEU 0");
});

test("corpusBleu: 'exp' smoothing gives the first zero order 100/(2·total), 'floor' 100·0.1/total", () => {
  // exp: p = 5/6, 3/5, 1/4, 1/(2·3) → product 1/48 → BLEU = 100 · 48^(−1/4) ≈ 37.99
  close(corpusBleu(HYP, REF).score, 100 * 48 ** -0.25);
  close(corpusBleu(HYP, REF, { smooth: 'exp' }).precisions[3] as number, 100 / 6);
  // floor 0.1: p4 = 0.1/3 → product 5/6 · 3/5 · 1/4 · 1/30 = 1/240 → 100 · 240^(−1/4) ≈ 25.4
  close(corpusBleu(HYP, REF, { smooth: 'floor' }).score, 100 * 240 ** -0.25);
  // add-k (k = 1, orders ≥ 2): (5/6)·(4/6)·(2/5)·(1/4) = 1/18 → 100 · 18^(−1/4)
  close(corpusBleu(HYP, REF, { smooth: 'add-k' }).score, 100 * 18 ** -0.25);
});

test('corpusBleu: brevity penalty exp(1 − r/c) for a short but perfect hypothesis', () => {
  // "the cat sat on the" (5) vs "the cat sat on the mat" (6): every n-gram matches (5/5, 4/4, 3/3, 2/2).
  const b = corpusBleu(['the cat sat on the'], [['the cat sat on the mat']]);
  close(b.bp, Math.exp(1 - 6 / 5));
  close(b.score, 100 * Math.exp(-0.2));
  close(corpusBleu(['the cat sat on the mat'], [['the cat sat on the mat']]).score, 100, 1e-9);
});

test('corpusBleu: a hypothesis too short for 3-grams scores 0 whatever the smoothing (sacreBLEU stops at total 0)', () => {
  for (const smooth of ['none', 'exp', 'floor'] as const) assert.equal(corpusBleu(['the cat'], [['the cat sat on the mat']], { smooth }).score, 0);
  assert.equal(corpusBleu(['dog'], [['cat']]).score, 0, 'no match at all');
});

test('corpusBleu: multiple references clip by the max count; the closest reference length (ties → shorter) sets r', () => {
  // hyp "a a a b" vs refs "a b c" and "a a d e f": clipped 1-gram 'a' = max(1, 2) = 2, 'b' = 1 → 3/4.
  const b = corpusBleu(['a a a b'], [['a b c'], ['a a d e f']], { smooth: 'none' });
  assert.equal(b.correct[0], 3);
  assert.equal(b.refLen, 3, 'hyp length 4: refs 3 and 5 are equally close, the shorter wins');
});

test("corpusBleu: sacreBLEU README example (BLEU = 48.53, 82.4/50.0/45.5/37.5, BP 0.943, 17/18)", () => {
  const sys = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
  const refs = [
    ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
    ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
  ];
  const b = corpusBleu(sys, refs);
  assert.equal(b.score.toFixed(2), '48.53');
  assert.deepEqual(b.precisions.map((p) => p.toFixed(1)), ['82.4', '50.0', '45.5', '37.5']);
  assert.equal(b.bp.toFixed(3), '0.943');
  assert.equal(b.sysLen, 17);
  assert.equal(b.refLen, 18);
});

test('bleuFromCounts and argument checks', () => {
  close(bleuFromCounts([5, 3, 1, 0], [6, 5, 4, 3], 6, 6, 'exp').score, 100 * 48 ** -0.25);
  assert.equal(bleuFromCounts([0, 0, 0, 0], [6, 5, 4, 3], 6, 6).score, 0);
  assert.throws(() => corpusBleu(['a', 'b'], [['a']]), /references\[0\]: expected 2 segments/);
});
