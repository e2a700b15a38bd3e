// KJV / Reina-Valera 1909 pairs: the shipped file, tokenisation, split disjointness, vocabularies, padded batches.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../src/experiments/data/files.js';
import { detokenize, loadTranslation, loadVersePairs, makeTranslationBatch, splitOf, tokenize, translationBatches } from '../src/experiments/data/translation.js';
import { BOS, EOS, PAD, UNK } from '../src/experiments/data/vocab.js';
import { createRng } from 'rmsnorm/internal';

test('shipped file: ≤ 2 MB, 21,857 verse pairs in canonical order, unique references, no markup left', () => {
  assert.ok(statSync(join(dataDir(), 'translation/kjv-rv1909.tsv.gz')).size < 2_000_000);
  const pairs = loadVersePairs();
  assert.equal(pairs.length, 21857);
  assert.equal(pairs[0]?.ref, 'Genesis 1:1');
  assert.equal(pairs[0]?.es, 'EN el principio crió Dios los cielos y la tierra.');
  assert.equal(new Set(pairs.map((p) => p.ref)).size, pairs.length);
  assert.ok(pairs.every((p) => !/<[GH]\d+>|¶|\t/.test(p.en + p.es)));
});

test('tokenize / detokenize', () => {
  assert.deepEqual(tokenize('Y dijo Dios: Sea la luz: y fué la luz.'), ['y', 'dijo', 'dios', ':', 'sea', 'la', 'luz', ':', 'y', 'fué', 'la', 'luz', '.']);
  assert.deepEqual(tokenize("The LORD's house, (ye) ¿qué?"), ['the', "lord's", 'house', ',', '(', 'ye', ')', '¿', 'qué', '?']);
  assert.equal(detokenize(['y', 'dijo', 'dios', ':', 'sea', 'la', 'luz', '.']), 'y dijo dios: sea la luz.');
  assert.equal(detokenize(['<s>', 'y', '<unk>', 'dios', '</s>', '<pad>']), 'y UNK dios', 'specials dropped, UNK one token');
});

const data = loadTranslation();

test('split fixed by verse position: valid ≡ 0, test ≡ 12 (mod 25), disjoint references, vocab from train only', () => {
  assert.equal(splitOf(0), 'valid');
  assert.equal(splitOf(50), 'valid');
  assert.equal(splitOf(37), 'test');
  assert.equal(splitOf(26), 'train');
  const refs = (xs: typeof data.train): Set<string> => new Set(xs.map((p) => p.ref));
  const [tr, va, te] = [refs(data.train), refs(data.valid), refs(data.test)];
  for (const r of va) assert.ok(!tr.has(r) && !te.has(r));
  for (const r of te) assert.ok(!tr.has(r));
  assert.ok(data.train.length > 3000 && data.valid.length > 100 && data.test.length > 100, `${data.train.length}/${data.valid.length}/${data.test.length}`);
  assert.ok(data.train.every((p) => p.src.length <= 16 && p.tgt.length <= 16));
  assert.equal(data.srcVocab.size, 3000);
  // Every training token in the vocabulary round-trips; a made-up word is UNK.
  const p = data.train[0]!;
  const dec = data.tgtVocab.decode(p.tgt);
  dec.forEach((t, i) => assert.ok(t === p.tgtTokens[i] || (t === '<unk>' && p.tgt[i] === UNK)));
  assert.equal(data.srcVocab.id('zzzzqx'), UNK);
  // Deterministic: loading again gives the same vocabulary order.
  assert.deepEqual(loadTranslation().tgtVocab.tokens.slice(0, 50), data.tgtVocab.tokens.slice(0, 50));
});

test('makeTranslationBatch: EOS-terminated source, BOS-shifted target, masks count real tokens', () => {
  const b = makeTranslationBatch(data.train, [0, 1, 2]);
  assert.equal(b.src.length, 3 * b.srcLen);
  for (let r = 0; r < 3; r++) {
    const p = data.train[r]!;
    const srcMask = b.srcMask.subarray(r * b.srcLen, (r + 1) * b.srcLen).reduce((a, x) => a + x, 0);
    assert.equal(srcMask, p.src.length + 1);
    assert.equal(b.src[r * b.srcLen + p.src.length], EOS);
    assert.equal(b.tgtIn[r * b.tgtLen], BOS);
    assert.equal(b.tgtOut[r * b.tgtLen + p.tgt.length], EOS);
    assert.equal(b.tgtIn[r * b.tgtLen + 1], p.tgt[0]);
    if (p.tgt.length + 1 < b.tgtLen) assert.equal(b.tgtOut[r * b.tgtLen + p.tgt.length + 1], PAD);
  }
  const x = translationBatches(data.train, 8, createRng(3)).next().value;
  const y = translationBatches(data.train, 8, createRng(3)).next().value;
  assert.deepEqual(x.indices, y.indices);
});
