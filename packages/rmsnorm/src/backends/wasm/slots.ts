// A job's f64 argument slots as the kernels read them (the layout: job-layout.ts), written by every job runner
// (job.ts, half-job.ts, chunked.ts), and the copy counters the tests read.
import {
  ACCUMULATE, COLS, DBETA, DGAMMA, DIVISOR, EPS, EPS_OUTSIDE, GAMMA_OFFSET, K, P0, ROWS, WS, WS_STRIDE,
} from './job-layout.js';
import type { RmsNormKernelArgs } from '../backend.js';

/**
 * The scalar fields every job (f32 or mixed-storage) shares, as the kernels' slot layout needs them: the RMS-family
 * kernel's scalars (backend.ts; LayerNorm jobs fill k, divisor, epsOutside and gammaOffset with their neutral
 * values) and the kernel's op code.
 */
export interface JobScalars
  extends Pick<RmsNormKernelArgs, 'rows' | 'cols' | 'k' | 'divisor' | 'eps' | 'epsOutside' | 'gammaOffset'> {
  op: number;
}

/**
 * Write a job's f64 argument slots at byte address `args`: the scalars, the n array pointers from P0, the backward
 * workspace, and dgamma/dbeta (ptrs[n], ptrs[n + 1] when backward, else 0 = not wanted).
 */
export function writeSlots(
  f64: Float64Array, args: number, job: JobScalars, ptrs: readonly number[], n: number, ws: number, stride: number,
  backward: boolean,
): void {
  const a = args >>> 3;
  f64[a] = job.op;
  f64[a + ROWS] = job.rows;
  f64[a + COLS] = job.cols;
  f64[a + K] = job.k;
  f64[a + DIVISOR] = job.divisor;
  f64[a + EPS] = job.eps;
  f64[a + EPS_OUTSIDE] = job.epsOutside ? 1 : 0;
  f64[a + GAMMA_OFFSET] = job.gammaOffset;
  for (let i = 0; i < n; i++) f64[a + P0 + i] = ptrs[i];
  f64[a + WS] = ws;
  f64[a + WS_STRIDE] = stride;
  f64[a + DGAMMA] = backward ? ptrs[n] : 0;
  f64[a + DBETA] = backward ? ptrs[n + 1] : 0;
  f64[a + ACCUMULATE] = 0;
}

/**
 * Bytes copied between JS arrays and wasm memory so far (tests use it to prove zero-copy calls copy nothing), and
 * kernel runs on row chunks of plain-array jobs (chunked.ts).
 */
export const _copyStats = { bytesIn: 0, bytesOut: 0, chunks: 0 };
