// Opt-in wasm training kernels (UnsortedSegmentSum, Conv2DBackpropFilter): gradients on wasm vs float64 loops
// written here and vs the cpu backend, and an embedding + conv model that trains on wasm.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../src/tfjs/index.js';
import { assertClose, randn, useBackend } from './tfjs-util.js';

/** float64 dW[kh,kw,ci,co] = Σ x_pad[b, oh·s + kh − top, ow·s + kw − left, ci] · dy[b, oh, ow, co]. */
function convFilterGradRef(
  x: Float32Array, xs: number[], dy: Float32Array, ys: number[], kh: number, kw: number, stride: number, top: number, left: number,
): Float64Array {
  const [B, H, W, C] = xs;
  const [, OH, OW, O] = ys;
  const dw = new Float64Array(kh * kw * C * O);
  for (let b = 0; b < B; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const r = oh * stride + i - top;
      const c = ow * stride + j - left;
      if (r < 0 || r >= H || c < 0 || c >= W) continue;
      for (let ci = 0; ci < C; ci++) for (let co = 0; co < O; co++) {
        dw[((i * kw + j) * C + ci) * O + co] += x[((b * H + r) * W + c) * C + ci] * dy[((b * OH + oh) * OW + ow) * O + co];
      }
    }
  }
  return dw;
}

describe('wasm training kernels', () => {
  it('registers the missing kernels once', async () => {
    await useBackend('wasm');
    const first = registerWasmTrainingKernels();
    assert.ok(first.includes('UnsortedSegmentSum') || tf.getKernel('UnsortedSegmentSum', 'wasm') !== undefined);
    assert.deepEqual(registerWasmTrainingKernels(), []);
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
  });

  it('UnsortedSegmentSum matches a float64 loop (incl. out-of-range ids) and the gather gradient', () => {
    const xs = randn(7 * 3, 1);
    const ids = [2, 0, 2, 5, -1, 1, 2];
    const y = tf.unsortedSegmentSum(tf.tensor2d(xs, [7, 3]), tf.tensor1d(ids, 'int32'), 4);
    const expected = new Float64Array(4 * 3);
    ids.forEach((s, i) => { if (s >= 0 && s < 4) for (let j = 0; j < 3; j++) expected[s * 3 + j] += xs[i * 3 + j]; });
    assertClose('segment sums', y.dataSync(), expected, 1e-6, 1e-6);
    const table = tf.tensor2d(randn(5 * 4, 2), [5, 4]);
    const idx = tf.tensor2d([[1, 3, 1], [0, 4, 1]], [2, 3], 'int32');
    const dyData = randn(2 * 3 * 4, 3);
    const [dTable] = tf.grads((t: tf.Tensor) => tf.gather(t, idx))([table], tf.tensor3d(dyData, [2, 3, 4]));
    const exp = new Float64Array(20);
    [1, 3, 1, 0, 4, 1].forEach((r, i) => { for (let j = 0; j < 4; j++) exp[r * 4 + j] += dyData[i * 4 + j]; });
    assertClose('gather gradient', dTable.dataSync(), exp, 1e-6, 1e-6);
  });

  for (const c of [
    { name: '3×3 same stride 1', kh: 3, kw: 3, stride: 1, pad: 'same' as const },
    { name: '3×3 valid stride 2', kh: 3, kw: 3, stride: 2, pad: 'valid' as const },
    { name: '2×3 same stride 2 (odd size)', kh: 2, kw: 3, stride: 2, pad: 'same' as const },
    { name: '1×1 valid', kh: 1, kw: 1, stride: 1, pad: 'valid' as const },
  ]) {
    it(`Conv2DBackpropFilter ${c.name} matches a float64 loop`, () => {
      const xs = [2, 7, 6, 3];
      const xData = randn(2 * 7 * 6 * 3, 4);
      const filt = tf.tensor4d(randn(c.kh * c.kw * 3 * 4, 5), [c.kh, c.kw, 3, 4]);
      const x = tf.tensor4d(xData, xs as [number, number, number, number]);
      const y = tf.conv2d(x, filt, c.stride, c.pad);
      const dyData = randn(y.size, 6);
      const [dw] = tf.grads((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, c.stride, c.pad))([filt], tf.tensor(dyData, y.shape));
      const info = tf.backend_util.computeConv2DInfo(xs as [number, number, number, number], [c.kh, c.kw, 3, 4], c.stride, 1, c.pad);
      const ref = convFilterGradRef(xData, xs, dyData, y.shape, c.kh, c.kw, c.stride, info.padInfo.top, info.padInfo.left);
      assertClose('dW', dw.dataSync(), ref, 1e-4, 1e-4);
    });
  }

  it('an embedding + conv model gets the same gradients on wasm as on cpu, and trains on wasm', async () => {
    const build = () => {
      const input = tf.input({ shape: [8], dtype: 'int32' });
      const e = tf.layers.embedding({ inputDim: 10, outputDim: 6, embeddingsInitializer: tf.initializers.randomNormal({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
      const r = tf.layers.reshape({ targetShape: [8, 6, 1] }).apply(e) as tf.SymbolicTensor;
      const c = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(r) as tf.SymbolicTensor;
      const f = tf.layers.flatten().apply(c) as tf.SymbolicTensor;
      const o = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(f) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: o });
    };
    const ids = Array.from({ length: 16 * 8 }, (_, i) => (i * 7 + 3) % 10);
    const target = randn(16 * 2, 9);
    const gradsOn = async (backend: string) => {
      await useBackend(backend);
      const model = build();
      const x = tf.tensor2d(ids, [16, 8], 'int32');
      const t = tf.tensor2d(target, [16, 2]);
      const { grads } = tf.variableGrads(() => tf.losses.meanSquaredError(t, model.apply(x) as tf.Tensor) as tf.Scalar);
      return { model, x, t, grads: Object.values(grads).map((g) => g.dataSync().slice()) };
    };
    const onCpu = await gradsOn('cpu');
    const onWasm = await gradsOn('wasm');
    assert.equal(onCpu.grads.length, onWasm.grads.length);
    onCpu.grads.forEach((g, i) => assertClose(`grad ${i}`, onWasm.grads[i], g, 1e-5, 1e-4));
    onWasm.model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
    const h = await onWasm.model.fit(onWasm.x, onWasm.t, { epochs: 20, verbose: 0, batchSize: 16 });
    const loss = h.history.loss as number[];
    assert.ok(loss[loss.length - 1] < 0.7 * loss[0], `loss ${loss[0]} → ${loss[loss.length - 1]}`);
  });
});
