// Shared pieces of our WGSL programs for the tfjs 'webgpu' backend: the program object tfjs compiles, the per-row
// (one workgroup per row) and element-wise launch shapes, the workgroup tree reduction, and the column-sum program.
// Nothing here imports @tensorflow/tfjs-backend-webgpu: programs are plain objects its backend compiles and runs.
import type { TensorInfo } from '@tensorflow/tfjs';

/** The part of tfjs-backend-webgpu's `WebGPUProgram` interface our programs fill in. */
export interface WgslProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  variableNames: string[];
  uniforms: string;
  size: boolean;
  getUserCode: () => string;
}

/** One program-defined uniform value, in the order of the program's `uniforms` string. */
export interface UniformValue {
  type: 'float32' | 'int32';
  data: number[];
}

/** The part of tfjs-backend-webgpu's `WebGPUBackend` our kernels use. */
export interface WebGpuBackendLike {
  runWebGPUProgram(program: WgslProgram, inputs: TensorInfo[], dtype: 'float32', uniforms?: UniformValue[]): TensorInfo;
  disposeData(dataId: object): boolean;
}

/**
 * Threads per workgroup for a reduction over n values: a power of two (the tree halves it), 64 for short rows so
 * small rows do not idle 256 threads, 256 once each thread would otherwise loop many times.
 */
export function reductionWidth(n: number): number {
  return n >= 2048 ? 256 : 64;
}

/**
 * WGSL helpers of a reduction program with `width` threads: `groupIndex()` (which row/column this workgroup owns,
 * valid also when tfjs folds a dispatch wider than the device limit into 2-D/3-D) and `treeSum(v)` (workgroup sum
 * in shared memory; every thread must call it, in uniform control flow, and gets the total).
 */
export function reductionSnippet(width: number): string {
  return `
    var<workgroup> rmsnormPartial : array<f32, ${width}>;

    fn groupIndex() -> i32 {
      return i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
    }

    fn treeSum(v : f32) -> f32 {
      let lid = localId.x;
      rmsnormPartial[lid] = v;
      workgroupBarrier();
      for (var s = ${width / 2}u; s > 0u; s = s >> 1u) {
        if (lid < s) {
          rmsnormPartial[lid] = rmsnormPartial[lid] + rmsnormPartial[lid + s];
        }
        workgroupBarrier();
      }
      let total = rmsnormPartial[0];
      // A second treeSum in the same program reuses the array: nobody may overwrite it before all have read.
      workgroupBarrier();
      return total;
    }
  `;
}

/**
 * A program with one workgroup per output element (per row, or per column for column sums): `groups` workgroups of
 * `width` threads. `body` is the WGSL of `main`, which sees `groupIndex()`, `treeSum()`, `localId` and the uniforms.
 */
export function perGroupProgram(
  key: string,
  outputShape: number[],
  groups: number,
  width: number,
  variableNames: string[],
  uniforms: string,
  body: string,
): WgslProgram {
  return {
    outputShape,
    shaderKey: `rmsnorm_${key}_w${width}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [groups, 1, 1],
    workgroupSize: [width, 1, 1],
    variableNames,
    uniforms,
    size: true,
    getUserCode: () => `${reductionSnippet(width)}\n fn main(index : i32) {\n${body}\n}`,
  };
}

/** WGSL opening of a per-row reduction body: this workgroup's `row`, whether it exists (`valid`), its flat `base`. */
export const ROW_PREAMBLE = `
    let row = groupIndex();
    let valid = row < uniforms.rows;
    let base = row * uniforms.cols;`;

/** Threads per workgroup of element-wise programs. */
const ELEMENTWISE_WIDTH = 64;

/**
 * An element-wise program over a rows × cols output: `body` computes `v` for flat index `index` (row `row`,
 * column `j` are given) and the program stores it.
 */
export function elementwiseProgram(
  key: string,
  rows: number,
  cols: number,
  variableNames: string[],
  uniforms: string,
  body: string,
): WgslProgram {
  return {
    outputShape: [rows, cols],
    shaderKey: `rmsnorm_${key}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil((rows * cols) / ELEMENTWISE_WIDTH), 1, 1],
    workgroupSize: [ELEMENTWISE_WIDTH, 1, 1],
    variableNames,
    uniforms,
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let row = index / uniforms.cols;
          let j = index - row * uniforms.cols;
          ${body}
          result[index] = v;
        }
      }`,
  };
}

/**
 * Column sums over rows, one workgroup per column: Σ_r dy[r, j] (`'dbeta'`), or Σ_r dy[r, j]·x̂[r, j] (`'dgamma'`)
 * with x̂ = x·rstd (RMS family) or (x − mean)·rstd (LayerNorm, `withMean`). f32 accumulation, tree reduction.
 * Inputs: [dy] or [dy, x, rstd] or [dy, x, mean, rstd].
 */
export function columnSumProgram(what: 'dgamma' | 'dbeta', withMean: boolean, rows: number, cols: number): WgslProgram {
  const width = reductionWidth(rows);
  const names = what === 'dbeta' ? ['dy'] : withMean ? ['dy', 'x', 'mean', 'rstd'] : ['dy', 'x', 'rstd'];
  const term = what === 'dbeta'
    ? 'dy[i]'
    : withMean ? 'dy[i] * (x[i] - mean[r]) * rstd[r]' : 'dy[i] * x[i] * rstd[r]';
  const body = `
    let col = groupIndex();
    let valid = col < uniforms.cols;
    var acc = 0.0;
    if (valid) {
      for (var r = i32(localId.x); r < uniforms.rows; r = r + ${width}) {
        let i = r * uniforms.cols + col;
        acc = acc + ${term};
      }
    }
    let total = treeSum(acc);
    if (valid && localId.x == 0u) {
      result[col] = total;
    }`;
  return perGroupProgram(`colsum_${what}_${withMean ? 'mean' : 'plain'}`, [cols], cols, width, names, 'rows : i32, cols : i32,', body);
}

/** The uniforms `rows, cols` as tfjs expects them (order of the `uniforms` string). */
export function rowsCols(rows: number, cols: number): UniformValue[] {
  return [{ type: 'int32', data: [rows] }, { type: 'int32', data: [cols] }];
}
