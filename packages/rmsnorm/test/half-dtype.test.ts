// 16-bit storage (options.dtype 'float16' | 'bfloat16') for rmsNorm, l2Norm, layerNorm and their backwards:
// conversions against the reference's arithmetic ones, every op against the float64 reference within
// storageTolerance, the f16 overflow case (Σx² ≈ 1.5e13), rounding edge cases and typed errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTable, toBf16, toF16 } from '../src/backends/js/half.js';
import { BackendUnavailableError, l2Norm, l2NormBackward, layerNorm, layerNormBackward, reference, rmsNorm, rmsNormBackward } from '../src/index.js';
import { partialK } from '../src/reference/partial-k.js';
import { backendsFor, checkClose, encode, rowMax, toleranceBackend, ulpStats, values } from './storage-check.js';
import { hashSeed, mulberry32, randomNormal } from './compare.js';
import { storageTolerance } from './tolerance.js';

const HALF = ['float16', 'bfloat16'] as const;
type Half = (typeof HALF)[number];

describe('16-bit conversions: js kernels vs the reference', () => {
  for (const dtype of HALF) {
    it(`${dtype}: all 65536 patterns decode exactly`, () => {
      const t = decodeTable(dtype);
      for (let h = 0; h < 65536; h++) {
        const want = reference.halfToNumber(h, dtype);
        assert.ok(Object.is(t[h], want) || (Number.isNaN(t[h]) && Number.isNaN(want)), `${h.toString(16)}: ${t[h]} vs ${want}`);
      }
    });
    it(`${dtype}: encode rounds to nearest even (every midpoint ±, random f64, edges)`, () => {
      const enc = dtype === 'float16' ? toF16 : toBf16;
      const t = decodeTable(dtype);
      const probe = (v: number) => assert.equal(enc(v), reference.numberToHalf(v, dtype), `${dtype} ${v}`);
      for (let h = 0; h < 0x7fff; h++) {
        const a = t[h];
        const b = t[h + 1];
        if (!Number.isFinite(b)) continue;
        const mid = (a + b) / 2;
        for (const v of [mid, mid * (1 + 2 ** -40), mid * (1 - 2 ** -40), -mid, a, -b]) probe(v);
      }
      const rand = mulberry32(7);
      for (let i = 0; i < 20000; i++) probe((rand() - 0.5) * 2 ** Math.floor(rand() * 100 - 60));
      for (const v of [0, -0, Infinity, -Infinity, 65504, 65519.99, 65520, -65520, 3.4e38, 3.5e38, 1e300, 2 ** -25,
        2 ** -25 * (1 + 2 ** -30), 2 ** -24 * 1.5, 2 ** -26, 5e-324, 2 ** -133, 2 ** -134]) probe(v);
      assert.ok(Number.isNaN(t[enc(NaN)]));
    });
  }
  it('float16 edge values: subnormal steps, overflow to Inf at 65520, ties to even', () => {
    assert.equal(toF16(2 ** -24), 0x0001);
    assert.equal(toF16(2 ** -25), 0x0000); // tie between 0 and 2^-24: even (0)
    assert.equal(toF16(3 * 2 ** -25), 0x0002); // tie between 1 and 2 quanta: even (2)
    assert.equal(toF16(65504), 0x7bff);
    assert.equal(toF16(65519), 0x7bff);
    assert.equal(toF16(65520), 0x7c00);
    assert.equal(toF16(-1e9), 0xfc00);
    assert.equal(toF16(1 + 2 ** -11), 0x3c00); // tie: even mantissa (1.0)
    assert.equal(toF16(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(toBf16(1 + 2 ** -8), 0x3f80);
    assert.equal(toBf16(3.4e38), 0x7f80); // beyond bf16's max + ulp/2: Inf
  });
});

interface Input { x: Uint16Array; dy: Uint16Array; xv: Float64Array; dyv: Float64Array; gamma: Float32Array; beta: Float32Array }

function input(name: string, dtype: Half, rows: number, cols: number, scale = 1): Input {
  const rand = mulberry32(hashSeed(name));
  const x = encode(Array.from(randomNormal(rand, rows * cols), (v) => v * scale), dtype) as Uint16Array;
  const dy = encode(randomNormal(rand, rows * cols), dtype) as Uint16Array;
  return {
    x, dy, xv: values(x, dtype), dyv: values(dy, dtype),
    gamma: randomNormal(rand, cols, 1, 0.2), beta: randomNormal(rand, cols, 0, 0.5),
  };
}

/** dx's natural row scale: rstd·(max|u| + max|x̂|·Σ|u·x̂|/divisor) (as src/check/run-case.ts). */
function dxScales(dyv: ArrayLike<number>, xhat: (i: number) => number, gain: (j: number) => number, cols: number, divisor: number, rstd: ArrayLike<number>) {
  const rows = dyv.length / cols;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let maxU = 0;
    let maxX = 0;
    let dot = 0;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const u = Math.abs(gain(j) * dyv[i]);
      maxU = Math.max(maxU, u);
      maxX = Math.max(maxX, Math.abs(xhat(i)));
      dot += u * Math.abs(xhat(i));
    }
    out[r] = rstd[r] * (maxU + (maxX * dot) / divisor);
  }
  return out;
}

const SHAPES: Array<[number, number]> = [[1, 1], [3, 5], [2, 127], [2, 1024], [1, 4097]];
const RMS_VARIANTS = [
  { tag: 'plain' },
  { tag: 'gamma+beta', gamma: true, beta: true },
  { tag: 'p=0.5 floor, outside', gamma: true, p: 0.5, kRule: 'floor' as const, epsPlacement: 'outside' as const },
  { tag: 'gammaOffset=1', gamma: true, gammaOffset: 1 },
];

describe('16-bit rmsNorm / l2Norm vs the float64 reference', () => {
  for (const dtype of HALF) {
    for (const l2 of [false, true]) {
      const op = l2 ? 'l2Norm' : 'rmsNorm';
      it(`${op} ${dtype}: forward and backward within ${dtype}'s ulp on every backend`, () => {
        const stats = { maxUlpsY: 0, exactY: 1, maxUlpsDx: 0 };
        for (const { backend, missing } of backendsFor('rmsNorm16')) {
          if (missing) {
            const { x } = input('missing', dtype, 1, 4);
            assert.throws(() => rmsNorm(x, 4, { dtype, backend }), BackendUnavailableError);
            continue;
          }
          const tb = toleranceBackend(backend, 'rmsNorm16');
          for (const [rows, cols] of SHAPES) {
            for (const v of RMS_VARIANTS) {
              if (l2 && v.p !== undefined) continue;
              const d = input(`${op} ${dtype} ${rows}x${cols} ${v.tag}`, dtype, rows, cols);
              const k = v.p === undefined ? cols : partialK(v.p, cols, v.kRule);
              const o = {
                dtype, backend, gamma: v.gamma ? d.gamma : undefined, beta: v.beta ? d.beta : undefined,
                gammaOffset: v.gammaOffset, epsPlacement: v.epsPlacement, ...(l2 ? {} : { p: v.p, kRule: v.kRule }),
              };
              const refO = { gamma: o.gamma, beta: o.beta, gammaOffset: o.gammaOffset, epsPlacement: o.epsPlacement, ...(l2 ? {} : { k }) };
              const f = l2 ? l2Norm(d.x, cols, o) : rmsNorm(d.x, cols, o);
              assert.ok(f.y instanceof Uint16Array);
              const ref = l2 ? reference.l2NormRef(d.xv, cols, refO) : reference.rmsNormRef(d.xv, cols, refO);
              const name = `${op} ${dtype} ${backend} ${rows}x${cols} ${v.tag}`;
              checkClose(`${name} y`, f.y, ref.y, dtype, storageTolerance(tb, op, 'forward', dtype), cols);
              checkClose(`${name} rstd`, f.rstd, ref.rstd, 'float32', storageTolerance(tb, op, 'forward', 'float32'), 1);
              const s = ulpStats(f.y, ref.y, dtype);
              stats.maxUlpsY = Math.max(stats.maxUlpsY, s.maxUlps);
              stats.exactY = Math.min(stats.exactY, s.exactShare);
              const b = l2 ? l2NormBackward(d.dy, d.x, f.rstd, cols, o) : rmsNormBackward(d.dy, d.x, f.rstd, cols, o);
              const rb = l2 ? reference.l2NormBackwardRef(d.dyv, d.xv, cols, refO) : reference.rmsNormBackwardRef(d.dyv, d.xv, cols, refO);
              const gain = (j: number) => (o.gamma === undefined ? 1 : (o.gammaOffset ?? 0) + o.gamma[j]);
              const sc = dxScales(d.dyv, (i) => d.xv[i] * ref.rstd[Math.floor(i / cols)], gain, cols, l2 ? 1 : k, ref.rstd);
              checkClose(`${name} dx`, b.dx, rb.dx, dtype, storageTolerance(tb, op, 'backward', dtype), cols, sc);
              stats.maxUlpsDx = Math.max(stats.maxUlpsDx, ulpStats(b.dx as Uint16Array, rb.dx, dtype).maxUlps);
              const fl = storageTolerance(tb, op, 'backward', 'float32');
              if (rb.dgamma !== null) checkClose(`${name} dgamma`, b.dgamma!, rb.dgamma, 'float32', fl, cols);
              if (rb.dbeta !== null) checkClose(`${name} dbeta`, b.dbeta!, rb.dbeta, 'float32', fl, cols);
            }
          }
        }
        console.log(`# ${op} ${dtype}: y max ${stats.maxUlpsY} ulp (≥ ${(100 * stats.exactY).toFixed(1)}% exact), dx max ${stats.maxUlpsDx} ulp`);
      });
    }
  }
});

const LN_VARIANTS = [
  { tag: 'gamma+beta', gamma: true, beta: true },
  { tag: 'plain' },
  { tag: 'gamma', gamma: true },
  { tag: 'beta', beta: true },
];

/** layerNorm and its backward on `x` (16-bit) against the float64 reference of the decoded values. */
function checkLayerNorm16(
  name: string, dtype: Half, backend: 'js' | 'auto' | 'wasm', tb: 'js' | 'wasm', x: Uint16Array, dy: Uint16Array,
  cols: number, gamma?: Float32Array, beta?: Float32Array,
): void {
  const xv = values(x, dtype);
  const dyv = values(dy, dtype);
  const f = layerNorm(x, cols, { dtype, backend, gamma, beta });
  assert.ok(f.y instanceof Uint16Array);
  const ref = reference.layerNormRef(xv, cols, { gamma, beta });
  checkClose(`${name} y`, f.y, ref.y, dtype, storageTolerance(tb, 'layerNorm', 'forward', dtype), cols);
  checkClose(`${name} mean`, f.mean, ref.mean, 'float32', storageTolerance(tb, 'layerNorm', 'forward', 'float32'), 1, rowMax(xv, cols));
  checkClose(`${name} rstd`, f.rstd, ref.rstd, 'float32', storageTolerance(tb, 'layerNorm', 'forward', 'float32'), 1);
  const b = layerNormBackward(dy, x, f.mean, f.rstd, cols, { dtype, backend, gamma, beta });
  const rb = reference.layerNormBackwardRef(dyv, xv, cols, { gamma, beta });
  const row = (i: number) => Math.floor(i / cols);
  const sc = dxScales(dyv, (i) => (xv[i] - ref.mean[row(i)]) * ref.rstd[row(i)], (j) => (gamma === undefined ? 1 : gamma[j]), cols, cols, ref.rstd);
  checkClose(`${name} dx`, b.dx, rb.dx, dtype, storageTolerance(tb, 'layerNorm', 'backward', dtype), cols, sc);
  const fl = storageTolerance(tb, 'layerNorm', 'backward', 'float32');
  assert.equal(b.dgamma === null, rb.dgamma === null, `${name}: dgamma present iff gamma`);
  assert.equal(b.dbeta === null, rb.dbeta === null, `${name}: dbeta present iff beta`);
  if (rb.dgamma !== null) checkClose(`${name} dgamma`, b.dgamma!, rb.dgamma, 'float32', fl, cols);
  if (rb.dbeta !== null) checkClose(`${name} dbeta`, b.dbeta!, rb.dbeta, 'float32', fl, cols);
}

describe('16-bit layerNorm vs the float64 reference', () => {
  for (const dtype of HALF) {
    it(`layerNorm ${dtype}: forward and backward, with and without gamma/beta, incl. offset rows 100 + N(0,1)`, () => {
      for (const { backend, missing } of backendsFor('layerNorm16')) {
        if (missing) {
          assert.throws(() => layerNorm(new Uint16Array(4), 4, { dtype, backend }), BackendUnavailableError);
          continue;
        }
        const tb = toleranceBackend(backend, 'layerNorm16');
        for (const [rows, cols] of [...SHAPES, [3, 33] as [number, number]]) {
          for (const offset of [0, 100]) {
            for (const v of LN_VARIANTS) {
              const rand = mulberry32(hashSeed(`ln ${dtype} ${rows}x${cols} ${offset} ${v.tag}`));
              const x = encode(Array.from(randomNormal(rand, rows * cols), (t) => t + offset), dtype) as Uint16Array;
              const dy = encode(randomNormal(rand, rows * cols), dtype) as Uint16Array;
              const gamma = v.gamma ? randomNormal(rand, cols, 1, 0.2) : undefined;
              const beta = v.beta ? randomNormal(rand, cols, 0, 0.5) : undefined;
              const name = `layerNorm ${dtype} ${backend} ${rows}x${cols} offset ${offset} ${v.tag}`;
              checkLayerNorm16(name, dtype, backend, tb, x, dy, cols, gamma, beta);
            }
          }
        }
      }
    });
  }

  it('offset rows: bfloat16 1e4 + N(0,1) (nearly constant after rounding) and 1e4 + N(0,100), binary16 1000 + N(0,1), −3e4 + N(0,50), 8000 + N(0,4)', () => {
    const cases: Array<[Half, number, number]> = [
      ['bfloat16', 1e4, 1], ['bfloat16', 1e4, 100], ['float16', 1000, 1], ['float16', -3e4, 50], ['float16', 8000, 4],
    ];
    for (const [dtype, offset, sd] of cases) {
      for (const { backend, missing } of backendsFor('layerNorm16')) {
        if (missing) continue;
        const tb = toleranceBackend(backend, 'layerNorm16');
        const rows = 4;
        const cols = 1000;
        const rand = mulberry32(hashSeed(`ln offset ${dtype} ${offset} ${sd}`));
        const x = encode(Array.from(randomNormal(rand, rows * cols), (t) => offset + sd * t), dtype) as Uint16Array;
        const dy = encode(randomNormal(rand, rows * cols), dtype) as Uint16Array;
        const gamma = randomNormal(rand, cols, 1, 0.2);
        const beta = randomNormal(rand, cols, 0, 0.5);
        checkLayerNorm16(`layerNorm ${dtype} ${backend} ${offset} + N(0,${sd})`, dtype, backend, tb, x, dy, cols, gamma, beta);
      }
    }
  });

  it('far pivot: the first 16 values of a row at 1000, the other 2^18 − 16 N(0,1) (the shifted sums would cancel ~16,000×: two-pass)', () => {
    for (const dtype of HALF) {
      // the SIMD kernels only (js sums in f64 around the mean: no pivot)
      for (const { backend, missing } of backendsFor('layerNorm16').filter((b) => b.backend === 'wasm')) {
        if (missing) continue;
        const cols = 1 << 18;
        const rand = mulberry32(hashSeed(`ln far pivot ${dtype}`));
        const xs = Array.from(randomNormal(rand, 2 * cols), (t, i) => (i % cols < 16 ? 1000 + t : t));
        const x = encode(xs, dtype) as Uint16Array;
        const dy = encode(randomNormal(rand, 2 * cols), dtype) as Uint16Array;
        checkLayerNorm16(`layerNorm ${dtype} ${backend} far pivot`, dtype, backend, toleranceBackend(backend, 'layerNorm16'), x, dy, cols);
      }
    }
  });
});

describe('16-bit: no overflow where the true result is representable', () => {
  it('a binary16 row of 4096 values of magnitude 60000 (Σx² ≈ 1.5e13) normalises correctly, fwd and bwd', () => {
    const cols = 4096;
    const rand = mulberry32(11);
    const xv = Array.from({ length: cols }, () => (rand() < 0.5 ? -1 : 1) * (56000 + Math.floor(rand() * 100) * 32));
    const x = encode(xv, 'float16') as Uint16Array;
    assert.deepEqual(Array.from(values(x, 'float16')), xv, 'inputs exactly representable');
    const dy = encode(randomNormal(rand, cols), 'float16') as Uint16Array;
    for (const { backend, missing } of backendsFor('rmsNorm16')) {
      if (missing) continue;
      const f = rmsNorm(x, cols, { dtype: 'float16', backend });
      const ref = reference.rmsNormRef(xv, cols);
      const y = values(f.y, 'float16');
      assert.ok(y.every(Number.isFinite), `${backend}: finite y`);
      checkClose(`60000 row ${backend} y`, f.y, ref.y, 'float16', storageTolerance('js', 'rmsNorm', 'forward', 'float16'), cols);
      const b = rmsNormBackward(dy, x, f.rstd, cols, { dtype: 'float16', backend });
      const rb = reference.rmsNormBackwardRef(values(dy, 'float16'), xv, cols);
      assert.ok(values(b.dx, 'float16').every(Number.isFinite), `${backend}: finite dx`);
      const sc = dxScales(values(dy, 'float16'), (i) => xv[i] * ref.rstd[0], () => 1, cols, cols, ref.rstd);
      checkClose(`60000 row ${backend} dx`, b.dx, rb.dx, 'float16', storageTolerance('js', 'rmsNorm', 'backward', 'float16'), cols, sc);
    }
    for (const { backend, missing } of backendsFor('layerNorm16')) {
      if (missing) continue;
      const f = layerNorm(x, cols, { dtype: 'float16', backend });
      assert.ok(values(f.y, 'float16').every(Number.isFinite), `${backend}: finite layerNorm y`);
      const ref = reference.layerNormRef(xv, cols);
      checkClose(`60000 row layerNorm ${backend} y`, f.y, ref.y, 'float16', storageTolerance('js', 'layerNorm', 'forward', 'float16'), cols);
      // the whole check (y, mean, rstd, dx, dgamma, dbeta), two rows (one shifted by −60000: mean far from the pivot)
      const x2 = encode([...xv, ...xv.map((v) => (v > 0 ? v - 60000 : v))], 'float16') as Uint16Array;
      const dy2 = encode(randomNormal(rand, 2 * cols), 'float16') as Uint16Array;
      const gamma = randomNormal(rand, cols, 1, 0.2);
      checkLayerNorm16(`60000 rows layerNorm ${backend}`, 'float16', backend, toleranceBackend(backend, 'layerNorm16'), x2, dy2, cols, gamma, gamma);
    }
  });

  it('results beyond the 16-bit range become ±Inf, below it subnormals, NaN rows stay NaN rows', () => {
    const cols = 4;
    const x = encode([1, -2, 3, -4, NaN, 1, 1, 1], 'float16') as Uint16Array;
    const big = new Float32Array(cols).fill(1e6); // |y| ≥ 3.6e5 > 65520
    const tiny = new Float32Array(cols).fill(1e-6);
    for (const { backend, missing } of backendsFor('rmsNorm16')) {
      if (missing) continue;
      const yBig = values(rmsNorm(x, cols, { dtype: 'float16', backend, gamma: big }).y, 'float16');
      assert.deepEqual(Array.from(yBig.slice(0, 4)), [Infinity, -Infinity, Infinity, -Infinity], `${backend} overflow`);
      assert.ok(yBig.slice(4).every(Number.isNaN), `${backend}: NaN row`);
      const yTiny = rmsNorm(x, cols, { dtype: 'float16', backend, gamma: tiny }).y;
      const ref = reference.rmsNormRef(values(x, 'float16'), cols, { gamma: tiny });
      for (let j = 0; j < 4; j++) assert.equal(yTiny[j], reference.numberToHalf(ref.y[j], 'float16'), `${backend} subnormal y[${j}]`);
      assert.ok(yTiny[0] < 0x0400 && yTiny[0] > 0, 'really subnormal');
    }
  });
});

describe('16-bit: typed errors name the argument and the dtype', () => {
  const x16 = new Uint16Array(8);
  const x32 = new Float32Array(8);
  it('a Float32Array where float16 needs a Uint16Array, and the reverse', () => {
    assert.throws(() => rmsNorm(x32, 4, { dtype: 'float16' }), (e: Error) => e instanceof TypeError && /\bx\b.*Uint16Array.*float16.*Float32Array\(8\)/.test(e.message));
    assert.throws(() => rmsNorm(x16, 4), (e: Error) => e instanceof TypeError && /\bx\b.*Float32Array.*options\.dtype/.test(e.message));
    assert.throws(() => layerNorm(x16, 4, { dtype: 'bfloat16', out: { y: new Float32Array(8) } }), (e: Error) => e instanceof TypeError && /options\.out\.y.*bfloat16/.test(e.message));
    const f = rmsNorm(x16, 4, { dtype: 'float16' });
    assert.throws(() => rmsNormBackward(x32 as never, x16, f.rstd, 4, { dtype: 'float16' }), (e: Error) => e instanceof TypeError && /\bdy\b.*float16/.test(e.message));
    assert.throws(() => rmsNormBackward(x16, x16, new Uint16Array(2) as never, 4, { dtype: 'float16' }), (e: Error) => e instanceof TypeError && /\brstd\b.*Float32Array/.test(e.message));
    assert.throws(() => l2NormBackward(x16, x16, f.rstd, 4, { dtype: 'float16', out: { dx: x32 } }), (e: Error) => e instanceof TypeError && /options\.out\.dx/.test(e.message));
  });
  it('an unknown dtype is a RangeError; gamma stays a Float32Array', () => {
    assert.throws(() => rmsNorm(x32, 4, { dtype: 'float64' as never }), (e: Error) => e instanceof RangeError && /options\.dtype/.test(e.message));
    assert.throws(() => rmsNorm(x16, 4, { dtype: 'float16', gamma: new Uint16Array(4) as never }), (e: Error) => e instanceof TypeError && /options\.gamma/.test(e.message));
  });
  it("dtype 'float32' is the default and accepted explicitly; inputs are never modified", () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    assert.deepEqual(rmsNorm(x, 4, { dtype: 'float32' }).y, rmsNorm(x, 4).y);
    const before = x16.slice();
    rmsNorm(x16, 4, { dtype: 'float16', gamma: new Float32Array(4).fill(2) });
    assert.deepEqual(x16, before);
  });
});
