// Public RMSNorm / pRMSNorm ops: validate, apply defaults, allocate, pick the backend, dispatch.
// L2-Norm (ops/l2-norm.ts) reuses the same kernels with divisor 1; formulas in docs/math.md.
import { resolveBackend, resolveKernel, type Dtype, type Storage } from '../backends/backend.js';
import { partialK } from './partial-k.js';
import type {
  BackwardResult,
  BackwardResultWith,
  EpsPlacement,
  KRule,
  RmsNormBackwardOptions,
  RmsNormOptions,
  RmsNormResult,
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
  finiteNumberOption,
  layoutOf,
  optionalFloat32Array,
  optionsObject,
  outObject,
  outputBuffer,
  outputStorage,
  pOption,
  requireFloat32Array,
  requireLength,
  requireStorage,
  workspaceFor,
} from './validate.js';

const BACKENDS = ['auto', 'js', 'wasm'] as const;
const PLACEMENTS: readonly EpsPlacement[] = ['inside', 'outside'];
const K_RULES: readonly KRule[] = ['ceil', 'floor'];
// The fused residual add (ops/add-rms-norm.ts) takes the RMS keys without `channels` (row layout only).
const FUSED_KEYS = ['gamma', 'beta', 'gammaOffset', 'eps', 'epsPlacement', 'p', 'kRule', 'backend', 'out', 'dtype'] as const;
const RMS_KEYS = [...FUSED_KEYS, 'channels'];
const L2_KEYS = RMS_KEYS.filter((k) => k !== 'p' && k !== 'kRule');

/** Resolved, validated settings of one RMS-family call. */
export interface RmsFamilySettings {
  /** Statistics (rstd values): rows of the row layout, blocks·channels of the channels-last one. */
  rows: number;
  /** options.channels (channels-last layout [blocks, cols, channels]) or null (rows × cols). */
  channels: number | null;
  blocks: number;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  gammaOffset: number;
  eps: number;
  epsOutside: boolean;
  k: number;
  divisor: number;
  backend: string;
  /** Storage type of the activation arrays (Uint16Array bit patterns when 16-bit). */
  dtype: Dtype;
  out: Record<string, unknown>;
}

/**
 * Validate x/cols and the options shared by RMSNorm, pRMSNorm and L2-Norm. `l2` fixes k = cols, divisor = 1;
 * `fused` (the residual add) has no channels-last layout.
 */
export function rmsFamilySettings(
  x: unknown,
  cols: unknown,
  options: unknown,
  l2: boolean,
  outKeys: readonly string[],
  xName = 'x',
  fused = false,
): RmsFamilySettings & { x: Storage; cols: number } {
  const o = optionsObject<RmsNormOptions>(options, fused ? FUSED_KEYS : l2 ? L2_KEYS : RMS_KEYS);
  // Every option (and options.out) is read once, here, before any array is checked: a getter cannot then detach or
  // resize x or gamma after its check (the kernel would read stale or out-of-range memory).
  const dtypeIn = o.dtype;
  const gammaIn = o.gamma;
  const betaIn = o.beta;
  const gammaOffsetIn = o.gammaOffset;
  const epsIn = o.eps;
  const placementIn = o.epsPlacement;
  const pIn = l2 ? undefined : o.p;
  const kRuleIn = l2 ? undefined : o.kRule;
  const backendIn = o.backend;
  const channelsIn = fused ? undefined : o.channels;
  const out = outObject(o.out, outKeys);
  const dtype = dtypeOption(dtypeIn);
  const xs = requireStorage(xName, x, dtype);
  const channels = channelsOption(channelsIn);
  const { rows, blocks, params, paramsWhat } = layoutOf(xs, cols, channels, dtype, xName);
  const n = cols as number;
  const gamma = optionalFloat32Array('options.gamma', gammaIn, params, paramsWhat) ?? null;
  const beta = optionalFloat32Array('options.beta', betaIn, params, paramsWhat) ?? null;
  const gammaOffset = finiteNumberOption('options.gammaOffset', gammaOffsetIn, 0);
  if (gammaOffset !== 0 && gamma === null) {
    throw new RangeError(`options.gammaOffset (${gammaOffset}) needs options.gamma: without a gain it has no meaning`);
  }
  const eps = epsOption(epsIn);
  const epsOutside = enumOption('options.epsPlacement', placementIn, PLACEMENTS, 'inside') === 'outside';
  const p = l2 ? 1 : pOption(pIn);
  const kRule = l2 ? 'ceil' : enumOption('options.kRule', kRuleIn, K_RULES, 'ceil');
  const backend = enumOption('options.backend', backendIn, BACKENDS, 'auto');
  const k = p === 1 ? n : partialK(p, n, kRule);
  return {
    x: xs,
    cols: n,
    rows,
    channels,
    blocks,
    gamma,
    beta,
    gammaOffset,
    eps,
    epsOutside,
    k,
    divisor: l2 ? 1 : k,
    backend,
    dtype,
    out,
  };
}

/** Shared forward of the RMS family (RMSNorm, pRMSNorm, L2-Norm). */
export function rmsFamilyForward(s: RmsFamilySettings & { x: Storage; cols: number }): RmsNormResult<Storage> {
  const kernel = s.channels !== null ? 'rmsNormChannels' : s.dtype === 'float32' ? null : 'rmsNorm16';
  const backend = kernel === null ? resolveBackend(s.backend) : resolveKernel(s.backend, kernel);
  const givenY = s.out.y;
  const givenRstd = s.out.rstd;
  const y = outputStorage('options.out.y', givenY, s.x.length, 'x.length', s.dtype);
  const rstd = outputBuffer('options.out.rstd', givenRstd, s.rows, 'rows');
  // Only caller-provided outputs can alias: fresh ones are registered as absent.
  if (givenY !== undefined || givenRstd !== undefined) {
    aliasBegin();
    aliasAdd('x', s.x);
    aliasAdd('options.gamma', s.gamma);
    aliasAdd('options.beta', s.beta);
    aliasAdd('options.out.y', givenY === undefined ? null : y);
    aliasAdd('options.out.rstd', givenRstd === undefined ? null : rstd);
    aliasCheck(3, true);
  }
  if (s.rows > 0 && s.channels !== null) {
    backend.rmsNormChannels!({
      x: s.x as Float32Array, gamma: s.gamma, beta: s.beta, gammaOffset: s.gammaOffset, y: y as Float32Array, rstd,
      blocks: s.blocks, cols: s.cols, channels: s.channels, k: s.k, divisor: s.divisor, eps: s.eps,
      epsOutside: s.epsOutside, workspace: workspaceFor(3 * s.channels),
    });
  } else if (s.rows > 0 && s.dtype !== 'float32') {
    backend.rmsNorm16!({
      dtype: s.dtype, x: s.x as Uint16Array, gamma: s.gamma, beta: s.beta, gammaOffset: s.gammaOffset,
      y: y as Uint16Array, rstd, rows: s.rows, cols: s.cols, k: s.k, divisor: s.divisor, eps: s.eps,
      epsOutside: s.epsOutside,
    });
  } else if (s.rows > 0) {
    backend.rmsNorm({
      x: s.x as Float32Array, gamma: s.gamma, beta: s.beta, gammaOffset: s.gammaOffset, y: y as Float32Array, rstd,
      rows: s.rows, cols: s.cols, k: s.k, divisor: s.divisor, eps: s.eps, epsOutside: s.epsOutside,
    });
  }
  return { y, rstd };
}

/** Shared backward of the RMS family. */
export function rmsFamilyBackward(
  dy: unknown,
  rstd: unknown,
  s: RmsFamilySettings & { x: Storage; cols: number },
): BackwardResult<Storage> {
  const dys = requireStorage('dy', dy, s.dtype);
  const rs = requireFloat32Array('rstd', rstd);
  requireLength('dy', dys, s.x.length, 'x.length');
  requireLength('rstd', rs, s.rows, 'rows');
  const kernel = s.channels !== null ? 'rmsNormChannelsBackward' : s.dtype === 'float32' ? null : 'rmsNormBackward16';
  const backend = kernel === null ? resolveBackend(s.backend) : resolveKernel(s.backend, kernel);
  const params = s.channels ?? s.cols;
  const { dx, dgamma, dbeta } = backwardOutputs(s.out, dys, s.x, null, rs, s.gamma, s.beta, params, s.dtype, s.channels !== null);
  if (s.rows === 0) {
    dgamma?.fill(0);
    dbeta?.fill(0);
  } else if (s.channels !== null) {
    backend.rmsNormChannelsBackward!({
      dy: dys as Float32Array, x: s.x as Float32Array, rstd: rs, gamma: s.gamma, gammaOffset: s.gammaOffset,
      dx: dx as Float32Array, dgamma, dbeta, blocks: s.blocks, cols: s.cols, channels: s.channels, k: s.k,
      divisor: s.divisor, eps: s.eps, epsOutside: s.epsOutside, workspace: workspaceFor(3 * s.channels),
    });
  } else if (s.dtype !== 'float32') {
    backend.rmsNormBackward16!({
      dtype: s.dtype, dy: dys as Uint16Array, x: s.x as Uint16Array, rstd: rs, gamma: s.gamma,
      gammaOffset: s.gammaOffset, dx: dx as Uint16Array, dgamma, dbeta, rows: s.rows, cols: s.cols, k: s.k,
      divisor: s.divisor, eps: s.eps, epsOutside: s.epsOutside, workspace: workspaceFor(s.cols),
    });
  } else {
    backend.rmsNormBackward({
      dy: dys as Float32Array, x: s.x as Float32Array, rstd: rs, gamma: s.gamma, gammaOffset: s.gammaOffset,
      dx: dx as Float32Array, dgamma, dbeta,
      rows: s.rows, cols: s.cols, k: s.k, divisor: s.divisor, eps: s.eps, epsOutside: s.epsOutside,
      workspace: workspaceFor(s.cols),
    });
  }
  return { dx, dgamma, dbeta };
}

/**
 * RMSNorm over the last axis (each row of `cols` values), or pRMSNorm when `p < 1`.
 *
 *   k    = cols, or rule(p·cols) clamped to [1, cols] for pRMSNorm
 *   rstd = 1/sqrt((1/k)Σ_{i<k} x_i² + eps)        (epsPlacement 'inside', default)
 *        = 1/(sqrt((1/k)Σ_{i<k} x_i²) + eps)      ('outside', the paper's PyTorch file)
 *   y    = x · rstd · (gammaOffset + gamma) + beta
 *
 * Shapes: x is rows × cols (row-major), gamma/beta are cols, y is rows × cols, rstd is rows.
 * With `options.channels` (channels-last spatial norm, docs/math.md §9): x is [blocks, cols, channels], each
 * (block, channel) normalised over its cols values; gamma/beta are channels, rstd is blocks·channels.
 * NaN/Inf in a row make that row's outputs NaN/Inf; other rows are unaffected. Inputs are never modified.
 *
 * @example
 * const x = new Float32Array([1, 2, 3, 4, 5, 6]);
 * const { y, rstd } = rmsNorm(x, 3, { gamma: new Float32Array([1, 1, 1]) });
 * // y[0..3] = [1, 2, 3] / sqrt((1 + 4 + 9)/3 + 1e-6)
 * // NHWC image 2×2×3 over H×W per channel: rmsNorm(img, 4, { channels: 3, gamma: new Float32Array(3).fill(1) })
 */
export function rmsNorm<A extends Storage = Float32Array>(x: A, cols: number, options?: RmsNormOptions): RmsNormResult<A> {
  return rmsFamilyForward(rmsFamilySettings(x, cols, options, false, ['y', 'rstd'])) as RmsNormResult<A>;
}

/**
 * Gradients of RMSNorm / pRMSNorm given dy = ∂L/∂y, the forward input x and its saved rstd.
 *
 *   u = (gammaOffset + gamma) ⊙ dy,  x̂ = x·rstd,  c = (1/k) Σ_{i<cols} u_i x̂_i
 *   dx_j = rstd·(u_j − [j<k]·x̂_j·c)                 (eps inside)
 *   dx_j = rstd·u_j − [j<k]·x̂_j·c/RMS_k(x)          (eps outside)
 *   dgamma = Σ_rows dy ⊙ x̂ (when gamma given),  dbeta = Σ_rows dy (when beta given)
 *
 * Pass the same options as the forward call, even the same object (`out` takes dx/dgamma/dbeta; a forward `out.y` /
 * `out.rstd` in it is ignored). dx may be dy itself (in place). With `gamma` (`beta`) given, the overloads type
 * `dgamma` (`dbeta`) as Float32Array, not null.
 *
 * @example
 * const { y, rstd } = rmsNorm(x, cols, { gamma });
 * const { dx, dgamma } = rmsNormBackward(dy, x, rstd, cols, { gamma });
 */
export function rmsNormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, rstd: Float32Array, cols: number, options: RmsNormBackwardOptions & WithGamma & WithBeta,
): BackwardResultWith<A, 'dgamma' | 'dbeta'>;
export function rmsNormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, rstd: Float32Array, cols: number, options: RmsNormBackwardOptions & WithGamma,
): BackwardResultWith<A, 'dgamma'>;
export function rmsNormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, rstd: Float32Array, cols: number, options: RmsNormBackwardOptions & WithBeta,
): BackwardResultWith<A, 'dbeta'>;
export function rmsNormBackward<A extends Storage = Float32Array>(
  dy: A, x: A, rstd: Float32Array, cols: number, options?: RmsNormBackwardOptions,
): BackwardResult<A>;
export function rmsNormBackward<A extends Storage = Float32Array>(
  dy: A,
  x: A,
  rstd: Float32Array,
  cols: number,
  options?: RmsNormBackwardOptions,
): BackwardResult<A> {
  const s = rmsFamilySettings(x, cols, options, false, ['dx', 'dgamma', 'dbeta']);
  return rmsFamilyBackward(dy, rstd, s) as BackwardResult<A>;
}
