// Seeded fuzz suite (issue #12). Part 1: malformed calls to every public op (core ops on every backend, addRmsNorm,
// the tfjs ops on the tfjs cpu backend), each a valid call with ONE argument or option replaced by a bad value: it
// must throw TypeError, RangeError or BackendUnavailableError whose message names the replaced argument, and no input
// may change. Part 2: valid random calls on every available backend (js, wasm, wasm on 2 threads) checked against the
// float64 reference under the tolerance table. Counts are printed. Change SEED to explore; failures name the call.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as core from '../src/index.js';
import { allocFloat32, availableBackends, BackendUnavailableError, freeFloat32, initThreads, terminateThreads } from '../src/index.js';
import { runCase, type NormCase } from '../src/check/run-case.js';
import { mulberry32, randomNormal } from './compare.js';
import { tolerance, type ToleranceOp } from './tolerance.js';
import * as tfOps from '../src/tfjs/index.js';

const SEED = 20261128;
const MALFORMED_CALLS = 6000;
const VALID_CALLS_PER_BACKEND = 1000; // forward + backward each count as one

type Rand = () => number;
const pick = <T>(rand: Rand, list: readonly T[]): T => list[Math.floor(rand() * list.length)];

function detached(n: number): Float32Array {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

let freedView: Float32Array | null = null;
function freed(): Float32Array | null {
  if (freedView === null && availableBackends().includes('wasm')) {
    freedView = allocFloat32(8);
    freeFloat32(freedView);
  }
  return freedView;
}

/** Bad values for an array argument that expects `n` float32 values (none of them acceptable). */
function badArrays(n: number): unknown[] {
  const list: unknown[] = [
    null, 'junk', 42, 10n, Symbol('s'), {}, [1, 2, 3], new Map(), new Float64Array(n), new Uint8Array(n), new Int32Array(n),
    new Float32Array(n + 1), Object.create(Float32Array.prototype), detached(n), () => 0, new Uint16Array(n),
  ];
  if (n > 0) list.push(new Float32Array(n - 1));
  const f = freed();
  if (f !== null) list.push(f);
  return list;
}
const BAD_COLS: unknown[] = [0, -1, 1.5, NaN, Infinity, '4', null, undefined, 3, 10n, {}, Symbol('c')];
const BAD_OPTIONS: unknown[] = [5, 'x', [], new Map([['eps', 1]]), new Set(), null, () => 0, new Date(), true];
const BAD_SCALARS: Record<string, unknown[]> = {
  eps: [-1, NaN, Infinity, -Infinity, '1e-6', null, 10n, {}],
  p: [0, -0.5, 1.5, NaN, '0.5', null, Infinity],
  kRule: ['round', 1, null, {}],
  epsPlacement: ['middle', 0, null, true],
  backend: ['gpu', 5, null, 'JS'],
  gammaOffset: [NaN, Infinity, '1', null, {}],
  dtype: ['float64', 'half', 'Float16', 16, null],
};

interface Call {
  label: string;
  /** Name the error message must contain. */
  names: string;
  run: () => unknown;
  inputs: Float32Array[];
}

const ROWS = 2;
const COLS = 4;
const N = ROWS * COLS;

/** A valid argument set of one core op, as mutable records: positional args and options. */
function coreCall(rand: Rand, op: string, backend: string) {
  const f = (n: number) => randomNormal(rand, n);
  const x = f(N);
  const gamma = rand() < 0.5 ? f(COLS) : undefined;
  const beta = rand() < 0.5 ? f(COLS) : undefined;
  const options: Record<string, unknown> = { backend };
  if (gamma !== undefined) options.gamma = gamma;
  if (beta !== undefined) options.beta = beta;
  const rstd = new Float32Array(ROWS).fill(1);
  const mean = new Float32Array(ROWS);
  const args: Record<string, unknown> = { x, cols: COLS };
  let positional: string[];
  let outKeys: string[];
  switch (op) {
    case 'rmsNorm': case 'l2Norm': case 'layerNorm':
      positional = ['x', 'cols']; outKeys = op === 'layerNorm' ? ['y', 'mean', 'rstd'] : ['y', 'rstd']; break;
    case 'rmsNormBackward': case 'l2NormBackward':
      positional = ['dy', 'x', 'rstd', 'cols']; outKeys = ['dx', 'dgamma', 'dbeta']; args.dy = f(N); args.rstd = rstd; break;
    case 'layerNormBackward':
      positional = ['dy', 'x', 'mean', 'rstd', 'cols']; outKeys = ['dx', 'dgamma', 'dbeta'];
      args.dy = f(N); args.mean = mean; args.rstd = rstd; break;
    case 'addRmsNorm':
      positional = ['x', 'residual', 'cols']; outKeys = ['y', 'sum', 'rstd']; args.residual = f(N); break;
    default: // addRmsNormBackward(dy, dsum, sum, rstd, cols)
      positional = ['dy', 'dsum', 'sum', 'rstd', 'cols']; outKeys = ['dx', 'dgamma', 'dbeta'];
      args.dy = f(N); args.dsum = f(N); args.sum = x; args.rstd = rstd; delete args.x;
  }
  const optionKeys = ['eps', 'backend', 'gamma', 'beta', 'dtype', ...(op.startsWith('layerNorm') ? [] : ['gammaOffset', 'epsPlacement']),
    ...(op.startsWith('rmsNorm') || op.startsWith('addRms') ? ['p', 'kRule'] : [])];
  return { args, positional, options, outKeys, optionKeys };
}

const CORE_OPS = ['rmsNorm', 'rmsNormBackward', 'l2Norm', 'l2NormBackward', 'layerNorm', 'layerNormBackward', 'addRmsNorm', 'addRmsNormBackward'];

/** One malformed core call: a valid call with one thing replaced by a value it must refuse. */
function malformedCoreCall(rand: Rand, backends: readonly string[]): Call | null {
  const ops = core as unknown as Record<string, ((...a: unknown[]) => unknown) | undefined>;
  const op = pick(rand, CORE_OPS.filter((o) => typeof ops[o] === 'function'));
  const { args, positional, options, outKeys, optionKeys } = coreCall(rand, op, pick(rand, backends));
  const lengthOf = (name: string) => (name === 'rstd' || name === 'mean' ? ROWS : N);
  let names: string;
  let what: string;
  const kind = rand();
  if (kind < 0.3) {
    const name = pick(rand, positional);
    if (name === 'cols') {
      args.cols = pick(rand, BAD_COLS);
    } else if (name === 'dsum') {
      args.dsum = pick(rand, badArrays(N).filter((v) => v !== null)); // null dsum means "none"
    } else {
      args[name] = pick(rand, badArrays(lengthOf(name)));
    }
    names = name;
    what = `${name} = ${describeValue(args[name])}`;
  } else if (kind < 0.4) {
    const bad = pick(rand, BAD_OPTIONS);
    names = 'options';
    what = `options = ${describeValue(bad)}`;
    return finish(op, ops, args, positional, bad, names, what);
  } else if (kind < 0.45) {
    // a valid 16-bit dtype with float32 arrays: the first activation array checked must be named
    options.dtype = pick(rand, ['float16', 'bfloat16']);
    names = op === 'addRmsNormBackward' ? 'sum' : 'x';
    what = `options.dtype = ${String(options.dtype)} with Float32Array arrays`;
  } else if (kind < 0.75) {
    const key = pick(rand, [...optionKeys, 'foo', 'Eps']);
    if (key === 'gamma' || key === 'beta') options[key] = pick(rand, badArrays(COLS));
    else if (key === 'foo' || key === 'Eps') options[key] = 1;
    else options[key] = pick(rand, BAD_SCALARS[key]);
    if (key === 'backend' && options.backend === 'JS') options.backend = 'JS';
    names = `options.${key}`;
    what = `${names} = ${describeValue(options[key])}`;
  } else {
    const kindOut = rand();
    if (kindOut < 0.2) {
      options.out = pick(rand, [5, 'o', [], new Map(), null]);
      names = 'options.out';
    } else if (kindOut < 0.35) {
      options.out = { nope: new Float32Array(N) };
      names = 'options.out.nope';
    } else {
      const key = pick(rand, outKeys);
      const n = key === 'rstd' || key === 'mean' ? ROWS : key === 'dgamma' || key === 'dbeta' ? COLS : N;
      // dgamma/dbeta without gamma/beta: any value is refused; with them, a bad array
      const bad = (key === 'dgamma' && options.gamma === undefined) || (key === 'dbeta' && options.beta === undefined)
        ? pick(rand, [new Float32Array(COLS), null, 'junk'])
        : pick(rand, badArrays(n));
      options.out = { [key]: bad };
      names = `options.out.${key}`;
    }
    what = `${names} = ${describeValue(options.out)}`;
  }
  return finish(op, ops, args, positional, options, names, what);
}

function finish(op: string, ops: Record<string, ((...a: unknown[]) => unknown) | undefined>, args: Record<string, unknown>,
  positional: string[], options: unknown, names: string, what: string): Call {
  const list = positional.map((p) => args[p]);
  const inputs = [...list, ...(isObject(options) ? [options.gamma, options.beta] : [])]
    .filter((v): v is Float32Array => ArrayBuffer.isView(v) && v instanceof Float32Array && v.length > 0);
  return { label: `${op}: ${what}`, names, run: () => ops[op]!(...list, options), inputs };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !(v instanceof Map) && !Array.isArray(v);
}

function describeValue(v: unknown): string {
  if (typeof v === 'symbol' || typeof v === 'bigint') return typeof v;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Float32Array).length})`;
  if (typeof v === 'function') return 'function';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** One malformed tfjs call (cpu backend). */
function malformedTfjsCall(rand: Rand): Call {
  const op = pick(rand, ['rmsNorm', 'l2Norm', 'layerNorm'] as const);
  const xs = randomNormal(rand, N);
  const x: unknown = tf.tensor2d(xs, [ROWS, COLS]);
  let gamma: unknown = rand() < 0.5 ? tf.tensor1d(randomNormal(rand, COLS)) : undefined;
  const options: Record<string, unknown> = {};
  let xArg = x;
  let optionsArg: unknown = options;
  let names: string;
  let what: string;
  const kind = rand();
  if (kind < 0.3) {
    xArg = pick(rand, [null, 'x', 3, xs, tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), {}]);
    names = 'x';
    what = `x = ${describeValue(xArg)}`;
  } else if (kind < 0.4) {
    optionsArg = pick(rand, [5, 'o', [], new Map([['eps', 1]]), new Set(), new Date(), null]);
    names = 'options';
    what = `options = ${describeValue(optionsArg)}`;
  } else if (kind < 0.6) {
    gamma = pick(rand, ['g', 3, randomNormal(rand, COLS), tf.tensor1d([1, 2, 3]), tf.tensor1d([1, 2, 3, 4], 'int32'), {}]);
    names = 'gamma';
    what = `gamma = ${describeValue(gamma)}`;
  } else {
    const key = pick(rand, op === 'layerNorm' ? ['eps', 'axis', 'foo'] : ['eps', 'axis', 'foo', 'gammaOffset', 'epsPlacement', ...(op === 'rmsNorm' ? ['p', 'kRule'] : [])]);
    if (key === 'axis') options.axis = pick(rand, [2, -3, 1.5, 'x', [], [1, 1]]);
    else if (key === 'foo') options.foo = 1;
    else options[key] = pick(rand, BAD_SCALARS[key]);
    names = `options.${key}`;
    what = `${names} = ${describeValue(options[key])}`;
  }
  const run = () => {
    const ops = tfOps as unknown as Record<string, (...a: unknown[]) => tf.Tensor>;
    const y = op === 'layerNorm' ? ops[op](xArg, gamma, undefined, optionsArg) : ops[op](xArg, gamma, optionsArg);
    y.dispose();
  };
  const tensors = [x, gamma].filter((t): t is tf.Tensor => t instanceof tf.Tensor);
  return {
    label: `tfjs ${op}: ${what}`,
    names,
    run: () => {
      try {
        run();
      } finally {
        for (const t of tensors) t.dispose();
      }
    },
    inputs: [xs],
  };
}

function expectRefused(call: Call): void {
  const before = call.inputs.map((a) => Float32Array.from(a));
  let error: unknown = null;
  try {
    call.run();
  } catch (err) {
    error = err;
  }
  assert.ok(error !== null, `${call.label}: accepted silently`);
  const ok = error instanceof TypeError || error instanceof RangeError || error instanceof BackendUnavailableError;
  assert.ok(ok, `${call.label}: threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
  const message = (error as Error).message;
  if (!(error instanceof BackendUnavailableError)) {
    assert.ok(message.includes(call.names), `${call.label}: message does not name ${call.names}: ${message}`);
  }
  call.inputs.forEach((a, i) => {
    for (let j = 0; j < a.length; j++) {
      assert.ok(Object.is(a[j], before[i][j]), `${call.label}: input ${i} modified at ${j}`);
    }
  });
}

describe('fuzz: malformed calls are refused with a typed error naming the argument; inputs untouched', () => {
  before(() => tf.setBackend('cpu'));
  after(() => {
    if (freedView !== null) freedView = null;
  });

  it(`${MALFORMED_CALLS} seeded malformed calls across every public op (core on each backend, addRmsNorm, tfjs cpu)`, () => {
    const rand = mulberry32(SEED);
    const backends = ['auto', ...availableBackends()];
    const counts: Record<string, number> = {};
    let total = 0;
    for (let i = 0; i < MALFORMED_CALLS; i++) {
      const call = rand() < 0.1 ? malformedTfjsCall(rand) : malformedCoreCall(rand, backends);
      if (call === null) continue;
      expectRefused(call);
      const op = call.label.slice(0, call.label.indexOf(':'));
      counts[op] = (counts[op] ?? 0) + 1;
      total++;
    }
    console.log(`fuzz: ${total} malformed calls refused with a typed error naming the argument: ${JSON.stringify(counts)}`);
    assert.ok(total >= 5000);
  });
});

const OPS: ReadonlyArray<{ op: ToleranceOp; p?: number }> = [{ op: 'rmsNorm' }, { op: 'rmsNorm', p: 0.5 }, { op: 'l2Norm' }, { op: 'layerNorm' }];

/** A random valid case: shape, parameters, eps, placement, p. */
function validCase(rand: Rand, i: number): NormCase {
  const { op, p } = pick(rand, OPS);
  const rows = 1 + Math.floor(rand() * 6);
  const cols = pick(rand, [1, 2, 3, 4, 5, 7, 8, 16, 31, 64, 67, 130]);
  const scale = pick(rand, [1, 1, 1e-3, 1e3, 1e-20, 1e20]);
  const c: NormCase = {
    name: `valid #${i}`,
    op,
    cols,
    x: randomNormal(rand, rows * cols, rand() < 0.2 ? 3 * scale : 0, scale),
    dy: randomNormal(rand, rows * cols),
  };
  if (rand() < 0.6) c.gamma = randomNormal(rand, cols, 1, 0.2);
  if (rand() < 0.5) c.beta = randomNormal(rand, cols, 0, 0.5);
  if (c.gamma !== undefined && op !== 'layerNorm' && rand() < 0.3) c.gammaOffset = 1;
  if (rand() < 0.5) c.eps = pick(rand, [0.1, 1e-5, 1e-6, 1e-12]);
  if (op !== 'layerNorm' && rand() < 0.3) c.epsPlacement = pick(rand, ['inside', 'outside'] as const);
  if (p !== undefined) {
    c.p = pick(rand, [0.0625, 0.25, 0.5, 0.9]);
    c.kRule = pick(rand, ['ceil', 'floor'] as const);
  }
  return c;
}

const SUITES = [
  { label: 'js', backend: 'js' as const, threads: 1 },
  { label: 'wasm', backend: 'wasm' as const, threads: 1 },
  { label: 'wasm threads=2', backend: 'wasm' as const, threads: 2 },
];

describe('fuzz: valid random calls agree with the float64 reference on every backend', () => {
  for (const suite of SUITES) {
    const skip = availableBackends().includes(suite.backend) ? false : `${suite.backend} not available here`;
    it(`${VALID_CALLS_PER_BACKEND} valid calls on ${suite.label}`, { skip }, async () => {
      if (suite.threads > 1) await initThreads(suite.threads, { minElements: 0, wakeMinElements: 0 });
      try {
        const rand = mulberry32(SEED + 1);
        let calls = 0;
        for (let i = 0; calls < VALID_CALLS_PER_BACKEND; i++) {
          const c = validCase(rand, i);
          // on wasm, some calls take zero-copy inputs (allocFloat32), the rest plain arrays (copied through scratch)
          const resident = suite.backend === 'wasm' && rand() < 0.3 ? [c.x, c.dy, c.gamma].map(toWasm) : null;
          if (resident !== null) [c.x, c.dy] = [resident[0]!, resident[1]!];
          if (resident?.[2]) c.gamma = resident[2];
          const r = runCase(c, suite.backend, (dir) => tolerance(suite.backend, c.op, dir));
          for (const a of resident ?? []) if (a !== undefined) freeFloat32(a);
          for (const [name, cmp] of [...Object.entries(r.forward), ...Object.entries(r.backward)]) {
            assert.ok(cmp.ok, `${suite.label} ${c.name} ${c.op} ${ROWSxCOLS(c)} ${name}: worst index ${cmp.worstIndex}: ${cmp.actual} vs ${cmp.expected} (ratio ${cmp.ratio})`);
          }
          calls += 2; // forward + backward
        }
        console.log(`fuzz: ${calls} valid calls on ${suite.label} agree with the float64 reference`);
      } finally {
        if (suite.threads > 1) await terminateThreads();
      }
    });
  }
});

function toWasm(a: Float32Array | undefined): Float32Array | undefined {
  if (a === undefined) return undefined;
  const w = allocFloat32(a.length);
  w.set(a);
  return w;
}

function ROWSxCOLS(c: NormCase): string {
  return `${c.x.length / c.cols}x${c.cols} eps=${c.eps} p=${c.p} ${c.epsPlacement ?? ''}`;
}
