// wasm LayerNorm kernels for the channels-last layout (x [blocks, cols, channels]): marshal the Backend kernel args
// into a job for assembly/_channels.ts (rows = blocks, the pointer order of the row LayerNorm ops). The kernels keep
// their own per-part workspace in wasm memory, so `workspace` is not used.
import type { LayerNormChannelsBackwardKernelArgs, LayerNormChannelsKernelArgs } from '../backend.js';
import type { WasmState } from './instance.js';
import { execute, OP_LN_CH_BWD, OP_LN_CH_FWD } from './job.js';

export function layerNormChannels(state: WasmState, a: LayerNormChannelsKernelArgs): void {
  execute(state, {
    // k, divisor, epsOutside and gammaOffset are unused by the LayerNorm kernels
    op: OP_LN_CH_FWD, rows: a.blocks, cols: a.cols, k: a.cols, divisor: a.cols, eps: a.eps, epsOutside: false,
    gammaOffset: 0,
    arrays: [a.x, a.gamma, a.beta, a.y, a.mean, a.rstd],
    outMask: 0b111000, // y, mean, rstd
    backward: false,
    dgamma: null,
    dbeta: null,
  }, a.channels);
}

export function layerNormChannelsBackward(state: WasmState, a: LayerNormChannelsBackwardKernelArgs): void {
  execute(state, {
    op: OP_LN_CH_BWD, rows: a.blocks, cols: a.cols, k: a.cols, divisor: a.cols, eps: 0, epsOutside: false,
    gammaOffset: 0,
    arrays: [a.dy, a.x, a.mean, a.rstd, a.gamma, a.dx],
    outMask: 0b100000, // dx
    backward: true,
    dgamma: a.dgamma,
    dbeta: a.dbeta,
  }, a.channels);
}
