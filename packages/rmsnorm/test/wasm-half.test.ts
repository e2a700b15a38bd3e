// wasm fused residual add and 16-bit storage (assembly/_add-rms-norm.ts, _half.ts): the SIMD conversions and the
// correctly rounded 16-bit sum bit-exact against the js encoders (themselves checked against the reference in
// half-dtype.test.ts) over every pattern and near-tie pairs; zero-copy allocUint16/allocFloat32 calls copy nothing,
// in place included; the worker pool gives the same bits as one thread.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  addRmsNorm, addRmsNormBackward, allocFloat32, allocUint16, availableBackends, freeFloat32, freeUint16, initThreads,
  isWasmBuffer, rmsNorm, rmsNormBackward, terminateThreads,
} from '../src/index.js';
import { decodeTable, encoder } from '../src/backends/js/half.js';
import { _copyStats } from '../src/backends/wasm/job.js';
import { hashSeed, mulberry32, randomNormal } from './compare.js';
import { encode } from './storage-check.js';

const HAVE_WASM = availableBackends().includes('wasm');
const DTYPES = ['float16', 'bfloat16'] as const;

function copied(): number {
  return _copyStats.bytesIn + _copyStats.bytesOut;
}

/** Bits equal, or both NaN. */
function sameValue(dtype: 'float16' | 'bfloat16', got: Uint16Array, want: ArrayLike<number>, what: string): void {
  const t = decodeTable(dtype);
  for (let i = 0; i < got.length; i++) {
    if (got[i] === want[i] || (Number.isNaN(t[got[i]]) && Number.isNaN(t[want[i]]))) continue;
    assert.fail(`${what}[${i}]: got 0x${got[i].toString(16)}, want 0x${want[i].toString(16)}`);
  }
}

describe('wasm 16-bit storage', { skip: !HAVE_WASM && 'wasm unavailable' }, () => {
  after(() => terminateThreads());

  for (const dtype of DTYPES) {
    it(`${dtype}: every pattern + 0 round-trips through the SIMD decode/encode (−0 + 0 = +0, NaN stays NaN)`, () => {
      const x = new Uint16Array(65536).map((_, i) => i);
      const residual = new Uint16Array(65536);
      const { sum } = addRmsNorm(x, residual, 1024, { dtype, backend: 'wasm' });
      const t = decodeTable(dtype);
      const enc = encoder(dtype);
      sameValue(dtype, sum, Array.from(x, (b) => enc(t[b] + 0)), 'sum');
    });

    it(`${dtype}: x + residual is the correctly rounded sum (f32 sum, then nearest-even), random and near-tie pairs`, () => {
      const rand = mulberry32(hashSeed(`pairs ${dtype}`));
      const n = 1 << 17;
      const mant = dtype === 'float16' ? 10 : 7;
      const x = new Uint16Array(n);
      const residual = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const a = Math.floor(rand() * 65536);
        x[i] = a;
        if (i % 2 === 0) {
          residual[i] = Math.floor(rand() * 65536);
        } else {
          // exponent (mant + 1 .. mant + 3) below a's: the sum lands at or near a tie of a's ulp, sticky bits decide
          const exp = (a >> mant) & (dtype === 'float16' ? 0x1f : 0xff);
          const e = Math.max(0, exp - (mant + 1) - Math.floor(rand() * 3));
          const m = rand() < 0.3 ? 0 : Math.floor(rand() * (1 << mant));
          residual[i] = (rand() < 0.5 ? 0x8000 : 0) | (e << mant) | m;
        }
      }
      const t = decodeTable(dtype);
      const enc = encoder(dtype);
      const want = Array.from(x, (a, i) => enc(t[a] + t[residual[i]])); // exact in f64 for these gaps
      const { sum } = addRmsNorm(x, residual, 512, { dtype, backend: 'wasm' });
      sameValue(dtype, sum, want, 'sum');
    });

    it(`${dtype}: y agrees bit for bit with the js kernel almost everywhere (one f32 vs f64 product rounding apart)`, () => {
      const cols = 1024;
      const rand = mulberry32(hashSeed(`y ${dtype}`));
      const x = encode(randomNormal(rand, cols * 8), dtype) as Uint16Array;
      const got = rmsNorm(x, cols, { dtype, backend: 'wasm', eps: 0 });
      const js = rmsNorm(x, cols, { dtype, backend: 'js', eps: 0 });
      let diff = 0;
      for (let i = 0; i < got.y.length; i++) if (got.y[i] !== js.y[i]) diff++;
      // both round the same f32/f64 value once; the f32 product may differ from the f64 one by one rounding
      assert.ok(diff < got.y.length * 0.02, `${diff} of ${got.y.length} y differ from js`);
      for (let i = 0; i < got.y.length; i++) assert.ok(Math.abs(got.y[i] - js.y[i]) <= 1, `y[${i}]: more than 1 ulp from js`);
    });
  }

  it('zero-copy: allocUint16/allocFloat32 buffers copy nothing, in place sum = residual and dx = dy', () => {
    const rows = 64;
    const cols = 768;
    const n = rows * cols;
    const rand = mulberry32(hashSeed('zero-copy 16'));
    for (const dtype of DTYPES) {
      const x = allocUint16(n);
      const residual = allocUint16(n);
      const y = allocUint16(n);
      const dy = allocUint16(n);
      const rstd = allocFloat32(rows);
      const gamma = allocFloat32(cols);
      const dgamma = allocFloat32(cols);
      assert.ok(isWasmBuffer(x));
      x.set(encode(randomNormal(rand, n), dtype) as Uint16Array);
      residual.set(encode(randomNormal(rand, n), dtype) as Uint16Array);
      dy.set(encode(randomNormal(rand, n), dtype) as Uint16Array);
      gamma.set(randomNormal(rand, cols, 1, 0.2));
      // expected: the same kernels on plain copies
      const plain = addRmsNorm(x.slice(), residual.slice(), cols, { dtype, gamma: gamma.slice(), backend: 'wasm' });
      const plainB = addRmsNormBackward(dy.slice(), null, plain.sum, plain.rstd, cols, { dtype, gamma: gamma.slice(), backend: 'wasm' });
      const plainN = rmsNorm(x.slice(), cols, { dtype, backend: 'wasm' });
      const before = copied();
      addRmsNorm(x, residual, cols, { dtype, gamma, backend: 'wasm', out: { y, sum: residual, rstd } });
      addRmsNormBackward(dy, null, residual, rstd, cols, { dtype, gamma, backend: 'wasm', out: { dx: dy, dgamma } });
      assert.equal(copied(), before, `${dtype}: bytes copied`);
      assert.deepEqual(residual, plain.sum);
      assert.deepEqual(y, plain.y);
      assert.deepEqual(dy, plainB.dx);
      assert.deepEqual(dgamma, plainB.dgamma);
      const yn = allocUint16(n);
      rmsNorm(x, cols, { dtype, backend: 'wasm', out: { y: yn, rstd } });
      rmsNormBackward(yn, x, rstd, cols, { dtype, backend: 'wasm', out: { dx: yn } });
      assert.equal(copied(), before, `${dtype}: rmsNorm bytes copied`);
      assert.ok(plainN.y.length === n);
      for (const a of [x, residual, y, dy, yn]) freeUint16(a);
      for (const a of [rstd, gamma, dgamma]) freeFloat32(a);
    }
    // float32 fused op
    const x = allocFloat32(n);
    const residual = allocFloat32(n);
    const y = allocFloat32(n);
    const rstd = allocFloat32(rows);
    x.set(randomNormal(rand, n));
    residual.set(randomNormal(rand, n));
    const want = Float32Array.from(x, (v, i) => v + residual[i]);
    const before = copied();
    addRmsNorm(x, residual, cols, { backend: 'wasm', out: { y, sum: residual, rstd } });
    assert.equal(copied(), before, 'float32: bytes copied');
    assert.deepEqual(residual, want);
    for (const a of [x, residual, y, rstd]) freeFloat32(a);
  });

  it('extremes: |sum| ≈ 3e38 and subnormal rows give the js (f64-statistic) answer, forward and backward', () => {
    const cols = 256;
    const rand = mulberry32(hashSeed('extremes 16'));
    for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
      const scales = dtype === 'float16' ? [3e4, 1e-7, 1] : [1e38, 1e-41, 1];
      const n = cols * scales.length;
      const xs: number[] = [];
      const rs: number[] = [];
      const dys: number[] = [];
      for (const sc of scales) {
        for (let j = 0; j < cols; j++) {
          xs.push(sc * (rand() * 2 - 1));
          rs.push(sc * (rand() * 2 - 1));
          dys.push(rand() * 2 - 1);
        }
      }
      const x = encode(xs, dtype);
      const r = encode(rs, dtype);
      const dy = encode(dys, dtype);
      const opts = { dtype, gamma: Float32Array.from({ length: cols }, () => 0.5 + rand()) };
      const w = addRmsNorm(x, r, cols, { ...opts, backend: 'wasm' });
      const j = addRmsNorm(x, r, cols, { ...opts, backend: 'js' });
      const wb = addRmsNormBackward(dy, dy, w.sum, w.rstd, cols, { ...opts, backend: 'wasm' });
      const jb = addRmsNormBackward(dy, dy, j.sum, j.rstd, cols, { ...opts, backend: 'js' });
      assert.deepEqual(w.sum, j.sum, `${dtype} sum`);
      for (let i = 0; i < scales.length; i++) {
        assert.ok(Math.abs(w.rstd[i] - j.rstd[i]) <= 1e-6 * Math.abs(j.rstd[i]), `${dtype} rstd[${i}] ${w.rstd[i]} vs ${j.rstd[i]}`);
      }
      const close = (a: Float32Array | Uint16Array, b: Float32Array | Uint16Array, what: string, rtol: number) => {
        for (let i = 0; i < n; i++) {
          if (dtype === 'float32') {
            const d = Math.abs((a as Float32Array)[i] - (b as Float32Array)[i]);
            assert.ok(Number.isFinite(a[i]) && d <= rtol * (1 + Math.abs(b[i])), `${dtype} ${what}[${i}] ${a[i]} vs ${b[i]}`);
          } else {
            const zeros = ((a[i] | b[i]) & 0x7fff) === 0; // +0 and −0 (a product rounding to zero keeps its sign)
            assert.ok(zeros || Math.abs(a[i] - b[i]) <= 1, `${dtype} ${what}[${i}] 0x${a[i].toString(16)} vs 0x${b[i].toString(16)}`);
          }
        }
      };
      close(w.y, j.y, 'y', 1e-5);
      close(wb.dx, jb.dx, 'dx', 1e-4);
    }
  });

  it('non-finite values where the fast 16-bit path skips its NaN handling: pRMSNorm columns past k, NaN/Inf sums, a non-finite gain, x·rstd past f32 range', () => {
    for (const dtype of DTYPES) {
      const t = decodeTable(dtype);
      const cols = 64;
      const one = dtype === 'float16' ? 0x3c00 : 0x3f80;
      const nan = dtype === 'float16' ? 0x7fff : 0x7fff; // the NaN whose rounding would carry out of the exponent
      const inf = dtype === 'float16' ? 0x7c00 : 0x7f80;
      const x = new Uint16Array(cols * 5).fill(one);
      const r = new Uint16Array(cols * 5).fill(one);
      x[cols - 1] = nan; // row 0: NaN past k
      x[2 * cols - 2] = inf | 0x8000; // row 1: −Inf past k
      x[2 * cols + 40] = inf; // row 2: Inf + (−Inf) in the sum, inside k
      r[2 * cols + 40] = inf | 0x8000;
      for (let j = 0; j < cols / 2; j++) x[3 * cols + j] = 0; // row 3: zero head, tiny eps: x·rstd overflows past k
      x[4 * cols - 1] = dtype === 'float16' ? 0x7bff : 0x7f7f;
      const gamma = new Float32Array(cols).fill(1.5);
      gamma[cols - 1] = 0; // Inf · 0 = NaN in f32 where f64 gives 0
      const cases = [
        { p: 0.5, eps: 1e-70, gamma },
        { p: 0.5, eps: 1e-70, gamma: Float32Array.from(gamma, (g, j) => (j === 10 ? Infinity : g)) },
        { gamma, beta: Float32Array.from(gamma, (_, j) => (j === 3 ? NaN : 0)) },
      ];
      for (const [ci, o] of cases.entries()) {
        const isNaNAt = (a: Uint16Array, i: number) => Number.isNaN(t[a[i]]);
        const check = (got: Uint16Array, want: Uint16Array, what: string) => {
          for (let i = 0; i < got.length; i++) {
            if (isNaNAt(got, i) || isNaNAt(want, i)) {
              assert.equal(isNaNAt(got, i), isNaNAt(want, i), `${dtype} case ${ci} ${what}[${i}] 0x${got[i].toString(16)} vs 0x${want[i].toString(16)}`);
            } else {
              const zeros = ((got[i] | want[i]) & 0x7fff) === 0;
              assert.ok(zeros || Math.abs(got[i] - want[i]) <= 1, `${dtype} case ${ci} ${what}[${i}] 0x${got[i].toString(16)} vs 0x${want[i].toString(16)}`);
            }
          }
        };
        const w = rmsNorm(x, cols, { ...o, dtype, backend: 'wasm' });
        const j = rmsNorm(x, cols, { ...o, dtype, backend: 'js' });
        check(w.y as Uint16Array, j.y as Uint16Array, 'rmsNorm y');
        const wf = addRmsNorm(x, r, cols, { ...o, dtype, backend: 'wasm' });
        const jf = addRmsNorm(x, r, cols, { ...o, dtype, backend: 'js' });
        check(wf.sum as Uint16Array, jf.sum as Uint16Array, 'sum');
        check(wf.y as Uint16Array, jf.y as Uint16Array, 'addRmsNorm y');
      }
    }
  });

  it('freeUint16 refuses arrays it did not allocate', () => {
    assert.throws(() => freeUint16(new Uint16Array(4)), RangeError);
  });

  it('2 threads give the same bits as 1 (forward, backward with dgamma/dbeta)', async () => {
    const rows = 512;
    const cols = 512;
    const rand = mulberry32(hashSeed('threads 16'));
    const opts = { dtype: 'bfloat16' as const, gamma: randomNormal(rand, cols, 1, 0.2), beta: randomNormal(rand, cols), backend: 'wasm' as const };
    const x = encode(randomNormal(rand, rows * cols), 'bfloat16') as Uint16Array;
    const r = encode(randomNormal(rand, rows * cols), 'bfloat16') as Uint16Array;
    const dy = encode(randomNormal(rand, rows * cols), 'bfloat16') as Uint16Array;
    const run = () => {
      const f = addRmsNorm(x, r, cols, opts);
      const b = addRmsNormBackward(dy, dy, f.sum, f.rstd, cols, opts);
      return { ...f, ...b };
    };
    const one = run();
    await initThreads(2, { minElements: 0, wakeMinElements: 0 });
    const two = run();
    await terminateThreads();
    assert.deepEqual(two.y, one.y);
    assert.deepEqual(two.sum, one.sum);
    assert.deepEqual(two.dx, one.dx);
    // dgamma/dbeta: f64 sums added over parts in another order: equal to f32 rounding
    for (let j = 0; j < cols; j++) {
      assert.ok(Math.abs(two.dgamma![j] - one.dgamma![j]) <= 1e-5 * (1 + Math.abs(one.dgamma![j])), `dgamma[${j}]`);
      assert.ok(Math.abs(two.dbeta![j] - one.dbeta![j]) <= 1e-5 * (1 + Math.abs(one.dbeta![j])), `dbeta[${j}]`);
    }
  });
});
