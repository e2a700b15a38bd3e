// The demo page: environment, a seeded correctness sample (read back by test/demo-page.test.ts), the paper's
// Table 1 measured live, and timings of our wasm (and WebGPU) kernels against TF.js's own composite, drawn as SVG.
// Everything measured is also published on window.__demo for the test.
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { getThreads, initThreads, initWasm, layerNorm, rmsNorm } from '../src/index.js';
import { computeInvarianceTable, type InvarianceTable } from '../src/check/invariance.js';
import { mulberry32, randomNormal } from '../src/check/random.js';
import { EPS, NORMS, oursRunner, P, PASSES, tfjsRunner, timeCalls, type Runner, type Timing } from './bench.js';
import { barChart } from './chart.js';
import { setUpWebGpu, webGpuRunner, webGpuSample, type WebGpu } from './webgpu.js';

/** The seeded sample whose outputs the test checks against the float64 reference (x, gamma, beta from these seeds). */
export const SAMPLE = { seed: 20190, rows: 64, cols: 1024, p: P, eps: EPS }; // 65536 values: enough for the thread pool

interface DemoState {
  done: boolean;
  error: string | null;
  env: { crossOriginIsolated: boolean; wasm: boolean; threads: number; hardwareConcurrency: number; tfjsBackend: string; webgpu: string };
  sample: {
    seed: number; rows: number; cols: number; p: number; eps: number; rms: number[]; prms: number[]; ln: number[];
    /** The same through the WebGPU kernels; null without an adapter. */
    webgpu: { rms: number[]; prms: number[]; ln: number[] } | null;
  } | null;
  invariance: InvarianceTable | null;
  timings: Timing[];
}

const state: DemoState = {
  done: false, error: null,
  env: { crossOriginIsolated: false, wasm: false, threads: 1, hardwareConcurrency: 1, tfjsBackend: '', webgpu: '' },
  sample: null, invariance: null, timings: [],
};
(globalThis as { __demo?: DemoState }).__demo = state;

const $ = (id: string) => document.getElementById(id)!;
const status = (text: string) => { $('status').textContent = text; };

async function setUpTfjs(): Promise<string> {
  setWasmPaths(new URL('./tfjs-wasm/', location.href).href);
  // ?tfjsThreads=N: TF.js's own pool size (default: its choice); 0 = its single-threaded SIMD build
  const threads = new URLSearchParams(location.search).get('tfjsThreads');
  if (threads === '0') tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  else if (Number(threads) >= 1) setThreadsCount(Number(threads));
  try {
    if (await tf.setBackend('wasm')) return 'wasm';
  } catch { /* falls back to cpu below */ }
  await tf.setBackend('cpu');
  return 'cpu';
}

async function setUpEnv(): Promise<WebGpu> {
  const env = state.env;
  env.crossOriginIsolated = globalThis.crossOriginIsolated === true;
  env.hardwareConcurrency = navigator.hardwareConcurrency || 1;
  env.wasm = await initWasm();
  if (env.wasm && env.crossOriginIsolated) env.threads = await initThreads(Math.min(Math.max(2, env.hardwareConcurrency), 8));
  env.threads = getThreads();
  env.tfjsBackend = await setUpTfjs();
  const gpu = await setUpWebGpu();
  env.webgpu = gpu.status;
  const badge = (ok: boolean, text: string) => `<span class="${ok ? 'ok' : 'no'}">${text}</span>`;
  $('env').innerHTML = [
    badge(env.crossOriginIsolated, `cross-origin isolated: ${env.crossOriginIsolated ? 'yes' : 'no'}`),
    badge(env.wasm, `wasm SIMD: ${env.wasm ? 'yes' : 'no'}`),
    badge(env.threads > 1, `wasm threads: ${env.threads}`),
    badge(env.tfjsBackend === 'wasm', `TF.js backend: ${env.tfjsBackend}`),
    badge(gpu.norm !== null, `WebGPU: ${env.webgpu}`),
  ].join('');
  document.querySelectorAll('.tfjs-backend').forEach((e) => { e.textContent = env.tfjsBackend; });
  return gpu;
}

/** The seeded sample through the default backend (wasm, on threads when available) and through WebGPU. */
async function runSample(gpu: WebGpu): Promise<void> {
  const { seed, rows, cols, p, eps } = SAMPLE;
  const x = randomNormal(mulberry32(seed), rows * cols);
  const gamma = randomNormal(mulberry32(seed + 1), cols, 1, 0.1);
  const beta = randomNormal(mulberry32(seed + 2), cols, 0, 0.1);
  state.sample = {
    ...SAMPLE,
    rms: Array.from(rmsNorm(x, cols, { gamma, eps }).y),
    prms: Array.from(rmsNorm(x, cols, { gamma, eps, p }).y),
    ln: Array.from(layerNorm(x, cols, { gamma, beta, eps }).y),
    webgpu: null,
  };
  if (gpu.norm !== null) {
    const r = await webGpuSample(gpu, x, gamma, beta, cols, p, eps);
    state.sample.webgpu = { rms: Array.from(r.rms), prms: Array.from(r.prms), ln: Array.from(r.ln) };
  }
}

function renderInvariance(t: InvarianceTable): void {
  const mark = (b: boolean) => (b ? '✓' : '✗');
  const head = `<tr><th></th>${t.columns.map((c) => `<th>${c}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr><th>${r.norm}</th>${r.cells.map((c) =>
    `<td class="${c.matches ? 'match' : 'mismatch'}" data-invariant="${c.invariant}" data-paper="${c.paper}">`
    + `${mark(c.invariant)} <small>(paper ${mark(c.paper)})</small><br><small>${c.relativeDelta.toExponential(1)}</small></td>`).join('')}</tr>`).join('');
  $('invariance').innerHTML = `<table class="invariance"><thead>${head}</thead><tbody>${body}</tbody></table>`
    + `<p>${t.allMatch ? 'Every cell matches the paper.' : '<b>Some cells differ from the paper.</b>'} `
    + `Batch ${t.batch}, x ∈ ℝ^${t.inputs}, W ∈ ℝ^${t.outputs}×${t.inputs}, pRMSNorm p = ${t.p}, eps = 0, backend ${t.backend}.</p>`;
}

function renderTimings(impls: string[], shapes: number[][]): void {
  const find = (r: number, c: number, norm: string, impl: string, pass: string) =>
    state.timings.find((t) => t.rows === r && t.cols === c && t.norm === norm && t.impl === impl && t.pass === pass);
  const groups = shapes.flatMap(([r, c]) => NORMS.map((n) => ({ r, c, n, label: `${r}×${c} ${n}` })));
  const base = impls[impls.length - 1]; // the TF.js composite
  $('charts').innerHTML = PASSES.map((pass) => barChart(`${pass}: speed-up over ${base}`, groups.map((g) => g.label), impls.slice(0, -1),
    groups.map((g) => impls.slice(0, -1).map((impl) => {
      const a = find(g.r, g.c, g.n, impl, pass), b = find(g.r, g.c, g.n, base, pass);
      return a && b ? b.ms / a.ms : null;
    })), (v) => `${v.toFixed(1)}×`)).join('');
  const rows = groups.map((g) => `<tr><th>${g.r}×${g.c}</th><th>${g.n}</th>${PASSES.flatMap((pass) => impls.map((impl) => {
    const t = find(g.r, g.c, g.n, impl, pass);
    return `<td class="num" title="${t ? `median ${t.median.toFixed(3)} ms of ${t.calls} calls` : ''}">${t ? t.ms.toFixed(3) : '…'}</td>`;
  })).join('')}</tr>`).join('');
  $('timings').innerHTML = `<table class="timings"><thead><tr><th colspan="2"></th>${PASSES.map((p) => `<th colspan="${impls.length}">${p}: fastest call, ms</th>`).join('')}</tr>`
    + `<tr><th>shape</th><th>norm</th>${PASSES.flatMap(() => impls.map((i) => `<th>${i}</th>`)).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
}

async function runTimings(gpu: WebGpu, quick: boolean): Promise<void> {
  const shapes = quick ? [[256, 512], [1024, 512]] : [[512, 1024], [4096, 1024], [16384, 1024]];
  const budget = quick ? 10 : 250;
  const ours = `rmsnorm wasm (${state.env.threads} thread${state.env.threads > 1 ? 's' : ''})`;
  const tfjsName = `TF.js composite (${state.env.tfjsBackend})`;
  const makers: Array<[string, (n: typeof NORMS[number], r: number, c: number) => Runner]> = [[ours, oursRunner]];
  const gpuName = 'rmsnorm WebGPU';
  if (gpu.norm !== null) makers.push([gpuName, (n, r, c) => webGpuRunner(gpu, n, r, c)]);
  makers.push([tfjsName, tfjsRunner]);
  const impls = makers.map(([name]) => name);
  renderTimings(impls, shapes);
  for (const [rows, cols] of shapes) {
    for (const norm of NORMS) {
      for (const [impl, make] of makers) {
        // quick mode or a software adapter (slow, and not a GPU's speed): WebGPU timed on the first shape only
        if ((quick || gpu.software) && impl === gpuName && rows !== shapes[0][0]) continue;
        status(`timing ${rows}×${cols} ${norm} on ${impl}…`);
        const runner = make(norm, rows, cols);
        try {
          for (const pass of PASSES) {
            const t = await timeCalls(pass === 'forward' ? runner.forward : runner.both, budget, quick ? 1 : 3, quick ? 3 : 5);
            state.timings.push({ rows, cols, norm, impl, pass, ...t });
          }
        } finally {
          runner.release();
        }
        renderTimings(impls, shapes);
        await new Promise((r) => setTimeout(r, 0)); // let the page paint
      }
    }
  }
}

async function main(): Promise<void> {
  const quick = new URLSearchParams(location.search).has('quick');
  status('setting up wasm, threads, TF.js and WebGPU…');
  const gpu = await setUpEnv();
  status('running the seeded sample (wasm, WebGPU)…');
  await runSample(gpu);
  status('measuring Table 1…');
  state.invariance = computeInvarianceTable({ backend: 'wasm' });
  renderInvariance(state.invariance);
  await runTimings(gpu, quick);
  status(`done: ${state.timings.length} timings on this machine (${state.env.hardwareConcurrency} logical cores).`);
}

main().catch((err: unknown) => {
  state.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  $('status').className = 'error';
  status(`error: ${state.error}`);
}).finally(() => { state.done = true; });
