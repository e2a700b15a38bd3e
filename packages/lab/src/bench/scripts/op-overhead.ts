// Per-call overhead of the public ops on small and large shapes: the public op (as users call it) vs the backend
// kernel called directly with a prebuilt args struct vs the bare wasm kernel vs the same-run SIMD copy ceiling,
// all interleaved in one process (src/bench/runner.ts), so the ratios are side by side. RMSNorm with gain.
// Printed: median over --repeat runs of each case's p50. op-overhead = op − kernel (validation, allocation-free alias
// checks, dispatch); kernel − raw = the wasm job marshalling. At 4096×512 the wasm cases vary ±30% with which case
// ran before (L3 contents), so read the small shape for overheads and the large one for js ns/element.
// Run: npx tsx src/bench/scripts/op-overhead.ts [--shapes 32x768,4096x512] [--rounds 5] [--repeat 3]
import { allocFloat32, freeFloat32, rmsNorm, rmsNormBackward } from 'rmsnorm';
import type { RmsNormBackwardKernelArgs, RmsNormKernelArgs } from 'rmsnorm/internal';
import { jsRmsNorm, jsRmsNormBackward } from 'rmsnorm/internal';
import { wasmBackend } from 'rmsnorm/internal';
import { wasmState } from 'rmsnorm/internal';
import { CeilingLoops } from '../ceiling.js';
import { measure, type BenchCase } from '../runner.js';
import { fillRandom } from '../shape-data.js';
import { quantile } from '../stats.js';
import { arg, shapesArg } from './script-args.js';

const shapes = shapesArg('32x768,4096x512');
const rounds = Number(arg('rounds', '5'));
const repeat = Number(arg('repeat', '3'));
const SETS = 3;

interface Buffers {
  x: Float32Array[];
  dy: Float32Array[];
  y: Float32Array[];
  dx: Float32Array[];
  rstd: Float32Array[];
  gamma: Float32Array;
  dgamma: Float32Array;
}

function buffers(rows: number, cols: number, alloc: (n: number) => Float32Array): Buffers {
  const filled = (n: number, seed: number) => {
    const a = alloc(n);
    fillRandom(a, seed);
    return a;
  };
  const n = rows * cols;
  const gamma = filled(cols, 7);
  for (let j = 0; j < cols; j++) gamma[j] = 1 + 0.25 * gamma[j];
  const sets = Array.from({ length: SETS }, (_, s) => s);
  return {
    x: sets.map((s) => filled(n, 101 + s)),
    dy: sets.map((s) => filled(n, 201 + s)),
    y: sets.map(() => alloc(n)),
    dx: sets.map(() => alloc(n)),
    rstd: sets.map(() => alloc(rows)),
    gamma,
    dgamma: alloc(cols),
  };
}

const workspace = new Float64Array(2 * 8192);

function kernelArgs(b: Buffers, s: number, rows: number, cols: number): [RmsNormKernelArgs, RmsNormBackwardKernelArgs] {
  const common = { gamma: b.gamma, gammaOffset: 0, rows, cols, k: cols, divisor: cols, eps: 1e-6, epsOutside: false };
  return [
    { ...common, x: b.x[s], beta: null, y: b.y[s], rstd: b.rstd[s] },
    { ...common, dy: b.dy[s], x: b.x[s], rstd: b.rstd[s], dx: b.dx[s], dgamma: b.dgamma, dbeta: null, workspace },
  ];
}

/**
 * Cases of one memory kind: the public op with options built once ('op'), with options spread per call as
 * src/bench/ours.ts does (`{ ...opts, out: {…} }`: 'op-spread'), with a fresh object literal per call ('op-literal'),
 * and the backend kernel with prebuilt args ('kernel').
 */
function cases(label: string, backend: 'js' | 'wasm', b: Buffers, rows: number, cols: number): BenchCase[] {
  const base = { op: 'rmsNorm', backend: label, threads: 1, rows, cols, p: 1, bytes: 0 } as const;
  const fwdOpts = [0, 1, 2].map((s) => ({ gamma: b.gamma, backend, out: { y: b.y[s], rstd: b.rstd[s] } }));
  const bwdOpts = [0, 1, 2].map((s) => ({ gamma: b.gamma, backend, out: { dx: b.dx[s], dgamma: b.dgamma } }));
  const opts = { gamma: b.gamma, backend, p: 1 };
  const allocOpts = { gamma: b.gamma, backend };
  const args = [0, 1, 2].map((s) => kernelArgs(b, s, rows, cols));
  const fwdKernel = backend === 'js' ? jsRmsNorm : wasmBackend.rmsNorm;
  const bwdKernel = backend === 'js' ? jsRmsNormBackward : wasmBackend.rmsNormBackward;
  return [
    // Not reported: measure() runs the cases in a fixed cyclic order, and a case that follows one on other memory
    // (the ceiling loops, another buffer kind) finds the caches cold — up to 2× slower at 4096×512. The spacer
    // touches this group's buffers first, so every reported case follows a case on the same buffers.
    { ...base, direction: 'forward', impl: 'spacer', call: (i) => fwdKernel(args[i % 3][0]) },
    { ...base, direction: 'forward', impl: 'op', call: (i) => rmsNorm(b.x[i % 3], cols, fwdOpts[i % 3]) },
    {
      ...base, direction: 'forward', impl: 'op-spread',
      call: (i) => rmsNorm(b.x[i % 3], cols, { ...opts, out: { y: b.y[i % 3], rstd: b.rstd[i % 3] } }),
    },
    {
      ...base, direction: 'forward', impl: 'op-literal',
      call: (i) => rmsNorm(b.x[i % 3], cols, { gamma: b.gamma, backend, p: 1, out: { y: b.y[i % 3], rstd: b.rstd[i % 3] } }),
    },
    { ...base, direction: 'forward', impl: 'kernel', call: (i) => fwdKernel(args[i % 3][0]) },
    // as most callers call it: no `out`, fresh y and rstd allocated per call
    { ...base, direction: 'forward', impl: 'op-alloc', call: (i) => rmsNorm(b.x[i % 3], cols, allocOpts) },
    {
      ...base, direction: 'backward', impl: 'op',
      call: (i) => rmsNormBackward(b.dy[i % 3], b.x[i % 3], b.rstd[i % 3], cols, bwdOpts[i % 3]),
    },
    {
      ...base, direction: 'backward', impl: 'op-spread',
      call: (i) => rmsNormBackward(b.dy[i % 3], b.x[i % 3], b.rstd[i % 3], cols, {
        ...opts, out: { dx: b.dx[i % 3], dgamma: b.dgamma },
      }),
    },
    {
      ...base, direction: 'backward', impl: 'op-literal',
      call: (i) => rmsNormBackward(b.dy[i % 3], b.x[i % 3], b.rstd[i % 3], cols, {
        gamma: b.gamma, backend, p: 1, out: { dx: b.dx[i % 3], dgamma: b.dgamma },
      }),
    },
    { ...base, direction: 'backward', impl: 'kernel', call: (i) => bwdKernel(args[i % 3][1]) },
    {
      ...base, direction: 'backward', impl: 'op-alloc',
      call: (i) => rmsNormBackward(b.dy[i % 3], b.x[i % 3], b.rstd[i % 3], cols, allocOpts),
    },
  ];
}

/** The bare wasm kernel: runJob on a job block filled once by a real call (zero-copy pointers, so it stays valid). */
function rawCases(b: Buffers, rows: number, cols: number): BenchCase[] {
  const state = wasmState()!;
  const base = { op: 'rmsNorm', backend: 'wasm', threads: 1, rows, cols, p: 1, bytes: 0 } as const;
  const out: BenchCase[] = [];
  for (const direction of ['forward', 'backward'] as const) {
    const blocks = [0, 1, 2].map((s) => {
      const [f, bw] = kernelArgs(b, s, rows, cols);
      if (direction === 'forward') wasmBackend.rmsNorm(f);
      else wasmBackend.rmsNormBackward(bw);
      const src = state.blocks.args.ptr;
      const dst = state.heap.alloc(24 * 8);
      state.heap.refresh();
      state.heap.f64.copyWithin(dst >>> 3, src >>> 3, (src >>> 3) + 24);
      return dst;
    });
    const withParams = direction === 'backward';
    out.push({
      ...base, direction, impl: 'raw-kernel',
      call: (i) => {
        state.exports.runJob(blocks[i % 3], 0, 1);
        if (withParams) state.exports.reduceParams(blocks[i % 3], 1);
      },
    });
  }
  return out;
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, rounds ${rounds}, repeat ${repeat}; µs per call (median of repeats of p50)`);
  for (const [rows, cols] of shapes) {
    const n = rows * cols;
    const wasmBufs = buffers(rows, cols, allocFloat32);
    const plain = buffers(rows, cols, (len) => new Float32Array(len));
    // 3 rotated sets of the triad's 3 streams (ceilingMemoryBytes drops rotation above 96 MiB; this script keeps it)
    const loops = new CeilingLoops(3 * 12 * n + 65536);
    const nCopy = Math.max(16, Math.round(n / 16) * 16); // forward: read n, write n floats
    const nTriad = Math.max(16, Math.round(n / 16) * 16); // backward ≈ 3 streams of n
    const ceilingBase = { backend: 'wasm-simd', threads: 1, rows, cols, p: null, bytes: 0 } as const;
    const all: BenchCase[] = [
      ...cases('wasm', 'wasm', wasmBufs, rows, cols),
      ...rawCases(wasmBufs, rows, cols),
      ...cases('wasm+copy', 'wasm', plain, rows, cols),
      ...cases('js', 'js', plain, rows, cols),
      {
        ...ceilingBase, op: 'copy', direction: 'forward', impl: 'ceiling-copy',
        call: (i) => {
          const at = (i % 3) * nCopy * 8;
          loops.copy(at, at + nCopy * 4, nCopy, 1);
        },
      },
      {
        ...ceilingBase, op: 'triad', direction: 'backward', impl: 'ceiling-triad',
        call: (i) => {
          const at = (i % 3) * nTriad * 12;
          loops.triad(at, at + nTriad * 4, at + nTriad * 8, 0.5, nTriad, 1);
        },
      },
    ];
    const p50s = new Map<BenchCase, number[]>();
    for (let r = 0; r < repeat; r++) {
      const res = await measure(all, { reps: 41, minReps: 5, rounds, budgetMs: 300, sampleMs: 2 });
      for (const m of res) {
        if (m.error !== undefined) throw new Error(`${m.case.backend} ${m.case.impl}: ${m.error}`);
        p50s.set(m.case, [...(p50s.get(m.case) ?? []), quantile(m.samples, 0.5)]);
      }
    }
    const us = (c: BenchCase) => quantile(p50s.get(c)!, 0.5) * 1000;
    console.log(`\n== ${rows} × ${cols} ==`);
    for (const direction of ['forward', 'backward']) {
      const ceiling = all.find((c) => c.direction === direction && c.impl.startsWith('ceiling'))!;
      const raw = all.find((c) => c.direction === direction && c.impl === 'raw-kernel');
      const rawUs = raw ? us(raw).toFixed(2) : '-';
      console.log(`${direction}: ${ceiling.impl} ${us(ceiling).toFixed(2)} µs, raw wasm kernel ${rawUs} µs`);
      console.log('  backend     op µs  op-spread µs  op-literal µs  kernel µs  op/kernel  op/ceiling  op-overhead µs  js ns/elem  op-alloc µs');
      for (const label of ['wasm', 'wasm+copy', 'js']) {
        const get = (impl: string) => all.find((c) => c.direction === direction && c.backend === label && c.impl === impl);
        const op = get('op');
        if (op === undefined) continue;
        const [o, s, l, k] = [us(op), us(get('op-spread')!), us(get('op-literal')!), us(get('kernel')!)];
        console.log(
          `  ${label.padEnd(10)}${o.toFixed(2).padStart(8)}${s.toFixed(2).padStart(14)}${l.toFixed(2).padStart(15)}` +
            `${k.toFixed(2).padStart(11)}` +
            `${(o / k).toFixed(2).padStart(11)}${(o / us(ceiling)).toFixed(2).padStart(12)}${(o - k).toFixed(2).padStart(16)}` +
            `${label === 'js' ? ((o * 1000) / n).toFixed(2).padStart(12) : ''.padStart(12)}` +
            `${us(get('op-alloc')!).toFixed(2).padStart(13)}`,
        );
      }
    }
    await loops.close();
    const w = wasmBufs;
    for (const a of [...w.x, ...w.dy, ...w.y, ...w.dx, ...w.rstd, w.gamma, w.dgamma]) freeFloat32(a);
  }
}

await main();
