// Public LayerNorm ops (the paper's baseline): validate, allocate, pick the backend, dispatch.
import { resolveBackend, resolveKernel, type Storage } from '../backends/backend.js';
import type {
  BackwardResult,
  BackwardResultWith,
  LayerNormBackwardOptions,
  LayerNormOptions,
  LayerNormResult,
  WithBeta,
  WithGamma,
} from '../types.js';
import { backwardOutputs } from './backward-outputs.js';
import {
  aliasAdd,
  aliasBegin,
  aliasCheck,
  channelsOption,
  dtypeOption,
  enumOption,
  epsOption,
  layoutOf,
  optionalFloat32Array,
  optionsObject,
  outObject,
  outputBuffer,
  outputStorage,
  requireFloat32Array,
  requireLength,
  requireStorage,
  workspaceFor,
} from './validate.js';

const BACKENDS = ['auto', 'js', 'wasm'] as const;
const LN_KEYS = ['gamma', 'beta', 'eps', 'backend', 'out', 'dtype', 'channels'] as const;

function settings(x: unknown, cols: unknown, options: unknown, outKeys: readonly string[]) {
  const o = optionsObject<LayerNormOptions>(options, LN_KEYS);
  // Every option (and options.out) is read once, before any array is checked (see rmsFamilySettings).
  const dtypeIn = o.dtype;
  const gammaIn = o.gamma;
  const betaIn = o.beta;
  const epsIn = o.eps;
  const backendIn = o.backend;
  const channelsIn = o.channels;
  const out = outObject(o.out, outKeys);
  const dtype = dtypeOption(dtypeIn);
  const xs = requireStorage('x', x, dtype);
  const channels = channelsOption(channelsIn);
  const { rows, blocks, params, paramsWhat } = layoutOf(xs, cols, channels, dtype);
  return {
    dtype,
    x: xs,
    cols: cols as number,
    rows,
    channels,
    blocks,
    gamma: optionalFloat32Array('options.gamma', gammaIn, params, paramsWhat) ?? null,
    beta: optionalFloat32Array('options.beta', betaIn, params, paramsWhat) ?? null,
    eps: epsOption(epsIn),
    backend: enumOption('options.backend', backendIn, BACKENDS, 'auto'),
    out,
  };
}

/**
 * LayerNorm over the last axis (the paper's baseline):
 *
 *   mean = (1/cols) Σ x,  var = (1/cols) Σ (x − mean)²  (population, two-pass),  rstd = 1/sqrt(var + eps)
 *   y    = (x − mean) · rstd · gamma + beta
 *
 * Shapes: x rows × cols; gamma/beta cols; y rows × cols; mean and rstd rows. eps (default 1e-6) is inside the sqrt.
 * With `options.channels` (InstanceNorm in NHWC, docs/math.md §9): x is [blocks, cols, channels], statistics per
 * (block, channel) over cols; gamma/beta are channels; mean/rstd are blocks·channels.
 *
 * @example
 * const { y, mean, rstd } = layerNorm(new Float32Array([1, 2, 3]), 3); // y ≈ [-1.2247, 0, 1.2247]
 */
export function layerNorm<A extends Storage = Float32Array>(
  x: A, cols: number, options?: LayerNormOptions,
): LayerNormResult<A> {
  const s = settings(x, cols, options, ['y', 'mean', 'rstd']);
  const kernel = s.channels !== null ? 'layerNormChannels' : s.dtype === 'float32' ? null : 'layerNorm16';
  const backend = kernel === null ? resolveBackend(s.backend) : resolveKernel(s.backend, kernel);
  const givenY = s.out.y;
  const givenMean = s.out.mean;
  const givenRstd = s.out.rstd;
  const y = outputStorage('options.out.y', givenY, s.x.length, 'x.length', s.dtype);
  const mean = outputBuffer('options.out.mean', givenMean, s.rows, 'rows');
  const rstd = outputBuffer('options.out.rstd', givenRstd, s.rows, 'rows');
  // Only caller-provided outputs can alias: fresh ones are registered as absent.
  if (givenY !== undefined || givenMean !== undefined || givenRstd !== undefined) {
    aliasBegin();
    aliasAdd('x', s.x);
    aliasAdd('options.gamma', s.gamma);
    aliasAdd('options.beta', s.beta);
    aliasAdd('options.out.y', givenY === undefined ? null : y);
    aliasAdd('options.out.mean', givenMean === undefined ? null : mean);
    aliasAdd('options.out.rstd', givenRstd === undefined ? null : rstd);
    aliasCheck(3, true);
  }
  if (s.rows > 0 && s.channels !== null) {
    backend.layerNormChannels!({
      x: s.x as Float32Array, gamma: s.gamma, beta: s.beta, y: y as Float32Array, mean, rstd, blocks: s.blocks,
      cols: s.cols, channels: s.channels, eps: s.eps, workspace: workspaceFor(3 * s.channels),
    });
  } else if (s.rows > 0 && s.dtype !== 'float32') {
    backend.layerNorm16!({
      dtype: s.dtype, x: s.x as Uint16Array, gamma: s.gamma, beta: s.beta, y: y as Uint16Array, mean, rstd,
      rows: s.rows, cols: s.cols, eps: s.eps,
    });
  } else if (s.rows > 0) {
    backend.layerNorm({
      x: s.x as Float32Array, gamma: s.gamma, beta: s.beta, y: y as Float32Array, mean, rstd, rows: s.rows,
      cols: s.cols, eps: s.eps,
    });
  }
  return { y, mean, rstd } as LayerNormResult<A>;
}

/**
 * Gradients of LayerNorm given dy, the forward input x and its saved mean and rstd:
 *
 *   u = gamma ⊙ dy,  x̂ = (x − mean)·rstd,  dx = rstd·(u − mean(u) − x̂·mean(u ⊙ x̂))
 *   dgamma = Σ_rows dy ⊙ x̂ (when gamma given),  dbeta = Σ_rows dy (when beta given)
 *
 * @example
 * const { y, mean, rstd } = layerNorm(x, cols, { gamma, beta });
 * const { dx, dgamma, dbeta } = layerNormBackward(dy, x, mean, rstd, cols, { gamma, beta });
 */
export function layerNormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, mean: Float32Array, rstd: Float32Array, cols: number, options: LayerNormBackwardOptions & WithGamma & WithBeta,
): BackwardResultWith<A, 'dgamma' | 'dbeta'>;
export function layerNormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, mean: Float32Array, rstd: Float32Array, cols: number, options: LayerNormBackwardOptions & WithGamma,
): BackwardResultWith<A, 'dgamma'>;
export function layerNormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, mean: Float32Array, rstd: Float32Array, cols: number, options: LayerNormBackwardOptions & WithBeta,
): BackwardResultWith<A, 'dbeta'>;
export function layerNormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, mean: Float32Array, rstd: Float32Array, cols: number, options?: LayerNormBackwardOptions,
): BackwardResult<A>;
export function layerNormBackward<A extends Storage = Float32Array>(
  dy: A,
  x: A,
  mean: Float32Array,
  rstd: Float32Array,
  cols: number,
  options?: LayerNormBackwardOptions,
): BackwardResult<A> {
  const s = settings(x, cols, options, ['dx', 'dgamma', 'dbeta']);
  const dys = requireStorage('dy', dy, s.dtype);
  const means = requireFloat32Array('mean', mean);
  const rs = requireFloat32Array('rstd', rstd);
  requireLength('dy', dys, s.x.length, 'x.length');
  requireLength('mean', means, s.rows, 'rows');
  requireLength('rstd', rs, s.rows, 'rows');
  const kernel = s.channels !== null ? 'layerNormChannelsBackward' : s.dtype === 'float32' ? null : 'layerNormBackward16';
  const backend = kernel === null ? resolveBackend(s.backend) : resolveKernel(s.backend, kernel);
  const params = s.channels ?? s.cols;
  const { dx, dgamma, dbeta } = backwardOutputs(s.out, dys, s.x, means, rs, s.gamma, s.beta, params, s.dtype, s.channels !== null);
  if (s.rows === 0) {
    dgamma?.fill(0);
    dbeta?.fill(0);
  } else if (s.channels !== null) {
    backend.layerNormChannelsBackward!({
      dy: dys as Float32Array, x: s.x as Float32Array, mean: means, rstd: rs, gamma: s.gamma, dx: dx as Float32Array,
      dgamma, dbeta, blocks: s.blocks, cols: s.cols, channels: s.channels, workspace: workspaceFor(3 * s.channels),
    });
  } else if (s.dtype !== 'float32') {
    backend.layerNormBackward16!({
      dtype: s.dtype, dy: dys as Uint16Array, x: s.x as Uint16Array, mean: means, rstd: rs, gamma: s.gamma,
      dx: dx as Uint16Array, dgamma, dbeta, rows: s.rows, cols: s.cols, workspace: workspaceFor(s.cols),
    });
  } else {
    backend.layerNormBackward({
      dy: dys as Float32Array, x: s.x as Float32Array, mean: means, rstd: rs, gamma: s.gamma, dx: dx as Float32Array,
      dgamma, dbeta,
      rows: s.rows, cols: s.cols, workspace: workspaceFor(s.cols),
    });
  }
  return { dx, dgamma, dbeta } as BackwardResult<A>;
}
