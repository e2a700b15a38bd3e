// The naive reference kernels (assembly/naive.ts: two passes per row, f32x4, f32 accumulators, one row at a time, no
// blocking or pipelining) as benchmark cases, instantiated on the wasm backend's own memory so they run on the SAME
// zero-copy buffers as our `rmsnorm-wasm` rows. "ours / naive" then measures compute headroom on this machine: where
// memory is fast, a kernel can be far from the ceiling and still beat a straightforward one (or not).
import { wasmBase64 } from './generated/naive.js';
import { wasmState } from 'rmsnorm/internal';
import type { BenchCase } from './runner.js';
import type { ShapeData } from './shape-data.js';
import { opBytes, type OpName } from './stats.js';

interface NaiveExports {
  rmsForward(x: number, gamma: number, y: number, rstd: number, rows: number, cols: number, eps: number): void;
  rmsBackward(dy: number, x: number, rstd: number, gamma: number, dx: number, dgamma: number, rows: number, cols: number): void;
  lnForward(x: number, gamma: number, beta: number, y: number, mean: number, rstd: number, rows: number, cols: number, eps: number): void;
  lnBackward(dy: number, x: number, mean: number, rstd: number, gamma: number, dx: number, dgamma: number, dbeta: number, rows: number, cols: number): void;
}

export const NAIVE_IMPL = 'naive-f32x4';
const EPS = 1e-6;

let naive: NaiveExports | null = null;

/** The naive module on the wasm backend's (shared) memory; throws where that memory is not shared. */
function instance(): NaiveExports {
  const state = wasmState();
  if (state === null || !state.shared) throw new Error('the naive kernels need the wasm backend on a shared memory');
  if (naive === null) {
    const module = new WebAssembly.Module(Buffer.from(wasmBase64, 'base64'));
    naive = new WebAssembly.Instance(module, { env: { memory: state.memory } }).exports as unknown as NaiveExports;
  }
  return naive;
}

/**
 * RMSNorm and LayerNorm forward/backward cases of the naive kernels on `wd` (arrays in the wasm memory, from
 * copyShapeData with allocFloat32); `alloc` gives wasm-memory arrays for their own statistics and parameter
 * gradients. No pRMSNorm (the naive module has no partial statistic). cols must be a multiple of 4.
 * @example naiveCases(wd.data, wd.alloc, ['rmsNorm'], ['forward'])
 */
export function naiveCases(
  wd: ShapeData,
  alloc: (length: number) => Float32Array,
  ops: readonly OpName[],
  directions: readonly ('forward' | 'backward')[],
): BenchCase[] {
  const { rows, cols, sets } = wd;
  if (cols % 4 !== 0) throw new Error(`the naive kernels need cols % 4 = 0, got ${cols}`);
  const k = instance();
  const at = (a: Float32Array) => a.byteOffset;
  const rstd = Array.from({ length: sets }, () => at(alloc(rows)));
  const mean = Array.from({ length: sets }, () => at(alloc(rows)));
  const dgamma = at(alloc(cols));
  const dbeta = at(alloc(cols));
  const x = wd.x.map(at);
  const y = wd.y.map(at);
  const dy = wd.dy.map(at);
  const dx = wd.dx.map(at);
  const gamma = at(wd.gamma);
  const beta = at(wd.beta);
  const cases: BenchCase[] = [];
  for (const op of ops) {
    if (op === 'pRmsNorm') continue;
    const ln = op === 'layerNorm';
    const forward = ln
      ? (s: number) => k.lnForward(x[s], gamma, beta, y[s], mean[s], rstd[s], rows, cols, EPS)
      : (s: number) => k.rmsForward(x[s], gamma, y[s], rstd[s], rows, cols, EPS);
    // Backward accumulates into dgamma/dbeta (f32 +=): fine for timing; it reads the statistics its forward saved.
    const backward = ln
      ? (s: number) => k.lnBackward(dy[s], x[s], mean[s], rstd[s], gamma, dx[s], dgamma, dbeta, rows, cols)
      : (s: number) => k.rmsBackward(dy[s], x[s], rstd[s], gamma, dx[s], dgamma, rows, cols);
    for (let s = 0; s < sets; s++) forward(s);
    for (const direction of directions) {
      const f = direction === 'forward' ? forward : backward;
      cases.push({
        op, direction, impl: NAIVE_IMPL, backend: 'wasm', threads: 1, rows, cols, p: ln ? null : 1,
        bytes: opBytes(op, direction, rows, cols),
        call: (i) => f(i % sets),
      });
    }
  }
  return cases;
}
