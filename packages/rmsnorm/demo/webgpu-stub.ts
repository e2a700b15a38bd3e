// Stand-in for src/webgpu/index.ts in checkouts without the core WebGPU entry (see demo/build.ts).
export const WEBGPU_MISSING = 'not available in this build';

export async function createWebGpuNorm(): Promise<never> {
  throw new Error(WEBGPU_MISSING);
}
