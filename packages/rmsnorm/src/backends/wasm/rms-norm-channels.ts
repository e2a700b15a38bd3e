// wasm RMS-family kernels for the channels-last layout (x [blocks, cols, channels]): marshal the Backend kernel args
// into a job for assembly/_channels.ts (rows = blocks; parts of a threaded job are block ranges). Arrays already in
// wasm memory are used in place; others go through scratch. The kernels keep their own per-part workspace in wasm
// memory, so `workspace` is not used.
import type { RmsNormChannelsBackwardKernelArgs, RmsNormChannelsKernelArgs } from '../backend.js';
import type { WasmState } from './instance.js';
import { execute, OP_RMS_CH_BWD, OP_RMS_CH_FWD } from './job.js';

export function rmsNormChannels(state: WasmState, a: RmsNormChannelsKernelArgs): void {
  execute(state, {
    op: OP_RMS_CH_FWD, rows: a.blocks, cols: a.cols, k: a.k, divisor: a.divisor, eps: a.eps, epsOutside: a.epsOutside,
    gammaOffset: a.gammaOffset,
    arrays: [a.x, a.gamma, a.beta, a.y, a.rstd],
    outMask: 0b11000, // y, rstd
    backward: false,
    dgamma: null,
    dbeta: null,
  }, a.channels);
}

export function rmsNormChannelsBackward(state: WasmState, a: RmsNormChannelsBackwardKernelArgs): void {
  execute(state, {
    op: OP_RMS_CH_BWD, rows: a.blocks, cols: a.cols, k: a.k, divisor: a.divisor, eps: a.eps,
    epsOutside: a.epsOutside, gammaOffset: a.gammaOffset,
    arrays: [a.dy, a.x, a.rstd, a.gamma, a.dx],
    outMask: 0b10000, // dx
    backward: true,
    dgamma: a.dgamma,
    dbeta: a.dbeta,
  }, a.channels);
}
