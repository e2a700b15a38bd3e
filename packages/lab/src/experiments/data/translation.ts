// English→Spanish translation data (KJV / Reina-Valera 1909 verse pairs, data/translation/kjv-rv1909.tsv.gz):
// tokenisation, word vocabularies with UNK, a split fixed by verse position, and padded batches with masks.

import { readDataFile } from './files.js';
import { buildWordVocab, BOS, EOS, PAD, type WordVocab } from './vocab.js';
import { permutation, type RandomSource } from 'rmsnorm/internal';

export interface VersePair {
  /** e.g. "Genesis 1:3" */
  ref: string;
  en: string;
  es: string;
  /** Position in canonical order (0 = Genesis 1:1 among the shipped pairs); fixes the split. */
  index: number;
}

export interface EncodedPair {
  ref: string;
  src: number[];
  tgt: number[];
  /** The target's tokens before vocabulary mapping (so a hypothesis is scored against the real words, UNKs included). */
  tgtTokens: string[];
  srcTokens: string[];
}

export interface TranslationData {
  srcVocab: WordVocab;
  tgtVocab: WordVocab;
  train: EncodedPair[];
  valid: EncodedPair[];
  test: EncodedPair[];
  source: string;
}

export interface TranslationOptions {
  /** Keep pairs with at most this many tokens on each side (default 16). */
  maxLen?: number;
  /** Vocabulary sizes including the 4 specials (default 3000 each). */
  srcVocabSize?: number;
  tgtVocabSize?: number;
  /** Use at most this many training pairs (first in canonical order; default all). */
  maxTrain?: number;
  /** Direction (default 'en-es', as the paper's En→De). */
  direction?: 'en-es' | 'es-en';
}

let cache: VersePair[] | null = null;

/** All shipped verse pairs, in canonical order. */
export function loadVersePairs(): VersePair[] {
  if (cache === null) {
    const text = readDataFile('translation/kjv-rv1909.tsv.gz').toString('utf8');
    cache = text
      .split('\n')
      .filter((l) => l !== '')
      .map((line, index) => {
        const [ref, en, es] = line.split('\t');
        if (ref === undefined || en === undefined || es === undefined) throw new RangeError(`kjv-rv1909.tsv line ${index + 1}: expected 3 tab-separated fields`);
        return { ref, en, es, index };
      });
  }
  return cache;
}

/**
 * Lower-case and split off punctuation: words (letters/digits, inner apostrophes kept: "lord's") and single
 * punctuation marks become tokens.
 * @example
 * tokenize('Y dijo Dios: Sea la luz.'); // ['y', 'dijo', 'dios', ':', 'sea', 'la', 'luz', '.']
 */
export function tokenize(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu) ?? [];
}

/**
 * Join tokens for display and BLEU: no space before , . ; : ? ! ) and after ( ¿ ¡. Special tokens are dropped,
 * except <unk>, written as 'UNK' — one token that never matches a (lower-case) reference; left as '<unk>' the 13a
 * tokenizer would split it into three tokens and distort length and precision.
 * @example
 * detokenize(['y', '<unk>', 'dios', ':', '</s>']); // 'y UNK dios:'
 */
export function detokenize(tokens: readonly string[]): string {
  return tokens
    .filter((t) => t !== '<pad>' && t !== '<s>' && t !== '</s>')
    .map((t) => (t === '<unk>' ? 'UNK' : t))
    .join(' ')
    .replace(/ ([,.;:?!)])/g, '$1')
    .replace(/([(¿¡]) /g, '$1');
}

/**
 * Which split a pair belongs to, fixed by its position among the shipped pairs: every 25th verse (index ≡ 0 mod 25)
 * is validation, index ≡ 12 mod 25 is test, the rest (92%) train. Neighbouring verses often share phrases, so the
 * held-out verses are interleaved rather than a whole book: the task measures fitting this corpus, not domain shift.
 */
export function splitOf(index: number): 'train' | 'valid' | 'test' {
  const r = index % 25;
  return r === 0 ? 'valid' : r === 12 ? 'test' : 'train';
}

/**
 * Load the translation task: tokenised pairs of ≤ maxLen tokens, vocabularies from the training split only.
 * Deterministic. Pairs (train / valid / test) for maxLen 8: 145 / 8 / 1; 10: 469 / 27 / 14; 12: 1,030 / 55 / 35;
 * 16 (default): 3,460 / 160 / 137 — short verses are rare, so keep maxLen ≥ 12 (maxLen 6 leaves 1 validation pair).
 * @example
 * const d = loadTranslation({ maxLen: 16 }); d.train[0].src; // ids, no BOS/EOS
 */
export function loadTranslation(options: TranslationOptions = {}): TranslationData {
  const maxLen = options.maxLen ?? 16;
  const direction = options.direction ?? 'en-es';
  const splits: Record<'train' | 'valid' | 'test', Array<{ ref: string; s: string[]; t: string[] }>> = {
    train: [],
    valid: [],
    test: [],
  };
  for (const p of loadVersePairs()) {
    const en = tokenize(p.en);
    const es = tokenize(p.es);
    if (en.length > maxLen || es.length > maxLen || en.length === 0 || es.length === 0) continue;
    const [s, t] = direction === 'en-es' ? [en, es] : [es, en];
    splits[splitOf(p.index)].push({ ref: p.ref, s, t });
  }
  if (options.maxTrain !== undefined) splits.train = splits.train.slice(0, options.maxTrain);
  const srcVocab = buildWordVocab(splits.train.map((p) => p.s), { maxSize: options.srcVocabSize ?? 3000 });
  const tgtVocab = buildWordVocab(splits.train.map((p) => p.t), { maxSize: options.tgtVocabSize ?? 3000 });
  const encode = (ps: Array<{ ref: string; s: string[]; t: string[] }>): EncodedPair[] =>
    ps.map((p) => ({ ref: p.ref, src: srcVocab.encode(p.s), tgt: tgtVocab.encode(p.t), srcTokens: p.s, tgtTokens: p.t }));
  return {
    srcVocab,
    tgtVocab,
    train: encode(splits.train),
    valid: encode(splits.valid),
    test: encode(splits.test),
    source: 'KJV / Reina-Valera 1909 (Debian sword-text-kjv 14.3-1, sword-text-sparv 2.60-1; public domain)',
  };
}

/** A padded batch. Row-major layouts; masks are 1 on real tokens, 0 on padding. */
export interface TranslationBatch {
  batch: number;
  srcLen: number;
  tgtLen: number;
  /** [batch, srcLen] source ids (+ EOS), PAD-padded. */
  src: Int32Array;
  srcMask: Float32Array;
  /** [batch, tgtLen] decoder inputs: BOS + target. */
  tgtIn: Int32Array;
  /** [batch, tgtLen] decoder targets: target + EOS. */
  tgtOut: Int32Array;
  tgtMask: Float32Array;
  /** Indices of the pairs in the array given. */
  indices: number[];
}

/**
 * Pad the given pairs into one batch (lengths = longest row; source ends with EOS, target shifted with BOS/EOS).
 * @example
 * const b = makeTranslationBatch(d.train, [0, 1, 2]); b.src.length === 3 * b.srcLen;
 */
export function makeTranslationBatch(pairs: readonly EncodedPair[], indices: number[]): TranslationBatch {
  const rows = indices.map((i) => {
    const p = pairs[i];
    if (p === undefined) throw new RangeError(`indices: ${i} is outside 0..${pairs.length - 1}`);
    return p;
  });
  const srcLen = Math.max(...rows.map((p) => p.src.length + 1));
  const tgtLen = Math.max(...rows.map((p) => p.tgt.length + 1));
  const B = rows.length;
  const src = new Int32Array(B * srcLen).fill(PAD);
  const srcMask = new Float32Array(B * srcLen);
  const tgtIn = new Int32Array(B * tgtLen).fill(PAD);
  const tgtOut = new Int32Array(B * tgtLen).fill(PAD);
  const tgtMask = new Float32Array(B * tgtLen);
  rows.forEach((p, b) => {
    const s = [...p.src, EOS];
    s.forEach((id, t) => {
      src[b * srcLen + t] = id;
      srcMask[b * srcLen + t] = 1;
    });
    const tin = [BOS, ...p.tgt];
    const tout = [...p.tgt, EOS];
    for (let t = 0; t < tin.length; t++) {
      tgtIn[b * tgtLen + t] = tin[t] as number;
      tgtOut[b * tgtLen + t] = tout[t] as number;
      tgtMask[b * tgtLen + t] = 1;
    }
  });
  return { batch: B, srcLen, tgtLen, src, srcMask, tgtIn, tgtOut, tgtMask, indices };
}

/**
 * Endless seeded training batches: each epoch is a fresh permutation (from rng) cut into batches of `batch` pairs.
 * @example
 * const it = translationBatches(d.train, 32, createRng(1)); const b = it.next().value;
 */
export function* translationBatches(pairs: readonly EncodedPair[], batch: number, rng: RandomSource): Generator<TranslationBatch, never> {
  if (pairs.length < batch) throw new RangeError(`batch: ${batch} exceeds the ${pairs.length} pairs available`);
  for (;;) {
    const order = permutation(pairs.length, rng);
    for (let i = 0; i + batch <= order.length; i += batch) yield makeTranslationBatch(pairs, order.slice(i, i + batch));
  }
}
