// Bidirectional normalised-LSTM reader for cloze questions (a miniature of the paper's attentive reader, A.2, in the
// bilinear-attention form of Chen et al. 2016): passage and query BiLSTMs, attention of the query over the passage,
// scores over the anonymised entity slots restricted to the question's candidates.
import * as tf from '@tensorflow/tfjs';
import { embed } from './layers.js';
import { NormLstm } from './lstm.js';
import type { NormConfig } from './norm.js';
import type { ParamStore } from './params.js';
import type { ClozeBatch } from '../data/cloze.js';

export interface ReaderSize {
  vocab: number;
  emb: number;
  hidden: number;
  entities: number;
}

/** The padded batch the reader reads (data/cloze.ts's ClozeBatch). */
export type ReaderBatch = ClozeBatch;

/**
 * p = BiLSTM(E passage) [B, P, 2H], q = [→last; ←first] of BiLSTM(E query) [B, 2H];
 * α = softmax_t(p_t W_a q), o = Σ α_t p_t, logits = o W_e masked to candidates.
 * @example const r = new Reader(store, { vocab: 5000, emb: 32, hidden: 48, entities: 8 }, { variant: 'rms' });
 */
export class Reader {
  private readonly emb: tf.Variable;
  private readonly pf: NormLstm;
  private readonly pb: NormLstm;
  private readonly qf: NormLstm;
  private readonly qb: NormLstm;
  private readonly wa: tf.Variable;
  private readonly we: tf.Variable;

  constructor(store: ParamStore, readonly size: ReaderSize, norm: NormConfig) {
    const { emb, hidden: h } = size;
    this.emb = store.normal('emb', [size.vocab, emb], 0.1);
    this.pf = new NormLstm(store, 'passage/fwd', emb, h, norm);
    this.pb = new NormLstm(store, 'passage/bwd', emb, h, norm);
    this.qf = new NormLstm(store, 'query/fwd', emb, h, norm);
    this.qb = new NormLstm(store, 'query/bwd', emb, h, norm);
    this.wa = store.glorot('att/W', [2 * h, 2 * h]);
    this.we = store.glorot('out/W', [2 * h, size.entities]);
  }

  logits(b: ReaderBatch): tf.Tensor2D {
    const h = this.size.hidden;
    const pm = tf.tensor2d(b.passageMask, [b.batch, b.passageLen]);
    const qm = tf.tensor2d(b.queryMask, [b.batch, b.queryLen]);
    const pe = embed(this.emb as tf.Tensor2D, tf.tensor2d(b.passage, [b.batch, b.passageLen], 'int32')) as tf.Tensor3D;
    const qe = embed(this.emb as tf.Tensor2D, tf.tensor2d(b.query, [b.batch, b.queryLen], 'int32')) as tf.Tensor3D;
    const p = tf.concat([this.pf.run(pe, pm), this.pb.run(pe, pm, true)], 2); // [B, P, 2H]
    // Masked runs hold the state over padding, so the last forward state is the final real token's.
    const qfLast = this.qf.run(qe, qm).slice([0, b.queryLen - 1, 0], [b.batch, 1, h]).squeeze([1]);
    const qbFirst = this.qb.run(qe, qm, true).slice([0, 0, 0], [b.batch, 1, h]).squeeze([1]);
    const q = tf.concat([qfLast, qbFirst], 1); // [B, 2H]
    const scores = tf.matMul(p, q.matMul(this.wa).expandDims(2)).squeeze([2]).add(tf.scalar(1).sub(pm).mul(-1e9));
    const o = tf.matMul(tf.softmax(scores).expandDims(1), p).squeeze([1]); // [B, 2H]
    const cand = tf.tensor2d(b.candidateMask, [b.batch, b.numEntities]);
    return o.matMul(this.we).add(tf.scalar(1).sub(cand).mul(-1e9)) as tf.Tensor2D;
  }

  loss(b: ReaderBatch): tf.Scalar {
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(b.answer, 'int32'), b.numEntities), this.logits(b)) as tf.Scalar;
  }
}
