// Paper claim 6.1 measured live: central finite differences of the float64 reference against its analytic backward
// for every op, and the public float32 ops (each backend) against that reference with the one tolerance table.
import { availableBackends, partialK, reference } from '../index.js';
import type { EpsPlacement, KRule } from '../types.js';
import { hashSeed, mulberry32 } from './random.js';
import { backwardScales, randomCase, runCase, type NormCase } from './run-case.js';
import { tolerance, type Direction, type ToleranceBackend, type ToleranceOp } from './tolerance.js';

/** A finite-difference error counts as correct when ≤ this, relative to the gradient's natural scale (paper ≈ 1e-8 absolute). */
export const FD_REL_THRESHOLD = 1e-7;
/**
 * Step of the fourth-order central difference (float64, inputs O(1)): truncation ~h⁴·f⁽⁵⁾/30, rounding
 * ~1e-16·Σ|dy ⊙ y|/h. With the paper's 2-point h = 1e-6 the rounding alone is ~1e-16·n/1e-6 = 3e-8 at n = 256,
 * which would measure the finite difference, not the kernel.
 */
export const FD_STEP = 1e-4;

/** One op variant of claim 6.1. */
export interface CorrectnessOpSpec {
  label: string;
  op: ToleranceOp;
  epsPlacement?: EpsPlacement;
  p?: number;
  kRule?: KRule;
}

/** pRMSNorm uses p = 0.3 here: at these odd widths ⌈0.3·n⌉ ≠ ⌊0.3·n⌋, so both k rules give k < n and differ. */
export const CORRECTNESS_OPS: readonly CorrectnessOpSpec[] = [
  { label: 'RMSNorm eps inside', op: 'rmsNorm', epsPlacement: 'inside' },
  { label: 'RMSNorm eps outside', op: 'rmsNorm', epsPlacement: 'outside' },
  { label: 'pRMSNorm p=0.3 k=ceil', op: 'rmsNorm', p: 0.3, kRule: 'ceil' },
  { label: 'pRMSNorm p=0.3 k=floor', op: 'rmsNorm', p: 0.3, kRule: 'floor' },
  { label: 'LayerNorm', op: 'layerNorm' },
  { label: 'L2-Norm', op: 'l2Norm' },
];
/** rows × cols: n = 1, odd n, batched rows. */
export const CORRECTNESS_SHAPES: ReadonlyArray<readonly [number, number]> = [[1, 1], [1, 7], [3, 5], [4, 33], [2, 256]];
export const CORRECTNESS_EPS: readonly number[] = [1e-6, 1e-2];

/** Finite differences of one op × eps × shape. */
export interface FdCase {
  op: string;
  eps: number;
  rows: number;
  cols: number;
  /** pRMSNorm's k (cols for the others). */
  k: number;
  /** max |fd − analytic| per gradient. */
  maxAbsError: { dx: number; dgamma: number; dbeta: number };
  /** Worst max |fd − analytic| / natural scale over dx, dgamma, dbeta (run-case.ts backwardScales). */
  relError: number;
}

/** Worst f32-vs-f64 error of one backend × op × direction over all shapes and eps. */
export interface F32Row {
  backend: ToleranceBackend;
  op: string;
  direction: Direction;
  /** Worst |actual − expected| / natural row scale. */
  scaledError: number;
  /** The tolerance's atol (the bound on scaledError, up to rtol). */
  atol: number;
  /** Worst error / allowed (≤ 1 passes). */
  worstRatio: number;
  ok: boolean;
}

export interface CorrectnessResult {
  h: number;
  threshold: number;
  eps: number[];
  shapes: Array<[number, number]>;
  fd: FdCase[];
  /** Per op: worst absolute and relative FD error over every shape and eps. */
  perOp: Array<{ op: string; maxAbsError: number; maxRelError: number; cases: number }>;
  f32: F32Row[];
  /** Every relError ≤ threshold and every f32 row within tolerance. */
  ok: boolean;
}

function makeCase(spec: CorrectnessOpSpec, eps: number, rows: number, cols: number): NormCase {
  const rand = mulberry32(hashSeed(`${spec.label} ${eps} ${rows}x${cols}`));
  const { op, epsPlacement, p, kRule } = spec;
  return randomCase(rand, rows, { name: `${spec.label} eps=${eps} ${rows}x${cols}`, op, cols, eps, epsPlacement, p, kRule });
}

/** The reference forward y(x, gamma, beta) and backward of one case, in float64. */
function referenceOp(c: NormCase) {
  const { cols, eps } = c;
  const k = c.p === undefined ? cols : partialK(c.p, cols, c.kRule ?? 'ceil');
  if (c.op === 'layerNorm') {
    return {
      k,
      divisor: cols,
      forward: (x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>) => reference.layerNormRef(x, cols, { gamma, beta, eps }),
      backward: () => reference.layerNormBackwardRef(c.dy, c.x, cols, { gamma: c.gamma, beta: c.beta, eps }),
    };
  }
  const o = { eps, epsPlacement: c.epsPlacement };
  if (c.op === 'l2Norm') {
    return {
      k,
      divisor: 1,
      forward: (x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>) => reference.l2NormRef(x, cols, { ...o, gamma, beta }),
      backward: () => reference.l2NormBackwardRef(c.dy, c.x, cols, { ...o, gamma: c.gamma, beta: c.beta }),
    };
  }
  return {
    k,
    divisor: k,
    forward: (x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>) => reference.rmsNormRef(x, cols, { ...o, gamma, beta, k }),
    backward: () => reference.rmsNormBackwardRef(c.dy, c.x, cols, { ...o, gamma: c.gamma, beta: c.beta, k }),
  };
}

/**
 * ∂L/∂v by fourth-order central differences, (−L(v+2h) + 8L(v+h) − 8L(v−h) + L(v−2h))/(12h), each element of v
 * perturbed in place (and restored) in float64.
 */
function centralDifferences(v: Float64Array, loss: () => number, h: number): Float64Array {
  const g = new Float64Array(v.length);
  const at = (i: number, keep: number, t: number) => {
    v[i] = keep + t;
    return loss();
  };
  for (let i = 0; i < v.length; i++) {
    const keep = v[i];
    g[i] = (-at(i, keep, 2 * h) + 8 * at(i, keep, h) - 8 * at(i, keep, -h) + at(i, keep, -2 * h)) / (12 * h);
    v[i] = keep;
  }
  return g;
}

/** max_i |a_i − b_i| / scale(i) and max_i |a_i − b_i|, with scale per row of `stride` elements (or per element). */
function errors(fd: Float64Array, analytic: ArrayLike<number>, scales: ArrayLike<number>, stride: number): { abs: number; rel: number } {
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < fd.length; i++) {
    const e = Math.abs(fd[i] - analytic[i]);
    const s = scales[Math.floor(i / stride)];
    abs = Math.max(abs, e);
    rel = Math.max(rel, e === 0 ? 0 : s > 0 ? e / s : Infinity);
  }
  return { abs, rel };
}

/**
 * Finite differences of one case against the reference's analytic gradients (or `analytic`, to show that a wrong
 * gradient is caught). @example finiteDifferenceCase(c).relError // ≈ 1e-9
 */
export function finiteDifferenceCase(
  c: NormCase,
  { h = FD_STEP, analytic: given }: { h?: number; analytic?: { dx: ArrayLike<number>; dgamma: ArrayLike<number> | null; dbeta: ArrayLike<number> | null } } = {},
): Omit<FdCase, 'op' | 'eps'> {
  const ref = referenceOp(c);
  const x = Float64Array.from(c.x);
  const gamma = Float64Array.from(c.gamma!);
  const beta = Float64Array.from(c.beta!);
  const loss = () => {
    const y = ref.forward(x, gamma, beta).y;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += c.dy[i] * y[i];
    return s;
  };
  const analytic = given ?? ref.backward();
  const fwd = ref.forward(x, gamma, beta);
  const rows = c.x.length / c.cols;
  const mean = 'mean' in fwd ? (fwd.mean as Float64Array) : null;
  const xhat = (i: number, r: number) => (mean === null ? c.x[i] : c.x[i] - mean[r]) * fwd.rstd[r];
  const sc = backwardScales(c.dy, xhat, fwd.rstd, (j) => gamma[j], c.cols, ref.divisor);
  const dx = errors(centralDifferences(x, loss, h), analytic.dx, sc.dx, c.cols);
  const dgamma = errors(centralDifferences(gamma, loss, h), analytic.dgamma!, sc.dgamma, 1);
  const dbeta = errors(centralDifferences(beta, loss, h), analytic.dbeta!, sc.dbeta, 1);
  return {
    rows,
    cols: c.cols,
    k: ref.k,
    maxAbsError: { dx: dx.abs, dgamma: dgamma.abs, dbeta: dbeta.abs },
    relError: Math.max(dx.rel, dgamma.rel, dbeta.rel),
  };
}

/**
 * Claim 6.1: finite differences (float64 reference, L = Σ dy ⊙ y, gradients w.r.t. x, gamma, beta) for every op of
 * CORRECTNESS_OPS on CORRECTNESS_SHAPES × CORRECTNESS_EPS, and the public float32 ops on each available backend
 * against the reference (run-case.ts, tolerance.ts). Takes well under a second.
 * @example const r = computeCorrectness(); r.ok; r.perOp[0].maxAbsError // ≈ 1e-10
 */
export function computeCorrectness(backends?: ToleranceBackend[]): CorrectnessResult {
  const which = backends ?? (availableBackends().filter((b) => b === 'js' || b === 'wasm') as ToleranceBackend[]);
  const fd: FdCase[] = [];
  const f32 = new Map<string, F32Row>();
  for (const spec of CORRECTNESS_OPS) {
    for (const eps of CORRECTNESS_EPS) {
      for (const [rows, cols] of CORRECTNESS_SHAPES) {
        const c = makeCase(spec, eps, rows, cols);
        fd.push({ op: spec.label, eps, ...finiteDifferenceCase(c) });
        for (const backend of which) {
          const result = runCase(c, backend, (d) => tolerance(backend, spec.op, d));
          for (const direction of ['forward', 'backward'] as const) {
            const comps = Object.values(direction === 'forward' ? result.forward : result.backward);
            const key = `${backend}|${spec.label}|${direction}`;
            const row = f32.get(key) ?? {
              backend, op: spec.label, direction, scaledError: 0, atol: tolerance(backend, spec.op, direction).atol, worstRatio: 0, ok: true,
            };
            for (const comp of comps) {
              row.scaledError = Math.max(row.scaledError, comp.scaledError);
              row.worstRatio = Math.max(row.worstRatio, comp.ratio);
              row.ok &&= comp.ok;
            }
            f32.set(key, row);
          }
        }
      }
    }
  }
  const perOp = CORRECTNESS_OPS.map((spec) => {
    const mine = fd.filter((r) => r.op === spec.label);
    return {
      op: spec.label,
      maxAbsError: Math.max(...mine.map((r) => Math.max(r.maxAbsError.dx, r.maxAbsError.dgamma, r.maxAbsError.dbeta))),
      maxRelError: Math.max(...mine.map((r) => r.relError)),
      cases: mine.length,
    };
  });
  const f32Rows = [...f32.values()];
  return {
    h: FD_STEP,
    threshold: FD_REL_THRESHOLD,
    eps: [...CORRECTNESS_EPS],
    shapes: CORRECTNESS_SHAPES.map(([r, c]) => [r, c]),
    fd,
    perOp,
    f32: f32Rows,
    ok: fd.every((r) => r.relError <= FD_REL_THRESHOLD) && f32Rows.length > 0 && f32Rows.every((r) => r.ok),
  };
}
