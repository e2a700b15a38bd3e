// Plain-array calls too large for the caches run in row chunks on the wasm backend (src/backends/wasm/job.ts
// executeChunked): their results must match the float64 reference (the tolerance table) and be bit-identical to the
// same call on zero-copy buffers, which runs the kernel once over all rows — for every row op, with the row count
// not a multiple of the chunk, dgamma/dbeta summed across chunks, and in place.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { _copyStats } from '../src/backends/wasm/job.js';
import {
  addRmsNorm, addRmsNormBackward, allocFloat32, allocUint16, freeFloat32, freeUint16, initThreads, l2Norm,
  l2NormBackward, layerNorm, layerNormBackward, reference, rmsNorm, rmsNormBackward, terminateThreads,
} from '../src/index.js';
import { randomCase } from '../src/check/run-case.js';
import { describeComparison, mulberry32, runCase, type NormCase } from './compare.js';
import { tolerance, type ToleranceOp } from './tolerance.js';

// 300 × 3600: x and y alone are 8.6 MB of scratch (chunked from 4 MiB), 32-row chunks, the last one 12 rows
const rows = 300;
const cols = 3600;

interface Outputs { [name: string]: Float32Array | null | undefined }

/** Forward then backward of case c with the given arrays (plain or zero-copy), all outputs returned. */
function run(c: NormCase, x: Float32Array, dy: Float32Array, gamma: Float32Array, beta: Float32Array): Outputs {
  if (c.op === 'layerNorm') {
    const f = layerNorm(x, cols, { backend: 'wasm', gamma, beta });
    const b = layerNormBackward(dy, x, f.mean, f.rstd, cols, { backend: 'wasm', gamma, beta });
    return { y: f.y, mean: f.mean, rstd: f.rstd, dx: b.dx, dgamma: b.dgamma, dbeta: b.dbeta };
  }
  if (c.op === 'l2Norm') {
    const f = l2Norm(x, cols, { backend: 'wasm', gamma, beta });
    const b = l2NormBackward(dy, x, f.rstd, cols, { backend: 'wasm', gamma, beta });
    return { y: f.y, rstd: f.rstd, dx: b.dx, dgamma: b.dgamma, dbeta: b.dbeta };
  }
  const o = { backend: 'wasm' as const, gamma, beta, p: c.p, epsPlacement: c.epsPlacement };
  const f = rmsNorm(x, cols, o);
  const b = rmsNormBackward(dy, x, f.rstd, cols, o);
  return { y: f.y, rstd: f.rstd, dx: b.dx, dgamma: b.dgamma, dbeta: b.dbeta };
}

/** A zero-copy copy of a (freed by the caller). */
function resident(a: Float32Array): Float32Array {
  const r = allocFloat32(a.length);
  r.set(a);
  return r;
}

function assertSameBits(name: string, actual: Float32Array | Uint16Array, expected: Float32Array | Uint16Array): void {
  assert.equal(actual.length, expected.length, `${name}: length`);
  const bits = (v: Float32Array | Uint16Array) => (v instanceof Uint16Array ? v : new Uint32Array(v.buffer, v.byteOffset, v.length));
  const a = bits(actual);
  const e = bits(expected);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${name}[${i}]: chunked ${actual[i]} vs one call ${expected[i]}`);
  }
}

const cases: NormCase[] = [
  { name: 'rmsNorm', op: 'rmsNorm', cols },
  { name: 'pRMSNorm p=0.0625, eps outside', op: 'rmsNorm', cols, p: 0.0625, epsPlacement: 'outside' },
  { name: 'l2Norm', op: 'l2Norm', cols },
  { name: 'layerNorm', op: 'layerNorm', cols },
].map((f, i) => randomCase(mulberry32(40 + i), rows, f as Omit<NormCase, 'x' | 'dy' | 'gamma' | 'beta'>));

describe('wasm plain-array calls in row chunks', () => {
  for (const c of cases) {
    it(`${c.name} ${rows}x${cols}: within the tolerance table of the float64 reference, in chunks`, () => {
      const before = _copyStats.chunks;
      const r = runCase(c, 'wasm', (d) => tolerance('wasm', c.op as ToleranceOp, d));
      // forward and backward: ⌈300 / 32⌉ = 10 chunks each
      assert.equal(_copyStats.chunks - before, 20, 'both calls ran in 32-row chunks');
      for (const [dir, comps] of [['forward', r.forward], ['backward', r.backward]] as const) {
        for (const [name, comp] of Object.entries(comps)) assert.ok(comp.ok, `${dir} ${describeComparison(name, comp)}`);
      }
    });

    it(`${c.name}: chunked results are bit-identical to one call on zero-copy buffers`, () => {
      const plain = run(c, c.x, c.dy, c.gamma!, c.beta!);
      const x = resident(c.x);
      const dy = resident(c.dy);
      const before = _copyStats.chunks;
      const zero = run(c, x, dy, c.gamma!, c.beta!);
      assert.equal(_copyStats.chunks, before, 'the zero-copy call is not chunked');
      for (const name of Object.keys(plain)) assertSameBits(name, plain[name]!, zero[name]!);
      freeFloat32(x);
      freeFloat32(dy);
    });
  }

  it('in place (y = x, dx = dy) in chunks: the same bits as out of place', () => {
    const c = cases[0];
    const o = { backend: 'wasm' as const, gamma: c.gamma, beta: c.beta };
    const f = rmsNorm(c.x, cols, o);
    const b = rmsNormBackward(c.dy, c.x, f.rstd, cols, o);
    const x = c.x.slice();
    const dy = c.dy.slice();
    const before = _copyStats.chunks;
    const fi = rmsNorm(x, cols, { ...o, out: { y: x } });
    rmsNormBackward(dy, c.x, fi.rstd, cols, { ...o, out: { dx: dy } });
    assert.equal(_copyStats.chunks - before, 20);
    assertSameBits('y (in place)', x, f.y);
    assertSameBits('dx (in place)', dy, b.dx);
  });

  it('with a worker pool, large plain-array calls still run in chunks on the calling thread: the same bits', async () => {
    const c = cases[3];
    const x16 = reference.encodeArray(c.x, 'bfloat16');
    const bf16 = { backend: 'wasm' as const, dtype: 'bfloat16' as const };
    const oneThread = run(c, c.x, c.dy, c.gamma!, c.beta!);
    const y16 = layerNorm(x16, cols, bf16).y;
    await initThreads(2, { minElements: 0, wakeMinElements: 0 }); // every job this size would be split across threads
    try {
      const before = _copyStats.chunks;
      const pooled = run(c, c.x, c.dy, c.gamma!, c.beta!);
      const pooled16 = layerNorm(x16, cols, bf16).y;
      assert.equal(_copyStats.chunks - before, 30, 'forward, backward (job.ts) and the bf16 forward (half-job.ts) in chunks');
      for (const name of Object.keys(oneThread)) assertSameBits(name, pooled[name]!, oneThread[name]!);
      assertSameBits('y (bfloat16)', pooled16, y16);
    } finally {
      await terminateThreads();
    }
  });

  it('a plain-array call below the chunking size runs in one piece', () => {
    const c = randomCase(mulberry32(9), 64, { name: 'small', op: 'rmsNorm', cols: 1024 });
    const before = _copyStats.chunks;
    rmsNorm(c.x, 1024, { backend: 'wasm', gamma: c.gamma });
    assert.equal(_copyStats.chunks, before);
  });

  // the fused add and 16-bit storage run through half-job.ts: the same chunking, byte copies, the DTYPE slot
  for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
    it(`addRmsNorm ${dtype} ${rows}x${cols} (forward, backward with dsum, sum = residual in place): chunked = one call`, () => {
      const c = cases[0];
      const store = (v: Float32Array) => (dtype === 'float32' ? v.slice() : reference.encodeArray(v, dtype));
      const x = store(c.x);
      const res = store(c.dy.map((v) => 0.5 * v));
      const dy = store(c.dy.map((v, i) => c.x[(i * 7) % c.x.length] - v));
      const o = { backend: 'wasm' as const, dtype, gamma: c.gamma, beta: c.beta };
      const before = _copyStats.chunks;
      const stream = res.slice();
      const f = addRmsNorm(x, stream, cols, { ...o, out: { sum: stream } });
      const b = addRmsNormBackward(dy, res, f.sum, f.rstd, cols, o);
      assert.equal(_copyStats.chunks - before, 20, 'forward and backward ran in 32-row chunks');
      const alloc = (v: Float32Array | Uint16Array) => {
        const r = v instanceof Uint16Array ? allocUint16(v.length) : allocFloat32(v.length);
        r.set(v);
        return r;
      };
      const [zx, zres, zdy] = [alloc(x), alloc(res), alloc(dy)];
      const zf = addRmsNorm(zx, zres, cols, o);
      const zb = addRmsNormBackward(zdy, zres, zf.sum, zf.rstd, cols, o);
      assert.equal(_copyStats.chunks - before, 20, 'the zero-copy calls are not chunked');
      for (const [name, a, e] of [['y', f.y, zf.y], ['sum', stream, zf.sum], ['rstd', f.rstd, zf.rstd], ['dx', b.dx, zb.dx],
        ['dgamma', b.dgamma!, zb.dgamma!], ['dbeta', b.dbeta!, zb.dbeta!]] as const) assertSameBits(name, a, e);
      for (const v of [zx, zres, zdy]) (v instanceof Uint16Array ? freeUint16(v) : freeFloat32(v));
    });
  }

  it(`layerNorm bfloat16 ${rows}x${cols}: chunked = one call`, () => {
    const c = cases[3];
    const x = reference.encodeArray(c.x, 'bfloat16');
    const dy = reference.encodeArray(c.dy, 'bfloat16');
    const o = { backend: 'wasm' as const, dtype: 'bfloat16' as const, gamma: c.gamma, beta: c.beta };
    const before = _copyStats.chunks;
    const f = layerNorm(x, cols, o);
    const b = layerNormBackward(dy, x, f.mean, f.rstd, cols, o);
    assert.equal(_copyStats.chunks - before, 20);
    const zx = allocUint16(x.length);
    const zdy = allocUint16(dy.length);
    zx.set(x);
    zdy.set(dy);
    const zf = layerNorm(zx, cols, o);
    const zb = layerNormBackward(zdy, zx, zf.mean, zf.rstd, cols, o);
    for (const [name, a, e] of [['y', f.y, zf.y], ['mean', f.mean, zf.mean], ['rstd', f.rstd, zf.rstd], ['dx', b.dx, zb.dx],
      ['dgamma', b.dgamma!, zb.dgamma!], ['dbeta', b.dbeta!, zb.dbeta!]] as const) assertSameBits(name, a, e);
    freeUint16(zx);
    freeUint16(zdy);
  });
});
