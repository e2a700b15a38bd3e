// Registered tfjs kernels (cpu, wasm) and gradients for the RMS family (RMSNorm, pRMSNorm, L2-Norm) and LayerNorm.
// Each kernel calls a core kernel (src/backends) directly on the tfjs backend's own memory — on tfjs wasm our SIMD
// module runs on tfjs's heap (kernel-io.ts), so nothing is copied. The op layer (ops.ts) validated everything once:
// here there is no validation beyond dtypes, no options object and no per-call allocation besides the outputs.
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import {
  resolveBackend, type Backend, type LayerNormBackwardKernelArgs, type LayerNormChannelsBackwardKernelArgs,
  type LayerNormChannelsKernelArgs, type LayerNormKernelArgs, type RmsNormBackwardKernelArgs,
  type RmsNormChannelsBackwardKernelArgs, type RmsNormChannelsKernelArgs, type RmsNormKernelArgs,
} from '../backends/backend.js';
import { partialK } from '../ops/partial-k.js';
import type { BackendName, EpsPlacement, KRule } from '../types.js';
import { coreFor, f32, KERNEL_BACKENDS, makeOutput, requireFloat32, type KernelBackendName } from './kernel-io.js';

/** Kernel names (prefixed so they never clash with tfjs's own kernels). */
export const RMS_FAMILY = 'RmsnormRmsFamily';
export const RMS_FAMILY_GRAD = 'RmsnormRmsFamilyGrad';
export const LAYER_NORM = 'RmsnormLayerNorm';
export const LAYER_NORM_GRAD = 'RmsnormLayerNormGrad';

/**
 * Attributes of the RMS family kernels. x arrives as rows × cols with gamma/beta [cols], or — the channels-last
 * spatial norm (ops.ts channelAxis) — as 3-D [blocks, cols, channels] with gamma/beta [channels].
 */
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
 * On the tfjs wasm backend 'auto' and 'wasm' run our SIMD kernels on tfjs's own heap (no copies).
 * @example setTfjsCoreBackend('js');
 */
export function setTfjsCoreBackend(name: BackendName): void {
  if (name !== 'auto' && name !== 'js' && name !== 'wasm') {
    throw new RangeError(`name must be one of 'auto', 'js', 'wasm', got ${String(name)}`);
  }
  coreBackend = name;
}

/** The core backend choice set by setTfjsCoreBackend (read by the fused add kernels, add-rms-norm.ts). */
export function tfjsCoreBackend(): BackendName {
  return coreBackend;
}

type KernelArgs = { inputs: unknown; attrs?: NamedAttrMap; backend: unknown };

// One argument struct per kernel, refilled on every call (kernels run synchronously and never re-enter), with every
// field always present in the same order so the core kernels' property loads stay monomorphic. Views are dropped
// after each call so no tensor's memory is held between calls.
const NONE = new Float32Array(0);
const rmsArgs: RmsNormKernelArgs = {
  x: NONE, gamma: null, beta: null, gammaOffset: 0, y: NONE, rstd: NONE,
  rows: 0, cols: 0, k: 0, divisor: 0, eps: 0, epsOutside: false,
};
const rmsGradArgs: RmsNormBackwardKernelArgs = {
  dy: NONE, x: NONE, rstd: NONE, gamma: null, gammaOffset: 0, dx: NONE, dgamma: null, dbeta: null,
  rows: 0, cols: 0, k: 0, divisor: 0, eps: 0, epsOutside: false, workspace: new Float64Array(0),
};
const lnArgs: LayerNormKernelArgs = { x: NONE, gamma: null, beta: null, y: NONE, mean: NONE, rstd: NONE, rows: 0, cols: 0, eps: 0 };
const lnGradArgs: LayerNormBackwardKernelArgs = {
  dy: NONE, x: NONE, mean: NONE, rstd: NONE, gamma: null, dx: NONE, dgamma: null, dbeta: null,
  rows: 0, cols: 0, workspace: new Float64Array(0),
};

const rmsChArgs: RmsNormChannelsKernelArgs = {
  x: NONE, gamma: null, beta: null, gammaOffset: 0, y: NONE, rstd: NONE,
  blocks: 0, cols: 0, channels: 0, k: 0, divisor: 0, eps: 0, epsOutside: false, workspace: new Float64Array(0),
};
const rmsChGradArgs: RmsNormChannelsBackwardKernelArgs = {
  dy: NONE, x: NONE, rstd: NONE, gamma: null, gammaOffset: 0, dx: NONE, dgamma: null, dbeta: null,
  blocks: 0, cols: 0, channels: 0, k: 0, divisor: 0, eps: 0, epsOutside: false, workspace: new Float64Array(0),
};
const lnChArgs: LayerNormChannelsKernelArgs = {
  x: NONE, gamma: null, beta: null, y: NONE, mean: NONE, rstd: NONE, blocks: 0, cols: 0, channels: 0, eps: 0,
  workspace: new Float64Array(0),
};
const lnChGradArgs: LayerNormChannelsBackwardKernelArgs = {
  dy: NONE, x: NONE, mean: NONE, rstd: NONE, gamma: null, dx: NONE, dgamma: null, dbeta: null,
  blocks: 0, cols: 0, channels: 0, workspace: new Float64Array(0),
};

/** The channels-last kernels of a core backend, or the js ones (they run on any view, tfjs's heap included). */
function channelsCore(core: Backend): Backend {
  return typeof core.rmsNormChannels === 'function' && typeof core.layerNormChannels === 'function'
    ? core
    : resolveBackend('js');
}

/** f64 scratch of the channels-last kernels (≥ 6·channels), grown once. */
function channelWorkspace(args: { workspace: Float64Array }, channels: number): Float64Array {
  return args.workspace.length >= 6 * channels ? args.workspace : (args.workspace = new Float64Array(6 * channels));
}

/** f64 scratch of the js core's backward (≥ 2·cols), grown once, shared by every call. */
function workspace(args: { workspace: Float64Array }, cols: number): Float64Array {
  return args.workspace.length >= 2 * cols ? args.workspace : (args.workspace = new Float64Array(2 * cols));
}

/** k and divisor of the RMS family from the attrs: L2 sums all (divisor 1), pRMSNorm the first k = rule(p·cols). */
function setK(args: { k: number; divisor: number }, a: RmsFamilyAttrs, cols: number): void {
  const k = a.l2 || a.p === 1 ? cols : partialK(a.p, cols, a.kRule);
  args.k = k;
  args.divisor = a.l2 ? 1 : k;
}

function rmsFamilyKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: KernelArgs): TensorInfo[] => {
    const a = attrs as unknown as RmsFamilyAttrs;
    const list = inputs as TensorInfo[]; // [x, gamma?, beta?]
    requireFloat32(list);
    if (list[0].shape.length === 3) return rmsChannelsForward(backendName, backend, list, a);
    const x = list[0];
    const rows = x.shape[0];
    const cols = x.shape[1];
    const core = coreFor(backendName, backend, coreBackend);
    const y = makeOutput(backendName, backend, [rows, cols], rows * cols);
    const rstd = makeOutput(backendName, backend, [rows], rows);
    if (rows > 0) {
      const args = rmsArgs;
      args.x = f32(backendName, backend, x);
      args.gamma = a.hasGamma ? f32(backendName, backend, list[1]) : null;
      args.beta = a.hasBeta ? f32(backendName, backend, list[a.hasGamma ? 2 : 1]) : null;
      args.gammaOffset = a.hasGamma ? a.gammaOffset : 0;
      args.y = f32(backendName, backend, y);
      args.rstd = f32(backendName, backend, rstd);
      args.rows = rows;
      args.cols = cols;
      setK(args, a, cols);
      args.eps = a.eps;
      args.epsOutside = a.epsPlacement === 'outside';
      try {
        core.rmsNorm(args);
      } finally {
        args.x = args.y = args.rstd = NONE;
        args.gamma = args.beta = null;
      }
    }
    return [y, rstd];
  };
}

/** Outputs [dx, dgamma?, dbeta?] of a backward kernel; views of them are taken later (allocation may move the heap). */
function gradOutputs(backendName: KernelBackendName, backend: unknown, rows: number, cols: number, hasGamma: boolean, hasBeta: boolean): TensorInfo[] {
  const outs = [makeOutput(backendName, backend, [rows, cols], rows * cols)];
  if (hasGamma) outs.push(makeOutput(backendName, backend, [cols], cols));
  if (hasBeta) outs.push(makeOutput(backendName, backend, [cols], cols));
  return outs;
}

function rmsFamilyGradKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: KernelArgs): TensorInfo[] => {
    const a = attrs as unknown as RmsFamilyAttrs;
    const list = inputs as TensorInfo[]; // [dy, x, rstd, gamma?]
    requireFloat32(list);
    if (list[1].shape.length === 3) return rmsChannelsBackward(backendName, backend, list, a);
    const rows = list[1].shape[0];
    const cols = list[1].shape[1];
    const core = coreFor(backendName, backend, coreBackend);
    const outs = gradOutputs(backendName, backend, rows, cols, a.hasGamma, a.hasBeta);
    const args = rmsGradArgs;
    args.dgamma = a.hasGamma ? f32(backendName, backend, outs[1]) : null;
    args.dbeta = a.hasBeta ? f32(backendName, backend, outs[outs.length - 1]) : null;
    if (rows === 0) {
      args.dgamma?.fill(0);
      args.dbeta?.fill(0);
    } else {
      args.dy = f32(backendName, backend, list[0]);
      args.x = f32(backendName, backend, list[1]);
      args.rstd = f32(backendName, backend, list[2]);
      args.gamma = a.hasGamma ? f32(backendName, backend, list[3]) : null;
      args.gammaOffset = a.hasGamma ? a.gammaOffset : 0;
      args.dx = f32(backendName, backend, outs[0]);
      args.rows = rows;
      args.cols = cols;
      setK(args, a, cols);
      args.eps = a.eps;
      args.epsOutside = a.epsPlacement === 'outside';
      workspace(args, cols);
      try {
        core.rmsNormBackward(args);
      } finally {
        args.dy = args.x = args.rstd = args.dx = NONE;
        args.gamma = null;
      }
    }
    args.dgamma = args.dbeta = null;
    return outs;
  };
}

function layerNormKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: KernelArgs): TensorInfo[] => {
    const a = attrs as unknown as LayerNormAttrs;
    const list = inputs as TensorInfo[]; // [x, gamma?, beta?]
    requireFloat32(list);
    if (list[0].shape.length === 3) return lnChannelsForward(backendName, backend, list, a);
    const x = list[0];
    const rows = x.shape[0];
    const cols = x.shape[1];
    const core = coreFor(backendName, backend, coreBackend);
    const y = makeOutput(backendName, backend, [rows, cols], rows * cols);
    const mean = makeOutput(backendName, backend, [rows], rows);
    const rstd = makeOutput(backendName, backend, [rows], rows);
    if (rows > 0) {
      const args = lnArgs;
      args.x = f32(backendName, backend, x);
      args.gamma = a.hasGamma ? f32(backendName, backend, list[1]) : null;
      args.beta = a.hasBeta ? f32(backendName, backend, list[a.hasGamma ? 2 : 1]) : null;
      args.y = f32(backendName, backend, y);
      args.mean = f32(backendName, backend, mean);
      args.rstd = f32(backendName, backend, rstd);
      args.rows = rows;
      args.cols = cols;
      args.eps = a.eps;
      try {
        core.layerNorm(args);
      } finally {
        args.x = args.y = args.mean = args.rstd = NONE;
        args.gamma = args.beta = null;
      }
    }
    return [y, mean, rstd];
  };
}

function layerNormGradKernel(backendName: KernelBackendName) {
  return ({ inputs, attrs, backend }: KernelArgs): TensorInfo[] => {
    const a = attrs as unknown as LayerNormAttrs;
    const list = inputs as TensorInfo[]; // [dy, x, mean, rstd, gamma?]
    requireFloat32(list);
    if (list[1].shape.length === 3) return lnChannelsBackward(backendName, backend, list, a);
    const rows = list[1].shape[0];
    const cols = list[1].shape[1];
    const core = coreFor(backendName, backend, coreBackend);
    const outs = gradOutputs(backendName, backend, rows, cols, a.hasGamma, a.hasBeta);
    const args = lnGradArgs;
    args.dgamma = a.hasGamma ? f32(backendName, backend, outs[1]) : null;
    args.dbeta = a.hasBeta ? f32(backendName, backend, outs[outs.length - 1]) : null;
    if (rows === 0) {
      args.dgamma?.fill(0);
      args.dbeta?.fill(0);
    } else {
      args.dy = f32(backendName, backend, list[0]);
      args.x = f32(backendName, backend, list[1]);
      args.mean = f32(backendName, backend, list[2]);
      args.rstd = f32(backendName, backend, list[3]);
      args.gamma = a.hasGamma ? f32(backendName, backend, list[4]) : null;
      args.dx = f32(backendName, backend, outs[0]);
      args.rows = rows;
      args.cols = cols;
      workspace(args, cols);
      try {
        core.layerNormBackward(args);
      } finally {
        args.dy = args.x = args.mean = args.rstd = args.dx = NONE;
        args.gamma = null;
      }
    }
    args.dgamma = args.dbeta = null;
    return outs;
  };
}

// Channels-last spatial norms: x [blocks, cols, channels], statistics [blocks·channels], gamma/beta [channels].

function rmsChannelsForward(backendName: KernelBackendName, backend: unknown, list: TensorInfo[], a: RmsFamilyAttrs): TensorInfo[] {
  const [blocks, cols, channels] = list[0].shape;
  const core = channelsCore(coreFor(backendName, backend, coreBackend));
  const y = makeOutput(backendName, backend, list[0].shape, blocks * cols * channels);
  const rstd = makeOutput(backendName, backend, [blocks * channels], blocks * channels);
  if (blocks * cols * channels === 0) return [y, rstd];
  const args = rmsChArgs;
  args.x = f32(backendName, backend, list[0]);
  args.gamma = a.hasGamma ? f32(backendName, backend, list[1]) : null;
  args.beta = a.hasBeta ? f32(backendName, backend, list[a.hasGamma ? 2 : 1]) : null;
  args.gammaOffset = a.hasGamma ? a.gammaOffset : 0;
  args.y = f32(backendName, backend, y);
  args.rstd = f32(backendName, backend, rstd);
  args.blocks = blocks;
  args.cols = cols;
  args.channels = channels;
  setK(args, a, cols);
  args.eps = a.eps;
  args.epsOutside = a.epsPlacement === 'outside';
  channelWorkspace(args, channels);
  try {
    core.rmsNormChannels!(args);
  } finally {
    args.x = args.y = args.rstd = NONE;
    args.gamma = args.beta = null;
  }
  return [y, rstd];
}

/** Outputs [dx, dgamma?, dbeta?] of a channels-last backward (parameter gradients [channels]). */
function channelGradOutputs(backendName: KernelBackendName, backend: unknown, shape: number[], a: LayerNormAttrs): TensorInfo[] {
  const [blocks, cols, channels] = shape;
  const outs = [makeOutput(backendName, backend, shape, blocks * cols * channels)];
  if (a.hasGamma) outs.push(makeOutput(backendName, backend, [channels], channels));
  if (a.hasBeta) outs.push(makeOutput(backendName, backend, [channels], channels));
  return outs;
}

/** Point args.dgamma/dbeta at their outputs; an empty x has zero parameter gradients and nothing more (true). */
function setParamGrads(
  args: { dgamma: Float32Array | null; dbeta: Float32Array | null }, backendName: KernelBackendName, backend: unknown,
  outs: TensorInfo[], a: LayerNormAttrs, size: number,
): boolean {
  args.dgamma = a.hasGamma ? f32(backendName, backend, outs[1]) : null;
  args.dbeta = a.hasBeta ? f32(backendName, backend, outs[outs.length - 1]) : null;
  if (size > 0) return false;
  args.dgamma?.fill(0);
  args.dbeta?.fill(0);
  args.dgamma = args.dbeta = null;
  return true;
}

function rmsChannelsBackward(backendName: KernelBackendName, backend: unknown, list: TensorInfo[], a: RmsFamilyAttrs): TensorInfo[] {
  const [blocks, cols, channels] = list[1].shape; // [dy, x, rstd, gamma?]
  const core = channelsCore(coreFor(backendName, backend, coreBackend));
  const outs = channelGradOutputs(backendName, backend, list[1].shape, a);
  const args = rmsChGradArgs;
  if (setParamGrads(args, backendName, backend, outs, a, blocks * cols * channels)) return outs;
  args.dy = f32(backendName, backend, list[0]);
  args.x = f32(backendName, backend, list[1]);
  args.rstd = f32(backendName, backend, list[2]);
  args.gamma = a.hasGamma ? f32(backendName, backend, list[3]) : null;
  args.gammaOffset = a.hasGamma ? a.gammaOffset : 0;
  args.dx = f32(backendName, backend, outs[0]);
  args.blocks = blocks;
  args.cols = cols;
  args.channels = channels;
  setK(args, a, cols);
  args.eps = a.eps;
  args.epsOutside = a.epsPlacement === 'outside';
  channelWorkspace(args, channels);
  try {
    core.rmsNormChannelsBackward!(args);
  } finally {
    args.dy = args.x = args.rstd = args.dx = NONE;
    args.gamma = args.dgamma = args.dbeta = null;
  }
  return outs;
}

function lnChannelsForward(backendName: KernelBackendName, backend: unknown, list: TensorInfo[], a: LayerNormAttrs): TensorInfo[] {
  const [blocks, cols, channels] = list[0].shape;
  const core = channelsCore(coreFor(backendName, backend, coreBackend));
  const y = makeOutput(backendName, backend, list[0].shape, blocks * cols * channels);
  const mean = makeOutput(backendName, backend, [blocks * channels], blocks * channels);
  const rstd = makeOutput(backendName, backend, [blocks * channels], blocks * channels);
  if (blocks * cols * channels === 0) return [y, mean, rstd];
  const args = lnChArgs;
  args.x = f32(backendName, backend, list[0]);
  args.gamma = a.hasGamma ? f32(backendName, backend, list[1]) : null;
  args.beta = a.hasBeta ? f32(backendName, backend, list[a.hasGamma ? 2 : 1]) : null;
  args.y = f32(backendName, backend, y);
  args.mean = f32(backendName, backend, mean);
  args.rstd = f32(backendName, backend, rstd);
  args.blocks = blocks;
  args.cols = cols;
  args.channels = channels;
  args.eps = a.eps;
  channelWorkspace(args, channels);
  try {
    core.layerNormChannels!(args);
  } finally {
    args.x = args.y = args.mean = args.rstd = NONE;
    args.gamma = args.beta = null;
  }
  return [y, mean, rstd];
}

function lnChannelsBackward(backendName: KernelBackendName, backend: unknown, list: TensorInfo[], a: LayerNormAttrs): TensorInfo[] {
  const [blocks, cols, channels] = list[1].shape; // [dy, x, mean, rstd, gamma?]
  const core = channelsCore(coreFor(backendName, backend, coreBackend));
  const outs = channelGradOutputs(backendName, backend, list[1].shape, a);
  const args = lnChGradArgs;
  if (setParamGrads(args, backendName, backend, outs, a, blocks * cols * channels)) return outs;
  args.dy = f32(backendName, backend, list[0]);
  args.x = f32(backendName, backend, list[1]);
  args.mean = f32(backendName, backend, list[2]);
  args.rstd = f32(backendName, backend, list[3]);
  args.gamma = a.hasGamma ? f32(backendName, backend, list[4]) : null;
  args.dx = f32(backendName, backend, outs[0]);
  args.blocks = blocks;
  args.cols = cols;
  args.channels = channels;
  channelWorkspace(args, channels);
  try {
    core.layerNormChannelsBackward!(args);
  } finally {
    args.dy = args.x = args.mean = args.rstd = args.dx = NONE;
    args.gamma = args.dgamma = args.dbeta = null;
  }
  return outs;
}

/** A second engine tensor on t's data (no copy, no kernel dispatch): the backend's reference count goes up by one. */
function share(t: Tensor): Tensor {
  const engine = tf.engine();
  engine.backend.incRef(t.dataId);
  return engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
}

/** The parts of tfjs's engine state the tape saving below relies on (stable through tfjs 4.x). */
interface TapeState {
  /** The recording tape (absent until the first gradient). */
  activeTape?: Array<{ kernelName: string; outputs: Tensor[]; saved?: Tensor[] }> | null;
  gradientDepth: number;
  nextTapeNodeId: number;
}

function tapeState(): TapeState | null {
  const state = (tf.engine() as unknown as { state?: Partial<TapeState> }).state;
  const ok = state !== undefined && typeof state.gradientDepth === 'number' && typeof state.nextTapeNodeId === 'number';
  return ok ? (state as TapeState) : null;
}

/**
 * Whether our ops save the backward's tensors on the tape themselves. tfjs saves a kernel's inputs/outputs for the
 * backward pass by cloning them, and the wasm backend's clone copies the data (x in full, every step); we instead
 * append tensors that share the data (share) to the tape node's `saved` list — the list the engine hands to the
 * gradient and disposes when backprop ends. Needs the engine's tape state; without it the gradient configs fall back
 * to tfjs's own saving (saveAllInputs/outputsToSave), with the same `saved` layout as far as the gradients read it.
 */
const SELF_SAVE = tapeState() !== null;

/**
 * Run one of our forward kernels from an op and, when a gradient tape records it, save what the backward needs:
 * saved = [x, gamma?, ...statistics] (RMS: rstd; LayerNorm: mean, rstd) — shares of the data, no copies.
 * Returns all outputs [y, ...statistics]; the caller disposes what it does not return.
 */
export function runNormKernel(kernelName: string, inputs: Tensor[], hasGamma: boolean, attrs: object): Tensor[] {
  const outs = tf.engine().runKernel(kernelName, inputs as never, attrs as never) as Tensor[];
  if (SELF_SAVE) {
    const tape = tapeState()!.activeTape;
    const node = Array.isArray(tape) && tape.length > 0 ? tape[tape.length - 1] : null;
    if (node !== null && node.kernelName === kernelName && node.outputs[0] === outs[0] && node.saved !== undefined) {
      node.saved.push(tf.keep(share(inputs[0])));
      if (hasGamma) node.saved.push(tf.keep(share(inputs[1])));
      for (let i = 1; i < outs.length; i++) node.saved.push(tf.keep(share(outs[i])));
    }
  }
  return outs;
}

/** One fused backward run shared by the input thunks of one tape node (see gradThunks). */
class SharedBackward {
  private outs: Tensor[] | null = null;

  constructor(
    private readonly kernelName: string,
    private readonly inputs: Tensor[],
    private readonly attrs: NamedAttrMap,
    private readonly saved: Tensor[],
  ) {}

  /** Gradient i: the first call runs the kernel; the others return shares of its outputs. */
  get(i: number): Tensor {
    if (this.outs !== null) return share(this.outs[i]);
    const outs = tf.engine().runKernel(this.kernelName, this.inputs as never, this.attrs as never) as Tensor[];
    this.outs = outs;
    for (let j = 0; j < outs.length; j++) {
      if (j !== i) this.saved.push(tf.keep(outs[j]));
    }
    return outs[i];
  }
}

/**
 * Gradient thunks for the forward inputs [x, gamma?, beta?] from ONE run of the fused backward kernel, whose outputs
 * [dx, dgamma?, dbeta?] line up with them. The engine calls the thunks of the inputs it needs (pruned ones never),
 * each in its own tidy: the first one runs the kernel and returns its own output; the other outputs are kept and
 * appended to this tape node's `saved` list — which the engine disposes when backprop ends — and a later thunk
 * returns a second tensor on the same data (share). So an output whose thunk is pruned is freed with the tape, and
 * a returned gradient is an ordinary tensor the caller owns.
 */
function gradThunks(kernelName: string, inputs: Tensor[], attrs: NamedAttrMap, count: number, saved: Tensor[]): Record<string, () => Tensor> {
  const run = new SharedBackward(kernelName, inputs, attrs, saved);
  const thunks: Record<string, () => Tensor> = {};
  thunks[0] = () => run.get(0);
  if (count > 1) thunks[1] = () => run.get(1);
  if (count > 2) thunks[2] = () => run.get(2);
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
  // saved = [x, gamma?, (beta?,) rstd] (RMS) or [x, gamma?, (beta?,) mean, rstd] (LayerNorm): inputs then statistics
  // (beta only when tfjs saves: runNormKernel skips it, the backward does not read it).
  if (tf.getGradient(RMS_FAMILY) === undefined) {
    tf.registerGradient({
      kernelName: RMS_FAMILY,
      saveAllInputs: !SELF_SAVE,
      outputsToSave: [false, !SELF_SAVE],
      gradFunc: (dy, saved, attrs) => {
        const a = attrs as unknown as RmsFamilyAttrs;
        const inputs = [firstDy(dy), saved[0], saved[saved.length - 1]];
        if (a.hasGamma) inputs.push(saved[1]);
        return gradThunks(RMS_FAMILY_GRAD, inputs, attrs, 1 + Number(a.hasGamma) + Number(a.hasBeta), saved);
      },
    });
  }
  if (tf.getGradient(LAYER_NORM) === undefined) {
    tf.registerGradient({
      kernelName: LAYER_NORM,
      saveAllInputs: !SELF_SAVE,
      outputsToSave: [false, !SELF_SAVE, !SELF_SAVE],
      gradFunc: (dy, saved, attrs) => {
        const a = attrs as unknown as LayerNormAttrs;
        const n = saved.length;
        const inputs = [firstDy(dy), saved[0], saved[n - 2], saved[n - 1]];
        if (a.hasGamma) inputs.push(saved[1]);
        return gradThunks(LAYER_NORM_GRAD, inputs, attrs, 1 + Number(a.hasGamma) + Number(a.hasBeta), saved);
      },
    });
  }
}

register();
