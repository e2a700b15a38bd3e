// Registered tfjs kernels (cpu, wasm) and gradients for the RMS family (RMSNorm, pRMSNorm, L2-Norm) and LayerNorm.
// Each kernel runs the core op of src/ops on the backend's own memory (zero copy); gradients use the fused backward.
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { l2Norm, l2NormBackward, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward } from '../index.js';
import type { BackendName, EpsPlacement, KRule } from '../types.js';
import { KERNEL_BACKENDS, withKernelData, type KernelBackendName } from './kernel-io.js';

/** Kernel names (prefixed so they never clash with tfjs's own kernels). */
export const RMS_FAMILY = 'RmsnormRmsFamily';
export const RMS_FAMILY_GRAD = 'RmsnormRmsFamilyGrad';
export const LAYER_NORM = 'RmsnormLayerNorm';
export const LAYER_NORM_GRAD = 'RmsnormLayerNormGrad';

/** Attributes of the RMS family kernels. x arrives as rows × cols, gamma/beta as [cols]. */
export interface RmsFamilyAttrs {
  l2: boolean;
  hasGamma: boolean;
  hasBeta: boolean;
  eps: number;
  epsPlacement: EpsPlacement;
  p: number;
  kRule: KRule;
  gammaOffset: number;
}

/** Attributes of the LayerNorm kernels. */
export interface LayerNormAttrs {
  hasGamma: boolean;
  hasBeta: boolean;
  eps: number;
}

let coreBackend: BackendName = 'auto';

/**
 * Choose which core kernel implementation (src/backends) the tfjs kernels call: 'auto' (default), 'js' or 'wasm'.
 * @example setTfjsCoreBackend('js');
 */
export function setTfjsCoreBackend(name: BackendName): void {
  if (name !== 'auto' && name !== 'js' && name !== 'wasm') {
    throw new RangeError(`name must be one of 'auto', 'js', 'wasm', got ${String(name)}`);
  }
  coreBackend = name;
}

function rmsOptions(a: RmsFamilyAttrs, gamma: Float32Array | null, beta: Float32Array | null) {
  const common = {
    gamma: gamma ?? undefined,
    beta: beta ?? undefined,
    eps: a.eps,
    epsPlacement: a.epsPlacement,
    backend: coreBackend,
    ...(a.hasGamma ? { gammaOffset: a.gammaOffset } : {}),
  };
  return a.l2 ? common : { ...common, p: a.p, kRule: a.kRule };
}

/** Split [x, gamma?, beta?]-style optional trailing inputs by the presence flags. */
function optionalInputs<T>(list: readonly T[], start: number, hasGamma: boolean, hasBeta: boolean) {
  let i = start;
  const gamma = hasGamma ? list[i++] : null;
  const beta = hasBeta ? list[i++] : null;
  return { gamma, beta };
}

function rmsFamilyKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: { inputs: unknown; attrs?: NamedAttrMap; backend: unknown }): TensorInfo[] => {
    const a = attrs as unknown as RmsFamilyAttrs;
    const list = inputs as TensorInfo[];
    const x = list[0];
    const [rows, cols] = x.shape;
    const { gamma, beta } = optionalInputs(list, 1, a.hasGamma, a.hasBeta);
    return withKernelData(backendName, backend, [x, gamma, beta], [[rows, cols], [rows]], (ins, outs) => {
      const o = { ...rmsOptions(a, ins[1], ins[2]), out: { y: outs[0], rstd: outs[1] } };
      if (a.l2) l2Norm(ins[0]!, cols, o);
      else rmsNorm(ins[0]!, cols, o);
    });
  };
}

function rmsFamilyGradKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: { inputs: unknown; attrs?: NamedAttrMap; backend: unknown }): TensorInfo[] => {
    const a = attrs as unknown as RmsFamilyAttrs;
    const list = inputs as TensorInfo[]; // [dy, x, rstd, gamma?, beta?]
    const [rows, cols] = list[1].shape;
    const { gamma, beta } = optionalInputs(list, 3, a.hasGamma, a.hasBeta);
    const shapes = [[rows, cols], ...(a.hasGamma ? [[cols]] : []), ...(a.hasBeta ? [[cols]] : [])];
    return withKernelData(backendName, backend, [list[0], list[1], list[2], gamma, beta], shapes, (ins, outs) => {
      const out = { dx: outs[0], ...(a.hasGamma ? { dgamma: outs[1] } : {}), ...(a.hasBeta ? { dbeta: outs[outs.length - 1] } : {}) };
      const o = { ...rmsOptions(a, ins[3], ins[4]), out };
      if (a.l2) l2NormBackward(ins[0]!, ins[1]!, ins[2]!, cols, o);
      else rmsNormBackward(ins[0]!, ins[1]!, ins[2]!, cols, o);
    });
  };
}

function layerNormKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: { inputs: unknown; attrs?: NamedAttrMap; backend: unknown }): TensorInfo[] => {
    const a = attrs as unknown as LayerNormAttrs;
    const list = inputs as TensorInfo[];
    const x = list[0];
    const [rows, cols] = x.shape;
    const { gamma, beta } = optionalInputs(list, 1, a.hasGamma, a.hasBeta);
    return withKernelData(backendName, backend, [x, gamma, beta], [[rows, cols], [rows], [rows]], (ins, outs) => {
      layerNorm(ins[0]!, cols, {
        gamma: ins[1] ?? undefined, beta: ins[2] ?? undefined, eps: a.eps, backend: coreBackend,
        out: { y: outs[0], mean: outs[1], rstd: outs[2] },
      });
    });
  };
}

function layerNormGradKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: { inputs: unknown; attrs?: NamedAttrMap; backend: unknown }): TensorInfo[] => {
    const a = attrs as unknown as LayerNormAttrs;
    const list = inputs as TensorInfo[]; // [dy, x, mean, rstd, gamma?, beta?]
    const [rows, cols] = list[1].shape;
    const { gamma, beta } = optionalInputs(list, 4, a.hasGamma, a.hasBeta);
    const shapes = [[rows, cols], ...(a.hasGamma ? [[cols]] : []), ...(a.hasBeta ? [[cols]] : [])];
    const ins4 = [list[0], list[1], list[2], list[3], gamma, beta];
    return withKernelData(backendName, backend, ins4, shapes, (ins, outs) => {
      const out = { dx: outs[0], ...(a.hasGamma ? { dgamma: outs[1] } : {}), ...(a.hasBeta ? { dbeta: outs[outs.length - 1] } : {}) };
      layerNormBackward(ins[0]!, ins[1]!, ins[2]!, ins[3]!, cols, {
        gamma: ins[4] ?? undefined, beta: ins[5] ?? undefined, eps: a.eps, backend: coreBackend, out,
      });
    });
  };
}

/**
 * Gradient thunks for [x, gamma?, beta?] from one fused backward kernel run. The x thunk runs the kernel and keeps
 * dgamma/dbeta as plain arrays (never tf.keep'd tensors: a kept tensor whose thunk the tape prunes would leak);
 * a parameter thunk reuses them, or runs the kernel itself (once) when the x thunk was pruned.
 */
function gradThunks(
  run: () => Tensor[],
  hasGamma: boolean,
  hasBeta: boolean,
): Record<string, () => Tensor> {
  let params: Float32Array[] | null = null;
  // Only cpu/wasm read back synchronously (webgpu's dataSync needs OffscreenCanvas): elsewhere each parameter
  // thunk runs the backward kernel itself, and its unused outputs die in the thunk's tidy.
  const syncRead = (KERNEL_BACKENDS as readonly string[]).includes(tf.getBackend());
  const compute = (): Tensor[] => {
    const outs = run();
    if (syncRead) params = outs.slice(1).map((t) => (t.dataSync() as Float32Array).slice());
    return outs;
  };
  const thunks: Record<string, () => Tensor> = { 0: () => compute()[0] };
  const paramThunk = (i: number) => () => (params !== null ? tf.tensor1d(params[i - 1], 'float32') : compute()[i]);
  let i = 1;
  if (hasGamma) thunks[i] = paramThunk(i++);
  if (hasBeta) thunks[i] = paramThunk(i++);
  return thunks;
}

function firstDy(dy: Tensor | Tensor[]): Tensor {
  return Array.isArray(dy) ? dy[0] : dy;
}

function register(): void {
  for (const backendName of KERNEL_BACKENDS) {
    const pairs: Array<[string, (b: KernelBackendName) => tf.KernelFunc]> = [
      [RMS_FAMILY, rmsFamilyKernel as never],
      [RMS_FAMILY_GRAD, rmsFamilyGradKernel as never],
      [LAYER_NORM, layerNormKernel as never],
      [LAYER_NORM_GRAD, layerNormGradKernel as never],
    ];
    for (const [kernelName, make] of pairs) {
      // A second copy of this module (src and dist loaded together) must not re-register and warn.
      if (tf.getKernel(kernelName, backendName) === undefined) {
        tf.registerKernel({ kernelName, backendName, kernelFunc: make(backendName) });
      }
    }
  }
  if (tf.getGradient(RMS_FAMILY) === undefined) {
    tf.registerGradient({
      kernelName: RMS_FAMILY,
      saveAllInputs: true,
      outputsToSave: [false, true],
      gradFunc: (dy, saved, attrs) => {
        const a = attrs as unknown as RmsFamilyAttrs;
        const x = saved[0];
        const rstd = saved[saved.length - 1];
        const params = saved.slice(1, saved.length - 1);
        const run = () => tf.engine().runKernel(RMS_FAMILY_GRAD, [firstDy(dy), x, rstd, ...params] as never, attrs as never) as Tensor[];
        return gradThunks(run, a.hasGamma, a.hasBeta);
      },
    });
  }
  if (tf.getGradient(LAYER_NORM) === undefined) {
    tf.registerGradient({
      kernelName: LAYER_NORM,
      saveAllInputs: true,
      outputsToSave: [false, true, true],
      gradFunc: (dy, saved, attrs) => {
        const a = attrs as unknown as LayerNormAttrs;
        const n = saved.length;
        const x = saved[0];
        const mean = saved[n - 2];
        const rstd = saved[n - 1];
        const params = saved.slice(1, n - 2);
        const run = () => tf.engine().runKernel(LAYER_NORM_GRAD, [firstDy(dy), x, mean, rstd, ...params] as never, attrs as never) as Tensor[];
        return gradThunks(run, a.hasGamma, a.hasBeta);
      },
    });
  }
}

register();
