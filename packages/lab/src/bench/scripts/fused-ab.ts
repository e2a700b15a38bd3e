// Fused residual add + RMSNorm and 16-bit storage on the wasm backend, A/B in one process, interleaved round-robin,
// one thread, zero-copy buffers (allocFloat32/allocUint16) through the public ops (op layer included: ~1 µs a call):
//   fused      addRmsNorm(x, residual) → sum, y, rstd                      (reads 2 streams, writes 2)
//              with gamma (LLaMA), and with gammaOffset 1 (Gemma's 1 + gamma: "fused f32 1+g")
//   add+norm   sum = x + 1·residual (the ceiling module's SIMD triad), then rmsNorm(sum) → y, rstd
//   ceiling    copy x → sum and copy residual → y (the ceiling module: 2 reads + 2 writes, the fused op's streams)
//   f32 / bf16 / f16 rmsNorm, and the fused op on bf16 / f16 storage
//   in place   the LLM case, the residual stream updated in place (out.sum = residual): the fused op, and add
//              then norm (residual += x by the ceiling module's triad, then rmsNorm(residual)); bf16 fused in place
//   layerNorm  f32 / bf16 / f16 storage (gamma and beta; y, mean, rstd), the 16-bit kernels of _layer-norm16.ts
// After the table: the bytes each variant must move, without and with write-allocate (a store to a line not in
// cache reads it first; in place, the fused op writes sum into lines it has just read), so the bound on
// add+norm / fused at DRAM sits next to the ≥ 1.5x target.
// Rows: ms per call (median over rounds), GB/s (bytes the op must move), and the ratios the issue asks for.
// Run: npx tsx src/bench/scripts/fused-ab.ts [--shapes 256x1024,16384x1024] [--rounds 11] [--sample-ms 30] [--clock wall|cpu]
//      [--stat median|min]   (on a machine shared with other work: --clock cpu --stat min)
//      [--alt v.wasm [--alt-cases 'rmsNorm bf16,fused bf16']]: a second build of the norm-shared module (a variant
//      under test, e.g. `asc assembly/norm-shared.ts -o v.wasm` with flags.json's flags) run through the same public
//      ops in the same rounds (the backend's exports swapped for the call), each listed case once more as "<case> alt"
import { loadavg } from 'node:os';
import { addRmsNorm, allocFloat32, allocUint16, layerNorm, rmsNorm } from 'rmsnorm';
import { wasmState } from 'rmsnorm/internal';
import { wasmBase64 as ceilingBase64 } from '../generated/ceiling.js';
import { altModuleArg, arg, cpuClock, shapesArg, timeInterleaved, useMin } from './script-args.js';
import type { CeilingExports } from '../ceiling.js';


const shapes = shapesArg('256x1024,16384x1024');
const rounds = Number(arg('rounds', '11'));
const sampleMs = Number(arg('sample-ms', '30'));

const maybeState = wasmState();
if (maybeState === null || !maybeState.shared) throw new Error('needs the wasm backend on shared memory (Node)');
const state = maybeState;
const altExports = altModuleArg<typeof state.exports>(state.memory);
const altCases = arg('alt-cases', 'rmsNorm bf16,rmsNorm f16,fused bf16,fused f16,fused inpl').split(',');
const ceil = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(ceilingBase64, 'base64')), {
  env: { memory: state.memory, abort: () => { throw new Error('abort'); } },
}).exports as unknown as CeilingExports;

function fill(a: Float32Array, seed: number): void {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < a.length; i++) a[i] = (next() + next() + next() - 1.5) * 2;
}

function toBf16(a: Float32Array, out: Uint16Array): void {
  const b = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < a.length; i++) out[i] = (b[i] + 0x7fff + ((b[i] >>> 16) & 1)) >>> 16;
}

function toF16(a: Float32Array, out: Uint16Array): void {
  // |values| < 8, normal range: round the f32 mantissa to 10 bits (nearest even) and rebias
  const b = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < a.length; i++) {
    const s = (b[i] >>> 16) & 0x8000;
    const m = b[i] & 0x7fffffff;
    out[i] = m < 0x38800000 ? s : s | ((m - 0x38000000 + 0xfff + ((m >>> 13) & 1)) >>> 13);
  }
}

interface Case { name: string; bytes: number; call(set: number): void }

function run(rows: number, cols: number) {
  const n = rows * cols;
  const nSets = n * 16 > 96 * 2 ** 20 ? 1 : 3; // rotate buffer sets for in-cache shapes, as src/bench/scripts/kernel-ab.ts
  const gamma = allocFloat32(cols);
  fill(gamma, 7);
  const beta = allocFloat32(cols);
  fill(beta, 8);
  const mean = allocFloat32(rows);
  const sets = Array.from({ length: nSets }, (_, s) => {
    const x = allocFloat32(n);
    const r = allocFloat32(n);
    fill(x, 100 + s);
    fill(r, 200 + s);
    const x16 = allocUint16(n);
    const r16 = allocUint16(n);
    const h16 = allocUint16(n);
    const hr16 = allocUint16(n);
    toBf16(x, x16);
    toBf16(r, r16);
    toF16(x, h16);
    toF16(r, hr16);
    const rIn = allocFloat32(n); // residual streams updated in place: values drift by +x a call (finite for hours)
    rIn.set(r);
    const r16In = allocUint16(n);
    r16In.set(r16);
    return {
      x, r, rIn, r16In, sum: allocFloat32(n), y: allocFloat32(n), rstd: allocFloat32(rows),
      x16, r16, h16, hr16, sum16: allocUint16(n), y16: allocUint16(n),
    };
  });
  const f32Norm = n * 8 + rows * 4; // read x, write y (+ rstd)
  const f32Fused = n * 16 + rows * 4;
  const cases: Case[] = [
    { name: 'fused f32', bytes: f32Fused, call: (i) => { const s = sets[i]; addRmsNorm(s.x, s.r, cols, { gamma, backend: 'wasm', out: { sum: s.sum, y: s.y, rstd: s.rstd } }); } },
    {
      name: 'add+norm f32', bytes: f32Fused, call: (i) => {
        const s = sets[i];
        ceil.triad(s.sum.byteOffset, s.x.byteOffset, s.r.byteOffset, 1, n);
        rmsNorm(s.sum, cols, { gamma, backend: 'wasm', out: { y: s.y, rstd: s.rstd } });
      },
    },
    {
      name: 'ceiling 2R2W', bytes: n * 16, call: (i) => {
        const s = sets[i];
        ceil.copy(s.x.byteOffset, s.sum.byteOffset, n);
        ceil.copy(s.r.byteOffset, s.y.byteOffset, n);
      },
    },
    { name: 'fused f32 1+g', bytes: f32Fused, call: (i) => { const s = sets[i]; addRmsNorm(s.x, s.r, cols, { gamma, gammaOffset: 1, backend: 'wasm', out: { sum: s.sum, y: s.y, rstd: s.rstd } }); } },
    { name: 'fused inpl', bytes: f32Fused, call: (i) => { const s = sets[i]; addRmsNorm(s.x, s.rIn, cols, { gamma, backend: 'wasm', out: { sum: s.rIn, y: s.y, rstd: s.rstd } }); } },
    {
      name: 'add+norm inpl', bytes: f32Fused, call: (i) => {
        const s = sets[i];
        ceil.triad(s.rIn.byteOffset, s.x.byteOffset, s.rIn.byteOffset, 1, n);
        rmsNorm(s.rIn, cols, { gamma, backend: 'wasm', out: { y: s.y, rstd: s.rstd } });
      },
    },
    { name: 'rmsNorm f32', bytes: f32Norm, call: (i) => { const s = sets[i]; rmsNorm(s.x, cols, { gamma, backend: 'wasm', out: { y: s.y, rstd: s.rstd } }); } },
    { name: 'pRmsNorm f32', bytes: f32Norm, call: (i) => { const s = sets[i]; rmsNorm(s.x, cols, { gamma, p: 0.0625, backend: 'wasm', out: { y: s.y, rstd: s.rstd } }); } },
    { name: 'rmsNorm bf16', bytes: n * 4 + rows * 4, call: (i) => { const s = sets[i]; rmsNorm(s.x16, cols, { gamma, dtype: 'bfloat16', backend: 'wasm', out: { y: s.y16, rstd: s.rstd } }); } },
    { name: 'rmsNorm f16', bytes: n * 4 + rows * 4, call: (i) => { const s = sets[i]; rmsNorm(s.h16, cols, { gamma, dtype: 'float16', backend: 'wasm', out: { y: s.y16, rstd: s.rstd } }); } },
    { name: 'fused bf16', bytes: n * 8 + rows * 4, call: (i) => { const s = sets[i]; addRmsNorm(s.x16, s.r16, cols, { gamma, dtype: 'bfloat16', backend: 'wasm', out: { sum: s.sum16, y: s.y16, rstd: s.rstd } }); } },
    { name: 'fused bf16 ip', bytes: n * 8 + rows * 4, call: (i) => { const s = sets[i]; addRmsNorm(s.x16, s.r16In, cols, { gamma, dtype: 'bfloat16', backend: 'wasm', out: { sum: s.r16In, y: s.y16, rstd: s.rstd } }); } },
    { name: 'fused f16', bytes: n * 8 + rows * 4, call: (i) => { const s = sets[i]; addRmsNorm(s.h16, s.hr16, cols, { gamma, dtype: 'float16', backend: 'wasm', out: { sum: s.sum16, y: s.y16, rstd: s.rstd } }); } },
    { name: 'layerNorm f32', bytes: n * 8 + rows * 8, call: (i) => { const s = sets[i]; layerNorm(s.x, cols, { gamma, beta, backend: 'wasm', out: { y: s.y, mean, rstd: s.rstd } }); } },
    { name: 'layerNorm bf16', bytes: n * 4 + rows * 8, call: (i) => { const s = sets[i]; layerNorm(s.x16, cols, { gamma, beta, dtype: 'bfloat16', backend: 'wasm', out: { y: s.y16, mean, rstd: s.rstd } }); } },
    { name: 'layerNorm f16', bytes: n * 4 + rows * 8, call: (i) => { const s = sets[i]; layerNorm(s.h16, cols, { gamma, beta, dtype: 'float16', backend: 'wasm', out: { y: s.y16, mean, rstd: s.rstd } }); } },
  ];
  if (altExports !== null) {
    for (const c of cases.filter((k) => altCases.includes(k.name))) {
      cases.push({
        name: `${c.name} alt`, bytes: c.bytes, call: (i) => {
          const base = state.exports;
          state.exports = altExports;
          try {
            c.call(i);
          } finally {
            state.exports = base;
          }
        },
      });
    }
  }
  for (const c of cases) for (let i = 0; i < 2; i++) c.call(i % nSets); // warm-up (tier-up, page faults)
  const ms = timeInterleaved(cases.map((c) => (i: number) => c.call(i % nSets)), rounds, sampleMs);
  const gbs = cases.map((c, i) => c.bytes / (ms[i] * 1e6));
  console.log(`\n${rows}x${cols}  (${useMin ? 'min' : 'median'} of ${rounds} rounds, ${cpuClock ? 'cpu' : 'wall'} clock)`);
  console.log('case                 ms/call     GB/s');
  cases.forEach((c, i) => {
    const base = c.name.endsWith(' alt') ? cases.findIndex((k) => `${k.name} alt` === c.name) : -1;
    const vs = base >= 0 ? `   alt/base speed ${(ms[base] / ms[i]).toFixed(2)}x` : '';
    console.log(`${c.name.padEnd(18)} ${ms[i].toFixed(4).padStart(9)} ${gbs[i].toFixed(1).padStart(8)}${vs}`);
  });
  const get = (name: string) => ms[cases.findIndex((c) => c.name === name)];
  const bw = (name: string) => gbs[cases.findIndex((c) => c.name === name)];
  console.log(`fused f32 / ceiling 2R2W bandwidth: ${((100 * bw('fused f32')) / bw('ceiling 2R2W')).toFixed(0)} %   (target ≥ 85 %)`);
  console.log(`add+norm / fused f32 time:          ${(get('add+norm f32') / get('fused f32')).toFixed(2)}x  (target ≥ 1.5x)`);
  console.log(`in place: add+norm / fused time:    ${(get('add+norm inpl') / get('fused inpl')).toFixed(2)}x  (target ≥ 1.5x)`);
  console.log(`fused in place / ceiling 2R2W bw:   ${((100 * bw('fused inpl')) / bw('ceiling 2R2W')).toFixed(0)} %`);
  console.log(`rmsNorm f32 / bf16 time:            ${(get('rmsNorm f32') / get('rmsNorm bf16')).toFixed(2)}x  (target ≥ 1.7x; bytes bound 2x)`);
  console.log(`rmsNorm f32 / f16 time:             ${(get('rmsNorm f32') / get('rmsNorm f16')).toFixed(2)}x`);
  console.log(`rmsNorm / pRmsNorm (p 6.25 %) time: ${(get('rmsNorm f32') / get('pRmsNorm f32')).toFixed(2)}x  (> 1: pRMSNorm faster)`);
  console.log(`fused f32 / bf16 time:              ${(get('fused f32') / get('fused bf16')).toFixed(2)}x`);
  console.log(`fused f32 / f16 time:               ${(get('fused f32') / get('fused f16')).toFixed(2)}x`);
  console.log(`fused f32 in place / bf16 in place:  ${(get('fused inpl') / get('fused bf16 ip')).toFixed(2)}x`);
  console.log(`layerNorm f32 / bf16 time:          ${(get('layerNorm f32') / get('layerNorm bf16')).toFixed(2)}x`);
  console.log(`layerNorm f32 / f16 time:           ${(get('layerNorm f32') / get('layerNorm f16')).toFixed(2)}x`);
}

// Bytes per element (f32 storage) each variant must move between cache and DRAM: reads + writes, and with
// write-allocate one more read per written line not already in cache. add+norm's sum (64 MiB at 16384x1024) leaves
// the cache between its two passes.
function bounds(): void {
  const rows: Array<[string, number, number, number, number]> = [
    // name, fused no-WA, add+norm no-WA, fused WA, add+norm WA
    ['sum separate', 16, 12 + 8, 16 + 8, 12 + 4 + 8 + 4],
    ['in place (sum = residual)', 16, 12 + 8, 16 + 4, 12 + 8 + 4],
  ];
  console.log('\nbytes/element moved (f32)          fused  add+norm  bound   | with write-allocate: fused  add+norm  bound');
  for (const [name, f, a, fw, aw] of rows) {
    console.log(
      `${name.padEnd(34)} ${String(f).padStart(5)} ${String(a).padStart(9)} ${(a / f).toFixed(2).padStart(6)}x  |` +
        ` ${String(fw).padStart(26)} ${String(aw).padStart(9)} ${(aw / fw).toFixed(2).padStart(6)}x`,
    );
  }
  console.log('bound: add+norm / fused time when both run at the same bandwidth (the ≥ 1.5x target needs add+norm below it)');
}

console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (const [rows, cols] of shapes) run(rows, cols);
bounds();
console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
