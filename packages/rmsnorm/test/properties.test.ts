// Property-based checks (fast-check) of paper §3 properties 1–8 and the gradient scaling laws. The properties are
// mathematical, so they run on the float64 reference with eps = 0 (near-exact: 1e-12 relative); a subset also runs
// through the public js ops with float32 tolerances. Sizes are small; degenerate draws (near-zero rows) are
// filtered with fc.pre. Each property prints how many cases it ran.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { layerNorm, partialK, reference, rmsNorm, rmsNormBackward } from '../src/index.js';
import { linearBackward, linearForward as matmul, maxAbs, maxAbsDiff as maxDiff, scaled } from '../src/check/linear.js';

const RUNS = 1000;
const SEED = 20191007; // fixed: failures reproduce
const EXACT = 1e-12; // f64 with eps = 0: only rounding remains
const F32 = 2e-6; // public js ops: a few f32 ulps

/** Run a property, print its case count, fail with fast-check's report (seed + counterexample). */
function check(name: string, property: fc.IPropertyWithHooks<unknown> | fc.IProperty<unknown>): void {
  const details = fc.check(property, { numRuns: RUNS, seed: SEED });
  console.log(`property "${name}": ${details.numRuns} cases (${details.numSkips} skipped by preconditions)`);
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `property ${name} failed`);
  assert.ok(details.numRuns >= RUNS, `${name}: only ${details.numRuns} runs`);
}

/** Entries with 0.1 ≤ |v| ≤ 10: bounded away from 0 and overflow, so rows are rarely degenerate (few fc.pre skips). */
const value = fc
  .tuple(fc.boolean(), fc.double({ min: 0.1, max: 10, noNaN: true }))
  .map(([negative, magnitude]) => (negative ? -magnitude : magnitude));
const positiveScale = fc.double({ min: 1e-3, max: 1e3, noNaN: true });
const negativeScale = fc.double({ min: -1e3, max: -1e-3, noNaN: true });

interface Input {
  rows: number;
  cols: number;
  x: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
  p: number;
}

/** rows × cols input with gamma, beta and a pRMSNorm fraction p ∈ {1, 0.5, 0.25}. */
function input(minCols = 1, maxCols = 12): fc.Arbitrary<Input> {
  return fc
    .record({ rows: fc.integer({ min: 1, max: 3 }), cols: fc.integer({ min: minCols, max: maxCols }), p: fc.constantFrom(1, 0.5, 0.25) })
    .chain(({ rows, cols, p }) =>
      fc.record({
        rows: fc.constant(rows),
        cols: fc.constant(cols),
        p: fc.constant(p),
        x: fc.array(value, { minLength: rows * cols, maxLength: rows * cols }).map((a) => Float64Array.from(a)),
        gamma: fc.array(value, { minLength: cols, maxLength: cols }).map((a) => Float64Array.from(a)),
        beta: fc.array(value, { minLength: cols, maxLength: cols }).map((a) => Float64Array.from(a)),
      }),
    );
}

/** Smallest RMS over the rows' first k entries and smallest std over full rows (to reject degenerate draws). */
function rowStats(x: ArrayLike<number>, cols: number, k: number): { minRms: number; minStd: number } {
  let minRms = Infinity;
  let minStd = Infinity;
  for (let base = 0; base < x.length; base += cols) {
    let s = 0;
    for (let i = 0; i < k; i++) s += x[base + i] ** 2;
    let m = 0;
    for (let i = 0; i < cols; i++) m += x[base + i];
    m /= cols;
    let v = 0;
    for (let i = 0; i < cols; i++) v += (x[base + i] - m) ** 2;
    minRms = Math.min(minRms, Math.sqrt(s / k));
    minStd = Math.min(minStd, Math.sqrt(v / cols));
  }
  return { minRms, minStd };
}

const kOf = (inp: Input) => partialK(inp.p, inp.cols, 'ceil');

type Norm = 'RMSNorm' | 'pRMSNorm' | 'LayerNorm';
/** f64 reference forward of one norm, eps = 0, gain only (beta is checked separately: it shifts, it doesn't scale). */
function ref(norm: Norm, inp: Input, x: ArrayLike<number>, withBeta = false): Float64Array {
  const o = { gamma: inp.gamma, beta: withBeta ? inp.beta : undefined, eps: 0 };
  if (norm === 'LayerNorm') return reference.layerNormRef(x, inp.cols, o).y;
  return reference.rmsNormRef(x, inp.cols, { ...o, k: norm === 'pRMSNorm' ? kOf(inp) : inp.cols }).y;
}

function nondegenerate(norm: Norm, inp: Input, x: ArrayLike<number> = inp.x): void {
  const s = rowStats(x, inp.cols, norm === 'pRMSNorm' ? kOf(inp) : inp.cols);
  fc.pre(norm === 'LayerNorm' ? s.minStd > 1e-2 : s.minRms > 1e-2);
}

const NORMS: Norm[] = ['RMSNorm', 'pRMSNorm', 'LayerNorm'];

describe('§3 properties on the float64 reference (eps = 0)', () => {
  for (const norm of NORMS) {
    it(`${norm}: input / dataset / single-case scaling x → c·x (c > 0) leaves y unchanged (1)`, () => {
      check(`${norm} scaling c>0`, fc.property(input(), positiveScale, fc.boolean(), (inp, c, withBeta) => {
        nondegenerate(norm, inp);
        const y = ref(norm, inp, inp.x, withBeta);
        return maxDiff(ref(norm, inp, scaled(inp.x, c), withBeta), y) <= EXACT * Math.max(1, maxAbs(y));
      }));
    });

    it(`${norm}: c < 0 flips the sign of the normalised part: y(c·x) − beta = −(y(x) − beta) (1)`, () => {
      check(`${norm} sign flip c<0`, fc.property(input(), negativeScale, (inp, c) => {
        nondegenerate(norm, inp);
        const y = ref(norm, inp, inp.x);
        const yc = ref(norm, inp, scaled(inp.x, c));
        return maxDiff(yc, scaled(y, -1)) <= EXACT * Math.max(1, maxAbs(y)) && (maxAbs(y) === 0 || maxDiff(yc, y) > 0);
      }));
    });

    it(`${norm}: W-matrix re-scaling W → δW leaves y = norm(W x) unchanged (2)`, () => {
      check(`${norm} W-matrix scaling`, fc.property(linear(), positiveScale, (lin, delta) => {
        const a = matmul(lin.x, lin.W, lin.batch, lin.n, lin.m);
        const inp = { ...lin.norm, x: a };
        nondegenerate(norm, inp, a);
        const y = ref(norm, inp, a, true);
        const a2 = matmul(lin.x, scaled(lin.W, delta), lin.batch, lin.n, lin.m);
        return maxDiff(ref(norm, inp, a2, true), y) <= EXACT * Math.max(1, maxAbs(y));
      }));
    });

    it(`${norm}: W-vector re-scaling (one row w_i → δ w_i) changes y (3)`, () => {
      // LayerNorm over 2 values is ±(1, −1) whatever the scale, so it needs m ≥ 3 to be non-invariant.
      check(`${norm} W-vector scaling not invariant`, fc.property(linear(norm === 'LayerNorm' ? 3 : 2), fc.double({ min: 1.5, max: 10, noNaN: true }), fc.nat(), (lin, delta, pick) => {
        const i = pick % lin.m;
        const a = matmul(lin.x, lin.W, lin.batch, lin.n, lin.m);
        const inp = { ...lin.norm, x: a };
        nondegenerate(norm, inp, a);
        const W2 = lin.W.slice();
        for (let j = 0; j < lin.n; j++) W2[i * lin.n + j] *= delta;
        const a2 = matmul(lin.x, W2, lin.batch, lin.n, lin.m);
        nondegenerate(norm, inp, a2);
        // Generic draws only: a_i and the other outputs clearly non-zero (else scaling a_i is a no-op on y).
        for (let r = 0; r < lin.batch; r++) {
          const row = a.subarray(r * lin.m, (r + 1) * lin.m);
          const others = row.filter((_, j) => j !== i);
          fc.pre(Math.abs(row[i]) > 0.1 && maxAbs(others) > 0.1 && Math.abs(row[i] - mean(row)) > 0.1);
        }
        return maxDiff(ref(norm, { ...inp, gamma: ones(lin.m) }, a2), ref(norm, { ...inp, gamma: ones(lin.m) }, a)) > 1e-6;
      }));
    });

    it(`${norm}: dataset / W re-centering x → x + s·1 ${norm === 'LayerNorm' ? 'leaves y unchanged' : 'changes y'} (4)`, () => {
      check(`${norm} re-centering`, fc.property(input(2), fc.double({ min: 0.5, max: 10, noNaN: true }), fc.boolean(), (inp, s0, negative) => {
        const s = negative ? -s0 : s0;
        nondegenerate(norm, inp);
        // A constant row is the one exception for RMSNorm (y = ±1 before and after): require clearly varying rows.
        fc.pre(rowStats(inp.x, inp.cols, inp.cols).minStd > 0.5);
        const shifted = Float64Array.from(inp.x, (v) => v + s);
        nondegenerate(norm, inp, shifted);
        const unit = { ...inp, gamma: ones(inp.cols) };
        const y = ref(norm, unit, inp.x);
        const d = maxDiff(ref(norm, unit, shifted), y);
        if (norm === 'LayerNorm') return d <= 1e-10 * Math.max(1, maxAbs(y)); // x − mean loses ~|s|/std digits
        return d > 1e-6; // (x_i + s)/RMS(x + s) = x_i/RMS(x) for all i would need 1 + s/x_i equal for all i: x ∝ 1
      }));
    });
  }

  it('RMSNorm = LayerNorm on zero-mean input (same eps, population variance) (5)', () => {
    check('RMSNorm = LayerNorm on zero-mean rows', fc.property(input(), fc.constantFrom(0, 1e-6, 1e-2), (inp, eps) => {
      const x = centre(inp.x, inp.cols);
      nondegenerate('LayerNorm', inp, x);
      const o = { gamma: inp.gamma, beta: inp.beta, eps };
      const yr = reference.rmsNormRef(x, inp.cols, o).y;
      return maxDiff(yr, reference.layerNormRef(x, inp.cols, o).y) <= 1e-10 * Math.max(1, maxAbs(yr));
    }));
  });

  it('‖y‖ = √cols with unit gain and eps = 0; pRMSNorm: the first k outputs have norm √k (6)', () => {
    check('norm sqrt(n) / sqrt(k)', fc.property(input(), (inp) => {
      const k = kOf(inp);
      nondegenerate('pRMSNorm', inp);
      const y = reference.rmsNormRef(inp.x, inp.cols, { eps: 0, k }).y;
      for (let base = 0; base < y.length; base += inp.cols) {
        let s = 0;
        for (let i = 0; i < k; i++) s += y[base + i] ** 2;
        if (Math.abs(Math.sqrt(s) - Math.sqrt(k)) > EXACT * Math.sqrt(k)) return false;
      }
      return true;
    }));
  });

  it('pRMSNorm locality: changing x_j for j ≥ k changes only y_j (7)', () => {
    check('pRMSNorm locality', fc.property(input(2), fc.nat(), value, (inp, pick, v) => {
      const k = kOf(inp);
      fc.pre(k < inp.cols);
      const j = k + (pick % (inp.cols - k));
      const x2 = inp.x.slice();
      x2[j] = v; // row 0
      const o = { gamma: inp.gamma, beta: inp.beta, eps: 1e-6, k };
      const y = reference.rmsNormRef(inp.x, inp.cols, o).y;
      const y2 = reference.rmsNormRef(x2, inp.cols, o).y;
      for (let i = 0; i < y.length; i++) if (i !== j && y[i] !== y2[i]) return false; // bitwise
      return true;
    }));
  });

  it('gradient laws under x → δx (δ > 0): dx(δx) = dx(x)/δ; dgamma, dbeta unchanged (8)', () => {
    check('gradient scaling laws', fc.property(input(), positiveScale, fc.constantFrom<Norm>(...NORMS), (inp, delta, norm) => {
      nondegenerate(norm, inp);
      const dy = Float64Array.from(inp.x, (_, i) => Math.sin(i + 1)); // fixed, non-trivial upstream gradient
      const g = grads(norm, inp, dy, inp.x);
      const gd = grads(norm, inp, dy, scaled(inp.x, delta));
      // dx can cancel to ~0 exactly (cols = 1), so judge it against its uncancelled size max|u|/RMS, not max|dx|.
      const dxScale = dxNaturalScale(norm, inp, dy, inp.x);
      return (
        maxDiff(scaled(gd.dx, delta), g.dx) <= 10 * EXACT * dxScale &&
        maxDiff(gd.dgamma!, g.dgamma!) <= 10 * EXACT * Math.max(maxAbs(g.dgamma!), maxAbs(dy) * inp.cols) &&
        maxDiff(gd.dbeta!, g.dbeta!) === 0
      );
    }));
  });

  it('dL/dW of y = norm(W x): invariant under x → δx, scales as 1/δ under W → δW (8, paper Eq. 10)', () => {
    check('dW laws', fc.property(linear(), positiveScale, fc.constantFrom<Norm>(...NORMS), (lin, delta, norm) => {
      const a = matmul(lin.x, lin.W, lin.batch, lin.n, lin.m);
      nondegenerate(norm, { ...lin.norm, x: a }, a);
      const dW = weightGrad(norm, lin, lin.x, lin.W);
      const dWx = weightGrad(norm, lin, scaled(lin.x, delta), lin.W);
      const dWW = weightGrad(norm, lin, lin.x, scaled(lin.W, delta));
      const tol = 1e-11 * dxNaturalScale(norm, { ...lin.norm, x: a }, lin.dy, a) * maxAbs(lin.x) * lin.batch;
      return maxDiff(dWx, dW) <= tol && maxDiff(scaled(dWW, delta), dW) <= tol;
    }));
  });

  it('eps breaks scaling invariance when ms ≲ eps (paper: eps 1e-5, input × 1e-3 changes y by O(1))', () => {
    const x = Float64Array.from({ length: 64 }, (_, i) => Math.sin(1.7 * i + 0.3));
    const y = reference.rmsNormRef(x, 64, { eps: 1e-5 }).y;
    const ys = reference.rmsNormRef(scaled(x, 1e-3), 64, { eps: 1e-5 }).y;
    assert.ok(maxDiff(y, ys) > 0.5, `difference ${maxDiff(y, ys)}`);
    // at normal scale eps only perturbs y by ≈ eps/(2·ms) relative
    assert.ok(maxDiff(y, reference.rmsNormRef(scaled(x, 3.7), 64, { eps: 1e-5 }).y) < 5e-5);
  });
});

describe('§3 properties through the public js ops (float32)', () => {
  const f32 = (a: ArrayLike<number>) => Float32Array.from(a);
  it('rmsNorm / pRMSNorm / layerNorm: y(c·x) = y(x) for c > 0 and = −y(x) for c < 0 (eps = 0)', () => {
    check('public f32 scaling', fc.property(input(), fc.oneof(positiveScale, negativeScale), fc.constantFrom<Norm>(...NORMS), (inp, c, norm) => {
      nondegenerate(norm, inp);
      const x = f32(inp.x);
      const xc = f32(scaled(x, c)); // c·x rounded to f32 again: the check includes that rounding
      const run = (v: Float32Array) =>
        norm === 'LayerNorm'
          ? layerNorm(v, inp.cols, { gamma: f32(inp.gamma), eps: 0, backend: 'js' }).y
          : rmsNorm(v, inp.cols, { gamma: f32(inp.gamma), eps: 0, p: norm === 'pRMSNorm' ? inp.p : 1, backend: 'js' }).y;
      const y = run(x);
      return maxDiff(run(xc), scaled(y, Math.sign(c))) <= F32 * Math.max(1, maxAbs(y));
    }));
  });

  it('rmsNorm = layerNorm on zero-mean rows; ‖y‖ = √k; p = 1 identical to RMSNorm; locality (bitwise)', () => {
    check('public f32 equivalence/norm/p=1/locality', fc.property(input(2), value, (inp, v) => {
      const x = f32(centre(inp.x, inp.cols));
      nondegenerate('LayerNorm', inp, x);
      const k = kOf(inp);
      nondegenerate('pRMSNorm', inp, x);
      const yr = rmsNorm(x, inp.cols, { eps: 0, backend: 'js' }).y;
      const yl = layerNorm(x, inp.cols, { eps: 0, backend: 'js' }).y;
      // x was centred in f64 then rounded: its mean is ~1e-7·|x|, which LN removes and RMSNorm keeps.
      if (maxDiff(yr, yl) > 1e-5 * Math.max(1, maxAbs(yr))) return false;
      const yp = rmsNorm(x, inp.cols, { eps: 0, p: inp.p, backend: 'js' }).y;
      for (let base = 0; base < yp.length; base += inp.cols) {
        let s = 0;
        for (let i = 0; i < k; i++) s += yp[base + i] ** 2;
        if (Math.abs(Math.sqrt(s) - Math.sqrt(k)) > F32 * Math.sqrt(k)) return false;
      }
      if (maxDiff(rmsNorm(x, inp.cols, { eps: 0, p: 1, kRule: 'floor', backend: 'js' }).y, yr) !== 0) return false;
      if (k < inp.cols) {
        const x2 = x.slice();
        x2[inp.cols - 1] = v;
        const y2 = rmsNorm(x2, inp.cols, { eps: 0, p: inp.p, backend: 'js' }).y;
        for (let i = 0; i < y2.length; i++) if (i !== inp.cols - 1 && y2[i] !== yp[i]) return false;
      }
      return true;
    }));
  });

  it('rmsNormBackward: dx(δx)·δ = dx(x), dgamma unchanged (f32)', () => {
    check('public f32 gradient scaling', fc.property(input(), positiveScale, (inp, delta) => {
      nondegenerate('RMSNorm', inp);
      const x = f32(inp.x);
      const xd = f32(scaled(x, delta));
      const dy = f32(Float64Array.from(inp.x, (_, i) => Math.cos(i)));
      const o = { gamma: f32(inp.gamma), beta: f32(inp.beta), eps: 0, backend: 'js' as const };
      const g = rmsNormBackward(dy, x, rmsNorm(x, inp.cols, o).rstd, inp.cols, o);
      const gd = rmsNormBackward(dy, xd, rmsNorm(xd, inp.cols, o).rstd, inp.cols, o);
      const sdx = dxNaturalScale('RMSNorm', inp, dy, x);
      return (
        maxDiff(scaled(gd.dx, delta), g.dx) <= 1e-5 * sdx &&
        maxDiff(gd.dgamma!, g.dgamma!) <= 1e-5 * Math.max(1, maxAbs(g.dgamma!)) &&
        maxDiff(gd.dbeta!, g.dbeta!) === 0
      );
    }));
  });
});

// ---- helpers for the linear-layer properties ----

interface Linear {
  batch: number;
  n: number;
  m: number;
  x: Float64Array; // batch × n
  W: Float64Array; // m × n
  dy: Float64Array; // batch × m
  norm: Omit<Input, 'x' | 'rows'> & { rows: number };
}

/** y = norm(x Wᵀ): batch 1–3, n inputs 1–6, m outputs (the normalised width) minM–8. */
function linear(minM = 1): fc.Arbitrary<Linear> {
  return fc
    .record({ batch: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 6 }), m: fc.integer({ min: minM, max: 8 }), p: fc.constantFrom(1, 0.5, 0.25) })
    .chain(({ batch, n, m, p }) => {
      const arr = (len: number) => fc.array(value, { minLength: len, maxLength: len }).map((a) => Float64Array.from(a));
      return fc.record({ x: arr(batch * n), W: arr(m * n), dy: arr(batch * m), gamma: arr(m), beta: arr(m) }).map((v) => ({
        batch, n, m, x: v.x, W: v.W, dy: v.dy,
        norm: { rows: batch, cols: m, gamma: v.gamma, beta: v.beta, p },
      }));
    });
}

function grads(norm: Norm, inp: Input, dy: Float64Array, x: Float64Array) {
  const o = { gamma: inp.gamma, beta: inp.beta, eps: 0 };
  if (norm === 'LayerNorm') return reference.layerNormBackwardRef(dy, x, inp.cols, o);
  return reference.rmsNormBackwardRef(dy, x, inp.cols, { ...o, k: norm === 'pRMSNorm' ? kOf(inp) : inp.cols });
}

/** dL/dW = Σ_batch (dL/da) xᵀ with dL/da from the reference backward of the norm. */
function weightGrad(norm: Norm, lin: Linear, x: Float64Array, W: Float64Array): Float64Array {
  const a = matmul(x, W, lin.batch, lin.n, lin.m);
  const da = grads(norm, { ...lin.norm, x: a }, lin.dy, a).dx;
  return linearBackward(da, x, W, lin.batch, lin.n, lin.m).dW;
}

/** The size of dx before cancellation: max|gain ⊙ dy| / (smallest row RMS, or std for LayerNorm). */
function dxNaturalScale(norm: Norm, inp: Input, dy: ArrayLike<number>, x: ArrayLike<number>): number {
  const s = rowStats(x, inp.cols, norm === 'pRMSNorm' ? kOf(inp) : inp.cols);
  let u = 0;
  for (let i = 0; i < dy.length; i++) u = Math.max(u, Math.abs(dy[i] * inp.gamma[i % inp.cols]));
  return u / (norm === 'LayerNorm' ? s.minStd : s.minRms);
}

function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1);
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

function centre(x: Float64Array, cols: number): Float64Array {
  const out = x.slice();
  for (let base = 0; base < x.length; base += cols) {
    const m = mean(x.subarray(base, base + cols));
    for (let i = 0; i < cols; i++) out[base + i] -= m;
  }
  return out;
}
