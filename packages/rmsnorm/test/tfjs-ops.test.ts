// tfjs ops (rmsNorm, l2Norm, layerNorm): forward and gradients vs the float64 reference and vs tfjs autodiff of the
// same norm composed from stock tf ops (written here, independently), on the cpu and wasm tfjs backends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { l2Norm, layerNorm, layerNormComposite, rmsNorm, rmsNormComposite } from '../src/tfjs/index.js';
import {
  l2NormBackwardRef, l2NormRef, layerNormBackwardRef, layerNormRef, partialK, rmsNormBackwardRef, rmsNormRef,
} from '../src/reference/index.js';
import { tolerance } from './tolerance.js';
import { assertClose, randn, TFJS_BACKENDS, useBackend } from './tfjs-util.js';

const FWD = tolerance('wasm', 'rmsNorm', 'forward');
const BWD = tolerance('wasm', 'rmsNorm', 'backward');

/** RMSNorm composed from stock tf ops (the independent implementation for autodiff comparisons). */
function composedRms(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null, k: number, eps: number, outside: boolean, offset = 0): tf.Tensor {
  const head = tf.slice(x, new Array(x.rank).fill(0), [...x.shape.slice(0, -1), k]);
  const ms = tf.mean(tf.mul(head, head), -1, true);
  const r = outside ? tf.div(1, tf.add(tf.sqrt(ms), eps)) : tf.div(1, tf.sqrt(tf.add(ms, eps)));
  let y = tf.mul(x, r);
  if (gamma !== null) y = tf.mul(y, tf.add(gamma, offset));
  if (beta !== null) y = tf.add(y, beta);
  return y;
}

function composedLn(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const d = tf.sub(x, mean);
  const v = tf.mean(tf.mul(d, d), -1, true);
  let y = tf.div(d, tf.sqrt(tf.add(v, eps)));
  if (gamma !== null) y = tf.mul(y, gamma);
  if (beta !== null) y = tf.add(y, beta);
  return y;
}

const RMS_CASES = [
  { name: 'plain', cols: 16, gamma: false, beta: false, p: 1, kRule: 'ceil' as const, eps: 1e-6, outside: false, offset: 0 },
  { name: 'gamma+beta', cols: 33, gamma: true, beta: true, p: 1, kRule: 'ceil' as const, eps: 1e-6, outside: false, offset: 0 },
  { name: 'pRMS ceil', cols: 50, gamma: true, beta: false, p: 0.0625, kRule: 'ceil' as const, eps: 1e-8, outside: false, offset: 0 },
  { name: 'pRMS floor', cols: 50, gamma: true, beta: true, p: 0.0625, kRule: 'floor' as const, eps: 1e-5, outside: false, offset: 0 },
  { name: 'eps outside', cols: 7, gamma: true, beta: false, p: 1, kRule: 'ceil' as const, eps: 1e-2, outside: true, offset: 0 },
  { name: 'gammaOffset', cols: 12, gamma: true, beta: true, p: 0.5, kRule: 'ceil' as const, eps: 1e-6, outside: false, offset: 1 },
];

for (const backend of TFJS_BACKENDS) {
  describe(`tfjs ops on ${backend}`, () => {
    it('selects the backend', async () => useBackend(backend));

    for (const c of RMS_CASES) {
      it(`rmsNorm ${c.name}: forward and gradients match the float64 reference and composed autodiff`, () => {
        const rows = 6;
        const xs = randn(rows * c.cols, 11 + c.cols);
        const x = tf.tensor3d(xs, [2, 3, c.cols]);
        const g = c.gamma ? tf.tensor1d(randn(c.cols, 5)) : null;
        const b = c.beta ? tf.tensor1d(randn(c.cols, 6)) : null;
        const dyData = randn(rows * c.cols, 9);
        const dy = tf.tensor3d(dyData, [2, 3, c.cols]);
        const k = c.p === 1 ? c.cols : partialK(c.p, c.cols, c.kRule);
        const opts = { eps: c.eps, epsPlacement: c.outside ? 'outside' as const : 'inside' as const, p: c.p, kRule: c.kRule,
          ...(c.offset !== 0 ? { gammaOffset: c.offset } : {}) };
        const refOpts = { gamma: g?.dataSync(), beta: b?.dataSync(), k, eps: c.eps, epsPlacement: opts.epsPlacement, gammaOffset: c.offset };
        const y = rmsNorm(x, g, { ...opts, beta: b });
        assert.deepEqual(y.shape, x.shape);
        assertClose('y vs reference', y.dataSync(), rmsNormRef(xs, c.cols, refOpts).y, FWD.atol, FWD.rtol);

        const params = [x, ...(g ? [g] : []), ...(b ? [b] : [])];
        const split = (args: tf.Tensor[]) => ({ xx: args[0], gg: g ? args[1] : null, bb: b ? args[g ? 2 : 1] : null });
        const ours = tf.grads((...args: tf.Tensor[]) => { const s = split(args); return rmsNorm(s.xx, s.gg, { ...opts, beta: s.bb }); })(params, dy);
        const theirs = tf.grads((...args: tf.Tensor[]) => { const s = split(args); return composedRms(s.xx, s.gg, s.bb, k, c.eps, c.outside, c.offset); })(params, dy);
        const ref = rmsNormBackwardRef(dyData, xs, c.cols, refOpts);
        assertClose('dx vs reference', ours[0].dataSync(), ref.dx, BWD.atol, BWD.rtol);
        assertClose('dx vs composed autodiff', ours[0].dataSync(), theirs[0].dataSync(), 2e-4, 2e-4);
        if (g) {
          assertClose('dgamma vs reference', ours[1].dataSync(), ref.dgamma!, BWD.atol * 10, BWD.rtol);
          assertClose('dgamma vs composed', ours[1].dataSync(), theirs[1].dataSync(), 2e-4, 2e-4);
        }
        if (b) assertClose('dbeta vs reference', ours[ours.length - 1].dataSync(), ref.dbeta!, BWD.atol * 10, BWD.rtol);
        tf.dispose([x, g, b, dy, y, ...ours, ...theirs].filter((t): t is tf.Tensor => t !== null));
      });
    }

    it('l2Norm: forward and gradients match the float64 reference', () => {
      const cols = 20;
      const xs = randn(4 * cols, 3);
      const gs = randn(cols, 4);
      const dys = randn(4 * cols, 8);
      const x = tf.tensor2d(xs, [4, cols]);
      const g = tf.tensor1d(gs);
      assertClose('y', l2Norm(x, g).dataSync(), l2NormRef(xs, cols, { gamma: gs }).y, FWD.atol, FWD.rtol);
      const [dx, dg] = tf.grads((a: tf.Tensor, c: tf.Tensor) => l2Norm(a, c))([x, g], tf.tensor2d(dys, [4, cols]));
      const ref = l2NormBackwardRef(dys, xs, cols, { gamma: gs });
      assertClose('dx', dx.dataSync(), ref.dx, BWD.atol, BWD.rtol);
      assertClose('dgamma', dg.dataSync(), ref.dgamma!, BWD.atol * 10, BWD.rtol);
    });

    it('layerNorm: forward and gradients match the reference and composed autodiff (incl. 1e4 offset)', () => {
      const cols = 40;
      const xs = randn(5 * cols, 21, 1, 1e4);
      const gs = randn(cols, 22);
      const bs = randn(cols, 23);
      const dys = randn(5 * cols, 24);
      const x = tf.tensor2d(xs, [5, cols]);
      const g = tf.tensor1d(gs);
      const b = tf.tensor1d(bs);
      const dy = tf.tensor2d(dys, [5, cols]);
      const y = layerNorm(x, g, b, { eps: 1e-5 });
      assertClose('y', y.dataSync(), layerNormRef(xs, cols, { gamma: gs, beta: bs, eps: 1e-5 }).y, 1e-3, 1e-3);
      const ours = tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => layerNorm(a, c, e, { eps: 1e-5 }))([x, g, b], dy);
      const ref = layerNormBackwardRef(dys, xs, cols, { gamma: gs, beta: bs, eps: 1e-5 });
      // x = 1e4 + N(0,1) in float32 carries ±5e-4 of rounding; tolerances scale with that, not with the kernel.
      assertClose('dx', ours[0].dataSync(), ref.dx, 2e-3, 1e-3);
      assertClose('dgamma', ours[1].dataSync(), ref.dgamma!, 2e-3, 1e-3);
      assertClose('dbeta', ours[2].dataSync(), ref.dbeta!, 1e-5, 1e-5);
      const xc = tf.tensor2d(randn(5 * cols, 25), [5, cols]);
      const a1 = tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => layerNorm(a, c, e, { eps: 1e-3 }))([xc, g, b], dy);
      const a2 = tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => composedLn(a, c, e, 1e-3))([xc, g, b], dy);
      for (let i = 0; i < 3; i++) assertClose(`grad ${i} vs composed`, a1[i].dataSync(), a2[i].dataSync(), 2e-4, 2e-4);
    });

    it('axis lists: trailing [-2,-1] and non-trailing [1] match the reference on rearranged data', () => {
      const xs = randn(2 * 3 * 4, 31);
      const x = tf.tensor3d(xs, [2, 3, 4]);
      const g = tf.tensor2d(randn(12, 32), [3, 4]);
      const y = rmsNorm(x, g, { axis: [-2, -1] });
      assertClose('trailing', y.dataSync(), rmsNormRef(xs, 12, { gamma: g.dataSync() }).y, FWD.atol, FWD.rtol);
      const yMid = rmsNorm(x, null, { axis: 1 });
      const xt = tf.transpose(x, [0, 2, 1]); // rows (b, j), cols i
      const refT = rmsNormRef(xt.dataSync(), 3).y;
      const yT = tf.transpose(yMid, [0, 2, 1]).dataSync();
      assertClose('non-trailing', yT, refT, FWD.atol, FWD.rtol);
      const [dx] = tf.grads((a: tf.Tensor) => rmsNorm(a, null, { axis: 1 }))([x], tf.onesLike(x));
      const [dxc] = tf.grads((a: tf.Tensor) => tf.transpose(composedRms(tf.transpose(a, [0, 2, 1]), null, null, 3, 1e-6, false), [0, 2, 1]))([x], tf.onesLike(x));
      assertClose('non-trailing dx', dx.dataSync(), dxc.dataSync(), 2e-4, 2e-4);
    });

    it('forward reads no tensor data back (zero copy: kernels work on the backend memory)', () => {
      const b = tf.backend() as unknown as { readSync: (...a: unknown[]) => unknown };
      const x = tf.randomNormal([8, 32]);
      const g = tf.ones([32]);
      const original = b.readSync;
      let reads = 0;
      b.readSync = function (this: unknown, ...a: unknown[]) { reads++; return original.apply(this, a); };
      try {
        tf.dispose([rmsNorm(x, g, { p: 0.5 }), layerNorm(x, g, g), l2Norm(x, g)]);
      } finally {
        b.readSync = original;
      }
      assert.equal(reads, 0, 'readSync calls (cpu: the backend\'s own arrays are used; wasm: views of its heap)');
    });

    it('the composed fallback (other tfjs backends) matches the reference', () => {
      const cols = 24;
      const xs = randn(3 * cols, 51);
      const gs = randn(cols, 52);
      const bs = randn(cols, 53);
      const x = tf.tensor2d(xs, [3, cols]);
      const [g, b] = [tf.tensor1d(gs), tf.tensor1d(bs)];
      const settings = { l2: false, eps: 1e-5, epsPlacement: 'outside' as const, p: 0.25, kRule: 'floor' as const, gammaOffset: 1 };
      assertClose('rms', rmsNormComposite(x, g, b, settings).dataSync(),
        rmsNormRef(xs, cols, { gamma: gs, beta: bs, gammaOffset: 1, eps: 1e-5, epsPlacement: 'outside', k: 6 }).y, FWD.atol, FWD.rtol);
      assertClose('l2', rmsNormComposite(x, g, null, { ...settings, l2: true, epsPlacement: 'inside', gammaOffset: 0 }).dataSync(),
        l2NormRef(xs, cols, { gamma: gs, eps: 1e-5 }).y, FWD.atol, FWD.rtol);
      assertClose('ln', layerNormComposite(x, g, b, 1e-5).dataSync(), layerNormRef(xs, cols, { gamma: gs, beta: bs, eps: 1e-5 }).y, 1e-5, 1e-5);
    });

    it('rows = 0 gives an empty result and zero parameter gradients', () => {
      const x = tf.zeros([0, 8]);
      const g = tf.ones([8]);
      assert.deepEqual(rmsNorm(x, g).shape, [0, 8]);
      const [, dg] = tf.grads((a: tf.Tensor, c: tf.Tensor) => rmsNorm(a, c))([x, g], tf.zeros([0, 8]));
      assert.deepEqual(Array.from(dg.dataSync()), new Array(8).fill(0));
    });

    it('rejects wrong ranks, shapes, dtypes and options with named errors', () => {
      const x = tf.ones([2, 4]);
      assert.throws(() => rmsNorm(tf.scalar(1)), { name: 'RangeError', message: /x must have rank >= 1/ });
      assert.throws(() => rmsNorm(x, tf.ones([3])), { name: 'RangeError', message: /gamma must have shape \[4\]/ });
      assert.throws(() => rmsNorm(x, null, { beta: tf.ones([2, 4]) }), { name: 'RangeError', message: /options\.beta/ });
      assert.throws(() => layerNorm(x, null, tf.ones([5])), { name: 'RangeError', message: /beta must have shape/ });
      assert.throws(() => rmsNorm(tf.ones([2, 4], 'int32')), { name: 'TypeError', message: /x must have dtype float32/ });
      assert.throws(() => rmsNorm([1, 2] as never), { name: 'TypeError', message: /x must be a tf\.Tensor/ });
      assert.throws(() => rmsNorm(x, null, { p: 0 }), { name: 'RangeError', message: /options\.p/ });
      assert.throws(() => rmsNorm(x, null, { eps: -1 }), { name: 'RangeError', message: /options\.eps/ });
      assert.throws(() => rmsNorm(x, null, { kRule: 'round' as never }), { name: 'RangeError', message: /options\.kRule/ });
      assert.throws(() => rmsNorm(x, null, { epsPlacement: 'middle' as never }), { name: 'RangeError', message: /epsPlacement/ });
      assert.throws(() => rmsNorm(x, null, { gammaOffset: 1 }), { name: 'RangeError', message: /gammaOffset/ });
      assert.throws(() => rmsNorm(x, null, { axis: 2 }), { name: 'RangeError', message: /options\.axis 2 is out of range/ });
      assert.throws(() => rmsNorm(x, null, { axis: [1, -1] }), { name: 'RangeError', message: /repeat/ });
      assert.throws(() => rmsNorm(x, null, { bogus: 1 } as never), { name: 'TypeError', message: /options\.bogus/ });
      assert.throws(() => l2Norm(x, null, { p: 0.5 } as never), { name: 'TypeError', message: /options\.p is not a known option/ });
      assert.throws(() => rmsNorm(tf.ones([2, 0])), { name: 'RangeError', message: /non-empty/ });
    });

    it('keeps the tensor count constant over repeated gradient steps (no leaks)', () => {
      const x = tf.variable(tf.tensor2d(randn(64, 41), [4, 16]));
      const g = tf.variable(tf.ones([16]));
      const b = tf.variable(tf.zeros([16]));
      const opt = tf.train.sgd(0.01);
      const step = () => opt.minimize(() => tf.add(tf.sum(tf.square(rmsNorm(x, g, { beta: b, p: 0.5 }))),
        tf.sum(layerNorm(x, g, b))) as tf.Scalar);
      step();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 200; i++) step();
      assert.equal(tf.memory().numTensors, before);
      // With a constant gamma the tape prunes the gamma thunk: still no leak.
      const gc = tf.ones([16]);
      const before2 = tf.memory().numTensors;
      for (let i = 0; i < 50; i++) tf.dispose(tf.grads((a: tf.Tensor) => rmsNorm(a, gc))([x]));
      assert.equal(tf.memory().numTensors, before2);
      // With a constant x the tape prunes the x thunk: dgamma/dbeta still come out right, without leaks.
      const xc = tf.tensor2d(randn(64, 42), [4, 16]);
      const dyc = tf.tensor2d(randn(64, 43), [4, 16]);
      const before3 = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) tf.dispose(tf.grads((c: tf.Tensor, e: tf.Tensor) => rmsNorm(xc, c, { beta: e }))([g, b], dyc));
      assert.equal(tf.memory().numTensors, before3);
      const [dg, db] = tf.grads((c: tf.Tensor, e: tf.Tensor) => rmsNorm(xc, c, { beta: e }))([g, b], dyc);
      const ref = rmsNormBackwardRef(dyc.dataSync(), xc.dataSync(), 16, { gamma: g.dataSync(), beta: b.dataSync() });
      assertClose('dgamma (x pruned)', dg.dataSync(), ref.dgamma!, BWD.atol * 10, BWD.rtol);
      assertClose('dbeta (x pruned)', db.dataSync(), ref.dbeta!, BWD.atol * 10, BWD.rtol);
    });
  });
}
