// Character language model: embedding → normalised GRU (4 norms per step, paper §1) → softmax over characters.
import * as tf from '@tensorflow/tfjs';
import { NormGru } from './gru.js';
import { crossEntropy, dense, embed } from './layers.js';
import type { NormConfig } from './norm.js';
import type { ParamStore } from './params.js';
import { PositionStatsAccumulator, type PositionStats } from './position-stats.js';

export interface CharLmSize {
  vocab: number;
  emb: number;
  hidden: number;
}

/**
 * logits_t = W_o h_t + b_o with h_t = GRU(E[x_t], h_{t−1}); ids [B, T+1] → loss over T predictions.
 * @example const lm = new CharGruLm(store, { vocab: 83, emb: 32, hidden: 64 }, { variant: 'rms' });
 */
export class CharGruLm {
  private readonly emb: tf.Variable;
  private readonly gru: NormGru;
  private readonly wo: tf.Variable;
  private readonly bo: tf.Variable;

  constructor(store: ParamStore, readonly size: CharLmSize, norm: NormConfig) {
    this.emb = store.normal('emb', [size.vocab, size.emb], 0.1);
    this.gru = new NormGru(store, 'gru', size.emb, size.hidden, norm);
    this.wo = store.glorot('out/W', [size.hidden, size.vocab]);
    this.bo = store.constant('out/b', [size.vocab], 0);
  }

  /** Mean cross-entropy (nats per character) of windows ids [B, T+1] (row-major Int32Array). */
  loss(ids: Int32Array, batch: number, onUh?: (t: number, uh: tf.Tensor2D) => void): tf.Scalar {
    const width = ids.length / batch;
    const t = width - 1;
    const all = tf.tensor2d(ids, [batch, width], 'int32');
    const x = all.slice([0, 0], [batch, t]);
    const y = all.slice([0, 1], [batch, t]);
    const states = this.gru.run(embed(this.emb as tf.Tensor2D, x) as tf.Tensor3D, undefined, undefined, onUh);
    const logits = dense(states, this.wo as tf.Tensor2D, this.bo as tf.Tensor1D).reshape([batch * t, this.size.vocab]) as tf.Tensor2D;
    return crossEntropy(logits, y.reshape([-1]) as tf.Tensor1D);
  }

  /** Table 5 analogue: statistics of N(U h_i) for positions i = 1..4 (h_i = state after i characters) and all i ≥ 1. */
  recurrentStats(ids: Int32Array, batch: number): PositionStats {
    const acc = new PositionStatsAccumulator();
    tf.tidy(() => {
      // i = 0 is skipped: h_0 = 0, so U h_0 is identically 0 (or the norm's bias).
      this.loss(ids, batch, (t, uh) => {
        if (t > 0) acc.add(t, uh.dataSync(), batch);
      });
    });
    return acc.result();
  }
}
