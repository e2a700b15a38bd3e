// `rmsnorm bench --webgpu`: GB/s of rmsnorm/webgpu's kernels on the first WebGPU adapter (navigator.gpu, or the
// optional `webgpu` package in Node). A software adapter (SwiftShader, llvmpipe) gets a note instead of figures:
// they would time a CPU emulator. Bytes are what each op must move at least (reads + writes of its activations).
import { createWebGpuNorm, type WebGpuNorm } from 'rmsnorm/internal';

const STORAGE = 0x80;
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i;

interface Adapter {
  features: { has(name: string): boolean };
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  requestDevice(d?: object): Promise<GPUDevice>;
}

/** The first adapter: the browser's, else Dawn for Node (`webgpu`, optional), else null with the reason. */
async function firstAdapter(): Promise<{ adapter: Adapter | null; why: string }> {
  let gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<Adapter | null> } } }).navigator?.gpu;
  if (gpu === undefined) {
    try {
      const m = await import('webgpu');
      Object.assign(globalThis, m.globals);
      gpu = m.create([]) as unknown as typeof gpu;
    } catch (e) {
      return { adapter: null, why: `no navigator.gpu and the optional 'webgpu' package does not load (${String(e).split('\n')[0]})` };
    }
  }
  const adapter = await gpu!.requestAdapter().catch(() => null);
  return { adapter, why: 'no WebGPU adapter (Node: a Vulkan driver; see docs/webgpu.md)' };
}

/** Median of submit → onSubmittedWorkDone over `reps` calls of `call`, in ms (after 2 warm-up calls). */
async function timeCall(device: GPUDevice, call: () => void, reps: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const t0 = performance.now();
    call();
    await device.queue.onSubmittedWorkDone();
    if (i >= 2) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** Rows of `op shape dtype ms GB/s` for rmsNorm forward/backward and addRmsNorm on each shape. */
async function measure(device: GPUDevice, norm: WebGpuNorm, shapes: [number, number][], reps: number): Promise<string[]> {
  const lines = ['op                  shape         dtype     ms      GB/s'];
  const dtypes = norm.f16 ? (['float32', 'float16'] as const) : (['float32'] as const);
  for (const [rows, cols] of shapes) {
    for (const dtype of dtypes) {
      const n = rows * cols;
      const bytes = dtype === 'float16' ? 2 : 4;
      const buf = (count: number, b = bytes) => device.createBuffer({ size: Math.ceil((count * b) / 4) * 4, usage: STORAGE });
      const [x, r, y, s, dy, dx] = [buf(n), buf(n), buf(n), buf(n), buf(n), buf(n)];
      const rstd = buf(rows, 4), gamma = buf(cols, 4), dgamma = buf(cols, 4);
      const base = { rows, cols, dtype, gamma };
      const ops: Array<[string, () => void, number]> = [
        ['rmsNorm forward', () => norm.rmsNorm({ ...base, x, y, rstd }), 2 * n * bytes],
        ['rmsNorm backward', () => norm.rmsNormBackward({ ...base, dy, x, rstd, dx, dgamma }), 3 * n * bytes],
        ['addRmsNorm forward', () => norm.addRmsNorm({ ...base, x, residual: r, sum: s, y, rstd }), 4 * n * bytes],
      ];
      for (const [name, call, moved] of ops) {
        const ms = await timeCall(device, call, reps);
        lines.push(`${name.padEnd(20)}${`${rows}x${cols}`.padEnd(14)}${dtype.padEnd(10)}${ms.toFixed(3).padStart(7)}  ${(moved / ms / 1e6).toFixed(1).padStart(7)}`);
      }
      for (const b of [x, r, y, s, dy, dx, rstd, gamma, dgamma]) b.destroy();
    }
  }
  return lines;
}

/**
 * Run the WebGPU rows and print them (or why there are none). Returns the printed lines.
 * @example await runWebGpuBench([[4096, 4096]], console.log)
 */
export async function runWebGpuBench(shapes: [number, number][], print: (line: string) => void, reps = 21): Promise<string[]> {
  const out: string[] = [];
  const say = (l: string) => { out.push(l); print(l); };
  const { adapter, why } = await firstAdapter();
  if (adapter === null) {
    say(`webgpu: ${why}; no WebGPU rows`);
    return out;
  }
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  if (info.isFallbackAdapter === true || SOFTWARE.test(name)) {
    say(`webgpu: only a software adapter is present (${name}): it emulates a GPU on the CPU, so no GB/s are reported (correctness: packages/rmsnorm/test/webgpu-core.test.ts)`);
    return out;
  }
  const device = await adapter.requestDevice({ requiredFeatures: adapter.features.has('shader-f16') ? ['shader-f16'] : [] });
  try {
    const norm = await createWebGpuNorm(device);
    say(`webgpu: ${name}${norm.f16 ? ', shader-f16' : ', no shader-f16 (f32 rows only)'}; median of ${reps} self-submitted calls (submit → onSubmittedWorkDone, so small shapes include the round trip)`);
    for (const line of await measure(device, norm, shapes, reps)) say(line);
  } finally {
    device.destroy(); // Dawn keeps Node alive while a device exists
  }
  return out;
}
