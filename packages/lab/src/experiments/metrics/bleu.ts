// Corpus BLEU as sacreBLEU computes it (BLEU-4, tokenizer 13a = mteval-v13a, closest-reference brevity penalty,
// smoothing 'exp' by default). The paper reports sacreBLEU with smooth.exp and tok.13a (Appendix A.1).

/**
 * sacreBLEU's '13a' tokenizer (mteval-v13a.pl): unescape a few XML entities, then split punctuation and symbols
 * off words, periods/commas unless between digits, and dashes after a digit.
 * @example
 * tokenize13a('Hello, world.'); // 'Hello , world .'
 */
export function tokenize13a(line: string): string {
  let s = line.replace(/<skipped>/g, '').replace(/-\n/g, '').replace(/\n/g, ' ');
  s = s.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  s = ` ${s} `;
  // Character classes copied from the mteval-v13a regexes: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
  s = s.replace(/([{-~[-` -&(-+:-@/])/g, ' $1 ');
  s = s.replace(/([^0-9])([.,])/g, '$1 $2 ');
  s = s.replace(/([.,])([^0-9])/g, ' $1 $2');
  s = s.replace(/([0-9])(-)/g, '$1 $2 ');
  return s.trim().split(/\s+/).filter((t) => t !== '').join(' ');
}

export type BleuSmoothing = 'none' | 'floor' | 'add-k' | 'exp';

export interface BleuOptions {
  /** Default 'exp' (sacreBLEU's corpus default; 'floor' uses smoothValue 0.1, 'add-k' uses 1 unless given). */
  smooth?: BleuSmoothing;
  smoothValue?: number;
  /** Default '13a'; 'none' splits on whitespace only (for pre-tokenised text). */
  tokenize?: '13a' | 'none';
  lowercase?: boolean;
  maxOrder?: number;
}

export interface BleuScore {
  /** 0..100 */
  score: number;
  /** Matched n-grams per order (clipped by the reference counts). */
  correct: number[];
  /** Hypothesis n-grams per order. */
  total: number[];
  /** Percent precisions per order, after smoothing. */
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
}

function ngramCounts(tokens: string[], maxOrder: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      // \u0001 cannot occur inside a token after tokenisation, so joined keys are unambiguous.
      const key = `${n}\u0001${tokens.slice(i, i + n).join('\u0001')}`;
      m.set(key, (m.get(key) ?? 0) + 1);
    }
  }
  return m;
}

/**
 * Corpus BLEU (sacreBLEU semantics). hypotheses[i] is scored against references[r][i] for every reference stream r.
 * BLEU = BP · exp((1/N) Σ_n log p_n), BP = exp(1 − r/c) when c < r else 1; c, r = corpus hypothesis and
 * closest-reference lengths; p_n = clipped n-gram matches / hypothesis n-grams (smoothed when 0).
 * @example
 * corpusBleu(['the cat sat on the mat'], [['the cat sat on the mat']]).score; // ≈ 100
 */
export function corpusBleu(hypotheses: readonly string[], references: ReadonlyArray<readonly string[]>, options: BleuOptions = {}): BleuScore {
  const maxOrder = options.maxOrder ?? 4;
  const smooth = options.smooth ?? 'exp';
  const smoothValue = options.smoothValue ?? (smooth === 'floor' ? 0.1 : smooth === 'add-k' ? 1 : 0);
  for (const [r, stream] of references.entries()) {
    if (stream.length !== hypotheses.length) {
      throw new RangeError(`references[${r}]: expected ${hypotheses.length} segments (one per hypothesis), got ${stream.length}`);
    }
  }
  const prep = (s: string): string[] => {
    let t = s.trimEnd(); // sacreBLEU rstrips each segment
    if (options.lowercase === true) t = t.toLowerCase();
    t = (options.tokenize ?? '13a') === '13a' ? tokenize13a(t) : t;
    return t.split(/\s+/).filter((x) => x !== '');
  };
  const correct = new Array<number>(maxOrder).fill(0);
  const total = new Array<number>(maxOrder).fill(0);
  let sysLen = 0;
  let refLen = 0;
  hypotheses.forEach((h, i) => {
    const hyp = prep(h);
    const refNgrams = new Map<string, number>();
    const refLens: number[] = [];
    for (const stream of references) {
      const ref = prep(stream[i] as string);
      refLens.push(ref.length);
      for (const [k, c] of ngramCounts(ref, maxOrder)) refNgrams.set(k, Math.max(refNgrams.get(k) ?? 0, c));
    }
    // Closest reference length; ties go to the shorter one (sacreBLEU _get_closest_ref_len).
    let best = -1;
    let bestDiff = Infinity;
    for (const len of refLens) {
      const d = Math.abs(hyp.length - len);
      if (d < bestDiff || (d === bestDiff && len < best)) {
        bestDiff = d;
        best = len;
      }
    }
    sysLen += hyp.length;
    refLen += Math.max(best, 0);
    for (const [k, c] of ngramCounts(hyp, maxOrder)) {
      const n = Number(k.slice(0, k.indexOf('\u0001'))) - 1;
      total[n] = (total[n] as number) + c;
      correct[n] = (correct[n] as number) + Math.min(c, refNgrams.get(k) ?? 0);
    }
  });
  return bleuFromCounts(correct, total, sysLen, refLen, smooth, smoothValue);
}

/**
 * The final step of sacreBLEU's compute_bleu from sufficient statistics (exposed for tests and aggregation).
 * 'exp': the k-th order with zero matches gets precision 100/(2^k · total); 'floor': 100·v/total; 'add-k': adds v
 * to matches and totals for n ≥ 2; 'none': a zero precision makes BLEU 0.
 */
export function bleuFromCounts(
  correctIn: readonly number[],
  totalIn: readonly number[],
  sysLen: number,
  refLen: number,
  smooth: BleuSmoothing = 'exp',
  smoothValue = smooth === 'floor' ? 0.1 : smooth === 'add-k' ? 1 : 0,
): BleuScore {
  const correct = [...correctIn];
  const total = [...totalIn];
  const maxOrder = correct.length;
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = (score: number): BleuScore => ({ score, correct, total, precisions, bp, sysLen, refLen });
  if (!correct.some((c) => c > 0)) return result(0);
  let smoothMteval = 1;
  for (let n = 0; n < maxOrder; n++) {
    if (smooth === 'add-k' && n > 0) {
      correct[n] = (correct[n] as number) + smoothValue;
      total[n] = (total[n] as number) + smoothValue;
    }
    const t = total[n] as number;
    if (t === 0) break; // remaining precisions stay 0 → score 0, as in sacreBLEU
    const c = correct[n] as number;
    if (c === 0) {
      if (smooth === 'exp') {
        smoothMteval *= 2;
        precisions[n] = 100 / (smoothMteval * t);
      } else if (smooth === 'floor') {
        precisions[n] = (100 * smoothValue) / t;
      }
    } else {
      precisions[n] = (100 * c) / t;
    }
  }
  // sacreBLEU's my_log: log(0) is replaced by −9999999999, which drives the score to exactly 0.
  const logSum = precisions.reduce((a, p) => a + (p === 0 ? -9999999999 : Math.log(p)), 0);
  return result(bp * Math.exp(logSum / maxOrder));
}
