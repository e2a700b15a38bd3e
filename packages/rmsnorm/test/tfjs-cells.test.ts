// Normalised GRU/LSTM cells: one step vs a float64 hand-written reference, training in tf.layers.rnn with falling
// loss for every norm, serialization round trip, and no tensor leaks over 200 steps (cpu and wasm).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  BlockOrthogonal, cellNormSettings, createCellWeights, gruStep, lstmStep, normalizedGruCell, normalizedLstmCell, type CellNorm,
  type GruWeights,
} from '../src/tfjs/index.js';
import { assertClose, randn, TFJS_BACKENDS, useBackend } from './tfjs-util.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** float64 matrix-vector pieces of one step, written from layers.py without tfjs. */
function matvec(x: ArrayLike<number>, w: ArrayLike<number>, rows: number, cols: number, b?: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let j = 0; j < cols; j++) {
    let s = b === undefined ? 0 : b[j];
    for (let i = 0; i < rows; i++) s += x[i] * w[i * cols + j];
    out.push(s);
  }
  return out;
}

function rmsRef(v: number[], g: ArrayLike<number>, eps: number, k = v.length): number[] {
  let ms = 0;
  for (let i = 0; i < k; i++) ms += v[i] * v[i];
  const r = 1 / Math.sqrt(ms / k + eps);
  return v.map((x, j) => x * r * g[j]);
}

function lnRef(v: number[], g: ArrayLike<number>, b: ArrayLike<number>, eps: number): number[] {
  const mean = v.reduce((p, q) => p + q, 0) / v.length;
  const variance = v.reduce((p, q) => p + (q - mean) ** 2, 0) / v.length;
  return v.map((x, j) => ((x - mean) / Math.sqrt(variance + eps)) * g[j] + b[j]);
}

function randomizeWeights(w: GruWeights, seed: number): void {
  const all = [w.kernel, w.recurrentKernel, w.bias, ...(w.gammas ?? []), ...(w.betas ?? [])] as tf.Variable[];
  all.forEach((v, i) => v.assign(tf.tensor(randn(v.size, seed + i, 0.5, i >= 3 ? 1 : 0), v.shape)));
}

for (const backend of TFJS_BACKENDS) {
  describe(`normalised cells on ${backend}`, () => {
    it('selects the backend', async () => useBackend(backend));

    it('GRU rms step matches a float64 hand-written step (layers.py rlngru)', () => {
      const [B, I, U, eps] = [3, 5, 4, 1e-5];
      const s = cellNormSettings({ norm: 'rms', epsilon: eps });
      const w = createCellWeights('gru', I, U, s, 1);
      randomizeWeights(w, 100);
      const xs = randn(B * I, 7);
      const hs = randn(B * U, 8, 0.5);
      const got = gruStep(w, s, tf.tensor2d(xs, [B, I]), tf.tensor2d(hs, [B, U])).dataSync();
      const [K, R, b] = [w.kernel.dataSync(), w.recurrentKernel.dataSync(), w.bias.dataSync()];
      const G = w.gammas!.map((g) => g.dataSync());
      const expected: number[] = [];
      for (let r = 0; r < B; r++) {
        const x = xs.subarray(r * I, (r + 1) * I);
        const h = hs.subarray(r * U, (r + 1) * U);
        const proj = matvec(x, K, I, 3 * U, b);
        const xg = rmsRef(proj.slice(0, 2 * U), G[0], eps);
        const xc = rmsRef(proj.slice(2 * U), G[1], eps);
        const hproj = matvec(h, R, U, 3 * U);
        const hg = rmsRef(hproj.slice(0, 2 * U), G[2], eps);
        const hc = rmsRef(hproj.slice(2 * U), G[3], eps);
        for (let j = 0; j < U; j++) {
          const rr = sigmoid(hg[j] + xg[j]);
          const z = sigmoid(hg[U + j] + xg[U + j]);
          const ht = Math.tanh(hc[j] * rr + xc[j]);
          expected.push(z * h[j] + (1 - z) * ht);
        }
      }
      assertClose('h1', got, expected, 2e-5, 2e-5);
    });

    it('LSTM layer-norm step matches a float64 hand-written step (layers.py lnlstm)', () => {
      const [B, I, U, eps] = [2, 3, 4, 1e-5];
      const s = cellNormSettings({ norm: 'layer', epsilon: eps });
      const w = createCellWeights('lstm', I, U, s, 2);
      randomizeWeights(w, 200);
      const xs = randn(B * I, 9);
      const hs = randn(B * U, 10, 0.5);
      const cs = randn(B * U, 11);
      const [hT, cT] = lstmStep(w, s, tf.tensor2d(xs, [B, I]), tf.tensor2d(hs, [B, U]), tf.tensor2d(cs, [B, U]));
      const [K, R, b] = [w.kernel.dataSync(), w.recurrentKernel.dataSync(), w.bias.dataSync()];
      const G = w.gammas!.map((g) => g.dataSync());
      const Bt = w.betas!.map((g) => g.dataSync());
      const eh: number[] = [];
      const ec: number[] = [];
      for (let r = 0; r < B; r++) {
        const xin = lnRef(matvec(xs.subarray(r * I, (r + 1) * I), K, I, 4 * U, b), G[0], Bt[0], eps);
        const hin = lnRef(matvec(hs.subarray(r * U, (r + 1) * U), R, U, 4 * U), G[1], Bt[1], eps);
        const pre = xin.map((v, j) => v + hin[j] + b[j]);
        const c1: number[] = [];
        for (let j = 0; j < U; j++) c1.push(sigmoid(pre[U + j]) * cs[r * U + j] + sigmoid(pre[j]) * Math.tanh(pre[3 * U + j]));
        const cn = lnRef(c1, G[2], Bt[2], eps);
        for (let j = 0; j < U; j++) eh.push(sigmoid(pre[2 * U + j]) * Math.tanh(cn[j]));
        ec.push(...c1);
      }
      assertClose('h1', hT.dataSync(), eh, 2e-5, 2e-5);
      assertClose('c1', cT.dataSync(), ec, 2e-5, 2e-5);
    });

    const norms: CellNorm[] = ['none', 'layer', 'rms', 'prms', 'l2'];
    for (const norm of norms) {
      it(`GRU (${norm}) and LSTM in tf.layers.rnn train with falling loss`, async () => {
        const [B, T, I] = [16, 6, 4];
        const xs = tf.tensor3d(randn(B * T * I, 3), [B, T, I]);
        const ys = tf.tanh(tf.sum(xs, 1)).slice([0, 0], [B, 2]); // a sequence-summary target
        for (const cell of [normalizedGruCell({ units: 8, norm, partial: 0.25 }), normalizedLstmCell({ units: 8, norm, partial: 0.25 })]) {
          const model = tf.sequential({
            layers: [tf.layers.rnn({ cell, inputShape: [T, I] }), tf.layers.dense({ units: 2 })],
          });
          model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
          const h = await model.fit(xs, ys, { epochs: 25, batchSize: 16, verbose: 0, shuffle: false });
          const loss = h.history.loss as number[];
          assert.ok(loss[loss.length - 1] < 0.6 * loss[0], `${cell.getClassName()} ${norm}: loss ${loss[0]} → ${loss[loss.length - 1]}`);
        }
      });
    }

    it('serialization round trip keeps config, weight names and outputs', async () => {
      const model = tf.sequential({
        layers: [
          tf.layers.rnn({ cell: normalizedGruCell({ units: 6, norm: 'prms', partial: 0.5, epsilon: 1e-6 }), inputShape: [4, 3], returnSequences: true }),
          tf.layers.rnn({ cell: normalizedLstmCell({ units: 5, norm: 'layer' }) }),
        ],
      });
      const again = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) } as never);
      again.setWeights(model.getWeights());
      const x = tf.tensor3d(randn(2 * 4 * 3, 5), [2, 4, 3]);
      assert.deepEqual(Array.from((again.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()));
      const cellConfig = (again.layers[0].getConfig().cell as { config: Record<string, unknown> }).config;
      assert.equal(cellConfig.norm, 'prms');
      assert.equal(cellConfig.partial, 0.5);
      const names = model.layers[0].weights.map((v) => v.name.split('/').pop());
      assert.deepEqual(names, ['kernel', 'recurrent_kernel', 'bias', 'gamma_x_gates', 'gamma_x_cand', 'gamma_h_gates', 'gamma_h_cand']);
    });

    it('keeps the tensor count constant over 200 custom-loop training steps (no leaks)', () => {
      const s = cellNormSettings({ norm: 'prms', partial: 0.25 });
      const w = createCellWeights('gru', 4, 8, s, 3);
      const x = tf.tensor3d(randn(4 * 3 * 4, 6), [4, 3, 4]);
      const opt = tf.train.adam(0.01);
      const step = () => {
        const cost = opt.minimize(() => {
          let h: tf.Tensor = tf.zeros([4, 8]);
          for (let t = 0; t < 3; t++) h = gruStep(w, s, tf.squeeze(tf.slice(x, [0, t, 0], [4, 1, 4]), [1]), h);
          return tf.mean(tf.square(h)) as tf.Scalar;
        }, true);
        cost?.dispose();
      };
      step();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 200; i++) step();
      assert.equal(tf.memory().numTensors, before);
    });

    it('BlockOrthogonal gives orthogonal u×u blocks', () => {
      const w = new BlockOrthogonal({ seed: 5 }).apply([6, 18]);
      for (let i = 0; i < 3; i++) {
        const q = tf.slice(w, [0, 6 * i], [6, 6]);
        const eye = tf.eye(6).dataSync();
        assertClose(`block ${i} QᵀQ`, tf.matMul(q, q, true, false).dataSync(), eye, 1e-5, 0);
      }
    });

    it('rejects bad cell configs', () => {
      assert.throws(() => normalizedGruCell({ units: 0 }), { name: 'RangeError', message: /units/ });
      assert.throws(() => normalizedGruCell({ units: 4, norm: 'batch' as never }), { name: 'RangeError', message: /norm must be one of/ });
      assert.throws(() => normalizedLstmCell({ units: 4, partial: 2 }), { name: 'RangeError', message: /partial/ });
    });
  });
}
