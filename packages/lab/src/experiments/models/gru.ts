// Normalised GRU (paper §1 placement, layers.py / Nematus style) built on the plug-in's step functions
// (packages/rmsnorm/src/tfjs/cells.ts): four norms per step with separate gains, on the gate input projection W x + b, the candidate
// input projection Wₓ x + bₓ, the hidden-to-hidden U h and Uₓ h. Our Norm objects plug in through `normFn`, which
// adds the experiment-only variants (tfjs's stock LayerNorm) and the Table 5 probe on N(U h).
import * as tf from '@tensorflow/tfjs';
import { cellNormSettings, gruProjectInputs, gruStepProjected, type CellNormSettings, type GruWeights } from 'rmsnorm/tfjs';
import { Norm, type NormConfig } from './norm.js';
import type { ParamStore } from './params.js';

/**
 * r, z = σ(N₁(W x + b) + N₃(U h));  h̃ = tanh(N₂(Wₓ x + bₓ) + r ⊙ N₄(Uₓ h));  h' = z ⊙ h + (1 − z) ⊙ h̃.
 * Shapes: x [B, T, inDim] → states [B, T, H]. With `variant: 'none'` every N is the identity.
 * @example const gru = new NormGru(store, 'enc', 64, 128, { variant: 'rms' }); const hs = gru.run(x);
 */
export class NormGru {
  private readonly weights: GruWeights;
  private readonly norms: Norm[];
  private probe: ((uh: tf.Tensor2D) => void) | null = null;
  private readonly cell: CellNormSettings;

  constructor(store: ParamStore, name: string, inDim: number, readonly hidden: number, norm: NormConfig) {
    const h = hidden;
    this.weights = {
      kernel: store.glorot(`${name}/W`, [inDim, 3 * h]),
      recurrentKernel: store.glorot(`${name}/U`, [h, 3 * h]),
      bias: store.constant(`${name}/b`, [3 * h], 0),
      gammas: null,
      betas: null,
    };
    // Norm order of cells.ts: 0 gate input, 1 candidate input, 2 U h, 3 Uₓ h.
    this.norms = [
      new Norm(store, `${name}/norm_xg`, 2 * h, norm),
      new Norm(store, `${name}/norm_xc`, h, norm),
      new Norm(store, `${name}/norm_uh`, 2 * h, norm),
      new Norm(store, `${name}/norm_uxh`, h, norm),
    ];
    this.cell = cellNormSettings({
      norm: 'none',
      normFn: (x, i) => {
        const y = this.norms[i].apply(x);
        if (i === 2 && this.probe) this.probe(y as tf.Tensor2D);
        return y;
      },
    });
  }

  /** Input projections for all steps at once: [B, T, inDim] → (gates [B,T,2H], candidate [B,T,H]), normalised. */
  project(x: tf.Tensor3D): { xg: tf.Tensor3D; xc: tf.Tensor3D } {
    const { gates, cand } = gruProjectInputs(this.weights, this.cell, x);
    return { xg: gates as tf.Tensor3D, xc: cand as tf.Tensor3D };
  }

  /**
   * One step from pre-projected inputs xg [B, 2H], xc [B, H]; `mask` [B, 1] keeps h where 0 (padding).
   * `onUh` receives N₃(U h) (the hidden-to-hidden pre-activation of the gates; paper Table 5).
   */
  step(xg: tf.Tensor2D, xc: tf.Tensor2D, h: tf.Tensor2D, mask?: tf.Tensor2D, onUh?: (uh: tf.Tensor2D) => void): tf.Tensor2D {
    this.probe = onUh ?? null;
    let next = gruStepProjected(this.weights, this.cell, xg, xc, h) as tf.Tensor2D;
    this.probe = null;
    if (mask) next = next.mul(mask).add(h.mul(tf.scalar(1).sub(mask))) as tf.Tensor2D;
    return next;
  }

  /** Runs over all T steps from h0 (default zeros); returns every state [B, T, H]. */
  run(x: tf.Tensor3D, h0?: tf.Tensor2D, mask?: tf.Tensor2D, onUh?: (t: number, uh: tf.Tensor2D) => void, reverse = false): tf.Tensor3D {
    const [bsz, t] = x.shape;
    const { xg, xc } = this.project(x);
    const xgs = tf.unstack(xg, 1) as tf.Tensor2D[];
    const xcs = tf.unstack(xc, 1) as tf.Tensor2D[];
    const masks = mask ? (tf.unstack(mask, 1).map((m) => m.reshape([bsz, 1])) as tf.Tensor2D[]) : undefined;
    let h = h0 ?? (tf.zeros([bsz, this.hidden]) as tf.Tensor2D);
    const out: tf.Tensor2D[] = new Array(t);
    for (let i = 0; i < t; i++) {
      const j = reverse ? t - 1 - i : i;
      h = this.step(xgs[j], xcs[j], h, masks?.[j], onUh ? (uh) => onUh(i, uh) : undefined);
      out[j] = h;
    }
    return tf.stack(out, 1) as tf.Tensor3D;
  }
}
