// Small post-norm Transformer decoder (causal LM): x = N(x + SelfAttn(x)); x = N(x + FFN(x)), as in the paper's
// Transformer-base runs (post-norm, Table 4), where the un-normalised baseline fails to train.
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, dense, embed } from './layers.js';
import { Norm, type NormConfig } from './norm.js';
import type { ParamStore } from './params.js';

export interface TransformerSize {
  vocab: number;
  dModel: number;
  heads: number;
  ffn: number;
  layers: number;
  maxLen: number;
}

interface Block {
  wq: tf.Variable;
  wk: tf.Variable;
  wv: tf.Variable;
  wo: tf.Variable;
  w1: tf.Variable;
  b1: tf.Variable;
  w2: tf.Variable;
  b2: tf.Variable;
  n1: Norm;
  n2: Norm;
}

/** Sinusoidal position encodings [maxLen, d]. */
function positions(maxLen: number, d: number): tf.Tensor2D {
  const pe = new Float32Array(maxLen * d);
  for (let pos = 0; pos < maxLen; pos++) {
    for (let i = 0; i < d; i += 2) {
      const angle = pos / 10000 ** (i / d);
      pe[pos * d + i] = Math.sin(angle);
      if (i + 1 < d) pe[pos * d + i + 1] = Math.cos(angle);
    }
  }
  return tf.tensor2d(pe, [maxLen, d]);
}

/**
 * Post-norm causal Transformer LM; ids [B, T+1] → mean cross-entropy of the T next-token predictions.
 * @example const m = new PostNormTransformer(store, { vocab: 83, dModel: 64, heads: 4, ffn: 256, layers: 2, maxLen: 64 }, { variant: 'rms' });
 */
export class PostNormTransformer {
  private readonly emb: tf.Variable;
  private readonly blocks: Block[] = [];
  private readonly wout: tf.Variable;
  private readonly bout: tf.Variable;
  private readonly pe: tf.Tensor2D;

  constructor(store: ParamStore, readonly size: TransformerSize, norm: NormConfig) {
    const d = size.dModel;
    this.emb = store.normal('emb', [size.vocab, d], d ** -0.5);
    for (let l = 0; l < size.layers; l++) {
      const n = `layer${l}`;
      this.blocks.push({
        wq: store.glorot(`${n}/wq`, [d, d]),
        wk: store.glorot(`${n}/wk`, [d, d]),
        wv: store.glorot(`${n}/wv`, [d, d]),
        wo: store.glorot(`${n}/wo`, [d, d]),
        w1: store.glorot(`${n}/w1`, [d, size.ffn]),
        b1: store.constant(`${n}/b1`, [size.ffn], 0),
        w2: store.glorot(`${n}/w2`, [size.ffn, d]),
        b2: store.constant(`${n}/b2`, [d], 0),
        n1: new Norm(store, `${n}/norm_attn`, d, norm),
        n2: new Norm(store, `${n}/norm_ffn`, d, norm),
      });
    }
    this.wout = store.glorot('out/W', [d, size.vocab]);
    this.bout = store.constant('out/b', [size.vocab], 0);
    this.pe = tf.keep(positions(size.maxLen, d));
  }

  private attention(x: tf.Tensor3D, blk: Block, mask: tf.Tensor): tf.Tensor3D {
    const [b, t, d] = x.shape;
    const h = this.size.heads;
    const dh = d / h;
    const split = (w: tf.Variable) => dense(x, w as tf.Tensor2D).reshape([b, t, h, dh]).transpose([0, 2, 1, 3]);
    const q = split(blk.wq);
    const k = split(blk.wk);
    const v = split(blk.wv);
    const scores = tf.matMul(q, k, false, true).mul(dh ** -0.5).add(mask);
    const ctx = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([b, t, d]);
    return dense(ctx, blk.wo as tf.Tensor2D) as tf.Tensor3D;
  }

  loss(ids: Int32Array, batch: number): tf.Scalar {
    const width = ids.length / batch;
    const t = width - 1;
    const d = this.size.dModel;
    const all = tf.tensor2d(ids, [batch, width], 'int32');
    const xIds = all.slice([0, 0], [batch, t]);
    const y = all.slice([0, 1], [batch, t]);
    // Causal mask: −1e9 above the diagonal.
    const causal = tf.linalg.bandPart(tf.ones([t, t]), -1, 0);
    const mask = tf.scalar(1).sub(causal).mul(-1e9).reshape([1, 1, t, t]);
    let x = embed(this.emb as tf.Tensor2D, xIds).mul(Math.sqrt(d)).add(this.pe.slice([0, 0], [t, d])) as tf.Tensor3D;
    for (const blk of this.blocks) {
      x = blk.n1.apply(x.add(this.attention(x, blk, mask))) as tf.Tensor3D;
      const ff = dense(tf.relu(dense(x, blk.w1 as tf.Tensor2D, blk.b1 as tf.Tensor1D)), blk.w2 as tf.Tensor2D, blk.b2 as tf.Tensor1D);
      x = blk.n2.apply(x.add(ff)) as tf.Tensor3D;
    }
    const logits = dense(x, this.wout as tf.Tensor2D, this.bout as tf.Tensor1D).reshape([batch * t, this.size.vocab]) as tf.Tensor2D;
    return crossEntropy(logits, y.reshape([-1]) as tf.Tensor1D);
  }

  dispose(): void {
    this.pe.dispose();
  }
}
