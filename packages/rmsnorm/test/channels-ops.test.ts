// The public ops with options.channels (channels-last spatial norms): rmsNorm / l2Norm / layerNorm and their
// backwards on every backend (plain arrays and, on wasm, zero-copy buffers) against the float64 row reference on the
// transposed data (channels-ref.ts), and the op layer's validation of the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocFloat32, availableBackends, freeFloat32, l2Norm, l2NormBackward, layerNorm, layerNormBackward, rmsNorm,
  rmsNormBackward, addRmsNorm,
} from '../src/index.js';
import { partialK } from '../src/ops/partial-k.js';
import { Rng } from '../src/check/random.js';
import { channelsExpected, toRows, type ChannelsSpec } from './channels-ref.js';
import { compareArrays, describeComparison } from './compare.js';
import { tolerance, type Direction, type ToleranceBackend, type ToleranceOp } from './tolerance.js';

const SHAPES = [
  { blocks: 3, cols: 49, channels: 8 },
  { blocks: 2, cols: 7, channels: 5 },
  { blocks: 1, cols: 196, channels: 16 },
];

interface OpCase {
  op: ToleranceOp;
  p: number;
  epsOutside: boolean;
  gammaOffset: number;
}

const CASES: OpCase[] = [
  { op: 'rmsNorm', p: 1, epsOutside: false, gammaOffset: 0 },
  { op: 'rmsNorm', p: 0.125, epsOutside: true, gammaOffset: 1 },
  { op: 'l2Norm', p: 1, epsOutside: false, gammaOffset: 0 },
  { op: 'layerNorm', p: 1, epsOutside: false, gammaOffset: 0 },
];

function normal(rng: Rng, n: number, mean = 0, std = 1): Float32Array {
  return Float32Array.from({ length: n }, () => mean + std * rng.normal());
}

/** Forward and backward of one case through the public ops; arrays from `make` (plain or zero-copy). */
function runOps(c: OpCase, shape: typeof SHAPES[number], backend: ToleranceBackend, make: (a: Float32Array) => Float32Array) {
  const rng = Rng.from(7, `${c.op}/${shape.cols}/${shape.channels}`);
  const n = shape.blocks * shape.cols * shape.channels;
  const x = make(normal(rng, n));
  const dy = make(normal(rng, n));
  const gamma = make(normal(rng, shape.channels, c.gammaOffset === 0 ? 1 : 0, 0.2));
  const beta = make(normal(rng, shape.channels, 0, 0.5));
  const { channels, cols } = shape;
  if (c.op === 'layerNorm') {
    const o = { channels, gamma, beta, backend, eps: 1e-5 };
    const f = layerNorm(x, cols, o);
    const b = layerNormBackward(dy, x, f.mean, f.rstd, cols, o);
    return { x, dy, gamma, beta, y: f.y, rstd: f.rstd, mean: f.mean as Float32Array | null, ...b };
  }
  const o = { channels, gamma, beta, backend, eps: 1e-5, epsPlacement: c.epsOutside ? 'outside' as const : 'inside' as const, gammaOffset: c.gammaOffset };
  const f = c.op === 'l2Norm' ? l2Norm(x, cols, o) : rmsNorm(x, cols, { ...o, p: c.p });
  const b = c.op === 'l2Norm' ? l2NormBackward(dy, x, f.rstd, cols, o) : rmsNormBackward(dy, x, f.rstd, cols, { ...o, p: c.p });
  return { x, dy, gamma, beta, y: f.y, rstd: f.rstd, mean: null, ...b };
}

function check(c: OpCase, shape: typeof SHAPES[number], backend: ToleranceBackend, r: ReturnType<typeof runOps>): void {
  const k = c.op === 'rmsNorm' ? partialK(c.p, shape.cols, 'ceil') : shape.cols;
  const spec: ChannelsSpec = {
    ...shape, op: c.op, gamma: r.gamma, beta: r.beta, gammaOffset: c.gammaOffset, eps: 1e-5, epsOutside: c.epsOutside, k,
  };
  const e = channelsExpected(spec, r.x, r.dy);
  const cmp = (name: string, dir: Direction, actual: ArrayLike<number>, want: ArrayLike<number>, row: number, scale?: ArrayLike<number>) => {
    const res = compareArrays(actual, want, tolerance(backend, c.op, dir), row, scale);
    assert.ok(res.ok, `${backend} ${c.op} p=${c.p} ${JSON.stringify(shape)}: ${describeComparison(name, res)}`);
  };
  cmp('y', 'forward', toRows(r.y, shape), e.y, shape.cols, e.yScale);
  cmp('rstd', 'forward', r.rstd, e.rstd, 1);
  if (r.mean !== null) cmp('mean', 'forward', r.mean, e.mean!, 1, e.meanScale);
  // The backward ran from the op's own (f32) rstd/mean; the reference's are f64, within the forward tolerance.
  cmp('dx', 'backward', toRows(r.dx, shape), e.dx, shape.cols, e.dxScale);
  cmp('dgamma', 'backward', r.dgamma!, e.dgamma, 1, e.dgammaScale);
  cmp('dbeta', 'backward', r.dbeta!, e.dbeta, 1, e.dbetaScale);
}

for (const backend of ['js', 'wasm'] as const) {
  test(`public ops with options.channels vs the float64 reference (${backend}, plain arrays)`, (t) => {
    if (!availableBackends().includes(backend)) return t.skip(`${backend} backend unavailable here`);
    for (const c of CASES) for (const shape of SHAPES) check(c, shape, backend, runOps(c, shape, backend, (a) => a));
  });
}

test('public ops with options.channels on zero-copy wasm buffers', (t) => {
  if (!availableBackends().includes('wasm')) return t.skip('wasm backend unavailable here');
  const made: Float32Array[] = [];
  const zeroCopy = (a: Float32Array) => {
    const v = allocFloat32(a.length);
    v.set(a);
    made.push(v);
    return v;
  };
  try {
    for (const c of CASES) check(c, SHAPES[0], 'wasm', runOps(c, SHAPES[0], 'wasm', zeroCopy));
  } finally {
    for (const v of made) freeFloat32(v);
  }
});

test('options.channels: typed errors naming the option', () => {
  const x = new Float32Array(2 * 5 * 3);
  assert.throws(() => rmsNorm(x, 5, { channels: 4 }), /x\.length must be a multiple of cols·channels \(5·4\), got 30/);
  assert.throws(() => rmsNorm(x, 5, { channels: 0 }), RangeError);
  assert.throws(() => layerNorm(x, 5, { channels: 1.5 }), /options\.channels must be a positive integer/);
  assert.throws(() => l2Norm(x, 5, { channels: '3' as never }), TypeError);
  assert.throws(() => rmsNorm(x, 5, { channels: 3, gamma: new Float32Array(5) }), /options\.gamma must have length 3 \(options\.channels\), got 5/);
  assert.throws(() => rmsNorm(new Uint16Array(30), 5, { channels: 3, dtype: 'bfloat16' }), /options\.channels needs dtype 'float32'/);
  assert.throws(() => addRmsNorm(x, x, 5, { channels: 3 } as never), /options\.channels is not a known option/);
  const f = rmsNorm(x, 5, { channels: 3, gamma: new Float32Array(3).fill(1) });
  assert.equal(f.rstd.length, 6);
  assert.throws(
    () => rmsNormBackward(x, x, f.rstd, 5, { channels: 3, gamma: new Float32Array(3), out: { dgamma: new Float32Array(5) } }),
    /options\.out\.dgamma must have length 3 \(options\.channels\)/,
  );
});
