// The core WebGPU entry in the page: find an adapter, bind the library's kernels to its device, and time them on
// GPUBuffers (each call awaited with onSubmittedWorkDone).
import { createWebGpuNorm } from '../src/webgpu/index.js'; // a stub when this build has no src/webgpu (demo/build.ts)
import { EPS, P, shapeData, type NormName, type Runner } from './bench.js';

// GPUBufferUsage: STORAGE | COPY_DST | COPY_SRC; MAP_READ | COPY_DST for read-back; GPUMapMode.READ
const USAGE = 0x80 | 0x08 | 0x04;
const READBACK = 0x01 | 0x08;
const MAP_READ = 0x01;

/* eslint-disable @typescript-eslint/no-explicit-any -- the page has no WebGPU type package; the library types its own side */
type Device = any;
type Norm = Awaited<ReturnType<typeof createWebGpuNorm>>;

export interface WebGpu {
  /** 'ok: <adapter>' or why WebGPU is not used. */
  status: string;
  /** A software adapter (SwiftShader, a fallback adapter): its timings say nothing about a GPU. */
  software: boolean;
  norm: Norm | null;
  device: Device | null;
}

/** An adapter's device bound to the library's WebGPU kernels, or the reason there is none. */
export async function setUpWebGpu(): Promise<WebGpu> {
  const gpu = (navigator as any).gpu;
  if (gpu === undefined) return { status: 'not available in this browser (no navigator.gpu)', software: false, norm: null, device: null };
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter === null) return { status: 'no adapter (GPU disabled or blocklisted)', software: false, norm: null, device: null };
    const device = await adapter.requestDevice();
    const norm = await createWebGpuNorm(device);
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'adapter';
    const software = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || /swiftshader|llvmpipe|software/i.test(name);
    return { status: `ok: ${name}${software ? ' (software adapter)' : ''}`, software, norm, device };
  } catch (err) {
    return { status: `not available: ${(err as Error).message}`, software: false, norm: null, device: null };
  }
}

function buffer(device: Device, data: Float32Array | number): any {
  const length = typeof data === 'number' ? data : data.length;
  const b = device.createBuffer({ size: Math.max(16, length * 4), usage: USAGE });
  if (typeof data !== 'number') device.queue.writeBuffer(b, 0, data);
  return b;
}

/** Our WebGPU kernels on one shape × norm; each call waits for the GPU to finish. */
export function webGpuRunner(g: WebGpu, norm: NormName, rows: number, cols: number): Runner {
  const device = g.device, ops = g.norm!;
  const d = shapeData(rows, cols);
  const [x, dy, gamma, beta] = [d.x, d.dy, d.gamma, d.beta].map((a) => buffer(device, a));
  const [y, dx] = [0, 0].map(() => buffer(device, rows * cols));
  const [rstd, mean] = [0, 0].map(() => buffer(device, rows));
  const [dgamma, dbeta] = [0, 0].map(() => buffer(device, cols));
  const p = norm === 'pRMSNorm' ? P : 1;
  const forward = norm === 'LayerNorm'
    ? () => ops.layerNorm({ x, y, mean, rstd, gamma, beta, rows, cols, eps: EPS })
    : () => ops.rmsNorm({ x, y, rstd, gamma, rows, cols, eps: EPS, p });
  const backward = norm === 'LayerNorm'
    ? () => ops.layerNormBackward({ dy, x, mean, rstd, dx, gamma, beta, dgamma, dbeta, rows, cols, eps: EPS })
    : () => ops.rmsNormBackward({ dy, x, rstd, dx, gamma, dgamma, rows, cols, eps: EPS, p });
  return {
    forward: async () => { forward(); await device.queue.onSubmittedWorkDone(); },
    both: async () => { forward(); backward(); await device.queue.onSubmittedWorkDone(); },
    release: () => [x, dy, gamma, beta, y, dx, rstd, mean, dgamma, dbeta].forEach((b) => b.destroy()),
  };
}

async function readBack(device: Device, src: any, length: number): Promise<Float32Array> {
  const staging = device.createBuffer({ size: length * 4, usage: READBACK });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(src, 0, staging, 0, length * 4);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(MAP_READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}

/** The seeded sample through the WebGPU kernels: RMSNorm, pRMSNorm (p) and LayerNorm outputs, read back. */
export async function webGpuSample(g: WebGpu, x: Float32Array, gamma: Float32Array, beta: Float32Array, cols: number, p: number, eps: number) {
  const device = g.device, ops = g.norm!;
  const rows = x.length / cols;
  const [xb, gb, bb] = [x, gamma, beta].map((a) => buffer(device, a));
  const [y, rstd, mean] = [x.length, rows, rows].map((n) => buffer(device, n));
  try {
    ops.rmsNorm({ x: xb, y, rstd, gamma: gb, rows, cols, eps });
    const rms = await readBack(device, y, x.length);
    ops.rmsNorm({ x: xb, y, rstd, gamma: gb, rows, cols, eps, p });
    const prms = await readBack(device, y, x.length);
    ops.layerNorm({ x: xb, y, mean, rstd, gamma: gb, beta: bb, rows, cols, eps });
    const ln = await readBack(device, y, x.length);
    return { rms, prms, ln };
  } finally {
    [xb, gb, bb, y, rstd, mean].forEach((b) => b.destroy());
  }
}
