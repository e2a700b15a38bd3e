// Normalised LSTM (paper §1 placement: norms on the input projection x W + b, on h U and on the cell c before tanh)
// built on the plug-in's step functions (packages/rmsnorm/src/tfjs/cells.ts); our Norm objects plug in through `normFn`.
import * as tf from '@tensorflow/tfjs';
import { cellNormSettings, lstmProjectInputs, lstmStepProjected, type CellNormSettings, type LstmWeights } from 'rmsnorm/tfjs';
import { Norm, type NormConfig } from './norm.js';
import type { ParamStore } from './params.js';

/**
 * pre = N₂(h U) + N₁(x W + b) + b; i, f, o = σ(·); c' = f ⊙ c + i ⊙ tanh(c̃); h' = o ⊙ tanh(N₃(c')).
 * x [B, T, in] → states [B, T, H]; `mask` [B, T] holds the state over padding.
 * @example const lstm = new NormLstm(store, 'enc', 32, 64, { variant: 'rms' }); const hs = lstm.run(x, mask);
 */
export class NormLstm {
  private readonly weights: LstmWeights;
  private readonly cell: CellNormSettings;

  constructor(store: ParamStore, name: string, inDim: number, readonly hidden: number, norm: NormConfig) {
    const h = hidden;
    this.weights = {
      kernel: store.glorot(`${name}/W`, [inDim, 4 * h]),
      recurrentKernel: store.glorot(`${name}/U`, [h, 4 * h]),
      bias: store.constant(`${name}/b`, [4 * h], 0),
      gammas: null,
      betas: null,
    };
    const norms = [new Norm(store, `${name}/norm_x`, 4 * h, norm), new Norm(store, `${name}/norm_h`, 4 * h, norm), new Norm(store, `${name}/norm_c`, h, norm)];
    this.cell = cellNormSettings({ norm: 'none', normFn: (x, i) => norms[i].apply(x) });
  }

  run(x: tf.Tensor3D, mask: tf.Tensor2D, reverse = false): tf.Tensor3D {
    const [b, t] = x.shape;
    const xin = tf.unstack(lstmProjectInputs(this.weights, this.cell, x), 1) as tf.Tensor2D[];
    const masks = tf.unstack(mask, 1).map((m) => m.reshape([b, 1]));
    let h = tf.zeros([b, this.hidden]) as tf.Tensor2D;
    let c = tf.zeros([b, this.hidden]) as tf.Tensor2D;
    const out: tf.Tensor2D[] = new Array(t);
    for (let i = 0; i < t; i++) {
      const j = reverse ? t - 1 - i : i;
      const [h1, c1] = lstmStepProjected(this.weights, this.cell, xin[j], h, c);
      const m = masks[j];
      const keep = tf.scalar(1).sub(m);
      h = h1.mul(m).add(h.mul(keep)) as tf.Tensor2D;
      c = c1.mul(m).add(c.mul(keep)) as tf.Tensor2D;
      out[j] = h;
    }
    return tf.stack(out, 1) as tf.Tensor3D;
  }
}
