// The Backend interface every kernel implementation fills in, and backend selection.
// Kernels receive validated, explicitly sized arguments and caller-provided outputs; they never allocate
// and never validate (the op layer in src/ops does both, once).

/**
 * Arguments of the RMS family forward kernel: RMSNorm, pRMSNorm (k < cols) and L2-Norm (divisor = 1).
 *
 *   s      = Σ_{i<k} x_i² / divisor            (divisor = k for (p)RMSNorm, 1 for L2-Norm)
 *   rstd   = 1/sqrt(s + eps)   (inside)   or   1/(sqrt(s) + eps)   (epsOutside)
 *   y_j    = x_j · rstd · (gammaOffset + gamma_j) + beta_j      for all j < cols
 */
export interface RmsNormKernelArgs {
  x: Float32Array;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  gammaOffset: number;
  y: Float32Array;
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
export interface RmsNormBackwardKernelArgs {
  dy: Float32Array;
  x: Float32Array;
  rstd: Float32Array;
  gamma: Float32Array | null;
  gammaOffset: number;
  dx: Float32Array;
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
export interface LayerNormKernelArgs {
  x: Float32Array;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  y: Float32Array;
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
export interface LayerNormBackwardKernelArgs {
  dy: Float32Array;
  x: Float32Array;
  mean: Float32Array;
  rstd: Float32Array;
  gamma: Float32Array | null;
  dx: Float32Array;
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
  rows: number;
  cols: number;
  /** Scratch of at least 2·cols float64 (contents ignored), as for RMSNorm. */
  workspace: Float64Array;
}

/** A kernel implementation. One file per op family inside each backend folder (rms-norm.ts, layer-norm.ts). */
export interface Backend {
  readonly name: 'js' | 'wasm';
  /** Whether the backend can run now (e.g. wasm: SIMD supported and module instantiated). */
  isAvailable(): boolean;
  rmsNorm(args: RmsNormKernelArgs): void;
  rmsNormBackward(args: RmsNormBackwardKernelArgs): void;
  layerNorm(args: LayerNormKernelArgs): void;
  layerNormBackward(args: LayerNormBackwardKernelArgs): void;
}

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
