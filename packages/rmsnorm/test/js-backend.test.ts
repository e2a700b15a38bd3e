// The js backend against the float64 reference: the shared case matrix (which prints the worst f32-vs-f64 error per
// op), plus the buffer contract: inputs untouched, caller outputs filled and returned, in-place y = x and dx = dy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  l2Norm,
  l2NormBackward,
  layerNorm,
  layerNormBackward,
  partialK,
  reference,
  rmsNorm,
  rmsNormBackward,
} from '../src/index.js';
import { describeCaseMatrix } from './cases.js';
import { compareArrays, describeComparison, mulberry32, randomNormal } from './compare.js';
import { tolerance } from './tolerance.js';

describeCaseMatrix('js');

const rows = 3;
const cols = 37;
const rand = mulberry32(2024);
const x = randomNormal(rand, rows * cols);
const dy = randomNormal(rand, rows * cols);
const gamma = randomNormal(rand, cols, 1, 0.2);
const beta = randomNormal(rand, cols, 0, 0.5);

function expectClose(name: string, actual: Float32Array, expected: ArrayLike<number>, op: 'rmsNorm' | 'layerNorm' | 'l2Norm', dir: 'forward' | 'backward', rowLength = cols): void {
  const c = compareArrays(actual, expected, tolerance('js', op, dir), rowLength);
  assert.ok(c.ok, describeComparison(name, c));
}

/** Every op family as (forward, backward, reference) closures over the same options. */
const families = [
  {
    op: 'rmsNorm' as const,
    opts: { gamma, beta, p: 0.5, kRule: 'floor' as const, epsPlacement: 'outside' as const, backend: 'js' as const },
    fwd: (xs: Float32Array, o: object) => rmsNorm(xs, cols, o),
    bwd: (d: Float32Array, xs: Float32Array, f: { rstd: Float32Array }, o: object) => rmsNormBackward(d, xs, f.rstd, cols, o),
    ref: () => {
      const o = { gamma, beta, epsPlacement: 'outside' as const, k: partialK(0.5, cols, 'floor') };
      return { ...reference.rmsNormRef(x, cols, o), ...reference.rmsNormBackwardRef(dy, x, cols, o) };
    },
  },
  {
    op: 'l2Norm' as const,
    opts: { gamma, beta, backend: 'js' as const },
    fwd: (xs: Float32Array, o: object) => l2Norm(xs, cols, o),
    bwd: (d: Float32Array, xs: Float32Array, f: { rstd: Float32Array }, o: object) => l2NormBackward(d, xs, f.rstd, cols, o),
    ref: () => ({ ...reference.l2NormRef(x, cols, { gamma, beta }), ...reference.l2NormBackwardRef(dy, x, cols, { gamma, beta }) }),
  },
  {
    op: 'layerNorm' as const,
    opts: { gamma, beta, backend: 'js' as const },
    fwd: (xs: Float32Array, o: object) => layerNorm(xs, cols, o),
    bwd: (d: Float32Array, xs: Float32Array, f: { rstd: Float32Array; mean?: Float32Array }, o: object) =>
      layerNormBackward(d, xs, f.mean!, f.rstd, cols, o),
    ref: () => ({ ...reference.layerNormRef(x, cols, { gamma, beta }), ...reference.layerNormBackwardRef(dy, x, cols, { gamma, beta }) }),
  },
];

describe('js backend: buffer contract', () => {
  for (const f of families) {
    it(`${f.op}: inputs are never modified`, () => {
      const copies = [x, dy, gamma, beta].map((a) => a.slice());
      const fw = f.fwd(x, f.opts);
      f.bwd(dy, x, fw as never, f.opts);
      [x, dy, gamma, beta].forEach((a, i) => assert.deepEqual(a, copies[i], `input ${i} was modified`));
    });

    it(`${f.op}: caller-provided out buffers are filled and returned (same objects)`, () => {
      const ref = f.ref();
      const out = { y: new Float32Array(rows * cols).fill(NaN), rstd: new Float32Array(rows).fill(NaN), ...(f.op === 'layerNorm' ? { mean: new Float32Array(rows).fill(NaN) } : {}) };
      const fw = f.fwd(x, { ...f.opts, out });
      assert.equal(fw.y, out.y);
      assert.equal(fw.rstd, out.rstd);
      if (f.op === 'layerNorm') assert.equal((fw as unknown as { mean: Float32Array }).mean, out.mean);
      expectClose('y', out.y, ref.y, f.op, 'forward');
      const bout = { dx: new Float32Array(rows * cols).fill(NaN), dgamma: new Float32Array(cols).fill(NaN), dbeta: new Float32Array(cols).fill(NaN) };
      const bw = f.bwd(dy, x, fw as never, { ...f.opts, out: bout });
      assert.equal(bw.dx, bout.dx);
      assert.equal(bw.dgamma, bout.dgamma);
      assert.equal(bw.dbeta, bout.dbeta);
      expectClose('dx', bout.dx, ref.dx, f.op, 'backward');
      expectClose('dgamma', bout.dgamma, ref.dgamma!, f.op, 'backward', cols);
      expectClose('dbeta', bout.dbeta, ref.dbeta!, f.op, 'backward', cols);
    });

    it(`${f.op}: in-place forward (out.y = x) and backward (out.dx = dy) give the reference results`, () => {
      const ref = f.ref();
      const xs = x.slice();
      const fw = f.fwd(xs, { ...f.opts, out: { y: xs } });
      assert.equal(fw.y, xs);
      expectClose('y (in place)', xs, ref.y, f.op, 'forward');
      const fresh = f.fwd(x, f.opts); // backward needs the original x and its saved stats
      const d = dy.slice();
      const bw = f.bwd(d, x, fresh as never, { ...f.opts, out: { dx: d } });
      assert.equal(bw.dx, d);
      expectClose('dx (in place)', d, ref.dx, f.op, 'backward');
    });

    it(`${f.op}: dgamma/dbeta are null exactly when gamma/beta are absent`, () => {
      const o = { backend: 'js' as const };
      const fw = f.fwd(x, o);
      const bw = f.bwd(dy, x, fw as never, o);
      assert.equal(bw.dgamma, null);
      assert.equal(bw.dbeta, null);
      const bw2 = f.bwd(dy, x, f.fwd(x, { gamma, backend: 'js' }) as never, { gamma, backend: 'js' });
      assert.ok(bw2.dgamma instanceof Float32Array);
      assert.equal(bw2.dbeta, null);
    });
  }
});
