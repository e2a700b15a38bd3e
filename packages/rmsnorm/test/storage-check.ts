// Test helpers for 16-bit storage and the fused add: compare a Float32Array/Uint16Array result with float64 expected
// values under storageTolerance, measure 16-bit ulp distances, list the backends a kernel runs on.
import assert from 'node:assert/strict';
import { availableBackends, reference } from '../src/index.js';
import { wasmBackend } from '../src/backends/wasm/index.js';
import type { KernelName } from '../src/backends/backend.js';
import type { StorageDtype, Tolerance } from './tolerance.js';

type Storage = Float32Array | Uint16Array;

/** Decoded values of a result array (Float32Array as is). */
export function values(a: Storage, dtype: StorageDtype): Float64Array {
  return reference.decodeArray(a, dtype);
}

/** 16-bit patterns of float64 values (correctly rounded by the reference), or f32 values for 'float32'. */
export function encode(v: ArrayLike<number>, dtype: StorageDtype): Storage {
  return dtype === 'float32' ? Float32Array.from(v) : reference.encodeArray(v, dtype);
}

/** Row scale: max finite |e| over each row. */
export function rowMax(e: ArrayLike<number>, cols: number): Float64Array {
  const rows = Math.max(1, Math.ceil(e.length / cols));
  const out = new Float64Array(rows);
  for (let i = 0; i < e.length; i++) {
    const v = Math.abs(e[i]);
    if (Number.isFinite(v) && v > out[Math.floor(i / cols)]) out[Math.floor(i / cols)] = v;
  }
  return out;
}

/**
 * Assert |a − e| ≤ atol·scale + rtol·|e| + abs element-wise (scale per row, default the row's max |e|); where e
 * rounds to ±Inf or is NaN in the storage type, the result must be exactly that. Returns the worst error/allowed.
 */
export function checkClose(
  name: string, actual: Storage, expected: ArrayLike<number>, dtype: StorageDtype,
  tol: Tolerance & { abs?: number }, cols: number, scales?: ArrayLike<number>,
): number {
  assert.equal(actual.length, expected.length, `${name}: length`);
  const a = values(actual, dtype);
  const sc = scales ?? rowMax(expected, cols);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = dtype === 'float32' ? expected[i] : expected[i];
    const stored = reference.roundToDtype(e, dtype);
    if (!Number.isFinite(stored)) {
      assert.ok(Object.is(a[i], stored) || (Number.isNaN(a[i]) && Number.isNaN(stored)),
        `${name}[${i}]: got ${a[i]}, expected ${stored} (from ${e}) [${dtype}]`);
      continue;
    }
    const allowed = tol.atol * sc[Math.floor(i / cols)] + tol.rtol * Math.abs(e) + (tol.abs ?? 0);
    const err = Math.abs(a[i] - e);
    assert.ok(err <= allowed, `${name}[${i}]: got ${a[i]}, expected ${e}, |Δ| ${err} > allowed ${allowed} [${dtype}]`);
    if (allowed > 0) worst = Math.max(worst, err / allowed);
  }
  return worst;
}

/** Largest distance in 16-bit ulps between results and the correctly rounded expected values; and the exact share. */
export function ulpStats(actual: Uint16Array, expected: ArrayLike<number>, dtype: 'float16' | 'bfloat16') {
  let maxUlps = 0;
  let exact = 0;
  let counted = 0;
  const ordinal = (b: number) => (b & 0x8000 ? -(b & 0x7fff) : b);
  for (let i = 0; i < actual.length; i++) {
    if (Number.isNaN(expected[i])) continue;
    const want = reference.numberToHalf(expected[i], dtype);
    const d = Math.abs(ordinal(actual[i]) - ordinal(want));
    counted++;
    if (d === 0) exact++;
    maxUlps = Math.max(maxUlps, d);
  }
  return { maxUlps, exactShare: counted === 0 ? 1 : exact / counted };
}

/**
 * The backends to try for one kernel: js and auto always; wasm when available, flagged `missing` when it does not
 * define the kernel yet (an explicit 'wasm' must then throw BackendUnavailableError, never run js silently).
 */
export function backendsFor(kernel: KernelName): Array<{ backend: 'js' | 'auto' | 'wasm'; missing: boolean }> {
  const list: Array<{ backend: 'js' | 'auto' | 'wasm'; missing: boolean }> = [
    { backend: 'js', missing: false },
    { backend: 'auto', missing: false },
  ];
  if (availableBackends().includes('wasm')) {
    list.push({ backend: 'wasm', missing: typeof wasmBackend[kernel] !== 'function' });
  }
  return list;
}

/** Which tolerance row a backend name uses ('auto' is wasm when wasm defines the kernel). */
export function toleranceBackend(backend: 'js' | 'auto' | 'wasm', kernel: KernelName): 'js' | 'wasm' {
  if (backend === 'js') return 'js';
  if (backend === 'wasm') return 'wasm';
  return availableBackends().includes('wasm') && typeof wasmBackend[kernel] === 'function' ? 'wasm' : 'js';
}
