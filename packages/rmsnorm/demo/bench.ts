// Timing in the page: our wasm ops (zero-copy wasm buffers) and TF.js composing the same norms from its own ops, per
// shape × norm × pass. Each cell: 3 warm-up calls, then calls until the time budget is spent; the fastest call and the
// median are reported (the page compares the fastest: on a busy machine a call that spans many tf ops is preempted
// more often than one kernel call, which inflates medians unevenly; on a quiet machine the two agree).
import * as tf from '@tensorflow/tfjs';
import {
  allocFloat32, freeFloat32, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward,
} from '../src/index.js';
import { layerNormComposite, rmsNormComposite } from '../src/tfjs/composite.js';
import { mulberry32, randomNormal } from '../src/check/random.js';

export type NormName = 'RMSNorm' | 'LayerNorm' | 'pRMSNorm';
export type Pass = 'forward' | 'forward+backward';
export const NORMS: readonly NormName[] = ['RMSNorm', 'LayerNorm', 'pRMSNorm'];
export const PASSES: readonly Pass[] = ['forward', 'forward+backward'];
export const EPS = 1e-6;
export const P = 0.0625; // the paper's pRMSNorm setting

/** One measured cell. */
export interface Timing {
  rows: number;
  cols: number;
  norm: NormName;
  impl: string;
  pass: Pass;
  /** Fastest call, ms (what the page compares). */
  ms: number;
  /** Median call, ms. */
  median: number;
  calls: number;
}

/** A callable pair for one shape × norm on one implementation; release() frees its buffers. */
export interface Runner {
  forward(): void | Promise<void>;
  both(): void | Promise<void>;
  release(): void;
}

/** Fastest and median time per call of fn, ms: `warmUp` calls, then ≥ minCalls calls and until budgetMs has passed (≤ 2000 calls). */
export async function timeCalls(fn: () => void | Promise<void>, budgetMs: number, warmUp = 3, minCalls = 5): Promise<{ ms: number; median: number; calls: number }> {
  for (let i = 0; i < warmUp; i++) await fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minCalls || (performance.now() - start < budgetMs && samples.length < 2000)) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[0], median: samples[samples.length >> 1], calls: samples.length };
}

/** Seeded inputs of one shape: x, dy (N(0,1)), gamma (≈1), beta (≈0). */
export function shapeData(rows: number, cols: number) {
  return {
    x: randomNormal(mulberry32(rows * 31 + cols), rows * cols),
    dy: randomNormal(mulberry32(rows * 37 + cols), rows * cols),
    gamma: randomNormal(mulberry32(cols + 1), cols, 1, 0.1),
    beta: randomNormal(mulberry32(cols + 2), cols, 0, 0.1),
  };
}

/** Copy `src` into a fresh wasm-heap Float32Array (the library's zero-copy path). */
function wasmCopy(src: Float32Array, bufs: Float32Array[]): Float32Array {
  const a = allocFloat32(src.length);
  a.set(src);
  bufs.push(a);
  return a;
}

/** Our wasm ops on caller-owned wasm buffers (no allocation per call). */
export function oursRunner(norm: NormName, rows: number, cols: number): Runner {
  const d = shapeData(rows, cols);
  const bufs: Float32Array[] = [];
  const [x, dy, gamma, beta] = [d.x, d.dy, d.gamma, d.beta].map((a) => wasmCopy(a, bufs));
  const [y, dx] = [x, x].map((a) => wasmCopy(new Float32Array(a.length), bufs));
  const [rstd, mean] = [0, 0].map(() => wasmCopy(new Float32Array(rows), bufs));
  const [dgamma, dbeta] = [0, 0].map(() => wasmCopy(new Float32Array(cols), bufs));
  const backend = 'wasm' as const;
  const forward = norm === 'LayerNorm'
    ? () => void layerNorm(x, cols, { gamma, beta, eps: EPS, backend, out: { y, rstd, mean } })
    : () => void rmsNorm(x, cols, { gamma, eps: EPS, p: norm === 'pRMSNorm' ? P : 1, backend, out: { y, rstd } });
  const backward = norm === 'LayerNorm'
    ? () => void layerNormBackward(dy, x, mean, rstd, cols, { gamma, beta, eps: EPS, backend, out: { dx, dgamma, dbeta } })
    : () => void rmsNormBackward(dy, x, rstd, cols, { gamma, eps: EPS, p: norm === 'pRMSNorm' ? P : 1, backend, out: { dx, dgamma } });
  return {
    forward,
    both: () => { forward(); backward(); },
    release: () => bufs.forEach((b) => freeFloat32(b)),
  };
}

/** TF.js composing the norm from its own ops (tf.moments for LayerNorm); gradients by tf.grads. */
export function tfjsRunner(norm: NormName, rows: number, cols: number): Runner {
  const d = shapeData(rows, cols);
  const x = tf.tensor2d(d.x, [rows, cols]);
  const dy = tf.tensor2d(d.dy, [rows, cols]);
  const gamma = tf.tensor1d(d.gamma);
  const beta = tf.tensor1d(d.beta);
  const settings = { l2: false, eps: EPS, epsPlacement: 'inside' as const, p: norm === 'pRMSNorm' ? P : 1, kRule: 'ceil' as const, gammaOffset: 0 };
  const f = norm === 'LayerNorm'
    ? (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNormComposite(a, g, b, EPS)
    : (a: tf.Tensor, g: tf.Tensor) => rmsNormComposite(a, g, null, settings);
  const inputs = norm === 'LayerNorm' ? [x, gamma, beta] : [x, gamma];
  const grads = tf.grads((...args: tf.Tensor[]) => f(args[0], args[1], args[2]));
  return {
    forward: () => {
      const y = f(x, gamma, beta);
      y.dataSync();
      y.dispose();
    },
    both: () => {
      for (const g of grads(inputs, dy)) {
        g.dataSync();
        g.dispose();
      }
    },
    release: () => tf.dispose([x, dy, gamma, beta]),
  };
}
