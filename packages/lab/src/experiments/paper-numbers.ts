// The paper's published numbers (§4 and Appendix A of arXiv:1910.07467, read from the full text) as typed data, mapped onto our
// miniature tasks, and the list of claims that the claim evaluator gives verdicts for.

import type { PaperReference, Variant } from './types.js';

/** Task ids used by the reproduction (the runner's `task` field) that have a paper counterpart. */
export type PaperTask = 'char-lm' | 'translation' | 'transformer' | 'cnn' | 'cloze';

type Row = PaperReference['rows'][number];
const row = (variant: Variant, metric: number | null, time: string | null, speedup: number | null = null): Row => ({
  variant,
  metric,
  time,
  speedup,
});

/** Table 2: TF Nematus RNNSearch, WMT14 En→De. Time = s per 1k steps on a TITAN X (Pascal). Test17 in `test17`. */
export const TABLE2: PaperReference & { test17: Partial<Record<Variant, number>> } = {
  source: 'Table 2 (RNNSearch, TF Nematus, WMT14 En→De)',
  metricName: 'BLEU Test14',
  timeUnit: 's per 1k steps (TITAN X)',
  rows: [
    row('none', 21.7, '399±3.40s'),
    row('layer', 22.6, '665±32.5s'),
    row('l2', 20.7, '482±19.7s'),
    row('rms', 22.4, '501±11.8s', 0.247),
    row('prms', 22.6, '493±10.7s', 0.259),
  ],
  test17: { none: 23.4, layer: 23.6, l2: 22.0, rms: 23.7, prms: 23.1 },
};

/** Table 3: Theano Nematus (Th) and in-house PyTorch (Py) RNNSearch; time presumably s per 1k steps. */
export const TABLE3: Record<'theano' | 'pytorch', PaperReference> = {
  theano: {
    source: 'Table 3 (RNNSearch, Theano Nematus)',
    metricName: 'BLEU Test14',
    timeUnit: 's per 1k steps (unit not stated; presumably as Table 2)',
    rows: [
      row('none', 21.8, '596±20.8s'),
      row('layer', 22.3, '988±1.10s'),
      row('rms', 22.5, '652±24.1s', 0.34),
      row('prms', 22.7, '658±17.9s', 0.334),
    ],
  },
  pytorch: {
    source: 'Table 3 (RNNSearch, in-house PyTorch)',
    metricName: 'BLEU Test14',
    timeUnit: 's per 1k steps (unit not stated; presumably as Table 2)',
    rows: [
      row('none', 22.7, '427±6.50s'),
      row('layer', 23.2, '857±17.2s'),
      row('rms', 22.9, '763±16.2s', 0.11),
      row('prms', 23.2, '754±36.1s', 0.12),
    ],
  },
};

/** Table 4: Transformer-base (zero toolkit), WMT14 En→De, s per 1k steps on a Tesla V100. Baseline failed. */
export const TABLE4: PaperReference = {
  source: 'Table 4 (Transformer-base, WMT14 En→De)',
  metricName: 'BLEU Test14',
  timeUnit: 's per 1k steps (Tesla V100)',
  note: 'Baseline (no normalisation) failed to train: BLEU 0, shown as –.',
  rows: [
    row('none', null, '210±0.23s'),
    row('layer', 26.6, '248±1.31s'),
    row('rms', 26.8, '231±0.04s', 0.069),
    row('prms', 26.5, '225±1.63s', 0.093),
  ],
};

/** Table 5: mean (M) and std (S) of the decoder GRU's hidden-to-hidden pre-activations by token position. */
export const TABLE5: {
  source: string;
  positions: Array<1 | 2 | 3 | 4 | 'ALL'>;
  rows: Array<{ variant: Variant; stat: 'mean' | 'std'; values: number[] }>;
} = {
  source: 'Table 5 (RNNSearch decoder GRU, newstest2013)',
  positions: [1, 2, 3, 4, 'ALL'],
  rows: [
    { variant: 'none', stat: 'mean', values: [-2.6, -1.19, -1.43, -1.53, -1.6] },
    { variant: 'none', stat: 'std', values: [7.35, 2.33, 2.61, 2.73, 3.04] },
    { variant: 'layer', stat: 'mean', values: [-0.43, -0.48, -0.5, -0.5, -0.51] },
    { variant: 'layer', stat: 'std', values: [1.19, 1.51, 1.51, 1.51, 1.51] },
    { variant: 'rms', stat: 'mean', values: [-0.4, -0.6, -0.69, -0.74, -0.73] },
    { variant: 'rms', stat: 'std', values: [1.27, 1.51, 1.5, 1.49, 1.5] },
  ],
};

/** Table 6: attentive reader on CNN, s per 0.1k steps (no error numbers: Fig. 5 is a curve only). */
export const TABLE6: PaperReference = {
  source: 'Table 6 (attentive reader, CNN corpus)',
  metricName: 'validation error (curve only in the paper)',
  timeUnit: 's per 0.1k steps',
  note: 'The paper gives no final error numbers (Fig. 5 is a curve); BatchNorm times use cuDNN and are not comparable.',
  rows: [row('none', null, '315±6.30s'), row('layer', null, '392±5.70s'), row('rms', null, '333±5.20s', 0.151), row('prms', null, '330±5.50s', 0.158)],
  otherRows: [
    { label: 'BatchNorm-Everywhere', metric: null, time: '348±10.5s', speedup: null },
    { label: 'BatchNorm-LSTM', metric: null, time: '345±11.2s', speedup: null },
  ],
};

/** Table 8: order-embedding image–caption retrieval, s per 0.1k steps. */
export const TABLE8: PaperReference = {
  source: 'Table 8 (order embedding, MS-COCO)',
  metricName: 'time only',
  timeUnit: 's per 0.1k steps',
  rows: [row('none', null, '2.11±0.047s'), row('layer', null, '12.02±0.191s'), row('rms', null, '7.12±0.207s', 0.408), row('prms', null, '4.34±0.168s', 0.639)],
};

/** Table 10: ConvPool-CNN-C on CIFAR-10; test error %, s per epoch on an RTX 2080 Ti; p = 12.5%. */
export const TABLE10: PaperReference = {
  source: 'Table 10 (ConvPool-CNN-C, CIFAR-10)',
  metricName: 'test error %',
  timeUnit: 's per epoch (RTX 2080 Ti)',
  note: 'CIFAR-10 pRMSNorm uses p = 12.5%.',
  rows: [row('none', 8.96, '21±0.0s'), row('layer', 10.49, '39±0.4s'), row('rms', 8.83, '31±0.5s', 0.205), row('prms', 10.37, '30±0.4s', 0.231)],
  otherRows: [
    { label: 'BatchNorm', metric: 8.25, time: '38±0.0s', speedup: null },
    { label: 'WeightNorm', metric: 8.28, time: '23±0.0s', speedup: null },
  ],
};

/**
 * The paper counterpart shown beside each of our miniature tasks. The metric columns are only comparable in
 * direction (who wins), never in value: our tasks are far smaller and use other data.
 * @example
 * paperReferenceFor('translation')?.rows.find((r) => r.variant === 'rms')?.metric; // 22.4
 */
export const PAPER_REFERENCES: Record<PaperTask, PaperReference> = {
  'char-lm': {
    ...TABLE2,
    source: 'Table 2 (GRU RNNSearch, TF Nematus) — times only; Table 5 for activation statistics',
    metricName: 'BLEU Test14 (not comparable with bits per character)',
    note: 'Our GRU char-LM stands in for the GRU RNNSearch: compare step-time ratios and the speed-up column, not the metric.',
  },
  translation: { ...TABLE2, note: 'Our miniature: KJV→Reina-Valera 1909 verses, small GRU encoder–decoder with attention; BLEU is lower-cased, on ≤16-token verses.' },
  transformer: TABLE4,
  cnn: { ...TABLE10, note: 'Our miniature: small CNN on a 6k-image Fashion-MNIST subset (no CIFAR-10 offline); metric = test error %.' },
  cloze: { ...TABLE6, note: 'Our miniature: cloze questions generated from the KJV; the paper has times only (Table 6).' },
};

export function paperReferenceFor(task: string): PaperReference | null {
  return (PAPER_REFERENCES as Record<string, PaperReference>)[task] ?? null;
}

/** The headline range of the abstract: 7%–64% speed-up over LayerNorm (6.9% Transformer RMSNorm … 63.9% OE pRMSNorm). */
export const HEADLINE_SPEEDUP = { min: 0.069, max: 0.639 } as const;

/** The paper's claims the reproduction re-tests; the claim evaluator turns each into a ClaimResult. */
export const PAPER_CLAIMS: ReadonlyArray<{ id: string; claim: string }> = [
  { id: '6.1', claim: 'Forward and backward passes of RMSNorm (eps inside/outside), pRMSNorm (both k rules), LayerNorm and L2-Norm match float64 finite differences (max error ≈ 1e-8).' },
  { id: '6.2', claim: 'Invariance table (paper Table 1): RMSNorm and pRMSNorm are invariant to input and weight-matrix re-scaling but not to re-centering; LayerNorm is also re-centering invariant.' },
  { id: '6.3', claim: 'Gradient claims: dL/dg and dL/db are invariant to input and weight scaling; dL/dW is invariant to input scaling and scales as 1/δ under W → δW; dL/dx scales as 1/δ.' },
  { id: '6.4', claim: 'Kernel speed: RMSNorm forward+backward is faster than LayerNorm; pRMSNorm (p = 6.25%, no copies) is no slower than RMSNorm.' },
  { id: '6.5a', claim: 'Small-model quality parity: RMSNorm ≈ LayerNorm in final loss/metric.' },
  { id: '6.5b', claim: 'LayerNorm and RMSNorm reach the loss threshold in fewer steps than the baseline (paper: ≈ 50% fewer).' },
  { id: '6.5c', claim: 'L2-Norm is no better than the baseline.' },
  { id: '6.5d', claim: 'pRMSNorm (p = 6.25%) is close to RMSNorm in quality.' },
  { id: '6.5e', claim: 'Step time: LayerNorm > RMSNorm > Baseline.' },
  { id: '6.6', claim: 'p-sensitivity: the final metric is roughly flat for p ∈ {6.25, 12.5, 25, 50, 100}% (Fig. 3).' },
  { id: '6.7', claim: 'Robustness to shifted init (weights with mean 0.2): LayerNorm is less stable than RMSNorm (Fig. 4).' },
  { id: '6.8', claim: 'Activation statistics (Table 5): with RMSNorm and LayerNorm the std of the hidden-to-hidden pre-activations is stable across positions; RMSNorm’s mean is more stable than the baseline’s.' },
  { id: '6.9a', claim: 'Tiny post-norm Transformer with warm-up: without normalisation training fails or diverges.' },
  { id: '6.9b', claim: 'Tiny Transformer: RMSNorm matches LayerNorm in quality with faster steps (paper: 7–9%).' },
];
