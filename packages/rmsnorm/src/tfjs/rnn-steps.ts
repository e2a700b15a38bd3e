// The normalised GRU/LSTM step functions, placed as in the paper's code (bzhangGo/rmsnorm layers.py): GRU with 4 norms
// per step (gate/candidate input projections, U·h, Uₓ·h), LSTM with norms on x·W, h·U and the cell before tanh.
// The one implementation: the tf.layers cells (cells.ts) and custom training loops both call these.
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import { l2Norm, layerNorm, rmsNorm } from './ops.js';

/** Which norm a cell applies: none (plain cell), LayerNorm, RMSNorm, pRMSNorm (first p of each vector), L2-Norm. */
export type CellNorm = 'none' | 'layer' | 'rms' | 'prms' | 'l2';
const CELL_NORMS: readonly CellNorm[] = ['none', 'layer', 'rms', 'prms', 'l2'];

/** Norm settings of a cell. */
export interface CellNormSettings {
  norm: CellNorm;
  /** pRMSNorm fraction (only for 'prms'). Default 0.0625 (the paper). */
  partial: number;
  /** Default 1e-5 (layers.py). */
  epsilon: number;
  /**
   * Optional replacement for the built-in norm (benchmarks, other norm implementations): called for norm number i
   * with that norm's gain and bias (null when the settings' `norm` has none). Not serialized.
   */
  normFn?: (x: Tensor, i: number, gamma: Tensor | null, beta: Tensor | null) => Tensor;
}

/**
 * GRU weights. kernel [in, 3u] = [W (r, u gates) | Wₓ], recurrentKernel [u, 3u] = [U | Uₓ], bias [3u] = [b | bₓ].
 * gammas: gains of the 4 norms ([2u], [u], [2u], [u]: gate input, candidate input, U·h, Uₓ·h), null for 'none';
 * betas: LayerNorm biases of the same shapes (only for 'layer'), else null.
 */
export interface GruWeights {
  kernel: Tensor;
  recurrentKernel: Tensor;
  bias: Tensor;
  gammas: Tensor[] | null;
  betas: Tensor[] | null;
}

/**
 * LSTM weights. kernel [in, 4u], recurrentKernel [u, 4u], bias [4u]; gate order i, f, o, c̃ (layers.py's order).
 * gammas: gains of the 3 norms ([4u] on x·W+b, [4u] on h·U, [u] on the cell), betas: LayerNorm biases (or null).
 */
export interface LstmWeights {
  kernel: Tensor;
  recurrentKernel: Tensor;
  bias: Tensor;
  gammas: Tensor[] | null;
  betas: Tensor[] | null;
}

/** Validated norm settings with defaults. @example cellNormSettings({ norm: 'prms' }) */
export function cellNormSettings(args: Partial<CellNormSettings> = {}): CellNormSettings {
  const norm = args.norm ?? 'rms';
  if (!CELL_NORMS.includes(norm)) throw new RangeError(`norm must be one of ${CELL_NORMS.map((n) => `'${n}'`).join(', ')}, got ${String(norm)}`);
  const partial = args.partial ?? 0.0625;
  if (!(typeof partial === 'number' && partial > 0 && partial <= 1)) throw new RangeError(`partial must be in (0, 1], got ${String(partial)}`);
  const epsilon = args.epsilon ?? 1e-5;
  if (!(typeof epsilon === 'number' && Number.isFinite(epsilon) && epsilon >= 0)) throw new RangeError(`epsilon must be finite and >= 0, got ${String(epsilon)}`);
  return { norm, partial, epsilon, ...(args.normFn ? { normFn: args.normFn } : {}) };
}

/** Apply norm number `i` of a cell to a 2-D (or higher) tensor over its last axis. */
function normalize(s: CellNormSettings, x: Tensor, gammas: Tensor[] | null, betas: Tensor[] | null, i: number): Tensor {
  const g = gammas?.[i] ?? null;
  if (s.normFn !== undefined) return s.normFn(x, i, g, betas?.[i] ?? null);
  switch (s.norm) {
    case 'none': return x;
    case 'layer': return layerNorm(x, g, betas?.[i] ?? null, { eps: s.epsilon });
    case 'rms': return rmsNorm(x, g, { eps: s.epsilon });
    case 'prms': return rmsNorm(x, g, { eps: s.epsilon, p: s.partial });
    case 'l2': return l2Norm(x, g, { eps: s.epsilon });
  }
}

/**
 * GRU input side for any number of time steps at once (one matmul, norms per row): returns the normalised gate
 * projection N1(x·W + b) [..., 2u] and candidate projection N2(x·Wₓ + bₓ) [..., u]. Use with gruStepProjected
 * in an unrolled loop to move the input matmuls out of the time loop.
 *
 * @example const { gates, cand } = gruProjectInputs(w, s, x3d); // x3d [B, T, in]
 */
export function gruProjectInputs(w: GruWeights, s: CellNormSettings, x: Tensor): { gates: Tensor; cand: Tensor } {
  return tf.tidy(() => {
    const units = w.recurrentKernel.shape[0];
    const proj = tf.add(tf.dot(x.rank === 2 ? x : tf.reshape(x, [-1, x.shape[x.rank - 1]]), w.kernel), w.bias);
    const [g, c] = tf.split(proj, [2 * units, units], -1);
    const lead = x.shape.slice(0, -1);
    return {
      gates: tf.reshape(normalize(s, g, w.gammas, w.betas, 0), [...lead, 2 * units]),
      cand: tf.reshape(normalize(s, c, w.gammas, w.betas, 1), [...lead, units]),
    };
  }) as { gates: Tensor; cand: Tensor };
}

/**
 * One GRU step from pre-normalised input projections (layers.py's rlngru _step_slice):
 *
 *   [r, z] = σ(N3(h·U) + gates),  h̃ = tanh(N4(h·Uₓ) ⊙ r + cand),  h' = z ⊙ h + (1 − z) ⊙ h̃
 *
 * Shapes: gates [B, 2u], cand [B, u], h [B, u] → h' [B, u].
 * @example const h1 = gruStepProjected(w, s, gates_t, cand_t, h0);
 */
export function gruStepProjected(w: GruWeights, s: CellNormSettings, gates: Tensor, cand: Tensor, h: Tensor): Tensor {
  return tf.tidy(() => {
    const units = w.recurrentKernel.shape[0];
    const [hg, hc] = tf.split(tf.dot(h, w.recurrentKernel), [2 * units, units], -1);
    const pre = tf.add(normalize(s, hg, w.gammas, w.betas, 2), gates);
    const [r, z] = tf.split(tf.sigmoid(pre), 2, -1);
    const hTilde = tf.tanh(tf.add(tf.mul(normalize(s, hc, w.gammas, w.betas, 3), r), cand));
    return tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hTilde));
  });
}

/**
 * One full normalised GRU step: gruProjectInputs then gruStepProjected. x [B, in], h [B, u] → h' [B, u].
 * @example const h1 = gruStep(w, cellNormSettings({ norm: 'rms' }), x_t, h0);
 */
export function gruStep(w: GruWeights, s: CellNormSettings, x: Tensor, h: Tensor): Tensor {
  return tf.tidy(() => {
    const { gates, cand } = gruProjectInputs(w, s, x);
    return gruStepProjected(w, s, gates, cand, h);
  });
}

/**
 * LSTM input side for any number of steps: N1(x·W + b) [..., 4u].
 * @example const xin = lstmProjectInputs(w, s, x3d);
 */
export function lstmProjectInputs(w: LstmWeights, s: CellNormSettings, x: Tensor): Tensor {
  return tf.tidy(() => {
    const proj = tf.add(tf.dot(x.rank === 2 ? x : tf.reshape(x, [-1, x.shape[x.rank - 1]]), w.kernel), w.bias);
    return tf.reshape(normalize(s, proj, w.gammas, w.betas, 0), [...x.shape.slice(0, -1), proj.shape[1]!]);
  });
}

/**
 * One LSTM step from the normalised input projection (layers.py's rlnlstm _step; b is added again after the norms,
 * as there):
 *
 *   pre = N2(h·U) + xin + b;  i, f, o = σ(pre₀,₁,₂);  c̃ = tanh(pre₃);  c' = f ⊙ c + i ⊙ c̃;  h' = o ⊙ tanh(N3(c'))
 *
 * Shapes: xin [B, 4u], h and c [B, u] → [h', c'].
 * @example const [h1, c1] = lstmStepProjected(w, s, xin_t, h0, c0);
 */
export function lstmStepProjected(w: LstmWeights, s: CellNormSettings, xin: Tensor, h: Tensor, c: Tensor): [Tensor, Tensor] {
  return tf.tidy(() => {
    const pre = tf.add(tf.add(normalize(s, tf.dot(h, w.recurrentKernel), w.gammas, w.betas, 1), xin), w.bias);
    const [i, f, o, cc] = tf.split(pre, 4, -1);
    const c1 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(cc)));
    const h1 = tf.mul(tf.sigmoid(o), tf.tanh(normalize(s, c1, w.gammas, w.betas, 2)));
    return [h1, c1];
  }) as [Tensor, Tensor];
}

/**
 * One full normalised LSTM step. x [B, in], h, c [B, u] → [h', c'].
 * @example const [h1, c1] = lstmStep(w, cellNormSettings({ norm: 'layer' }), x_t, h0, c0);
 */
export function lstmStep(w: LstmWeights, s: CellNormSettings, x: Tensor, h: Tensor, c: Tensor): [Tensor, Tensor] {
  return tf.tidy(() => lstmStepProjected(w, s, lstmProjectInputs(w, s, x), h, c)) as [Tensor, Tensor];
}
