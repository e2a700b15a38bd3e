// Kernel A/B: our wasm kernels (packages/rmsnorm/assembly/_norm-kernels.ts, called through the job layout exactly as the backend
// does, minus the JavaScript op layer) vs the naive two-pass f32x4 kernels (assembly/naive.ts) vs the copy/triad
// ceiling loops (assembly/ceiling.ts), all three modules instantiated on ONE shared memory and run on the SAME
// buffers, interleaved round-robin in one process, one thread. The ceiling loops move the same streams as the
// kernels (copy: x → y for the forward; triad: dx = dy + s·x for the backward), so "% of ceiling" compares like with
// like. Rows: ms per call (median over rounds), GB/s (opBytes: logical bytes read + written), % of the same-run
// ceiling, ours/naive speed ratio (naive ms / ours ms: > 1 means ours is faster). Also prints the largest difference
// between ours and naive outputs (relative to max |naive|) as a sanity check that both compute the same thing.
// --reread adds the probes of assembly/reread.ts (RMS family): the smallest exact pipelined forward (pipe-min), the
// same vector work with no second touch of the row (1pass: forward and backward; timing only, wrong outputs), and a
// one-pass loop that re-reads the stream 256 bytes and one row behind (reread-256B, reread-row): how much of the
// distance to the ceiling comes from reading each row twice, which an exact row norm must (docs/wasm.md).
// Run: npx tsx src/bench/scripts/kernel-ab.ts [--shapes 32x768,256x1024,16384x1024] [--rounds 15] [--sample-ms 20]
//      [--ops rms,layer] [--stat median|min] [--clock wall|cpu] [--alt variant.wasm] [--reread] [--json out.json]
//      (on a machine shared with other work: --stat min --clock cpu)
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { normBase64 } from 'rmsnorm/internal';
import { wasmBase64 as naiveBase64 } from '../generated/naive.js';
import { wasmBase64 as ceilingBase64 } from '../generated/ceiling.js';
import { wasmBase64 as rereadBase64 } from '../generated/reread.js';
import { jobLayout as L } from 'rmsnorm/internal';
import { median, opBytes } from '../stats.js';
import { arg, cpuClock, now, shapesArg } from './script-args.js';
import type { CeilingExports } from '../ceiling.js';

interface NormExports {
  runJob(args: number, part: number, parts: number): void;
  reduceParams(args: number, parts: number): void;
  heapBase(): number;
}
interface RereadExports {
  rmsForwardPipelined(x: number, gamma: number, y: number, rstd: number, rows: number, cols: number, eps: number): void;
  rmsForwardOnePass(x: number, gamma: number, y: number, rstd: number, rows: number, cols: number, eps: number): void;
  rereadBehind(x: number, gamma: number, y: number, n: number, cols: number, back: number): number;
  rmsBackwardOnePass(dy: number, x: number, rstd: number, gamma: number, dx: number, dgamma: number, rows: number, cols: number): void;
}
interface NaiveExports {
  rmsForward(x: number, gamma: number, y: number, rstd: number, rows: number, cols: number, eps: number): void;
  rmsBackward(dy: number, x: number, rstd: number, gamma: number, dx: number, dgamma: number, rows: number, cols: number): void;
  lnForward(x: number, gamma: number, beta: number, y: number, mean: number, rstd: number, rows: number, cols: number, eps: number): void;
  lnBackward(dy: number, x: number, mean: number, rstd: number, gamma: number, dx: number, dgamma: number, dbeta: number, rows: number, cols: number): void;
}

const shapes = shapesArg('32x768,256x1024,16384x1024');
const rounds = Number(arg('rounds', '15'));
const sampleMs = Number(arg('sample-ms', '20'));
const ops = arg('ops', 'rms,layer').split(',');
const jsonPath = arg('json', '');

// --clock cpu: this process's CPU time (user + system) instead of wall time, so time spent descheduled by other
// processes on a loaded machine does not count (the kernels are single-threaded; µs resolution).

const PAGE = 65536;
const EPS = 1e-6;
const BASE = 1 << 20; // above every module's static data

function instantiate<T>(base64: string, memory: WebAssembly.Memory): T {
  const module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
  return new WebAssembly.Instance(module, { env: { memory, abort: () => { throw new Error('abort'); } } }).exports as T;
}

/** Deterministic N(0,1)-ish fill (sum of uniforms), so runs are comparable. */
function fill(a: Float32Array, seed: number, offset = 0, scale = 1): void {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < a.length; i++) a[i] = offset + scale * (next() + next() + next() - 1.5) * 2;
}

interface Buffers { x: number; dy: number; y: number; dx: number; rstd: number; mean: number }
interface Layout { sets: Buffers[]; gamma: number; beta: number; dgamma: number; dbeta: number; ws: number; wsStride: number; args: number; end: number }

function layout(rows: number, cols: number): Layout {
  const n = rows * cols;
  const align = (v: number) => Math.ceil(v / 64) * 64;
  // Rotate 3 buffer sets (as the bench does) unless one call's streams are far beyond the L3 anyway.
  const nSets = opBytes('rmsNorm', 'backward', rows, cols) > 96 * 2 ** 20 ? 1 : 3;
  let p = BASE;
  const take = (floats: number) => {
    const at = p;
    p = align(p + 4 * floats);
    return at;
  };
  const sets: Buffers[] = [];
  for (let s = 0; s < nSets; s++) sets.push({ x: take(n), dy: take(n), y: take(n), dx: take(n), rstd: take(rows), mean: take(rows) });
  const c4 = (cols + 3) & ~3;
  const wsStride = Math.ceil((L.WS_BYTES_PER_COL * c4 + L.WS_EXTRA) / L.WS_ALIGN) * L.WS_ALIGN;
  const gamma = take(cols);
  const beta = take(cols);
  const dgamma = take(cols);
  const dbeta = take(cols);
  const ws = take(wsStride / 4);
  const args = take(L.SLOTS * 2);
  return { sets, gamma, beta, dgamma, dbeta, ws, wsStride, args, end: p };
}

interface Case { name: string; op: 'rms' | 'layer'; dir: 'fwd' | 'bwd'; kind: 'ours' | 'naive' | 'ceiling' | 'alt' | 'probe'; bytes: number; call(i: number): void }

// --alt file.wasm: a second build of the norm kernels (e.g. a variant compiled with ../rmsnorm/scripts/build-wasm.mjs flags
// for norm-shared) timed in the same rounds on the same buffers: rows "alt" and the ratio ours/alt.
const altPath = arg('alt', '');
const reread = process.argv.includes('--reread');

function run(rows: number, cols: number) {
  const lay = layout(rows, cols);
  const memory = new WebAssembly.Memory({ initial: Math.ceil(lay.end / PAGE) + 1, maximum: 65536, shared: true });
  const ours = instantiate<NormExports>(normBase64, memory);
  const alt = altPath ? instantiate<NormExports>(readFileSync(altPath).toString('base64'), memory) : null;
  const naive = instantiate<NaiveExports>(naiveBase64, memory);
  const ceil = instantiate<CeilingExports>(ceilingBase64, memory);
  const probe = reread ? instantiate<RereadExports>(rereadBase64, memory) : null;
  if (ours.heapBase() > BASE) throw new Error('norm module static data overlaps the buffers');
  const f32 = new Float32Array(memory.buffer);
  const f64 = new Float64Array(memory.buffer);
  const view = (p: number, n: number) => f32.subarray(p >>> 2, (p >>> 2) + n);
  const n = rows * cols;
  lay.sets.forEach((s, i) => {
    fill(view(s.x, n), 101 + i);
    fill(view(s.dy, n), 201 + i);
  });
  fill(view(lay.gamma, cols), 7, 1, 0.25);
  fill(view(lay.beta, cols), 8, 0, 0.1);
  const a = lay.args >>> 3;

  let kernels = ours;
  const job = (op: number, ptrs: number[], params: boolean, wantB: boolean) => {
    f64[a + L.OP] = op;
    f64[a + L.ROWS] = rows;
    f64[a + L.COLS] = cols;
    f64[a + L.K] = cols;
    f64[a + L.DIVISOR] = cols;
    f64[a + L.EPS] = EPS;
    f64[a + L.EPS_OUTSIDE] = 0;
    f64[a + L.GAMMA_OFFSET] = 0;
    for (let i = 0; i < ptrs.length; i++) f64[a + L.P0 + i] = ptrs[i];
    f64[a + L.WS] = lay.ws;
    f64[a + L.WS_STRIDE] = lay.wsStride;
    f64[a + L.DGAMMA] = params ? lay.dgamma : 0;
    f64[a + L.DBETA] = wantB ? lay.dbeta : 0;
    kernels.runJob(lay.args, 0, 1);
    if (params) kernels.reduceParams(lay.args, 1);
  };
  const S = (i: number) => lay.sets[i % lay.sets.length];
  const oursRmsF = (i: number) => { const s = S(i); job(L.OP_RMS_FWD, [s.x, lay.gamma, 0, s.y, s.rstd], false, false); };
  const oursRmsB = (i: number) => { const s = S(i); job(L.OP_RMS_BWD, [s.dy, s.x, s.rstd, lay.gamma, s.dx], !process.env.AB_NOPARAMS, false); };
  const oursLnF = (i: number) => { const s = S(i); job(L.OP_LN_FWD, [s.x, lay.gamma, lay.beta, s.y, s.mean, s.rstd], false, false); };
  const oursLnB = (i: number) => { const s = S(i); job(L.OP_LN_BWD, [s.dy, s.x, s.mean, s.rstd, lay.gamma, s.dx], true, true); };
  const zeroParams = () => { view(lay.dgamma, cols).fill(0); view(lay.dbeta, cols).fill(0); };
  const naiveRmsF = (i: number) => { const s = S(i); naive.rmsForward(s.x, lay.gamma, s.y, s.rstd, rows, cols, EPS); };
  const naiveRmsB = (i: number) => { const s = S(i); naive.rmsBackward(s.dy, s.x, s.rstd, lay.gamma, s.dx, lay.dgamma, rows, cols); };
  const naiveLnF = (i: number) => { const s = S(i); naive.lnForward(s.x, lay.gamma, lay.beta, s.y, s.mean, s.rstd, rows, cols, EPS); };
  const naiveLnB = (i: number) => { const s = S(i); naive.lnBackward(s.dy, s.x, s.mean, s.rstd, lay.gamma, s.dx, lay.dgamma, lay.dbeta, rows, cols); };

  // Sanity: ours vs naive outputs on set 0 (naive backward reads ours' saved statistics, as in training).
  const diff = (p: number, q: Float32Array, len: number) => {
    const o = view(p, len);
    let d = 0;
    let m = 0;
    for (let i = 0; i < len; i++) {
      d = Math.max(d, Math.abs(o[i] - q[i]));
      m = Math.max(m, Math.abs(q[i]));
    }
    return d / m;
  };
  const s0 = lay.sets[0];
  const check: Record<string, number> = {};
  const compare = (label: string, runOurs: () => void, runNaive: () => void, outs: Array<[string, number, number]>) => {
    runNaive();
    const ref = outs.map(([, p, len]) => view(p, len).slice());
    runOurs();
    outs.forEach(([name, p, len], i) => (check[`${label}.${name}`] = diff(p, ref[i], len)));
  };
  if (ops.includes('rms')) {
    compare('rms.fwd', () => oursRmsF(0), () => naiveRmsF(0), [['y', s0.y, n]]);
    compare('rms.bwd', () => oursRmsB(0), () => { zeroParams(); naiveRmsB(0); }, [['dx', s0.dx, n], ['dgamma', lay.dgamma, cols]]);
  }
  if (ops.includes('layer')) {
    oursLnF(0);
    const mean0 = view(s0.mean, rows).slice();
    const rstd0 = view(s0.rstd, rows).slice();
    compare('ln.fwd', () => oursLnF(0), () => naiveLnF(0), [['y', s0.y, n]]);
    view(s0.mean, rows).set(mean0);
    view(s0.rstd, rows).set(rstd0);
    compare('ln.bwd', () => oursLnB(0), () => { zeroParams(); naiveLnB(0); }, [['dx', s0.dx, n], ['dgamma', lay.dgamma, cols], ['dbeta', lay.dbeta, cols]]);
  }
  if (probe !== null && ops.includes('rms')) {
    compare('rms.fwd.pipe-min', () => probe.rmsForwardPipelined(s0.x, lay.gamma, s0.y, s0.rstd, rows, cols, EPS), () => naiveRmsF(0), [['y', s0.y, n]]);
  }
  // Every set gets valid statistics for the backward calls.
  for (let i = 0; i < lay.sets.length; i++) (ops.includes('layer') ? oursLnF : oursRmsF)(i);

  const copyCall = (i: number) => { const s = S(i); ceil.copy(s.x, s.y, n); };
  const triadCall = (i: number) => { const s = S(i); ceil.triad(s.dx, s.dy, s.x, 0.5, n); };
  const cases: Case[] = [];
  const add = (
    op: Case['op'], dir: Case['dir'], kind: Case['kind'], call: (i: number) => void, label: string = kind,
    bytes = kind === 'ceiling' ? (dir === 'fwd' ? 8 * n : 12 * n) : opBytes(op === 'rms' ? 'rmsNorm' : 'layerNorm', dir === 'fwd' ? 'forward' : 'backward', rows, cols),
  ) => {
    cases.push({ name: `${op}.${dir}.${label}`, op, dir, kind, bytes, call });
  };
  add('rms', 'fwd', 'ceiling', copyCall);
  add('rms', 'bwd', 'ceiling', triadCall);
  if (ops.includes('rms')) {
    add('rms', 'fwd', 'ours', oursRmsF);
    add('rms', 'fwd', 'naive', naiveRmsF);
    add('rms', 'bwd', 'ours', oursRmsB);
    add('rms', 'bwd', 'naive', naiveRmsB);
  }
  if (probe !== null && ops.includes('rms')) {
    if (cols % 16 !== 0) throw new Error('--reread needs cols a multiple of 16');
    add('rms', 'fwd', 'probe', (i) => { const s = S(i); probe.rmsForwardPipelined(s.x, lay.gamma, s.y, s.rstd, rows, cols, EPS); }, 'pipe-min');
    add('rms', 'fwd', 'probe', (i) => { const s = S(i); probe.rmsForwardOnePass(s.x, lay.gamma, s.y, s.rstd, rows, cols, EPS); }, '1pass');
    if ((cols & (cols - 1)) === 0) {
      // the first `back` bytes are not written: count the bytes moved, not the op's
      for (const [label, back] of [['reread-256B', 256], ['reread-row', 4 * cols]] as const) {
        add('rms', 'fwd', 'probe', (i) => { const s = S(i); probe.rereadBehind(s.x, lay.gamma, s.y, n, cols, back); }, label, 8 * n - 2 * back);
      }
    }
    add('rms', 'bwd', 'probe', (i) => { const s = S(i); probe.rmsBackwardOnePass(s.dy, s.x, s.rstd, lay.gamma, s.dx, lay.dgamma, rows, cols); }, '1pass');
  }
  if (alt !== null) {
    const viaAlt = (f: (i: number) => void) => (i: number) => {
      kernels = alt;
      f(i);
      kernels = ours;
    };
    if (ops.includes('rms')) {
      add('rms', 'fwd', 'alt', viaAlt(oursRmsF));
      add('rms', 'bwd', 'alt', viaAlt(oursRmsB));
    }
    if (ops.includes('layer')) {
      add('layer', 'fwd', 'alt', viaAlt(oursLnF));
      add('layer', 'bwd', 'alt', viaAlt(oursLnB));
    }
  }
  if (ops.includes('layer')) {
    add('layer', 'fwd', 'ours', oursLnF);
    add('layer', 'fwd', 'naive', naiveLnF);
    add('layer', 'bwd', 'ours', oursLnB);
    add('layer', 'bwd', 'naive', naiveLnB);
  }

  // Warm up (JIT tiers, page faults), calibrate calls per sample, then interleave round-robin.
  const batch = new Map<Case, number>();
  const counter = new Map<Case, number>();
  for (const c of cases) {
    let i = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 60 || i < 3) c.call(i++);
    const per = (performance.now() - t0) / i;
    batch.set(c, Math.max(1, Math.round(sampleMs / per)));
    counter.set(c, i);
  }
  const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const b = batch.get(c)!;
      let i = counter.get(c)!;
      const t0 = now();
      for (let j = 0; j < b; j++) c.call(i++);
      samples.get(c)!.push((now() - t0) / b);
      counter.set(c, i);
    }
  }
  // --stat min: the fastest sample (least disturbed by other processes on a loaded machine); default median
  const stat = arg('stat', 'median') === 'min' ? (v: number[]) => Math.min(...v) : median;
  const ms = new Map(cases.map((c) => [c.name, stat(samples.get(c)!)]));
  const gb = (c: Case) => c.bytes / (ms.get(c.name)! * 1e6);
  const byName = new Map(cases.map((c) => [c.name, c]));
  const ceilFor = (c: Case) => gb(byName.get(`rms.${c.dir}.ceiling`)!);
  const rowsOut = cases.map((c) => ({
    shape: `${rows}x${cols}`, case: c.name, ms: ms.get(c.name)!, gbps: gb(c),
    pctOfCeiling: c.kind === 'ceiling' ? 100 : (100 * gb(c)) / ceilFor(c),
    oursOverNaive: c.kind === 'ours' ? ms.get(`${c.op}.${c.dir}.naive`)! / ms.get(c.name)! : null,
    oursOverAlt: c.kind === 'alt' ? ms.get(c.name)! / ms.get(`${c.op}.${c.dir}.ours`)! : null,
  }));
  console.log(`\n${rows}x${cols}  (${lay.sets.length} buffer set(s), ${rounds} rounds, ${arg('stat', 'median')} sample, ${cpuClock ? 'cpu' : 'wall'} clock, load ${loadavg().map((v) => v.toFixed(2)).join(' ')})`);
  console.log('case                 ms        GB/s   %ceil  ours/naive');
  for (const r of rowsOut) {
    console.log(
      `${r.case.padEnd(18)} ${r.ms.toFixed(4).padStart(9)} ${r.gbps.toFixed(1).padStart(9)} ${r.pctOfCeiling.toFixed(0).padStart(6)}%` +
        (r.oursOverNaive === null ? '' : `  ${r.oursOverNaive.toFixed(2)}×`) +
        (r.oursOverAlt === null ? '' : `  (ours/alt ${r.oursOverAlt.toFixed(2)}×)`),
    );
  }
  console.log('ours vs naive max |diff| / max |naive|: ' + Object.entries(check).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', '));
  return rowsOut;
}

const all = [];
for (const [rows, cols] of shapes) all.push(...run(rows, cols));
if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), rows: all }, null, 2) + '\n');
