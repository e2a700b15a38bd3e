// Zero-copy buffers of the wasm backend: arrays from allocFloat32 are used in place (nothing copied, the returned
// outputs are the very views passed), results match the float64 reference, and memory growth never breaks them.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { _resetWasm } from '../src/backends/wasm/index.js';
import { _copyStats } from '../src/backends/wasm/job.js';
import {
  allocFloat32,
  BackendUnavailableError,
  freeFloat32,
  initThreads,
  isWasmBuffer,
  reference,
  refreshFloat32,
  rmsNorm,
  rmsNormBackward,
  wasmMemoryBytes,
} from '../src/index.js';
import { compareArrays, describeComparison, mulberry32, randomNormal } from './compare.js';
import { tolerance } from './tolerance.js';

const rows = 9;
const cols = 131;

function expectClose(name: string, actual: Float32Array, expected: ArrayLike<number>, dir: 'forward' | 'backward', rowLength = cols): void {
  const c = compareArrays(actual, expected, tolerance('wasm', 'rmsNorm', dir), rowLength);
  assert.ok(c.ok, describeComparison(name, c));
}

function copied(): number {
  return _copyStats.bytesIn + _copyStats.bytesOut;
}

describe('wasm zero-copy buffers', () => {
  it('allocFloat32 gives zero-filled views in wasm memory; plain arrays are not wasm buffers', () => {
    const a = allocFloat32(100);
    assert.ok(a instanceof Float32Array);
    assert.equal(a.length, 100);
    assert.ok(a.every((v) => v === 0));
    assert.ok(isWasmBuffer(a));
    assert.ok(isWasmBuffer(a.subarray(3, 7)));
    assert.ok(!isWasmBuffer(new Float32Array(100)));
    freeFloat32(a);
    assert.throws(() => freeFloat32(a), RangeError);
    assert.throws(() => freeFloat32(new Float32Array(4)), RangeError);
    assert.throws(() => allocFloat32(-1), RangeError);
  });

  it('forward and backward on wasm buffers copy nothing, return the same views and match the reference', () => {
    const rand = mulberry32(11);
    const xs = randomNormal(rand, rows * cols);
    const dys = randomNormal(rand, rows * cols);
    const gs = randomNormal(rand, cols, 1, 0.2);
    const bs = randomNormal(rand, cols, 0, 0.5);
    const [x, dy, gamma, beta, y, rstd, dx, dgamma, dbeta] = [
      rows * cols, rows * cols, cols, cols, rows * cols, rows, rows * cols, cols, cols,
    ].map((n) => allocFloat32(n));
    x.set(xs);
    dy.set(dys);
    gamma.set(gs);
    beta.set(bs);
    const before = copied();
    const fw = rmsNorm(x, cols, { gamma, beta, p: 0.5, backend: 'wasm', out: { y, rstd } });
    const bw = rmsNormBackward(dy, x, rstd, cols, { gamma, beta, p: 0.5, backend: 'wasm', out: { dx, dgamma, dbeta } });
    assert.equal(copied(), before, 'a call on wasm buffers must not copy');
    assert.equal(fw.y, y);
    assert.equal(fw.rstd, rstd);
    assert.equal(bw.dx, dx);
    assert.equal(bw.dgamma, dgamma);
    assert.equal(bw.dbeta, dbeta);
    const k = Math.ceil(cols * 0.5);
    const ref = reference.rmsNormRef(xs, cols, { gamma: gs, beta: bs, k });
    const refB = reference.rmsNormBackwardRef(dys, xs, cols, { gamma: gs, beta: bs, k });
    expectClose('y', y, ref.y, 'forward');
    expectClose('rstd', rstd, ref.rstd, 'forward', 1);
    expectClose('dx', dx, refB.dx, 'backward');
    expectClose('dgamma', dgamma, refB.dgamma!, 'backward', cols);
    expectClose('dbeta', dbeta, refB.dbeta!, 'backward', cols);
    // Plain arrays still work, through the scratch copy.
    const plain = rmsNorm(xs, cols, { gamma: gs, beta: bs, p: 0.5, backend: 'wasm' });
    assert.ok(copied() > before, 'plain arrays are copied in and out');
    assert.ok(!isWasmBuffer(plain.y));
    expectClose('y (plain)', plain.y, ref.y, 'forward');
    for (const a of [x, dy, gamma, beta, y, rstd, dx, dgamma, dbeta]) freeFloat32(a);
  });

  it('unaligned subarrays of wasm buffers are used in place', () => {
    const rand = mulberry32(12);
    const xs = randomNormal(rand, rows * cols);
    const xb = allocFloat32(rows * cols + 1);
    const yb = allocFloat32(rows * cols + 3);
    const x = xb.subarray(1);
    const y = yb.subarray(3);
    x.set(xs);
    const before = copied();
    const { rstd } = rmsNorm(x, cols, { backend: 'wasm', out: { y } });
    assert.equal(copied(), before + rstd.byteLength, 'only the plain rstd output is copied');
    expectClose('y', y, reference.rmsNormRef(xs, cols).y, 'forward');
    assert.equal(yb[0] + yb[1] + yb[2], 0, 'nothing written before the view');
    freeFloat32(xb);
    freeFloat32(yb);
  });

  it('memory growth: old views keep their data and stay usable, refreshFloat32 re-derives the same buffer', () => {
    const rand = mulberry32(13);
    const xs = randomNormal(rand, rows * cols);
    const x = allocFloat32(rows * cols);
    const y = allocFloat32(rows * cols);
    const rstd = allocFloat32(rows);
    x.set(xs);
    const size0 = wasmMemoryBytes();
    const big = allocFloat32(24 * 1024 * 1024); // 96 MiB: forces growth
    assert.ok(wasmMemoryBytes() > size0, 'memory grew');
    // With shared memory (Node) growth detaches nothing; with a private memory the views would be length 0 and must
    // be refreshed. Either way refreshFloat32 returns a current view of the same block.
    const x2 = refreshFloat32(x);
    const y2 = refreshFloat32(y);
    const rstd2 = refreshFloat32(rstd);
    assert.equal(x2.byteOffset, x.length === 0 ? x2.byteOffset : x.byteOffset);
    assert.deepEqual(x2, Float32Array.from(xs), 'data survives growth');
    const before = copied();
    rmsNorm(x2, cols, { backend: 'wasm', out: { y: y2, rstd: rstd2 } });
    assert.equal(copied(), before);
    const ref = reference.rmsNormRef(xs, cols);
    expectClose('y after growth', y2, ref.y, 'forward');
    if (x.length !== 0) {
      // shared memory: the pre-growth views are still resident, alias the same memory and work zero-copy
      assert.ok(isWasmBuffer(x) && isWasmBuffer(y));
      y.fill(0);
      rmsNorm(x, cols, { backend: 'wasm', out: { y, rstd } });
      assert.equal(copied(), before);
      expectClose('y via old view', y2, ref.y, 'forward');
    }
    // A call mixing wasm buffers with a large plain output grows the scratch block mid-call: still correct.
    const yPlain = new Float32Array(big.length);
    const bigX = big;
    bigX.fill(2);
    const out = rmsNorm(bigX, 1024, { backend: 'wasm', out: { y: yPlain } });
    assert.ok(Math.abs(yPlain[12345] - 1) < 1e-6 && Math.abs(out.rstd[7] - 0.5) < 1e-6);
    freeFloat32(big);
    for (const a of [x2, y2, rstd2]) freeFloat32(a);
  });

  it('repeated calls on plain arrays reuse the scratch block (memory stops growing)', () => {
    const rand = mulberry32(15);
    const xs = randomNormal(rand, 64 * 300);
    const dys = randomNormal(rand, 64 * 300);
    const gamma = randomNormal(rand, 300, 1, 0.2);
    const { rstd } = rmsNorm(xs, 300, { gamma, backend: 'wasm' });
    rmsNormBackward(dys, xs, rstd, 300, { gamma, backend: 'wasm' });
    const size = wasmMemoryBytes();
    for (let i = 0; i < 20; i++) {
      rmsNorm(xs, 300, { gamma, backend: 'wasm' });
      rmsNormBackward(dys, xs, rstd, 300, { gamma, backend: 'wasm' });
    }
    assert.equal(wasmMemoryBytes(), size);
  });

  it('freed blocks are reused (no unbounded growth across alloc/free cycles)', () => {
    const size0 = wasmMemoryBytes();
    for (let i = 0; i < 50; i++) freeFloat32(allocFloat32(1 << 20));
    assert.equal(wasmMemoryBytes(), size0);
  });
});

describe('wasm buffers: freed, hand-made and non-array arguments (issue #12)', () => {
  it('use after free: a freed view is refused by every op on every backend and by isWasmBuffer; live data survives', () => {
    const a = allocFloat32(8);
    freeFloat32(a);
    const b = allocFloat32(8); // typically reuses a's block
    b.fill(10);
    assert.equal(isWasmBuffer(a), false, 'freed view');
    for (const backend of ['js', 'wasm'] as const) {
      const xs = new Float32Array(8).fill(5);
      assert.throws(() => rmsNorm(xs, 4, { backend, out: { y: a } }), /^RangeError: options\.out\.y is a view of the wasm memory outside every live/);
      assert.throws(() => rmsNorm(a, 4, { backend }), /^RangeError: x is a view of the wasm memory/);
      assert.throws(() => rmsNormBackward(xs, xs, new Float32Array(2), 4, { backend, out: { dx: a } }), /options\.out\.dx is a view/);
    }
    assert.deepEqual(b, new Float32Array(8).fill(10), 'the live buffer was not touched');
    assert.equal(isWasmBuffer(b), true);
    assert.equal(isWasmBuffer(b.subarray(1, 3)), true);
    freeFloat32(b);
  });

  it('a view made by hand on the wasm memory (address 0: static data) is refused, not read as "absent"', () => {
    const live = allocFloat32(4);
    const atZero = new Float32Array(live.buffer, 0, 4);
    assert.equal(isWasmBuffer(atZero), false);
    const xs = new Float32Array([1, 1, 1, 1]);
    for (const backend of ['js', 'wasm'] as const) {
      assert.throws(() => rmsNorm(xs, 4, { backend, gamma: atZero }), /^RangeError: options\.gamma is a view of the wasm memory/);
    }
    // the same gain through a live buffer is honoured on both backends (y = 2, not 1)
    live.fill(2);
    for (const backend of ['js', 'wasm'] as const) {
      assert.deepEqual(rmsNorm(xs, 4, { backend, gamma: live, eps: 0 }).y, new Float32Array(4).fill(2), backend);
    }
    freeFloat32(live);
  });

  it('isWasmBuffer of a non-array (null, undefined, a number, a plain array) is false, not a TypeError', () => {
    for (const v of [null, undefined, 0, 'x', [1, 2], {}, new DataView(new ArrayBuffer(4))]) {
      assert.equal(isWasmBuffer(v as never), false, String(v));
    }
  });
});

describe('wasm buffers on a private (non-shared) memory, as in browsers without cross-origin isolation', () => {
  after(() => _resetWasm()); // back to the default (shared) instance for anything that runs later

  it('growth detaches old views; refreshFloat32 restores them with their data; calls stay correct', async () => {
    _resetWasm({ shared: false });
    await assert.rejects(initThreads(2), BackendUnavailableError, 'threads need shared memory');
    const rand = mulberry32(14);
    const xs = randomNormal(rand, rows * cols);
    let x = allocFloat32(rows * cols);
    let y = allocFloat32(rows * cols);
    let rstd = allocFloat32(rows);
    assert.ok(!(x.buffer instanceof SharedArrayBuffer), 'private memory');
    x.set(xs);
    const big = allocFloat32(24 * 1024 * 1024); // grows the memory: x, y, rstd detach
    assert.equal(x.length, 0, 'a view on a private memory detaches when it grows');
    assert.ok(!isWasmBuffer(x));
    // a stale view is a typed error naming it, never a silent rows = 0 (issue #12 item 2)
    assert.throws(() => rmsNorm(x, cols, { backend: 'wasm' }), /^TypeError: x is detached.*refreshFloat32/);
    assert.throws(() => rmsNorm(xs, cols, { backend: 'wasm', out: { y, rstd } }), /^TypeError: options\.out\.y is detached/);
    x = refreshFloat32(x);
    y = refreshFloat32(y);
    rstd = refreshFloat32(rstd);
    assert.deepEqual(x, Float32Array.from(xs), 'data survives growth');
    const before = copied();
    rmsNorm(x, cols, { backend: 'wasm', out: { y, rstd } });
    assert.equal(copied(), before, 'refreshed views are used in place');
    expectClose('y', y, reference.rmsNormRef(xs, cols).y, 'forward');
    // A plain-array call that grows the scratch block mid-call still computes from the right addresses.
    freeFloat32(big);
    const xPlain = randomNormal(rand, 3 * 1024 * 1024);
    const gamma = refreshFloat32(allocFloat32(1024)).fill(1);
    const out = rmsNorm(xPlain, 1024, { gamma, backend: 'wasm' });
    const ref = reference.rmsNormRef(xPlain.subarray(0, 4 * 1024), 1024);
    expectClose('y (plain, scratch grown)', out.y.subarray(0, 4 * 1024), ref.y, 'forward', 1024);
  });
});
