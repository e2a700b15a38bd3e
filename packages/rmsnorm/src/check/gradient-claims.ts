// Paper claim 6.3 measured live on a linear layer followed by RMSNorm / pRMSNorm, y = norm(x Wᵀ), L = Σ dy ⊙ y:
// dL/dg, dL/db unchanged under x → δx and W → δW; dL/dx × 1/δ under x → δx; dL/dW unchanged under x → δx and
// × 1/δ under W → δW (paper Eq. 10). Float64 reference with eps = 0 (the paper's formula) decides; the public
// float32 ops are shown beside it.
import { partialK, reference, rmsNorm, rmsNormBackward } from '../index.js';
import type { BackendName } from '../types.js';
import { linearBackward, linearForward, maxAbs, maxAbsDiff, scaled } from './linear.js';
import { mulberry32, normal } from './random.js';

/** A float64 deviation counts as "exact" when ≤ this (rounding alone gives ~1e-15). */
export const GRADIENT_CLAIM_THRESHOLD = 1e-9;

export type GradientQuantity = 'dL/dg' | 'dL/db' | 'dL/dx' | 'dL/dW';
export type GradientTransform = 'x → δx' | 'W → δW';

export interface GradientClaimRow {
  norm: 'RMSNorm' | 'pRMSNorm';
  quantity: GradientQuantity;
  transform: GradientTransform;
  delta: number;
  /** The claim: the gradient is unchanged, or multiplied by 1/δ. */
  expected: 'unchanged' | '× 1/δ';
  /** max |G' · factor⁻¹ − G| / max |G| in float64 (reference). */
  deviation: number;
  /** The same through the public float32 ops (information: f32 rounding gives ~1e-7). */
  deviationF32: number;
}

export interface GradientClaimsResult {
  batch: number;
  inputs: number;
  outputs: number;
  p: number;
  k: number;
  eps: number;
  seed: number;
  deltas: number[];
  /** Backend of the float32 column ('auto' resolves to wasm when available). */
  backend: BackendName;
  threshold: number;
  rows: GradientClaimRow[];
  maxDeviation: number;
  maxDeviationF32: number;
  /** Every float64 deviation ≤ threshold. */
  ok: boolean;
}

/** Which (quantity, transform) pairs the paper claims, and the expected factor as a function of δ. */
const CLAIMS: ReadonlyArray<{ quantity: GradientQuantity; transform: GradientTransform; expected: 'unchanged' | '× 1/δ' }> = [
  { quantity: 'dL/dg', transform: 'x → δx', expected: 'unchanged' },
  { quantity: 'dL/db', transform: 'x → δx', expected: 'unchanged' },
  { quantity: 'dL/dx', transform: 'x → δx', expected: '× 1/δ' },
  { quantity: 'dL/dW', transform: 'x → δx', expected: 'unchanged' },
  { quantity: 'dL/dg', transform: 'W → δW', expected: 'unchanged' },
  { quantity: 'dL/db', transform: 'W → δW', expected: 'unchanged' },
  { quantity: 'dL/dW', transform: 'W → δW', expected: '× 1/δ' },
];

type Grads = Record<GradientQuantity, ArrayLike<number>>;

export interface GradientClaimsOptions {
  batch?: number;
  inputs?: number;
  outputs?: number;
  p?: number;
  deltas?: number[];
  seed?: number;
  backend?: BackendName;
}

/**
 * Measure claim 6.3 for RMSNorm and pRMSNorm (p, k = ⌈p·outputs⌉) after a linear layer, for each δ in `deltas`.
 * @example const r = computeGradientClaims(); r.ok; r.rows.find((x) => x.quantity === 'dL/dW')?.deviation // ≈ 1e-16
 */
export function computeGradientClaims(options: GradientClaimsOptions = {}): GradientClaimsResult {
  const batch = options.batch ?? 4;
  const n = options.inputs ?? 16;
  const m = options.outputs ?? 64;
  const p = options.p ?? 0.0625;
  const deltas = options.deltas ?? [0.01, 3.7, 1000];
  const seed = options.seed ?? 1007;
  const backend = options.backend ?? 'auto';
  const eps = 0;
  const z = normal(mulberry32(seed));
  const vec = (len: number, mean = 0, std = 1) => Float64Array.from({ length: len }, () => mean + std * z());
  const x = vec(batch * n);
  const W = vec(m * n, 0, 1 / Math.sqrt(n));
  const gamma = vec(m, 1, 0.2);
  const beta = vec(m, 0, 0.5);
  const dy = vec(batch * m);
  const k = partialK(p, m, 'ceil');
  const f32 = (a: ArrayLike<number>) => Float32Array.from(a);

  const grads64 = (kk: number, xs: Float64Array, Ws: Float64Array): Grads => {
    const a = linearForward(xs, Ws, batch, n, m);
    const g = reference.rmsNormBackwardRef(dy, a, m, { gamma, beta, eps, k: kk });
    const lin = linearBackward(g.dx, xs, Ws, batch, n, m);
    return { 'dL/dg': g.dgamma!, 'dL/db': g.dbeta!, 'dL/dx': lin.dx, 'dL/dW': lin.dW };
  };
  const grads32 = (pp: number, xs: Float64Array, Ws: Float64Array): Grads => {
    const a = f32(linearForward(xs, Ws, batch, n, m));
    const o = { gamma: f32(gamma), beta: f32(beta), eps, p: pp, backend };
    const { rstd } = rmsNorm(a, m, o);
    const g = rmsNormBackward(f32(dy), a, rstd, m, o);
    const lin = linearBackward(g.dx, xs, Ws, batch, n, m);
    return { 'dL/dg': g.dgamma!, 'dL/db': g.dbeta!, 'dL/dx': lin.dx, 'dL/dW': lin.dW };
  };
  const deviation = (base: Grads, moved: Grads, q: GradientQuantity, factor: number) =>
    maxAbsDiff(scaled(moved[q], 1 / factor), base[q]) / maxAbs(base[q]);

  const rows: GradientClaimRow[] = [];
  for (const [norm, kk, pp] of [['RMSNorm', m, 1], ['pRMSNorm', k, p]] as const) {
    const base64 = grads64(kk, x, W);
    const base32 = grads32(pp, x, W);
    for (const delta of deltas) {
      const moved = {
        'x → δx': { g64: grads64(kk, scaled(x, delta), W), g32: grads32(pp, scaled(x, delta), W) },
        'W → δW': { g64: grads64(kk, x, scaled(W, delta)), g32: grads32(pp, x, scaled(W, delta)) },
      };
      for (const c of CLAIMS) {
        const factor = c.expected === 'unchanged' ? 1 : 1 / delta;
        rows.push({
          norm, quantity: c.quantity, transform: c.transform, delta, expected: c.expected,
          deviation: deviation(base64, moved[c.transform].g64, c.quantity, factor),
          deviationF32: deviation(base32, moved[c.transform].g32, c.quantity, factor),
        });
      }
    }
  }
  const maxDeviation = Math.max(...rows.map((r) => r.deviation));
  return {
    batch, inputs: n, outputs: m, p, k, eps, seed, deltas: [...deltas], backend,
    threshold: GRADIENT_CLAIM_THRESHOLD,
    rows,
    maxDeviation,
    maxDeviationF32: Math.max(...rows.map((r) => r.deviationF32)),
    ok: rows.every((r) => r.deviation <= GRADIENT_CLAIM_THRESHOLD),
  };
}
