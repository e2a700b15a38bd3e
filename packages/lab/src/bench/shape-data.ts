// Inputs and outputs of one benchmark shape: `sets` rotated buffer sets (so V8 cannot specialise a kernel on constant
// arrays and every call streams fresh memory), shared by all ops and implementations timed at that shape.
import { fillUniform } from 'rmsnorm/internal';

export interface ShapeData {
  rows: number;
  cols: number;
  /** pRMSNorm fraction and its k = ⌈p·cols⌉. */
  p: number;
  k: number;
  sets: number;
  x: Float32Array[];
  dy: Float32Array[];
  y: Float32Array[];
  dx: Float32Array[];
  gamma: Float32Array;
  beta: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

/** Deterministic pseudo-random fill in [-2, 2) (the library's mulberry32; Math.random would make runs differ for no reason). */
export function fillRandom(a: Float32Array, seed: number): void {
  fillUniform(a, seed, -2, 2);
}

/**
 * Allocate `sets` input/output sets for a rows × cols shape.
 * @example const d = makeShapeData(32, 768, 0.0625, 3); // d.k === 48
 */
export function makeShapeData(rows: number, cols: number, p: number, k: number, sets: number): ShapeData {
  const n = rows * cols;
  const make = (seed: number) => {
    const a = new Float32Array(n);
    fillRandom(a, seed);
    return a;
  };
  const gamma = new Float32Array(cols);
  fillRandom(gamma, 7);
  for (let j = 0; j < cols; j++) gamma[j] = 1 + 0.25 * gamma[j];
  const beta = new Float32Array(cols);
  fillRandom(beta, 11);
  return {
    rows, cols, p, k, sets,
    x: Array.from({ length: sets }, (_, s) => make(101 + s)),
    dy: Array.from({ length: sets }, (_, s) => make(201 + s)),
    y: Array.from({ length: sets }, () => new Float32Array(n)),
    dx: Array.from({ length: sets }, () => new Float32Array(n)),
    gamma, beta,
    dgamma: new Float32Array(cols),
    dbeta: new Float32Array(cols),
  };
}

/**
 * A copy of `d` whose arrays come from `alloc` (e.g. allocFloat32: the wasm memory, for zero-copy calls); `free`
 * returns every array allocated through it, including later `alloc` calls made via the returned `alloc`.
 */
export function copyShapeData(
  d: ShapeData,
  allocate: (length: number) => Float32Array,
  release: (a: Float32Array) => void,
): { data: ShapeData; alloc(length: number): Float32Array; free(): void } {
  const owned: Float32Array[] = [];
  const alloc = (length: number) => {
    const a = allocate(length);
    owned.push(a);
    return a;
  };
  const clone = (a: Float32Array) => {
    const b = alloc(a.length);
    b.set(a);
    return b;
  };
  const data: ShapeData = {
    ...d,
    x: d.x.map(clone), dy: d.dy.map(clone), y: d.y.map(clone), dx: d.dx.map(clone),
    gamma: clone(d.gamma), beta: clone(d.beta), dgamma: clone(d.dgamma), dbeta: clone(d.dbeta),
  };
  return {
    data,
    alloc,
    free: () => {
      for (const a of owned.splice(0)) release(a);
    },
  };
}
