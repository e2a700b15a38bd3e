// Argument checks for the public op layer. Every failure is a TypeError (wrong type) or RangeError (wrong size or
// value) whose message names the argument, what was expected and what was given.
import { guardView } from '../backends/array-guard.js';
import type { Dtype, Storage } from '../backends/backend.js';

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as Float32Array).length})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

// %TypedArray%.prototype[@@toStringTag]: reads the internal [[TypedArrayName]] slot, so it names real typed arrays of
// any realm (vm contexts, iframes: `instanceof` fails there) and nothing else (look-alike objects, proxies: undefined).
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)!
  .get as (this: unknown) => string | undefined;

/** Whether a (length-0) view's buffer is detached: transferred, or a private wasm memory's buffer after growth. */
function isDetached(view: ArrayBufferView): boolean {
  const buffer = view.buffer;
  if (typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(buffer, 0, 0); // throws only on a detached buffer
    return false;
  } catch {
    return true;
  }
}

/**
 * A typed array of any storage type the op layer accepts must be usable: not detached (a detached view reads as
 * length 0, which would silently mean rows = 0) and not a stale view of a backend's memory (guardView).
 */
export function requireUsable(name: string, view: Float32Array | Uint16Array): void {
  // .length, not .byteLength: the latter costs ~60 ns per read in Node 20 (resizable-buffer checks)
  if (view.length === 0 && isDetached(view)) {
    throw new TypeError(
      `${name} is detached (its ArrayBuffer was transferred, or it is an allocFloat32 view of a private wasm ` +
        'memory that has grown since: call refreshFloat32)',
    );
  }
  guardView(name, view);
}

export function requireFloat32Array(name: string, value: unknown): Float32Array {
  // isView + instanceof: the fast common case (a real typed array of this realm); the tag check covers other realms
  if (!(ArrayBuffer.isView(value) && value instanceof Float32Array) && typedArrayName.call(value) !== 'Float32Array') {
    throw new TypeError(`${name} must be a Float32Array, got ${describe(value)}`);
  }
  requireUsable(name, value as Float32Array);
  return value as Float32Array;
}

export function optionalFloat32Array(name: string, value: unknown, length: number, what = 'cols'): Float32Array | undefined {
  if (value === undefined) return undefined;
  const arr = requireFloat32Array(name, value);
  if (arr.length !== length) throw new RangeError(`${name} must have length ${length} (${what}), got ${arr.length}`);
  return arr;
}

/** cols must be a positive integer dividing x.length; returns rows. */
export function rowsOf(x: Storage, cols: unknown, xName = 'x'): number {
  if (typeof cols !== 'number') throw new TypeError(`cols must be a number, got ${describe(cols)}`);
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be a positive integer, got ${cols}`);
  if (x.length % cols !== 0) {
    throw new RangeError(`${xName}.length must be a multiple of cols (${cols}), got ${x.length}`);
  }
  return x.length / cols;
}

/** options.channels: null (row layout) or a positive integer (channels-last layout, docs/math.md §9). */
export function channelsOption(value: unknown): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number') throw new TypeError(`options.channels must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`options.channels must be a positive integer, got ${value}`);
  return value;
}

/**
 * The statistics count (rows), blocks and gamma/beta length of a call: rows × cols, or with options.channels the
 * channels-last [blocks, cols, channels] (one statistic per block and channel; gain/bias per channel).
 */
export function layoutOf(
  x: Storage, cols: unknown, channels: number | null, dtype: Dtype, xName = 'x',
): { rows: number; blocks: number; params: number; paramsWhat: string } {
  const rows = rowsOf(x, cols, xName);
  if (channels === null) return { rows, blocks: rows, params: cols as number, paramsWhat: 'cols' };
  if (dtype !== 'float32') {
    throw new RangeError(`options.channels needs dtype 'float32' (16-bit storage has row kernels only), got '${dtype}'`);
  }
  if (rows % channels !== 0) {
    throw new RangeError(`${xName}.length must be a multiple of cols·channels (${cols}·${channels}), got ${x.length}`);
  }
  return { rows, blocks: rows / channels, params: channels, paramsWhat: 'options.channels' };
}

export function requireLength(name: string, arr: Storage, length: number, what: string): void {
  if (arr.length !== length) throw new RangeError(`${name} must have length ${length} (${what}), got ${arr.length}`);
}

/** A plain record: an object literal, Object.create(null), a class instance or one from another realm — not a Map,
 *  Set, array, typed array, Date, … (whose entries are not properties, so passing one would be silently ignored). */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || Object.prototype.toString.call(value) === '[object Object]';
}

/**
 * The options of a call, checked for unknown keys. Callers read each option ONCE, into locals, before checking any
 * array (a getter could otherwise detach or resize x between its check and the kernel); options.out is read once
 * by outObject.
 */
export function optionsObject<T extends object>(value: unknown, known: readonly string[]): T {
  if (value === undefined) return {} as T;
  if (!isRecord(value)) {
    throw new TypeError(`options must be a plain object, got ${describe(value)}`);
  }
  // for-in (no key array allocated, unlike Object.keys); inherited keys are skipped as Object.keys would.
  for (const key in value) {
    if (!known.includes(key) && Object.prototype.hasOwnProperty.call(value, key)) {
      throw new TypeError(`options.${key} is not a known option (expected one of: ${known.join(', ')})`);
    }
  }
  return value as T;
}

export function epsOption(value: unknown): number {
  if (value === undefined) return 1e-6;
  if (typeof value !== 'number') throw new TypeError(`options.eps must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`options.eps must be finite and >= 0, got ${value}`);
  return value;
}

export function finiteNumberOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be finite, got ${value}`);
  return value;
}

export function enumOption<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

export function pOption(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number') throw new TypeError(`options.p must be a number, got ${describe(value)}`);
  if (!(value > 0 && value <= 1)) throw new RangeError(`options.p must be in (0, 1], got ${value}`);
  return value;
}

// Alias checks without allocation. A call registers its arrays once — inputs first, then outputs in order — and each
// array's buffer and byte range is read once (typed-array buffer/byteOffset getters cost ≈10–15 ns each in Node 20,
// more than the comparisons), then every caller-provided output is checked against the inputs and the later outputs.
const viewNames: string[] = [];
const views: Array<Storage | null> = [];
const viewBuffers: Array<ArrayBufferLike | null> = [];
const viewStarts: number[] = [];
const viewEnds: number[] = [];
let viewCount = 0;

/** Start a call's alias check: forget the previous call's arrays. */
export function aliasBegin(): void {
  viewCount = 0;
}

/** Register the next array of the call (null: absent, or a freshly allocated output, which cannot alias anything). */
export function aliasAdd(name: string, view: Storage | null): void {
  const i = viewCount++;
  viewNames[i] = name;
  views[i] = view;
  if (view === null) {
    viewBuffers[i] = null;
  } else {
    const start = view.byteOffset;
    viewBuffers[i] = view.buffer;
    viewStarts[i] = start;
    viewEnds[i] = start + view.length * view.BYTES_PER_ELEMENT;
  }
}

/**
 * An output must not share memory with any input or other output, except the one exact in-place alias the kernel
 * supports (the first output with the first input when `inPlace`: y = x forward, dx = dy backward), which reads each
 * element before writing it. Checks each registered output (from index `inputs` on) against every input, then the
 * outputs after it, and throws a RangeError naming the first offending pair. Drops the references afterwards.
 */
export function aliasCheck(inputs: number, inPlace: boolean): void {
  try {
    const inPlaceWith = inPlace ? views[0] : undefined;
    for (let o = inputs; o < viewCount; o++) {
      const out = views[o];
      if (out === null) continue;
      for (let i = 0; i < viewCount; i++) {
        if (i >= inputs && i <= o) continue;
        const other = views[i];
        if (other === null) continue;
        if (other === out) {
          if (o === inputs && other === inPlaceWith) continue;
          const what = `${viewNames[o]} must not be the same array as ${viewNames[i]}`;
          throw new RangeError(`${what} (it would corrupt the result)`);
        }
        if (viewBuffers[o] !== viewBuffers[i]) continue;
        // same memory through another view of the same range: still the exact in-place alias
        const sameRange = viewStarts[o] === viewStarts[i] && viewEnds[o] === viewEnds[i];
        if (o === inputs && other === inPlaceWith && sameRange) continue;
        if (viewStarts[o] < viewEnds[i] && viewStarts[i] < viewEnds[o]) {
          throw new RangeError(`${viewNames[o]} must not overlap ${viewNames[i]} (it would corrupt the result)`);
        }
      }
    }
  } finally {
    // hold no references to the caller's arrays between calls
    for (let i = 0; i < viewCount; i++) {
      views[i] = null;
      viewBuffers[i] = null;
    }
    viewCount = 0;
  }
}

/** A caller-provided output of an exact length, or a fresh one. */
export function outputBuffer(name: string, given: unknown, length: number, what: string): Float32Array {
  if (given === undefined) return new Float32Array(length);
  const arr = requireFloat32Array(name, given);
  requireLength(name, arr, length, what);
  return arr;
}

/** The forward ops' outputs: a backward call accepts them in options.out and ignores them (see outObject). */
const FORWARD_OUTPUTS: readonly string[] = ['y', 'mean', 'rstd', 'sum'];
const NO_KEYS: readonly string[] = [];

/**
 * options.out checked for unknown keys and read once into a snapshot of fixed shape (getters run here, before any
 * array is checked, and never again). A backward call (its outputs include dx) ignores the forward's outputs, so the
 * forward's options object, `out` included, can be passed to the backward unchanged.
 */
export function outObject(value: unknown, known: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isRecord(value)) {
    throw new TypeError(`options.out must be a plain object, got ${describe(value)}`);
  }
  const ignored = known.includes('dx') ? FORWARD_OUTPUTS : NO_KEYS;
  for (const key in value) {
    if (!known.includes(key) && !ignored.includes(key) && Object.prototype.hasOwnProperty.call(value, key)) {
      throw new TypeError(`options.out.${key} is not a known output (expected one of: ${known.join(', ')})`);
    }
  }
  // Named reads into one object shape (keyed stores in a loop cost ~5x more); keys outside `known` were refused
  // above when present, so reading them yields undefined (a backward call's ignored forward outputs are never used).
  const v = value as Record<string, unknown>;
  return { y: v.y, rstd: v.rstd, mean: v.mean, sum: v.sum, dx: v.dx, dgamma: v.dgamma, dbeta: v.dbeta };
}

let workspace = new Float64Array(0);

/** Reusable float64 scratch for the kernels' parameter-gradient sums (grown, never shrunk). */
export function workspaceFor(cols: number): Float64Array {
  if (workspace.length < 2 * cols) workspace = new Float64Array(2 * cols);
  return workspace;
}

// 16-bit storage (options.dtype): activation arrays are Float32Array for 'float32', Uint16Array bit patterns else.
const DTYPES: readonly Dtype[] = ['float32', 'float16', 'bfloat16'];

export function dtypeOption(value: unknown): Dtype {
  return enumOption('options.dtype', value, DTYPES, 'float32');
}

/** An activation array of the call's storage type (the message names the argument and the dtype). */
export function requireStorage(name: string, value: unknown, dtype: Dtype): Storage {
  if (dtype === 'float32') {
    if (value instanceof Uint16Array) {
      throw new TypeError(
        `${name} must be a Float32Array (options.dtype 'float32'), got ${describe(value)}: pass options.dtype 'float16' or 'bfloat16' for 16-bit storage`,
      );
    }
    return requireFloat32Array(name, value);
  }
  if (typedArrayName.call(value) !== 'Uint16Array') {
    throw new TypeError(`${name} must be a Uint16Array of ${dtype} bit patterns (options.dtype '${dtype}'), got ${describe(value)}`);
  }
  requireUsable(name, value as Uint16Array);
  return value as Uint16Array;
}

/** A caller-provided activation output of an exact length and the call's storage type, or a fresh one. */
export function outputStorage(name: string, given: unknown, length: number, what: string, dtype: Dtype): Storage {
  if (given === undefined) return dtype === 'float32' ? new Float32Array(length) : new Uint16Array(length);
  const arr = requireStorage(name, given, dtype);
  requireLength(name, arr, length, what);
  return arr;
}
