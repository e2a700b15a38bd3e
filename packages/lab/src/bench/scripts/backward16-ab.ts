// Backward of the RMS family, the fused add (with dsum) and LayerNorm on f32, bfloat16 and binary16 storage, on the
// wasm backend, interleaved round-robin in one process: one thread, zero-copy buffers (allocFloat32/allocUint16)
// through the public ops. Rows: ms per call (median over rounds), GB/s (bytes the op must move: dy, x or sum, dsum,
// dx, per-row statistics), and the f32/16-bit time ratios.
// Run: npx tsx src/bench/scripts/backward16-ab.ts [--shapes 256x1024,16384x1024] [--rounds 9] [--sample-ms 40]
//      [--clock wall|cpu] [--stat median|min] [--dy-scale 1e-4]   (dy and dsum × the scale: gradient magnitudes, where
//      binary16 results fall below 2^-14, its subnormal range)
//      [--alt v.wasm [--alt-cases 'rmsNormBackward f16,addRmsNormBackward f16']]: a second build of the
//      norm-shared module run through the same ops in the same rounds, as in fused-ab.ts
import { loadavg } from 'node:os';
import {
  addRmsNorm, addRmsNormBackward, allocFloat32, allocUint16, layerNorm, layerNormBackward, reference, rmsNormBackward,
} from 'rmsnorm';
import { wasmState } from 'rmsnorm/internal';
import { altModuleArg, arg, cpuClock, shapesArg, timeInterleaved, useMin } from './script-args.js';

const shapes = shapesArg('256x1024,16384x1024');
const rounds = Number(arg('rounds', '9'));
const sampleMs = Number(arg('sample-ms', '40'));
const dyScale = Number(arg('dy-scale', '1'));
const maybeState = wasmState();
if (maybeState === null) throw new Error('needs the wasm backend');
const state = maybeState;
const altExports = altModuleArg<typeof state.exports>(state.memory);
const altCases = arg('alt-cases', 'rmsNormBackward f16,addRmsNormBackward f16,layerNormBackward f16').split(',');
const DTYPES = [['f32', 'float32'], ['bf16', 'bfloat16'], ['f16', 'float16']] as const;
type Storage = Float32Array | Uint16Array;

interface Case {
  name: string;
  bytes: number;
  call: () => void;
}

/** A seeded array of n values in (−1.5, 1.5) × scale, stored in a zero-copy buffer of `dtype`. */
function stored(n: number, seed: number, dtype: typeof DTYPES[number][1], scale = 1): Storage {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const v = Float32Array.from({ length: n }, () => (next() + next() + next() - 1.5) * scale);
  const out = dtype === 'float32' ? allocFloat32(n) : allocUint16(n);
  out.set(dtype === 'float32' ? v : reference.encodeArray(v, dtype));
  return out;
}

/** The three backward cases of one storage type at rows × cols, their inputs made by the forward ops. */
function casesFor(rows: number, cols: number, tag: string, dtype: typeof DTYPES[number][1]): Case[] {
  const n = rows * cols;
  const [x, res] = [1, 2].map((seed) => stored(n, seed, dtype));
  const [dy, dsum] = [3, 4].map((seed) => stored(n, seed, dtype, dyScale));
  const [y, sum, dx] = [5, 6, 7].map((seed) => stored(n, seed, dtype));
  const gamma = allocFloat32(cols).fill(1.1);
  const beta = allocFloat32(cols).fill(0.1);
  const [rstd, lnRstd, mean] = [0, 0, 0].map(() => allocFloat32(rows));
  const [dgamma, dbeta] = [0, 0].map(() => allocFloat32(cols));
  const o = { backend: 'wasm' as const, dtype, gamma };
  // the ops are generic over the storage type; one cast for the whole set
  const f = { addRmsNorm, addRmsNormBackward, layerNorm, layerNormBackward, rmsNormBackward } as unknown as Record<string, (...a: unknown[]) => unknown>;
  f.addRmsNorm(x, res, cols, { ...o, out: { y, sum, rstd } });
  f.layerNorm(x, cols, { ...o, beta, out: { y, mean, rstd: lnRstd } });
  const el = dtype === 'float32' ? 4 : 2;
  return [
    { name: `rmsNormBackward ${tag}`, bytes: n * 3 * el + rows * 4, call: () => f.rmsNormBackward(dy, sum, rstd, cols, { ...o, out: { dx, dgamma } }) },
    { name: `addRmsNormBackward ${tag}`, bytes: n * 4 * el + rows * 4, call: () => f.addRmsNormBackward(dy, dsum, sum, rstd, cols, { ...o, out: { dx, dgamma } }) },
    { name: `layerNormBackward ${tag}`, bytes: n * 3 * el + rows * 8, call: () => f.layerNormBackward(dy, x, mean, lnRstd, cols, { ...o, beta, out: { dx, dgamma, dbeta } }) },
  ];
}

/** The same case on the --alt build (the backend's exports swapped in for the call). */
function altOf(c: Case, alt: typeof state.exports): Case {
  return {
    name: `${c.name} alt`, bytes: c.bytes, call: () => {
      const base = state.exports;
      state.exports = alt;
      try {
        c.call();
      } finally {
        state.exports = base;
      }
    },
  };
}

console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}${dyScale !== 1 ? `; dy, dsum × ${dyScale}` : ''}`);
for (const [rows, cols] of shapes) {
  const cases = DTYPES.flatMap(([tag, dtype]) => casesFor(rows, cols, tag, dtype));
  if (altExports !== null) cases.push(...cases.filter((c) => altCases.includes(c.name)).map((c) => altOf(c, altExports)));
  for (const c of cases) for (let i = 0; i < 2; i++) c.call(); // warm-up (tier-up, page faults)
  const ms = timeInterleaved(cases.map((c) => () => c.call()), rounds, sampleMs);
  console.log(`\n${rows}x${cols}  (${useMin ? 'min' : 'median'} of ${rounds} rounds, ${cpuClock ? 'cpu' : 'wall'} clock)`);
  console.log('case                          ms/call     GB/s');
  cases.forEach((c, i) => {
    const base = c.name.endsWith(' alt') ? cases.findIndex((k) => `${k.name} alt` === c.name) : -1;
    const vs = base >= 0 ? `   alt/base speed ${(ms[base] / ms[i]).toFixed(2)}x` : '';
    console.log(`${c.name.padEnd(28)} ${ms[i].toFixed(4).padStart(9)} ${(c.bytes / (ms[i] * 1e6)).toFixed(1).padStart(8)}${vs}`);
  });
  const get = (name: string) => ms[cases.findIndex((c) => c.name === name)];
  for (const op of ['rmsNormBackward', 'addRmsNormBackward', 'layerNormBackward']) {
    const r = (tag: string) => (get(`${op} f32`) / get(`${op} ${tag}`)).toFixed(2);
    console.log(`${op.padEnd(20)} f32 / bf16 time ${r('bf16')}x, f32 / f16 time ${r('f16')}x  (bytes bound 2x)`);
  }
}
