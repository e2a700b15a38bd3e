// The WebGPU correctness cases of test/webgpu-core.test.ts as a module with no Node imports, so that the same code
// runs in Node (Dawn) and, bundled by esbuild, in headless Chromium: each case runs forward and backward on a device
// and compares with the float64 reference, throwing an Error that names the output and element on a mismatch.
import {
  addRmsNormBackwardRef, addRmsNormRef, decodeArray, encodeArray, l2NormBackwardRef, l2NormRef, layerNormBackwardRef,
  layerNormRef, partialK, rmsNormBackwardRef, rmsNormRef,
} from '../src/reference/index.js';
import { storageTolerance } from '../src/check/tolerance.js';
import type { WebGpuNorm } from '../src/webgpu/index.js';

// GPUBufferUsage / GPUMapMode values
const STORAGE = 0x80, COPY_SRC = 0x4, COPY_DST = 0x8, MAP_READ = 0x1;

let device: GPUDevice;
let norm: WebGpuNorm;
/** Worst |actual − expected| / natural scale seen, per storage type and direction. */
export const worst = { f32: { forward: 0, backward: 0 }, f16: { forward: 0, backward: 0 } };
const KEEP: unknown[] = []; // buffers stay referenced until the device is destroyed

/** Use this device and its bound ops for the following cases. */
export function useDevice(d: GPUDevice, n: WebGpuNorm): void {
  device = d;
  norm = n;
}

/** Same generator as test/tfjs-util.ts randn (LCG + Box–Muller), copied to keep this module free of tfjs. */
export function randn(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = shift + scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

type Data = Float32Array | Uint16Array;

/** Throw an Error with `message` unless `ok` (no node:assert: this module also runs in a browser). */
function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

export function upload(data: Data | number, usage = STORAGE | COPY_SRC | COPY_DST): GPUBuffer {
  const bytes = typeof data === 'number' ? data : data.byteLength;
  const b = device.createBuffer({ size: Math.max(4, Math.ceil(bytes / 4) * 4), usage, mappedAtCreation: typeof data !== 'number' });
  if (typeof data !== 'number') {
    new Uint8Array(b.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    b.unmap();
  }
  return b;
}

export async function readBack(b: GPUBuffer, count: number, half: boolean): Promise<Data> {
  const bytes = Math.max(4, Math.ceil((count * (half ? 2 : 4)) / 4) * 4);
  const staging = device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(b, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_READ);
  const copy = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return half ? new Uint16Array(copy, 0, count) : new Float32Array(copy, 0, count);
}


/**
 * |a − e| ≤ atol·scale + rtol·|e| + abs for every element (NaN/Inf must match), scale = the row's natural scale
 * (given per row, `rowLength` elements each); records the worst |a − e|/scale for the report line.
 */
export function assertNear(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rowLength: number,
  scales: ArrayLike<number>, tol: { atol: number; rtol: number; abs: number }, slot: { forward: number; backward: number }, dir: 'forward' | 'backward'): void {
  check(actual.length === expected.length, `${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (!Number.isFinite(e)) {
      check(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${what}[${i}]: expected ${e}, got ${a}`);
      continue;
    }
    const scale = scales[Math.floor(i / rowLength)];
    const err = Math.abs(a - e);
    const allowed = tol.atol * scale + tol.rtol * Math.abs(e) + tol.abs;
    if (scale > 0) slot[dir] = Math.max(slot[dir], err / scale);
    check(err <= allowed, `${what}[${i}]: got ${a}, expected ${e} (|Δ| ${err.toExponential(2)} > allowed ${allowed.toExponential(2)}, row scale ${scale})`);
  }
}

export interface Case {
  op: 'rms' | 'l2' | 'ln' | 'add';
  rows: number;
  cols: number;
  gamma?: boolean;
  beta?: boolean;
  p?: number;
  kRule?: 'ceil' | 'floor';
  eps?: number;
  outside?: boolean;
  offset?: number;
  dsum?: boolean;
  /** addRmsNorm: sum written into residual; backward: dx written into dy. */
  inPlace?: boolean;
  /** input scale and mean */
  scale?: number;
  shift?: number;
  f16?: boolean;
  /** every x of magnitude `scale` with random signs (the f16 overflow case) */
  constantMagnitude?: boolean;
}

export function describeCase(c: Case): string {
  return [`${c.op} ${c.rows}×${c.cols}`, c.f16 ? 'f16' : 'f32', c.gamma ? 'gamma' : '', c.beta ? 'beta' : '',
    c.p ? `p ${c.p} ${c.kRule ?? 'ceil'}` : '', c.outside ? 'eps outside' : '', c.offset ? `offset ${c.offset}` : '',
    c.eps !== undefined ? `eps ${c.eps}` : '', c.dsum ? 'dsum' : '', c.inPlace ? 'in place' : '',
    c.scale ? `|x|≈${c.scale}` : ''].filter(Boolean).join(', ');
}

/** Natural error scales per row (y, dx) and per column (dgamma, dbeta), as test/tfjs-webgpu.test.ts defines them. */
function naturalScales(c: Case, x: ArrayLike<number>, dy: ArrayLike<number>, g: Float32Array | undefined, b: Float32Array | undefined,
  rstd: ArrayLike<number>, mean: ArrayLike<number> | null, divisor: number) {
  const gain = (j: number) => (g === undefined ? 1 : (c.offset ?? 0) + g[j]);
  const y = new Float64Array(c.rows), dx = new Float64Array(c.rows);
  const dgamma = new Float64Array(c.cols), dbeta = new Float64Array(c.cols);
  for (let r = 0; r < c.rows; r++) {
    let maxU = 0, maxXhat = 0, sumUXhat = 0;
    for (let j = 0; j < c.cols; j++) {
      const i = r * c.cols + j;
      const xhat = Math.abs((x[i] - (mean === null ? 0 : mean[r])) * rstd[r]);
      const u = Math.abs(gain(j) * dy[i]);
      y[r] = Math.max(y[r], xhat * Math.abs(gain(j)) + (b === undefined ? 0 : Math.abs(b[j])));
      maxU = Math.max(maxU, u);
      maxXhat = Math.max(maxXhat, xhat);
      sumUXhat += u * xhat;
      dgamma[j] += Math.abs(dy[i]) * xhat;
      dbeta[j] += Math.abs(dy[i]);
    }
    dx[r] = rstd[r] * (maxU + (maxXhat * sumUXhat) / divisor);
  }
  return { y, dx, dgamma, dbeta };
}

/** Random storage values: f32 as they are, f16 as bit patterns (the reference reads their exact decoded values). */
function activation(c: Case, n: number, seed: number, scale = 1, shift = 0): { data: Data; values: Float64Array } {
  let v = randn(n, seed, scale, shift);
  if (c.constantMagnitude) v = v.map((t) => (t >= shift ? scale : -scale));
  if (!c.f16) return { data: v, values: decodeArray(v, 'float32') };
  const bits = encodeArray(v, 'float16');
  return { data: bits, values: decodeArray(bits, 'float16') };
}

export async function runCase(c: Case, n: number): Promise<void> {
  const dtype = c.f16 ? 'float16' as const : 'float32' as const;
  const size = c.rows * c.cols;
  const x = activation(c, size, 100 + n, c.scale ?? 1, c.shift ?? 0);
  const res = activation(c, size, 150 + n, c.scale ?? 1);
  const dy = activation({ ...c, constantMagnitude: false }, size, 200 + n);
  const dsum = activation({ ...c, constantMagnitude: false }, size, 250 + n);
  const gs = c.gamma ? randn(c.cols, 300 + n, 0.5, 1) : undefined;
  const bs = c.beta ? randn(c.cols, 350 + n) : undefined;
  const eps = c.eps ?? 1e-6;
  const half = c.f16 === true;
  const opOpts = c.op === 'ln' ? { eps } : {
    eps, epsPlacement: c.outside ? 'outside' as const : 'inside' as const, gammaOffset: c.offset ?? 0,
    ...(c.op === 'l2' ? {} : { p: c.p ?? 1, kRule: c.kRule ?? 'ceil' as const }),
  };
  const k = c.op === 'ln' ? c.cols : c.op === 'l2' ? c.cols : partialK(c.p ?? 1, c.cols, c.kRule ?? 'ceil');
  const divisor = c.op === 'l2' ? 1 : k;
  const refOpts = { gamma: gs, beta: bs, eps, epsPlacement: c.outside ? 'outside' as const : 'inside' as const, gammaOffset: c.offset ?? 0, k };

  // float64 reference (the add rounds its sum to the storage type, as the contract says)
  const fwd = c.op === 'ln' ? layerNormRef(x.values, c.cols, { gamma: gs, beta: bs, eps })
    : c.op === 'l2' ? l2NormRef(x.values, c.cols, refOpts)
      : c.op === 'add' ? addRmsNormRef(x.values, res.values, c.cols, { ...refOpts, dtype })
        : rmsNormRef(x.values, c.cols, refOpts);
  const xin = c.op === 'add' ? (fwd as ReturnType<typeof addRmsNormRef>).sum : x.values;
  const bwd = c.op === 'ln' ? layerNormBackwardRef(dy.values, x.values, c.cols, { gamma: gs, beta: bs, eps })
    : c.op === 'l2' ? l2NormBackwardRef(dy.values, x.values, c.cols, refOpts)
      : c.op === 'add' ? addRmsNormBackwardRef(dy.values, c.dsum ? dsum.values : null, xin, c.cols, { ...refOpts, dtype })
        : rmsNormBackwardRef(dy.values, x.values, c.cols, refOpts);
  const mean = 'mean' in fwd ? (fwd.mean as Float64Array) : null;
  const sc = naturalScales(c, xin, dy.values, gs, bs, fwd.rstd, mean, c.op === 'ln' ? c.cols : divisor);

  const xb = upload(x.data), yb = upload(x.data.byteLength), rstdb = upload(c.rows * 4), meanb = upload(c.rows * 4);
  const resb = upload(res.data), sumb = c.inPlace ? resb : upload(x.data.byteLength);
  const gb = gs ? upload(gs) : undefined, bb = bs ? upload(bs) : undefined;
  const common = { rows: c.rows, cols: c.cols, dtype, ...(gb ? { gamma: gb } : {}), ...(bb ? { beta: bb } : {}) };
  if (c.op === 'ln') norm.layerNorm({ ...common, eps, x: xb, y: yb, mean: meanb, rstd: rstdb });
  else if (c.op === 'add') norm.addRmsNorm({ ...common, ...opOpts, x: xb, residual: resb, sum: sumb, y: yb, rstd: rstdb });
  else if (c.op === 'l2') norm.l2Norm({ ...common, ...opOpts, x: xb, y: yb, rstd: rstdb });
  else norm.rmsNorm({ ...common, ...opOpts, x: xb, y: yb, rstd: rstdb });

  const fTol = storageTolerance('wasm', c.op === 'ln' ? 'layerNorm' : 'rmsNorm', 'forward', dtype);
  const bTol = storageTolerance('wasm', c.op === 'ln' ? 'layerNorm' : 'rmsNorm', 'backward', dtype);
  const f32Tol = { ...storageTolerance('wasm', 'rmsNorm', 'forward', 'float32') };
  const slot = half ? worst.f16 : worst.f32;
  const decode = (d: Data) => (half ? decodeArray(d as Uint16Array, 'float16') : d);
  assertNear('y', decode(await readBack(yb, size, half)), fwd.y, c.cols, sc.y, fTol, slot, 'forward');
  assertNear('rstd', await readBack(rstdb, c.rows, false), fwd.rstd, 1, fwd.rstd, f32Tol, slot, 'forward');
  if (c.op === 'add') {
    // the stored sum is the f32/f16 rounding of x + residual: exact
    const sumOut = decode(await readBack(sumb, size, half));
    for (let i = 0; i < size; i++) check(sumOut[i] === xin[i], `sum[${i}] = ${sumOut[i]}, expected round(x + residual) = ${xin[i]}`);
  }

  // backward reads the GPU's own saved statistics (and sum), as a training step would
  const dyb = upload(dy.data), dsumb = c.dsum ? upload(dsum.data) : null;
  const dxb = c.inPlace ? dyb : upload(x.data.byteLength);
  const dgb = gs ? upload(c.cols * 4) : undefined, dbb = bs ? upload(c.cols * 4) : undefined;
  const outs = { dx: dxb, ...(dgb ? { dgamma: dgb } : {}), ...(dbb ? { dbeta: dbb } : {}) };
  if (c.op === 'ln') norm.layerNormBackward({ ...common, eps, dy: dyb, x: xb, mean: meanb, rstd: rstdb, ...outs });
  else if (c.op === 'add') norm.addRmsNormBackward({ ...common, ...opOpts, dy: dyb, dsum: dsumb, sum: sumb, rstd: rstdb, ...outs });
  else if (c.op === 'l2') norm.l2NormBackward({ ...common, ...opOpts, dy: dyb, x: xb, rstd: rstdb, ...outs });
  else norm.rmsNormBackward({ ...common, ...opOpts, dy: dyb, x: xb, rstd: rstdb, ...outs });
  assertNear('dx', decode(await readBack(dxb, size, half)), bwd.dx, c.cols, sc.dx, bTol, slot, 'backward');
  const colTol = storageTolerance('wasm', 'rmsNorm', 'backward', 'float32');
  if (dgb) assertNear('dgamma', await readBack(dgb, c.cols, false), bwd.dgamma!, 1, sc.dgamma, colTol, slot, 'backward');
  if (dbb) assertNear('dbeta', await readBack(dbb, c.cols, false), bwd.dbeta!, 1, sc.dbeta, colTol, slot, 'backward');
  KEEP.push(xb, yb, rstdb, meanb, resb, sumb, gb, bb, dyb, dsumb, dxb, dgb, dbb);
}

export const CASES: Case[] = [
  { op: 'rms', rows: 3, cols: 1 },
  { op: 'rms', rows: 4, cols: 5, gamma: true, beta: true },
  { op: 'rms', rows: 130, cols: 5, gamma: true, beta: true, eps: 1e-5, outside: true },
  { op: 'rms', rows: 4, cols: 64, gamma: true, p: 0.0625, eps: 1e-8, inPlace: true },
  { op: 'rms', rows: 3, cols: 64, gamma: true, beta: true, p: 0.3, kRule: 'floor', eps: 1e-2, outside: true, offset: 1 },
  { op: 'rms', rows: 3, cols: 1000, gamma: true, beta: true, p: 0.0625 },
  { op: 'rms', rows: 5, cols: 700, gamma: true, beta: true, eps: 1e-3, outside: true },
  { op: 'l2', rows: 3, cols: 1000, gamma: true, beta: true },
  { op: 'l2', rows: 4, cols: 5, gamma: true, eps: 1e-2, outside: true },
  { op: 'ln', rows: 3, cols: 1, gamma: true, beta: true, eps: 1e-5 },
  { op: 'ln', rows: 130, cols: 5, gamma: true, beta: true, shift: 3 },
  { op: 'ln', rows: 3, cols: 1000, shift: 3, inPlace: true },
  { op: 'ln', rows: 2, cols: 900, gamma: true, beta: true, eps: 1e-3 },
  { op: 'ln', rows: 3, cols: 2048, gamma: true, beta: true, shift: 3 },
  { op: 'rms', rows: 2, cols: 64, gamma: true, eps: 0, scale: 1e30 },
  { op: 'rms', rows: 2, cols: 64, gamma: true, eps: 0, scale: 1e-30 },
  { op: 'add', rows: 2, cols: 2048, eps: 0, scale: 1e25, outside: true },
  { op: 'rms', rows: 5, cols: 3000, gamma: true, beta: true, eps: 1e-3, outside: true, p: 0.5 },
  { op: 'add', rows: 3, cols: 1024, gamma: true, dsum: true },
  { op: 'add', rows: 4, cols: 64, gamma: true, beta: true, dsum: true },
  { op: 'add', rows: 3, cols: 1000, gamma: true, p: 0.5, outside: true, inPlace: true, dsum: true, offset: 1 },
  { op: 'add', rows: 70, cols: 7 },
  // f16 storage (shader-f16): the overflow case — Σx² ≈ 1.5e13 for 4096 values of magnitude 60000 (f16 max 65504)
  { op: 'rms', rows: 4, cols: 4096, gamma: true, scale: 60000, constantMagnitude: true, f16: true },
  { op: 'rms', rows: 4, cols: 4096, scale: 60000, f16: true, p: 0.5, outside: true },
  { op: 'rms', rows: 4, cols: 5, gamma: true, beta: true, f16: true },
  { op: 'rms', rows: 3, cols: 1000, gamma: true, beta: true, p: 0.0625, kRule: 'floor', f16: true, inPlace: true },
  { op: 'ln', rows: 3, cols: 4096, gamma: true, beta: true, scale: 20000, shift: 30000, f16: true },
  { op: 'add', rows: 4, cols: 4096, gamma: true, beta: true, scale: 40000, dsum: true, f16: true },
  { op: 'add', rows: 5, cols: 33, gamma: true, outside: true, inPlace: true, f16: true },
];


/** Calls beyond the op × option grid: encoding into a caller's encoder, and rows = 0. Each throws on a mismatch. */
export const API_CASES: Array<[string, () => Promise<void>]> = [
  ['encodes into a caller\'s command encoder (addRmsNorm then rmsNorm of its sum, one submit)', async () => {
    const rows = 3, cols = 40;
    const x = randn(rows * cols, 1), r = randn(rows * cols, 2);
    const [xb, rb, yb, sb, rs, y2, rs2] = [upload(x), upload(r), upload(x.byteLength), upload(x.byteLength), upload(12), upload(x.byteLength), upload(12)];
    KEEP.push(xb, rb, yb, sb, rs, y2, rs2);
    const encoder = device.createCommandEncoder();
    norm.addRmsNorm({ x: xb, residual: rb, y: yb, sum: sb, rstd: rs, rows, cols, encoder });
    norm.rmsNorm({ x: sb, y: y2, rstd: rs2, rows, cols, eps: 1e-3, encoder });
    const before = await readBack(y2, rows * cols, false);
    check(before.every((v) => v === 0), 'nothing runs before the caller submits');
    device.queue.submit([encoder.finish()]);
    const ref = rmsNormRef(addRmsNormRef(x, r, cols).sum, cols, { eps: 1e-3 });
    assertNear('y of the sum', await readBack(y2, rows * cols, false), ref.y, cols, new Float64Array(rows).fill(4),
      { atol: 2e-6, rtol: 2e-6, abs: 0 }, worst.f32, 'forward');
  }],
  ['rows = 0: dgamma/dbeta are written as zeros', async () => {
    const cols = 8;
    const g = upload(new Float32Array(cols).fill(1)), dg = upload(new Float32Array(cols).fill(7)), db = upload(new Float32Array(cols).fill(7));
    const [dy, x, rstd, dx] = [upload(4), upload(4), upload(4), upload(4)];
    KEEP.push(g, dg, db, dy, x, rstd, dx);
    norm.rmsNormBackward({ dy, x, rstd, dx, gamma: g, dgamma: dg, dbeta: db, rows: 0, cols });
    check((await readBack(dg, cols, false)).every((v) => v === 0), 'dgamma is all 0');
    check((await readBack(db, cols, false)).every((v) => v === 0), 'dbeta is all 0');
  }],
];
