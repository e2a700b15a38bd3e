// The fused residual add + RMSNorm as a tfjs op with its gradient (both outputs: y and the updated residual stream
// sum): registered kernels on the cpu and wasm tfjs backends, the composed tf ops elsewhere. Formulas: docs/math.md §7.
// tfjs has no float16 tensors: the plug-in computes and stores in float32 (core options.dtype is for plain arrays).
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { resolveKernel, type AddRmsNormBackwardKernelArgs, type AddRmsNormKernelArgs, type Backend } from '../backends/backend.js';
import { describe, enumOption, epsOption, finiteNumberOption, pOption, workspaceFor } from '../ops/validate.js';
import { partialK } from '../ops/partial-k.js';
import type { EpsPlacement, KRule } from '../types.js';
import { rmsNormComposite } from './composite.js';
import { coreFor, f32, KERNEL_BACKENDS, makeOutput, requireFloat32, type KernelBackendName } from './kernel-io.js';
import { tfjsCoreBackend } from './kernels.js';

/** Kernel names (prefixed so they never clash with tfjs's own kernels). */
export const ADD_RMS_NORM = 'RmsnormAddRmsNorm';
export const ADD_RMS_NORM_GRAD = 'RmsnormAddRmsNormGrad';

/** Attributes of the fused kernels; x and residual arrive as rows × cols, gamma/beta as [cols]. */
export interface AddRmsNormAttrs {
  hasGamma: boolean;
  hasBeta: boolean;
  eps: number;
  epsPlacement: EpsPlacement;
  p: number;
  kRule: KRule;
  gammaOffset: number;
}

/** Options of the tfjs `addRmsNorm` op (normalises the last axis). */
export interface TfAddRmsNormOptions {
  /** Bias added after the scaling, shape [cols]. */
  beta?: Tensor | null;
  /** y = sum·rstd·(gammaOffset + gamma) + beta. Default 0. Needs gamma. */
  gammaOffset?: number;
  /** Default 1e-6. */
  eps?: number;
  /** Default 'inside'. */
  epsPlacement?: EpsPlacement;
  /** pRMSNorm fraction in (0, 1]; default 1. */
  p?: number;
  /** Default 'ceil'. */
  kRule?: KRule;
}

const KEYS = ['beta', 'gammaOffset', 'eps', 'epsPlacement', 'p', 'kRule'];

/**
 * The core kernels for this tfjs backend: the chosen core (our SIMD module on tfjs's heap on wasm) when it defines
 * the fused kernel, else the js kernels — which also run in place on the tensors' memory, so nothing is copied.
 */
function fusedCore(backendName: KernelBackendName, backend: unknown): Backend {
  const core = coreFor(backendName, backend, tfjsCoreBackend());
  return typeof core.addRmsNorm === 'function' && typeof core.addRmsNormBackward === 'function'
    ? core
    : resolveKernel('js', 'addRmsNorm');
}

function kSettings(a: AddRmsNormAttrs, cols: number) {
  const k = a.p === 1 ? cols : partialK(a.p, cols, a.kRule);
  return { k, divisor: k, eps: a.eps, epsOutside: a.epsPlacement === 'outside', gammaOffset: a.hasGamma ? a.gammaOffset : 0 };
}

type KernelArgs = { inputs: unknown; attrs?: NamedAttrMap; backend: unknown };

/** [x, residual, gamma?, beta?] → [y, sum, rstd]. */
function forwardKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: KernelArgs): TensorInfo[] => {
    const a = attrs as unknown as AddRmsNormAttrs;
    const list = inputs as TensorInfo[];
    requireFloat32(list);
    const [rows, cols] = list[0].shape;
    const y = makeOutput(backendName, backend, [rows, cols], rows * cols);
    const sum = makeOutput(backendName, backend, [rows, cols], rows * cols);
    const rstd = makeOutput(backendName, backend, [rows], rows);
    if (rows > 0) {
      // views only after the last makeOutput (a wasm heap growth detaches earlier ones)
      const view = (t: TensorInfo) => f32(backendName, backend, t);
      const args: AddRmsNormKernelArgs = {
        x: view(list[0]), residual: view(list[1]), sum: view(sum), y: view(y), rstd: view(rstd),
        gamma: a.hasGamma ? view(list[2]) : null, beta: a.hasBeta ? view(list[a.hasGamma ? 3 : 2]) : null,
        rows, cols, ...kSettings(a, cols),
      };
      fusedCore(backendName, backend).addRmsNorm!(args);
    }
    return [y, sum, rstd];
  };
}

/** [dy, dsum, sum, rstd, gamma?] → [dx, dgamma?, dbeta?]. */
function gradKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: KernelArgs): TensorInfo[] => {
    const a = attrs as unknown as AddRmsNormAttrs;
    const list = inputs as TensorInfo[];
    requireFloat32(list);
    const [rows, cols] = list[2].shape;
    const outs = [makeOutput(backendName, backend, [rows, cols], rows * cols)];
    if (a.hasGamma) outs.push(makeOutput(backendName, backend, [cols], cols));
    if (a.hasBeta) outs.push(makeOutput(backendName, backend, [cols], cols));
    const view = (t: TensorInfo) => f32(backendName, backend, t);
    const dgamma = a.hasGamma ? view(outs[1]) : null;
    const dbeta = a.hasBeta ? view(outs[outs.length - 1]) : null;
    if (rows === 0) {
      dgamma?.fill(0);
      dbeta?.fill(0);
      return outs;
    }
    const args: AddRmsNormBackwardKernelArgs = {
      dy: view(list[0]), dsum: view(list[1]), sum: view(list[2]), rstd: view(list[3]),
      gamma: a.hasGamma ? view(list[4]) : null, dx: view(outs[0]), dgamma, dbeta,
      rows, cols, workspace: workspaceFor(cols), ...kSettings(a, cols),
    };
    fusedCore(backendName, backend).addRmsNormBackward!(args);
    return outs;
  };
}

/**
 * Gradients of [x, residual, gamma?, beta?] from ONE run of the fused backward (dx is the gradient of both x and
 * residual). The first thunk the engine calls runs it; outputs are kept on the tape node's saved list (disposed when
 * backprop ends) and every thunk returns its own clone, so pruned thunks leak nothing and callers own their result.
 */
function gradThunks(run: () => Tensor[], a: AddRmsNormAttrs, saved: Tensor[]): Record<string, () => Tensor> {
  let outs: Tensor[] | null = null;
  const get = (i: number) => (): Tensor => {
    if (outs === null) {
      outs = run();
      for (const t of outs) saved.push(tf.keep(t));
    }
    return tf.clone(outs[i]);
  };
  const thunks: Record<string, () => Tensor> = { 0: get(0), 1: get(0) };
  let next = 2;
  if (a.hasGamma) thunks[next++] = get(1);
  if (a.hasBeta) thunks[next] = get(a.hasGamma ? 2 : 1);
  return thunks;
}

function register(): void {
  for (const backendName of KERNEL_BACKENDS) {
    for (const [kernelName, make] of [[ADD_RMS_NORM, forwardKernel], [ADD_RMS_NORM_GRAD, gradKernel]] as const) {
      if (tf.getKernel(kernelName, backendName) === undefined) {
        tf.registerKernel({ kernelName, backendName, kernelFunc: make(backendName) as never });
      }
    }
  }
  if (tf.getGradient(ADD_RMS_NORM) === undefined) {
    tf.registerGradient({
      kernelName: ADD_RMS_NORM,
      // saved = [x, residual, gamma?, beta?, sum, rstd]
      saveAllInputs: true,
      outputsToSave: [false, true, true],
      gradFunc: (dy, saved, attrs) => {
        const a = attrs as unknown as AddRmsNormAttrs;
        const dys = Array.isArray(dy) ? dy : [dy];
        const n = saved.length;
        const inputs = [dys[0], dys[1], saved[n - 2], saved[n - 1], ...(a.hasGamma ? [saved[2]] : [])];
        const run = () => tf.engine().runKernel(ADD_RMS_NORM_GRAD, inputs as never, attrs as never) as Tensor[];
        return gradThunks(run, a, saved);
      },
    });
  }
}

register();

function requireTensor(name: string, value: unknown): Tensor {
  if (!(value instanceof tf.Tensor)) throw new TypeError(`${name} must be a tf.Tensor, got ${describe(value)}`);
  if (value.dtype !== 'float32') {
    throw new TypeError(`${name} must have dtype float32 (tfjs has no float16 tensors), got ${value.dtype}`);
  }
  return value;
}

function vector(name: string, value: unknown, cols: number): Tensor | null {
  if (value === undefined || value === null) return null;
  const t = requireTensor(name, value);
  if (t.size !== cols) throw new RangeError(`${name} must have ${cols} values (the last axis), got shape [${t.shape.join(', ')}]`);
  return t;
}

function checkedOptions(options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new TypeError(`options.${key} is not a known option (expected one of: ${KEYS.join(', ')})`);
  }
  return options as Record<string, unknown>;
}

/**
 * Residual add fused with RMSNorm over the last axis (pre-norm transformer blocks, LLaMA style):
 *
 *   sum = x + residual,   y = sum · rstd · (gammaOffset + gamma) + beta,   rstd = 1/sqrt((1/k) Σ_{i<k} sum_i² + eps)
 *
 * Shapes: x and residual alike (rank ≥ 1); gamma/beta [cols]; y and sum like x. Differentiable w.r.t. x, residual,
 * gamma and beta through both outputs (one fused backward kernel on cpu/wasm: dx = dsum + ∂y/∂sum·dy).
 *
 * @example
 * const { y, sum: h } = addRmsNorm(attnOut, x, gamma); // h = x + attnOut feeds the next residual add
 */
export function addRmsNorm(x: Tensor, residual: Tensor, gamma?: Tensor | null, options?: TfAddRmsNormOptions): { y: Tensor; sum: Tensor } {
  const o = checkedOptions(options);
  const xs = requireTensor('x', x);
  const rs = requireTensor('residual', residual);
  if (xs.rank < 1) throw new RangeError('x must have rank >= 1, got a scalar');
  if (!tf.util.arraysEqual(xs.shape, rs.shape)) {
    throw new RangeError(`residual must have the shape of x [${xs.shape.join(', ')}], got [${rs.shape.join(', ')}]`);
  }
  const cols = xs.shape[xs.rank - 1];
  if (cols === 0) throw new RangeError(`x must have a non-empty last axis, got shape [${xs.shape.join(', ')}]`);
  const g = vector('gamma', gamma, cols);
  const b = vector('options.beta', o.beta, cols);
  const gammaOffset = finiteNumberOption('options.gammaOffset', o.gammaOffset, 0);
  if (gammaOffset !== 0 && g === null) throw new RangeError(`options.gammaOffset (${gammaOffset}) needs gamma`);
  const attrs: AddRmsNormAttrs = {
    hasGamma: g !== null,
    hasBeta: b !== null,
    eps: epsOption(o.eps),
    epsPlacement: enumOption<EpsPlacement>('options.epsPlacement', o.epsPlacement, ['inside', 'outside'], 'inside'),
    p: pOption(o.p),
    kRule: enumOption<KRule>('options.kRule', o.kRule, ['ceil', 'floor'], 'ceil'),
    gammaOffset,
  };
  const rows = xs.size / cols;
  return tf.tidy(() => {
    const x2d = tf.reshape(xs, [rows, cols]);
    const r2d = tf.reshape(rs, [rows, cols]);
    const g1 = g === null ? null : tf.reshape(g, [cols]);
    const b1 = b === null ? null : tf.reshape(b, [cols]);
    let y2d: Tensor;
    let s2d: Tensor;
    if (tf.getKernel(ADD_RMS_NORM, tf.getBackend()) !== undefined) {
      const inputs = [x2d, r2d, ...(g1 ? [g1] : []), ...(b1 ? [b1] : [])];
      [y2d, s2d] = tf.engine().runKernel(ADD_RMS_NORM, inputs as never, attrs as never) as Tensor[];
    } else {
      s2d = tf.add(x2d, r2d);
      y2d = rmsNormComposite(s2d, g1, b1, { l2: false, ...attrs });
    }
    return { y: tf.reshape(y2d, xs.shape), sum: tf.reshape(s2d, xs.shape) };
  });
}
