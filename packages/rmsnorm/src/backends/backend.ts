// The Backend interface every kernel implementation fills in, and backend selection.
// Kernels receive validated, explicitly sized arguments and caller-provided outputs; they never allocate
// and never validate (the op layer in src/ops does both, once).

/** Storage type of the activation arrays (x, residual, y, sum, dy, dsum, dx); gamma/beta/rstd/mean stay float32. */
export type Dtype = 'float32' | 'float16' | 'bfloat16';
/** The 16-bit storage types: activations are Uint16Array bit patterns (IEEE binary16 or bfloat16). */
export type HalfDtype = 'float16' | 'bfloat16';
/** An activation array: Float32Array for float32, Uint16Array bit patterns for a HalfDtype. */
export type Storage = Float32Array | Uint16Array;

/**
 * Arguments of the RMS family forward kernel: RMSNorm, pRMSNorm (k < cols) and L2-Norm (divisor = 1).
 *
 *   s      = Σ_{i<k} x_i² / divisor            (divisor = k for (p)RMSNorm, 1 for L2-Norm)
 *   rstd   = 1/sqrt(s + eps)   (inside)   or   1/(sqrt(s) + eps)   (epsOutside)
 *   y_j    = x_j · rstd · (gammaOffset + gamma_j) + beta_j      for all j < cols
 */
export interface RmsNormKernelArgs<A extends Storage = Float32Array> {
  x: A;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  gammaOffset: number;
  y: A;
  rstd: Float32Array;
  rows: number;
  cols: number;
  k: number;
  divisor: number;
  eps: number;
  epsOutside: boolean;
}

/**
 * Arguments of the RMS family backward kernel (u = (gammaOffset + gamma) ⊙ dy, x̂ = x · rstd):
 *   dx_j  = rstd · (u_j − [j<k] · x̂_j · c),   c = (1/divisor) Σ_{i<cols} u_i x̂_i   (eps inside)
 *   dx_j  = rstd · u_j − [j<k] · x̂_j · c / sqrt(s),                              (eps outside; c term dropped if s = 0)
 *   dgamma = Σ_rows dy ⊙ x̂,  dbeta = Σ_rows dy   (overwritten, not accumulated)
 */
export interface RmsNormBackwardKernelArgs<A extends Storage = Float32Array> {
  dy: A;
  x: A;
  rstd: Float32Array;
  gamma: Float32Array | null;
  gammaOffset: number;
  dx: A;
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
  rows: number;
  cols: number;
  k: number;
  divisor: number;
  eps: number;
  epsOutside: boolean;
  /** Scratch of at least 2·cols float64 (contents ignored) so dgamma/dbeta accumulate in f64 without allocating. */
  workspace: Float64Array;
}

/** LayerNorm forward: mean, rstd = 1/sqrt(var + eps) (population variance, two-pass), y = x̂·gamma + beta. */
export interface LayerNormKernelArgs<A extends Storage = Float32Array> {
  x: A;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  y: A;
  mean: Float32Array;
  rstd: Float32Array;
  rows: number;
  cols: number;
  eps: number;
}

/**
 * LayerNorm backward: dx = rstd·(u − mean(u) − x̂·mean(u⊙x̂)), dgamma = Σ dy⊙x̂, dbeta = Σ dy (overwritten).
 * The saved `mean` is f32-rounded (off by ≤ ulp(|mean|)/2, ≈5e-4 on 1e4 + N(0,1) rows): kernels re-derive the row
 * mean as Σx/cols in f64 (fused into the first pass) and use it for x̂, or dgamma loses ~3 digits on offset data.
 */
export interface LayerNormBackwardKernelArgs<A extends Storage = Float32Array> {
  dy: A;
  x: A;
  mean: Float32Array;
  rstd: Float32Array;
  gamma: Float32Array | null;
  dx: A;
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
  rows: number;
  cols: number;
  /** Scratch of at least 2·cols float64 (contents ignored), as for RMSNorm. */
  workspace: Float64Array;
}

/**
 * Fused residual add + RMS family forward (vLLM fused_add_rms_norm, ORT SkipSimplifiedLayerNormalization):
 *   sum_j = round(x_j + residual_j)   (rounded to the storage type)
 *   y     = the RmsNormKernelArgs formulas applied to sum
 * `sum` may be the same array as `residual` or as `x` (exact alias: each x_j, residual_j is read before sum_j is
 * written); `y` aliases nothing.
 */
export interface AddRmsNormKernelArgs<A extends Storage = Float32Array> extends Omit<RmsNormKernelArgs<A>, 'x'> {
  x: A;
  residual: A;
  sum: A;
}

/**
 * Backward of the fused op: dx = dsum + ∂y/∂sum·dy (the RmsNormBackwardKernelArgs formulas with x = sum, plus dsum),
 * the gradient for both x and residual; dsum null means no gradient arrives at the sum output. dx may be exactly dy
 * or exactly dsum (in place: dy_j and dsum_j are read before dx_j is written). dgamma/dbeta as for RMSNorm.
 */
export interface AddRmsNormBackwardKernelArgs<A extends Storage = Float32Array>
  extends Omit<RmsNormBackwardKernelArgs<A>, 'x'> {
  dsum: A | null;
  sum: A;
}

/**
 * Channels-last layout of the RMS family forward (spatial norms of NHWC images — statistics over H×W per sample and
 * channel, gain and bias per channel: the paper's CIFAR-10 set-up, A.4, and InstanceNorm-style layers). x is
 * [blocks, cols, channels]; each (block b, channel c) is one normalised vector of `cols` values at stride `channels`:
 *   s      = Σ_{i<k} x[b,i,c]² / divisor,   rstd[b·channels + c] = 1/sqrt(s + eps)  (or 1/(sqrt(s) + eps) outside)
 *   y[b,i,c] = x[b,i,c] · rstd[b·channels + c] · (gammaOffset + gamma[c]) + beta[c]        (gamma, beta: [channels])
 * = the row kernel on x transposed to [blocks, channels, cols] (row b·channels + c) with the gain of row c, so rstd
 * has the row kernel's layout. `workspace`: f64 scratch of at least 6·channels (contents ignored).
 */
export interface RmsNormChannelsKernelArgs extends Omit<RmsNormKernelArgs, 'rows'> {
  blocks: number;
  channels: number;
  workspace: Float64Array;
}

/**
 * Backward of RmsNormChannelsKernelArgs: per (b, c) the row formulas of RmsNormBackwardKernelArgs with the constant
 * gain g = gammaOffset + gamma[c] (u = g·dy), and dgamma[c] = Σ_{b,i} dy·x̂, dbeta[c] = Σ_{b,i} dy ([channels],
 * overwritten). `workspace`: f64 scratch of at least 6·channels.
 */
export interface RmsNormChannelsBackwardKernelArgs extends Omit<RmsNormBackwardKernelArgs, 'rows'> {
  blocks: number;
  channels: number;
}

/**
 * LayerNorm forward in the channels-last layout: mean and rstd per (b, c) over the `cols` values of x[b, ·, c]
 * (mean/rstd[b·channels + c]), y[b,i,c] = (x[b,i,c] − mean)·rstd·gamma[c] + beta[c]. Workspace ≥ 6·channels f64.
 */
export interface LayerNormChannelsKernelArgs extends Omit<LayerNormKernelArgs, 'rows'> {
  blocks: number;
  channels: number;
  workspace: Float64Array;
}

/**
 * LayerNorm backward in the channels-last layout: the row formulas per (b, c) with the constant gain gamma[c];
 * dgamma[c] = Σ_{b,i} dy·x̂, dbeta[c] = Σ_{b,i} dy (overwritten). The mean is re-derived exactly (see
 * LayerNormBackwardKernelArgs). Workspace ≥ 6·channels f64.
 */
export interface LayerNormChannelsBackwardKernelArgs extends Omit<LayerNormBackwardKernelArgs, 'rows'> {
  blocks: number;
  channels: number;
}

/** 16-bit storage variants: the same fields with Uint16Array activations, plus which 16-bit format they hold. */
export type RmsNorm16KernelArgs = RmsNormKernelArgs<Uint16Array> & { dtype: HalfDtype };
export type RmsNormBackward16KernelArgs = RmsNormBackwardKernelArgs<Uint16Array> & { dtype: HalfDtype };
export type LayerNorm16KernelArgs = LayerNormKernelArgs<Uint16Array> & { dtype: HalfDtype };
export type LayerNormBackward16KernelArgs = LayerNormBackwardKernelArgs<Uint16Array> & { dtype: HalfDtype };
export type AddRmsNorm16KernelArgs = AddRmsNormKernelArgs<Uint16Array> & { dtype: HalfDtype };
export type AddRmsNormBackward16KernelArgs = AddRmsNormBackwardKernelArgs<Uint16Array> & { dtype: HalfDtype };

/** A kernel implementation. One file per op family inside each backend folder (rms-norm.ts, layer-norm.ts). */
export interface Backend {
  readonly name: 'js' | 'wasm';
  /** Whether the backend can run now (e.g. wasm: SIMD supported and module instantiated). */
  isAvailable(): boolean;
  rmsNorm(args: RmsNormKernelArgs): void;
  rmsNormBackward(args: RmsNormBackwardKernelArgs): void;
  layerNorm(args: LayerNormKernelArgs): void;
  layerNormBackward(args: LayerNormBackwardKernelArgs): void;
  // Optional kernels: a backend defines one only once it implements it (resolveKernel falls back or throws).
  addRmsNorm?(args: AddRmsNormKernelArgs): void;
  addRmsNormBackward?(args: AddRmsNormBackwardKernelArgs): void;
  rmsNorm16?(args: RmsNorm16KernelArgs): void;
  rmsNormBackward16?(args: RmsNormBackward16KernelArgs): void;
  layerNorm16?(args: LayerNorm16KernelArgs): void;
  layerNormBackward16?(args: LayerNormBackward16KernelArgs): void;
  addRmsNorm16?(args: AddRmsNorm16KernelArgs): void;
  addRmsNormBackward16?(args: AddRmsNormBackward16KernelArgs): void;
  rmsNormChannels?(args: RmsNormChannelsKernelArgs): void;
  rmsNormChannelsBackward?(args: RmsNormChannelsBackwardKernelArgs): void;
  layerNormChannels?(args: LayerNormChannelsKernelArgs): void;
  layerNormChannelsBackward?(args: LayerNormChannelsBackwardKernelArgs): void;
}

/** Every kernel a Backend can define (the four float32 ones are mandatory). */
export type KernelName = Exclude<keyof Backend, 'name' | 'isAvailable'>;

/** Thrown when an explicitly requested backend cannot run here. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

const registry = new Map<string, Backend>();

/** Make a backend selectable by name (the wasm module registers itself when imported). */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/** Names of the registered backends that can run now, in preference order. */
export function availableBackends(): string[] {
  return ['wasm', 'js'].filter((name) => registry.get(name)?.isAvailable() === true);
}

/**
 * Pick the backend for a call: `'auto'` = wasm when available, else js; an explicit name that cannot run
 * throws BackendUnavailableError.
 */
export function resolveBackend(name: string): Backend {
  if (name === 'auto') {
    const wasm = registry.get('wasm');
    if (wasm !== undefined && wasm.isAvailable()) return wasm;
    name = 'js';
  }
  const backend = registry.get(name);
  if (backend === undefined || !backend.isAvailable()) {
    throw new BackendUnavailableError(
      `backend '${name}' is not available here (available: ${availableBackends().join(', ') || 'none'})`,
    );
  }
  return backend;
}

/**
 * Pick the backend for a call that needs one particular kernel. `'auto'` = wasm when it is available and defines the
 * kernel, else js (which defines every kernel). An explicit backend that cannot run here, or that does not implement
 * the kernel yet, throws BackendUnavailableError naming the kernel — an explicit choice never silently runs elsewhere.
 * @example resolveKernel('auto', 'addRmsNorm16').addRmsNorm16!(args)
 */
export function resolveKernel(name: string, kernel: KernelName): Backend {
  if (name === 'auto') {
    const wasm = registry.get('wasm');
    if (wasm !== undefined && wasm.isAvailable() && typeof wasm[kernel] === 'function') return wasm;
    name = 'js';
  }
  const backend = resolveBackend(name);
  if (typeof backend[kernel] !== 'function') {
    throw new BackendUnavailableError(
      `backend '${name}' does not implement ${kernel} yet; use backend 'auto' or 'js' (docs/math.md §7)`,
    );
  }
  return backend;
}
