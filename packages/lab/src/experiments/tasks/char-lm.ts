// Task char-lm: normalised GRU character LM on Moby Dick, validation bits per character, and the Table 5 analogue
// (per-position statistics of the recurrent pre-activations). Paper: the GRU/RNNSearch experiments (§6.1, Table 5).
import { evalCharBatches, loadCharCorpus, sampleCharBatch, type CharCorpus } from '../data/char-lm.js';
import { CharGruLm } from '../models/char-lm.js';
import { ParamStore } from '../models/params.js';
import type { Rng } from 'rmsnorm/internal';
import { charLmMetrics, normConfig } from './common.js';
import type { BaseSettings, PresetName, RunSpec, TaskDef, TaskRun } from './task.js';

export interface CharLmSettings extends BaseSettings {
  emb: number;
  hidden: number;
  seqLen: number;
  evalBatches: number;
}

let corpus: CharCorpus | null = null;

const SETTINGS: Record<PresetName, CharLmSettings> = {
  tiny: { steps: 3, batch: 4, evalEvery: 2, lr: 3e-3, clipNorm: 1, lossThreshold: 3.5, emb: 8, hidden: 8, seqLen: 6, evalBatches: 1 },
  quick: { steps: 100, batch: 16, evalEvery: 25, lr: 3e-3, clipNorm: 1, lossThreshold: 2.6, emb: 32, hidden: 64, seqLen: 32, evalBatches: 8 },
  standard: { steps: 300, batch: 16, evalEvery: 50, lr: 3e-3, clipNorm: 1, lossThreshold: 2.6, emb: 32, hidden: 64, seqLen: 32, evalBatches: 16 },
  full: { steps: 600, batch: 16, evalEvery: 100, lr: 3e-3, clipNorm: 1, lossThreshold: 2.2, emb: 48, hidden: 96, seqLen: 48, evalBatches: 24 },
};

export const charLm: TaskDef = {
  name: 'char-lm',
  title: 'Character LM with a normalised GRU (Moby Dick)',
  metricKey: 'bpc',
  metricName: 'validation bits/char',
  higherIsBetter: false,
  // No 'layer-stock' here: tfjs's stock LayerNorm tiles its statistics, and the Tile gradient launches one slice per
  // column — for 4 norms per GRU step that multiplies the step time many times over (see the transformer task).
  variants: () => ['none', 'layer', 'rms', 'prms', 'l2'],
  settings: (preset) => ({ ...SETTINGS[preset] }),
  // Measured ≈ 0.14 s per step at quick size (T 32, B 16, H 64) with two workers on 2 busy cores.
  costEstimate: (s) => {
    const c = s as CharLmSettings;
    return c.steps * 0.14 * (c.seqLen / 32) * Math.max(1, (c.batch * c.hidden) / 1024) + 2;
  },
  notes: [
    'Miniature of the paper\'s GRU experiments: norms on W x + b (gates, candidate), U h and Uₓ h, separate gains (layers.py placement).',
    'Table 5 analogue: statistics of the normalised U h over the first validation batch; position i uses h_i, the state after i characters (h_0 = 0 is skipped).',
  ],
  create(spec: RunSpec): TaskRun<Int32Array> {
    const s = spec.settings as CharLmSettings;
    corpus ??= loadCharCorpus();
    const c = corpus;
    const store = new ParamStore(spec.seed, { initMean: s.initMean });
    const model = new CharGruLm(store, { vocab: c.vocab.size, emb: s.emb, hidden: s.hidden }, normConfig(spec));
    const evalSet = evalCharBatches(c.valid, s.batch, s.seqLen, s.evalBatches);
    return {
      params: store.vars,
      nextBatch: (rng: Rng) => sampleCharBatch(c.train, s.batch, s.seqLen, rng),
      loss: (ids) => model.loss(ids, s.batch),
      learningRate: () => s.lr,
      evaluate: () => charLmMetrics(evalSet, (ids) => model.loss(ids, s.batch)),
      extra: () => ({ recurrentStats: model.recurrentStats(evalSet[0], s.batch) }),
      dispose: () => store.dispose(),
    };
  },
};
