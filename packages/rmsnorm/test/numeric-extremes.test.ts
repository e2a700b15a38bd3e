// The numerical-extremes matrix (issue #12 item 1): rows of subnormals, ±3e38, mixed 1e±30, zeros, NaN and ±Inf,
// cols = 1, 8, 67 and 1,000,003, eps ∈ {0, 1e-80, 1e-6}, every op, on every backend (js, wasm, wasm on 2 threads).
// Expected values: the float64 reference rounded once to float32 (what an exact kernel would store), compared under
// the tolerance table; a non-finite expected value must be matched exactly (docs/math.md §5 states the semantics).
// Also: the finite rows of a matrix are bit-identical with and without its NaN/Inf rows (bad rows touch no others).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  availableBackends,
  initThreads,
  l2Norm,
  l2NormBackward,
  layerNorm,
  layerNormBackward,
  partialK,
  reference,
  rmsNorm,
  rmsNormBackward,
  terminateThreads,
} from '../src/index.js';
import { backwardScales } from '../src/check/run-case.js';
import { compareArrays, describeComparison, hashSeed, mulberry32, randomNormal } from './compare.js';
import { tolerance, type Direction, type ToleranceOp } from './tolerance.js';

export const ROW_KINDS = ['normal', 'subnormal', 'subnormal±', '3e38', '1e±30', 'zero', 'nan', '+inf', '-inf'] as const;
type RowKind = (typeof ROW_KINDS)[number];
const BAD: ReadonlySet<RowKind> = new Set(['nan', '+inf', '-inf']);
const EPS = [0, 1e-80, 1e-6] as const;
const SMALL_COLS = [1, 8, 67] as const;
const HUGE_COLS = Number(process.env.EXTREMES_HUGE ?? 1_000_003);
const HUGE_KINDS: readonly RowKind[] = ['subnormal±', '3e38', '1e±30'];
// cols = 1,000,003 (accumulation over a long row, odd SIMD tail): RMSNorm at every eps, LayerNorm at the tiny one
// only — runtime stays modest (the float64 reference and comparisons dominate).
const HUGE_CASES = new Set(['rmsNorm|0', 'rmsNorm|1e-80', 'rmsNorm|0.000001', 'layerNorm|1e-80']);

interface OpSpec {
  name: string;
  op: ToleranceOp;
  epsPlacement?: 'inside' | 'outside';
  p?: number;
}
const OPS: readonly OpSpec[] = [
  { name: 'rmsNorm', op: 'rmsNorm' },
  { name: 'rmsNorm outside', op: 'rmsNorm', epsPlacement: 'outside' },
  { name: 'pRMSNorm p=0.5', op: 'rmsNorm', p: 0.5 },
  { name: 'l2Norm', op: 'l2Norm' },
  { name: 'layerNorm', op: 'layerNorm' },
];

/**
 * Cases a backend does not meet yet, as `${backend}|${op}|cols=${cols}|eps=${eps}` ('wasm' covers both wasm suites),
 * run as node:test `todo`. Empty since the wasm kernels follow docs/math.md §5 (3a6a998, f7c41a6): keep it so.
 */
const TODO = new Set<string>([]);

/** One row of `cols` values of the given kind (seeded). */
function row(kind: RowKind, cols: number, rand: () => number): Float32Array {
  const r = new Float32Array(cols);
  const sign = () => (rand() < 0.5 ? -1 : 1);
  for (let j = 0; j < cols; j++) {
    switch (kind) {
      case 'subnormal': r[j] = 1e-40 * (1 + (j % 7)); break;
      case 'subnormal±': r[j] = sign() * 1e-40 * (1 + (j % 5)); break;
      case '3e38': r[j] = sign() * 3e38 * (0.5 + 0.5 * rand()); break;
      case '1e±30': r[j] = sign() * (j % 2 === 0 ? 1e30 : 1e-30) * (1 + rand()); break;
      case 'zero': r[j] = 0; break;
      default: r[j] = randomNormal(rand, 1)[0];
    }
  }
  if (kind === 'nan') r[Math.floor(cols / 3)] = NaN;
  if (kind === '+inf') r[cols - 1] = Infinity;
  if (kind === '-inf') r[0] = -Infinity;
  return r;
}

interface Inputs {
  cols: number;
  kinds: readonly RowKind[];
  x: Float32Array;
  dy: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
}

function inputs(cols: number, kinds: readonly RowKind[]): Inputs {
  const rand = mulberry32(hashSeed(`extremes ${cols} ${kinds.join(',')}`));
  const x = new Float32Array(kinds.length * cols);
  kinds.forEach((kind, r) => x.set(row(kind, cols, rand), r * cols));
  return {
    cols,
    kinds,
    x,
    dy: randomNormal(rand, x.length),
    gamma: randomNormal(rand, cols, 1, 0.2),
    beta: randomNormal(rand, cols, 0, 0.5),
  };
}

interface Outputs {
  y: Float32Array;
  rstd: Float32Array;
  mean?: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
}

/** Forward then backward through the public ops (backward consumes the saved rstd/mean, as callers do). */
function runOps(spec: OpSpec, d: Inputs, eps: number, backend: 'js' | 'wasm'): Outputs {
  const { x, dy, gamma, beta, cols } = d;
  if (spec.op === 'layerNorm') {
    const o = { gamma, beta, eps, backend };
    const f = layerNorm(x, cols, o);
    return { ...f, ...layerNormBackward(dy, x, f.mean, f.rstd, cols, o) };
  }
  const o = { gamma, beta, eps, backend, epsPlacement: spec.epsPlacement ?? 'inside' };
  if (spec.op === 'l2Norm') {
    const f = l2Norm(x, cols, o);
    return { ...f, ...l2NormBackward(dy, x, f.rstd, cols, o) };
  }
  const ro = spec.p === undefined ? o : { ...o, p: spec.p };
  const f = rmsNorm(x, cols, ro);
  return { ...f, ...rmsNormBackward(dy, x, f.rstd, cols, ro) };
}

interface Expected {
  y: Float64Array;
  rstd: Float64Array;
  mean?: Float64Array;
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
  yScale: Float64Array;
  meanScale?: Float64Array;
  scales: { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array };
  /** Per row: the f64 rstd is finite but overflows float32 (its backward is checked as non-finite). */
  overflow: boolean[];
}

const fround = (a: Float64Array) => a.map(Math.fround);

/** The float64 reference of one op, rounded once to float32, with the per-row error scales of run-case.ts. */
function expected(spec: OpSpec, d: Inputs, eps: number): Expected {
  const { x, dy, gamma, beta, cols } = d;
  const rows = x.length / cols;
  const epsPlacement = spec.epsPlacement ?? 'inside';
  let f: { y: Float64Array; rstd: Float64Array; mean?: Float64Array };
  let b: { dx: Float64Array; dgamma: Float64Array | null; dbeta: Float64Array | null };
  let xhat: (i: number, r: number) => number;
  let divisor = cols;
  if (spec.op === 'layerNorm') {
    f = reference.layerNormRef(x, cols, { gamma, beta, eps });
    b = reference.layerNormBackwardRef(dy, x, cols, { gamma, beta, eps });
    xhat = (i, r) => (x[i] - f.mean![r]) * f.rstd[r];
  } else if (spec.op === 'l2Norm') {
    f = reference.l2NormRef(x, cols, { gamma, beta, eps, epsPlacement });
    b = reference.l2NormBackwardRef(dy, x, cols, { gamma, beta, eps, epsPlacement });
    xhat = (i, r) => x[i] * f.rstd[r];
    divisor = 1;
  } else {
    const k = spec.p === undefined ? cols : partialK(spec.p, cols, 'ceil');
    f = reference.rmsNormRef(x, cols, { gamma, beta, eps, epsPlacement, k });
    b = reference.rmsNormBackwardRef(dy, x, cols, { gamma, beta, eps, epsPlacement, k });
    xhat = (i, r) => x[i] * f.rstd[r];
    divisor = k;
  }
  const yScale = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let j = 0; j < cols; j++) {
      const t = Math.abs(xhat(r * cols + j, r) * gamma[j]) + Math.abs(beta[j]);
      if (Number.isFinite(t) && t > m) m = t;
    }
    yScale[r] = m;
  }
  let meanScale: Float64Array | undefined;
  if (f.mean !== undefined) {
    meanScale = new Float64Array(rows);
    for (let i = 0; i < x.length; i++) {
      const v = Math.abs(x[i]);
      if (Number.isFinite(v)) meanScale[Math.floor(i / cols)] = Math.max(meanScale[Math.floor(i / cols)], v);
    }
  }
  return {
    y: fround(f.y),
    rstd: fround(f.rstd),
    mean: f.mean === undefined ? undefined : fround(f.mean),
    dx: fround(b.dx),
    dgamma: fround(b.dgamma!),
    dbeta: fround(b.dbeta!),
    yScale,
    meanScale,
    scales: backwardScales(dy, xhat, f.rstd, (j) => gamma[j], cols, divisor),
    overflow: Array.from(f.rstd, (v) => Number.isFinite(v) && !Number.isFinite(Math.fround(v))),
  };
}

function check(name: string, actual: ArrayLike<number>, want: ArrayLike<number>, direction: Direction, op: ToleranceOp,
  backend: 'js' | 'wasm', rowLength: number, scales?: ArrayLike<number>): void {
  const c = compareArrays(actual, want, tolerance(backend, op, direction), rowLength, scales);
  assert.ok(c.ok, describeComparison(name, c));
}

/**
 * Rows whose float64 rstd is finite but overflows float32 (mean square + eps below ≈ 8.6e-78: all-subnormal rows with
 * eps ≤ 1e-80) save rstd = +Infinity; their backward is defined from that saved value (docs/math.md §5) and is
 * checked separately (non-finite dx), and they are left out of the dgamma/dbeta sums' comparison.
 */
function masked(a: ArrayLike<number>, skip: boolean[], len: number): Float64Array {
  const out = Float64Array.from(a);
  skip.forEach((s, r) => { if (s) out.fill(0, r * len, (r + 1) * len); });
  return out;
}

function assertMatchesReference(spec: OpSpec, d: Inputs, eps: number, backend: 'js' | 'wasm', got: Outputs, e: Expected) {
  const { op } = spec;
  check('y', got.y, e.y, 'forward', op, backend, d.cols, e.yScale);
  check('rstd', got.rstd, e.rstd, 'forward', op, backend, 1);
  if (e.mean !== undefined) check('mean', got.mean!, e.mean, 'forward', op, backend, 1, e.meanScale);
  const skip = e.overflow;
  check('dx', masked(got.dx, skip, d.cols), masked(e.dx, skip, d.cols), 'backward', op, backend, d.cols, e.scales.dx);
  skip.forEach((s, r) => {
    if (!s) return;
    for (let j = 0; j < d.cols; j++) {
      const v = got.dx[r * d.cols + j];
      assert.ok(!Number.isFinite(v), `dx[${r * d.cols + j}] of row ${r} (saved rstd overflowed to Infinity) is ${v}, expected non-finite`);
    }
  });
  if (skip.includes(true)) return;
  check('dgamma', got.dgamma!, e.dgamma, 'backward', op, backend, 1, e.scales.dgamma);
  check('dbeta', got.dbeta!, e.dbeta, 'backward', op, backend, 1, e.scales.dbeta);
}

/** The finite rows of `full` are bit-identical to the same rows computed without the NaN/Inf rows. */
function assertBadRowsIsolated(spec: OpSpec, d: Inputs, eps: number, backend: 'js' | 'wasm', full: Outputs) {
  const keep = d.kinds.map((k, r) => (BAD.has(k) ? -1 : r)).filter((r) => r >= 0);
  const sub = inputs(d.cols, []);
  const cols = d.cols;
  const pick = (a: Float32Array, len: number) => {
    const out = new Float32Array(keep.length * len);
    keep.forEach((r, i) => out.set(a.subarray(r * len, (r + 1) * len), i * len));
    return out;
  };
  const clean = runOps(spec, { ...sub, kinds: [], cols, x: pick(d.x, cols), dy: pick(d.dy, cols), gamma: d.gamma, beta: d.beta }, eps, backend);
  for (const [name, len] of [['y', cols], ['rstd', 1], ['dx', cols]] as const) {
    const a = pick(full[name], len);
    const b = clean[name];
    for (let i = 0; i < a.length; i++) {
      assert.ok(Object.is(a[i], b[i]), `${name}[${i}] of finite row ${keep[Math.floor(i / len)]} changed by the NaN/Inf rows: ${a[i]} vs ${b[i]}`);
    }
  }
}

const refCache = new Map<string, Expected>();
const inputCache = new Map<number, Inputs>();
function inputsFor(cols: number): Inputs {
  let d = inputCache.get(cols);
  if (d === undefined) {
    d = cols === HUGE_COLS ? inputs(cols, HUGE_KINDS) : inputs(cols, ROW_KINDS);
    inputCache.set(cols, d);
  }
  return d;
}

const SUITES: Array<{ label: string; backend: 'js' | 'wasm'; threads: number }> = [
  { label: 'js', backend: 'js', threads: 1 },
  { label: 'wasm', backend: 'wasm', threads: 1 },
  { label: 'wasm threads=2', backend: 'wasm', threads: 2 },
];

for (const suite of SUITES) {
  const skip = availableBackends().includes(suite.backend) ? false : `${suite.backend} backend not available here`;
  describe(`numerical extremes: ${suite.label}`, { skip }, () => {
    if (suite.threads > 1) {
      before(() => initThreads(suite.threads, { minElements: 0, wakeMinElements: 0 }));
      after(() => terminateThreads());
    }
    for (const cols of [...SMALL_COLS, HUGE_COLS]) {
      for (const spec of OPS) {
        for (const eps of EPS) {
          if (cols === HUGE_COLS && !HUGE_CASES.has(`${spec.name}|${eps}`)) continue;
          const key = `${suite.backend}|${spec.name}|cols=${cols}|eps=${eps}`;
          // EXTREMES_STRICT=1 runs the todo cases as ordinary tests (to see which now pass)
          const todo = TODO.has(key) && process.env.EXTREMES_STRICT !== '1' ? 'wasm kernels do not follow docs/math.md §5 yet (issue #12 item 1)' : undefined;
          it(`${spec.name} cols=${cols} eps=${eps}`, { todo }, () => {
            const d = inputsFor(cols);
            const refKey = `${spec.name}|${cols}|${eps}`;
            let e = refCache.get(refKey);
            if (e === undefined) refCache.set(refKey, (e = expected(spec, d, eps)));
            const got = runOps(spec, d, eps, suite.backend);
            assertMatchesReference(spec, d, eps, suite.backend, got, e);
            if (cols !== HUGE_COLS) assertBadRowsIsolated(spec, d, eps, suite.backend, got);
          });
        }
      }
    }
  });
}
