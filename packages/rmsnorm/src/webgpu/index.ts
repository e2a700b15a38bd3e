// `rmsnorm/webgpu`: the core ops on GPUBuffers of a caller's GPUDevice — rmsNorm (pRMSNorm), l2Norm, layerNorm,
// addRmsNorm and their backwards, f32 or f16 storage with f32 accumulation, one workgroup per row. Validation and
// defaults here, WGSL in ./wgsl.ts. Independent of `webgpu` (Node) and of any GPU type package: the device and
// buffers are typed structurally, so a browser GPUDevice and Dawn's Node one both fit. Docs: docs/webgpu.md.
import { BackendUnavailableError } from '../backends/backend.js';
import { describe, enumOption, epsOption, finiteNumberOption, pOption } from '../ops/validate.js';
import { partialK } from '../ops/partial-k.js';
import {
  COL_TILE, columnBindings, columnWgsl, lnBackwardBindings, lnBackwardWgsl, lnForwardBindings, lnForwardWgsl,
  PARAMS_BYTES, rmsBackwardBindings, rmsBackwardWgsl, rmsForwardBindings, rmsForwardWgsl, rowWidth,
  type Binding, type WgslStorage,
} from './wgsl.js';

/** The parts of a GPUBuffer this module reads (a real GPUBuffer fits). */
export interface GpuBufferLike {
  readonly size: number;
  readonly usage: number;
}

/** The parts of a GPUCommandEncoder this module uses. */
export interface GpuCommandEncoderLike {
  beginComputePass(descriptor?: object): {
    setPipeline(pipeline: unknown): void;
    setBindGroup(index: number, group: unknown): void;
    dispatchWorkgroups(x: number, y?: number, z?: number): void;
    end(): void;
  };
  finish(): unknown;
}

/** The parts of a GPUDevice this module uses (a real GPUDevice fits). */
export interface GpuDeviceLike {
  readonly features: { has(name: string): boolean };
  readonly queue: { submit(buffers: never[]): void; writeBuffer(buffer: GpuBufferLike, offset: number, data: ArrayBuffer, dataOffset?: number, size?: number): void };
  createShaderModule(descriptor: { code: string }): unknown;
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: never; entryPoint: string } }): {
    getBindGroupLayout(index: number): unknown;
  };
  createBuffer(descriptor: { size: number; usage: number }): GpuBufferLike;
  createBindGroup(descriptor: { layout: never; entries: Array<{ binding: number; resource: { buffer: never; offset?: number; size?: number } }> }): unknown;
  createCommandEncoder(): GpuCommandEncoderLike;
}

/** Storage types of the activation buffers (x, residual, y, sum, dy, dsum, dx); statistics and parameters are f32. */
export type WebGpuDtype = 'float32' | 'float16';

/** Thrown when the device lacks a feature a call needs (`shader-f16` for dtype 'float16'). */
export class WebGpuFeatureError extends BackendUnavailableError {
  override name = 'WebGpuFeatureError';
}

/** Sizes, storage type and where to encode, shared by every call. */
export interface WebGpuCallBase {
  rows: number;
  cols: number;
  /** 'float32' (default) or 'float16' (needs the device feature 'shader-f16'). */
  dtype?: WebGpuDtype;
  /** Encode into this command encoder (the caller submits); without it the call submits its own command buffer. */
  encoder?: GpuCommandEncoderLike;
}

/** RMS-family options, as the core rmsNorm (docs/math.md §1–2). gamma/beta are f32 buffers of cols values. */
export interface WebGpuRmsOptions {
  gamma?: GpuBufferLike;
  beta?: GpuBufferLike;
  gammaOffset?: number;
  eps?: number;
  epsPlacement?: 'inside' | 'outside';
  p?: number;
  kRule?: 'ceil' | 'floor';
}

export interface WebGpuRmsNormArgs extends WebGpuCallBase, WebGpuRmsOptions {
  x: GpuBufferLike;
  y: GpuBufferLike;
  rstd: GpuBufferLike;
}

export interface WebGpuRmsNormBackwardArgs extends WebGpuCallBase, WebGpuRmsOptions {
  dy: GpuBufferLike;
  x: GpuBufferLike;
  rstd: GpuBufferLike;
  /** May be dy itself (in place). */
  dx: GpuBufferLike;
  /** Σ_rows dy ⊙ x̂ (needs gamma). */
  dgamma?: GpuBufferLike;
  /** Σ_rows dy. */
  dbeta?: GpuBufferLike;
}

export interface WebGpuAddRmsNormArgs extends WebGpuCallBase, WebGpuRmsOptions {
  x: GpuBufferLike;
  residual: GpuBufferLike;
  y: GpuBufferLike;
  /** x + residual rounded to the storage type; may be residual itself (the residual stream updated in place). */
  sum: GpuBufferLike;
  rstd: GpuBufferLike;
}

export interface WebGpuAddRmsNormBackwardArgs extends WebGpuCallBase, WebGpuRmsOptions {
  dy: GpuBufferLike;
  /** Gradient arriving at the sum output; null/absent = 0. */
  dsum?: GpuBufferLike | null;
  sum: GpuBufferLike;
  rstd: GpuBufferLike;
  /** Gradient of both x and residual; may be dy or dsum itself. */
  dx: GpuBufferLike;
  dgamma?: GpuBufferLike;
  dbeta?: GpuBufferLike;
}

export interface WebGpuLayerNormArgs extends WebGpuCallBase {
  x: GpuBufferLike;
  y: GpuBufferLike;
  mean: GpuBufferLike;
  rstd: GpuBufferLike;
  gamma?: GpuBufferLike;
  beta?: GpuBufferLike;
  eps?: number;
}

export interface WebGpuLayerNormBackwardArgs extends WebGpuCallBase {
  dy: GpuBufferLike;
  x: GpuBufferLike;
  mean: GpuBufferLike;
  rstd: GpuBufferLike;
  /** May be dy itself (in place). */
  dx: GpuBufferLike;
  gamma?: GpuBufferLike;
  beta?: GpuBufferLike;
  dgamma?: GpuBufferLike;
  dbeta?: GpuBufferLike;
  eps?: number;
}

/** The ops bound to one device (pipelines compiled on first use and cached). */
export interface WebGpuNorm {
  readonly device: GpuDeviceLike;
  /** Whether dtype 'float16' can run (the device was created with the 'shader-f16' feature). */
  readonly f16: boolean;
  rmsNorm(args: WebGpuRmsNormArgs): void;
  rmsNormBackward(args: WebGpuRmsNormBackwardArgs): void;
  l2Norm(args: Omit<WebGpuRmsNormArgs, 'p' | 'kRule'>): void;
  l2NormBackward(args: Omit<WebGpuRmsNormBackwardArgs, 'p' | 'kRule'>): void;
  addRmsNorm(args: WebGpuAddRmsNormArgs): void;
  addRmsNormBackward(args: WebGpuAddRmsNormBackwardArgs): void;
  layerNorm(args: WebGpuLayerNormArgs): void;
  layerNormBackward(args: WebGpuLayerNormBackwardArgs): void;
}

// GPUBufferUsage / GPUMapMode values (spec constants; globals are absent in Node until `webgpu` installs them).
const USAGE_STORAGE = 0x80;
const USAGE_UNIFORM = 0x40;
const MAX_GROUPS = 65535;
const USAGE_COPY_DST = 0x8;
/**
 * Uniform slots per device binding: each call writes its sizes/options into the next slot of one ring buffer
 * (queue.writeBuffer), so up to this many calls may be encoded into one caller's encoder before it is submitted.
 * (One buffer per call instead: Dawn for Node destroys a GPUBuffer when its JS object is collected, even while
 * submitted work still reads it — a crash in SwiftShader.)
 */
export const WEBGPU_UNIFORM_SLOTS = 1024;
const SLOT_BYTES = 256; // minUniformBufferOffsetAlignment

const RMS_KEYS = ['gamma', 'beta', 'gammaOffset', 'eps', 'epsPlacement', 'p', 'kRule', 'dtype', 'encoder', 'rows', 'cols'];
const LN_KEYS = ['gamma', 'beta', 'eps', 'dtype', 'encoder', 'rows', 'cols'];

/** One validated call: sizes, resolved options, and the buffers by binding name. */
interface Call {
  rows: number;
  cols: number;
  storage: WgslStorage;
  k: number;
  div: number;
  eps: number;
  offset: number;
  outside: boolean;
  encoder: GpuCommandEncoderLike | undefined;
}

function fail(args: unknown, keys: string[]): Record<string, unknown> {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new TypeError(`args must be a plain object, got ${describe(args)}`);
  }
  const record = args as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) throw new TypeError(`args.${key} is not a known argument (expected one of: ${keys.join(', ')})`);
  }
  return record;
}

function sizeArg(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`args.${name} must be an integer >= ${min}, got ${describe(v)}`);
  }
  return v;
}

function isBuffer(v: unknown): v is GpuBufferLike {
  return typeof v === 'object' && v !== null && typeof (v as GpuBufferLike).size === 'number'
    && typeof (v as GpuBufferLike).usage === 'number';
}

/**
 * A storage buffer of at least `count` values of `bytes` each (rounded up to 4: WebGPU storage bindings are
 * 4-byte multiples), with STORAGE usage. The message names the argument, what was expected and what was given.
 */
function bufferArg(name: string, v: unknown, count: number, bytes: number, what: string): GpuBufferLike {
  if (!isBuffer(v)) throw new TypeError(`args.${name} must be a GPUBuffer, got ${describe(v)}`);
  if ((v.usage & USAGE_STORAGE) === 0) {
    throw new TypeError(`args.${name} must have GPUBufferUsage.STORAGE in its usage flags, got usage 0x${v.usage.toString(16)}`);
  }
  const need = bindingSize(count, bytes);
  if (v.size < need) {
    throw new RangeError(`args.${name} must hold ${what} (${count} × ${bytes} bytes, ${need} bytes with 4-byte alignment), got a ${v.size}-byte buffer`);
  }
  return v;
}

function bindingSize(count: number, bytes: number): number {
  return Math.max(4, Math.ceil((count * bytes) / 4) * 4);
}

/** Outputs may not be the same buffer as an input or another output, except the listed in-place pairs. */
function noAliasing(buffers: Array<[string, GpuBufferLike | undefined | null]>, outputs: string[], allowed: Array<[string, string]>): void {
  for (const out of outputs) {
    const ob = buffers.find(([n]) => n === out)?.[1];
    if (ob == null) continue;
    for (const [name, b] of buffers) {
      if (name === out || b !== ob) continue;
      if (allowed.some(([a, c]) => (a === out && c === name) || (a === name && c === out))) continue;
      throw new RangeError(`args.${out} must not be the same GPUBuffer as args.${name} (WebGPU cannot bind one buffer as input and output; allowed in-place pairs: ${allowed.map(([a, c]) => `${a} = ${c}`).join(', ') || 'none'})`);
    }
  }
}

/**
 * Bind a caller's GPUDevice to the norm ops. Pipelines are compiled on first use per specialisation and cached.
 * dtype 'float16' needs the device to have been requested with `requiredFeatures: ['shader-f16']`.
 *
 * @example
 * const adapter = await navigator.gpu.requestAdapter();
 * const device = await adapter.requestDevice({ requiredFeatures: adapter.features.has('shader-f16') ? ['shader-f16'] : [] });
 * const gpu = await createWebGpuNorm(device);
 * gpu.rmsNorm({ x, y, rstd, gamma, rows: 8, cols: 4096, eps: 1e-6 });   // buffers: GPUBufferUsage.STORAGE
 */
export async function createWebGpuNorm(device: GpuDeviceLike): Promise<WebGpuNorm> {
  if (typeof device !== 'object' || device === null || typeof device.createComputePipeline !== 'function') {
    throw new TypeError(`device must be a GPUDevice, got ${describe(device)}`);
  }
  const f16 = device.features.has('shader-f16');
  const pipelines = new Map<string, { getBindGroupLayout(index: number): unknown }>();

  function pipeline(code: string) {
    let p = pipelines.get(code);
    if (p === undefined) {
      const module = device.createShaderModule({ code }) as never;
      p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      pipelines.set(code, p);
    }
    return p;
  }

  const ring = device.createBuffer({ size: WEBGPU_UNIFORM_SLOTS * SLOT_BYTES, usage: USAGE_UNIFORM | USAGE_COPY_DST });
  let slot = 0;
  const staging = new ArrayBuffer(PARAMS_BYTES);
  const stagingU32 = new Uint32Array(staging, 0, 4);
  const stagingF32 = new Float32Array(staging, 16, 4);

  /** Write one call's Params into the next ring slot; returns its byte offset. */
  function params(c: Call, nx: number): number {
    const offset = slot * SLOT_BYTES;
    slot = (slot + 1) % WEBGPU_UNIFORM_SLOTS;
    stagingU32.set([c.rows, c.cols, c.k, nx]);
    stagingF32.set([c.div, c.eps, c.offset, 0]);
    device.queue.writeBuffer(ring, offset, staging, 0, PARAMS_BYTES);
    return offset;
  }

  /** The programs of one call, in order, each with its bindings and workgroup count. */
  type Program = { code: string; bindings: Binding[]; groups: number; buffers: Record<string, GpuBufferLike> };

  function run(c: Call, programs: Program[]): void {
    const encoder = c.encoder ?? device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const p of programs) {
      if (p.groups === 0) continue;
      const nx = Math.min(p.groups, MAX_GROUPS);
      const ny = Math.ceil(p.groups / nx);
      const pipe = pipeline(p.code);
      const entries: Array<{ binding: number; resource: { buffer: never; offset?: number; size: number } }> = [{ binding: 0, resource: { buffer: ring as never, offset: params(c, nx), size: PARAMS_BYTES } }];
      p.bindings.forEach((b, i) => {
        const buffer = p.buffers[b.name];
        // the whole buffer, cut to a 4-byte multiple (storage bindings must be; bufferArg checked it is big enough)
        entries.push({ binding: i + 1, resource: { buffer: buffer as never, size: buffer.size - (buffer.size % 4) } });
      });
      pass.setPipeline(pipe);
      pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0) as never, entries }));
      pass.dispatchWorkgroups(nx, ny);
    }
    pass.end();
    if (c.encoder === undefined) device.queue.submit([encoder.finish() as never]);
  }

  /** Sizes, dtype and RMS/LN options of a call, validated like the core ops (same messages for options). */
  function callOf(a: Record<string, unknown>, rmsFamily: boolean, l2: boolean): Call {
    const rows = sizeArg('rows', a.rows, 0);
    const cols = sizeArg('cols', a.cols, 1);
    if (rows * cols > 0xffffffff) throw new RangeError(`args.rows × args.cols must be < 2^32 (u32 indices), got ${rows * cols}`);
    const dtype = enumOption('args.dtype', a.dtype, ['float32', 'float16'] as const, 'float32');
    if (dtype === 'float16' && !f16) {
      throw new WebGpuFeatureError("dtype 'float16' needs the WebGPU feature 'shader-f16': this device was created without it (request it with requiredFeatures: ['shader-f16'] where adapter.features has it), or use dtype 'float32'");
    }
    const encoder = a.encoder as GpuCommandEncoderLike | undefined;
    if (encoder !== undefined && (typeof encoder !== 'object' || encoder === null || typeof encoder.beginComputePass !== 'function')) {
      throw new TypeError(`args.encoder must be a GPUCommandEncoder, got ${describe(encoder)}`);
    }
    const eps = epsOption(a.eps);
    if (!rmsFamily) return { rows, cols, storage: dtype === 'float16' ? 'f16' : 'f32', k: cols, div: cols, eps, offset: 0, outside: false, encoder };
    const offset = finiteNumberOption('options.gammaOffset', a.gammaOffset, 0);
    if (offset !== 0 && a.gamma === undefined) {
      throw new RangeError(`options.gammaOffset (${offset}) needs options.gamma: without a gain it has no meaning`);
    }
    const outside = enumOption('options.epsPlacement', a.epsPlacement, ['inside', 'outside'] as const, 'inside') === 'outside';
    const p = l2 ? 1 : pOption(a.p);
    const kRule = l2 ? 'ceil' : enumOption('options.kRule', a.kRule, ['ceil', 'floor'] as const, 'ceil');
    const k = p === 1 ? cols : partialK(p, cols, kRule);
    return { rows, cols, storage: dtype === 'float16' ? 'f16' : 'f32', k, div: l2 ? 1 : k, eps, offset, outside, encoder };
  }

  /** Check each named buffer: activations rows·cols of the storage type, statistics rows, parameters cols (f32). */
  function buffers(c: Call, a: Record<string, unknown>, kinds: Record<string, 'act' | 'row' | 'col'>, optional: string[] = []) {
    const out: Record<string, GpuBufferLike> = {};
    const sb = c.storage === 'f16' ? 2 : 4;
    for (const [name, kind] of Object.entries(kinds)) {
      if (a[name] == null && optional.includes(name)) continue;
      const [count, bytes, what] = kind === 'act' ? [c.rows * c.cols, sb, `rows × cols = ${c.rows * c.cols} ${c.storage} values`]
        : kind === 'row' ? [c.rows, 4, `rows = ${c.rows} f32 values`] : [c.cols, 4, `cols = ${c.cols} f32 values`];
      out[name] = bufferArg(name, a[name], count, bytes, what);
    }
    return out;
  }

  function requireGammaFor(b: Record<string, GpuBufferLike>): void {
    if (b.dgamma !== undefined && b.gamma === undefined) {
      throw new RangeError('args.dgamma needs args.gamma: without it there is no dgamma');
    }
  }

  /** dgamma/dbeta (when asked) as one column program; runs before dx so that an in-place dx = dy still reads dy. */
  function columnProgram(c: Call, b: Record<string, GpuBufferLike>, withMean: boolean, xName: string): Program[] {
    const dgamma = b.dgamma !== undefined;
    const dbeta = b.dbeta !== undefined;
    if (!dgamma && !dbeta) return [];
    const shape = { storage: c.storage, dgamma, dbeta, withMean };
    return [{ code: columnWgsl(shape), bindings: columnBindings(shape), groups: Math.ceil(c.cols / COL_TILE), buffers: { ...b, x: b[xName] } }];
  }

  function rmsForward(args: unknown, l2: boolean, add: boolean): void {
    const a = fail(args, [...RMS_KEYS, ...(add ? ['x', 'residual', 'y', 'sum', 'rstd'] : ['x', 'y', 'rstd'])].filter((k) => !l2 || (k !== 'p' && k !== 'kRule')));
    const c = callOf(a, true, l2);
    const kinds: Record<string, 'act' | 'row' | 'col'> = add
      ? { x: 'act', residual: 'act', y: 'act', sum: 'act', rstd: 'row', gamma: 'col', beta: 'col' }
      : { x: 'act', y: 'act', rstd: 'row', gamma: 'col', beta: 'col' };
    const b = buffers(c, a, kinds, ['gamma', 'beta']);
    const names = Object.entries(b) as Array<[string, GpuBufferLike]>;
    noAliasing(names, add ? ['sum', 'y', 'rstd'] : ['y', 'rstd'], add ? [['sum', 'residual']] : []);
    const inPlace = add && b.sum === b.residual;
    const shape = { storage: c.storage, width: rowWidth(c.cols), outside: c.outside, gamma: b.gamma !== undefined, beta: b.beta !== undefined, add, inPlace };
    run(c, [{ code: rmsForwardWgsl(shape), bindings: rmsForwardBindings(shape), groups: c.rows, buffers: b }]);
  }

  function rmsBackward(args: unknown, l2: boolean, add: boolean): void {
    const xName = add ? 'sum' : 'x';
    const a = fail(args, [...RMS_KEYS, xName, 'dy', 'rstd', 'dx', 'dgamma', 'dbeta', ...(add ? ['dsum'] : [])].filter((k) => !l2 || (k !== 'p' && k !== 'kRule')));
    const c = callOf(a, true, l2);
    const b = buffers(c, a, { dy: 'act', [xName]: 'act', rstd: 'row', dx: 'act', dsum: 'act', gamma: 'col', beta: 'col', dgamma: 'col', dbeta: 'col' },
      ['dsum', 'gamma', 'beta', 'dgamma', 'dbeta']);
    requireGammaFor(b);
    noAliasing(Object.entries(b), ['dx', 'dgamma', 'dbeta'], [['dx', 'dy'], ['dx', 'dsum']]);
    const inPlace = b.dx === b.dy ? 'dy' as const : b.dx === b.dsum ? 'dsum' as const : 'none' as const;
    const shape = { storage: c.storage, width: rowWidth(c.cols), outside: c.outside, gamma: b.gamma !== undefined, dsum: b.dsum !== undefined, inPlace };
    run(c, [
      ...columnProgram(c, b, false, xName),
      { code: rmsBackwardWgsl(shape), bindings: rmsBackwardBindings(shape), groups: c.rows, buffers: { ...b, x: b[xName] } },
    ]);
  }

  return {
    device,
    f16,
    rmsNorm: (args) => rmsForward(args, false, false),
    rmsNormBackward: (args) => rmsBackward(args, false, false),
    l2Norm: (args) => rmsForward(args, true, false),
    l2NormBackward: (args) => rmsBackward(args, true, false),
    addRmsNorm: (args) => rmsForward(args, false, true),
    addRmsNormBackward: (args) => rmsBackward(args, false, true),
    layerNorm(args) {
      const a = fail(args, [...LN_KEYS, 'x', 'y', 'mean', 'rstd']);
      const c = callOf(a, false, false);
      const b = buffers(c, a, { x: 'act', y: 'act', mean: 'row', rstd: 'row', gamma: 'col', beta: 'col' }, ['gamma', 'beta']);
      noAliasing(Object.entries(b), ['y', 'mean', 'rstd'], []);
      const shape = { storage: c.storage, width: rowWidth(c.cols), gamma: b.gamma !== undefined, beta: b.beta !== undefined };
      run(c, [{ code: lnForwardWgsl(shape), bindings: lnForwardBindings(shape), groups: c.rows, buffers: b }]);
    },
    layerNormBackward(args) {
      const a = fail(args, [...LN_KEYS, 'dy', 'x', 'mean', 'rstd', 'dx', 'dgamma', 'dbeta']);
      const c = callOf(a, false, false);
      const b = buffers(c, a, { dy: 'act', x: 'act', mean: 'row', rstd: 'row', dx: 'act', gamma: 'col', beta: 'col', dgamma: 'col', dbeta: 'col' },
        ['gamma', 'beta', 'dgamma', 'dbeta']);
      requireGammaFor(b);
      noAliasing(Object.entries(b), ['dx', 'dgamma', 'dbeta'], [['dx', 'dy']]);
      const shape = { storage: c.storage, width: rowWidth(c.cols), gamma: b.gamma !== undefined, inPlace: b.dx === b.dy };
      run(c, [
        ...columnProgram(c, b, true, 'x'),
        { code: lnBackwardWgsl(shape), bindings: lnBackwardBindings(shape), groups: c.rows, buffers: b },
      ]);
    },
  };
}
