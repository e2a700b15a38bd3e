// Public fused residual add + RMSNorm ops (the pre-norm transformer's `h = x + residual; y = norm(h)`): validate,
// allocate, pick the kernel (resolveKernel: 'auto' uses js where wasm lacks it), dispatch. Formulas: docs/math.md §7.
import { resolveKernel, type Storage } from '../backends/backend.js';
import type {
  AddRmsNormBackwardOptions,
  AddRmsNormOptions,
  AddRmsNormResult,
  BackwardResult,
  BackwardResultWith,
  WithBeta,
  WithGamma,
} from '../types.js';
import { rmsFamilySettings } from './rms-norm.js';
import {
  aliasAdd, aliasBegin, aliasCheck, outputBuffer, outputStorage, requireFloat32Array, requireLength, requireStorage,
  workspaceFor,
} from './validate.js';

/**
 * Residual add fused with RMSNorm (pRMSNorm with p < 1), one pass over the row:
 *
 *   sum  = x + residual                     (rounded to the storage type: the updated residual stream)
 *   rstd = 1/sqrt((1/k) Σ_{i<k} sum_i² + eps)   (or eps outside; k as for rmsNorm)
 *   y    = sum · rstd · (gammaOffset + gamma) + beta
 *
 * Shapes: x, residual, y, sum rows × cols; gamma/beta cols; rstd rows. Every rmsNorm option applies, plus
 * `out.sum`, which may be `residual` itself (the residual stream updated in place); no other output may alias an
 * input or another output. With `dtype: 'float16' | 'bfloat16'` x, residual, y and sum are Uint16Array bit patterns.
 *
 * @example
 * const { y, sum, rstd } = addRmsNorm(attnOut, stream, 4096, { gamma, out: { sum: stream } }); // stream += attnOut
 */
export function addRmsNorm<A extends Storage = Float32Array>(
  x: A,
  residual: A,
  cols: number,
  options?: AddRmsNormOptions,
): AddRmsNormResult<A> {
  const s = rmsFamilySettings(x, cols, options, false, ['y', 'sum', 'rstd'], 'x', true);
  const res = requireStorage('residual', residual, s.dtype);
  requireLength('residual', res, s.x.length, 'x.length');
  const half = s.dtype !== 'float32';
  const backend = resolveKernel(s.backend, half ? 'addRmsNorm16' : 'addRmsNorm');
  const { y: givenY, sum: givenSum, rstd: givenRstd } = s.out;
  const y = outputStorage('options.out.y', givenY, s.x.length, 'x.length', s.dtype);
  const sum = outputStorage('options.out.sum', givenSum, s.x.length, 'x.length', s.dtype);
  const rstd = outputBuffer('options.out.rstd', givenRstd, s.rows, 'rows');
  if (givenY !== undefined || givenSum !== undefined || givenRstd !== undefined) {
    // residual first and sum the first output: the one in-place pair aliasCheck accepts is out.sum = residual
    aliasBegin();
    aliasAdd('residual', res);
    aliasAdd('x', s.x);
    aliasAdd('options.gamma', s.gamma);
    aliasAdd('options.beta', s.beta);
    aliasAdd('options.out.sum', givenSum === undefined ? null : sum);
    aliasAdd('options.out.y', givenY === undefined ? null : y);
    aliasAdd('options.out.rstd', givenRstd === undefined ? null : rstd);
    aliasCheck(4, true);
  }
  if (s.rows > 0) {
    const common = {
      gamma: s.gamma, beta: s.beta, gammaOffset: s.gammaOffset, rstd, rows: s.rows, cols: s.cols, k: s.k,
      divisor: s.divisor, eps: s.eps, epsOutside: s.epsOutside,
    };
    if (half) {
      const x16 = s.x as Uint16Array;
      backend.addRmsNorm16!({ ...common, dtype: s.dtype as 'float16', x: x16, residual: res as Uint16Array, sum: sum as Uint16Array, y: y as Uint16Array });
    } else {
      backend.addRmsNorm!({ ...common, x: s.x as Float32Array, residual: res as Float32Array, sum: sum as Float32Array, y: y as Float32Array });
    }
  }
  return { y, sum, rstd } as AddRmsNormResult<A>;
}

/** dx (storage type, may be exactly dy or dsum), dgamma/dbeta (when gamma/beta given): caller's or fresh. */
function backwardOutputs(
  s: ReturnType<typeof rmsFamilySettings>, dy: Storage, dsum: Storage | null, rstd: Float32Array,
): BackwardResult<Storage> {
  const out = s.out;
  for (const [key, param] of [['dgamma', s.gamma], ['dbeta', s.beta]] as const) {
    if (param === null && out[key] !== undefined) {
      throw new RangeError(`options.out.${key} needs options.${key.slice(1)}: without it there is no ${key}`);
    }
  }
  const dx = outputStorage('options.out.dx', out.dx, s.x.length, 'x.length', s.dtype);
  const dgamma = s.gamma === null ? null : outputBuffer('options.out.dgamma', out.dgamma, s.cols, 'cols');
  const dbeta = s.beta === null ? null : outputBuffer('options.out.dbeta', out.dbeta, s.cols, 'cols');
  if (out.dx !== undefined || out.dgamma !== undefined || out.dbeta !== undefined) {
    // the in-place input (first registered) is whichever of dy / dsum dx is given as
    const dsumFirst = dsum !== null && out.dx === dsum;
    aliasBegin();
    aliasAdd(dsumFirst ? 'dsum' : 'dy', dsumFirst ? dsum : dy);
    aliasAdd(dsumFirst ? 'dy' : 'dsum', dsumFirst ? dy : dsum);
    aliasAdd('sum', s.x);
    aliasAdd('rstd', rstd);
    aliasAdd('options.gamma', s.gamma);
    aliasAdd('options.beta', s.beta);
    aliasAdd('options.out.dx', out.dx === undefined ? null : dx);
    aliasAdd('options.out.dgamma', out.dgamma === undefined ? null : dgamma);
    aliasAdd('options.out.dbeta', out.dbeta === undefined ? null : dbeta);
    aliasCheck(6, true);
  }
  return { dx, dgamma, dbeta };
}

/**
 * Gradients of addRmsNorm. With dy = ∂L/∂y and dsum = ∂L/∂sum (the gradient reaching the residual stream output;
 * null when none):
 *
 *   dx = dsum + ∂y/∂sum · dy      (the RMSNorm backward of `sum`, docs/math.md §3, plus dsum)
 *
 * dx is the gradient of both x and residual (∂sum/∂x = ∂sum/∂residual = I). dgamma = Σ_rows dy ⊙ sum·rstd,
 * dbeta = Σ_rows dy. Pass the forward's `sum` and `rstd` and the same options; `out.dx` may be dy or dsum itself.
 *
 * @example
 * const f = addRmsNorm(x, residual, cols, { gamma });
 * const { dx, dgamma } = addRmsNormBackward(dy, dsum, f.sum, f.rstd, cols, { gamma });
 */
export function addRmsNormBackward<A extends Storage = Float32Array>(
  dy: A, dsum: A | null, sum: A, rstd: Float32Array, cols: number, options: AddRmsNormBackwardOptions & WithGamma & WithBeta,
): BackwardResultWith<A, 'dgamma' | 'dbeta'>;
export function addRmsNormBackward<A extends Storage = Float32Array>(
  dy: A, dsum: A | null, sum: A, rstd: Float32Array, cols: number, options: AddRmsNormBackwardOptions & WithGamma,
): BackwardResultWith<A, 'dgamma'>;
export function addRmsNormBackward<A extends Storage = Float32Array>(
  dy: A, dsum: A | null, sum: A, rstd: Float32Array, cols: number, options: AddRmsNormBackwardOptions & WithBeta,
): BackwardResultWith<A, 'dbeta'>;
export function addRmsNormBackward<A extends Storage = Float32Array>(
  dy: A, dsum: A | null, sum: A, rstd: Float32Array, cols: number, options?: AddRmsNormBackwardOptions,
): BackwardResult<A>;
export function addRmsNormBackward<A extends Storage = Float32Array>(
  dy: A,
  dsum: A | null,
  sum: A,
  rstd: Float32Array,
  cols: number,
  options?: AddRmsNormBackwardOptions,
): BackwardResult<A> {
  const s = rmsFamilySettings(sum, cols, options, false, ['dx', 'dgamma', 'dbeta'], 'sum', true);
  const dys = requireStorage('dy', dy, s.dtype);
  requireLength('dy', dys, s.x.length, 'sum.length');
  const dsums = dsum === null ? null : requireStorage('dsum', dsum, s.dtype);
  if (dsums !== null) requireLength('dsum', dsums, s.x.length, 'sum.length');
  const rs = requireFloat32Array('rstd', rstd);
  requireLength('rstd', rs, s.rows, 'rows');
  const half = s.dtype !== 'float32';
  const backend = resolveKernel(s.backend, half ? 'addRmsNormBackward16' : 'addRmsNormBackward');
  const { dx, dgamma, dbeta } = backwardOutputs(s, dys, dsums, rs);
  if (s.rows === 0) {
    dgamma?.fill(0);
    dbeta?.fill(0);
    return { dx, dgamma, dbeta } as BackwardResult<A>;
  }
  const common = {
    rstd: rs, gamma: s.gamma, gammaOffset: s.gammaOffset, dgamma, dbeta, rows: s.rows, cols: s.cols, k: s.k,
    divisor: s.divisor, eps: s.eps, epsOutside: s.epsOutside, workspace: workspaceFor(s.cols),
  };
  if (half) {
    backend.addRmsNormBackward16!({
      ...common, dtype: s.dtype as 'float16', dy: dys as Uint16Array, dsum: dsums as Uint16Array | null,
      sum: s.x as Uint16Array, dx: dx as Uint16Array,
    });
  } else {
    backend.addRmsNormBackward!({
      ...common, dy: dys as Float32Array, dsum: dsums as Float32Array | null, sum: s.x as Float32Array,
      dx: dx as Float32Array,
    });
  }
  return { dx, dgamma, dbeta } as BackwardResult<A>;
}
