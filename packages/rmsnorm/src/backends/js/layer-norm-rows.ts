// Row loops of the js LayerNorm kernels (layer-norm.ts): f64 partial sums and branch-free row passes.
import { addDbetaRow } from './accumulate.js';

/** Σ x_i over [start, end) in f64 (4 interleaved partial sums). */
export function sum(x: Float32Array, start: number, end: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = start;
  for (const end4 = end - 3; i < end4; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < end; i++) s0 += x[i];
  return s0 + s1 + (s2 + s3);
}

/** Σ (x_i − mu)² over [start, end) in f64 (4 interleaved partial sums). */
export function centredSquares(x: Float32Array, start: number, end: number, mu: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = start;
  for (const end4 = end - 3; i < end4; i += 4) {
    const d0 = x[i] - mu;
    const d1 = x[i + 1] - mu;
    const d2 = x[i + 2] - mu;
    const d3 = x[i + 3] - mu;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < end; i++) s0 += (x[i] - mu) * (x[i] - mu);
  return s0 + s1 + (s2 + s3);
}

/** y_j = (x_j − mu)·rs·gamma_j + beta_j, each term only when present (+ 0 without beta, as -0 + 0 = +0). */
export function normalizeRow(
  x: Float32Array, y: Float32Array, base: number, cols: number, mu: number, rs: number,
  gamma: Float32Array | null, beta: Float32Array | null,
): void {
  let j = 0;
  const c4 = cols - 3;
  if (gamma === null && beta === null) {
    for (; j < c4; j += 4) {
      const i = base + j;
      y[i] = (x[i] - mu) * rs + 0;
      y[i + 1] = (x[i + 1] - mu) * rs + 0;
      y[i + 2] = (x[i + 2] - mu) * rs + 0;
      y[i + 3] = (x[i + 3] - mu) * rs + 0;
    }
    for (; j < cols; j++) y[base + j] = (x[base + j] - mu) * rs + 0;
  } else if (beta === null) {
    const g = gamma!;
    for (; j < c4; j += 4) {
      const i = base + j;
      y[i] = (x[i] - mu) * rs * g[j] + 0;
      y[i + 1] = (x[i + 1] - mu) * rs * g[j + 1] + 0;
      y[i + 2] = (x[i + 2] - mu) * rs * g[j + 2] + 0;
      y[i + 3] = (x[i + 3] - mu) * rs * g[j + 3] + 0;
    }
    for (; j < cols; j++) y[base + j] = (x[base + j] - mu) * rs * g[j] + 0;
  } else if (gamma === null) {
    for (; j < c4; j += 4) {
      const i = base + j;
      y[i] = (x[i] - mu) * rs + beta[j];
      y[i + 1] = (x[i + 1] - mu) * rs + beta[j + 1];
      y[i + 2] = (x[i + 2] - mu) * rs + beta[j + 2];
      y[i + 3] = (x[i + 3] - mu) * rs + beta[j + 3];
    }
    for (; j < cols; j++) y[base + j] = (x[base + j] - mu) * rs + beta[j];
  } else {
    for (; j < c4; j += 4) {
      const i = base + j;
      y[i] = (x[i] - mu) * rs * gamma[j] + beta[j];
      y[i + 1] = (x[i + 1] - mu) * rs * gamma[j + 1] + beta[j + 1];
      y[i + 2] = (x[i + 2] - mu) * rs * gamma[j + 2] + beta[j + 2];
      y[i + 3] = (x[i + 3] - mu) * rs * gamma[j + 3] + beta[j + 3];
    }
    for (; j < cols; j++) y[base + j] = (x[base + j] - mu) * rs * gamma[j] + beta[j];
  }
}

/** backwardSums' results [Σx, Σu, Σu·x̂] for the last row (a fixed buffer: nothing allocated per row). */
export const rowSums = new Float64Array(3);

/**
 * Σx, Σu and Σu·(x − savedMu)·rs over one row into rowSums, u = gamma ⊙ dy (dy when gamma is null);
 * 2 partial sums each.
 */
export function backwardSums(
  dy: Float32Array, x: Float32Array, gamma: Float32Array | null, base: number, cols: number, savedMu: number, rs: number,
): void {
  let x0 = 0;
  let x1 = 0;
  let u0 = 0;
  let u1 = 0;
  let p0 = 0;
  let p1 = 0;
  let j = 0;
  const c2 = cols - 1;
  if (gamma === null) {
    for (; j < c2; j += 2) {
      const i = base + j;
      const xa = x[i];
      const xb = x[i + 1];
      const ua = dy[i];
      const ub = dy[i + 1];
      x0 += xa;
      x1 += xb;
      u0 += ua;
      u1 += ub;
      p0 += ua * (xa - savedMu) * rs;
      p1 += ub * (xb - savedMu) * rs;
    }
    if (j < cols) {
      const u = dy[base + j];
      x0 += x[base + j];
      u0 += u;
      p0 += u * (x[base + j] - savedMu) * rs;
    }
  } else {
    for (; j < c2; j += 2) {
      const i = base + j;
      const xa = x[i];
      const xb = x[i + 1];
      const ua = gamma[j] * dy[i];
      const ub = gamma[j + 1] * dy[i + 1];
      x0 += xa;
      x1 += xb;
      u0 += ua;
      u1 += ub;
      p0 += ua * (xa - savedMu) * rs;
      p1 += ub * (xb - savedMu) * rs;
    }
    if (j < cols) {
      const u = gamma[j] * dy[base + j];
      x0 += x[base + j];
      u0 += u;
      p0 += u * (x[base + j] - savedMu) * rs;
    }
  }
  rowSums[0] = x0 + x1;
  rowSums[1] = u0 + u1;
  rowSums[2] = p0 + p1;
}

/** ws[j] += dy_j·x̂_j (dgamma) or ws[cols + j] += dy_j (dbeta), x̂_j = (x_j − mu)·rs (both at once: dxParamsRow). */
export function paramsRow(
  dy: Float32Array, x: Float32Array, ws: Float64Array, base: number, cols: number, mu: number, rs: number,
  wantGamma: boolean,
): void {
  let j = 0;
  const c4 = cols - 3;
  if (wantGamma) {
    for (; j < c4; j += 4) {
      const i = base + j;
      ws[j] += dy[i] * ((x[i] - mu) * rs);
      ws[j + 1] += dy[i + 1] * ((x[i + 1] - mu) * rs);
      ws[j + 2] += dy[i + 2] * ((x[i + 2] - mu) * rs);
      ws[j + 3] += dy[i + 3] * ((x[i + 3] - mu) * rs);
    }
    for (; j < cols; j++) ws[j] += dy[base + j] * ((x[base + j] - mu) * rs);
  } else {
    addDbetaRow(dy, ws, base, cols);
  }
}

/** dx_j = rs·(u_j − meanU − x̂_j·meanUXhat), u = gamma ⊙ dy (dy when gamma is null); dy_j is read before dx_j. */
export function dxRow(
  dy: Float32Array, x: Float32Array, dx: Float32Array, gamma: Float32Array | null, base: number, cols: number,
  mu: number, rs: number, meanU: number, meanUXhat: number,
): void {
  let j = 0;
  const c4 = cols - 3;
  if (gamma === null) {
    for (; j < c4; j += 4) {
      const i = base + j;
      const d0 = rs * (dy[i] - meanU - (x[i] - mu) * rs * meanUXhat);
      const d1 = rs * (dy[i + 1] - meanU - (x[i + 1] - mu) * rs * meanUXhat);
      const d2 = rs * (dy[i + 2] - meanU - (x[i + 2] - mu) * rs * meanUXhat);
      const d3 = rs * (dy[i + 3] - meanU - (x[i + 3] - mu) * rs * meanUXhat);
      dx[i] = d0;
      dx[i + 1] = d1;
      dx[i + 2] = d2;
      dx[i + 3] = d3;
    }
    for (; j < cols; j++) dx[base + j] = rs * (dy[base + j] - meanU - (x[base + j] - mu) * rs * meanUXhat);
  } else {
    for (; j < c4; j += 4) {
      const i = base + j;
      const d0 = rs * (gamma[j] * dy[i] - meanU - (x[i] - mu) * rs * meanUXhat);
      const d1 = rs * (gamma[j + 1] * dy[i + 1] - meanU - (x[i + 1] - mu) * rs * meanUXhat);
      const d2 = rs * (gamma[j + 2] * dy[i + 2] - meanU - (x[i + 2] - mu) * rs * meanUXhat);
      const d3 = rs * (gamma[j + 3] * dy[i + 3] - meanU - (x[i + 3] - mu) * rs * meanUXhat);
      dx[i] = d0;
      dx[i + 1] = d1;
      dx[i + 2] = d2;
      dx[i + 3] = d3;
    }
    for (; j < cols; j++) dx[base + j] = rs * (gamma[j] * dy[base + j] - meanU - (x[base + j] - mu) * rs * meanUXhat);
  }
}

/** dxRow and both parameter sums fused in one pass (the usual training case: gamma and beta given). */
export function dxParamsRow(
  dy: Float32Array, x: Float32Array, dx: Float32Array, ws: Float64Array, gamma: Float32Array | null, base: number,
  cols: number, mu: number, rs: number, meanU: number, meanUXhat: number,
): void {
  if (gamma === null) {
    for (let j = 0; j < cols; j++) {
      const dyj = dy[base + j];
      const xhat = (x[base + j] - mu) * rs;
      dx[base + j] = rs * (dyj - meanU - xhat * meanUXhat);
      ws[j] += dyj * xhat;
      ws[cols + j] += dyj;
    }
  } else {
    for (let j = 0; j < cols; j++) {
      const dyj = dy[base + j];
      const xhat = (x[base + j] - mu) * rs;
      dx[base + j] = rs * (gamma[j] * dyj - meanU - xhat * meanUXhat);
      ws[j] += dyj * xhat;
      ws[cols + j] += dyj;
    }
  }
}
