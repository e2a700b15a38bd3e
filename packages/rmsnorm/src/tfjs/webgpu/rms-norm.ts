// WGSL kernels of the RMS family (RMSNorm, pRMSNorm, L2-Norm) for the tfjs 'webgpu' backend, under the cpu/wasm
// kernels' names and attrs: forward (y, rstd) and backward (dx, dgamma?, dbeta?). One workgroup per row for the
// row statistics (f32, tree reduction), element-wise programs for y and dx, one workgroup per column for dgamma/dbeta.
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { partialK } from '../../ops/partial-k.js';
import type { RmsFamilyAttrs } from '../kernels.js';
import {
  columnSumProgram, elementwiseProgram, perGroupProgram, reductionWidth, ROW_PREAMBLE, rowsCols,
  type UniformValue, type WebGpuBackendLike,
} from './program.js';

/** k (values in the statistic) and the divisor of Σx²: k for RMS/pRMS, 1 for L2 (whose k is cols). */
function statShape(a: RmsFamilyAttrs, cols: number): { k: number; div: number } {
  if (a.l2) return { k: cols, div: 1 };
  const k = partialK(a.p, cols, a.kRule);
  return { k, div: k };
}

const GAIN = (a: RmsFamilyAttrs) => (a.hasGamma ? '(uniforms.offset + gamma[j])' : '1.0');

/** rstd[r] = 1/sqrt(Σ_{i<k} x²/div + eps) ('inside') or 1/(sqrt(Σ_{i<k} x²/div) + eps) ('outside'). */
function rstdProgram(a: RmsFamilyAttrs, rows: number, k: number) {
  const width = reductionWidth(k);
  const outside = a.epsPlacement === 'outside';
  const body = `${ROW_PREAMBLE}
    var acc = 0.0;
    if (valid) {
      for (var i = i32(localId.x); i < uniforms.k; i = i + ${width}) {
        let v = x[base + i];
        acc = acc + v * v;
      }
    }
    let ms = treeSum(acc) / uniforms.div;
    if (valid && localId.x == 0u) {
      result[row] = ${outside ? '1.0 / (sqrt(ms) + uniforms.eps)' : '1.0 / sqrt(ms + uniforms.eps)'};
    }`;
  return perGroupProgram(`rms_rstd_${outside ? 'out' : 'in'}`, [rows], rows, width, ['x'],
    'rows : i32, cols : i32, k : i32, div : f32, eps : f32,', body);
}

/** y = x·rstd·(gammaOffset + gamma) + beta. Inputs [x, rstd, gamma?, beta?]. */
function yProgram(a: RmsFamilyAttrs, rows: number, cols: number) {
  const names = ['x', 'rstd', ...(a.hasGamma ? ['gamma'] : []), ...(a.hasBeta ? ['beta'] : [])];
  const body = `var v = x[index] * rstd[row] * ${GAIN(a)};${a.hasBeta ? ' v = v + beta[j];' : ''}`;
  return elementwiseProgram(`rms_y_${names.join('_')}`, rows, cols, names, 'cols : i32, offset : f32,', body);
}

/**
 * Per-row coefficient c of the dx correction (dx_j = u_j·rstd − [j<k]·x̂_j·c, u = gain·dy, x̂ = x·rstd), from
 * dot = Σ_i u_i x̂_i over all cols: inside c = rstd·dot/div; outside c = dot/(div·ρ), ρ = sqrt(Σ_{i<k} x²/div),
 * and c = 0 when ρ = 0 (the subgradient drops the term, as the reference does). Inputs [dy, x, rstd, gamma?].
 */
function coefProgram(a: RmsFamilyAttrs, rows: number, cols: number) {
  const width = reductionWidth(cols);
  const outside = a.epsPlacement === 'outside';
  const names = ['dy', 'x', 'rstd', ...(a.hasGamma ? ['gamma'] : [])];
  const body = `${ROW_PREAMBLE}
    var accDot = 0.0;
    var accSq = 0.0;
    if (valid) {
      for (var j = i32(localId.x); j < uniforms.cols; j = j + ${width}) {
        let xv = x[base + j];
        accDot = accDot + ${GAIN(a)} * dy[base + j] * xv;
        ${outside ? 'if (j < uniforms.k) { accSq = accSq + xv * xv; }' : ''}
      }
    }
    let r = select(0.0, rstd[min(row, uniforms.rows - 1)], valid);
    let dot = treeSum(accDot) * r;
    ${outside
      ? `let rho = sqrt(treeSum(accSq) / uniforms.div);
    let c = select(dot / (uniforms.div * rho), 0.0, rho == 0.0);`
      : 'let c = r * dot / uniforms.div;'}
    if (valid && localId.x == 0u) {
      result[row] = c;
    }`;
  return perGroupProgram(`rms_coef_${outside ? 'out' : 'in'}_${names.join('_')}`, [rows], rows, width, names,
    'rows : i32, cols : i32, k : i32, div : f32, offset : f32,', body);
}

/** dx = u·rstd − [j<k]·x·rstd·c. Inputs [dy, x, rstd, coef, gamma?]. */
function dxProgram(a: RmsFamilyAttrs, rows: number, cols: number) {
  const names = ['dy', 'x', 'rstd', 'coef', ...(a.hasGamma ? ['gamma'] : [])];
  const body = `
    let r = rstd[row];
    let c = coef[row];
    var v = ${GAIN(a)} * dy[index] * r;
    // c == 0 skips the product so that x·rstd = 0·inf (eps 0, zero row) cannot turn dx into NaN.
    if (j < uniforms.k && c != 0.0) { v = v - x[index] * r * c; }`;
  return elementwiseProgram(`rms_dx_${names.join('_')}`, rows, cols, names, 'cols : i32, k : i32, offset : f32,', body);
}

function attrsOf(attrs: NamedAttrMap | undefined): RmsFamilyAttrs {
  return attrs as unknown as RmsFamilyAttrs;
}

/** Kernel `RmsnormRmsFamily` on webgpu: inputs [x (rows × cols), gamma?, beta?] → [y, rstd]. */
export function rmsFamilyWebGpu({ inputs, attrs, backend }: { inputs: unknown; attrs?: NamedAttrMap; backend: unknown }): TensorInfo[] {
  const a = attrsOf(attrs);
  const b = backend as WebGpuBackendLike;
  const list = inputs as TensorInfo[];
  const x = list[0];
  const [rows, cols] = x.shape;
  const { k, div } = statShape(a, cols);
  const rstdUniforms: UniformValue[] = [
    ...rowsCols(rows, cols), { type: 'int32', data: [k] }, { type: 'float32', data: [div] }, { type: 'float32', data: [a.eps] },
  ];
  const rstd = b.runWebGPUProgram(rstdProgram(a, rows, k), [x], 'float32', rstdUniforms);
  const y = b.runWebGPUProgram(yProgram(a, rows, cols), [x, rstd, ...list.slice(1)], 'float32', [
    { type: 'int32', data: [cols] }, { type: 'float32', data: [a.gammaOffset] },
  ]);
  return [y, rstd];
}

/** Kernel `RmsnormRmsFamilyGrad` on webgpu: inputs [dy, x, rstd, gamma?] → [dx, dgamma?, dbeta?]. */
export function rmsFamilyGradWebGpu({ inputs, attrs, backend }: { inputs: unknown; attrs?: NamedAttrMap; backend: unknown }): TensorInfo[] {
  const a = attrsOf(attrs);
  const b = backend as WebGpuBackendLike;
  const [dy, x, rstd, ...params] = inputs as TensorInfo[];
  const [rows, cols] = x.shape;
  const { k, div } = statShape(a, cols);
  const gamma = a.hasGamma ? [params[0]] : [];
  const coef = b.runWebGPUProgram(coefProgram(a, rows, cols), [dy, x, rstd, ...gamma], 'float32', [
    ...rowsCols(rows, cols), { type: 'int32', data: [k] }, { type: 'float32', data: [div] },
    { type: 'float32', data: [a.gammaOffset] },
  ]);
  const dx = b.runWebGPUProgram(dxProgram(a, rows, cols), [dy, x, rstd, coef, ...gamma], 'float32', [
    { type: 'int32', data: [cols] }, { type: 'int32', data: [k] }, { type: 'float32', data: [a.gammaOffset] },
  ]);
  b.disposeData(coef.dataId);
  const outs = [dx];
  if (a.hasGamma) outs.push(b.runWebGPUProgram(columnSumProgram('dgamma', false, rows, cols), [dy, x, rstd], 'float32', rowsCols(rows, cols)));
  if (a.hasBeta) outs.push(b.runWebGPUProgram(columnSumProgram('dbeta', false, rows, cols), [dy], 'float32', rowsCols(rows, cols)));
  return outs;
}
