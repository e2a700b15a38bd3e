// WGSL kernels on the tfjs 'webgpu' backend (Dawn for Node via the `webgpu` package, SwiftShader Vulkan): rmsNorm,
// l2Norm, layerNorm forward and gradients vs the float64 reference; the spatial norm (channelAxis on NHWC), which
// takes the composed path there. Skips (never fails) where no adapter exists.
// Debian's chromium ships libvulkan.so.1 + SwiftShader in /usr/lib/chromium; the loader only honours LD_LIBRARY_PATH
// at process start, so without it this file re-runs itself in a child process with that environment.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { l2Norm, layerNorm, registerWebGpuKernels, rmsNorm } from '../src/tfjs/index.js';
import { LAYER_NORM, LAYER_NORM_GRAD, RMS_FAMILY, RMS_FAMILY_GRAD } from '../src/tfjs/index.js';
import {
  l2NormBackwardRef, l2NormRef, layerNormBackwardRef, layerNormRef, partialK, rmsNormBackwardRef, rmsNormRef,
} from '../src/reference/index.js';
import { compareArrays, describeComparison } from '../src/check/compare.js';
import { tolerance } from './tolerance.js';
import { randn } from './tfjs-util.js';
import { channelsExpected, toRows, type ChannelsSpec } from './channels-ref.js';

const CHROMIUM_DIR = '/usr/lib/chromium';
const SWIFTSHADER_ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;
const SKIP_MARKER = 'RMSNORM_WEBGPU_SKIP:';
const inChild = process.env.RMSNORM_WEBGPU_CHILD === '1';
const needsChild = !inChild && existsSync(`${CHROMIUM_DIR}/libvulkan.so.1`)
  && !(process.env.LD_LIBRARY_PATH ?? '').split(':').includes(CHROMIUM_DIR);

/** Why no adapter is available, or null once tfjs runs on webgpu with our kernels registered. */
async function setUpWebGpu(): Promise<string | null> {
  let create: (flags: string[]) => unknown;
  let globals: object;
  try {
    ({ create, globals } = await import('webgpu'));
  } catch (e) {
    return `the optional 'webgpu' package does not load here (${String(e).split('\n')[0]})`;
  }
  Object.assign(globalThis, globals);
  const gpu = create([]) as { requestAdapter(): Promise<unknown> };
  const probe = await gpu.requestAdapter().catch(() => null);
  if (probe === null) return 'no WebGPU adapter (needs a Vulkan loader and driver, e.g. Debian chromium\'s SwiftShader)';
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    return `the optional '@tensorflow/tfjs-backend-webgpu' package does not load (${String(e).split('\n')[0]})`;
  }
  registerWebGpuKernels();
  if (!(await tf.setBackend('webgpu'))) return 'tfjs could not initialise its webgpu backend on this adapter';
  return null;
}

const FWD = tolerance('wasm', 'rmsNorm', 'forward');
const BWD = tolerance('wasm', 'rmsNorm', 'backward');
const worst = { forward: 0, backward: 0 };

/**
 * Assert |actual − expected| ≤ atol·scale + rtol·|expected| (the wasm rows of the tolerance table: f32 accumulation)
 * with per-row natural scales (see naturalScales); records the worst scaled error for the report line.
 */
function assertNear(what: string, actual: Float32Array, expected: ArrayLike<number>, dir: 'forward' | 'backward', rowLength: number, scales: ArrayLike<number>): void {
  const c = compareArrays(actual, expected, dir === 'forward' ? FWD : BWD, rowLength, scales);
  worst[dir] = Math.max(worst[dir], c.scaledError);
  assert.ok(c.ok, `${what}: ${describeComparison(what, c)}`);
}

/**
 * Error scales of each output, as src/check/run-case.ts defines them: y per row max(|x̂·g| + |beta|); dx per row
 * rstd·(max|u| + max|x̂|·Σ|u x̂|/divisor) (dx cancels, e.g. to ≈0 for cols = 1); dgamma/dbeta per column
 * Σ_rows |dy x̂| and Σ_rows |dy|.
 */
function naturalScales(c: Case, xs: Float32Array, dys: Float32Array, gs: Float32Array | undefined, bs: Float32Array | undefined,
  rstd: ArrayLike<number>, mean: ArrayLike<number> | null, divisor: number) {
  const gain = (j: number) => (gs === undefined ? 1 : (c.offset ?? 0) + gs[j]);
  const y = new Float64Array(c.rows);
  const dx = new Float64Array(c.rows);
  const dgamma = new Float64Array(c.cols);
  const dbeta = new Float64Array(c.cols);
  for (let r = 0; r < c.rows; r++) {
    let maxU = 0, maxXhat = 0, sumUXhat = 0;
    for (let j = 0; j < c.cols; j++) {
      const i = r * c.cols + j;
      const xhat = Math.abs((xs[i] - (mean === null ? 0 : mean[r])) * rstd[r]);
      const u = Math.abs(gain(j) * dys[i]);
      y[r] = Math.max(y[r], xhat * Math.abs(gain(j)) + (bs === undefined ? 0 : Math.abs(bs[j])));
      maxU = Math.max(maxU, u);
      maxXhat = Math.max(maxXhat, xhat);
      sumUXhat += u * xhat;
      dgamma[j] += Math.abs(dys[i]) * xhat;
      dbeta[j] += Math.abs(dys[i]);
    }
    dx[r] = rstd[r] * (maxU + (maxXhat * sumUXhat) / divisor);
  }
  return { y, dx, dgamma, dbeta };
}

async function values(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array; // webgpu in Node has no dataSync
}

interface Case {
  op: 'rms' | 'l2' | 'ln';
  rows: number;
  cols: number;
  gamma: boolean;
  beta: boolean;
  p?: number;
  kRule?: 'ceil' | 'floor';
  eps: number;
  outside?: boolean;
  offset?: number;
}

const CASES: Case[] = [
  { op: 'rms', rows: 3, cols: 1, gamma: false, beta: false, eps: 1e-6 },
  { op: 'rms', rows: 4, cols: 5, gamma: true, beta: true, eps: 1e-6 },
  { op: 'rms', rows: 130, cols: 5, gamma: true, beta: true, eps: 1e-5, outside: true },
  { op: 'rms', rows: 4, cols: 64, gamma: true, beta: false, p: 0.0625, eps: 1e-8 },
  { op: 'rms', rows: 3, cols: 64, gamma: true, beta: true, p: 0.3, kRule: 'floor', eps: 1e-2, outside: true, offset: 1 },
  { op: 'rms', rows: 3, cols: 1000, gamma: true, beta: true, p: 0.0625, eps: 1e-6 },
  { op: 'rms', rows: 2, cols: 1000, gamma: false, beta: false, eps: 1e-3, outside: true },
  { op: 'l2', rows: 3, cols: 1, gamma: true, beta: false, eps: 1e-6 },
  { op: 'l2', rows: 4, cols: 5, gamma: true, beta: true, eps: 1e-2, outside: true },
  { op: 'l2', rows: 3, cols: 1000, gamma: true, beta: true, eps: 1e-6 },
  { op: 'ln', rows: 3, cols: 1, gamma: true, beta: true, eps: 1e-5 },
  { op: 'ln', rows: 130, cols: 5, gamma: true, beta: true, eps: 1e-6 },
  { op: 'ln', rows: 4, cols: 64, gamma: true, beta: false, eps: 1e-3 },
  { op: 'ln', rows: 3, cols: 1000, gamma: false, beta: false, eps: 1e-6 },
  { op: 'ln', rows: 2, cols: 1000, gamma: true, beta: true, eps: 1e-6 },
];

function describeCase(c: Case): string {
  const parts = [`${c.op} ${c.rows}×${c.cols}`, c.gamma ? 'gamma' : '', c.beta ? 'beta' : '', c.p ? `p ${c.p} ${c.kRule ?? 'ceil'}` : '',
    c.outside ? 'eps outside' : '', c.offset ? `offset ${c.offset}` : ''];
  return parts.filter(Boolean).join(', ');
}

/** Run the op of a case on tfjs tensors (x, gamma, beta as given; null = absent). */
function apply(c: Case, x: tf.Tensor, g: tf.Tensor | null, b: tf.Tensor | null): tf.Tensor {
  if (c.op === 'ln') return layerNorm(x, g, b, { eps: c.eps });
  const common = { eps: c.eps, epsPlacement: c.outside ? 'outside' as const : 'inside' as const, beta: b, ...(c.offset ? { gammaOffset: c.offset } : {}) };
  return c.op === 'l2' ? l2Norm(x, g, common) : rmsNorm(x, g, { ...common, p: c.p ?? 1, kRule: c.kRule ?? 'ceil' });
}

/** The float64 reference forward and backward of a case, with the error scales of every output. */
function reference(c: Case, xs: Float32Array, gs: Float32Array | undefined, bs: Float32Array | undefined, dys: Float32Array) {
  const scales = (rstd: ArrayLike<number>, mean: ArrayLike<number> | null, divisor: number) =>
    naturalScales(c, xs, dys, gs, bs, rstd, mean, divisor);
  if (c.op === 'ln') {
    const o = { gamma: gs, beta: bs, eps: c.eps };
    const f = layerNormRef(xs, c.cols, o);
    return { y: f.y, grads: layerNormBackwardRef(dys, xs, c.cols, o), scales: scales(f.rstd, f.mean, c.cols) };
  }
  const o = { gamma: gs, beta: bs, eps: c.eps, epsPlacement: c.outside ? 'outside' as const : 'inside' as const, gammaOffset: c.offset ?? 0 };
  if (c.op === 'l2') {
    const f = l2NormRef(xs, c.cols, o);
    return { y: f.y, grads: l2NormBackwardRef(dys, xs, c.cols, o), scales: scales(f.rstd, null, 1) };
  }
  const k = partialK(c.p ?? 1, c.cols, c.kRule ?? 'ceil');
  const f = rmsNormRef(xs, c.cols, { ...o, k });
  return { y: f.y, grads: rmsNormBackwardRef(dys, xs, c.cols, { ...o, k }), scales: scales(f.rstd, null, k) };
}

/**
 * Spatial-norm cases: NHWC x [2, 5, 6, 3] normalised over H×W ([1, 2]) per sample and channel, gain/bias [3] along
 * channelAxis 3. On webgpu our kernels take rows × cols only, so the op composes: the parameter-free norm (our kernel
 * on the transposed rows) times gamma plus beta broadcast along the channel axis.
 */
interface ChannelCase {
  op: 'rmsNorm' | 'l2Norm' | 'layerNorm';
  gamma: boolean;
  beta: boolean;
  eps: number;
  p?: number;
  kRule?: 'ceil' | 'floor';
  outside?: boolean;
  offset?: number;
}

const NHWC = [2, 5, 6, 3];
const CHANNEL_CASES: ChannelCase[] = [
  { op: 'rmsNorm', gamma: true, beta: true, eps: 1e-6 },
  { op: 'rmsNorm', gamma: true, beta: false, eps: 1e-5, p: 0.25, kRule: 'floor', outside: true, offset: 1 },
  { op: 'l2Norm', gamma: true, beta: true, eps: 1e-2, outside: true },
  { op: 'layerNorm', gamma: true, beta: true, eps: 1e-5 },
];

function applyChannels(c: ChannelCase, x: tf.Tensor, g: tf.Tensor | null, b: tf.Tensor | null): tf.Tensor {
  const where = { axis: [1, 2], channelAxis: 3 };
  if (c.op === 'layerNorm') return layerNorm(x, g, b, { ...where, eps: c.eps });
  const common = { ...where, eps: c.eps, epsPlacement: c.outside ? 'outside' as const : 'inside' as const, beta: b,
    ...(c.offset ? { gammaOffset: c.offset } : {}) };
  return c.op === 'l2Norm' ? l2Norm(x, g, common) : rmsNorm(x, g, { ...common, p: c.p ?? 1, kRule: c.kRule ?? 'ceil' });
}

function inProcessTests(): void {
  describe('tfjs webgpu kernels', () => {
    let skipReason: string | null = 'not set up';
    before(async () => {
      skipReason = await setUpWebGpu();
      if (skipReason !== null && inChild) console.log(`${SKIP_MARKER} ${skipReason}`);
    });
    after(() => {
      if (skipReason !== null) return;
      console.log(`webgpu max error (relative to each output's natural scale): forward ${worst.forward.toExponential(2)}, backward ${worst.backward.toExponential(2)}`);
      // Dawn keeps the process alive while a device exists.
      (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy();
    });

    for (const [n, c] of CASES.entries()) {
      it(`${describeCase(c)}: forward and gradients match the float64 reference`, async (t: TestContext) => {
        if (skipReason !== null) return t.skip(skipReason);
        const xs = randn(c.rows * c.cols, 100 + n, c.op === 'ln' ? 2 : 1, c.op === 'ln' ? 3 : 0);
        const gs = c.gamma ? randn(c.cols, 200 + n, 0.5, 1) : undefined;
        const bs = c.beta ? randn(c.cols, 300 + n) : undefined;
        const dys = randn(c.rows * c.cols, 400 + n);
        const x = tf.tensor2d(xs, [c.rows, c.cols]);
        const g = gs ? tf.tensor1d(gs) : null;
        const b = bs ? tf.tensor1d(bs) : null;
        const dy = tf.tensor2d(dys, [c.rows, c.cols]);
        const ref = reference(c, xs, gs, bs, dys);
        const before = tf.memory().numTensors;

        const y = apply(c, x, g, b);
        const sc = ref.scales;
        assertNear('y', await values(y), ref.y, 'forward', c.cols, sc.y);
        const params = [x, ...(g ? [g] : []), ...(b ? [b] : [])];
        const pick = (args: tf.Tensor[]) => [args[0], g ? args[1] : null, b ? args[g ? 2 : 1] : null] as const;
        const grads = tf.grads((...args: tf.Tensor[]) => apply(c, ...pick(args)))(params, dy);
        assertNear('dx', await values(grads[0]), ref.grads.dx, 'backward', c.cols, sc.dx);
        if (g) assertNear('dgamma', await values(grads[1]), ref.grads.dgamma!, 'backward', 1, sc.dgamma);
        if (b) assertNear('dbeta', await values(grads[grads.length - 1]), ref.grads.dbeta!, 'backward', 1, sc.dbeta);
        tf.dispose([y, ...grads]);
        assert.equal(tf.memory().numTensors, before, 'forward + gradients leave no tensors behind');
        tf.dispose(([x, g, b, dy] as Array<tf.Tensor | null>).filter((v): v is tf.Tensor => v !== null));
      });
    }

    for (const [n, c] of CHANNEL_CASES.entries()) {
      const label = [c.op, c.gamma ? 'gamma' : '', c.beta ? 'beta' : '', c.p ? `p ${c.p} ${c.kRule ?? 'ceil'}` : '',
        c.outside ? 'eps outside' : '', c.offset ? `offset ${c.offset}` : ''].filter(Boolean).join(', ');
      it(`channelAxis NHWC [${NHWC.join(', ')}] ${label}: composed path, forward and gradients match the float64 reference`, async (t: TestContext) => {
        if (skipReason !== null) return t.skip(skipReason);
        const [blocks, h, w, channels] = NHWC;
        const cols = h * w;
        const size = blocks * cols * channels;
        const xs = randn(size, 500 + n, c.op === 'layerNorm' ? 2 : 1, c.op === 'layerNorm' ? 3 : 0);
        const gs = c.gamma ? randn(channels, 600 + n, 0.5, 1) : null;
        const bs = c.beta ? randn(channels, 700 + n) : null;
        const dys = randn(size, 800 + n);
        const spec: ChannelsSpec = {
          op: c.op, blocks, cols, channels, gamma: gs, beta: bs, gammaOffset: c.offset ?? 0, eps: c.eps,
          epsOutside: c.outside === true, k: c.op === 'rmsNorm' ? partialK(c.p ?? 1, cols, c.kRule ?? 'ceil') : cols,
        };
        const e = channelsExpected(spec, xs, dys);
        const x = tf.tensor4d(xs, NHWC as [number, number, number, number]);
        const g = gs === null ? null : tf.tensor1d(gs);
        const b = bs === null ? null : tf.tensor1d(bs);
        const dy = tf.tensor4d(dys, NHWC as [number, number, number, number]);
        const before = tf.memory().numTensors;

        // The composed path: our rows × cols kernel on [blocks·channels, cols] (2-D input), then the gain/bias ops;
        // the fused channels-last path would hand the kernel 3-D [blocks, cols, channels] (cpu/wasm only).
        const kernel = c.op === 'layerNorm' ? LAYER_NORM : RMS_FAMILY;
        const profile = await tf.profile(() => applyChannels(c, x, g, b));
        const ours = profile.kernels.filter((k) => k.name === kernel);
        assert.equal(ours.length, 1, profile.kernelNames.join(','));
        assert.deepEqual(ours[0].inputShapes, [[blocks * channels, cols]], 'one parameter-free kernel call on the transposed rows');
        assert.ok(profile.kernelNames.includes('Multiply') && (!c.beta || profile.kernelNames.includes('Add')), profile.kernelNames.join(','));
        const y = profile.result as tf.Tensor;
        assert.deepEqual(y.shape, NHWC);
        const rowsOf = async (v: tf.Tensor) => Float32Array.from(toRows(await values(v), spec));
        assertNear('y', await rowsOf(y), e.y, 'forward', cols, e.yScale);

        const params = [x, ...(g ? [g] : []), ...(b ? [b] : [])];
        const pick = (args: tf.Tensor[]) => [args[0], g ? args[1] : null, b ? args[g ? 2 : 1] : null] as const;
        const grads = tf.grads((...args: tf.Tensor[]) => applyChannels(c, ...pick(args)))(params, dy);
        assertNear('dx', await rowsOf(grads[0]), e.dx, 'backward', cols, e.dxScale);
        if (g) assertNear('dgamma', await values(grads[1]), e.dgamma, 'backward', 1, e.dgammaScale);
        if (b) assertNear('dbeta', await values(grads[grads.length - 1]), e.dbeta, 'backward', 1, e.dbetaScale);
        tf.dispose([y, ...grads]);
        assert.equal(tf.memory().numTensors, before, 'forward + gradients leave no tensors behind');
        tf.dispose(([x, g, b, dy] as Array<tf.Tensor | null>).filter((v): v is tf.Tensor => v !== null));
      });
    }

    it('runs our fused kernels (not the composed fallback), also for a gamma-only gradient', async (t: TestContext) => {
      if (skipReason !== null) return t.skip(skipReason);
      const x = tf.tensor2d(randn(4 * 8, 7), [4, 8]);
      const g = tf.tensor1d(randn(8, 8, 0.5, 1));
      const dy = tf.tensor2d(randn(4 * 8, 9), [4, 8]);
      const rms = await tf.profile(() => tf.grad((gg: tf.Tensor) => rmsNorm(x, gg))(g, dy));
      assert.ok(rms.kernelNames.includes(RMS_FAMILY) && rms.kernelNames.includes(RMS_FAMILY_GRAD), rms.kernelNames.join(','));
      const ln = await tf.profile(() => tf.grad((xx: tf.Tensor) => layerNorm(xx, g))(x, dy));
      assert.ok(ln.kernelNames.includes(LAYER_NORM) && ln.kernelNames.includes(LAYER_NORM_GRAD), ln.kernelNames.join(','));
      const dg = tf.grad((gg: tf.Tensor) => rmsNorm(x, gg))(g, dy);
      const c: Case = { op: 'rms', rows: 4, cols: 8, gamma: true, beta: false, eps: 1e-6 };
      const ref = reference(c, await values(x), await values(g), undefined, await values(dy));
      assertNear('dgamma alone', await values(dg), ref.grads.dgamma!, 'backward', 1, ref.scales.dgamma);
      tf.dispose([x, g, dy, dg, rms.result as tf.Tensor, ln.result as tf.Tensor]);
    });
  });
}

// Last, so every const above is initialised when the suite is declared.
if (needsChild) {
  it('webgpu kernels (child process with Chromium\'s Vulkan loader + SwiftShader)', (t: TestContext) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      RMSNORM_WEBGPU_CHILD: '1',
      LD_LIBRARY_PATH: [CHROMIUM_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? SWIFTSHADER_ICD,
    };
    delete env.NODE_TEST_CONTEXT; // the child reports on its own stdout, not to this runner
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--test-reporter=spec', fileURLToPath(import.meta.url)], {
      env, encoding: 'utf8', timeout: 55_000,
    });
    const output = `${child.stdout ?? ''}${child.stderr ?? ''}`;
    const skip = output.split('\n').find((line) => line.startsWith(SKIP_MARKER));
    if (skip !== undefined) {
      t.skip(skip.slice(SKIP_MARKER.length).trim());
      return;
    }
    // Relay the child's per-case lines and its error summary.
    for (const line of output.split('\n').filter((l) => /^ {2}[✔✖﹣]|max error/.test(l))) t.diagnostic(line.trim());
    assert.equal(child.status, 0, `child test run failed (status ${child.status}, signal ${child.signal}):\n${output.slice(-4000)}`);
  });
} else {
  inProcessTests();
}
