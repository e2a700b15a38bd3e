// Every argument check of the public ops: the error class (TypeError = wrong type, RangeError = wrong size or value)
// and that the message names the offending argument. Also rows = 0 and an unavailable explicit backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  availableBackends,
  BackendUnavailableError,
  l2Norm,
  l2NormBackward,
  layerNorm,
  layerNormBackward,
  reference,
  rmsNorm,
  rmsNormBackward,
} from '../src/index.js';
import { _setSimdOverride } from '../src/backends/wasm/index.js';

const cols = 4;
const rows = 2;
const x = new Float32Array([1, 2, 3, 4, -1, 0.5, 2, -3]);
const dy = new Float32Array([0.1, -0.2, 0.3, 0.4, 1, -1, 0.5, 0.25]);
const gamma = new Float32Array([1, 1.5, 0.5, 2]);
const beta = new Float32Array([0, 0.1, -0.1, 0.2]);
const { rstd } = rmsNorm(x, cols);
const ln = layerNorm(x, cols);

type Case = [string, () => unknown, typeof TypeError | typeof RangeError, RegExp];

function expectThrow([what, fn, type, names]: Case): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, `${what}: expected ${type.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    assert.match((err as Error).message, names, `${what}: message must name the argument`);
    return true;
  }, what);
}

const notF32: Array<[string, unknown]> = [
  ['Float64Array', new Float64Array(8)],
  ['Array', [1, 2, 3, 4, 5, 6, 7, 8]],
  ['null', null],
  ['string', '1,2'],
];

/** The RMS-family and LN ops as uniform callables: (x, dy, rstd, mean, options) → result. */
const ops = {
  rmsNorm: (xs: unknown, o?: unknown) => rmsNorm(xs as Float32Array, cols, o as never),
  rmsNormBackward: (d: unknown, xs: unknown, r: unknown, o?: unknown) => rmsNormBackward(d as Float32Array, xs as Float32Array, r as Float32Array, cols, o as never),
  l2Norm: (xs: unknown, o?: unknown) => l2Norm(xs as Float32Array, cols, o as never),
  l2NormBackward: (d: unknown, xs: unknown, r: unknown, o?: unknown) => l2NormBackward(d as Float32Array, xs as Float32Array, r as Float32Array, cols, o as never),
  layerNorm: (xs: unknown, o?: unknown) => layerNorm(xs as Float32Array, cols, o as never),
  layerNormBackward: (d: unknown, xs: unknown, m: unknown, r: unknown, o?: unknown) =>
    layerNormBackward(d as Float32Array, xs as Float32Array, m as Float32Array, r as Float32Array, cols, o as never),
};

describe('validation: wrong types are TypeErrors naming the argument', () => {
  it('data arrays that are not Float32Array (x, dy, rstd, mean, gamma, beta)', () => {
    for (const [tag, bad] of notF32) {
      expectThrow([`rmsNorm x=${tag}`, () => ops.rmsNorm(bad), TypeError, /\bx\b/]);
      expectThrow([`l2Norm x=${tag}`, () => ops.l2Norm(bad), TypeError, /\bx\b/]);
      expectThrow([`layerNorm x=${tag}`, () => ops.layerNorm(bad), TypeError, /\bx\b/]);
      expectThrow([`rmsNormBackward dy=${tag}`, () => ops.rmsNormBackward(bad, x, rstd), TypeError, /\bdy\b/]);
      expectThrow([`rmsNormBackward x=${tag}`, () => ops.rmsNormBackward(dy, bad, rstd), TypeError, /\bx\b/]);
      expectThrow([`rmsNormBackward rstd=${tag}`, () => ops.rmsNormBackward(dy, x, bad), TypeError, /\brstd\b/]);
      expectThrow([`l2NormBackward rstd=${tag}`, () => ops.l2NormBackward(dy, x, bad), TypeError, /\brstd\b/]);
      expectThrow([`layerNormBackward dy=${tag}`, () => ops.layerNormBackward(bad, x, ln.mean, ln.rstd), TypeError, /\bdy\b/]);
      expectThrow([`layerNormBackward mean=${tag}`, () => ops.layerNormBackward(dy, x, bad, ln.rstd), TypeError, /\bmean\b/]);
      expectThrow([`layerNormBackward rstd=${tag}`, () => ops.layerNormBackward(dy, x, ln.mean, bad), TypeError, /\brstd\b/]);
      if (bad !== null) {
        // gamma: null is not "absent"; still a TypeError below
        expectThrow([`rmsNorm gamma=${tag}`, () => ops.rmsNorm(x, { gamma: bad }), TypeError, /options\.gamma/]);
        expectThrow([`layerNorm beta=${tag}`, () => ops.layerNorm(x, { beta: bad }), TypeError, /options\.beta/]);
        expectThrow([`l2NormBackward gamma=${tag}`, () => ops.l2NormBackward(dy, x, rstd, { gamma: bad }), TypeError, /options\.gamma/]);
      }
    }
    expectThrow(['rmsNorm gamma=null', () => ops.rmsNorm(x, { gamma: null }), TypeError, /options\.gamma/]);
  });

  it('out buffers that are not Float32Array (out.y, out.rstd, out.mean, out.dx, out.dgamma, out.dbeta)', () => {
    for (const [tag, bad] of notF32) {
      expectThrow([`out.y=${tag}`, () => ops.rmsNorm(x, { out: { y: bad } }), TypeError, /options\.out\.y/]);
      expectThrow([`out.rstd=${tag}`, () => ops.l2Norm(x, { out: { rstd: bad } }), TypeError, /options\.out\.rstd/]);
      expectThrow([`out.mean=${tag}`, () => ops.layerNorm(x, { out: { mean: bad } }), TypeError, /options\.out\.mean/]);
      expectThrow([`out.dx=${tag}`, () => ops.rmsNormBackward(dy, x, rstd, { out: { dx: bad } }), TypeError, /options\.out\.dx/]);
      expectThrow([`out.dgamma=${tag}`, () => ops.layerNormBackward(dy, x, ln.mean, ln.rstd, { gamma, out: { dgamma: bad } }), TypeError, /options\.out\.dgamma/]);
      expectThrow([`out.dbeta=${tag}`, () => ops.rmsNormBackward(dy, x, rstd, { beta, out: { dbeta: bad } }), TypeError, /options\.out\.dbeta/]);
    }
  });

  it('cols that is not a number, options/out that are not objects, numeric options of the wrong type', () => {
    expectThrow(["cols='3'", () => rmsNorm(x, '3' as never), TypeError, /\bcols\b/]);
    expectThrow(['cols=null', () => layerNorm(x, null as never), TypeError, /\bcols\b/]);
    expectThrow(['options=5', () => ops.rmsNorm(x, 5), TypeError, /\boptions\b/]);
    expectThrow(['options=[]', () => ops.layerNorm(x, []), TypeError, /\boptions\b/]);
    expectThrow(['out=5', () => ops.rmsNorm(x, { out: 5 }), TypeError, /options\.out/]);
    expectThrow(["eps='1e-6'", () => ops.rmsNorm(x, { eps: '1e-6' }), TypeError, /options\.eps/]);
    expectThrow(["p='0.5'", () => ops.rmsNorm(x, { p: '0.5' }), TypeError, /options\.p/]);
    expectThrow(["gammaOffset='1'", () => ops.rmsNorm(x, { gamma, gammaOffset: '1' }), TypeError, /options\.gammaOffset/]);
  });

  it('unknown option keys and unknown out keys', () => {
    expectThrow(['rmsNorm options.foo', () => ops.rmsNorm(x, { foo: 1 }), TypeError, /options\.foo/]);
    expectThrow(['rmsNorm options.epsilon', () => ops.rmsNorm(x, { epsilon: 1e-6 }), TypeError, /options\.epsilon/]);
    expectThrow(['layerNorm options.p', () => ops.layerNorm(x, { p: 0.5 }), TypeError, /options\.p\b/]);
    expectThrow(['layerNorm options.gammaOffset', () => ops.layerNorm(x, { gamma, gammaOffset: 1 }), TypeError, /options\.gammaOffset/]);
    expectThrow(['l2Norm options.kRule', () => ops.l2Norm(x, { kRule: 'ceil' }), TypeError, /options\.kRule/]);
    expectThrow(['rmsNorm out.dx on forward', () => ops.rmsNorm(x, { out: { dx: new Float32Array(8) } }), TypeError, /options\.out\.dx/]);
    expectThrow(['rmsNormBackward out.nope', () => ops.rmsNormBackward(dy, x, rstd, { out: { nope: new Float32Array(8) } }), TypeError, /options\.out\.nope.*dx, dgamma, dbeta/]);
    expectThrow(['layerNormBackward out.yy', () => ops.layerNormBackward(dy, x, ln.mean, ln.rstd, { out: { yy: new Float32Array(8) } }), TypeError, /options\.out\.yy/]);
  });

  it("a backward call takes the forward's options object as is: the forward outputs in out are ignored", () => {
    const y = new Float32Array(8);
    const r = new Float32Array(rows);
    const o = { gamma, eps: 1e-5, out: { y, rstd: r } };
    rmsNorm(x, cols, o);
    const yBefore = Float32Array.from(y);
    const g = rmsNormBackward(dy, x, r, cols, o);
    assert.deepEqual(y, yBefore, 'the backward leaves out.y alone');
    const want = reference.rmsNormBackwardRef(dy, x, cols, { gamma, eps: 1e-5 });
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(g.dx[i] - want.dx[i]) < 1e-5, `dx[${i}]`);
    for (let j = 0; j < cols; j++) assert.ok(Math.abs(g.dgamma[j] - want.dgamma![j]) < 1e-5, `dgamma[${j}]`);
    const mean = new Float32Array(rows);
    const lo = { gamma, beta, out: { y, mean, rstd: r } };
    layerNorm(x, cols, lo);
    const lg = layerNormBackward(dy, x, mean, r, cols, lo);
    const lwant = reference.layerNormBackwardRef(dy, x, cols, { gamma, beta });
    for (let j = 0; j < cols; j++) {
      assert.ok(Math.abs(lg.dgamma[j] - lwant.dgamma![j]) < 1e-5 && Math.abs(lg.dbeta[j] - lwant.dbeta![j]) < 1e-5, `ln param grads [${j}]`);
    }
    assert.equal(l2NormBackward(dy, x, l2Norm(x, cols).rstd, cols, { out: { y } }).dgamma, null);
  });
});

describe('validation: wrong sizes and values are RangeErrors naming the argument', () => {
  it('cols not a positive integer: 0, -1, 1.5, NaN, Infinity', () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) {
      expectThrow([`rmsNorm cols=${bad}`, () => rmsNorm(x, bad), RangeError, /\bcols\b/]);
      expectThrow([`layerNormBackward cols=${bad}`, () => layerNormBackward(dy, x, ln.mean, ln.rstd, bad), RangeError, /\bcols\b/]);
      expectThrow([`l2NormBackward cols=${bad}`, () => l2NormBackward(dy, x, rstd, bad), RangeError, /\bcols\b/]);
    }
  });

  it('x.length not a multiple of cols', () => {
    expectThrow(['rmsNorm 8 % 3', () => rmsNorm(x, 3), RangeError, /x\.length/]);
    expectThrow(['layerNorm 8 % 5', () => layerNorm(x, 5), RangeError, /x\.length/]);
    expectThrow(['l2NormBackward 7 % 4', () => l2NormBackward(dy.subarray(0, 7), x.subarray(0, 7), rstd, 4), RangeError, /x\.length/]);
  });

  it('gamma / beta of the wrong length', () => {
    expectThrow(['gamma 3', () => ops.rmsNorm(x, { gamma: new Float32Array(3) }), RangeError, /options\.gamma/]);
    expectThrow(['beta 5', () => ops.layerNorm(x, { beta: new Float32Array(5) }), RangeError, /options\.beta/]);
    expectThrow(['gamma 8 (rows·cols)', () => ops.l2NormBackward(dy, x, rstd, { gamma: new Float32Array(8) }), RangeError, /options\.gamma/]);
  });

  it('dy / rstd / mean lengths that disagree with x', () => {
    expectThrow(['dy 4', () => ops.rmsNormBackward(dy.subarray(0, 4), x, rstd), RangeError, /\bdy\b/]);
    expectThrow(['rstd 3', () => ops.rmsNormBackward(dy, x, new Float32Array(3)), RangeError, /\brstd\b/]);
    expectThrow(['rstd 1', () => ops.l2NormBackward(dy, x, new Float32Array(1)), RangeError, /\brstd\b/]);
    expectThrow(['LN dy 12', () => ops.layerNormBackward(new Float32Array(12), x, ln.mean, ln.rstd), RangeError, /\bdy\b/]);
    expectThrow(['LN mean 1', () => ops.layerNormBackward(dy, x, new Float32Array(1), ln.rstd), RangeError, /\bmean\b/]);
    expectThrow(['LN rstd 4', () => ops.layerNormBackward(dy, x, ln.mean, new Float32Array(4)), RangeError, /\brstd\b/]);
  });

  it('eps negative, NaN or infinite', () => {
    for (const eps of [-1e-6, NaN, Infinity, -Infinity]) {
      expectThrow([`rmsNorm eps=${eps}`, () => ops.rmsNorm(x, { eps }), RangeError, /options\.eps/]);
      expectThrow([`layerNorm eps=${eps}`, () => ops.layerNorm(x, { eps }), RangeError, /options\.eps/]);
      expectThrow([`l2NormBackward eps=${eps}`, () => ops.l2NormBackward(dy, x, rstd, { eps }), RangeError, /options\.eps/]);
    }
  });

  it('p outside (0, 1]: 0, -0.1, 1.5, NaN', () => {
    for (const p of [0, -0.1, 1.5, NaN, Infinity]) {
      expectThrow([`rmsNorm p=${p}`, () => ops.rmsNorm(x, { p }), RangeError, /options\.p\b/]);
      expectThrow([`rmsNormBackward p=${p}`, () => ops.rmsNormBackward(dy, x, rstd, { p }), RangeError, /options\.p\b/]);
    }
  });

  it("unknown kRule / epsPlacement / backend names", () => {
    expectThrow(['kRule round', () => ops.rmsNorm(x, { p: 0.5, kRule: 'round' }), RangeError, /options\.kRule/]);
    expectThrow(['epsPlacement middle', () => ops.rmsNorm(x, { epsPlacement: 'middle' }), RangeError, /options\.epsPlacement/]);
    expectThrow(['l2 epsPlacement', () => ops.l2Norm(x, { epsPlacement: 'Inside' }), RangeError, /options\.epsPlacement/]);
    expectThrow(['backend webgpu', () => ops.rmsNorm(x, { backend: 'webgpu' }), RangeError, /options\.backend/]);
    expectThrow(['LN backend gpu', () => ops.layerNormBackward(dy, x, ln.mean, ln.rstd, { backend: 'gpu' }), RangeError, /options\.backend/]);
  });

  it('gammaOffset without gamma; gammaOffset not finite', () => {
    expectThrow(['gammaOffset=1 no gamma', () => ops.rmsNorm(x, { gammaOffset: 1 }), RangeError, /options\.gammaOffset/]);
    expectThrow(['gammaOffset=1 no gamma (backward)', () => ops.l2NormBackward(dy, x, rstd, { gammaOffset: 1 }), RangeError, /options\.gammaOffset/]);
    expectThrow(['gammaOffset=NaN', () => ops.rmsNorm(x, { gamma, gammaOffset: NaN }), RangeError, /options\.gammaOffset/]);
    // gammaOffset 0 without gamma is the default, not an error
    assert.doesNotThrow(() => ops.rmsNorm(x, { gammaOffset: 0 }));
  });

  it('out buffers of the wrong size', () => {
    expectThrow(['out.y 7', () => ops.rmsNorm(x, { out: { y: new Float32Array(7) } }), RangeError, /options\.out\.y/]);
    expectThrow(['out.rstd 8', () => ops.rmsNorm(x, { out: { rstd: new Float32Array(8) } }), RangeError, /options\.out\.rstd/]);
    expectThrow(['out.mean 1', () => ops.layerNorm(x, { out: { mean: new Float32Array(1) } }), RangeError, /options\.out\.mean/]);
    expectThrow(['out.dx 9', () => ops.l2NormBackward(dy, x, rstd, { out: { dx: new Float32Array(9) } }), RangeError, /options\.out\.dx/]);
    expectThrow(['out.dgamma 8', () => ops.rmsNormBackward(dy, x, rstd, { gamma, out: { dgamma: new Float32Array(8) } }), RangeError, /options\.out\.dgamma/]);
    expectThrow(['out.dbeta 3', () => ops.layerNormBackward(dy, x, ln.mean, ln.rstd, { beta, out: { dbeta: new Float32Array(3) } }), RangeError, /options\.out\.dbeta/]);
  });
});

describe('validation: aliasing (only y = x forward and dx = dy backward may share memory)', () => {
  it('exact aliases other than the in-place pair are rejected', () => {
    const xs = x.slice();
    const g = gamma.slice();
    expectThrow(['out.y = gamma', () => rmsNorm(new Float32Array(4), 4, { gamma: g, out: { y: g } }), RangeError, /options\.out\.y.*options\.gamma/]);
    const b = new Float32Array(4);
    expectThrow(['out.rstd = beta', () => rmsNorm(new Float32Array(16), 4, { beta: b, out: { rstd: b } }), RangeError, /options\.out\.rstd.*options\.beta/]);
    expectThrow(['out.dx = x', () => ops.rmsNormBackward(dy, xs, rstd, { out: { dx: xs } }), RangeError, /options\.out\.dx.*\bx\b/]);
    expectThrow(['out.dgamma = gamma', () => ops.rmsNormBackward(dy, xs, rstd, { gamma: g, out: { dgamma: g } }), RangeError, /options\.out\.dgamma.*options\.gamma/]);
    const r = rstd.slice();
    expectThrow(['LN out.mean = out.rstd', () => ops.layerNorm(xs, { out: { mean: r, rstd: r } }), RangeError, /options\.out\.mean.*options\.out\.rstd/]);
    const d = new Float32Array(4);
    expectThrow(['out.dgamma = out.dbeta', () => ops.layerNormBackward(dy, xs, ln.mean, ln.rstd, { gamma, beta, out: { dgamma: d, dbeta: d } }), RangeError, /options\.out\.dgamma.*options\.out\.dbeta/]);
  });

  it('partial overlaps through subarray views are rejected, even of the in-place partner', () => {
    const buf = new Float32Array(20);
    const xs = buf.subarray(0, 8);
    xs.set(x);
    expectThrow(['out.y overlaps x (shifted by 1)', () => ops.rmsNorm(xs, { out: { y: buf.subarray(1, 9) } }), RangeError, /options\.out\.y.*\bx\b/]);
    expectThrow(['out.rstd inside x', () => ops.l2Norm(xs, { out: { rstd: buf.subarray(6, 8) } }), RangeError, /options\.out\.rstd.*\bx\b/]);
    const dbuf = new Float32Array(16);
    const dys = dbuf.subarray(0, 8);
    dys.set(dy);
    expectThrow(['out.dx overlaps dy (shifted by 4)', () => ops.rmsNormBackward(dys, x, rstd, { out: { dx: dbuf.subarray(4, 12) } }), RangeError, /options\.out\.dx.*\bdy\b/]);
    expectThrow(['out.dx overlaps x', () => ops.layerNormBackward(dy, xs, ln.mean, ln.rstd, { out: { dx: buf.subarray(4, 12) } }), RangeError, /options\.out\.dx.*\bx\b/]);
    const gbuf = new Float32Array(8);
    const g = gbuf.subarray(0, 4);
    g.set(gamma);
    expectThrow(['out.dgamma overlaps gamma', () => ops.rmsNormBackward(dy, x, rstd, { gamma: g, out: { dgamma: gbuf.subarray(2, 6) } }), RangeError, /options\.out\.dgamma.*options\.gamma/]);
    // the same memory through a different view object is still an exact alias: allowed only for y = x
    expectThrow(['out.y = other view of gamma', () => rmsNorm(new Float32Array(8), 4, { gamma: g, out: { y: gbuf.subarray(0, 8) } }), RangeError, /options\.out\.y.*options\.gamma/]);
  });

  it('the in-place pairs are accepted', () => {
    const xs = x.slice();
    assert.equal(ops.rmsNorm(xs, { out: { y: xs } }).y, xs);
    const d = dy.slice();
    assert.equal(ops.layerNormBackward(d, x, ln.mean, ln.rstd, { out: { dx: d } }).dx, d);
  });
});

describe('validation: rows = 0 and backend availability', () => {
  it('rows = 0 returns empty results and zero dgamma/dbeta (also into caller buffers)', () => {
    const empty = new Float32Array(0);
    for (const f of [rmsNorm, l2Norm, layerNorm] as const) {
      const r = f(empty, cols);
      assert.equal(r.y.length, 0);
      assert.equal(r.rstd.length, 0);
    }
    assert.equal(layerNorm(empty, cols).mean.length, 0);
    const dgamma = new Float32Array(cols).fill(NaN);
    const dbeta = new Float32Array(cols).fill(NaN);
    const b = rmsNormBackward(empty, empty, empty, cols, { gamma, beta, out: { dgamma, dbeta } });
    assert.equal(b.dx.length, 0);
    assert.deepEqual(b.dgamma, new Float32Array(cols));
    assert.deepEqual(b.dbeta, new Float32Array(cols));
    const l = layerNormBackward(empty, empty, empty, empty, cols, { gamma, beta });
    assert.deepEqual(l.dgamma, new Float32Array(cols));
    assert.deepEqual(l.dbeta, new Float32Array(cols));
    const l2 = l2NormBackward(empty, empty, empty, cols, { gamma });
    assert.deepEqual(l2.dgamma, new Float32Array(cols));
    assert.equal(l2.dbeta, null);
  });

  it('an explicitly requested backend that is not available throws BackendUnavailableError', () => {
    // Where wasm runs here, make it unavailable (as on an engine without SIMD) for the duration of the check.
    const hide = availableBackends().includes('wasm');
    if (hide) _setSimdOverride(false);
    try {
      assert.ok(!availableBackends().includes('wasm'));
      for (const call of [() => rmsNorm(x, cols, { backend: 'wasm' }), () => layerNormBackward(dy, x, ln.mean, ln.rstd, cols, { backend: 'wasm' })]) {
        assert.throws(call, (err: unknown) => err instanceof BackendUnavailableError && /wasm/.test((err as Error).message));
      }
      // 'auto' falls back to js and never throws
      assert.doesNotThrow(() => rmsNorm(x, cols, { backend: 'auto' }));
      assert.equal(rows, x.length / cols);
    } finally {
      if (hide) _setSimdOverride(undefined);
    }
  });
});

// Issue #12: no silent success on detached, freed, foreign or mutating arguments; one regression test per finding.
describe('validation: hardening (issue #12)', () => {
  const backends = availableBackends() as Array<'js' | 'wasm'>;

  it('a detached x (transferred buffer) is a TypeError naming x — also when out buffers are passed', () => {
    for (const backend of backends) {
      const xs = new Float32Array(8).fill(1);
      structuredClone(xs.buffer, { transfer: [xs.buffer] });
      assert.equal(xs.length, 0);
      expectThrow([`${backend} rmsNorm detached x`, () => rmsNorm(xs, 4, { backend }), TypeError, /\bx\b.*detached/]);
      const out = { y: new Float32Array(8), rstd: new Float32Array(2) };
      expectThrow([`${backend} rmsNorm detached x + out`, () => rmsNorm(xs, 4, { backend, out }), TypeError, /^x is detached/]);
      expectThrow([`${backend} layerNorm detached x`, () => layerNorm(xs, 4, { backend }), TypeError, /^x is detached/]);
      const y = new Float32Array(8);
      structuredClone(y.buffer, { transfer: [y.buffer] });
      expectThrow([`${backend} detached out.y`, () => rmsNorm(x, cols, { backend, out: { y } }), TypeError, /^options\.out\.y is detached/]);
      expectThrow([`${backend} detached dy`, () => rmsNormBackward(y, x, rstd, cols, { backend }), TypeError, /^dy is detached/]);
    }
  });

  it('an empty (not detached) x is still rows = 0', () => {
    for (const backend of backends) assert.equal(rmsNorm(new Float32Array(0), 4, { backend }).rstd.length, 0);
  });

  it('out.dgamma / out.dbeta without gamma / beta are RangeErrors naming them (even "junk" or null)', () => {
    for (const bad of [new Float32Array(cols), 'junk', null, 0]) {
      expectThrow([`rmsNormBackward out.dgamma=${String(bad)}`, () => ops.rmsNormBackward(dy, x, rstd, { out: { dgamma: bad } }), RangeError, /options\.out\.dgamma.*options\.gamma/]);
      expectThrow([`l2NormBackward out.dbeta=${String(bad)}`, () => ops.l2NormBackward(dy, x, rstd, { gamma, out: { dbeta: bad } }), RangeError, /options\.out\.dbeta.*options\.beta/]);
      expectThrow([`layerNormBackward out.dgamma=${String(bad)}`, () => ops.layerNormBackward(dy, x, ln.mean, ln.rstd, { beta, out: { dgamma: bad } }), RangeError, /options\.out\.dgamma/]);
    }
  });

  it('a Float32Array from another realm (vm context) is accepted and gives the same result', async () => {
    const vm = await import('node:vm');
    const foreign = vm.runInNewContext('new Float32Array([1, 2, 3, 4, -1, 0.5, 2, -3])') as Float32Array;
    assert.ok(!(foreign instanceof Float32Array), 'really another realm');
    const foreignGamma = vm.runInNewContext('new Float32Array([1, 1.5, 0.5, 2])') as Float32Array;
    for (const backend of backends) {
      const mine: Float32Array = rmsNorm(x, cols, { gamma, backend }).y;
      const theirs: Float32Array = rmsNorm(foreign, cols, { gamma: foreignGamma, backend }).y;
      assert.deepEqual(theirs, mine, backend);
    }
    // look-alikes are still refused (a plain object with Float32Array's prototype has no typed-array internals)
    expectThrow(['x = Object.create(Float32Array.prototype)', () => rmsNorm(Object.create(Float32Array.prototype), cols), TypeError, /\bx\b/]);
    expectThrow(['x = foreign Float64Array', () => rmsNorm(vm.runInNewContext('new Float64Array(8)'), cols), TypeError, /\bx\b.*Float64Array/]);
  });

  it('options or options.out given as a Map (or Set, Date) are TypeErrors naming them', () => {
    const map = new Map<string, unknown>([['eps', 0.5]]);
    expectThrow(['options = Map', () => ops.rmsNorm(x, map), TypeError, /^options must be a plain object/]);
    expectThrow(['options = Set', () => ops.layerNorm(x, new Set()), TypeError, /^options must be a plain object/]);
    expectThrow(['options = Date', () => ops.l2Norm(x, new Date()), TypeError, /^options must be a plain object/]);
    expectThrow(['out = Map', () => ops.rmsNorm(x, { out: new Map([['y', new Float32Array(8)]]) }), TypeError, /^options\.out must be a plain object/]);
    // plain records of any kind still work
    assert.equal(ops.rmsNorm(x, Object.create(null)).y.length, 8);
    class Opts { eps = 1e-5; }
    assert.equal(ops.rmsNorm(x, new Opts()).y.length, 8);
  });

  it('option getters run once, before x is checked: a getter that shrinks x\'s buffer cannot make a kernel read stale data', () => {
    for (const backend of backends) {
      for (const where of ['eps', 'out.y'] as const) {
        // resizable ArrayBuffer (ES2024; Node 20 has it, this project's lib typings do not)
        const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
        const buffer = new Resizable(32, { maxByteLength: 32 });
        const xs = new Float32Array(buffer); // length-tracking: shrinks with the buffer
        xs.set([1, 2, 3, 4, 5, 6, 7, 8]);
        let reads = 0;
        const shrink = () => {
          reads++;
          buffer.resize(16);
        };
        const options = where === 'eps'
          ? { backend, get eps() { shrink(); return 1e-6; } }
          : { backend, out: { get y() { shrink(); return undefined; } } };
        const { y, rstd: r } = rmsNorm(xs, 4, options as never);
        assert.equal(reads, 1, `${backend} ${where}: the getter ran once`);
        assert.equal(r.length, 1, `${backend} ${where}: one row left after the shrink`);
        const ref = reference.rmsNormRef([1, 2, 3, 4], 4);
        for (let j = 0; j < 4; j++) assert.ok(Math.abs(y[j] - ref.y[j]) < 1e-5, `${backend} ${where}: y[${j}] = ${y[j]}`);
      }
    }
  });
});
