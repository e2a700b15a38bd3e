// One normalisation site inside a model: picks the variant (none / LN / stock LN / RMSNorm / pRMSNorm / L2-Norm),
// owns its gain (and bias where the variant has one), and normalises the last axis of its input.
import * as tf from '@tensorflow/tfjs';
import type { Variant } from '../types.js';
import type { ParamStore } from './params.js';
import { normOps } from './norm-ops.js';

export interface NormConfig {
  variant: Variant;
  /** pRMSNorm fraction (variant 'prms'); default 0.0625 (paper §5). */
  p?: number;
  eps?: number;
}

/** Does this variant normalise at all? */
export function isNormalised(variant: Variant): boolean {
  return variant !== 'none';
}

/**
 * A normalisation site over the last axis (size `dim`): y = g ⊙ norm(x) (+ b).
 * LayerNorm variants always carry a bias (paper: LN has b1..b4); RMS/pRMS/L2 carry one only when `bias` is true
 * (CNN, paper A.4), as in the official code where RMSNorm has no re-centring bias.
 * @example const n = new Norm(store, 'gru/uh', 128, { variant: 'rms' }); const y = n.apply(x); // x [..., 128]
 */
export class Norm {
  readonly gamma: tf.Variable | null = null;
  readonly beta: tf.Variable | null = null;
  private stock: tf.layers.Layer | null = null;
  private readonly variant: Variant;
  private readonly p: number;
  private readonly eps: number;

  constructor(store: ParamStore, name: string, readonly dim: number, cfg: NormConfig, bias = false) {
    this.variant = cfg.variant;
    this.p = cfg.p ?? 0.0625;
    this.eps = cfg.eps ?? 1e-6;
    if (this.variant === 'none') return;
    if (this.variant === 'layer-stock') {
      // tfjs's own layer; its gamma/beta are tf.Variables we hand to the optimizer like ours.
      this.stock = tf.layers.layerNormalization({ axis: -1, epsilon: this.eps, name: `${name.replace(/\W/g, '_')}_${store.seed}_${Math.random().toString(36).slice(2, 8)}` });
      this.stock.build([null, dim]);
      for (const w of this.stock.trainableWeights) store.adopt(`${name}/${w.name.split('/').pop()}`, w.read() as tf.Variable);
      return;
    }
    this.gamma = store.constant(`${name}/gamma`, [dim], 1);
    if (this.variant === 'layer' || bias) this.beta = store.constant(`${name}/beta`, [dim], 0);
  }

  /** Normalises the last axis of x (any rank); identity for 'none'. */
  apply(x: tf.Tensor): tf.Tensor {
    switch (this.variant) {
      case 'none':
        return x;
      case 'layer-stock': {
        const shape = x.shape;
        const y = this.stock!.apply(x.reshape([-1, this.dim])) as tf.Tensor;
        return y.reshape(shape);
      }
      case 'layer':
        return normOps.layerNorm(x, this.gamma!, this.beta!, { eps: this.eps });
      case 'rms':
        return normOps.rmsNorm(x, this.gamma!, { eps: this.eps, beta: this.beta ?? undefined });
      case 'prms':
        return normOps.rmsNorm(x, this.gamma!, { eps: this.eps, p: this.p, beta: this.beta ?? undefined });
      case 'l2':
        return normOps.l2Norm(x, this.gamma!, { eps: this.eps, beta: this.beta ?? undefined });
    }
  }
}
