// wasm fused residual add and 16-bit storage (assembly/_add-rms-norm.ts, _layer-norm16.ts, _half.ts): the SIMD
// conversions and the correctly rounded 16-bit sum bit-exact against the js encoders (themselves checked against the
// reference in half-dtype.test.ts) over every pattern and near-tie pairs; 16-bit layerNorm within one ulp of the js
// kernel on random and extreme rows; zero-copy allocUint16/allocFloat32 calls copy nothing, in place included; the
// worker pool gives the same bits as one thread.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  addRmsNorm, addRmsNormBackward, allocFloat32, allocUint16, availableBackends, freeFloat32, freeUint16, initThreads,
  isWasmBuffer, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, terminateThreads,
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

  it('float16 results past 65,504 become ±Inf on the fast paths, as on js: a finite x + residual overflowing, a gain pushing y past the maximum', () => {
    const cols = 64;
    const t = decodeTable('float16');
    const rand = mulberry32(hashSeed('f16 overflow'));
    const x = encode(Array.from({ length: 3 * cols }, () => rand() * 2 - 1), 'float16') as Uint16Array;
    const r = encode(Array.from({ length: 3 * cols }, () => rand() * 2 - 1), 'float16') as Uint16Array;
    x[5] = r[5] = 0x7800; // row 0: 32768 + 32768 rounds to +Inf in the sum (the inputs are finite)
    x[cols + 7] = r[cols + 7] = 0xf800; // row 1: −Inf
    x[cols + 8] = 0x7bff; // and 65504 − 16 = 65488: finite
    r[cols + 8] = 0xcc00;
    const huge = { gamma: new Float32Array(cols).fill(3e4) }; // row 2 (and all): |y| up to ≈ 3e4·√cols·|x|/rms → Inf
    const same = (got: Uint16Array, want: Uint16Array, what: string) => {
      for (let i = 0; i < got.length; i++) {
        const g = t[got[i]];
        const w = t[want[i]];
        if (Number.isNaN(g) || Number.isNaN(w) || !Number.isFinite(g) || !Number.isFinite(w)) {
          assert.ok(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `${what}[${i}]: 0x${got[i].toString(16)} vs js 0x${want[i].toString(16)}`);
        } else {
          assert.ok(((got[i] | want[i]) & 0x7fff) === 0 || Math.abs(got[i] - want[i]) <= 1, `${what}[${i}]: 0x${got[i].toString(16)} vs js 0x${want[i].toString(16)}`);
        }
      }
    };
    for (const o of [{}, huge]) {
      const w = addRmsNorm(x, r, cols, { ...o, dtype: 'float16', backend: 'wasm' });
      const j = addRmsNorm(x, r, cols, { ...o, dtype: 'float16', backend: 'js' });
      assert.equal(t[j.sum[5]], Infinity);
      assert.equal(t[j.sum[cols + 7]], -Infinity);
      same(w.sum, j.sum, 'sum');
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(w.rstd[i] - j.rstd[i]) <= 1e-6 * j.rstd[i], `rstd[${i}] ${w.rstd[i]} vs js ${j.rstd[i]}`);
      same(w.y, j.y, 'addRmsNorm y');
      const wy = rmsNorm(x, cols, { ...o, dtype: 'float16', backend: 'wasm' }).y;
      same(wy, rmsNorm(x, cols, { ...o, dtype: 'float16', backend: 'js' }).y, 'rmsNorm y');
    }
    assert.ok(Array.from(rmsNorm(x, cols, { ...huge, dtype: 'float16', backend: 'js' }).y).some((v) => t[v] === Infinity), 'the gain overflows some y');
  });

  it('float16 backward: rows holding Inf/NaN in dy, sum or dsum (layerNorm: dy), and a non-finite gain, give the js answer', () => {
    const cols = 40; // 5 vectors of 8: the SIMD sweeps and no scalar tail
    const t = decodeTable('float16');
    const rand = mulberry32(hashSeed('f16 backward non-finite'));
    const rows = 5;
    const val = () => encode([rand() * 2 - 1], 'float16')[0];
    const [dy, sum, dsum] = [0, 0, 0].map(() => Uint16Array.from({ length: rows * cols }, val));
    dy[3] = 0x7c00; // row 0: +Inf in dy
    sum[cols + 17] = 0x7e00; // row 1: NaN in sum
    dsum[2 * cols + 30] = 0xfc00; // row 2: −Inf in dsum
    // rows 3 and 4 finite (the fast path beside them)
    const rstd = Float32Array.from({ length: rows }, () => 0.5 + rand());
    const sameDgamma = (got: Float32Array, want: Float32Array, what: string) => {
      for (let c = 0; c < cols; c++) {
        const [g, e] = [got[c], want[c]];
        if (!Number.isFinite(g) || !Number.isFinite(e)) assert.ok(Object.is(g, e) || (Number.isNaN(g) && Number.isNaN(e)), `${what} dgamma[${c}] ${g} vs js ${e}`);
        else assert.ok(Math.abs(g - e) <= 1e-5 * (1 + Math.abs(e)), `${what} dgamma[${c}] ${g} vs js ${e}`);
      }
    };
    const gains = [Float32Array.from({ length: cols }, () => 0.5 + rand())];
    gains.push(Float32Array.from(gains[0], (g, j) => (j === 9 ? Infinity : g))); // Inf·0-free NaN: Inf − Inf in dx
    for (const [gi, gamma] of gains.entries()) {
      for (const withDsum of [false, true]) {
        const o = { dtype: 'float16' as const, gamma };
        const w = addRmsNormBackward(dy, withDsum ? dsum : null, sum, rstd, cols, { ...o, backend: 'wasm' });
        const j = addRmsNormBackward(dy, withDsum ? dsum : null, sum, rstd, cols, { ...o, backend: 'js' });
        for (let i = 0; i < w.dx.length; i++) {
          const [g, e] = [t[w.dx[i]], t[j.dx[i]]];
          const what = `gain ${gi}${withDsum ? ' dsum' : ''} dx[${i}] 0x${w.dx[i].toString(16)} vs js 0x${j.dx[i].toString(16)}`;
          if (!Number.isFinite(g) || !Number.isFinite(e)) assert.ok(Object.is(g, e) || (Number.isNaN(g) && Number.isNaN(e)), what);
          else assert.ok(((w.dx[i] | j.dx[i]) & 0x7fff) === 0 || Math.abs(w.dx[i] - j.dx[i]) <= 1, what);
        }
        sameDgamma(w.dgamma!, j.dgamma!, `gain ${gi}`);
      }
      // layerNorm: x = sum (finite; rows 0 and 1 hold +Inf and NaN in dy after the edit below), mean/rstd from js
      const dyLn = dy.slice();
      dyLn[cols + 17] = 0x7e00;
      const stats = layerNorm(sum, cols, { dtype: 'float16', backend: 'js' });
      const o = { dtype: 'float16' as const, gamma };
      const w = layerNormBackward(dyLn, sum, stats.mean, stats.rstd, cols, { ...o, backend: 'wasm' });
      const j = layerNormBackward(dyLn, sum, stats.mean, stats.rstd, cols, { ...o, backend: 'js' });
      for (let i = 0; i < w.dx.length; i++) {
        const [g, e] = [t[w.dx[i]], t[j.dx[i]]];
        const what = `layerNorm gain ${gi} dx[${i}] 0x${w.dx[i].toString(16)} vs js 0x${j.dx[i].toString(16)}`;
        if (!Number.isFinite(g) || !Number.isFinite(e)) assert.ok(Object.is(g, e) || (Number.isNaN(g) && Number.isNaN(e)), what);
        else assert.ok(((w.dx[i] | j.dx[i]) & 0x7fff) === 0 || Math.abs(w.dx[i] - j.dx[i]) <= 1, what);
      }
      sameDgamma(w.dgamma!, j.dgamma!, `layerNorm gain ${gi}`);
    }
  });

  it('float16 backward with gradient-sized dy (mostly subnormal: the decode without f32 subnormal arithmetic) agrees with js (RMS, fused, LayerNorm)', () => {
    const cols = 1030; // 128 vectors of 8 and a scalar tail
    const rows = 6;
    const t = decodeTable('float16');
    const rand = mulberry32(hashSeed('f16 subnormal gradients'));
    const dy = encode(Array.from({ length: rows * cols }, () => (rand() * 2 - 1) * 1e-4), 'float16') as Uint16Array;
    const dsum = encode(Array.from({ length: rows * cols }, () => (rand() * 2 - 1) * 3e-5), 'float16') as Uint16Array;
    dy[3] = 0x8000; // −0 and +0 among them
    dy[4] = 0;
    const sum = encode(Array.from({ length: rows * cols }, () => rand() * 2 - 1), 'float16') as Uint16Array;
    const subs = Array.from(dy.subarray(0, cols)).filter((h) => (h & 0x7fff) !== 0 && (h & 0x7fff) < 0x400).length;
    assert.ok(subs * 64 > cols, `the first row's dy is mostly subnormal (${subs} of ${cols})`);
    const rstd = Float32Array.from({ length: rows }, () => 0.5 + rand());
    const gamma = Float32Array.from({ length: cols }, () => 0.5 + rand());
    for (const withDsum of [false, true]) {
      const o = { dtype: 'float16' as const, gamma };
      const w = addRmsNormBackward(dy, withDsum ? dsum : null, sum, rstd, cols, { ...o, backend: 'wasm' });
      const j = addRmsNormBackward(dy, withDsum ? dsum : null, sum, rstd, cols, { ...o, backend: 'js' });
      for (let i = 0; i < w.dx.length; i++) {
        const ok = ((w.dx[i] | j.dx[i]) & 0x7fff) === 0 || Math.abs(w.dx[i] - j.dx[i]) <= 1;
        assert.ok(ok, `${withDsum ? 'dsum ' : ''}dx[${i}] 0x${w.dx[i].toString(16)} (${t[w.dx[i]]}) vs js 0x${j.dx[i].toString(16)} (${t[j.dx[i]]})`);
      }
      for (let c = 0; c < cols; c++) {
        assert.ok(Math.abs(w.dgamma![c] - j.dgamma![c]) <= 1e-6 * (1e-4 + Math.abs(j.dgamma![c])), `dgamma[${c}] ${w.dgamma![c]} vs js ${j.dgamma![c]}`);
      }
    }
    const stats = layerNorm(sum, cols, { dtype: 'float16', backend: 'js' });
    const o = { dtype: 'float16' as const, gamma, beta: gamma };
    const w = layerNormBackward(dy, sum, stats.mean, stats.rstd, cols, { ...o, backend: 'wasm' });
    const j = layerNormBackward(dy, sum, stats.mean, stats.rstd, cols, { ...o, backend: 'js' });
    for (let i = 0; i < w.dx.length; i++) {
      const ok = ((w.dx[i] | j.dx[i]) & 0x7fff) === 0 || Math.abs(w.dx[i] - j.dx[i]) <= 1;
      assert.ok(ok, `layerNorm dx[${i}] 0x${w.dx[i].toString(16)} (${t[w.dx[i]]}) vs js 0x${j.dx[i].toString(16)} (${t[j.dx[i]]})`);
    }
    for (let c = 0; c < cols; c++) {
      assert.ok(Math.abs(w.dgamma![c] - j.dgamma![c]) <= 1e-6 * (1e-4 + Math.abs(j.dgamma![c])), `layerNorm dgamma[${c}] ${w.dgamma![c]} vs js ${j.dgamma![c]}`);
      assert.ok(Math.abs(w.dbeta![c] - j.dbeta![c]) <= 1e-6 * (1e-4 + Math.abs(j.dbeta![c])), `layerNorm dbeta[${c}] ${w.dbeta![c]} vs js ${j.dbeta![c]}`);
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

/** Equal, or both NaN, or one 16-bit ulp apart (±0 equal): two kernels each rounding an f32/f64 value once. */
function withinUlp(dtype: 'float16' | 'bfloat16', got: Uint16Array, want: Uint16Array, what: string): number {
  const t = decodeTable(dtype);
  let diff = 0;
  for (let i = 0; i < got.length; i++) {
    if (got[i] === want[i]) continue;
    const nan = Number.isNaN(t[got[i]]);
    assert.equal(nan, Number.isNaN(t[want[i]]), `${what}[${i}]: 0x${got[i].toString(16)} vs 0x${want[i].toString(16)} (NaN)`);
    if (nan || ((got[i] | want[i]) & 0x7fff) === 0) continue;
    assert.ok(Math.abs(got[i] - want[i]) <= 1 && (got[i] ^ want[i]) < 0x8000, `${what}[${i}]: 0x${got[i].toString(16)} vs 0x${want[i].toString(16)}`);
    diff++;
  }
  return diff;
}

/** f32 results within rtol·|want| + atol (NaN = NaN, ±Inf exactly). */
function closeF32(got: Float32Array, want: Float32Array, rtol: number, what: string, atol = 0): void {
  for (let i = 0; i < got.length; i++) {
    if (Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]))) continue;
    assert.ok(Math.abs(got[i] - want[i]) <= rtol * Math.abs(want[i]) + atol, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

/**
 * 16-bit dx within one ulp of js, or (cancellation: dx of a 2-column row is rounding noise around 0) within 2e-5 of
 * its row's natural scale rstd·(max|u| + max|x̂|·Σ|u·x̂|/cols) (the tolerance table's atol for the wasm backward).
 */
function dxClose(
  dtype: 'float16' | 'bfloat16', got: Uint16Array, want: Uint16Array, x: Uint16Array, dy: Uint16Array,
  mean: Float32Array, rstd: Float32Array, gamma: Float32Array | undefined, cols: number, what: string,
): void {
  const t = decodeTable(dtype);
  const ulp = dtype === 'float16' ? 2 ** -10 : 2 ** -7;
  for (let r = 0; r < got.length / cols; r++) {
    let maxU = 0;
    let maxX = 0;
    let dot = 0;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const u = Math.abs((gamma === undefined ? 1 : gamma[j]) * t[dy[i]]);
      const xh = Math.abs((t[x[i]] - mean[r]) * rstd[r]);
      maxU = Math.max(maxU, u);
      maxX = Math.max(maxX, xh);
      dot += u * xh;
    }
    const scale = rstd[r] * (maxU + (maxX * dot) / cols);
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const [a, b] = [t[got[i]], t[want[i]]];
      if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) || !Number.isFinite(scale)) continue;
      const allowed = ulp * Math.abs(b) + 2e-5 * scale + 2 ** -24;
      assert.ok(Math.abs(a - b) <= allowed, `${what}[${i}]: ${a} (0x${got[i].toString(16)}) vs ${b} (0x${want[i].toString(16)})`);
    }
  }
}

type LnOpts = { gamma?: Float32Array; beta?: Float32Array; eps?: number };

/** Forward and backward of layerNorm on `backend`, backward from the forward's own mean/rstd. */
function ln16(dtype: 'float16' | 'bfloat16', backend: 'js' | 'wasm', x: Uint16Array, dy: Uint16Array, cols: number, o: LnOpts) {
  const f = layerNorm(x, cols, { dtype, backend, ...o });
  const b = layerNormBackward(dy, x, f.mean, f.rstd, cols, { dtype, backend, ...o });
  return { y: f.y, mean: f.mean, rstd: f.rstd, dx: b.dx, dgamma: b.dgamma, dbeta: b.dbeta };
}

describe('wasm 16-bit layerNorm (assembly/_layer-norm16.ts) against the js kernel', { skip: !HAVE_WASM && 'wasm unavailable' }, () => {
  after(() => terminateThreads());
  const rows = 6;
  const shapes = [1, 2, 15, 16, 17, 33, 100, 1040];
  const gains = [
    { tag: 'none' },
    { tag: 'gamma', gamma: true },
    { tag: 'beta', beta: true },
    { tag: 'gamma+beta', gamma: true, beta: true },
  ];

  function input(dtype: 'float16' | 'bfloat16', rows: number, cols: number, seed: string, offset = 0) {
    const rand = mulberry32(hashSeed(seed));
    const x = encode(Array.from(randomNormal(rand, rows * cols), (v) => v + offset), dtype) as Uint16Array;
    const dy = encode(randomNormal(rand, rows * cols), dtype) as Uint16Array;
    return { x, dy, gamma: randomNormal(rand, cols, 1, 0.2), beta: randomNormal(rand, cols, 0, 0.5) };
  }

  for (const dtype of DTYPES) {
    it(`${dtype}: y, dx within one ulp of js (mostly identical), mean/rstd/dgamma/dbeta close; every gain mode, cols 1 to 1040`, () => {
      let differ = 0;
      let total = 0;
      for (const cols of shapes) {
        for (const g of gains) {
          const d = input(dtype, rows, cols, `ln16 ${dtype} ${cols} ${g.tag}`, 3);
          const o = { gamma: g.gamma ? d.gamma : undefined, beta: g.beta ? d.beta : undefined };
          const w = ln16(dtype, 'wasm', d.x, d.dy, cols, o);
          const j = ln16(dtype, 'js', d.x, d.dy, cols, o);
          const what = `${dtype} ${cols} ${g.tag}`;
          differ += withinUlp(dtype, w.y as Uint16Array, j.y as Uint16Array, `${what} y`);
          dxClose(dtype, w.dx as Uint16Array, j.dx as Uint16Array, d.x, d.dy, j.mean, j.rstd, o.gamma, cols, `${what} dx`);
          total += rows * cols;
          closeF32(w.mean, j.mean, 1e-6, `${what} mean`);
          closeF32(w.rstd, j.rstd, 1e-6, `${what} rstd`);
          assert.equal(w.dgamma === null, !g.gamma);
          assert.equal(w.dbeta === null, !g.beta);
          if (w.dgamma !== null) closeF32(w.dgamma, j.dgamma!, 1e-5, `${what} dgamma`, 1e-5);
          if (w.dbeta !== null) closeF32(w.dbeta, j.dbeta!, 1e-5, `${what} dbeta`, 1e-5);
        }
      }
      assert.ok(differ < total * 0.02, `${differ} of ${total} y one ulp from js`);
    });

    it(`${dtype}: extreme rows (subnormal, near the 16-bit maximum, zero with eps 0, NaN, ±Inf, constant) and non-finite gamma/beta give the js answer`, () => {
      const cols = 40;
      const max = dtype === 'float16' ? 65504 : 3.3e38;
      const tiny = dtype === 'float16' ? 2 ** -24 : 2 ** -133;
      const rand = mulberry32(hashSeed(`ln16 extremes ${dtype}`));
      const kinds: Array<(j: number) => number> = [
        () => (rand() * 2 - 1),
        () => Math.floor(rand() * 8 - 4) * tiny, // subnormal
        () => (rand() < 0.5 ? -1 : 1) * max * (0.9 + 0.1 * rand()), // near the maximum
        () => 0, // zero row (eps 0: rstd = Inf, y NaN as in f64)
        (j) => (j === 7 ? NaN : rand()),
        (j) => (j === 20 ? Infinity : rand()),
        (j) => (j === 39 ? -Infinity : rand()),
        () => 1e4, // constant
        () => 1e4 + (rand() * 2 - 1) * (dtype === 'float16' ? 16 : 256), // offset: mean far from zero
      ];
      const xs = kinds.flatMap((k) => Array.from({ length: cols }, (_, j) => k(j)));
      const x = encode(xs, dtype) as Uint16Array;
      const dy = encode(Array.from(xs, () => rand() * 2 - 1), dtype) as Uint16Array;
      const gamma = Float32Array.from({ length: cols }, () => 0.5 + rand());
      const beta = Float32Array.from({ length: cols }, () => rand() - 0.5);
      const cases: Array<{ tag: string; o: LnOpts }> = [
        { tag: 'eps 0', o: { gamma, beta, eps: 0 } },
        { tag: 'eps 1e-6, no gain', o: {} },
        { tag: 'gamma Inf', o: { gamma: Float32Array.from(gamma, (g, j) => (j === 5 ? Infinity : g)), beta } },
        { tag: 'beta NaN', o: { gamma, beta: Float32Array.from(beta, (b, j) => (j === 3 ? NaN : b)) } },
      ];
      for (const { tag, o } of cases) {
        const w = ln16(dtype, 'wasm', x, dy, cols, o);
        const j = ln16(dtype, 'js', x, dy, cols, o);
        withinUlp(dtype, w.y as Uint16Array, j.y as Uint16Array, `${dtype} ${tag} y`);
        dxClose(dtype, w.dx as Uint16Array, j.dx as Uint16Array, x, dy, j.mean, j.rstd, o.gamma, cols, `${dtype} ${tag} dx`);
        closeF32(w.mean, j.mean, 1e-6, `${dtype} ${tag} mean`);
        closeF32(w.rstd, j.rstd, 1e-6, `${dtype} ${tag} rstd`);
      }
    });
  }

  it('offset rows: dgamma within 1e-6 of js (the backward re-derives the exact mean; the saved f32 mean is off by up to 6e-5 of σ)', () => {
    // binary16 8000 + 2·N(0,1): f32 ulp of the mean 4.9e-4, σ ≈ 2; using the saved mean gives 2e-5–6e-5 (measured)
    const cases = [['float16', 8000, 2, 8], ['float16', -6000, 2, 2], ['bfloat16', 3e4, 200, 4]] as const;
    for (const [dtype, offset, sd, rows] of cases) {
      const cols = 1000;
      const rand = mulberry32(hashSeed(`ln16 shift ${dtype} ${offset}`));
      const x = encode(Array.from(randomNormal(rand, rows * cols), (t) => offset + sd * t), dtype) as Uint16Array;
      const dy = encode(randomNormal(rand, rows * cols), dtype) as Uint16Array;
      const gamma = randomNormal(rand, cols, 1, 0.2);
      const w = ln16(dtype, 'wasm', x, dy, cols, { gamma, beta: gamma });
      const j = ln16(dtype, 'js', x, dy, cols, { gamma, beta: gamma });
      const max = j.dgamma!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      closeF32(w.dgamma!, j.dgamma!, 0, `${dtype} ${offset} dgamma`, 1e-6 * max);
    }
  });

  it('zero-copy: allocUint16 x, y, dy and allocFloat32 gamma/mean/rstd/dgamma/dbeta copy nothing; in place y = x and dx = dy', () => {
    const rows = 32;
    const cols = 520;
    const n = rows * cols;
    for (const dtype of DTYPES) {
      const d = input(dtype, rows, cols, `ln16 zero-copy ${dtype}`, 1);
      const o = { gamma: d.gamma, beta: d.beta };
      const want = ln16(dtype, 'wasm', d.x, d.dy, cols, o); // plain arrays, through scratch
      const x = allocUint16(n);
      const y = allocUint16(n);
      const dy = allocUint16(n);
      const gamma = allocFloat32(cols);
      const beta = allocFloat32(cols);
      const mean = allocFloat32(rows);
      const rstd = allocFloat32(rows);
      const dgamma = allocFloat32(cols);
      const dbeta = allocFloat32(cols);
      x.set(d.x);
      dy.set(d.dy);
      gamma.set(d.gamma);
      beta.set(d.beta);
      const before = copied();
      layerNorm(x, cols, { dtype, gamma, beta, backend: 'wasm', out: { y, mean, rstd } });
      layerNormBackward(dy, x, mean, rstd, cols, { dtype, gamma, beta, backend: 'wasm', out: { dx: dy, dgamma, dbeta } });
      assert.equal(copied(), before, `${dtype}: bytes copied`);
      assert.deepEqual(y, want.y);
      assert.deepEqual(mean, want.mean);
      assert.deepEqual(rstd, want.rstd);
      assert.deepEqual(dy, want.dx);
      assert.deepEqual(dgamma, want.dgamma);
      assert.deepEqual(dbeta, want.dbeta);
      // in place forward: y = x (zero-copy, and plain arrays through one shared scratch range)
      layerNorm(x, cols, { dtype, gamma, beta, backend: 'wasm', out: { y: x, mean, rstd } });
      assert.equal(copied(), before, `${dtype}: in place bytes copied`);
      assert.deepEqual(x, want.y);
      const plain = d.x.slice();
      layerNorm(plain, cols, { dtype, gamma: d.gamma, beta: d.beta, backend: 'wasm', out: { y: plain } });
      assert.deepEqual(plain, want.y);
      const plainDy = d.dy.slice();
      layerNormBackward(plainDy, d.x, want.mean, want.rstd, cols, { dtype, gamma: d.gamma, backend: 'wasm', out: { dx: plainDy } });
      assert.deepEqual(plainDy, want.dx);
      for (const a of [x, y, dy]) freeUint16(a);
      for (const a of [gamma, beta, mean, rstd, dgamma, dbeta]) freeFloat32(a);
    }
  });

  it('2 threads give the same bits as 1 (forward; backward dx, dgamma/dbeta to f32 rounding), zero-copy and plain', async () => {
    const rows = 300;
    const cols = 260;
    const n = rows * cols;
    const runs = (threads: string) => DTYPES.map((dtype) => {
      const d = input(dtype, rows, cols, `ln16 threads ${dtype}`, 2);
      const o = { gamma: d.gamma, beta: d.beta };
      const plain = ln16(dtype, 'wasm', d.x, d.dy, cols, o);
      const x = allocUint16(n);
      const dy = allocUint16(n);
      x.set(d.x);
      dy.set(d.dy);
      const z = ln16(dtype, 'wasm', x, dy, cols, o);
      const zc = { ...z, y: (z.y as Uint16Array).slice(), dx: (z.dx as Uint16Array).slice() };
      freeUint16(x);
      freeUint16(dy);
      assert.deepEqual(zc.y, plain.y, `${threads} ${dtype}: zero-copy y = plain y`);
      return { dtype, plain };
    });
    const one = runs('1 thread');
    await initThreads(2, { minElements: 0, wakeMinElements: 0 });
    const two = runs('2 threads');
    await terminateThreads();
    for (let i = 0; i < one.length; i++) {
      const [a, b] = [one[i].plain, two[i].plain];
      const dt = one[i].dtype;
      assert.deepEqual(b.y, a.y, `${dt} y`);
      assert.deepEqual(b.mean, a.mean, `${dt} mean`);
      assert.deepEqual(b.rstd, a.rstd, `${dt} rstd`);
      assert.deepEqual(b.dx, a.dx, `${dt} dx`);
      closeF32(b.dgamma!, a.dgamma!, 1e-5, `${dt} dgamma`, 1e-5);
      closeF32(b.dbeta!, a.dbeta!, 1e-5, `${dt} dbeta`, 1e-5);
    }
  });

  it("backend: 'wasm' runs 16-bit layerNorm (no BackendUnavailableError), 'auto' picks it", () => {
    const x = encode([1, 2, 3, 4, 5, 6], 'bfloat16') as Uint16Array;
    const w = layerNorm(x, 3, { dtype: 'bfloat16', backend: 'wasm' });
    const a = layerNorm(x, 3, { dtype: 'bfloat16' });
    assert.deepEqual(a.y, w.y);
    const before = _copyStats.bytesIn;
    layerNormBackward(x, x, w.mean, w.rstd, 3, { dtype: 'bfloat16' });
    assert.ok(_copyStats.bytesIn > before, "'auto' went through the wasm job runner");
  });
});
