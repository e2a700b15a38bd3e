// Public LayerNorm ops (the paper's baseline): validate, allocate, pick the backend, dispatch.
import { resolveBackend } from '../backends/backend.js';
import type { BackwardResult, LayerNormBackwardOptions, LayerNormOptions, LayerNormResult } from '../types.js';
import { backwardOutputs } from './backward-outputs.js';
import {
  aliasAdd,
  aliasBegin,
  aliasCheck,
  enumOption,
  epsOption,
  optionalFloat32Array,
  optionsObject,
  outObject,
  outputBuffer,
  requireFloat32Array,
  requireLength,
  rowsOf,
  workspaceFor,
} from './validate.js';

const BACKENDS = ['auto', 'js', 'wasm'] as const;
const LN_KEYS = ['gamma', 'beta', 'eps', 'backend', 'out'] as const;

function settings(x: unknown, cols: unknown, options: unknown, outKeys: readonly string[]) {
  const o = optionsObject<LayerNormOptions>(options, LN_KEYS);
  const xs = requireFloat32Array('x', x);
  const rows = rowsOf(xs, cols);
  const n = cols as number;
  return {
    x: xs,
    cols: n,
    rows,
    gamma: optionalFloat32Array('options.gamma', o.gamma, n) ?? null,
    beta: optionalFloat32Array('options.beta', o.beta, n) ?? null,
    eps: epsOption(o.eps),
    backend: enumOption('options.backend', o.backend, BACKENDS, 'auto'),
    out: outObject(o.out, outKeys),
  };
}

/**
 * LayerNorm over the last axis (the paper's baseline):
 *
 *   mean = (1/cols) Σ x,  var = (1/cols) Σ (x − mean)²  (population, two-pass),  rstd = 1/sqrt(var + eps)
 *   y    = (x − mean) · rstd · gamma + beta
 *
 * Shapes: x rows × cols; gamma/beta cols; y rows × cols; mean and rstd rows. eps (default 1e-6) is inside the sqrt.
 *
 * @example
 * const { y, mean, rstd } = layerNorm(new Float32Array([1, 2, 3]), 3); // y ≈ [-1.2247, 0, 1.2247]
 */
export function layerNorm(x: Float32Array, cols: number, options?: LayerNormOptions): LayerNormResult {
  const s = settings(x, cols, options, ['y', 'mean', 'rstd']);
  const backend = resolveBackend(s.backend);
  const givenY = s.out.y;
  const givenMean = s.out.mean;
  const givenRstd = s.out.rstd;
  const y = outputBuffer('options.out.y', givenY, s.x.length, 'x.length');
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
  if (s.rows > 0) {
    backend.layerNorm({ x: s.x, gamma: s.gamma, beta: s.beta, y, mean, rstd, rows: s.rows, cols: s.cols, eps: s.eps });
  }
  return { y, mean, rstd };
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
export function layerNormBackward(
  dy: Float32Array,
  x: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  cols: number,
  options?: LayerNormBackwardOptions,
): BackwardResult {
  const s = settings(x, cols, options, ['dx', 'dgamma', 'dbeta']);
  const dys = requireFloat32Array('dy', dy);
  const means = requireFloat32Array('mean', mean);
  const rs = requireFloat32Array('rstd', rstd);
  requireLength('dy', dys, s.x.length, 'x.length');
  requireLength('mean', means, s.rows, 'rows');
  requireLength('rstd', rs, s.rows, 'rows');
  const backend = resolveBackend(s.backend);
  const { dx, dgamma, dbeta } = backwardOutputs(s.out, dys, s.x, means, rs, s.gamma, s.beta, s.cols);
  if (s.rows === 0) {
    dgamma?.fill(0);
    dbeta?.fill(0);
  } else {
    backend.layerNormBackward({
      dy: dys, x: s.x, mean: means, rstd: rs, gamma: s.gamma, dx, dgamma, dbeta,
      rows: s.rows, cols: s.cols, workspace: workspaceFor(s.cols),
    });
  }
  return { dx, dgamma, dbeta };
}
