// A float64 linear layer a = x Wᵀ and its backward, plus small array measures: shared by the gradient-claim check
// (gradient-claims.ts), the invariance table (invariance.ts) and the property tests (test/properties.test.ts).

/**
 * a = x Wᵀ in float64: x is batch × n, W is m × n (row i = the weights of output i), a is batch × m.
 * @example linearForward(Float64Array.of(1, 2), Float64Array.of(3, 4), 1, 2, 1) // [11]
 */
export function linearForward(x: ArrayLike<number>, W: ArrayLike<number>, batch: number, n: number, m: number): Float64Array {
  const a = new Float64Array(batch * m);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += W[i * n + j] * x[b * n + j];
      a[b * m + i] = s;
    }
  }
  return a;
}

/**
 * Backward of a = x Wᵀ given da = ∂L/∂a (batch × m): dW = Σ_b da_b x_bᵀ (m × n) and dx = da W (batch × n).
 * @example linearBackward(Float64Array.of(1), Float64Array.of(1, 2), Float64Array.of(3, 4), 1, 2, 1) // { dW: [1, 2], dx: [3, 4] }
 */
export function linearBackward(
  da: ArrayLike<number>,
  x: ArrayLike<number>,
  W: ArrayLike<number>,
  batch: number,
  n: number,
  m: number,
): { dW: Float64Array; dx: Float64Array } {
  const dW = new Float64Array(m * n);
  const dx = new Float64Array(batch * n);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < m; i++) {
      const g = da[b * m + i];
      for (let j = 0; j < n; j++) {
        dW[i * n + j] += g * x[b * n + j];
        dx[b * n + j] += g * W[i * n + j];
      }
    }
  }
  return { dW, dx };
}

/** max_i |a_i|. @example maxAbs([1, -3]) // 3 */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max_i |a_i − b_i| over the common length. @example maxAbsDiff([1, 2], [1, 2.5]) // 0.5 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** c · a as a new Float64Array. @example scaled([1, 2], 3) // [3, 6] */
export function scaled(a: ArrayLike<number>, c: number): Float64Array {
  return Float64Array.from(a as ArrayLike<number>, (v) => v * c);
}
