// Small conv net for Fashion-MNIST with per-sample, per-channel normalisation over the spatial axes H×W and a gain/bias
// per channel (the paper's CIFAR-10 set-up, A.4): conv → norm → relu → pool, twice, then a linear classifier.
import * as tf from '@tensorflow/tfjs';
import type { Variant } from '../types.js';
import { normOps } from './norm-ops.js';
import type { NormConfig } from './norm.js';
import type { ParamStore } from './params.js';

/** Normalises x [B, H, W, C] over H, W for each sample and channel, then y = g_c · x̂ + b_c. */
class SpatialNorm {
  private readonly gamma: tf.Variable | null = null;
  private readonly beta: tf.Variable | null = null;

  constructor(store: ParamStore, name: string, channels: number, private readonly cfg: NormConfig) {
    if (cfg.variant === 'none') return;
    this.gamma = store.constant(`${name}/gamma`, [channels], 1);
    this.beta = store.constant(`${name}/beta`, [channels], 0);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const v: Variant = this.cfg.variant;
    if (v === 'none') return x;
    // Statistics over H, W (axes 1, 2) per sample and channel, gain and bias on the channel axis (3): the
    // channels-last kernel of rmsnorm/tfjs, no transposes and no separate broadcast ops.
    const o = { axis: [1, 2], channelAxis: 3, eps: this.cfg.eps ?? 1e-6 };
    if (v === 'layer' || v === 'layer-stock') return normOps.layerNorm(x, this.gamma, this.beta, o) as tf.Tensor4D;
    if (v === 'rms') return normOps.rmsNorm(x, this.gamma, { ...o, beta: this.beta }) as tf.Tensor4D;
    if (v === 'prms') return normOps.rmsNorm(x, this.gamma, { ...o, beta: this.beta, p: this.cfg.p }) as tf.Tensor4D;
    return normOps.l2Norm(x, this.gamma, { ...o, beta: this.beta }) as tf.Tensor4D;
  }
}

export interface CnnSize {
  height: number;
  width: number;
  channels: number;
  c1: number;
  c2: number;
  classes: number;
}

/**
 * conv3×3(c1) → N → relu → maxpool2 → conv3×3(c2) → N → relu → maxpool2 → dense(classes).
 * @example const net = new SmallCnn(store, { height: 28, width: 28, channels: 1, c1: 8, c2: 16, classes: 10 }, { variant: 'rms' });
 */
export class SmallCnn {
  private readonly k1: tf.Variable;
  private readonly b1: tf.Variable;
  private readonly k2: tf.Variable;
  private readonly b2: tf.Variable;
  private readonly wd: tf.Variable;
  private readonly bd: tf.Variable;
  private readonly n1: SpatialNorm;
  private readonly n2: SpatialNorm;

  constructor(store: ParamStore, readonly size: CnnSize, norm: NormConfig) {
    this.k1 = store.glorot('conv1/k', [3, 3, size.channels, size.c1]);
    this.b1 = store.constant('conv1/b', [size.c1], 0);
    this.k2 = store.glorot('conv2/k', [3, 3, size.c1, size.c2]);
    this.b2 = store.constant('conv2/b', [size.c2], 0);
    const flat = Math.floor(size.height / 4) * Math.floor(size.width / 4) * size.c2;
    this.wd = store.glorot('dense/W', [flat, size.classes]);
    this.bd = store.constant('dense/b', [size.classes], 0);
    this.n1 = new SpatialNorm(store, 'norm1', size.c1, norm);
    this.n2 = new SpatialNorm(store, 'norm2', size.c2, norm);
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    let h = tf.conv2d(x, this.k1 as tf.Tensor4D, 1, 'same').add(this.b1) as tf.Tensor4D;
    h = tf.maxPool(tf.relu(this.n1.apply(h)), 2, 2, 'valid');
    h = tf.conv2d(h, this.k2 as tf.Tensor4D, 1, 'same').add(this.b2) as tf.Tensor4D;
    h = tf.maxPool(tf.relu(this.n2.apply(h)), 2, 2, 'valid');
    return h.reshape([x.shape[0], -1]).matMul(this.wd).add(this.bd) as tf.Tensor2D;
  }
}
