// TensorFlow.js 4.22 peers (wasm and cpu backends): RMSNorm / pRMSNorm composed from ops, LayerNorm from tf.moments,
// and the stock tf.layers.layerNormalization — end to end from a Float32Array to a Float32Array (upload + read-back).
// Backward is `tf.grads`, which re-runs the forward, so those records have direction 'full'.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import type { BenchCase } from './runner.js';
import { opBytes, type OpName } from './stats.js';
import type { ShapeData } from './shape-data.js';

type Tf = typeof TF;
let loaded: Tf | null = null;

/** Import tfjs and initialise its wasm and cpu backends (the wasm binaries are read from node_modules as files). */
export async function loadTfjs(): Promise<Tf> {
  if (loaded !== null) return loaded;
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(join(dist, '/'));
  // Threads do not work in Node's tfjs-backend-wasm; run it single-threaded (the simd build).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('cpu');
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
  await tf.ready();
  loaded = tf;
  return tf;
}

/** Switch backend synchronously (both are initialised, so engine.setBackend completes without awaiting). */
function use(tf: Tf, name: string): void {
  if (tf.getBackend() !== name) void tf.setBackend(name);
}

const EPS = 1e-6;

function rmsComposite(tf: Tf, x: TF.Tensor2D, gamma: TF.Tensor1D, k: number, cols: number): TF.Tensor {
  const xk = k === cols ? x : tf.slice(x, [0, 0], [-1, k]);
  const ms = tf.mean(tf.square(xk), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, EPS))), gamma);
}

function lnComposite(tf: Tf, x: TF.Tensor2D, gamma: TF.Tensor1D, beta: TF.Tensor1D): TF.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, EPS))), gamma), beta);
}

export interface TfjsSelection {
  ops: OpName[];
  forward: boolean;
  full: boolean;
  /** tfjs backends for the composites, e.g. ['wasm', 'cpu']. */
  backends: string[];
  /** Include the stock tf.layers.layerNormalization (wasm). */
  layer: boolean;
  /** Include the no-read-back variant of the wasm RMSNorm forward (kernel time only). */
  noReadback: boolean;
}

/** The TF.js cases of one shape; `dispose` frees their tensors. */
export function tfjsCases(tf: Tf, d: ShapeData, sel: TfjsSelection): { cases: BenchCase[]; dispose(): void } {
  const { rows, cols, sets } = d;
  const cases: BenchCase[] = [];
  const owned: TF.Tensor[] = [];
  const layers: TF.layers.Layer[] = [];
  let sink = 0; // read-back results feed this so nothing is optimised away
  const keep = (a: ArrayLike<number>) => {
    sink += a[a.length - 1];
  };
  for (const be of sel.backends) {
    use(tf, be);
    const gamma = tf.tensor1d(d.gamma);
    const beta = tf.tensor1d(d.beta);
    owned.push(gamma, beta);
    for (const op of sel.ops) {
      const k = op === 'pRmsNorm' ? d.k : cols;
      const f = (x: TF.Tensor2D, g: TF.Tensor1D, b?: TF.Tensor1D) =>
        op === 'layerNorm' ? lnComposite(tf, x, g, b ?? beta) : rmsComposite(tf, x, g, k, cols);
      const base = {
        op, impl: `tfjs-${be}-composite`, backend: `tfjs-${be}`, threads: 1, rows, cols,
        p: op === 'pRmsNorm' ? d.p : op === 'rmsNorm' ? 1 : null,
      };
      if (sel.forward) {
        cases.push({
          ...base, direction: 'forward', bytes: opBytes(op, 'forward', rows, cols),
          call: (i) => {
            use(tf, be);
            tf.tidy(() => keep(f(tf.tensor2d(d.x[i % sets], [rows, cols]), gamma).dataSync()));
          },
        });
      }
      if (sel.full) {
        const grads = op === 'layerNorm'
          ? tf.grads((x, g, b) => f(x as TF.Tensor2D, g as TF.Tensor1D, b as TF.Tensor1D))
          : tf.grads((x, g) => f(x as TF.Tensor2D, g as TF.Tensor1D));
        cases.push({
          ...base, direction: 'full', bytes: opBytes(op, 'full', rows, cols),
          call: (i) => {
            use(tf, be);
            tf.tidy(() => {
              const x = tf.tensor2d(d.x[i % sets], [rows, cols]);
              const dy = tf.tensor2d(d.dy[i % sets], [rows, cols]);
              const out = grads(op === 'layerNorm' ? [x, gamma, beta] : [x, gamma], dy);
              for (const t of out) keep(t.dataSync());
            });
          },
        });
      }
    }
    if (be === 'wasm' && sel.noReadback && sel.forward && sel.ops.includes('rmsNorm')) {
      const xs = d.x.slice(0, sets).map((x) => tf.tensor2d(x, [rows, cols]));
      owned.push(...xs);
      cases.push({
        op: 'rmsNorm', direction: 'forward', impl: 'tfjs-wasm-composite-noreadback', backend: 'tfjs-wasm', threads: 1,
        rows, cols, p: 1, bytes: opBytes('rmsNorm', 'forward', rows, cols),
        call: (i) => {
          use(tf, 'wasm');
          tf.tidy(() => {
            rmsComposite(tf, xs[i % sets], gamma, cols, cols);
          });
        },
      });
    }
  }
  if (sel.layer && sel.ops.includes('layerNorm')) {
    use(tf, 'wasm');
    const layer = tf.layers.layerNormalization({ axis: -1, epsilon: EPS });
    layer.build([rows, cols]);
    layers.push(layer);
    const base = {
      op: 'layerNorm', impl: 'tfjs-wasm-layers-layerNormalization', backend: 'tfjs-wasm', threads: 1, rows, cols,
      p: null,
    };
    if (sel.forward) {
      cases.push({
        ...base, direction: 'forward', bytes: opBytes('layerNorm', 'forward', rows, cols),
        call: (i) => {
          use(tf, 'wasm');
          tf.tidy(() => keep((layer.apply(tf.tensor2d(d.x[i % sets], [rows, cols])) as TF.Tensor).dataSync()));
        },
      });
    }
    if (sel.full) {
      const weights = layer.trainableWeights.map((w) => w.read() as TF.Variable);
      cases.push({
        ...base, direction: 'full', bytes: opBytes('layerNorm', 'full', rows, cols),
        call: (i) => {
          use(tf, 'wasm');
          tf.tidy(() => {
            const x = tf.variable(tf.tensor2d(d.x[i % sets], [rows, cols]));
            const dy = tf.tensor2d(d.dy[i % sets], [rows, cols]);
            const { grads } = tf.variableGrads(
              () => tf.sum(tf.mul(layer.apply(x) as TF.Tensor, dy)) as TF.Scalar,
              [x, ...weights],
            );
            for (const g of Object.values(grads)) keep(g.dataSync());
            x.dispose();
          });
        },
      });
    }
  }
  return {
    cases,
    dispose: () => {
      for (const t of owned) t.dispose();
      // Layer.dispose() refuses layers only applied eagerly: free their weights directly.
      for (const l of layers) for (const w of l.weights) w.dispose();
      if (sink === Infinity) console.log('');
    },
  };
}
