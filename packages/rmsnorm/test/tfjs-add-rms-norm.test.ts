// tfjs addRmsNorm: forward vs the float64 reference, gradients of both outputs vs tfjs autodiff of the composed ops
// (add, then RMSNorm written here from stock tf ops), and a small LLaMA-style pre-norm transformer block trained a
// few steps with the fused op, every step's gradients checked against the same block built from composed ops.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { addRmsNorm, rmsNorm } from '../src/tfjs/index.js';
import { addRmsNormRef, partialK } from '../src/reference/index.js';
import { tolerance } from './tolerance.js';
import { assertClose, randn, TFJS_BACKENDS, useBackend } from './tfjs-util.js';

const FWD = tolerance('wasm', 'rmsNorm', 'forward');

/** add then RMSNorm from stock tf ops: the independent implementation autodiff differentiates. */
function composed(x: tf.Tensor, r: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null, o: { eps?: number; k?: number; outside?: boolean; offset?: number } = {}) {
  const sum = tf.add(x, r);
  const cols = x.shape[x.rank - 1];
  const k = o.k ?? cols;
  const head = k === cols ? sum : tf.slice(sum, new Array(x.rank).fill(0), [...x.shape.slice(0, -1), k]);
  const ms = tf.mean(tf.mul(head, head), -1, true);
  const eps = o.eps ?? 1e-6;
  const rstd = o.outside ? tf.div(1, tf.add(tf.sqrt(ms), eps)) : tf.rsqrt(tf.add(ms, eps));
  let y = tf.mul(sum, rstd);
  if (gamma !== null) y = tf.mul(y, tf.add(gamma, o.offset ?? 0));
  if (beta !== null) y = tf.add(y, beta);
  return { y, sum };
}

const CASES = [
  { name: 'gamma+beta', shape: [2, 3, 16], gamma: true, beta: true },
  { name: 'plain', shape: [5, 7], gamma: false, beta: false },
  { name: 'pRMS p=0.25 outside, gammaOffset 1', shape: [4, 32], gamma: true, beta: false, p: 0.25, outside: true, offset: 1, eps: 1e-3 },
];

for (const backendName of TFJS_BACKENDS) {
  describe(`tfjs addRmsNorm on ${backendName}`, () => {
    it('forward: y and sum vs the float64 reference', async () => {
      await useBackend(backendName);
      for (const c of CASES) {
        const cols = c.shape[c.shape.length - 1];
        const n = c.shape.reduce((a, b) => a * b, 1);
        const xv = randn(n, 1);
        const rv = randn(n, 2, 3);
        const gv = randn(cols, 3, 0.2, 1);
        const bv = randn(cols, 4, 0.5);
        const k = c.p === undefined ? cols : partialK(c.p, cols, 'ceil');
        const out = addRmsNorm(tf.tensor(xv, c.shape), tf.tensor(rv, c.shape), c.gamma ? tf.tensor1d(gv) : null, {
          beta: c.beta ? tf.tensor1d(bv) : undefined, p: c.p, epsPlacement: c.outside ? 'outside' : undefined,
          gammaOffset: c.offset, eps: c.eps,
        });
        assert.deepEqual(out.y.shape, c.shape);
        const ref = addRmsNormRef(xv, rv, cols, {
          gamma: c.gamma ? gv : undefined, beta: c.beta ? bv : undefined, k, epsPlacement: c.outside ? 'outside' : 'inside',
          gammaOffset: c.offset, eps: c.eps,
        });
        assert.deepEqual(Array.from(out.sum.dataSync()), Array.from(ref.sum), `${c.name}: sum`);
        assertClose(`${c.name}: y`, out.y.dataSync(), ref.y, FWD.atol * 10, FWD.rtol * 10);
        tf.dispose([out.y, out.sum]);
      }
    });

    it('gradients of x, residual, gamma, beta through BOTH outputs equal tfjs autodiff of the composed ops', async () => {
      await useBackend(backendName);
      for (const c of CASES) {
        const cols = c.shape[c.shape.length - 1];
        const n = c.shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(randn(n, 11), c.shape);
        const r = tf.tensor(randn(n, 12, 2), c.shape);
        const g = tf.tensor1d(randn(cols, 13, 0.2, 1));
        const b = tf.tensor1d(randn(cols, 14, 0.5));
        const wy = tf.tensor(randn(n, 15), c.shape);
        const ws = tf.tensor(randn(n, 16), c.shape);
        const k = c.p === undefined ? cols : partialK(c.p, cols, 'ceil');
        // only the inputs the case uses (tf.grads refuses an unconnected one)
        const wrt = [x, r, ...(c.gamma ? [g] : []), ...(c.beta ? [b] : [])];
        const names = ['x', 'residual', ...(c.gamma ? ['gamma'] : []), ...(c.beta ? ['beta'] : [])];
        const unpack = (f: (xx: tf.Tensor, rr: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.Scalar) => (...t: tf.Tensor[]) =>
          f(t[0], t[1], c.gamma ? t[2] : g, c.beta ? t[c.gamma ? 3 : 2] : b);
        const ours = (xx: tf.Tensor, rr: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
          const o = addRmsNorm(xx, rr, c.gamma ? gg : null, {
            beta: c.beta ? bb : undefined, p: c.p, epsPlacement: c.outside ? 'outside' : undefined, gammaOffset: c.offset, eps: c.eps,
          });
          return tf.add(tf.sum(tf.mul(o.y, wy)), tf.sum(tf.mul(tf.square(o.sum), ws))) as tf.Scalar;
        };
        const theirs = (xx: tf.Tensor, rr: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
          const o = composed(xx, rr, c.gamma ? gg : null, c.beta ? bb : null, { k, outside: c.outside, offset: c.offset, eps: c.eps });
          return tf.add(tf.sum(tf.mul(o.y, wy)), tf.sum(tf.mul(tf.square(o.sum), ws))) as tf.Scalar;
        };
        const before = tf.memory().numTensors;
        const gOurs = tf.grads(unpack(ours))(wrt);
        const gTheirs = tf.grads(unpack(theirs))(wrt);
        for (const [i, what] of names.entries()) {
          assertClose(`${backendName} ${c.name}: d${what}`, gOurs[i].dataSync(), gTheirs[i].dataSync(), 1e-4, 1e-4);
        }
        tf.dispose([...gOurs, ...gTheirs]);
        assert.equal(tf.memory().numTensors, before, `${c.name}: no tensor leaked by the gradients`);
        tf.dispose([x, r, g, b, wy, ws]);
      }
    });

    it('a LLaMA-style pre-norm transformer block trains 5 steps with fused addRmsNorm, gradients = composed ops every step', async () => {
      await useBackend(backendName);
      const [B, T, D, H] = [2, 6, 16, 32];
      const init = (shape: number[], seed: number, scale: number) => randn(shape.reduce((a, b) => a * b, 1), seed, scale);
      const shapes: Record<string, number[]> = { wq: [D, D], wk: [D, D], wv: [D, D], wo: [D, D], w1: [D, H], w2: [H, D], g1: [D], g2: [D] };
      const make = () => Object.fromEntries(Object.entries(shapes).map(([name, s], i) => [
        name, tf.variable(name.startsWith('g') ? tf.add(tf.tensor(init(s, 100 + i, 0.1), s), 1) : tf.tensor(init(s, 100 + i, 1 / Math.sqrt(s[0])), s)),
      ])) as Record<string, tf.Variable>;
      const fusedVars = make();
      const plainVars = make();
      const x = tf.tensor(randn(B * T * D, 7), [B, T, D]);
      const target = tf.tensor(randn(B * T * D, 8), [B, T, D]);
      const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // causal
      const attention = (h: tf.Tensor, v: Record<string, tf.Variable>) => {
        const q = tf.matMul(h.reshape([B * T, D]), v.wq).reshape([B, T, D]);
        const k = tf.matMul(h.reshape([B * T, D]), v.wk).reshape([B, T, D]);
        const val = tf.matMul(h.reshape([B * T, D]), v.wv).reshape([B, T, D]);
        const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(D));
        const p = tf.softmax(tf.add(scores, tf.mul(tf.sub(1, mask), -1e9)));
        return tf.matMul(tf.matMul(p, val).reshape([B * T, D]), v.wo).reshape([B, T, D]);
      };
      const mlp = (h: tf.Tensor, v: Record<string, tf.Variable>) => {
        const a = tf.matMul(h.reshape([B * T, D]), v.w1);
        return tf.matMul(tf.mul(a, tf.sigmoid(a)), v.w2).reshape([B, T, D]); // SiLU
      };
      // h = x + attn(norm(x)); out = h + mlp(norm(h)) — the second norm fused with the residual add
      const fusedLoss = () => {
        const v = fusedVars;
        const a = attention(rmsNorm(x, v.g1), v);
        const { y: n2, sum: h } = addRmsNorm(a, x, v.g2);
        return tf.mean(tf.square(tf.sub(tf.add(h, mlp(n2, v)), target))) as tf.Scalar;
      };
      const plainLoss = () => {
        const v = plainVars;
        const rms = (t: tf.Tensor, g: tf.Tensor) => tf.mul(tf.mul(t, tf.rsqrt(tf.add(tf.mean(tf.square(t), -1, true), 1e-6))), g);
        const a = attention(rms(x, v.g1), v);
        const h = tf.add(x, a);
        return tf.mean(tf.square(tf.sub(tf.add(h, mlp(rms(h, v.g2), v)), target))) as tf.Scalar;
      };
      const opt = tf.train.sgd(0.1);
      const losses: number[] = [];
      for (let step = 0; step < 5; step++) {
        const f = tf.variableGrads(fusedLoss);
        const p = tf.variableGrads(plainLoss);
        assertClose(`step ${step} loss`, [f.value.dataSync()[0]], [p.value.dataSync()[0]], 1e-5, 1e-5);
        for (const name of Object.keys(shapes)) {
          assertClose(`${backendName} step ${step} d${name}`, f.grads[fusedVars[name].name].dataSync(), p.grads[plainVars[name].name].dataSync(), 2e-5, 2e-4);
        }
        losses.push(f.value.dataSync()[0]);
        // apply the same (fused) gradients to both copies so they stay in lock step
        opt.applyGradients(Object.fromEntries(Object.keys(shapes).map((n) => [fusedVars[n].name, f.grads[fusedVars[n].name]])));
        opt.applyGradients(Object.fromEntries(Object.keys(shapes).map((n) => [plainVars[n].name, f.grads[fusedVars[n].name]])));
        tf.dispose([f.value, p.value, ...Object.values(f.grads), ...Object.values(p.grads)]);
      }
      assert.ok(losses[4] < losses[0], `the block trains: loss ${losses[0]} → ${losses[4]}`);
      tf.dispose([x, target, mask, ...Object.values(fusedVars), ...Object.values(plainVars)]);
    });
  });
}
