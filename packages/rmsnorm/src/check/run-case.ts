// Run one op on one input through the PUBLIC API and compare forward and backward with the float64 reference.
// Shared by the test case matrix (test/cases.ts) and `rmsnorm check`'s self-test.
import {
  l2Norm,
  l2NormBackward,
  layerNorm,
  layerNormBackward,
  partialK,
  reference,
  rmsNorm,
  rmsNormBackward,
} from '../index.js';
import type { BackendName, EpsPlacement, KRule } from '../types.js';
import { compareArrays, type Comparison } from './compare.js';
import { randomNormal } from './random.js';
import type { Direction, Tolerance, ToleranceOp } from './tolerance.js';

/** One input of one op. Options left undefined are not passed (so the op's defaults are exercised). */
export interface NormCase {
  name: string;
  op: ToleranceOp;
  cols: number;
  x: Float32Array;
  dy: Float32Array;
  gamma?: Float32Array;
  beta?: Float32Array;
  gammaOffset?: number;
  eps?: number;
  epsPlacement?: EpsPlacement;
  p?: number;
  kRule?: KRule;
}

/** The comparisons of one case, keyed by output name (y, rstd, mean / dx, dgamma, dbeta). */
export interface CaseResult {
  forward: Record<string, Comparison>;
  backward: Record<string, Comparison>;
  /** The public op's outputs, for extra semantic assertions by the caller. */
  outputs: { y: Float32Array; rstd: Float32Array; mean?: Float32Array; dx: Float32Array };
}

/**
 * A case of `rows` rows with x, dy ~ N(0, 1), gamma ~ N(1, 0.2), beta ~ N(0, 0.5), drawn in that order from `rand`.
 * @example randomCase(mulberry32(1), 2, { name: 'rms 2x8', op: 'rmsNorm', cols: 8 })
 */
export function randomCase(rand: () => number, rows: number, fields: Omit<NormCase, 'x' | 'dy' | 'gamma' | 'beta'>): NormCase {
  const { cols } = fields;
  return {
    ...fields,
    x: randomNormal(rand, rows * cols),
    dy: randomNormal(rand, rows * cols),
    gamma: randomNormal(rand, cols, 1, 0.2),
    beta: randomNormal(rand, cols, 0, 0.5),
  };
}

function options(c: NormCase, backend: BackendName): Record<string, unknown> {
  const o: Record<string, unknown> = { backend };
  for (const key of ['gamma', 'beta', 'gammaOffset', 'eps'] as const) if (c[key] !== undefined) o[key] = c[key];
  if (c.op !== 'layerNorm' && c.epsPlacement !== undefined) o.epsPlacement = c.epsPlacement;
  if (c.op === 'rmsNorm') {
    if (c.p !== undefined) o.p = c.p;
    if (c.kRule !== undefined) o.kRule = c.kRule;
  }
  return o;
}

/** Row-wise max |x| (the natural scale of a row's mean). */
function rowMaxAbs(x: Float32Array, cols: number): Float64Array {
  const rows = x.length / cols;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let j = 0; j < cols; j++) {
      const v = Math.abs(x[r * cols + j]);
      if (Number.isFinite(v) && v > m) m = v;
    }
    out[r] = m;
  }
  return out;
}

/**
 * Natural error scale of y per row: max_j (|x̂_j·g_j| + |beta_j|), the size of the terms before a possible
 * cancellation (y_j ≈ 0 when x̂_j·g_j ≈ −beta_j), from the reference's x̂.
 */
function forwardScales(
  xhat: (index: number, row: number) => number,
  gain: (j: number) => number,
  beta: Float32Array | undefined,
  rows: number,
  cols: number,
): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let j = 0; j < cols; j++) {
      const t = Math.abs(xhat(r * cols + j, r) * gain(j)) + (beta === undefined ? 0 : Math.abs(beta[j]));
      if (Number.isFinite(t) && t > m) m = t;
    }
    out[r] = m;
  }
  return out;
}

/**
 * Natural error scales of the backward outputs, from the reference. dx_j = rstd·(u_j − [mean(u)] − x̂_j·c) is a
 * difference of terms, so a row's dx is judged against the largest term, rstd·(max|u| + max|x̂|·Σ|u ⊙ x̂|/divisor)
 * (u = gain ⊙ dy) — not against |dx| itself, which can be ~0 by exact cancellation (cols = 1 gives
 * dx = rstd·u·eps/(ms + eps)). dgamma_j and dbeta_j are sums over rows, judged against Σ_rows |dy ⊙ x̂| and
 * Σ_rows |dy| (the standard bound for a rounded sum).
 */
export function backwardScales(
  dy: Float32Array,
  xhat: (index: number, row: number) => number,
  rstd: ArrayLike<number>,
  gain: (j: number) => number,
  cols: number,
  divisor: number,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const rows = dy.length / cols;
  const dx = new Float64Array(rows);
  const dgamma = new Float64Array(cols);
  const dbeta = new Float64Array(cols);
  const finite = (v: number) => (Number.isFinite(v) ? v : 0);
  for (let r = 0; r < rows; r++) {
    let maxU = 0;
    let maxXhat = 0;
    let sumUXhat = 0;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const u = finite(Math.abs(gain(j) * dy[i]));
      const xh = finite(Math.abs(xhat(i, r)));
      maxU = Math.max(maxU, u);
      maxXhat = Math.max(maxXhat, xh);
      sumUXhat += u * xh;
      dgamma[j] += finite(Math.abs(dy[i]) * xh);
      dbeta[j] += finite(Math.abs(dy[i]));
    }
    dx[r] = finite(rstd[r] * (maxU + (maxXhat * sumUXhat) / divisor));
  }
  return { dx, dgamma, dbeta };
}

/**
 * Run forward then backward (backward consumes the forward's saved rstd/mean, as real callers do) with the given
 * backend, and compare every output with the float64 reference computed on the same float32 inputs.
 * @example const r = runCase(c, 'js', (dir) => tolerance('js', c.op, dir)); r.forward.y.ok
 */
export function runCase(c: NormCase, backend: BackendName, tol: (direction: Direction) => Tolerance): CaseResult {
  const { x, dy, cols } = c;
  const o = options(c, backend);
  const fwd = tol('forward');
  const bwd = tol('backward');
  const forward: Record<string, Comparison> = {};
  const backward: Record<string, Comparison> = {};
  const refOptions = {
    gamma: c.gamma,
    beta: c.beta,
    gammaOffset: c.gammaOffset,
    eps: c.eps,
    epsPlacement: c.epsPlacement,
  };
  let y: Float32Array;
  let rstd: Float32Array;
  let mean: Float32Array | undefined;
  let dx: Float32Array;
  if (c.op === 'layerNorm') {
    const lnOptions = { gamma: c.gamma, beta: c.beta, eps: c.eps };
    const out = layerNorm(x, cols, o);
    ({ y, rstd, mean } = out);
    const ref = reference.layerNormRef(x, cols, lnOptions);
    const lnXhat = (i: number, r: number) => (x[i] - ref.mean[r]) * ref.rstd[r];
    const lnGain = (j: number) => (c.gamma === undefined ? 1 : c.gamma[j]);
    forward.y = compareArrays(y, ref.y, fwd, cols, forwardScales(lnXhat, lnGain, c.beta, rstd.length, cols));
    forward.rstd = compareArrays(rstd, ref.rstd, fwd, 1);
    forward.mean = compareArrays(mean, ref.mean, fwd, 1, rowMaxAbs(x, cols));
    const grads = layerNormBackward(dy, x, mean, rstd, cols, o);
    const refGrads = reference.layerNormBackwardRef(dy, x, cols, lnOptions);
    dx = grads.dx;
    const sc = backwardScales(dy, lnXhat, ref.rstd, lnGain, cols, cols);
    backward.dx = compareArrays(grads.dx, refGrads.dx, bwd, cols, sc.dx);
    if (refGrads.dgamma !== null) backward.dgamma = compareArrays(grads.dgamma ?? [], refGrads.dgamma, bwd, 1, sc.dgamma);
    if (refGrads.dbeta !== null) backward.dbeta = compareArrays(grads.dbeta ?? [], refGrads.dbeta, bwd, 1, sc.dbeta);
  } else {
    const isL2 = c.op === 'l2Norm';
    const out = isL2 ? l2Norm(x, cols, o) : rmsNorm(x, cols, o);
    ({ y, rstd } = out);
    const k = c.p === undefined || c.p === 1 ? cols : partialK(c.p, cols, c.kRule ?? 'ceil');
    const ref = isL2 ? reference.l2NormRef(x, cols, refOptions) : reference.rmsNormRef(x, cols, { ...refOptions, k });
    const rmsGain = (j: number) => (c.gamma === undefined ? 1 : (c.gammaOffset ?? 0) + c.gamma[j]);
    forward.y = compareArrays(y, ref.y, fwd, cols, forwardScales((i, r) => x[i] * ref.rstd[r], rmsGain, c.beta, rstd.length, cols));
    forward.rstd = compareArrays(rstd, ref.rstd, fwd, 1);
    const grads = isL2 ? l2NormBackward(dy, x, rstd, cols, o) : rmsNormBackward(dy, x, rstd, cols, o);
    const refGrads = isL2
      ? reference.l2NormBackwardRef(dy, x, cols, refOptions)
      : reference.rmsNormBackwardRef(dy, x, cols, { ...refOptions, k });
    dx = grads.dx;
    const sc = backwardScales(dy, (i, r) => x[i] * ref.rstd[r], ref.rstd, rmsGain, cols, isL2 ? 1 : k);
    backward.dx = compareArrays(grads.dx, refGrads.dx, bwd, cols, sc.dx);
    if (refGrads.dgamma !== null) backward.dgamma = compareArrays(grads.dgamma ?? [], refGrads.dgamma, bwd, 1, sc.dgamma);
    if (refGrads.dbeta !== null) backward.dbeta = compareArrays(grads.dbeta ?? [], refGrads.dbeta, bwd, 1, sc.dbeta);
  }
  return { forward, backward, outputs: { y, rstd, mean, dx } };
}
