// wasm RMS-family kernels (RMSNorm, pRMSNorm, L2-Norm): marshal the Backend kernel args into a job for
// assembly/_norm-kernels.ts. Arrays already in wasm memory are used in place; others go through scratch.
import type { RmsNormBackwardKernelArgs, RmsNormKernelArgs } from '../backend.js';
import type { WasmState } from './instance.js';
import { execute, OP_RMS_BWD, OP_RMS_FWD } from './job.js';

export function rmsNorm(state: WasmState, a: RmsNormKernelArgs): void {
  execute(state, {
    op: OP_RMS_FWD, rows: a.rows, cols: a.cols, k: a.k, divisor: a.divisor, eps: a.eps, epsOutside: a.epsOutside,
    gammaOffset: a.gammaOffset,
    arrays: [a.x, a.gamma, a.beta, a.y, a.rstd],
    outMask: 0b11000, // y, rstd
    backward: false,
    dgamma: null,
    dbeta: null,
  });
}

export function rmsNormBackward(state: WasmState, a: RmsNormBackwardKernelArgs): void {
  execute(state, {
    op: OP_RMS_BWD, rows: a.rows, cols: a.cols, k: a.k, divisor: a.divisor, eps: a.eps, epsOutside: a.epsOutside,
    gammaOffset: a.gammaOffset,
    arrays: [a.dy, a.x, a.rstd, a.gamma, a.dx],
    outMask: 0b10000, // dx
    backward: true,
    dgamma: a.dgamma,
    dbeta: a.dbeta,
  });
}
