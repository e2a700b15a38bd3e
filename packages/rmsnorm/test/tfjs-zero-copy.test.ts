// Zero copy inside TF.js: on the tfjs wasm backend our SIMD kernels run on tfjs's own WebAssembly.Memory (no byte
// copied in or out, also across heap growth between forward and backward); the tape saves shares of the data (no
// clones); pruned gradient thunks leak nothing. Values of a training-graph step sum(N(x ⊙ g) ⊙ w) through
// tf.variableGrads are checked against the float64 reference on cpu and wasm.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { _copyStats } from '../src/backends/wasm/job.js';
import { wasmBase64 } from '../src/backends/wasm/generated/norm.js';
import { layerNormBackwardRef, layerNormRef, rmsNormBackwardRef, rmsNormRef } from '../src/reference/index.js';
import { tfjsHeapState } from '../src/tfjs/kernel-io.js';
import { layerNorm, rmsNorm } from '../src/tfjs/index.js';
import { tolerance } from './tolerance.js';
import { assertClose, randn, TFJS_BACKENDS, useBackend } from './tfjs-util.js';

const BWD = tolerance('wasm', 'rmsNorm', 'backward');
const LN_BWD = tolerance('wasm', 'layerNorm', 'backward');
const ROWS = 12;
const COLS = 40;

/** Section ids of a wasm binary (id 11 = data segments). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let p = 8;
  while (p < bytes.length) {
    ids.push(bytes[p++]);
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[p++];
      len |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    p += len;
  }
  return ids;
}

interface Setup {
  xs: Float32Array;
  gs: Float32Array;
  ws: Float32Array;
  /** h = x ⊙ g as tfjs computes it in f32: the norm's input. */
  hs: Float64Array;
}

function setup(seed: number): Setup {
  const xs = randn(ROWS * COLS, seed);
  const gs = randn(ROWS * COLS, seed + 1, 0.1, 1);
  const ws = randn(ROWS * COLS, seed + 2);
  const hs = Float64Array.from(xs, (v, i) => Math.fround(v * gs[i]));
  return { xs, gs, ws, hs };
}

/** Expected gradient w.r.t. g of sum(N(x ⊙ g) ⊙ w): x ⊙ dN/dh with dy = w. */
function dgExpected(s: Setup, dh: ArrayLike<number>): Float64Array {
  return Float64Array.from(s.xs, (v, i) => v * dh[i]);
}

for (const backend of TFJS_BACKENDS) {
  describe(`tfjs training-graph step on ${backend}`, () => {
    it('selects the backend', async () => useBackend(backend));

    it('rmsNorm (gain): loss and gradients of sum(rmsNorm(x ⊙ g) ⊙ w) match the float64 reference', () => {
      const s = setup(31);
      const gm = randn(COLS, 34, 0.2, 1);
      const x = tf.tensor2d(s.xs, [ROWS, COLS]);
      const w = tf.tensor2d(s.ws, [ROWS, COLS]);
      const g = tf.variable(tf.tensor2d(s.gs, [ROWS, COLS]));
      const gamma = tf.variable(tf.tensor1d(gm));
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(rmsNorm(tf.mul(x, g), gamma), w)) as tf.Scalar, [g, gamma]);
      const ref = rmsNormRef(s.hs, COLS, { gamma: gm });
      const bwd = rmsNormBackwardRef(s.ws, s.hs, COLS, { gamma: gm });
      const loss = ref.y.reduce((acc, y, i) => acc + y * s.ws[i], 0);
      assertClose('loss', value.dataSync(), [loss], 1e-3, 1e-4);
      assertClose('dg', grads[g.name].dataSync(), dgExpected(s, bwd.dx), BWD.atol, BWD.rtol);
      assertClose('dgamma', grads[gamma.name].dataSync(), bwd.dgamma!, BWD.atol * ROWS, BWD.rtol);
      tf.dispose([x, w, value, ...Object.values(grads)]);
      tf.disposeVariables();
    });

    it('layerNorm (gain, bias): loss and gradients match the float64 reference', () => {
      const s = setup(41);
      const gm = randn(COLS, 44, 0.2, 1);
      const bt = randn(COLS, 45, 0.2);
      const x = tf.tensor2d(s.xs, [ROWS, COLS]);
      const w = tf.tensor2d(s.ws, [ROWS, COLS]);
      const g = tf.variable(tf.tensor2d(s.gs, [ROWS, COLS]));
      const gamma = tf.variable(tf.tensor1d(gm));
      const beta = tf.variable(tf.tensor1d(bt));
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layerNorm(tf.mul(x, g), gamma, beta), w)) as tf.Scalar, [g, gamma, beta]);
      const bwd = layerNormBackwardRef(s.ws, s.hs, COLS, { gamma: gm, beta: bt });
      assert.ok(layerNormRef(s.hs, COLS, { gamma: gm, beta: bt }).y.every(Number.isFinite));
      assertClose('dg', grads[g.name].dataSync(), dgExpected(s, bwd.dx), LN_BWD.atol, LN_BWD.rtol);
      assertClose('dgamma', grads[gamma.name].dataSync(), bwd.dgamma!, LN_BWD.atol * ROWS, LN_BWD.rtol);
      assertClose('dbeta', grads[beta.name].dataSync(), bwd.dbeta!, LN_BWD.atol * ROWS, LN_BWD.rtol);
      tf.dispose([x, w, ...Object.values(grads)]);
      tf.disposeVariables();
    });

    it('pruned gradients (constant gamma; only gamma wanted) are right and leak no tensor or buffer', () => {
      const s = setup(51);
      const gm = randn(COLS, 54, 0.2, 1);
      const x = tf.tensor2d(s.xs, [ROWS, COLS]);
      const w = tf.tensor2d(s.ws, [ROWS, COLS]);
      const g = tf.variable(tf.tensor2d(s.gs, [ROWS, COLS]));
      const gConst = tf.tensor2d(s.gs, [ROWS, COLS]);
      const gamma = tf.variable(tf.tensor1d(gm));
      const gammaConst = tf.tensor1d(gm);
      const bwd = rmsNormBackwardRef(s.ws, s.hs, COLS, { gamma: gm });
      const stepX = () => tf.variableGrads(() => tf.sum(tf.mul(rmsNorm(tf.mul(x, g), gammaConst), w)) as tf.Scalar, [g]);
      const stepGamma = () => tf.variableGrads(() => tf.sum(tf.mul(rmsNorm(tf.mul(x, gConst), gamma), w)) as tf.Scalar, [gamma]);
      for (let i = 0; i < 2; i++) tf.dispose(Object.values(stepX().grads)), tf.dispose(Object.values(stepGamma().grads));
      const before = tf.memory();
      for (let i = 0; i < 5; i++) {
        const a = stepX();
        const b = stepGamma();
        if (i === 0) {
          assertClose('dg (gamma constant)', a.grads[g.name].dataSync(), dgExpected(s, bwd.dx), BWD.atol, BWD.rtol);
          assertClose('dgamma (x constant)', b.grads[gamma.name].dataSync(), bwd.dgamma!, BWD.atol * ROWS, BWD.rtol);
        }
        tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
      }
      const after = tf.memory();
      assert.equal(after.numTensors, before.numTensors, 'tensors');
      assert.equal(after.numDataBuffers, before.numDataBuffers, 'data buffers');
      tf.dispose([x, w, gConst, gammaConst]);
      tf.disposeVariables();
    });

    if (backend === 'wasm') {
      it('our kernels run on tfjs\'s own memory: no copy in or out across forward + backward', () => {
        const b = tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory }; HEAPU8: Uint8Array } };
        const entry = tfjsHeapState(tf.backend());
        assert.ok(entry !== null, 'our module instantiates on the tfjs wasm heap');
        assert.equal(entry.state.memory, b.wasm.asm.memory, 'the same WebAssembly.Memory');
        assert.equal(entry.state.memory.buffer, b.wasm.HEAPU8.buffer);
        const s = setup(61);
        const x = tf.tensor2d(s.xs, [ROWS, COLS]);
        const w = tf.tensor2d(s.ws, [ROWS, COLS]);
        const g = tf.variable(tf.tensor2d(s.gs, [ROWS, COLS]));
        const gamma = tf.variable(tf.ones([COLS]));
        const beta = tf.variable(tf.zeros([COLS]));
        const copied = () => _copyStats.bytesIn + _copyStats.bytesOut;
        const start = copied();
        const rms = tf.variableGrads(() => tf.sum(tf.mul(rmsNorm(tf.mul(x, g), gamma, { p: 0.5 }), w)) as tf.Scalar, [g, gamma]);
        const ln = tf.variableGrads(() => tf.sum(tf.mul(layerNorm(tf.mul(x, g), gamma, beta), w)) as tf.Scalar, [g, gamma, beta]);
        assert.equal(copied() - start, 0, 'bytes copied between tfjs tensors and our kernels');
        tf.dispose([x, w, rms.value, ln.value, ...Object.values(rms.grads), ...Object.values(ln.grads)]);
        tf.disposeVariables();
      });

      it('heap growth between forward and backward: views are re-made, results stay right', () => {
        const memory = tfjsHeapState(tf.backend())!.state.memory;
        const s = setup(71);
        const x = tf.tensor2d(s.xs, [ROWS, COLS]);
        const w = tf.tensor2d(s.ws, [ROWS, COLS]);
        const g = tf.variable(tf.tensor2d(s.gs, [ROWS, COLS]));
        const bytes = memory.buffer.byteLength;
        const { grads } = tf.variableGrads(() => {
          const y = rmsNorm(tf.mul(x, g));
          tf.zeros([bytes / 4 + 1024]).dispose(); // larger than the whole heap: tfjs must grow it
          return tf.sum(tf.mul(y, w)) as tf.Scalar;
        }, [g]);
        assert.ok(memory.buffer.byteLength > bytes, 'the heap grew');
        const bwd = rmsNormBackwardRef(s.ws, s.hs, COLS);
        assertClose('dg after growth', grads[g.name].dataSync(), dgExpected(s, bwd.dx), BWD.atol, BWD.rtol);
        tf.dispose([x, w, ...Object.values(grads)]);
        tf.disposeVariables();
      });

      it('the kernel module has no data segment (instantiating it writes nothing into tfjs\'s memory)', () => {
        const bytes = Uint8Array.from(atob(wasmBase64), (c) => c.charCodeAt(0));
        assert.ok(!sectionIds(bytes).includes(11), `sections ${sectionIds(bytes).join(',')} include a data section`);
      });
    }
  });
}
