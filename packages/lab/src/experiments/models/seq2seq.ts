// RNNSearch miniature: bidirectional normalised-GRU encoder, normalised-GRU decoder initialised from the mean
// encoder state, attention over encoder states and a normalised attentional output layer (Luong form, so the decoder
// runs over all target positions at once in training; input feeding is left out for the CPU budget).
import * as tf from '@tensorflow/tfjs';
import { NormGru } from './gru.js';
import { crossEntropy, dense, embed } from './layers.js';
import { Norm, type NormConfig } from './norm.js';
import type { ParamStore } from './params.js';
import type { TranslationBatch } from '../data/translation.js';

export interface Seq2SeqSize {
  srcVocab: number;
  tgtVocab: number;
  emb: number;
  hidden: number;
}

/** The padded batch the model reads (data/translation.ts's TranslationBatch). */
export type Seq2SeqBatch = Omit<TranslationBatch, 'indices'>;

/**
 * Encoder: ctx = [→GRU(E x); ←GRU(E x)] [B, S, 2H]; decoder: s_t = GRU(E y_{t−1}, s_{t−1}), s_0 = tanh(W_i mean(ctx));
 * c_t = Σ_j softmax_j(s_t W_a ctx_jᵀ) ctx_j; logits_t = W_o tanh(N(W_c [s_t; c_t])).
 * @example const m = new Seq2Seq(store, { srcVocab: 2000, tgtVocab: 2000, emb: 32, hidden: 64 }, { variant: 'rms' });
 */
export class Seq2Seq {
  private readonly srcEmb: tf.Variable;
  private readonly tgtEmb: tf.Variable;
  private readonly encF: NormGru;
  private readonly encB: NormGru;
  private readonly dec: NormGru;
  private readonly wi: tf.Variable;
  private readonly bi: tf.Variable;
  private readonly wa: tf.Variable;
  private readonly wc: tf.Variable;
  private readonly bc: tf.Variable;
  private readonly nOut: Norm;
  private readonly wo: tf.Variable;
  private readonly bo: tf.Variable;

  constructor(store: ParamStore, readonly size: Seq2SeqSize, norm: NormConfig) {
    const { emb, hidden: h } = size;
    this.srcEmb = store.normal('src/emb', [size.srcVocab, emb], 0.1);
    this.tgtEmb = store.normal('tgt/emb', [size.tgtVocab, emb], 0.1);
    this.encF = new NormGru(store, 'enc/fwd', emb, h, norm);
    this.encB = new NormGru(store, 'enc/bwd', emb, h, norm);
    this.dec = new NormGru(store, 'dec', emb, h, norm);
    this.wi = store.glorot('dec/init/W', [2 * h, h]);
    this.bi = store.constant('dec/init/b', [h], 0);
    this.wa = store.glorot('att/W', [h, 2 * h]);
    this.wc = store.glorot('out/Wc', [3 * h, h]);
    this.bc = store.constant('out/bc', [h], 0);
    this.nOut = new Norm(store, 'out/norm', h, norm);
    this.wo = store.glorot('out/W', [h, size.tgtVocab]);
    this.bo = store.constant('out/b', [size.tgtVocab], 0);
  }

  /** Encoder states [B, S, 2H], the mask as [B, S] and the decoder's initial state [B, H]. */
  encode(src: tf.Tensor2D, srcMask: tf.Tensor2D): { ctx: tf.Tensor3D; s0: tf.Tensor2D } {
    const x = embed(this.srcEmb as tf.Tensor2D, src) as tf.Tensor3D;
    const f = this.encF.run(x, undefined, srcMask);
    const b = this.encB.run(x, undefined, srcMask, undefined, true);
    const ctx = tf.concat([f, b], 2).mul(srcMask.expandDims(2)) as tf.Tensor3D;
    const mean = ctx.sum(1).div(srcMask.sum(1, true));
    const s0 = tf.tanh(mean.matMul(this.wi).add(this.bi)) as tf.Tensor2D;
    return { ctx, s0 };
  }

  /** Logits [B, T, V] from decoder states [B, T, H] attending over ctx [B, S, 2H]. */
  private readout(states: tf.Tensor3D, ctx: tf.Tensor3D, srcMask: tf.Tensor2D): tf.Tensor3D {
    const keys = dense(states, this.wa as tf.Tensor2D); // [B, T, 2H]
    const scores = tf.matMul(keys, ctx, false, true).add(tf.scalar(1).sub(srcMask).mul(-1e9).expandDims(1));
    const c = tf.matMul(tf.softmax(scores), ctx); // [B, T, 2H]
    const att = tf.tanh(this.nOut.apply(dense(tf.concat([states, c], 2), this.wc as tf.Tensor2D, this.bc as tf.Tensor1D)));
    return dense(att, this.wo as tf.Tensor2D, this.bo as tf.Tensor1D) as tf.Tensor3D;
  }

  /** Mean cross-entropy per target token (padding masked); `onUh` sees the decoder's N(U h) per position. */
  loss(b: Seq2SeqBatch, onUh?: (t: number, uh: tf.Tensor2D) => void): tf.Scalar {
    const src = tf.tensor2d(b.src, [b.batch, b.srcLen], 'int32');
    const srcMask = tf.tensor2d(b.srcMask, [b.batch, b.srcLen]);
    const tgtMask = tf.tensor2d(b.tgtMask, [b.batch, b.tgtLen]);
    const { ctx, s0 } = this.encode(src, srcMask);
    const y = embed(this.tgtEmb as tf.Tensor2D, tf.tensor2d(b.tgtIn, [b.batch, b.tgtLen], 'int32')) as tf.Tensor3D;
    const states = this.dec.run(y, s0, tgtMask, onUh);
    const logits = this.readout(states, ctx, srcMask).reshape([b.batch * b.tgtLen, this.size.tgtVocab]) as tf.Tensor2D;
    return crossEntropy(logits, tf.tensor1d(b.tgtOut, 'int32'), tf.tensor1d(b.tgtMask));
  }

  /** Greedy decoding: token ids per row, stopping at `eos` or after maxLen tokens (eos not included). */
  greedy(b: Seq2SeqBatch, bos: number, eos: number, maxLen: number): number[][] {
    return tf.tidy(() => {
      const src = tf.tensor2d(b.src, [b.batch, b.srcLen], 'int32');
      const srcMask = tf.tensor2d(b.srcMask, [b.batch, b.srcLen]);
      const { ctx, s0 } = this.encode(src, srcMask);
      let s = s0;
      let prev = new Int32Array(b.batch).fill(bos);
      const out: number[][] = Array.from({ length: b.batch }, () => []);
      const done = new Array<boolean>(b.batch).fill(false);
      for (let t = 0; t < maxLen && !done.every(Boolean); t++) {
        const next = tf.tidy(() => {
          const y = embed(this.tgtEmb as tf.Tensor2D, tf.tensor2d(prev, [b.batch, 1], 'int32')) as tf.Tensor3D;
          const { xg, xc } = this.dec.project(y);
          const sNext = this.dec.step(xg.squeeze([1]) as tf.Tensor2D, xc.squeeze([1]) as tf.Tensor2D, s);
          const logits = this.readout(sNext.expandDims(1) as tf.Tensor3D, ctx, srcMask);
          return { sNext, ids: logits.squeeze([1]).argMax(1).dataSync() as Int32Array };
        });
        s = next.sNext;
        prev = Int32Array.from(next.ids);
        for (let i = 0; i < b.batch; i++) {
          if (done[i]) continue;
          if (prev[i] === eos) done[i] = true;
          else out[i].push(prev[i]);
        }
      }
      return out;
    });
  }
}
