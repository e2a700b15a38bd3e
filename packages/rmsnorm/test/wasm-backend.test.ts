// The wasm SIMD backend against the float64 reference: the shared case matrix on one thread, unaligned offsets,
// in-place calls, untouched inputs, and backend selection ('auto' → wasm when SIMD works, else js).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { resolveBackend } from '../src/backends/backend.js';
import { _setSimdOverride, initWasm } from '../src/backends/wasm/index.js';
import {
  availableBackends,
  BackendUnavailableError,
  layerNorm,
  layerNormBackward,
  reference,
  rmsNorm,
  rmsNormBackward,
} from '../src/index.js';
import { describeCaseMatrix } from './cases.js';
import { compareArrays, describeComparison, mulberry32, randomNormal } from './compare.js';
import { tolerance } from './tolerance.js';

describeCaseMatrix('wasm');

function expectClose(name: string, actual: Float32Array, expected: ArrayLike<number>, op: 'rmsNorm' | 'layerNorm', dir: 'forward' | 'backward', rowLength: number): void {
  const c = compareArrays(actual, expected, tolerance('wasm', op, dir), rowLength);
  assert.ok(c.ok, describeComparison(name, c));
}

describe('wasm backend: buffers and layouts', () => {
  const rand = mulberry32(77);
  const rows = 6;
  const cols = 45; // not a multiple of 4: SIMD body + scalar tail
  const gamma = randomNormal(rand, cols, 1, 0.2);
  const beta = randomNormal(rand, cols, 0, 0.5);

  it('inputs at unaligned offsets (subarray starting at element 1, 2, 3) give the reference results', () => {
    for (const shift of [1, 2, 3]) {
      const backing = randomNormal(rand, rows * cols + 8);
      const x = backing.subarray(shift, shift + rows * cols);
      const dyBacking = randomNormal(rand, rows * cols + 8);
      const dy = dyBacking.subarray(shift, shift + rows * cols);
      const yBacking = new Float32Array(rows * cols + 8);
      const y = yBacking.subarray(shift, shift + rows * cols);
      const fw = rmsNorm(x, cols, { gamma, beta, backend: 'wasm', out: { y } });
      assert.equal(fw.y, y);
      const ref = reference.rmsNormRef(x, cols, { gamma, beta });
      expectClose(`y shift ${shift}`, y, ref.y, 'rmsNorm', 'forward', cols);
      const bw = rmsNormBackward(dy, x, fw.rstd, cols, { gamma, beta, backend: 'wasm' });
      const refB = reference.rmsNormBackwardRef(dy, x, cols, { gamma, beta });
      expectClose(`dx shift ${shift}`, bw.dx, refB.dx, 'rmsNorm', 'backward', cols);
      expectClose(`dgamma shift ${shift}`, bw.dgamma!, refB.dgamma!, 'rmsNorm', 'backward', cols);
      assert.equal(yBacking[shift - 1], 0, 'no write before the view');
      assert.equal(yBacking[shift + rows * cols], 0, 'no write after the view');
    }
  });

  it('in-place forward (out.y = x) and backward (out.dx = dy), inputs otherwise untouched', () => {
    const x0 = randomNormal(rand, rows * cols);
    const dy0 = randomNormal(rand, rows * cols);
    const gammaCopy = gamma.slice();
    const ref = reference.layerNormRef(x0, cols, { gamma, beta });
    const refB = reference.layerNormBackwardRef(dy0, x0, cols, { gamma, beta });
    const saved = layerNorm(x0, cols, { gamma, beta, backend: 'wasm' });
    const xs = x0.slice();
    layerNorm(xs, cols, { gamma, beta, backend: 'wasm', out: { y: xs } });
    expectClose('y in place', xs, ref.y, 'layerNorm', 'forward', cols);
    const d = dy0.slice();
    const bw = layerNormBackward(d, x0, saved.mean, saved.rstd, cols, { gamma, beta, backend: 'wasm', out: { dx: d } });
    assert.equal(bw.dx, d);
    expectClose('dx in place', d, refB.dx, 'layerNorm', 'backward', cols);
    assert.deepEqual(gamma, gammaCopy);
  });

  it('dgamma/dbeta are overwritten, not accumulated, across calls', () => {
    const x = randomNormal(rand, rows * cols);
    const dy = randomNormal(rand, rows * cols);
    const { rstd } = rmsNorm(x, cols, { gamma, backend: 'wasm' });
    const out = { dgamma: new Float32Array(cols).fill(123), dbeta: new Float32Array(cols).fill(-5) };
    rmsNormBackward(dy, x, rstd, cols, { gamma, beta, backend: 'wasm', out });
    rmsNormBackward(dy, x, rstd, cols, { gamma, beta, backend: 'wasm', out });
    const refB = reference.rmsNormBackwardRef(dy, x, cols, { gamma, beta });
    expectClose('dgamma', out.dgamma, refB.dgamma!, 'rmsNorm', 'backward', cols);
    expectClose('dbeta', out.dbeta, refB.dbeta!, 'rmsNorm', 'backward', cols);
  });
});

describe('wasm backend: selection', () => {
  after(() => _setSimdOverride(undefined));

  it("'auto' resolves to wasm when SIMD is available (initWasm resolves true)", async () => {
    assert.equal(await initWasm(), true);
    assert.deepEqual(availableBackends(), ['wasm', 'js']);
    assert.equal(resolveBackend('auto').name, 'wasm');
  });

  it("without SIMD: 'auto' falls back to js (and still computes the reference), explicit 'wasm' throws", () => {
    _setSimdOverride(false);
    try {
      assert.deepEqual(availableBackends(), ['js']);
      assert.equal(resolveBackend('auto').name, 'js');
      const x = randomNormal(mulberry32(5), 2 * 7);
      const { y } = rmsNorm(x, 7);
      const c = compareArrays(y, reference.rmsNormRef(x, 7).y, tolerance('js', 'rmsNorm', 'forward'), 7);
      assert.ok(c.ok, describeComparison('y', c));
      assert.throws(() => rmsNorm(x, 7, { backend: 'wasm' }), BackendUnavailableError);
    } finally {
      _setSimdOverride(undefined);
    }
    assert.equal(resolveBackend('auto').name, 'wasm');
  });
});
