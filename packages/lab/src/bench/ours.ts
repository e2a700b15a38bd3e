// Our implementations as benchmark cases: the public ops (validation and dispatch included, as users call them) with
// caller-provided outputs. Buffers are plain Float32Arrays, or — for the wasm backend's zero-copy path — arrays from
// allocFloat32 that live in the wasm memory (then no byte is copied in or out).
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward } from 'rmsnorm';
import type { BenchCase } from './runner.js';
import type { ShapeData } from './shape-data.js';
import { opBytes, type OpName } from './stats.js';

export interface OurVariant {
  backend: 'js' | 'wasm';
  /** The record's backend label: 'js', 'wasm' (zero-copy buffers), 'wasm+copy' (plain arrays, copied in and out). */
  label: string;
  threads: number;
  /** Allocates the op's small saved outputs (rstd, mean) in the same kind of memory as the shape's data. */
  alloc(length: number): Float32Array;
}

/**
 * Forward and backward calls of one op on buffer set s; backward reads the rstd/mean the forward saved in set s.
 * Options are built once per buffer set, as a latency-minded caller would: spreading `{ ...opts, out }` per call
 * costs ≈ 2.7 µs on Node 20 (src/bench/scripts/op-overhead.ts), more than the whole 32×768 kernel's copy ceiling.
 */
function opCalls(d: ShapeData, v: OurVariant, op: OpName, rstd: Float32Array[], mean: Float32Array[]) {
  const { cols } = d;
  const backend = v.backend;
  const sets = d.x.map((_, s) => s);
  if (op === 'layerNorm') {
    const fwd = sets.map((s) => ({ gamma: d.gamma, beta: d.beta, backend, out: { y: d.y[s], mean: mean[s], rstd: rstd[s] } }));
    const bwd = sets.map((s) => ({ gamma: d.gamma, beta: d.beta, backend, out: { dx: d.dx[s], dgamma: d.dgamma, dbeta: d.dbeta } }));
    return {
      forward: (s: number) => void layerNorm(d.x[s], cols, fwd[s]),
      backward: (s: number) => void layerNormBackward(d.dy[s], d.x[s], mean[s], rstd[s], cols, bwd[s]),
    };
  }
  const p = op === 'pRmsNorm' ? d.p : 1;
  const fwd = sets.map((s) => ({ gamma: d.gamma, backend, p, out: { y: d.y[s], rstd: rstd[s] } }));
  const bwd = sets.map((s) => ({ gamma: d.gamma, backend, p, out: { dx: d.dx[s], dgamma: d.dgamma } }));
  return {
    forward: (s: number) => void rmsNorm(d.x[s], cols, fwd[s]),
    backward: (s: number) => void rmsNormBackward(d.dy[s], d.x[s], rstd[s], cols, bwd[s]),
  };
}

/**
 * Cases of one variant at one shape, for each op and direction.
 * @example ourCases(d, { backend: 'js', label: 'js', threads: 1, alloc: (n) => new Float32Array(n) }, ['rmsNorm'], ['forward'])
 */
export function ourCases(
  d: ShapeData,
  v: OurVariant,
  ops: readonly OpName[],
  directions: readonly ('forward' | 'backward')[],
): BenchCase[] {
  const { rows, cols, sets } = d;
  const cases: BenchCase[] = [];
  for (const op of ops) {
    const rstd = Array.from({ length: sets }, () => v.alloc(rows));
    const mean = Array.from({ length: sets }, () => v.alloc(rows));
    const calls = opCalls(d, v, op, rstd, mean);
    for (let s = 0; s < sets; s++) calls.forward(s); // the saved statistics backward needs
    for (const direction of directions) {
      const f = calls[direction];
      cases.push({
        op, direction, impl: `rmsnorm-${v.backend}`, backend: v.label, threads: v.threads, rows, cols,
        p: op === 'pRmsNorm' ? d.p : op === 'rmsNorm' ? 1 : null,
        bytes: opBytes(op, direction, rows, cols),
        call: (i) => f(i % sets),
      });
    }
  }
  return cases;
}
