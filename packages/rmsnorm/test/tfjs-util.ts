// Shared helpers of the tfjs test files: backend switching and float64-reference comparisons.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initTfjsWasm } from '../src/tfjs/node.js';

/** The tfjs backends every tfjs test runs on. */
export const TFJS_BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: string): Promise<void> {
  if (name === 'wasm') await initTfjsWasm();
  else await tf.setBackend(name);
  assert.equal(tf.getBackend(), name);
}

/** Deterministic pseudo-random normal values (seeded LCG + Box–Muller), so failures reproduce. */
export function randn(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = shift + scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** Assert |actual − expected| ≤ atol + rtol·|expected| everywhere; the message names the worst index. */
export function assertClose(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-4,
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const tol = atol + rtol * Math.abs(expected[i]);
    const err = Math.abs(actual[i] - expected[i]);
    const excess = Number.isNaN(err) ? Infinity : err - tol;
    if (excess > worstExcess || (Number.isNaN(err) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i])))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: worst at [${worst}] actual ${actual[worst]} expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}
