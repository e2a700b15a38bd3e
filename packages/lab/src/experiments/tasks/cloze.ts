// Task cloze (full preset): bidirectional normalised-LSTM reader on cloze questions generated from the KJV (entities
// anonymised per question, as in the CNN corpus). Metric: validation error %. Paper: A.2 (CNN attentive reader,
// curves only; Table 6 times).
import * as tf from '@tensorflow/tfjs';
import { loadCloze, makeClozeBatch, type ClozeData } from '../data/cloze.js';
import { ParamStore } from '../models/params.js';
import { Reader } from '../models/reader.js';
import type { Rng } from 'rmsnorm/internal';
import { normConfig, sampleIndices } from './common.js';
import type { BaseSettings, PresetName, RunSpec, TaskDef, TaskRun } from './task.js';

export interface ClozeSettings extends BaseSettings {
  emb: number;
  hidden: number;
  vocab: number;
  validQuestions: number;
  passageSentences: number;
  maxPassageTokens: number;
}

const SETTINGS: Record<PresetName, ClozeSettings> = {
  tiny: { steps: 3, batch: 4, evalEvery: 2, lr: 2e-3, clipNorm: 5, lossThreshold: 1.5, emb: 8, hidden: 8, vocab: 500, validQuestions: 8, passageSentences: 2, maxPassageTokens: 40 },
  quick: { steps: 100, batch: 16, evalEvery: 50, lr: 2e-3, clipNorm: 5, lossThreshold: 1.2, emb: 32, hidden: 32, vocab: 3000, validQuestions: 128, passageSentences: 3, maxPassageTokens: 80 },
  standard: { steps: 200, batch: 16, evalEvery: 50, lr: 2e-3, clipNorm: 5, lossThreshold: 1.1, emb: 32, hidden: 32, vocab: 3000, validQuestions: 200, passageSentences: 3, maxPassageTokens: 80 },
  full: { steps: 300, batch: 16, evalEvery: 100, lr: 2e-3, clipNorm: 5, lossThreshold: 1.0, emb: 48, hidden: 48, vocab: 5000, validQuestions: 400, passageSentences: 4, maxPassageTokens: 100 },
};

const cache = new Map<string, ClozeData>();

export const cloze: TaskDef = {
  name: 'cloze',
  title: 'Bidirectional LSTM reader on generated cloze questions (KJV)',
  metricKey: 'error',
  metricName: 'validation error %',
  higherIsBetter: false,
  variants: () => ['none', 'layer', 'rms', 'prms'],
  settings: (preset) => ({ ...SETTINGS[preset] }),
  // Four LSTM passes over up to maxPassageTokens steps per batch: ≈ 12 ms per passage token per step.
  costEstimate: (s) => {
    const c = s as ClozeSettings;
    return c.steps * 0.012 * c.maxPassageTokens * Math.max(1, (c.batch * c.hidden) / 512) + 5;
  },
  notes: [
    'Miniature of the paper\'s attentive reader (CNN corpus, A.2): norms inside the LSTMs only (input projection, h·U, cell), as in the paper; bilinear attention (Chen et al. 2016) instead of the tanh attention layer.',
    'Questions are generated from the KJV chapters (names anonymised per question); the paper reports curves only, so there are no paper numbers beside ours.',
  ],
  create(spec: RunSpec): TaskRun<ReturnType<typeof makeClozeBatch>> {
    const s = spec.settings as ClozeSettings;
    const key = `${s.vocab}/${s.passageSentences}/${s.maxPassageTokens}`;
    let d = cache.get(key);
    if (!d) {
      d = loadCloze({ vocabSize: s.vocab, passageSentences: s.passageSentences, maxPassageTokens: s.maxPassageTokens });
      cache.set(key, d);
    }
    const data = d;
    const store = new ParamStore(spec.seed, { initMean: s.initMean });
    const model = new Reader(store, { vocab: data.vocab.size, emb: s.emb, hidden: s.hidden, entities: data.numEntities }, normConfig(spec));
    const valid = data.valid.slice(0, s.validQuestions);
    const validBatches: ReturnType<typeof makeClozeBatch>[] = [];
    for (let i = 0; i < valid.length; i += s.batch) {
      validBatches.push(makeClozeBatch(valid, Array.from({ length: Math.min(s.batch, valid.length - i) }, (_, j) => i + j), data.numEntities));
    }
    return {
      params: store.vars,
      nextBatch: (rng: Rng) => makeClozeBatch(data.train, sampleIndices(rng, data.train.length, s.batch), data.numEntities),
      loss: (b) => model.loss(b),
      learningRate: () => s.lr,
      evaluate() {
        let wrong = 0;
        let lossSum = 0;
        for (const b of validBatches) {
          const [pred, l] = tf.tidy(() => {
            const logits = model.logits(b);
            const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(b.answer, 'int32'), b.numEntities), logits);
            return [logits.argMax(1).dataSync(), loss.dataSync()[0]] as const;
          });
          pred.forEach((p, i) => {
            if (p !== b.answer[i]) wrong++;
          });
          lossSum += l * b.batch;
        }
        return { valLoss: lossSum / valid.length, error: (100 * wrong) / valid.length };
      },
      dispose: () => store.dispose(),
    };
  },
};
