// wasm LayerNorm kernels: marshal the Backend kernel args into a job for assembly/_norm-kernels.ts (f32 storage:
// _layer-norm.ts through job.ts; 16-bit storage: _layer-norm16.ts through half-job.ts, same pointer order).
import type {
  LayerNorm16KernelArgs, LayerNormBackward16KernelArgs, LayerNormBackwardKernelArgs, LayerNormKernelArgs,
} from '../backend.js';
import { DT_BF16, DT_F16, executeMixed, OP_LN16_BWD, OP_LN16_FWD } from './half-job.js';
import type { WasmState } from './instance.js';
import { execute, OP_LN_BWD, OP_LN_FWD } from './job.js';

export function layerNorm(state: WasmState, a: LayerNormKernelArgs): void {
  execute(state, {
    // k, divisor, epsOutside and gammaOffset are unused by the LayerNorm kernels
    op: OP_LN_FWD, rows: a.rows, cols: a.cols, k: a.cols, divisor: a.cols, eps: a.eps, epsOutside: false,
    gammaOffset: 0,
    arrays: [a.x, a.gamma, a.beta, a.y, a.mean, a.rstd],
    outMask: 0b111000, // y, mean, rstd
    backward: false,
    dgamma: null,
    dbeta: null,
  });
}

export function layerNormBackward(state: WasmState, a: LayerNormBackwardKernelArgs): void {
  execute(state, {
    op: OP_LN_BWD, rows: a.rows, cols: a.cols, k: a.cols, divisor: a.cols, eps: 0, epsOutside: false, gammaOffset: 0,
    arrays: [a.dy, a.x, a.mean, a.rstd, a.gamma, a.dx],
    outMask: 0b100000, // dx
    backward: true,
    dgamma: a.dgamma,
    dbeta: a.dbeta,
  });
}

export function layerNorm16(state: WasmState, a: LayerNorm16KernelArgs): void {
  executeMixed(state, {
    op: OP_LN16_FWD, dtype: a.dtype === 'float16' ? DT_F16 : DT_BF16, rows: a.rows, cols: a.cols, k: a.cols,
    divisor: a.cols, eps: a.eps, epsOutside: false, gammaOffset: 0,
    arrays: [a.x, a.gamma, a.beta, a.y, a.mean, a.rstd],
    outMask: 0b111000, // y, mean, rstd
    backward: false, dgamma: null, dbeta: null,
  });
}

export function layerNormBackward16(state: WasmState, a: LayerNormBackward16KernelArgs): void {
  executeMixed(state, {
    op: OP_LN16_BWD, dtype: a.dtype === 'float16' ? DT_F16 : DT_BF16, rows: a.rows, cols: a.cols, k: a.cols,
    divisor: a.cols, eps: 0, epsOutside: false, gammaOffset: 0,
    arrays: [a.dy, a.x, a.mean, a.rstd, a.gamma, a.dx],
    outMask: 0b100000, // dx
    backward: true, dgamma: a.dgamma, dbeta: a.dbeta,
  });
}
