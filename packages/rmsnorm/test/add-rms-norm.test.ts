// addRmsNorm / addRmsNormBackward (fused residual add + RMSNorm): against the float64 reference (f32 and 16-bit
// storage, every RMSNorm option), the reference against finite differences, in-place residual stream and gradients,
// equivalence with add-then-rmsNorm, aliasing rules and typed errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addRmsNorm, addRmsNormBackward, BackendUnavailableError, reference, rmsNorm, rmsNormBackward } from '../src/index.js';
import { partialK } from '../src/reference/partial-k.js';
import { hashSeed, mulberry32, randomNormal } from './compare.js';
import { backendsFor, checkClose, encode, toleranceBackend, ulpStats, values } from './storage-check.js';
import { storageTolerance, type StorageDtype } from './tolerance.js';

const SHAPES: Array<[number, number]> = [[1, 1], [3, 3], [2, 4], [3, 5], [2, 127], [2, 1024], [1, 4097]];
const VARIANTS = [
  { tag: 'plain' },
  { tag: 'gamma', gamma: true },
  { tag: 'beta', beta: true },
  { tag: 'gamma+beta', gamma: true, beta: true },
  { tag: 'gammaOffset=1+gamma+beta', gamma: true, beta: true, gammaOffset: 1 },
  { tag: 'gammaOffset=1+gamma (Gemma)', gamma: true, gammaOffset: 1 },
  { tag: 'p=0.5 ceil', gamma: true, p: 0.5, kRule: 'ceil' as const },
  { tag: 'p=0.0625 floor outside', gamma: true, beta: true, p: 0.0625, kRule: 'floor' as const, epsPlacement: 'outside' as const },
  { tag: 'eps outside eps=1e-2', gamma: true, epsPlacement: 'outside' as const, eps: 1e-2 },
];

function data(name: string, dtype: StorageDtype, rows: number, cols: number) {
  const rand = mulberry32(hashSeed(name));
  const n = rows * cols;
  const x = encode(randomNormal(rand, n), dtype);
  const residual = encode(randomNormal(rand, n, 0, 3), dtype);
  const dy = encode(randomNormal(rand, n), dtype);
  const dsum = encode(randomNormal(rand, n), dtype);
  return { x, residual, dy, dsum, gamma: randomNormal(rand, cols, 1, 0.2), beta: randomNormal(rand, cols, 0, 0.5) };
}

/** dx's row scale: rstd·(max|u| + max|x̂|·Σ|u x̂|/k) + max|dsum|. */
function dxScales(dyv: Float64Array, sum: Float64Array, dsumv: Float64Array | null, rstd: Float64Array, gain: (j: number) => number, cols: number, k: number) {
  const out = new Float64Array(rstd.length);
  for (let r = 0; r < rstd.length; r++) {
    let maxU = 0;
    let maxX = 0;
    let dot = 0;
    let maxD = 0;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const u = Math.abs(gain(j) * dyv[i]);
      const xh = Math.abs(sum[i] * rstd[r]);
      maxU = Math.max(maxU, u);
      maxX = Math.max(maxX, xh);
      dot += u * xh;
      if (dsumv !== null) maxD = Math.max(maxD, Math.abs(dsumv[i]));
    }
    out[r] = rstd[r] * (maxU + (maxX * dot) / k) + maxD;
  }
  return out;
}

function runMatrix(dtype: StorageDtype) {
  const fwdKernel = dtype === 'float32' ? 'addRmsNorm' : 'addRmsNorm16';
  const stats = { maxUlpsY: 0, exactY: 1 };
  for (const { backend, missing } of backendsFor(fwdKernel)) {
    if (missing) {
      const d = data('missing', dtype, 1, 4);
      assert.throws(() => addRmsNorm(d.x, d.residual, 4, { dtype, backend }), BackendUnavailableError);
      continue;
    }
    const tb = toleranceBackend(backend, fwdKernel);
    for (const [rows, cols] of SHAPES) {
      for (const v of VARIANTS) {
        const d = data(`add ${dtype} ${rows}x${cols} ${v.tag}`, dtype, rows, cols);
        const k = v.p === undefined ? cols : partialK(v.p, cols, v.kRule);
        const o = {
          dtype, backend, gamma: v.gamma ? d.gamma : undefined, beta: v.beta ? d.beta : undefined,
          gammaOffset: v.gammaOffset, epsPlacement: v.epsPlacement, eps: v.eps, p: v.p, kRule: v.kRule,
        };
        const refO = { dtype, gamma: o.gamma, beta: o.beta, gammaOffset: o.gammaOffset, epsPlacement: o.epsPlacement, eps: o.eps, k };
        const name = `addRmsNorm ${dtype} ${backend} ${rows}x${cols} ${v.tag}`;
        const xv = values(d.x, dtype);
        const rv = values(d.residual, dtype);
        const f = addRmsNorm(d.x, d.residual, cols, o);
        const ref = reference.addRmsNormRef(xv, rv, cols, refO);
        // the sum is one correctly rounded addition: bit-exact
        assert.deepEqual(Array.from(values(f.sum, dtype)), Array.from(ref.sum), `${name} sum`);
        checkClose(`${name} y`, f.y, ref.y, dtype, storageTolerance(tb, 'rmsNorm', 'forward', dtype), cols);
        checkClose(`${name} rstd`, f.rstd, ref.rstd, 'float32', storageTolerance(tb, 'rmsNorm', 'forward', 'float32'), 1);
        if (dtype !== 'float32') {
          const s = ulpStats(f.y as Uint16Array, ref.y, dtype);
          stats.maxUlpsY = Math.max(stats.maxUlpsY, s.maxUlps);
          stats.exactY = Math.min(stats.exactY, s.exactShare);
        }
        const dyv = values(d.dy, dtype);
        const dsv = values(d.dsum, dtype);
        const gain = (j: number) => (o.gamma === undefined ? 1 : (o.gammaOffset ?? 0) + o.gamma[j]);
        for (const withDsum of [true, false]) {
          const b = addRmsNormBackward(d.dy, withDsum ? d.dsum : null, f.sum, f.rstd, cols, o);
          const rb = reference.addRmsNormBackwardRef(dyv, withDsum ? dsv : null, ref.sum, cols, refO);
          const sc = dxScales(dyv, ref.sum, withDsum ? dsv : null, ref.rstd, gain, cols, k);
          const bn = `${name} dsum=${withDsum}`;
          checkClose(`${bn} dx`, b.dx, rb.dx, dtype, storageTolerance(tb, 'rmsNorm', 'backward', dtype), cols, sc);
          const fl = storageTolerance(tb, 'rmsNorm', 'backward', 'float32');
          if (rb.dgamma !== null) checkClose(`${bn} dgamma`, b.dgamma!, rb.dgamma, 'float32', fl, cols);
          else assert.equal(b.dgamma, null);
          if (rb.dbeta !== null) checkClose(`${bn} dbeta`, b.dbeta!, rb.dbeta, 'float32', fl, cols);
          else assert.equal(b.dbeta, null);
        }
      }
    }
  }
  if (dtype !== 'float32') console.log(`# addRmsNorm ${dtype}: y max ${stats.maxUlpsY} ulp (≥ ${(100 * stats.exactY).toFixed(1)}% exact)`);
}

describe('addRmsNorm vs the float64 reference', () => {
  for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
    it(`${dtype}: sum bit-exact, y/rstd/dx/dgamma/dbeta within the tolerance table, every option and backend`, () => runMatrix(dtype));
  }
});

describe('addRmsNorm reference gradients vs float64 finite differences', () => {
  it('L = Σ dy·y + Σ dsum·sum: ∂L/∂x = ∂L/∂residual = dx', () => {
    const rows = 2;
    const cols = 7;
    const rand = mulberry32(3);
    const x = randomNormal(rand, rows * cols);
    const res = randomNormal(rand, rows * cols);
    const dy = randomNormal(rand, rows * cols);
    const dsum = randomNormal(rand, rows * cols);
    const gamma = randomNormal(rand, cols, 1, 0.2);
    for (const o of [{ gamma, k: 4 }, { gamma, epsPlacement: 'outside' as const, eps: 1e-3 }, {}]) {
      // f64 forward without the storage rounding (finite differences need a smooth function)
      const loss = (xs: Float64Array, rs: Float64Array) => {
        const s = xs.map((v, i) => v + rs[i]);
        const { y } = reference.rmsNormRef(s, cols, o);
        let l = 0;
        for (let i = 0; i < s.length; i++) l += dy[i] * y[i] + dsum[i] * s[i];
        return l;
      };
      const xv = Float64Array.from(x);
      const rv = Float64Array.from(res);
      const sum = xv.map((v, i) => v + rv[i]);
      const g = reference.addRmsNormBackwardRef(dy, dsum, sum, cols, o);
      const h = 1e-6;
      for (let i = 0; i < xv.length; i++) {
        for (const which of [xv, rv]) {
          const keep = which[i];
          which[i] = keep + h;
          const lp = loss(xv, rv);
          which[i] = keep - h;
          const lm = loss(xv, rv);
          which[i] = keep;
          const fd = (lp - lm) / (2 * h);
          assert.ok(Math.abs(fd - g.dx[i]) <= 1e-6 * (1 + Math.abs(fd)), `${JSON.stringify(Object.keys(o))} [${i}]: fd ${fd} vs ${g.dx[i]}`);
        }
      }
    }
  });
});

describe('addRmsNorm semantics', () => {
  const cols = 64;
  const rows = 5;
  const d = data('semantics', 'float32', rows, cols) as ReturnType<typeof data> & { x: Float32Array; residual: Float32Array; dy: Float32Array; dsum: Float32Array };
  const x = d.x as Float32Array;
  const residual = d.residual as Float32Array;
  const dy = d.dy as Float32Array;
  const dsum = d.dsum as Float32Array;
  const gamma = d.gamma;

  it('equals add-then-rmsNorm bit for bit (js), and its backward equals rmsNormBackward + dsum', () => {
    const f = addRmsNorm(x, residual, cols, { gamma, backend: 'js' });
    const s = x.map((v, i) => v + residual[i]);
    const r = rmsNorm(s, cols, { gamma, backend: 'js' });
    assert.deepEqual(f.sum, s);
    assert.deepEqual(f.y, r.y);
    assert.deepEqual(f.rstd, r.rstd);
    const b = addRmsNormBackward(dy, null, f.sum, f.rstd, cols, { gamma, backend: 'js' });
    const rb = rmsNormBackward(dy, s, r.rstd, cols, { gamma, backend: 'js' });
    assert.deepEqual(b.dx, rb.dx);
    assert.deepEqual(b.dgamma, rb.dgamma);
  });

  it('out.sum = residual updates the residual stream in place with the same results', () => {
    const want = addRmsNorm(x, residual, cols, { gamma });
    for (const { backend } of backendsFor('addRmsNorm').filter((b) => !b.missing)) {
      const stream = residual.slice();
      const f = addRmsNorm(x, stream, cols, { gamma, backend, out: { sum: stream } });
      assert.equal(f.sum, stream);
      checkClose(`in-place ${backend}`, stream, want.sum, 'float32', { atol: 0, rtol: 0 }, cols);
      checkClose(`in-place ${backend} y`, f.y, want.y, 'float32', storageTolerance('wasm', 'rmsNorm', 'forward', 'float32'), cols);
    }
    const x16 = encode(x, 'float16') as Uint16Array;
    const stream16 = encode(residual, 'float16') as Uint16Array;
    const want16 = addRmsNorm(x16, stream16.slice(), cols, { gamma, dtype: 'float16' });
    addRmsNorm(x16, stream16, cols, { gamma, dtype: 'float16', out: { sum: stream16 } });
    assert.deepEqual(stream16, want16.sum);
  });

  it('out.dx may be dy or dsum itself (in place); inputs are otherwise never modified', () => {
    const f = addRmsNorm(x, residual, cols, { gamma });
    const want = addRmsNormBackward(dy, dsum, f.sum, f.rstd, cols, { gamma });
    for (const { backend } of backendsFor('addRmsNormBackward').filter((b) => !b.missing)) {
      for (const which of ['dy', 'dsum'] as const) {
        const dyc = dy.slice();
        const dsc = dsum.slice();
        const target = which === 'dy' ? dyc : dsc;
        const b = addRmsNormBackward(dyc, dsc, f.sum, f.rstd, cols, { gamma, backend, out: { dx: target } });
        assert.equal(b.dx, target);
        checkClose(`dx=${which} ${backend}`, target, want.dx, 'float32', storageTolerance('wasm', 'rmsNorm', 'backward', 'float32'), cols);
      }
    }
    const xs = x.slice();
    const rs = residual.slice();
    addRmsNorm(xs, rs, cols, { gamma });
    assert.deepEqual(xs, x);
    assert.deepEqual(rs, residual);
  });

  it('rows = 0: empty results, zero dgamma/dbeta', () => {
    const e = new Float32Array(0);
    const f = addRmsNorm(e, e, 4, {});
    assert.equal(f.y.length + f.sum.length + f.rstd.length, 0);
    const g = new Float32Array(4);
    const b = addRmsNormBackward(e, null, e, e, 4, { gamma: g, beta: g });
    assert.deepEqual(Array.from(b.dgamma!), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(b.dbeta!), [0, 0, 0, 0]);
  });

  it('binary16: a row of 30000 + 30000 sums to 60000 and normalises without overflow', () => {
    const n = 4096;
    const half = encode(new Float64Array(n).map((_, i) => (i % 2 ? -30000 : 30000)), 'float16') as Uint16Array;
    const f = addRmsNorm(half, half, n, { dtype: 'float16' });
    assert.ok(values(f.sum, 'float16').every((v) => Math.abs(v) === 60000));
    assert.ok(values(f.y, 'float16').every((v) => Math.abs(v - (v > 0 ? 1 : -1)) < 1e-3), 'y = ±1');
    const b = addRmsNormBackward(half, half, f.sum, f.rstd, n, { dtype: 'float16' });
    assert.ok(values(b.dx, 'float16').every(Number.isFinite));
  });
});

describe('addRmsNorm aliasing and typed errors', () => {
  const cols = 4;
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const r = Float32Array.from([0, 1, 0, 1, 0, 1, 0, 1]);
  const throwsNamed = (f: () => unknown, type: ErrorConstructor, re: RegExp) =>
    assert.throws(f, (e: Error) => e instanceof type && re.test(e.message), re.source);

  it('outputs may not alias inputs except out.sum = residual, out.dx = dy or dsum', () => {
    const xa = x.slice();
    throwsNamed(() => addRmsNorm(xa, r.slice(), cols, { out: { sum: xa } }), RangeError, /options\.out\.sum.*\bx\b/);
    const xr = x.slice();
    throwsNamed(() => addRmsNorm(xr, r, cols, { out: { y: xr } }), RangeError, /options\.out\.y.*\bx\b/);
    const rr = r.slice();
    throwsNamed(() => addRmsNorm(x, rr, cols, { out: { y: rr } }), RangeError, /options\.out\.y.*residual/);
    const buf = new Float32Array(9);
    throwsNamed(() => addRmsNorm(x, r, cols, { out: { y: buf.subarray(0, 8), sum: buf.subarray(1, 9) } }), RangeError, /overlap/);
    const f = addRmsNorm(x, r, cols);
    throwsNamed(() => addRmsNormBackward(x, null, f.sum, f.rstd, cols, { out: { dx: f.sum } }), RangeError, /options\.out\.dx.*\bsum\b/);
  });

  it('errors name residual, sum, dsum, rstd and the dtype', () => {
    throwsNamed(() => addRmsNorm(x, new Float32Array(4), cols), RangeError, /residual.*length 8/);
    throwsNamed(() => addRmsNorm(x, [1, 2] as never, cols), TypeError, /residual.*Float32Array/);
    throwsNamed(() => addRmsNorm(x, r, cols, { dtype: 'float16' }), TypeError, /\bx\b.*Uint16Array.*float16/);
    throwsNamed(() => addRmsNorm(new Uint16Array(8), r as never, cols, { dtype: 'bfloat16' }), TypeError, /residual.*Uint16Array.*bfloat16/);
    throwsNamed(() => addRmsNorm(x, r, 3), RangeError, /\bx\.length.*cols/);
    const f = addRmsNorm(x, r, cols);
    throwsNamed(() => addRmsNormBackward(x, null, new Float32Array(7), f.rstd, cols), RangeError, /\bsum\.length/);
    throwsNamed(() => addRmsNormBackward(x, new Float32Array(3), f.sum, f.rstd, cols), RangeError, /\bdsum\b.*length 8/);
    throwsNamed(() => addRmsNormBackward(x, null, f.sum, new Float32Array(1), cols), RangeError, /\brstd\b.*length 2/);
    throwsNamed(() => addRmsNormBackward(x, null, f.sum, f.rstd, cols, { out: { dgamma: new Float32Array(4) } }), RangeError, /options\.out\.dgamma/);
    throwsNamed(() => addRmsNorm(x, r, cols, { out: { dx: new Float32Array(8) } as never }), TypeError, /options\.out\.dx is not a known output/);
  });
});

describe('addRmsNorm properties (fast-check, seeded)', () => {
  it('random shapes, options and dtypes: sum exact, y/dx within the table, in place = fresh, = add-then-rmsNorm', () => {
    const draw = fc.record({
      rows: fc.integer({ min: 0, max: 4 }),
      cols: fc.integer({ min: 1, max: 40 }),
      dtype: fc.constantFrom('float32' as const, 'float16' as const, 'bfloat16' as const),
      gamma: fc.boolean(),
      beta: fc.boolean(),
      p: fc.constantFrom(undefined, 1, 0.5, 0.2),
      kRule: fc.constantFrom('ceil' as const, 'floor' as const),
      epsPlacement: fc.constantFrom('inside' as const, 'outside' as const),
      eps: fc.constantFrom(1e-6, 1e-3, 0.5),
      scale: fc.constantFrom(1e-3, 1, 300),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    });
    const details = fc.check(fc.property(draw, (c) => {
      const rand = mulberry32(c.seed);
      const n = c.rows * c.cols;
      const x = encode(Array.from(randomNormal(rand, n), (v) => v * c.scale), c.dtype);
      const residual = encode(Array.from(randomNormal(rand, n), (v) => v * c.scale), c.dtype);
      const dy = encode(randomNormal(rand, n), c.dtype);
      const dsum = encode(randomNormal(rand, n), c.dtype);
      const gamma = c.gamma ? randomNormal(rand, c.cols, 1, 0.3) : undefined;
      const beta = c.beta ? randomNormal(rand, c.cols, 0, 0.5) : undefined;
      const k = c.p === undefined ? c.cols : partialK(c.p, c.cols, c.kRule);
      const o = { dtype: c.dtype, gamma, beta, p: c.p, kRule: c.kRule, epsPlacement: c.epsPlacement, eps: c.eps };
      const refO = { dtype: c.dtype, gamma, beta, epsPlacement: c.epsPlacement, eps: c.eps, k };
      const f = addRmsNorm(x, residual, c.cols, o);
      const xv = values(x, c.dtype);
      const ref = reference.addRmsNormRef(xv, values(residual, c.dtype), c.cols, refO);
      assert.deepEqual(Array.from(values(f.sum, c.dtype)), Array.from(ref.sum));
      checkClose('y', f.y, ref.y, c.dtype, storageTolerance('js', 'rmsNorm', 'forward', c.dtype), c.cols);
      // in place into the residual stream: identical bits to the fresh call
      const stream = residual.slice();
      const g = addRmsNorm(x, stream, c.cols, { ...o, out: { sum: stream } });
      assert.deepEqual(stream, f.sum);
      assert.deepEqual(g.y, f.y);
      // = rmsNorm of the stored sum (same storage type), bit for bit on js
      assert.deepEqual(rmsNorm(f.sum, c.cols, { ...o, backend: 'js' }).y, addRmsNorm(x, residual, c.cols, { ...o, backend: 'js' }).y);
      const dyv = values(dy, c.dtype);
      const dsv = values(dsum, c.dtype);
      const b = addRmsNormBackward(dy, dsum, f.sum, f.rstd, c.cols, o);
      const rb = reference.addRmsNormBackwardRef(dyv, dsv, ref.sum, c.cols, refO);
      const gain = (j: number) => (gamma === undefined ? 1 : gamma[j]);
      const sc = dxScales(dyv, ref.sum, dsv, ref.rstd, gain, c.cols, k);
      checkClose('dx', b.dx, rb.dx, c.dtype, storageTolerance('js', 'rmsNorm', 'backward', c.dtype), c.cols, sc);
    }), { numRuns: 500, seed: 20191007 });
    console.log(`# property addRmsNorm: ${details.numRuns} cases`);
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? 'addRmsNorm property failed');
  });
});
