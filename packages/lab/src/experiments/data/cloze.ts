// Cloze reading comprehension generated from real text (the KJV side of the shipped verse pairs, or Moby Dick), in the style of the CNN corpus used by the
// paper's attentive reader: a passage of sentences, a query sentence with one entity replaced by @placeholder,
// entities anonymised per question as @entity0…@entityE-1, answer = the masked entity. Fully deterministic.

import { mobyDickChapters } from './char-lm.js';
import { loadVersePairs } from './translation.js';
import { buildWordVocab, type WordVocab } from './vocab.js';
import { createRng, permutation, type RandomSource } from 'rmsnorm/internal';

export const PLACEHOLDER = '@placeholder';
export const entityToken = (k: number): string => `@entity${k}`;

export interface ClozeQuestion {
  /** "<document>:<sentence>" of the query sentence. */
  id: string;
  chapter: number;
  passage: string[];
  query: string[];
  /** Entity tokens present in the passage (the candidates), e.g. ['@entity3', '@entity0']. */
  candidates: string[];
  answer: string;
}

export interface ClozeOptions {
  /** Sentences per passage (default 6). */
  passageSentences?: number;
  /** Skip passages longer than this many tokens (default 200). */
  maxPassageTokens?: number;
  /** Skip queries longer than this (default 40 tokens). */
  maxQueryTokens?: number;
  /** Entity slots: questions with more distinct entities are skipped (default 8). */
  maxEntities?: number;
  /** Seed of the anonymisation and masking choices (default 1). */
  seed?: number;
  /** Text: 'kjv' (default; documents = chapters, sentences = verses, dense in names) or 'moby-dick'. */
  source?: 'kjv' | 'moby-dick';
}

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;
// Capitalised words that are not names even when capitalised mid-sentence.
const NOT_ENTITIES = new Set(['I', 'O', 'Oh', 'Mr', 'Mrs', 'Captain', 'Sir', 'Lord', 'Heaven', 'Heavens', 'God']);

interface Sentence {
  tokens: string[];
}

const toSentence = (s: string): Sentence => ({ tokens: s.match(WORD) ?? [] });

/** Documents as lists of sentences. */
function documents(source: 'kjv' | 'moby-dick'): Sentence[][] {
  if (source === 'kjv') {
    const docs = new Map<string, Sentence[]>();
    for (const p of loadVersePairs()) {
      const chapter = p.ref.slice(0, p.ref.lastIndexOf(':'));
      const d = docs.get(chapter) ?? [];
      d.push(toSentence(p.en));
      docs.set(chapter, d);
    }
    return [...docs.values()];
  }
  return mobyDickChapters().map((chapter) =>
      chapter
        .replace(/\s+/g, ' ')
        .split(/(?<=[.!?])\s+(?=["“‘']?[A-Z])/)
        .map(toSentence)
        .filter((s) => s.tokens.length > 2),
    );
}

/**
 * Proper nouns of the book: capitalised words seen ≥ 5 times not at a sentence start, whose lower-case form is rare
 * (< 10% of their uses) — so "Ahab", "Queequeg", "Nantucket" qualify but "Sea" or "Whale" do not.
 */
function properNouns(chapters: Sentence[][]): Set<string> {
  const capMid = new Map<string, number>();
  const lower = new Map<string, number>();
  for (const ss of chapters)
    for (const s of ss)
      s.tokens.forEach((t, i) => {
        if (/^\p{Lu}\p{Ll}+$/u.test(t) && i > 0 && !/^["“‘'(]$/.test(s.tokens[i - 1] as string)) capMid.set(t, (capMid.get(t) ?? 0) + 1);
        else if (/^\p{Ll}+$/u.test(t)) lower.set(t, (lower.get(t) ?? 0) + 1);
      });
  const out = new Set<string>();
  for (const [t, n] of capMid) {
    const l = lower.get(t.toLowerCase()) ?? 0;
    if (n >= 5 && l < 0.1 * (n + l) && !NOT_ENTITIES.has(t)) out.add(t);
  }
  return out;
}

/**
 * Generate cloze questions from real text (default the KJV verses). Same options → same questions, in chapter order.
 * Each question: passage = passageSentences sentences, query = the next sentence containing an entity that also
 * occurs in the passage; that entity (chosen with the seeded rng) becomes @placeholder.
 * @example
 * const qs = generateClozeQuestions(); qs[0].candidates.includes(qs[0].answer); // true
 */
export function generateClozeQuestions(options: ClozeOptions = {}): ClozeQuestion[] {
  const ps = options.passageSentences ?? 6;
  const maxP = options.maxPassageTokens ?? 200;
  const maxQ = options.maxQueryTokens ?? 40;
  const maxE = options.maxEntities ?? 8;
  const rng = createRng(options.seed ?? 1);
  const chapters = documents(options.source ?? 'kjv');
  const names = properNouns(chapters);
  const out: ClozeQuestion[] = [];
  chapters.forEach((ss, c) => {
    for (let i = ps; i < ss.length; i++) {
      const passageRaw = ss.slice(i - ps, i).flatMap((s) => s.tokens);
      const queryRaw = (ss[i] as Sentence).tokens;
      if (passageRaw.length > maxP || queryRaw.length > maxQ) continue;
      const inPassage = [...new Set(passageRaw.filter((t) => names.has(t)))];
      const askable = [...new Set(queryRaw.filter((t) => names.has(t)))].filter((t) => inPassage.includes(t));
      const all = [...new Set([...inPassage, ...queryRaw.filter((t) => names.has(t))])];
      if (askable.length === 0 || inPassage.length < 2 || all.length > maxE) continue;
      const answerName = askable[rng.int(askable.length)] as string;
      // Anonymise: a fresh random map name → @entityK per question, as in the CNN corpus.
      const slots = permutation(maxE, rng);
      const anon = new Map(all.map((n, k) => [n, entityToken(slots[k] as number)]));
      const map = (t: string): string => anon.get(t) ?? t.toLowerCase();
      out.push({
        id: `${c}:${i}`,
        chapter: c,
        passage: passageRaw.map(map),
        query: queryRaw.map((t) => (t === answerName ? PLACEHOLDER : map(t))),
        candidates: inPassage.map(map),
        answer: anon.get(answerName) as string,
      });
      i += 1; // the next query is at least two sentences on: passages overlap, queries never repeat
    }
  });
  return out;
}

export interface EncodedCloze {
  id: string;
  passage: number[];
  query: number[];
  /** Entity slot numbers (K of @entityK) of the candidates. */
  candidates: number[];
  /** Entity slot of the answer. */
  answer: number;
}

export interface ClozeData {
  vocab: WordVocab;
  numEntities: number;
  train: EncodedCloze[];
  valid: EncodedCloze[];
  source: string;
}

/**
 * Questions encoded with one vocabulary (built from the training questions; @entityK and @placeholder reserved).
 * Split by document: questions from every 10th document (chapter; index ≡ 9 mod 10) are validation, so no
 * passage text is shared across the split.
 * @example
 * const d = loadCloze(); d.train[0].answer; // 0..d.numEntities-1
 */
export function loadCloze(options: ClozeOptions & { vocabSize?: number } = {}): ClozeData {
  const maxE = options.maxEntities ?? 8;
  const qs = generateClozeQuestions(options);
  const trainQ = qs.filter((q) => q.chapter % 10 !== 9);
  const validQ = qs.filter((q) => q.chapter % 10 === 9);
  const reserved = [PLACEHOLDER, ...Array.from({ length: maxE }, (_, k) => entityToken(k))];
  const vocab = buildWordVocab(
    trainQ.flatMap((q) => [q.passage, q.query]),
    { maxSize: options.vocabSize ?? 5000, reserved },
  );
  const slot = (t: string): number => Number(t.slice('@entity'.length));
  const encode = (q: ClozeQuestion): EncodedCloze => ({
    id: q.id,
    passage: vocab.encode(q.passage),
    query: vocab.encode(q.query),
    candidates: q.candidates.map(slot),
    answer: slot(q.answer),
  });
  return { vocab, numEntities: maxE, train: trainQ.map(encode), valid: validQ.map(encode), source: `cloze questions generated from ${options.source === 'moby-dick' ? 'Moby Dick' : 'the KJV verses in data/translation'}` };
}

export interface ClozeBatch {
  batch: number;
  passageLen: number;
  queryLen: number;
  numEntities: number;
  /** [batch, passageLen] ids, PAD = 0, mask 1 on tokens. */
  passage: Int32Array;
  passageMask: Float32Array;
  query: Int32Array;
  queryMask: Float32Array;
  /** [batch, numEntities]: 1 where @entityK is a candidate of that question. */
  candidateMask: Float32Array;
  /** [batch] entity slot of the answer. */
  answer: Int32Array;
}

/** Pad the given questions into one batch. */
export function makeClozeBatch(items: readonly EncodedCloze[], indices: readonly number[], numEntities: number): ClozeBatch {
  const rows = indices.map((i) => {
    const q = items[i];
    if (q === undefined) throw new RangeError(`indices: ${i} is outside 0..${items.length - 1}`);
    return q;
  });
  const B = rows.length;
  const P = Math.max(...rows.map((q) => q.passage.length));
  const Q = Math.max(...rows.map((q) => q.query.length));
  const b: ClozeBatch = {
    batch: B,
    passageLen: P,
    queryLen: Q,
    numEntities,
    passage: new Int32Array(B * P),
    passageMask: new Float32Array(B * P),
    query: new Int32Array(B * Q),
    queryMask: new Float32Array(B * Q),
    candidateMask: new Float32Array(B * numEntities),
    answer: new Int32Array(B),
  };
  rows.forEach((q, r) => {
    q.passage.forEach((id, t) => ((b.passage[r * P + t] = id), (b.passageMask[r * P + t] = 1)));
    q.query.forEach((id, t) => ((b.query[r * Q + t] = id), (b.queryMask[r * Q + t] = 1)));
    for (const k of q.candidates) b.candidateMask[r * numEntities + k] = 1;
    b.answer[r] = q.answer;
  });
  return b;
}

/** Endless seeded training batches (fresh permutation each epoch). */
export function* clozeBatches(items: readonly EncodedCloze[], batch: number, numEntities: number, rng: RandomSource): Generator<ClozeBatch, never> {
  if (items.length < batch) throw new RangeError(`batch: ${batch} exceeds the ${items.length} questions available`);
  for (;;) {
    const order = permutation(items.length, rng);
    for (let i = 0; i + batch <= order.length; i += batch) yield makeClozeBatch(items, order.slice(i, i + batch), numEntities);
  }
}
