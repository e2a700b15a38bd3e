// Word vocabulary shared by the translation and cloze loaders: fixed special ids (PAD 0, BOS 1, EOS 2, UNK 3),
// then tokens by descending frequency (ties broken alphabetically, so the vocabulary is deterministic).

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const UNK = 3;
const SPECIALS = ['<pad>', '<s>', '</s>', '<unk>'];

export interface WordVocab {
  tokens: string[];
  size: number;
  id(token: string): number;
  encode(tokens: readonly string[]): number[];
  decode(ids: ArrayLike<number>): string[];
}

/**
 * Build a vocabulary from tokenised sentences: the maxSize − 4 most frequent tokens seen at least minCount times
 * (plus any `reserved` tokens, always kept right after the specials).
 * @example
 * const v = buildWordVocab([['a', 'b', 'a']], { maxSize: 10 }); v.encode(['a', 'z']); // [4, 3]
 */
export function buildWordVocab(
  sentences: Iterable<readonly string[]>,
  options: { maxSize?: number; minCount?: number; reserved?: readonly string[] } = {},
): WordVocab {
  const maxSize = options.maxSize ?? Infinity;
  const minCount = options.minCount ?? 1;
  const reserved = options.reserved ?? [];
  const counts = new Map<string, number>();
  for (const s of sentences) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
  const fixed = [...SPECIALS, ...reserved];
  const taken = new Set(fixed);
  const ranked = [...counts]
    .filter(([t, n]) => n >= minCount && !taken.has(t))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([t]) => t);
  const tokens = [...fixed, ...ranked.slice(0, Math.max(0, maxSize - fixed.length))];
  return vocabFromTokens(tokens);
}

/** Rebuild a vocabulary from its token list (e.g. read back from results or a checkpoint). */
export function vocabFromTokens(tokens: string[]): WordVocab {
  const index = new Map(tokens.map((t, i) => [t, i]));
  const id = (t: string): number => index.get(t) ?? UNK;
  return {
    tokens,
    size: tokens.length,
    id,
    encode: (ts) => ts.map(id),
    decode: (ids) => Array.from(ids, (i) => tokens[i] ?? '<unk>'),
  };
}
