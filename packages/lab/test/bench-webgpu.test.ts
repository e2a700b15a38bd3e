// `rmsnorm-lab bench --webgpu` on stub adapters (no GPU needed): the flag is parsed, a software adapter is named and
// gets no GB/s, a hardware one gets rows. The WebGPU kernels' correctness is tested in packages/rmsnorm/test/webgpu-core.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchArgs } from '../src/bench/args.js';
import { runWebGpuBench } from '../src/bench/webgpu.js';

/** A device that records nothing: validation throws before any GPU call, so it needs no adapter. */
function stubDevice(f16: boolean) {
  const buffer = (size: number, usage: number) => ({ size, usage, destroy() {} });
  return {
    features: { has: (name: string) => f16 && name === 'shader-f16' },
    queue: { submit() {}, writeBuffer() {} },
    createShaderModule: () => ({}),
    createComputePipeline: () => ({ getBindGroupLayout: () => ({}) }),
    createBuffer: (d: { size: number; usage: number }) => buffer(d.size, d.usage),
    createBindGroup: () => ({}),
    createCommandEncoder: () => ({ beginComputePass: () => ({ setPipeline() {}, setBindGroup() {}, dispatchWorkgroups() {}, end() {} }), finish: () => ({}) }),
  };
}

describe('rmsnorm bench --webgpu (stub adapters, no GPU needed)', () => {
  /** Run the bench with navigator.gpu replaced by an adapter named `architecture`. */
  async function benchWith(architecture: string): Promise<string[]> {
    const nav = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    const adapter = {
      features: { has: () => false },
      info: { vendor: 'acme', architecture },
      requestDevice: async () => ({
        ...stubDevice(false),
        queue: { submit() {}, writeBuffer() {}, onSubmittedWorkDone: async () => {} },
        destroy() {},
      }),
    };
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => adapter } }, configurable: true, writable: true });
    try {
      return await runWebGpuBench([[4, 8]], () => {}, 3);
    } finally {
      if (nav === undefined) delete (globalThis as { navigator?: unknown }).navigator;
      else Object.defineProperty(globalThis, 'navigator', nav);
    }
  }

  it('--webgpu is parsed; a software adapter is named and gets no GB/s; a hardware one gets rows', async () => {
    assert.equal(parseBenchArgs(['--webgpu']).webgpu, true);
    assert.equal(parseBenchArgs([]).webgpu, false);
    const soft = await benchWith('swiftshader');
    assert.equal(soft.length, 1);
    assert.match(soft[0], /only a software adapter is present \(acme swiftshader\).*no GB\/s/);
    const hard = await benchWith('ampere');
    assert.match(hard[0], /^webgpu: acme ampere, no shader-f16/);
    assert.deepEqual(hard.slice(2).map((l) => l.split(/\s{2,}/)[0]), ['rmsNorm forward', 'rmsNorm backward', 'addRmsNorm forward']);
    for (const l of hard.slice(2)) assert.match(l, /4x8\s+float32\s+[\d.]+\s+[\d.]+$/);
  });
});
