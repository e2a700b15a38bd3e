// Task translation: RNNSearch miniature (bi-GRU encoder, GRU decoder, attention; norms on every GRU and the
// attentional output layer) on English→Spanish verse pairs (KJV → Reina-Valera 1909). Metrics: validation loss and
// corpus BLEU (13a, greedy decoding) on a validation subset. Paper: Tables 2–3 (WMT14 En→De RNNSearch), Table 5.
import * as tf from '@tensorflow/tfjs';
import { detokenize, loadTranslation, makeTranslationBatch, type TranslationBatch, type TranslationData } from '../data/translation.js';
import { BOS, EOS } from '../data/vocab.js';
import { corpusBleu } from '../metrics/bleu.js';
import { ParamStore } from '../models/params.js';
import { PositionStatsAccumulator, type PositionStats } from '../models/position-stats.js';
import { Seq2Seq } from '../models/seq2seq.js';
import type { Rng } from 'rmsnorm/internal';
import { normConfig, sampleIndices } from './common.js';
import type { BaseSettings, PresetName, RunSpec, TaskDef, TaskRun } from './task.js';

export interface TranslationSettings extends BaseSettings {
  maxLen: number;
  vocab: number;
  emb: number;
  hidden: number;
  /** Validation pairs used for loss and BLEU. */
  validPairs: number;
}

const SETTINGS: Record<PresetName, TranslationSettings> = {
  tiny: { steps: 3, batch: 4, evalEvery: 2, lr: 3e-3, clipNorm: 1, lossThreshold: 6, maxLen: 10, vocab: 200, emb: 8, hidden: 8, validPairs: 4 },
  // Dev BLEU every 25 steps (greedy decoding of 64 pairs ≈ 0.4 s): the curves of the shifted-init runs (Fig. 4).
  // 100 steps: at 70 the greedy BLEU is still < 1 (LayerNorm 0.95, validation loss 3.69), too close to 0 to compare.
  quick: { steps: 100, batch: 32, evalEvery: 25, lr: 3e-3, clipNorm: 1, lossThreshold: 4.5, maxLen: 12, vocab: 1500, emb: 32, hidden: 64, validPairs: 64 },
  standard: { steps: 200, batch: 32, evalEvery: 25, lr: 3e-3, clipNorm: 1, lossThreshold: 4.5, maxLen: 12, vocab: 1500, emb: 32, hidden: 64, validPairs: 100 },
  full: { steps: 600, batch: 32, evalEvery: 100, lr: 3e-3, clipNorm: 1, lossThreshold: 4.0, maxLen: 14, vocab: 2500, emb: 48, hidden: 96, validPairs: 200 },
};

const cache = new Map<string, TranslationData>();

function data(s: TranslationSettings): TranslationData {
  const key = `${s.maxLen}/${s.vocab}`;
  let d = cache.get(key);
  if (!d) {
    d = loadTranslation({ maxLen: s.maxLen, srcVocabSize: s.vocab, tgtVocabSize: s.vocab });
    cache.set(key, d);
  }
  return d;
}

export const translation: TaskDef = {
  name: 'translation',
  title: 'GRU encoder–decoder with attention (KJV En → RV1909 Es)',
  metricKey: 'bleu',
  metricName: 'validation BLEU (greedy, 13a)',
  higherIsBetter: true,
  variants: () => ['none', 'layer', 'rms', 'prms', 'l2'],
  settings: (preset) => ({ ...SETTINGS[preset] }),
  // Measured ≈ 0.45 s per step at quick size (12 tokens, B 32, H 64) plus ≈ 5 s per greedy-decoding evaluation.
  costEstimate: (s) => {
    const c = s as TranslationSettings;
    return c.steps * 0.45 * (c.maxLen / 12) * Math.max(1, (c.batch * c.hidden) / 2048) + (c.steps / c.evalEvery) * 5 * (c.validPairs / 64) + 3;
  },
  notes: [
    'Miniature RNNSearch in Luong form (attention after the decoder GRU; no input feeding) so that training runs all target positions at once on a CPU.',
    'BLEU is corpus BLEU (13a tokenisation, exp smoothing) of greedy translations of the first validation pairs, against the real Spanish verse (UNKs count as misses).',
    'Table 5 analogue: statistics of the decoder GRU\'s normalised U h per target position on one validation batch (the decoder starts from a non-zero state, as in the paper).',
  ],
  create(spec: RunSpec): TaskRun<TranslationBatch> {
    const s = spec.settings as TranslationSettings;
    const d = data(s);
    const store = new ParamStore(spec.seed, { initMean: s.initMean });
    const model = new Seq2Seq(store, { srcVocab: d.srcVocab.size, tgtVocab: d.tgtVocab.size, emb: s.emb, hidden: s.hidden }, normConfig(spec));
    const valid = d.valid.slice(0, s.validPairs);
    if (valid.length === 0) throw new RangeError(`translation: no validation pairs of ≤ ${s.maxLen} tokens`);
    const validBatches: TranslationBatch[] = [];
    for (let i = 0; i < valid.length; i += s.batch) {
      validBatches.push(makeTranslationBatch(valid, Array.from({ length: Math.min(s.batch, valid.length - i) }, (_, j) => i + j)));
    }
    return {
      params: store.vars,
      nextBatch: (rng: Rng) => makeTranslationBatch(d.train, sampleIndices(rng, d.train.length, s.batch)),
      loss: (b) => model.loss(b),
      learningRate: () => s.lr,
      evaluate() {
        let lossSum = 0;
        let tokens = 0;
        const hyps: string[] = [];
        const refs: string[] = [];
        for (const b of validBatches) {
          const n = b.tgtMask.reduce((a, v) => a + v, 0);
          lossSum += tf.tidy(() => model.loss(b).dataSync()[0]) * n;
          tokens += n;
          const out = model.greedy(b, BOS, EOS, s.maxLen + 2);
          out.forEach((ids, i) => {
            hyps.push(detokenize(d.tgtVocab.decode(ids)));
            refs.push(detokenize(valid[b.indices[i]].tgtTokens));
          });
        }
        const bleu = corpusBleu(hyps, [refs]).score;
        return { valLoss: lossSum / tokens, bleu };
      },
      extra() {
        const stats = decoderStats(model, validBatches[0]);
        return { recurrentStats: stats };
      },
      dispose: () => store.dispose(),
    };
  },
};

/** Per-position mean/std of the decoder's normalised U h (positions 1–4 and all), over real (unpadded) rows. */
function decoderStats(model: Seq2Seq, b: TranslationBatch): PositionStats {
  const acc = new PositionStatsAccumulator();
  tf.tidy(() => {
    // Position t + 1 (1-based): the mapping of the state that produces the (t+1)-th target token.
    model.loss(b, (t, uh) => acc.add(t + 1, uh.dataSync(), b.batch, (r) => b.tgtMask[r * b.tgtLen + t] !== 0));
  });
  return acc.result();
}
