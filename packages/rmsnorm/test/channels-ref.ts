// Expected values of the channels-last ("spatial") norms, built from the float64 row reference only: x [blocks, cols,
// channels] is transposed to rows [blocks, channels, cols] (row b·channels + c), the reference row op runs WITHOUT a
// gain, and the per-channel gain g = gammaOffset + gamma[c] and bias beta[c] are applied here in float64. Backward:
// the reference backward of the same rows with dy scaled by g (u = g·dy is the row formula with a constant gain);
// dgamma[c] = Σ dy·x̂ with x̂ from the gain-free reference forward, dbeta[c] = Σ dy. Shared by the backend-level and
// the tfjs-level tests of test/channels.test.ts; nothing here calls code under test.
import {
  l2NormBackwardRef, l2NormRef, layerNormBackwardRef, layerNormRef, rmsNormBackwardRef, rmsNormRef,
} from '../src/reference/index.js';
import type { ToleranceOp } from './tolerance.js';

/** Sizes of a channels-last tensor: x is [blocks, cols, channels]. */
export interface ChannelsShape {
  blocks: number;
  cols: number;
  channels: number;
}

/** What the expectation needs to know about one call (k/divisor only for the RMS family). */
export interface ChannelsSpec extends ChannelsShape {
  op: ToleranceOp;
  gamma: ArrayLike<number> | null;
  beta: ArrayLike<number> | null;
  /** Added to gamma (ignored without gamma: the gain is then 1). */
  gammaOffset: number;
  eps: number;
  epsOutside: boolean;
  /** Leading values in the statistic (pRMSNorm); cols otherwise. */
  k: number;
}

/** The float64 expectation in the ROW layout [blocks, channels, cols], with the error scales of src/check/run-case.ts. */
export interface ChannelsExpected {
  y: Float64Array;
  rstd: Float64Array;
  mean: Float64Array | null;
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
  /** Per row: max |x̂·g| + |beta| (the terms of y before a possible cancellation). */
  yScale: Float64Array;
  /** Per row: max |x| (the scale of a mean). */
  meanScale: Float64Array;
  /** Per row: rstd·(max|u| + max|x̂|·Σ|u x̂|/divisor); per channel: Σ|dy x̂|, Σ|dy|. */
  dxScale: Float64Array;
  dgammaScale: Float64Array;
  dbetaScale: Float64Array;
}

/** [blocks, cols, channels] → [blocks, channels, cols] (float64, exact). */
export function toRows(a: ArrayLike<number>, s: ChannelsShape): Float64Array {
  const { blocks, cols, channels } = s;
  const out = new Float64Array(blocks * cols * channels);
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < cols; i++) {
      for (let c = 0; c < channels; c++) out[(b * channels + c) * cols + i] = a[(b * cols + i) * channels + c];
    }
  }
  return out;
}

/** [blocks, channels, cols] → [blocks, cols, channels] as float32 (the inverse of toRows). */
export function toChannelsLast(a: ArrayLike<number>, s: ChannelsShape): Float32Array {
  const { blocks, cols, channels } = s;
  const out = new Float32Array(blocks * cols * channels);
  for (let b = 0; b < blocks; b++) {
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < cols; i++) out[(b * cols + i) * channels + c] = a[(b * channels + c) * cols + i];
    }
  }
  return out;
}

/** Gain of row r = b·channels + c. */
function rowGain(s: ChannelsSpec, r: number): number {
  return s.gamma === null ? 1 : s.gammaOffset + s.gamma[r % s.channels];
}

/** Divisor of the statistic as the backward scale uses it (run-case.ts: k for RMS, 1 for L2, cols for LayerNorm). */
function divisorOf(s: ChannelsSpec): number {
  return s.op === 'l2Norm' ? 1 : s.op === 'layerNorm' ? s.cols : s.k;
}

/** The gain-free reference forward (y = x̂) and backward (with dy = u) of the rows. */
function referenceRows(s: ChannelsSpec, xT: Float64Array, uT: Float64Array) {
  const placement = s.epsOutside ? ('outside' as const) : ('inside' as const);
  if (s.op === 'layerNorm') {
    const f = layerNormRef(xT, s.cols, { eps: s.eps });
    return { f: { y: f.y, rstd: f.rstd, mean: f.mean }, b: layerNormBackwardRef(uT, xT, s.cols, { eps: s.eps }) };
  }
  if (s.op === 'l2Norm') {
    const o = { eps: s.eps, epsPlacement: placement };
    return { f: { ...l2NormRef(xT, s.cols, o), mean: null }, b: l2NormBackwardRef(uT, xT, s.cols, o) };
  }
  const o = { eps: s.eps, epsPlacement: placement, k: s.k };
  return { f: { ...rmsNormRef(xT, s.cols, o), mean: null }, b: rmsNormBackwardRef(uT, xT, s.cols, o) };
}

/**
 * Expected outputs of one channels-last call, in the row layout (compare toRows(actual) with them).
 * @example const e = channelsExpected(spec, x, dy); compareArrays(toRows(y, spec), e.y, tol, spec.cols, e.yScale)
 */
export function channelsExpected(s: ChannelsSpec, x: ArrayLike<number>, dy: ArrayLike<number>): ChannelsExpected {
  const { blocks, cols, channels } = s;
  const rows = blocks * channels;
  const xT = toRows(x, s);
  const dyT = toRows(dy, s);
  const uT = new Float64Array(dyT.length);
  for (let r = 0; r < rows; r++) {
    const g = rowGain(s, r);
    for (let i = 0; i < cols; i++) uT[r * cols + i] = g * dyT[r * cols + i];
  }
  const { f, b } = referenceRows(s, xT, uT);
  const xhat = f.y; // no gain, no bias: y = x̂
  const y = new Float64Array(xT.length);
  const yScale = new Float64Array(rows);
  const meanScale = new Float64Array(rows);
  const dxScale = new Float64Array(rows);
  const dgamma = new Float64Array(channels);
  const dbeta = new Float64Array(channels);
  const dgammaScale = new Float64Array(channels);
  const dbetaScale = new Float64Array(channels);
  const finite = (v: number) => (Number.isFinite(v) ? v : 0);
  for (let r = 0; r < rows; r++) {
    const c = r % channels;
    const g = rowGain(s, r);
    const bias = s.beta === null ? 0 : s.beta[c];
    let ys = 0;
    let ms = 0;
    let maxU = 0;
    let maxXhat = 0;
    let sumUXhat = 0;
    for (let i = 0; i < cols; i++) {
      const j = r * cols + i;
      y[j] = xhat[j] * g + bias;
      dgamma[c] += dyT[j] * xhat[j];
      dbeta[c] += dyT[j];
      ys = Math.max(ys, finite(Math.abs(xhat[j] * g) + Math.abs(bias)));
      ms = Math.max(ms, finite(Math.abs(xT[j])));
      const u = finite(Math.abs(uT[j]));
      const xh = finite(Math.abs(xhat[j]));
      maxU = Math.max(maxU, u);
      maxXhat = Math.max(maxXhat, xh);
      sumUXhat += u * xh;
      dgammaScale[c] += finite(Math.abs(dyT[j]) * xh);
      dbetaScale[c] += finite(Math.abs(dyT[j]));
    }
    yScale[r] = ys;
    meanScale[r] = ms;
    dxScale[r] = finite(f.rstd[r] * (maxU + (maxXhat * sumUXhat) / divisorOf(s)));
  }
  return {
    y, rstd: f.rstd, mean: f.mean, dx: b.dx, dgamma, dbeta, yScale, meanScale, dxScale, dgammaScale, dbetaScale,
  };
}
