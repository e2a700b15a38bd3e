// tfjs layers: RMSNormalization trains in model.fit, loads from a Keras-3-style config, round-trips through JSON
// and file://; FusedLayerNormalization matches the stock tf.layers.layerNormalization (cpu and wasm).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  FusedLayerNormalization, fusedLayerNormalization, RMSNormalization, rmsNormalization,
  useFusedLayerNormalizationOnLoad,
} from '../src/tfjs/index.js';
import { registerFileRouters } from '../src/tfjs/node.js';
import { layerNormRef, rmsNormRef } from '../src/reference/index.js';
import { assertClose, randn, TFJS_BACKENDS, useBackend } from './tfjs-util.js';

/** A Keras 3 style layer entry: dtype policy dict, axis as a list, module/registered_name/build_config keys. */
const KERAS3_MODEL = {
  class_name: 'Sequential',
  config: {
    name: 'keras3_like',
    layers: [
      { class_name: 'InputLayer', config: { batch_input_shape: [null, 3, 4], dtype: 'float32', name: 'inp' } },
      {
        module: 'keras.layers',
        class_name: 'RMSNormalization',
        config: {
          name: 'rms_normalization',
          trainable: true,
          dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
          axis: [-2, -1],
          epsilon: 1e-5,
        },
        registered_name: null,
        build_config: { input_shape: [null, 3, 4] },
      },
    ],
  },
  keras_version: '3.8.0',
  backend: 'tensorflow',
};

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

type ChannelKind = 'rms' | 'ln';

/**
 * The spatial norm from stock tf ops only (tf.mean / tf.moments, rsqrt, broadcasting), independent of our ops and
 * kernels: statistics over `axes` per sample and channel, gain (+ offset) and bias of shape [C] along `channelAxis`.
 */
function channelComposite(kind: ChannelKind, h: tf.Tensor, g: tf.Tensor | null, b: tf.Tensor | null,
  o: { axes: number[]; channelAxis: number; eps: number; gammaOffset?: number }): tf.Tensor {
  return tf.tidy(() => {
    const shape = h.shape.map((d, i) => (i === o.channelAxis ? d : 1));
    let y: tf.Tensor;
    if (kind === 'rms') {
      y = tf.mul(h, tf.rsqrt(tf.add(tf.mean(tf.square(h), o.axes, true), o.eps)));
    } else {
      const { mean, variance } = tf.moments(h, o.axes, true);
      y = tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, o.eps)));
    }
    if (g !== null) y = tf.mul(y, tf.reshape(tf.add(g, o.gammaOffset ?? 0), shape));
    if (b !== null) y = tf.add(y, tf.reshape(b, shape));
    return y;
  });
}

/** The trainable weights of a layer as tf.Variables (for tf.variableGrads). */
function variablesOf(layer: tf.layers.Layer): tf.Variable[] {
  return layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
}

/** A spatial-norm layer of either kind on NHWC (axis [1, 2], channelAxis 3), gain and bias on. */
function channelLayer(kind: ChannelKind, extra: object = {}): RMSNormalization | FusedLayerNormalization {
  return kind === 'rms'
    ? rmsNormalization({ axis: [1, 2], channelAxis: 3, center: true, epsilon: 1e-5, ...extra })
    : fusedLayerNormalization({ axis: [1, 2], channelAxis: 3, epsilon: 1e-3, ...extra });
}

/**
 * channelAxis on the layers: conv2d + spatial norm trained with model.fit (the conv frozen on wasm), then the layer's output and the gradients
 * w.r.t. its input and weights vs the stock-op composite under tfjs autodiff; weight shapes [C]; config and file
 * round trips; validation.
 */
function channelAxisTests(backend: string): void {
  for (const kind of ['rms', 'ln'] as const) {
    const names = kind === 'rms' ? ['scale', 'beta'] : ['gamma', 'beta'];
    const eps = kind === 'rms' ? 1e-5 : 1e-3;

    it(`${kind}: conv2d + channelAxis layer trains; output and gradients match the stock-op composite`, async () => {
      const x = tf.tensor4d(randn(8 * 6 * 5 * 2, 50), [8, 6, 5, 2]);
      const target = tf.tensor4d(randn(8 * 6 * 5 * 3, 51, 0.5, 0.3), [8, 6, 5, 3]);
      const norm = channelLayer(kind);
      const model = tf.sequential({
        layers: [
          // tfjs-backend-wasm has no Conv2DBackpropFilter: there the conv is frozen and only the norm trains
          tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', inputShape: [6, 5, 2], trainable: backend !== 'wasm',
            kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
          norm,
        ],
      });
      assert.deepEqual(norm.getWeights().map((w) => w.shape), [[3], [3]]);
      assert.deepEqual(norm.weights.map((v) => v.name.split('/').pop()), names);
      model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
      const hist = await model.fit(x, target, { epochs: 4, batchSize: 4, verbose: 0, shuffle: false });
      const loss = hist.history.loss as number[];
      assert.ok(loss[loss.length - 1] < loss[0], `loss ${loss[0]} → ${loss[loss.length - 1]}`);
      const [g, b] = norm.getWeights();
      // training moved both weights away from their ones/zeros initialisation (gradients reached them)
      assert.ok(Array.from(g.dataSync()).every((v) => Math.abs(v - 1) > 1e-3), `gain ${g.dataSync()}`);
      assert.ok(Array.from(b.dataSync()).every((v) => Math.abs(v) > 1e-3), `bias ${b.dataSync()}`);

      const h = model.layers[0].apply(x) as tf.Tensor;
      const o = { axes: [1, 2], channelAxis: 3, eps };
      const y = norm.apply(h) as tf.Tensor;
      assertClose('y vs composite', y.dataSync(), channelComposite(kind, h, g, b, o).dataSync(), 2e-5, 2e-5);
      assertClose('model.predict vs composite', (model.predict(x) as tf.Tensor).dataSync(),
        channelComposite(kind, h, g, b, o).dataSync(), 2e-5, 2e-5);

      const dy = tf.tensor4d(randn(8 * 6 * 5 * 3, 52), [8, 6, 5, 3]);
      const ours = tf.variableGrads(() => tf.sum(tf.mul(norm.apply(h) as tf.Tensor, dy)) as tf.Scalar, variablesOf(norm));
      const ref = tf.grads((gg: tf.Tensor, bb: tf.Tensor) => channelComposite(kind, h, gg, bb, o))([g, b], dy);
      const ourGrads = variablesOf(norm).map((v) => ours.grads[v.name]);
      assert.deepEqual(ourGrads.map((t) => t.shape), [[3], [3]]);
      assertClose(`d${names[0]}`, ourGrads[0].dataSync(), ref[0].dataSync(), 1e-4, 1e-4);
      assertClose('dbeta', ourGrads[1].dataSync(), ref[1].dataSync(), 1e-4, 1e-4);
      const dh = tf.grad((hh: tf.Tensor) => norm.apply(hh) as tf.Tensor)(h, dy);
      const dhRef = tf.grad((hh: tf.Tensor) => channelComposite(kind, hh, g, b, o))(h, dy);
      assertClose('dx', dh.dataSync(), dhRef.dataSync(), 1e-4, 1e-4);
    });

    it(`${kind}: channelAxis in getConfig (only when set), config round trip, other layouts (NCHW, negative axes)`, () => {
      const x = tf.tensor4d(randn(2 * 3 * 4 * 5, 60, 1.5, 0.5), [2, 3, 4, 5]);
      const plain = channelLayer(kind, { channelAxis: undefined });
      plain.apply(x);
      assert.ok(!('channelAxis' in plain.getConfig()), 'no channelAxis key when unset');
      assert.equal(plain.channelAxis, null);

      // NCHW: statistics over H×W, weights [C] = [3] along axis 1 (the composed path)
      const nchw = channelLayer(kind, { axis: [2, 3], channelAxis: 1 });
      const gs = tf.tensor1d(randn(3, 61, 0.5, 1));
      const bs = tf.tensor1d(randn(3, 62));
      const y = nchw.apply(x) as tf.Tensor;
      assert.deepEqual(nchw.getWeights().map((w) => w.shape), [[3], [3]]);
      nchw.setWeights([gs, bs]);
      const o = { axes: [2, 3], channelAxis: 1, eps };
      assertClose('NCHW vs composite', (nchw.apply(x) as tf.Tensor).dataSync(), channelComposite(kind, x, gs, bs, o).dataSync(), 2e-5, 2e-5);
      assert.deepEqual(y.shape, x.shape);
      const cfg = nchw.getConfig();
      assert.equal(cfg.channelAxis, 1);
      const again = kind === 'rms' ? new RMSNormalization(structuredClone(cfg) as never) : new FusedLayerNormalization(structuredClone(cfg) as never);
      again.build(x.shape);
      again.setWeights([gs, bs]);
      assert.deepEqual(again.getConfig(), cfg);
      assertClose('rebuilt from its config', (again.apply(x) as tf.Tensor).dataSync(), (nchw.apply(x) as tf.Tensor).dataSync(), 0, 0);

      // negative channelAxis (kept as given in the config), channels-last on NHWC
      const neg = channelLayer(kind, { axis: [-3, -2], channelAxis: -1, ...(kind === 'rms' ? { gammaOffset: 1, scaleInitializer: 'zeros' } : {}) });
      neg.apply(x);
      assert.deepEqual(neg.getWeights().map((w) => w.shape), [[5], [5]]);
      assert.equal(neg.getConfig().channelAxis, -1);
      const g5 = tf.tensor1d(randn(5, 63, 0.5, kind === 'rms' ? 0 : 1));
      const b5 = tf.tensor1d(randn(5, 64));
      neg.setWeights([g5, b5]);
      const oNeg = { axes: [1, 2], channelAxis: 3, eps, gammaOffset: kind === 'rms' ? 1 : 0 };
      assertClose('NHWC, negative axes vs composite', (neg.apply(x) as tf.Tensor).dataSync(), channelComposite(kind, x, g5, b5, oNeg).dataSync(), 2e-5, 2e-5);
    });

    it(`${kind}: a channelAxis model round-trips through file:// and tf.io.withSaveHandler (config and weights)`, async () => {
      registerFileRouters();
      const dir = await mkdtemp(join(tmpdir(), 'rmsnorm-tfjs-ch-'));
      dirs.push(dir);
      const model = tf.sequential({
        layers: [tf.layers.conv2d({ filters: 4, kernelSize: 2, inputShape: [5, 5, 2] }), channelLayer(kind)],
      });
      const ws = [tf.tensor1d(randn(4, 70, 0.5, 1)), tf.tensor1d(randn(4, 71))];
      model.layers[1].setWeights(ws);
      const x = tf.tensor4d(randn(3 * 5 * 5 * 2, 72), [3, 5, 5, 2]);
      const expected = Array.from((model.predict(x) as tf.Tensor).dataSync());
      await model.save(`file://${dir}/m`);
      const loaded = await tf.loadLayersModel(`file://${dir}/m/model.json`);
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save(tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }));
      const viaHandler = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
      for (const m of [loaded, viaHandler]) {
        const layer = m.layers[1] as RMSNormalization | FusedLayerNormalization;
        assert.equal(layer.channelAxis, 3);
        assert.deepEqual(layer.getConfig(), model.layers[1].getConfig());
        const got = layer.getWeights();
        assert.deepEqual(got.map((w) => w.shape), [[4], [4]]);
        for (let i = 0; i < 2; i++) assert.deepEqual(Array.from(got[i].dataSync()), Array.from(ws[i].dataSync()));
        assert.deepEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()), expected);
      }
    });

    it(`${kind}: rejects bad channelAxis configs with errors naming the layer and the key`, () => {
      const make = (channelAxis: unknown, axis: number | number[] = [1, 2]) => channelLayer(kind, { axis, channelAxis });
      const cls = kind === 'rms' ? 'RMSNormalization' : 'FusedLayerNormalization';
      const named = (what: string) => new RegExp(`^${cls} '[^']+': config key 'channelAxis' ${what}`);
      assert.throws(() => make(1.5), { name: 'TypeError', message: named('must be an integer, got 1.5') });
      assert.throws(() => make('3'), { name: 'TypeError', message: named('must be an integer, got "3"') });
      const x = tf.zeros([2, 3, 4, 5]);
      assert.throws(() => make(4).apply(x), { name: 'RangeError', message: named('\\(4\\) is out of range for a rank-4 input') });
      assert.throws(() => make(-5).apply(x), { name: 'RangeError', message: named('\\(-5\\) is out of range') });
      assert.throws(() => make(2).apply(x), { name: 'RangeError', message: named('\\(2\\) must not be one of the normalised axes \\[1, 2\\]') });
      assert.throws(() => make(-1, -1).apply(x), { name: 'RangeError', message: named('\\(-1\\) must not be one of the normalised axes \\[3\\]') });
      assert.throws(() => make(0).apply(x), { name: 'RangeError', message: named('must not be the batch axis 0') });
      const unknown = make(3);
      assert.throws(() => unknown.build([null, 4, 4, null]), { name: 'RangeError', message: named('\\(3\\) needs a known size of input axis 3, got shape \\[, 4, 4, \\]') });
      assert.throws(() => channelLayer(kind, { channel_axis: 3 }), {
        name: 'TypeError', message: /unknown config key 'channel_axis' \(did you mean 'channelAxis'\?\)/,
      });
    });
  }
}

for (const backend of TFJS_BACKENDS) {
  describe(`tfjs layers on ${backend}`, () => {
    it('selects the backend', async () => useBackend(backend));

    it('model.fit with RMSNormalization (pRMS, center) lowers the loss', async () => {
      const xs = tf.tensor2d(randn(64 * 8, 1), [64, 8]);
      const w = tf.tensor2d(randn(8 * 2, 2), [8, 2]);
      const ys = tf.tanh(tf.matMul(xs, w));
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 32, inputShape: [8], kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
          rmsNormalization({ partial: 0.25, center: true }),
          tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
      const h = await model.fit(xs, ys, { epochs: 30, batchSize: 16, verbose: 0, shuffle: false });
      const loss = h.history.loss as number[];
      assert.ok(loss[loss.length - 1] < 0.5 * loss[0], `loss ${loss[0]} → ${loss[loss.length - 1]}`);
      const names = model.layers[1].weights.map((v) => v.name.split('/').pop());
      assert.deepEqual(names, ['scale', 'beta']);
    });

    it('a Keras 3 style model config loads via modelFromJSON and predicts like the float64 reference', async () => {
      const model = await tf.models.modelFromJSON(structuredClone(KERAS3_MODEL) as never);
      const layer = model.layers.find((l) => l instanceof RMSNormalization) as RMSNormalization;
      assert.ok(layer, 'RMSNormalization layer deserialized');
      assert.deepEqual(layer.axis, [-2, -1]);
      assert.equal(layer.epsilon, 1e-5);
      const policy = { className: 'DTypePolicy', config: { name: 'float32' } };
      assert.equal(new RMSNormalization({ inputShape: [4], dtype: policy }).dtype, 'float32');
      const scale = randn(12, 7);
      layer.setWeights([tf.tensor2d(scale, [3, 4])]);
      const xs = randn(5 * 12, 8);
      const y = model.predict(tf.tensor3d(xs, [5, 3, 4])) as tf.Tensor;
      assertClose('prediction', y.dataSync(), rmsNormRef(xs, 12, { gamma: scale, eps: 1e-5 }).y, 2e-6, 2e-6);
    });

    it('JSON round trip keeps config and predictions', async () => {
      const model = tf.sequential({
        layers: [
          rmsNormalization({ inputShape: [6], partial: 0.5, kRule: 'floor', epsPlacement: 'outside', gammaOffset: 1,
            scaleInitializer: 'zeros', center: true, epsilon: 1e-4 }),
        ],
      });
      const config = model.layers[0].getConfig();
      assert.equal(config.partial, 0.5);
      assert.equal(config.kRule, 'floor');
      const again = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) } as never);
      again.setWeights(model.getWeights());
      const x = tf.tensor2d(randn(18, 9), [3, 6]);
      assert.deepEqual(Array.from((again.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()));
      const l = again.layers[0] as RMSNormalization;
      assert.equal(l.epsPlacement, 'outside');
      assert.equal(l.gammaOffset, 1);
    });

    it("model.save('file://') and tf.loadLayersModel round-trip with identical predictions", async () => {
      registerFileRouters();
      const dir = await mkdtemp(join(tmpdir(), 'rmsnorm-tfjs-'));
      dirs.push(dir);
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 16, inputShape: [5] }),
          rmsNormalization({ partial: 0.0625, center: true }),
          fusedLayerNormalization({}),
          tf.layers.dense({ units: 3 }),
        ],
      });
      model.layers[1].setWeights([tf.tensor1d(randn(16, 2)), tf.tensor1d(randn(16, 3))]);
      await model.save(`file://${dir}/m`);
      const loaded = await tf.loadLayersModel(`file://${dir}/m/model.json`);
      const x = tf.tensor2d(randn(20, 4), [4, 5]);
      assert.deepEqual(Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()));
      assert.equal(loaded.layers[2].getClassName(), 'FusedLayerNormalization');
    });

    it('FusedLayerNormalization matches tf.layers.layerNormalization (forward, gradients) and the reference', () => {
      const gamma = tf.tensor1d(randn(10, 12));
      const beta = tf.tensor1d(randn(10, 13));
      const ours = fusedLayerNormalization({ epsilon: 1e-3 });
      const stock = tf.layers.layerNormalization({ epsilon: 1e-3 });
      ours.build([null, 10]);
      stock.build([null, 10]);
      ours.setWeights([gamma, beta]);
      stock.setWeights([gamma, beta]);
      const xs = randn(4 * 10, 14);
      const x = tf.tensor2d(xs, [4, 10]);
      const yOurs = ours.apply(x) as tf.Tensor;
      assertClose('vs reference', yOurs.dataSync(), layerNormRef(xs, 10, { gamma: gamma.dataSync(), beta: beta.dataSync(), eps: 1e-3 }).y, 2e-6, 2e-6);
      assertClose('vs stock layer', yOurs.dataSync(), (stock.apply(x) as tf.Tensor).dataSync(), 1e-5, 1e-5);
      const dy = tf.tensor2d(randn(40, 15), [4, 10]);
      const gradsOf = (layer: tf.layers.Layer) => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, dy)) as tf.Scalar,
          layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val));
        return Object.values(grads);
      };
      const g1 = gradsOf(ours);
      const g2 = gradsOf(stock);
      assert.equal(g1.length, 2);
      for (let i = 0; i < 2; i++) assertClose(`param grad ${i}`, g1[i].dataSync(), g2[i].dataSync(), 1e-5, 1e-5);
    });

    it('useFusedLayerNormalizationOnLoad turns stock LayerNormalization layers into fused ones on load', async () => {
      const model = tf.sequential({ layers: [tf.layers.layerNormalization({ inputShape: [6], epsilon: 1e-3 })] });
      model.setWeights([tf.tensor1d(randn(6, 30)), tf.tensor1d(randn(6, 31))]);
      useFusedLayerNormalizationOnLoad();
      const again = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) } as never);
      again.setWeights(model.getWeights());
      assert.ok(again.layers[0] instanceof FusedLayerNormalization);
      assert.equal(again.layers[0].getClassName(), 'LayerNormalization');
      const x = tf.tensor2d(randn(12, 32), [2, 6]);
      assertClose('same predictions', (again.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync(), 1e-5, 1e-5);
    });

    it('rejects bad layer configs with named errors', () => {
      assert.throws(() => rmsNormalization({ partial: 0 }), { name: 'RangeError', message: /partial/ });
      assert.throws(() => rmsNormalization({ epsilon: -1 }), { name: 'RangeError', message: /epsilon/ });
      assert.throws(() => rmsNormalization({ scale: false, gammaOffset: 1 }), { name: 'RangeError', message: /gammaOffset/ });
      assert.throws(() => rmsNormalization({ axis: 3 }).apply(tf.ones([2, 4])), { name: 'RangeError', message: /axis 3 is out of range/ });
      assert.throws(() => rmsNormalization({ scaleInitializer: 'nope' }), { name: 'TypeError', message: /nope/ });
    });

    it('rejects unknown config keys, naming the key, the likely one and the valid keys', async () => {
      assert.throws(() => rmsNormalization({ eps: 1e-5 } as never), {
        name: 'TypeError',
        message: /^RMSNormalization: unknown config key 'eps' \(did you mean 'epsilon'\?\); valid keys: axis, epsilon, partial, .*, name, trainable/,
      });
      assert.throws(() => rmsNormalization({ scale_initializer: 'ones' } as never), {
        name: 'TypeError', message: /unknown config key 'scale_initializer' \(did you mean 'scaleInitializer'\?\)/,
      });
      assert.throws(() => fusedLayerNormalization({ gamma_initializer: 'ones' } as never), {
        name: 'TypeError', message: /unknown config key 'gamma_initializer' \(did you mean 'gammaInitializer'\?\)/,
      });
      assert.throws(() => rmsNormalization({ frobnicate: 1 } as never), { name: 'TypeError', message: /unknown config key 'frobnicate'; valid keys/ });
      // Keras 2/3 LayerNormalization configs carry null constraints and rms_scaling false: accepted only at those values
      assert.ok(fusedLayerNormalization({ betaConstraint: null, gammaConstraint: null, rmsScaling: false } as never));
      assert.throws(() => fusedLayerNormalization({ rmsScaling: true } as never), { name: 'TypeError', message: /rmsScaling.*only supported at its default/ });
      // the deserialization path (model files) goes through the same check
      const bad = structuredClone(KERAS3_MODEL);
      (bad.config.layers[1].config as Record<string, unknown>).eps = 1e-5;
      await assert.rejects(tf.models.modelFromJSON(bad as never), { name: 'TypeError', message: /unknown config key 'eps'/ });
    });

    it('axis is a list after build (Keras 3 signs for RMSNormalization, stock tfjs for FusedLayerNormalization); getConfig round-trips', () => {
      const x = tf.tensor3d(randn(2 * 3 * 4, 40), [2, 3, 4]);
      const rms = rmsNormalization({ axis: -1, epsilon: 1e-5, partial: 0.5 });
      assert.equal(rms.axis, -1);
      const y = rms.apply(x) as tf.Tensor;
      assert.deepEqual(rms.axis, [-1]);
      const cfg = rms.getConfig();
      assert.deepEqual(cfg.axis, [-1]);
      const rms2 = new RMSNormalization(structuredClone(cfg) as never);
      const y2 = rms2.apply(x) as tf.Tensor;
      assert.deepEqual(rms2.getConfig(), cfg);
      assertClose('rebuilt from its config', y2.dataSync(), y.dataSync(), 0, 0);

      const fused = fusedLayerNormalization({ axis: -1 });
      const stock = tf.layers.layerNormalization({ axis: -1 });
      fused.apply(x);
      stock.apply(x);
      assert.deepEqual(fused.axis, [2]);
      const { name: _f, ...fusedCfg } = fused.getConfig();
      const { name: _s, ...stockCfg } = stock.getConfig();
      assert.deepEqual(fusedCfg, stockCfg, 'the same config as tf.layers.layerNormalization');
      const fused2 = new FusedLayerNormalization(structuredClone(fused.getConfig()) as never);
      fused2.apply(x);
      assert.deepEqual(fused2.getConfig(), fused.getConfig());
      const multi = rmsNormalization({ axis: [-2, -1] });
      multi.apply(x);
      assert.deepEqual(multi.axis, [-2, -1]);
      assert.deepEqual(multi.getWeights()[0].shape, [3, 4]);
    });

    channelAxisTests(backend);
  });
}
