// wasm fused residual add + RMS family, and the RMS family on 16-bit storage: marshal the Backend kernel args into a
// job for assembly/_add-rms-norm.ts (half-job.ts). The 16-bit rmsNorm is the fused forward without a residual, its
// backward the fused backward without dsum (x in the sum slot).
import type {
  AddRmsNorm16KernelArgs, AddRmsNormBackward16KernelArgs, AddRmsNormBackwardKernelArgs, AddRmsNormKernelArgs,
  HalfDtype, RmsNorm16KernelArgs, RmsNormBackward16KernelArgs,
} from '../backend.js';
import { DT_BF16, DT_F16, DT_F32, executeMixed, OP_ADD_RMS_BWD, OP_ADD_RMS_FWD } from './half-job.js';
import type { WasmState } from './instance.js';

function code(dtype: HalfDtype): number {
  return dtype === 'float16' ? DT_F16 : DT_BF16;
}

type FwdArgs = AddRmsNormKernelArgs | AddRmsNorm16KernelArgs;
type BwdArgs = AddRmsNormBackwardKernelArgs | AddRmsNormBackward16KernelArgs;

function forward(state: WasmState, a: FwdArgs, dtype: number): void {
  executeMixed(state, {
    op: OP_ADD_RMS_FWD, dtype, rows: a.rows, cols: a.cols, k: a.k, divisor: a.divisor, eps: a.eps,
    epsOutside: a.epsOutside, gammaOffset: a.gammaOffset,
    arrays: [a.x, a.residual, a.gamma, a.beta, a.sum, a.y, a.rstd],
    outMask: 0b1110000, // sum, y, rstd
    backward: false, dgamma: null, dbeta: null,
  });
}

function backward(state: WasmState, a: BwdArgs, dtype: number): void {
  executeMixed(state, {
    op: OP_ADD_RMS_BWD, dtype, rows: a.rows, cols: a.cols, k: a.k, divisor: a.divisor, eps: a.eps,
    epsOutside: a.epsOutside, gammaOffset: a.gammaOffset,
    arrays: [a.dy, a.dsum, a.sum, a.rstd, a.gamma, a.dx],
    outMask: 0b100000, // dx
    backward: true, dgamma: a.dgamma, dbeta: a.dbeta,
  });
}

export function addRmsNorm(state: WasmState, a: AddRmsNormKernelArgs): void {
  forward(state, a, DT_F32);
}

export function addRmsNormBackward(state: WasmState, a: AddRmsNormBackwardKernelArgs): void {
  backward(state, a, DT_F32);
}

export function addRmsNorm16(state: WasmState, a: AddRmsNorm16KernelArgs): void {
  forward(state, a, code(a.dtype));
}

export function addRmsNormBackward16(state: WasmState, a: AddRmsNormBackward16KernelArgs): void {
  backward(state, a, code(a.dtype));
}

export function rmsNorm16(state: WasmState, a: RmsNorm16KernelArgs): void {
  executeMixed(state, {
    op: OP_ADD_RMS_FWD, dtype: code(a.dtype), rows: a.rows, cols: a.cols, k: a.k, divisor: a.divisor, eps: a.eps,
    epsOutside: a.epsOutside, gammaOffset: a.gammaOffset,
    arrays: [a.x, null, a.gamma, a.beta, null, a.y, a.rstd],
    outMask: 0b1100000, // y, rstd
    backward: false, dgamma: null, dbeta: null,
  });
}

export function rmsNormBackward16(state: WasmState, a: RmsNormBackward16KernelArgs): void {
  executeMixed(state, {
    op: OP_ADD_RMS_BWD, dtype: code(a.dtype), rows: a.rows, cols: a.cols, k: a.k, divisor: a.divisor, eps: a.eps,
    epsOutside: a.epsOutside, gammaOffset: a.gammaOffset,
    arrays: [a.dy, null, a.x, a.rstd, a.gamma, a.dx],
    outMask: 0b100000, // dx
    backward: true, dgamma: a.dgamma, dbeta: a.dbeta,
  });
}
