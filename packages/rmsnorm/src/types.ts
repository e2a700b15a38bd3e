// Public option and result types of the core API (the contract the README's Library section documents).
// Everything here is plain data: no runtime code, so it bundles anywhere.
import type { Dtype, Storage } from './backends/backend.js';

export type { Dtype, HalfDtype, Storage } from './backends/backend.js';

/** Which kernel implementation runs an op. `'auto'` = wasm when SIMD is available and ready, else js. */
export type BackendName = 'auto' | 'js' | 'wasm';

/** Where eps enters the RMS: `'inside'` rstd = 1/sqrt(ms + eps) (default); `'outside'` rstd = 1/(sqrt(ms) + eps). */
export type EpsPlacement = 'inside' | 'outside';

/** How pRMSNorm turns p into k: `'ceil'` k = ⌈p·cols⌉ (the paper, default) or `'floor'` k = ⌊p·cols⌋ (its code). */
export type KRule = 'ceil' | 'floor';

/** Caller-provided forward outputs (zero allocation). Sizes: y = x.length, rstd (and mean) = rows. */
export interface ForwardOut {
  /** Float32Array, or Uint16Array with a 16-bit options.dtype. */
  y?: Float32Array | Uint16Array;
  rstd?: Float32Array;
}

/**
 * Caller-provided backward outputs. Sizes: dx = x.length, dgamma = dbeta = cols. A backward call ignores the
 * forward's outputs (y, rstd, mean, sum) if they are present, so the forward's options object can be passed as is.
 */
export interface BackwardOut {
  /** Float32Array, or Uint16Array with a 16-bit options.dtype. */
  dx?: Float32Array | Uint16Array;
  dgamma?: Float32Array;
  dbeta?: Float32Array;
}

/** Options shared by every normalisation. */
export interface CommonNormOptions {
  /** Gain, length cols. Absent = no gain (all ones) and backward returns dgamma = null. */
  gamma?: Float32Array;
  /** Bias, length cols, added after the scaling. Absent = no bias and backward returns dbeta = null. */
  beta?: Float32Array;
  /** Stabiliser, finite and >= 0. Default 1e-6. */
  eps?: number;
  /** Kernel implementation. Default `'auto'`. */
  backend?: BackendName;
  /**
   * Storage type of the activation arrays (x, residual, y, sum, dy, dsum, dx): `'float32'` (default, Float32Array)
   * or `'float16'` / `'bfloat16'` (Uint16Array bit patterns). gamma, beta, rstd, mean, dgamma, dbeta stay
   * Float32Array; arithmetic is f32 or wider and each 16-bit result is rounded to nearest even.
   */
  dtype?: Dtype;
  /**
   * Channels-last layout (spatial norms of NHWC images, docs/math.md §9): x holds [blocks, cols, channels] and each
   * (block, channel) is normalised over its `cols` values at stride `channels`; gamma/beta (and dgamma/dbeta) have
   * `channels` values, rstd/mean one per (block, channel) at index block·channels + channel. float32 only; not
   * accepted by addRmsNorm. Default: absent (rows × cols).
   */
  channels?: number;
}

export interface RmsNormOptions extends CommonNormOptions {
  /** y = x·rstd·(gammaOffset + gamma) + beta. Default 0; Gemma-style checkpoints use 1. Needs `gamma`. */
  gammaOffset?: number;
  /** Where eps enters the RMS. Default `'inside'`. */
  epsPlacement?: EpsPlacement;
  /** pRMSNorm fraction in (0, 1]: the RMS is estimated from the first k = rule(p·cols) inputs. Default 1. */
  p?: number;
  /** How k is derived from p. Default `'ceil'`. k is always clamped to [1, cols]. */
  kRule?: KRule;
  /** Caller-provided outputs for the forward pass. */
  out?: ForwardOut;
}

/** Backward options: the forward options (gamma/beta presence decides whether dgamma/dbeta are computed). */
export interface RmsNormBackwardOptions extends Omit<RmsNormOptions, 'out'> {
  out?: BackwardOut & ForwardOut;
}

export interface LayerNormOptions extends CommonNormOptions {
  /** Caller-provided outputs (y, rstd and mean, each rows long except y). */
  out?: ForwardOut & { mean?: Float32Array };
}

/** Backward options: the forward options (a forward `out` is accepted and ignored). */
export interface LayerNormBackwardOptions extends Omit<LayerNormOptions, 'out'> {
  out?: BackwardOut & ForwardOut & { mean?: Float32Array };
}

/** L2-Norm (the paper's ablation): y = x / sqrt(Σx² + eps) · gamma + beta (eps inside by default). */
export interface L2NormOptions extends CommonNormOptions {
  gammaOffset?: number;
  epsPlacement?: EpsPlacement;
  out?: ForwardOut;
}

/** Backward options: the forward options (a forward `out` is accepted and ignored). */
export interface L2NormBackwardOptions extends Omit<L2NormOptions, 'out'> {
  out?: BackwardOut & ForwardOut;
}

export interface RmsNormResult<A extends Storage = Float32Array> {
  y: A;
  /** One value per row: 1/RMS with eps as placed (for L2-Norm 1/‖x‖). */
  rstd: Float32Array;
}

export interface LayerNormResult<A extends Storage = Float32Array> {
  y: A;
  mean: Float32Array;
  /** One value per row: 1/sqrt(var + eps). */
  rstd: Float32Array;
}

export interface BackwardResult<A extends Storage = Float32Array> {
  dx: A;
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
}

/** Options that carry a gain: the backward's result has `dgamma` typed non-null (overloads of the backward ops). */
export interface WithGamma {
  gamma: Float32Array;
}

/** Options that carry a bias: the backward's result has `dbeta` typed non-null. */
export interface WithBeta {
  beta: Float32Array;
}

/** A BackwardResult whose `dgamma` / `dbeta` (K) the options guarantee: typed Float32Array, not null. */
export type BackwardResultWith<A extends Storage, K extends 'dgamma' | 'dbeta'> = BackwardResult<A> & {
  [P in K]: Float32Array;
};

/** Options of addRmsNorm: every RMSNorm option; `out` takes y, sum (may be `residual` itself) and rstd. */
export interface AddRmsNormOptions extends Omit<RmsNormOptions, 'out'> {
  out?: { y?: Float32Array | Uint16Array; sum?: Float32Array | Uint16Array; rstd?: Float32Array };
}

/** Options of addRmsNormBackward: the forward options; `out` takes dx (may be dy or dsum), dgamma, dbeta. */
export interface AddRmsNormBackwardOptions extends Omit<RmsNormOptions, 'out'> {
  out?: BackwardOut & NonNullable<AddRmsNormOptions['out']>;
}

export interface AddRmsNormResult<A extends Storage = Float32Array> {
  /** rmsNorm(sum). */
  y: A;
  /** x + residual, rounded to the storage type: the updated residual stream. */
  sum: A;
  rstd: Float32Array;
}
