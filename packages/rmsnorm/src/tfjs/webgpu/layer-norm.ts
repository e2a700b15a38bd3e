// WGSL kernels of LayerNorm for the tfjs 'webgpu' backend, under the cpu/wasm kernels' names and attrs: forward
// (y, mean, rstd; two-pass variance) and backward (dx, dgamma?, dbeta?). One workgroup per row for the statistics
// (f32, tree reduction), element-wise programs for y and dx, one workgroup per column for dgamma/dbeta.
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { LayerNormAttrs } from '../kernels.js';
import { columnSumProgram, elementwiseProgram, perGroupProgram, reductionWidth, ROW_PREAMBLE, rowsCols, type WebGpuBackendLike } from './program.js';

const ROW_UNIFORMS = 'rows : i32, cols : i32, eps : f32,';

/** mean[r] = Σ x / cols. */
function meanProgram(rows: number, cols: number) {
  const width = reductionWidth(cols);
  const body = `${ROW_PREAMBLE}
    var acc = 0.0;
    if (valid) {
      for (var i = i32(localId.x); i < uniforms.cols; i = i + ${width}) { acc = acc + x[base + i]; }
    }
    let total = treeSum(acc);
    if (valid && localId.x == 0u) { result[row] = total / f32(uniforms.cols); }`;
  return perGroupProgram('ln_mean', [rows], rows, width, ['x'], ROW_UNIFORMS, body);
}

/** rstd[r] = 1/sqrt(Σ (x − mean)² / cols + eps), the second pass over the row. Inputs [x, mean]. */
function rstdProgram(rows: number, cols: number) {
  const width = reductionWidth(cols);
  const body = `${ROW_PREAMBLE}
    var acc = 0.0;
    if (valid) {
      let m = mean[row];
      for (var i = i32(localId.x); i < uniforms.cols; i = i + ${width}) {
        let d = x[base + i] - m;
        acc = acc + d * d;
      }
    }
    let total = treeSum(acc);
    if (valid && localId.x == 0u) { result[row] = 1.0 / sqrt(total / f32(uniforms.cols) + uniforms.eps); }`;
  return perGroupProgram('ln_rstd', [rows], rows, width, ['x', 'mean'], ROW_UNIFORMS, body);
}

function gain(a: LayerNormAttrs): string {
  return a.hasGamma ? 'gamma[j]' : '1.0';
}

/** y = (x − mean)·rstd·gamma + beta. Inputs [x, mean, rstd, gamma?, beta?]. */
function yProgram(a: LayerNormAttrs, rows: number, cols: number) {
  const names = ['x', 'mean', 'rstd', ...(a.hasGamma ? ['gamma'] : []), ...(a.hasBeta ? ['beta'] : [])];
  const body = `var v = (x[index] - mean[row]) * rstd[row] * ${gain(a)};${a.hasBeta ? ' v = v + beta[j];' : ''}`;
  return elementwiseProgram(`ln_y_${names.join('_')}`, rows, cols, names, 'cols : i32,', body);
}

/**
 * Per-row [mean(u), mean(u ⊙ x̂)] with u = gamma ⊙ dy, x̂ = (x − mean)·rstd, as a rows × 2 tensor (an internal
 * intermediate, so one program writes both). Inputs [dy, x, mean, rstd, gamma?].
 */
function rowMeansProgram(a: LayerNormAttrs, rows: number, cols: number) {
  const width = reductionWidth(cols);
  const names = ['dy', 'x', 'mean', 'rstd', ...(a.hasGamma ? ['gamma'] : [])];
  const body = `${ROW_PREAMBLE}
    var accU = 0.0;
    var accUX = 0.0;
    if (valid) {
      let m = mean[row];
      let r = rstd[row];
      for (var j = i32(localId.x); j < uniforms.cols; j = j + ${width}) {
        let u = ${gain(a)} * dy[base + j];
        accU = accU + u;
        accUX = accUX + u * (x[base + j] - m) * r;
      }
    }
    let sumU = treeSum(accU);
    let sumUX = treeSum(accUX);
    if (valid && localId.x == 0u) {
      result[2 * row] = sumU / f32(uniforms.cols);
      result[2 * row + 1] = sumUX / f32(uniforms.cols);
    }`;
  return perGroupProgram(`ln_rowmeans_${names.join('_')}`, [rows, 2], rows, width, names, ROW_UNIFORMS, body);
}

/** dx = rstd·(u − mean(u) − x̂·mean(u ⊙ x̂)). Inputs [dy, x, mean, rstd, rowMeans, gamma?]. */
function dxProgram(a: LayerNormAttrs, rows: number, cols: number) {
  const names = ['dy', 'x', 'mean', 'rstd', 'rowMeans', ...(a.hasGamma ? ['gamma'] : [])];
  const body = `
    let r = rstd[row];
    let xhat = (x[index] - mean[row]) * r;
    let v = r * (${gain(a)} * dy[index] - rowMeans[2 * row] - xhat * rowMeans[2 * row + 1]);`;
  return elementwiseProgram(`ln_dx_${names.join('_')}`, rows, cols, names, 'cols : i32,', body);
}

/** Kernel `RmsnormLayerNorm` on webgpu: inputs [x (rows × cols), gamma?, beta?] → [y, mean, rstd]. */
export function layerNormWebGpu({ inputs, attrs, backend }: { inputs: unknown; attrs?: NamedAttrMap; backend: unknown }): TensorInfo[] {
  const a = attrs as unknown as LayerNormAttrs;
  const b = backend as WebGpuBackendLike;
  const list = inputs as TensorInfo[];
  const x = list[0];
  const [rows, cols] = x.shape;
  const u = [...rowsCols(rows, cols), { type: 'float32' as const, data: [a.eps] }];
  const mean = b.runWebGPUProgram(meanProgram(rows, cols), [x], 'float32', u);
  const rstd = b.runWebGPUProgram(rstdProgram(rows, cols), [x, mean], 'float32', u);
  const y = b.runWebGPUProgram(yProgram(a, rows, cols), [x, mean, rstd, ...list.slice(1)], 'float32', [
    { type: 'int32', data: [cols] },
  ]);
  return [y, mean, rstd];
}

/** Kernel `RmsnormLayerNormGrad` on webgpu: inputs [dy, x, mean, rstd, gamma?] → [dx, dgamma?, dbeta?]. */
export function layerNormGradWebGpu({ inputs, attrs, backend }: { inputs: unknown; attrs?: NamedAttrMap; backend: unknown }): TensorInfo[] {
  const a = attrs as unknown as LayerNormAttrs;
  const b = backend as WebGpuBackendLike;
  const [dy, x, mean, rstd, ...params] = inputs as TensorInfo[];
  const [rows, cols] = x.shape;
  const gamma = a.hasGamma ? [params[0]] : [];
  const u = [...rowsCols(rows, cols), { type: 'float32' as const, data: [a.eps] }];
  const rowMeans = b.runWebGPUProgram(rowMeansProgram(a, rows, cols), [dy, x, mean, rstd, ...gamma], 'float32', u);
  const dx = b.runWebGPUProgram(dxProgram(a, rows, cols), [dy, x, mean, rstd, rowMeans, ...gamma], 'float32', [
    { type: 'int32', data: [cols] },
  ]);
  b.disposeData(rowMeans.dataId);
  const outs = [dx];
  if (a.hasGamma) outs.push(b.runWebGPUProgram(columnSumProgram('dgamma', true, rows, cols), [dy, x, mean, rstd], 'float32', rowsCols(rows, cols)));
  if (a.hasBeta) outs.push(b.runWebGPUProgram(columnSumProgram('dbeta', true, rows, cols), [dy], 'float32', rowsCols(rows, cols)));
  return outs;
}
