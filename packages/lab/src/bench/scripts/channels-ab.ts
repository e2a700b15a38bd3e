// Channels-last ("spatial") norm kernels A/B, one process, interleaved round-robin, one thread, zero-copy
// allocFloat32 buffers, called through the Backend objects (no op layer): for x [blocks, cols, channels]
//   wasm ch    the wasm channels-last kernels (packages/rmsnorm/assembly/_channels.ts)
//   js ch      the js channels-last kernels (src/backends/js/rms-norm-channels.ts, layer-norm-channels.ts)
//   wasm rows  the wasm row kernels on the same data already transposed to [blocks·channels, cols] (the transposes
//              themselves, which the channels kernels remove, are not timed), with a gain and bias per column (the
//              row kernels have no per-row gain: same work per value, other values)
// for rmsNorm and layerNorm (gamma and beta), forward (y, rstd[, mean]) and backward (dx, dgamma, dbeta).
// Rows: ms per call and the speed ratios js ch / wasm ch and wasm rows / wasm ch (> 1: the channels kernel is faster).
// Run: npx tsx src/bench/scripts/channels-ab.ts [--shapes 32x784x8,32x196x16,64x1024x64] [--ops rms,layer]
//      [--rounds 7] [--sample-ms 30] [--clock wall|cpu] [--stat median|min]
//      (on a machine shared with other work: --clock cpu --stat min)
//      [--alt v.wasm]: a second build of the norm-shared module (a variant under test, e.g. `asc assembly/norm-shared.ts
//      -o v.wasm` with flags.json's flags) run in the same rounds as "wasm alt" (the backend's exports swapped in)
import { loadavg } from 'node:os';
import { allocFloat32, freeFloat32 } from 'rmsnorm';
import { jsBackend, wasmBackend, wasmState } from 'rmsnorm/internal';
import { altModuleArg, arg, cpuClock, timeInterleaved, useMin } from './script-args.js';

const shapes = arg('shapes', '32x784x8,32x196x16,64x1024x64').split(',').map((s) => s.split('x').map(Number));
const ops = arg('ops', 'rms,layer').split(',');
const rounds = Number(arg('rounds', '7'));
const sampleMs = Number(arg('sample-ms', '30'));

const state = wasmState();
if (state === null) throw new Error('needs the wasm backend');
const altExports = altModuleArg<typeof state.exports>(state.memory);

/** Run f with the alt build's exports in the backend's place. */
function withAlt(f: () => void): () => void {
  return () => {
    const base = state!.exports;
    state!.exports = altExports!;
    try {
      f();
    } finally {
      state!.exports = base;
    }
  };
}

function fill(a: Float32Array, seed: number, offset = 0): void {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < a.length; i++) a[i] = offset + (next() + next() + next() - 1.5) * 2;
}

/** x [blocks, cols, channels] → [blocks, channels, cols]. */
function transpose(x: Float32Array, out: Float32Array, blocks: number, cols: number, channels: number): void {
  for (let b = 0; b < blocks; b++) {
    const o = b * cols * channels;
    for (let i = 0; i < cols; i++) for (let c = 0; c < channels; c++) out[o + c * cols + i] = x[o + i * channels + c];
  }
}

interface Case { name: string; call(): void }

function run(blocks: number, cols: number, channels: number): void {
  const n = blocks * cols * channels;
  const stats = blocks * channels;
  const buf = (len: number, seed = 0) => {
    const a = allocFloat32(len);
    if (seed !== 0) fill(a, seed);
    return a;
  };
  const x = buf(n, 1);
  const dy = buf(n, 2);
  const xt = buf(n);
  const dyt = buf(n);
  transpose(x, xt, blocks, cols, channels);
  transpose(dy, dyt, blocks, cols, channels);
  const gamma = buf(channels, 3);
  const beta = buf(channels, 4);
  const y = buf(n);
  const dx = buf(n);
  const rstd = buf(stats);
  const mean = buf(stats);
  const dgamma = buf(channels);
  const dbeta = buf(channels);
  const gRows = buf(cols, 5);
  const bRows = buf(cols, 6);
  const dgRows = buf(cols);
  const dbRows = buf(cols);
  const workspace = new Float64Array(6 * Math.max(channels, cols));
  const ch = { blocks, cols, channels, workspace };
  const rms = { k: cols, divisor: cols, eps: 1e-6, epsOutside: false, gammaOffset: 0 };
  const rows = { rows: stats, cols, workspace };
  const cases: Case[] = [];
  for (const [name, be] of [['wasm ch', wasmBackend], ['js ch', jsBackend]] as const) {
    if (ops.includes('rms')) {
      cases.push({ name: `rms fwd ${name}`, call: () => be.rmsNormChannels!({ ...ch, ...rms, x, gamma, beta, y, rstd }) });
      cases.push({
        name: `rms bwd ${name}`,
        call: () => be.rmsNormChannelsBackward!({ ...ch, ...rms, dy, x, rstd, gamma, dx, dgamma, dbeta }),
      });
    }
    if (ops.includes('layer')) {
      cases.push({ name: `ln fwd ${name}`, call: () => be.layerNormChannels!({ ...ch, eps: 1e-5, x, gamma, beta, y, mean, rstd }) });
      cases.push({
        name: `ln bwd ${name}`,
        call: () => be.layerNormChannelsBackward!({ ...ch, dy, x, mean, rstd, gamma, dx, dgamma, dbeta }),
      });
    }
  }
  if (ops.includes('rms')) {
    cases.push({ name: 'rms fwd wasm rows', call: () => wasmBackend.rmsNorm({ ...rows, ...rms, x: xt, gamma: gRows, beta: bRows, y, rstd }) });
    cases.push({
      name: 'rms bwd wasm rows',
      call: () => wasmBackend.rmsNormBackward({ ...rows, ...rms, dy: dyt, x: xt, rstd, gamma: gRows, dx, dgamma: dgRows, dbeta: dbRows }),
    });
  }
  if (ops.includes('layer')) {
    cases.push({ name: 'ln fwd wasm rows', call: () => wasmBackend.layerNorm({ ...rows, eps: 1e-5, x: xt, gamma: gRows, beta: bRows, y, mean, rstd }) });
    cases.push({
      name: 'ln bwd wasm rows',
      call: () => wasmBackend.layerNormBackward({ ...rows, dy: dyt, x: xt, mean, rstd, gamma: gRows, dx, dgamma: dgRows, dbeta: dbRows }),
    });
  }
  if (altExports !== null) {
    for (const c of cases.filter((k) => k.name.endsWith(' wasm ch'))) {
      cases.push({ name: c.name.replace('wasm ch', 'wasm alt'), call: withAlt(c.call) });
    }
  }
  for (const c of cases) for (let i = 0; i < 3; i++) c.call(); // warm-up (tier-up, page faults)
  const times = timeInterleaved(cases.map((c) => () => c.call()), rounds, sampleMs);
  const ms = new Map(cases.map((c, i) => [c.name, times[i]]));
  console.log(`\n${blocks}x${cols}x${channels}  (${useMin ? 'min' : 'median'} of ${rounds} rounds, ${cpuClock ? 'cpu' : 'wall'} clock)`);
  const alt = altExports !== null ? '   alt ms  alt/wasm ch' : '';
  console.log(`kernel      wasm ch ms   js ch ms  wasm rows ms   js/wasm ch  rows/wasm ch  Gelem/s wasm ch${alt}`);
  for (const op of ['rms fwd', 'rms bwd', 'ln fwd', 'ln bwd']) {
    const w = ms.get(`${op} wasm ch`);
    if (w === undefined) continue;
    const j = ms.get(`${op} js ch`)!;
    const r = ms.get(`${op} wasm rows`)!;
    console.log(
      `${op.padEnd(10)} ${w.toFixed(4).padStart(11)} ${j.toFixed(4).padStart(10)} ${r.toFixed(4).padStart(13)}` +
        ` ${(j / w).toFixed(1).padStart(11)}x ${(r / w).toFixed(2).padStart(12)}x ${(n / (w * 1e6)).toFixed(2).padStart(16)}` +
        (altExports !== null ? ` ${ms.get(`${op} wasm alt`)!.toFixed(4).padStart(8)} ${(ms.get(`${op} wasm alt`)! / w).toFixed(2).padStart(11)}x` : ''),
    );
  }
  for (const a of [x, dy, xt, dyt, gamma, beta, y, dx, rstd, mean, dgamma, dbeta, gRows, bRows, dgRows, dbRows]) freeFloat32(a);
}

console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (const [blocks, cols, channels] of shapes) run(blocks, cols, channels);
console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
