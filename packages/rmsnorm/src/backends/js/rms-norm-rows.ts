// Row loops of the js RMS-family kernels (rms-norm.ts): f64 partial sums and unrolled, branch-free row passes.
import { addDbetaRow } from './accumulate.js';

/** Σ_{i∈[start,end)} x_i² in f64 (4 interleaved partial sums). */
export function sumSquares(x: Float32Array, start: number, end: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = start;
  for (const end4 = end - 3; i < end4; i += 4) {
    const x0 = x[i];
    const x1 = x[i + 1];
    const x2 = x[i + 2];
    const x3 = x[i + 3];
    s0 += x0 * x0;
    s1 += x1 * x1;
    s2 += x2 * x2;
    s3 += x3 * x3;
  }
  for (; i < end; i++) s0 += x[i] * x[i];
  return s0 + s1 + (s2 + s3);
}

/** Σ_j a_{ao+j} · b_{bo+j} for j < n in f64 (4 interleaved partial sums). */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (const n4 = n - 3; j < n4; j += 4) {
    s0 += a[ao + j] * b[bo + j];
    s1 += a[ao + j + 1] * b[bo + j + 1];
    s2 += a[ao + j + 2] * b[bo + j + 2];
    s3 += a[ao + j + 3] * b[bo + j + 3];
  }
  for (; j < n; j++) s0 += a[ao + j] * b[bo + j];
  return s0 + s1 + (s2 + s3);
}

/** Σ_j (g0 + gamma_j) · dy_{base+j} · x_{base+j} for j < n in f64 (4 interleaved partial sums). */
export function gainDot(
  gamma: Float32Array, g0: number, dy: Float32Array, x: Float32Array, base: number, n: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (const n4 = n - 3; j < n4; j += 4) {
    const i = base + j;
    s0 += (g0 + gamma[j]) * dy[i] * x[i];
    s1 += (g0 + gamma[j + 1]) * dy[i + 1] * x[i + 1];
    s2 += (g0 + gamma[j + 2]) * dy[i + 2] * x[i + 2];
    s3 += (g0 + gamma[j + 3]) * dy[i + 3] * x[i + 3];
  }
  for (; j < n; j++) s0 += (g0 + gamma[j]) * dy[base + j] * x[base + j];
  return s0 + s1 + (s2 + s3);
}

// Row loops, unrolled by 4 (V8 does not unroll loops; unrolled, the per-element loop overhead is shared by 4).
// y_j = x_j · rs · (g0 + gamma_j) + beta_j, with the gain and/or bias terms left out when absent.

export function scaleRow(x: Float32Array, y: Float32Array, base: number, cols: number, rs: number): void {
  let j = 0;
  for (const c4 = cols - 3; j < c4; j += 4) {
    const i = base + j;
    y[i] = x[i] * rs;
    y[i + 1] = x[i + 1] * rs;
    y[i + 2] = x[i + 2] * rs;
    y[i + 3] = x[i + 3] * rs;
  }
  for (; j < cols; j++) y[base + j] = x[base + j] * rs;
}

export function scaleGainRow(
  x: Float32Array, y: Float32Array, base: number, cols: number, rs: number, gamma: Float32Array, g0: number,
): void {
  let j = 0;
  for (const c4 = cols - 3; j < c4; j += 4) {
    const i = base + j;
    y[i] = x[i] * rs * (g0 + gamma[j]);
    y[i + 1] = x[i + 1] * rs * (g0 + gamma[j + 1]);
    y[i + 2] = x[i + 2] * rs * (g0 + gamma[j + 2]);
    y[i + 3] = x[i + 3] * rs * (g0 + gamma[j + 3]);
  }
  for (; j < cols; j++) y[base + j] = x[base + j] * rs * (g0 + gamma[j]);
}

export function scaleBiasRow(
  x: Float32Array, y: Float32Array, base: number, cols: number, rs: number, beta: Float32Array,
): void {
  let j = 0;
  for (const c4 = cols - 3; j < c4; j += 4) {
    const i = base + j;
    y[i] = x[i] * rs + beta[j];
    y[i + 1] = x[i + 1] * rs + beta[j + 1];
    y[i + 2] = x[i + 2] * rs + beta[j + 2];
    y[i + 3] = x[i + 3] * rs + beta[j + 3];
  }
  for (; j < cols; j++) y[base + j] = x[base + j] * rs + beta[j];
}

export function scaleGainBiasRow(
  x: Float32Array, y: Float32Array, base: number, cols: number, rs: number, gamma: Float32Array, g0: number,
  beta: Float32Array,
): void {
  let j = 0;
  for (const c4 = cols - 3; j < c4; j += 4) {
    const i = base + j;
    y[i] = x[i] * rs * (g0 + gamma[j]) + beta[j];
    y[i + 1] = x[i + 1] * rs * (g0 + gamma[j + 1]) + beta[j + 1];
    y[i + 2] = x[i + 2] * rs * (g0 + gamma[j + 2]) + beta[j + 2];
    y[i + 3] = x[i + 3] * rs * (g0 + gamma[j + 3]) + beta[j + 3];
  }
  for (; j < cols; j++) y[base + j] = x[base + j] * rs * (g0 + gamma[j]) + beta[j];
}

// Backward row loops. Each reads dy_j and x_j before writing dx_j, so dx may be dy (in place).

/** ws[j] += dy_j·x_j·rs (dgamma) and/or ws[cols + j] += dy_j (dbeta) for j in [from, cols). */
export function paramsRow(
  dy: Float32Array, x: Float32Array, ws: Float64Array, base: number, from: number, cols: number, rs: number,
  wantGamma: boolean, wantBeta: boolean,
): void {
  let j = from;
  if (wantGamma && wantBeta) {
    for (const c4 = cols - 3; j < c4; j += 4) {
      const i = base + j;
      const d0 = dy[i];
      const d1 = dy[i + 1];
      const d2 = dy[i + 2];
      const d3 = dy[i + 3];
      ws[j] += d0 * x[i] * rs;
      ws[j + 1] += d1 * x[i + 1] * rs;
      ws[j + 2] += d2 * x[i + 2] * rs;
      ws[j + 3] += d3 * x[i + 3] * rs;
      ws[cols + j] += d0;
      ws[cols + j + 1] += d1;
      ws[cols + j + 2] += d2;
      ws[cols + j + 3] += d3;
    }
    for (; j < cols; j++) {
      ws[j] += dy[base + j] * x[base + j] * rs;
      ws[cols + j] += dy[base + j];
    }
  } else if (wantGamma) {
    for (const c4 = cols - 3; j < c4; j += 4) {
      const i = base + j;
      ws[j] += dy[i] * x[i] * rs;
      ws[j + 1] += dy[i + 1] * x[i + 1] * rs;
      ws[j + 2] += dy[i + 2] * x[i + 2] * rs;
      ws[j + 3] += dy[i + 3] * x[i + 3] * rs;
    }
    for (; j < cols; j++) ws[j] += dy[base + j] * x[base + j] * rs;
  } else {
    addDbetaRow(dy, ws, base, cols);
  }
}

/**
 * dx_j = (g0 + gamma_j)·dy_j·rs − x_j·coef fused with ws[j] += dy_j·x_j·rs (and ws[cols + j] += dy_j when wantBeta)
 * for j < k: one pass over dy and x for the usual training case (gain and its gradient). A plain loop: V8 runs
 * this fused body faster than an unrolled one (register pressure).
 */
export function dxGainParamsRow(
  dy: Float32Array, x: Float32Array, dx: Float32Array, ws: Float64Array, base: number, cols: number, k: number,
  rs: number, coef: number, gamma: Float32Array, g0: number, wantBeta: boolean,
): void {
  if (wantBeta) {
    for (let j = 0; j < k; j++) {
      const dyj = dy[base + j];
      const xj = x[base + j];
      dx[base + j] = (g0 + gamma[j]) * dyj * rs - xj * coef;
      ws[j] += dyj * xj * rs;
      ws[cols + j] += dyj;
    }
  } else {
    for (let j = 0; j < k; j++) {
      const dyj = dy[base + j];
      const xj = x[base + j];
      dx[base + j] = (g0 + gamma[j]) * dyj * rs - xj * coef;
      ws[j] += dyj * xj * rs;
    }
  }
}

/** dx_j = dy_j·rs − x_j·coef for j in [from, to). */
export function dxRow(
  dy: Float32Array, x: Float32Array, dx: Float32Array, base: number, from: number, to: number, rs: number, coef: number,
): void {
  let i = base + from;
  const end = base + to;
  for (const end4 = end - 3; i < end4; i += 4) {
    const d0 = dy[i] * rs - x[i] * coef;
    const d1 = dy[i + 1] * rs - x[i + 1] * coef;
    const d2 = dy[i + 2] * rs - x[i + 2] * coef;
    const d3 = dy[i + 3] * rs - x[i + 3] * coef;
    dx[i] = d0;
    dx[i + 1] = d1;
    dx[i + 2] = d2;
    dx[i + 3] = d3;
  }
  for (; i < end; i++) dx[i] = dy[i] * rs - x[i] * coef;
}

/** dx_j = (g0 + gamma_j)·dy_j·rs − x_j·coef for j in [from, to). */
export function dxGainRow(
  dy: Float32Array, x: Float32Array, dx: Float32Array, base: number, from: number, to: number, rs: number, coef: number,
  gamma: Float32Array, g0: number,
): void {
  let j = from;
  for (const to4 = to - 3; j < to4; j += 4) {
    const i = base + j;
    const d0 = (g0 + gamma[j]) * dy[i] * rs - x[i] * coef;
    const d1 = (g0 + gamma[j + 1]) * dy[i + 1] * rs - x[i + 1] * coef;
    const d2 = (g0 + gamma[j + 2]) * dy[i + 2] * rs - x[i + 2] * coef;
    const d3 = (g0 + gamma[j + 3]) * dy[i + 3] * rs - x[i + 3] * coef;
    dx[i] = d0;
    dx[i + 1] = d1;
    dx[i + 2] = d2;
    dx[i + 3] = d3;
  }
  for (; j < to; j++) dx[base + j] = (g0 + gamma[j]) * dy[base + j] * rs - x[base + j] * coef;
}

/** pRMSNorm tail j in [from, to), outside the statistic: dx_j = (g0 + gamma_j)·dy_j·rs (gain 1 when gamma is null). */
export function dxTailRow(
  dy: Float32Array, dx: Float32Array, base: number, from: number, to: number, rs: number, gamma: Float32Array | null,
  g0: number,
): void {
  if (gamma === null) for (let j = from; j < to; j++) dx[base + j] = dy[base + j] * rs;
  else for (let j = from; j < to; j++) dx[base + j] = (g0 + gamma[j]) * dy[base + j] * rs;
}
