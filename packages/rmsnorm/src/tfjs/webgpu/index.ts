// Opt-in registration of our WGSL kernels for the tfjs 'webgpu' backend. Importing this file imports neither
// @tensorflow/tfjs-backend-webgpu nor `webgpu`: the kernels are plain program objects the backend compiles.
import * as tf from '@tensorflow/tfjs';
import { LAYER_NORM, LAYER_NORM_GRAD, RMS_FAMILY, RMS_FAMILY_GRAD } from '../kernels.js';
import { layerNormGradWebGpu, layerNormWebGpu } from './layer-norm.js';
import { rmsFamilyGradWebGpu, rmsFamilyWebGpu } from './rms-norm.js';

/**
 * Register the fused kernels `RmsnormRmsFamily(Grad)` and `RmsnormLayerNorm(Grad)` for the tfjs `webgpu` backend
 * (@tensorflow/tfjs-backend-webgpu 4.x), so `rmsNorm`, `l2Norm`, `layerNorm` and the layers run fused there, with the
 * same gradients as on cpu/wasm. Idempotent; call it before or after the backend is set.
 *
 * Forward: one workgroup per row computes rstd (and mean) with f32 accumulation and a workgroup tree reduction, then
 * an element-wise program writes y. Backward: one workgroup per row computes the dx correction terms, an
 * element-wise program writes dx, one workgroup per column sums dgamma/dbeta over rows (no atomics).
 *
 * @example
 * import '@tensorflow/tfjs-backend-webgpu';
 * registerWebGpuKernels();
 * await tf.setBackend('webgpu');
 * const y = rmsNorm(tf.randomNormal([8, 64]), tf.ones([64]));
 */
export function registerWebGpuKernels(): void {
  const kernels: Array<[string, tf.KernelFunc]> = [
    [RMS_FAMILY, rmsFamilyWebGpu as unknown as tf.KernelFunc],
    [RMS_FAMILY_GRAD, rmsFamilyGradWebGpu as unknown as tf.KernelFunc],
    [LAYER_NORM, layerNormWebGpu as unknown as tf.KernelFunc],
    [LAYER_NORM_GRAD, layerNormGradWebGpu as unknown as tf.KernelFunc],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, 'webgpu') === undefined) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
  }
}
