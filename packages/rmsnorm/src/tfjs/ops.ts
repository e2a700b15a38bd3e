// Public tfjs ops: RMSNorm / pRMSNorm, LayerNorm and L2-Norm on tf.Tensors over the trailing (or any) axes.
// Where our kernels are registered ('cpu', 'wasm', and 'webgpu' after registerWebGpuKernels()) they run fused
// (kernels.ts, webgpu/); on other tfjs backends the composed tf ops.
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import { describe, enumOption, epsOption, finiteNumberOption, pOption } from '../ops/validate.js';
import type { EpsPlacement, KRule } from '../types.js';
import { layerNormComposite, rmsNormComposite } from './composite.js';
import { LAYER_NORM, RMS_FAMILY, runNormKernel, type LayerNormAttrs, type RmsFamilyAttrs } from './kernels.js';

/** Options of the tfjs `rmsNorm` op (the core RmsNormOptions, with tensors and an axis). */
export interface TfRmsNormOptions {
  /** Normalised axes: an int or a list (default -1). Trailing axes are fastest; others are transposed to the end. */
  axis?: number | number[];
  /**
   * Gain and bias per index of this axis (which must not be normalised) instead of per normalised position: the
   * spatial norm of images — statistics over H×W for each sample and channel, gamma/beta of shape [C] (the paper's
   * CIFAR-10 set-up; InstanceNorm-style). Channels-last (`axis: [1, 2], channelAxis: 3` on NHWC) runs one fused
   * kernel with no transposes; other layouts are composed.
   */
  channelAxis?: number;
  /** Bias added after the scaling, same shape rules as gamma. */
  beta?: Tensor | null;
  /** y = x·rstd·(gammaOffset + gamma) + beta. Default 0. Needs gamma. */
  gammaOffset?: number;
  /** Default 1e-6. */
  eps?: number;
  /** Default 'inside'. */
  epsPlacement?: EpsPlacement;
  /** pRMSNorm fraction in (0, 1]; default 1. The statistic uses the first k of the flattened normalised values. */
  p?: number;
  /** Default 'ceil'. */
  kRule?: KRule;
}

/** Options of the tfjs `l2Norm` op. */
export type TfL2NormOptions = Omit<TfRmsNormOptions, 'p' | 'kRule'>;

/** Options of the tfjs `layerNorm` op. */
export interface TfLayerNormOptions {
  axis?: number | number[];
  /** Gain and bias per index of this axis: see TfRmsNormOptions.channelAxis. */
  channelAxis?: number;
  /** Default 1e-6 (tf.layers.layerNormalization uses 1e-3: pass it for a like-for-like comparison). */
  eps?: number;
}

const RMS_KEYS = ['axis', 'channelAxis', 'beta', 'gammaOffset', 'eps', 'epsPlacement', 'p', 'kRule'];
const L2_KEYS = ['axis', 'channelAxis', 'beta', 'gammaOffset', 'eps', 'epsPlacement'];
const LN_KEYS = ['axis', 'channelAxis', 'eps'];

function checkOptions(options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  // a Map/Set/Date/array holds no options as properties: refused rather than silently ignored (issue #12)
  if (options === null || typeof options !== 'object' || Object.prototype.toString.call(options) !== '[object Object]') {
    throw new TypeError(`options must be a plain object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`options.${key} is not a known option (expected one of: ${known.join(', ')})`);
  }
  return options as Record<string, unknown>;
}

function requireTensor(name: string, value: unknown): Tensor {
  if (!(value instanceof tf.Tensor)) throw new TypeError(`${name} must be a tf.Tensor, got ${describe(value)}`);
  if (value.dtype !== 'float32') throw new TypeError(`${name} must have dtype float32, got ${value.dtype}`);
  return value;
}

/**
 * Sorted, non-negative normalised axes of a rank-`rank` tensor from an int or a list (negative counts from the end).
 * @example normalizeAxes([-1, -2], 3) // [1, 2]
 */
export function normalizeAxes(axis: unknown, rank: number, name = 'options.axis'): number[] {
  if (axis === undefined || axis === -1 || axis === rank - 1) return [rank - 1]; // the common case, without churn
  const list = axis === undefined ? [-1] : Array.isArray(axis) ? axis : [axis];
  if (list.length === 0) throw new RangeError(`${name} must name at least one axis, got []`);
  const out = list.map((a) => {
    if (typeof a !== 'number' || !Number.isInteger(a)) throw new TypeError(`${name} must hold integers, got ${describe(a)}`);
    if (a < -rank || a >= rank) throw new RangeError(`${name} ${a} is out of range for a rank-${rank} tensor`);
    return a < 0 ? a + rank : a;
  });
  const sorted = [...new Set(out)].sort((p, q) => p - q);
  if (sorted.length !== out.length) throw new RangeError(`${name} must not repeat an axis, got [${list.join(', ')}]`);
  return sorted;
}

/** A norm's view of x: 2-D rows × cols with the normalised axes last, and how to undo it. */
interface Layout {
  rows: number;
  cols: number;
  normShape: number[];
  perm: number[] | null;
  /** x's shape with the normalised axes moved last (y2d is reshaped to it), and the permutation back. */
  permShape: number[];
  inverse: number[] | null;
}

// Plain data, no closures: a hot path under tsx pays for every named function it creates (keepNames).
function layout(x: Tensor, axes: number[]): Layout {
  const rank = x.rank;
  if (axes.length === 1 && axes[0] === rank - 1 && rank === 2) {
    const cols = x.shape[1]!;
    if (cols === 0) throw new RangeError(`x must have non-empty normalised axes, got shape [${x.shape.join(', ')}]`);
    return { rows: x.shape[0]!, cols, normShape: [cols], perm: null, permShape: x.shape, inverse: null };
  }
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  const perm = trailing ? null : [...Array(rank).keys()].filter((a) => !axes.includes(a)).concat(axes);
  const permShape = perm === null ? x.shape : perm.map((a) => x.shape[a]);
  const normShape = axes.map((a) => x.shape[a]);
  const cols = normShape.reduce((p, q) => p * q, 1);
  if (cols === 0) throw new RangeError(`x must have non-empty normalised axes, got shape [${x.shape.join(', ')}]`);
  const rows = x.size / cols;
  const inverse = perm === null ? null : perm.map((_, i) => perm.indexOf(i));
  return { rows, cols, normShape, perm, permShape, inverse };
}

/** y2d (rows × cols) back to x's layout. */
function restore(l: Layout, y2d: Tensor): Tensor {
  const y = tf.reshape(y2d, l.permShape);
  return l.inverse === null ? y : tf.transpose(y, l.inverse);
}

function paramTensor(name: string, value: unknown, l: Layout): Tensor | null {
  if (value === undefined || value === null) return null;
  const t = requireTensor(name, value);
  const matches = (t.rank === 1 && t.shape[0] === l.cols) || tf.util.arraysEqual(t.shape, l.normShape);
  if (!matches) {
    throw new RangeError(
      `${name} must have shape [${l.normShape.join(', ')}] or [${l.cols}] (the normalised axes), got [${t.shape.join(', ')}]`,
    );
  }
  return t;
}

/** options.channelAxis as a non-negative axis, or null when absent; it must not be a normalised axis. */
function channelAxisOption(value: unknown, axes: number[], rank: number): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`options.channelAxis must be an integer, got ${describe(value)}`);
  }
  if (value < -rank || value >= rank) throw new RangeError(`options.channelAxis ${value} is out of range for a rank-${rank} tensor`);
  const c = value < 0 ? value + rank : value;
  if (axes.includes(c)) {
    throw new RangeError(`options.channelAxis (${value}) must not be one of the normalised axes [${axes.join(', ')}]`);
  }
  return c;
}

/** gamma/beta of a spatial norm: one value per channel. */
function channelParam(name: string, value: unknown, channels: number): Tensor | null {
  if (value === undefined || value === null) return null;
  const t = requireTensor(name, value);
  if (t.rank !== 1 || t.shape[0] !== channels) {
    throw new RangeError(`${name} must have shape [${channels}] (one value per index of options.channelAxis), got [${t.shape.join(', ')}]`);
  }
  return t;
}

/**
 * A spatial norm (gain/bias per channel). Channels-last (normalised axes contiguous, directly before the last axis,
 * which is the channel axis) where our kernels run: x as [blocks, cols, channels] through the fused channels-last
 * kernel, a reshape each way and nothing else. Otherwise the norm without parameters, then gain and bias broadcast
 * along the channel axis.
 */
function runChannelNorm(
  xs: Tensor, axes: number[], ch: number, g: Tensor | null, b: Tensor | null, kernelName: string,
  attrs: RmsFamilyAttrs | LayerNormAttrs, withoutParams: () => Tensor,
): Tensor {
  const rank = xs.rank;
  const first = axes[0];
  const channelsLast = ch === rank - 1 && axes.every((a, i) => a === first + i) && axes[axes.length - 1] === rank - 2;
  // The channels-last kernels exist on cpu and wasm only (our webgpu kernels take rows × cols).
  const backendName = tf.getBackend();
  if (channelsLast && (backendName === 'cpu' || backendName === 'wasm') && usesKernels(kernelName)) {
    const blocks = xs.shape.slice(0, first).reduce((p, q) => p * q, 1);
    const cols = axes.reduce((p, a) => p * xs.shape[a], 1);
    return tf.tidy(() => {
      const x3 = tf.reshape(xs, [blocks, cols, xs.shape[ch]]);
      const inputs = g === null ? (b === null ? [x3] : [x3, b]) : b === null ? [x3, g] : [x3, g, b];
      return tf.reshape(runNormKernel(kernelName, inputs, g !== null, attrs)[0], xs.shape);
    });
  }
  const offset = 'gammaOffset' in attrs ? attrs.gammaOffset : 0;
  return tf.tidy(() => {
    let y = withoutParams();
    const shape = xs.shape.map((d, i) => (i === ch ? d : 1));
    if (g !== null) y = tf.mul(y, tf.reshape(offset === 0 ? g : tf.add(g, offset), shape));
    if (b !== null) y = tf.add(y, tf.reshape(b, shape));
    return y;
  });
}

/** Our fused kernel runs where it is registered: cpu/wasm always, webgpu after registerWebGpuKernels(). */
function usesKernels(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/**
 * Run one norm: x to rows × cols (normalised axes last), gamma/beta to [cols], our kernel on cpu/wasm (inputs as an
 * array [x, gamma?, beta?], so absent parameters cost nothing) or the composed fallback elsewhere, then back to x's
 * layout. Only y leaves the tidy; the saved statistics (rstd, mean) live on in the tape's own copies.
 */
function runNorm(
  xs: Tensor,
  l: Layout,
  g: Tensor | null,
  b: Tensor | null,
  kernelName: string,
  attrs: object,
  composite: (x2d: Tensor, g1: Tensor | null, b1: Tensor | null) => Tensor,
): Tensor {
  const useKernels = usesKernels(kernelName);
  if (useKernels && xs.rank === 2 && l.perm === null && (g === null || g.rank === 1) && (b === null || b.rank === 1)) {
    // Already rows × cols with [cols] parameters (the usual case): one kernel call, no reshapes, no tidy. The
    // statistics output is disposed here; the tape keeps its own saved copy for the backward pass.
    const inputs = g === null ? (b === null ? [xs] : [xs, b]) : b === null ? [xs, g] : [xs, g, b];
    const outs = runNormKernel(kernelName, inputs, g !== null, attrs);
    for (let i = 1; i < outs.length; i++) outs[i].dispose();
    return outs[0];
  }
  return tf.tidy(() => {
    const x2d = tf.reshape(l.perm === null ? xs : tf.transpose(xs, l.perm), [l.rows, l.cols]);
    const g1 = g === null ? null : tf.reshape(g, [l.cols]);
    const b1 = b === null ? null : tf.reshape(b, [l.cols]);
    let y2d: Tensor;
    if (useKernels) {
      const inputs = [x2d, ...(g1 ? [g1] : []), ...(b1 ? [b1] : [])];
      y2d = runNormKernel(kernelName, inputs, g1 !== null, attrs)[0];
    } else {
      y2d = composite(x2d, g1, b1);
    }
    return restore(l, y2d);
  });
}

function rmsFamily(
  x: unknown,
  gamma: unknown,
  options: unknown,
  l2: boolean,
): Tensor {
  const o = checkOptions(options, l2 ? L2_KEYS : RMS_KEYS);
  const xs = requireTensor('x', x);
  if (xs.rank < 1) throw new RangeError(`x must have rank >= 1, got a scalar`);
  const axes = normalizeAxes(o.axis, xs.rank);
  const ch = channelAxisOption(o.channelAxis, axes, xs.rank);
  const l = layout(xs, axes);
  const g = ch === null ? paramTensor('gamma', gamma, l) : channelParam('gamma', gamma, xs.shape[ch]);
  const b = ch === null ? paramTensor('options.beta', o.beta, l) : channelParam('options.beta', o.beta, xs.shape[ch]);
  const gammaOffset = finiteNumberOption('options.gammaOffset', o.gammaOffset, 0);
  if (gammaOffset !== 0 && g === null) {
    throw new RangeError(`options.gammaOffset (${gammaOffset}) needs gamma: without a gain it has no meaning`);
  }
  const attrs: RmsFamilyAttrs = {
    l2,
    hasGamma: g !== null,
    hasBeta: b !== null,
    eps: epsOption(o.eps),
    epsPlacement: enumOption<EpsPlacement>('options.epsPlacement', o.epsPlacement, ['inside', 'outside'], 'inside'),
    p: l2 ? 1 : pOption(o.p),
    kRule: l2 ? 'ceil' : enumOption<KRule>('options.kRule', o.kRule, ['ceil', 'floor'], 'ceil'),
    gammaOffset,
  };
  if (ch !== null) {
    const bare: RmsFamilyAttrs = { ...attrs, hasGamma: false, hasBeta: false, gammaOffset: 0 };
    const withoutParams = () => runNorm(xs, l, null, null, RMS_FAMILY, bare, (x2d) => rmsNormComposite(x2d, null, null, bare));
    return runChannelNorm(xs, axes, ch, g, b, RMS_FAMILY, attrs, withoutParams);
  }
  return runNorm(xs, l, g, b, RMS_FAMILY, attrs, (x2d, g1, b1) => rmsNormComposite(x2d, g1, b1, attrs));
}

/**
 * RMSNorm (pRMSNorm when p < 1) over the normalised axes of x (default: the last axis):
 *
 *   rstd = 1/sqrt((1/k) Σ_{i<k} x_i² + eps)  (inside; 'outside': 1/(sqrt(·) + eps)),  k = cols or rule(p·cols)
 *   y    = x · rstd · (gammaOffset + gamma) + beta
 *
 * Shapes: x any rank ≥ 1; gamma/beta either the normalised axes' shape or [cols]; y like x. Differentiable w.r.t.
 * x, gamma and beta (fused backward kernel on cpu/wasm).
 *
 * @example
 * const y = rmsNorm(tf.randomNormal([8, 64]), tf.ones([64]), { p: 0.0625 });
 */
export function rmsNorm(x: Tensor, gamma?: Tensor | null, options?: TfRmsNormOptions): Tensor {
  return rmsFamily(x, gamma, options, false);
}

/**
 * L2-Norm (the paper's ablation) over the normalised axes: y = x / sqrt(Σ x² + eps) · (gammaOffset + gamma) + beta.
 * Same shapes and gradients as rmsNorm.
 *
 * @example
 * const y = l2Norm(tf.tensor2d([[3, 4]])); // [[0.6, 0.8]]
 */
export function l2Norm(x: Tensor, gamma?: Tensor | null, options?: TfL2NormOptions): Tensor {
  return rmsFamily(x, gamma, options, true);
}

/**
 * LayerNorm over the normalised axes (fused kernel; population variance, eps inside):
 *
 *   y = (x − mean) · rsqrt(var + eps) · gamma + beta
 *
 * @example
 * const y = layerNorm(tf.randomNormal([8, 64]), tf.ones([64]), tf.zeros([64]), { eps: 1e-3 });
 */
export function layerNorm(x: Tensor, gamma?: Tensor | null, beta?: Tensor | null, options?: TfLayerNormOptions): Tensor {
  const o = checkOptions(options, LN_KEYS);
  const xs = requireTensor('x', x);
  if (xs.rank < 1) throw new RangeError(`x must have rank >= 1, got a scalar`);
  const axes = normalizeAxes(o.axis, xs.rank);
  const ch = channelAxisOption(o.channelAxis, axes, xs.rank);
  const l = layout(xs, axes);
  const g = ch === null ? paramTensor('gamma', gamma, l) : channelParam('gamma', gamma, xs.shape[ch]);
  const b = ch === null ? paramTensor('beta', beta, l) : channelParam('beta', beta, xs.shape[ch]);
  const attrs: LayerNormAttrs = { hasGamma: g !== null, hasBeta: b !== null, eps: epsOption(o.eps) };
  if (ch !== null) {
    const bare: LayerNormAttrs = { hasGamma: false, hasBeta: false, eps: attrs.eps };
    const withoutParams = () => runNorm(xs, l, null, null, LAYER_NORM, bare, (x2d) => layerNormComposite(x2d, null, null, bare.eps));
    return runChannelNorm(xs, axes, ch, g, b, LAYER_NORM, attrs, withoutParams);
  }
  return runNorm(xs, l, g, b, LAYER_NORM, attrs, (x2d, g1, b1) => layerNormComposite(x2d, g1, b1, attrs.eps));
}
