// The one seeded PRNG module of the project: every check, test, benchmark input and training run draws from here, so
// each failure and each run reproduces exactly. Two generators, each kept for the streams that depend on it:
// - mulberry32 (32-bit state): the checks and tests (`mulberry32`, `normal`, `randomNormal`), the app's data
//   pipeline (`createRng`, `permutation`) and its benchmark inputs (`fillUniform`);
// - xoshiro128** (`Rng`, 128-bit state, serialisable): the app's weight initialisation and batch order, named
//   streams per seed, saved in checkpoints so a resumed run continues the exact same stream.
// Reached from the app through `rmsnorm/internal` (not a public API).

/** A uniform [0, 1) generator from a 32-bit seed (mulberry32). @example const u = mulberry32(42)(); */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform generator (Box–Muller). @example const z = normal(mulberry32(1))(); */
export function normal(uniform: () => number): () => number {
  return () => {
    const u = 1 - uniform(); // (0, 1]: log stays finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

/** Float32Array of n values mean + std·N(0,1). @example randomNormal(mulberry32(1), 8) */
export function randomNormal(uniform: () => number, n: number, mean = 0, std = 1): Float32Array {
  const z = normal(uniform);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * z();
  return out;
}

/** Fill `a` with uniform values in [lo, hi) from a seed (mulberry32). @example fillUniform(new Float32Array(8), 1, -2, 2) */
export function fillUniform(a: Float32Array, seed: number, lo: number, hi: number): void {
  const u = mulberry32(seed);
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * u();
}

/** A stable 32-bit hash of a string (FNV-1a), to derive a per-case seed or a stream id from its name. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** What a shuffle or sampler needs from a generator: a uniform integer in [0, n). */
export interface RandomSource {
  int(n: number): number;
}

/** Fisher–Yates shuffle of `a` in place (returns `a`). @example shuffleInPlace([1, 2, 3], createRng(1)) */
export function shuffleInPlace<T>(a: T[], rng: RandomSource): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i] as T;
    a[i] = a[j] as T;
    a[j] = t;
  }
  return a;
}

/** 0..n-1 in a seeded random order. @example permutation(5, createRng(1)) */
export function permutation(n: number, rng: RandomSource): number[] {
  return shuffleInPlace(Array.from({ length: n }, (_, i) => i), rng);
}

/** A small seeded generator (mulberry32) for shuffling and sampling. */
export interface SimpleRng extends RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(a: T[]): T[];
}

/**
 * A seeded mulberry32 generator with int and shuffle. Same seed → same sequence on every machine.
 * @example const rng = createRng(1); rng.int(10); // 0..9, the same on every run
 */
export function createRng(seed: number): SimpleRng {
  if (!Number.isFinite(seed)) throw new TypeError(`seed: expected a finite number, got ${String(seed)}`);
  const next = mulberry32((Math.trunc(seed) ^ 0x9e3779b9) >>> 0);
  const rng: SimpleRng = {
    next,
    int: (n) => Math.floor(next() * n),
    shuffle: (a) => shuffleInPlace(a, rng),
  };
  return rng;
}

/** xoshiro128** with a 4×uint32 state; `getState`/`setState` round-trip exactly (used by checkpoints). */
export class Rng implements RandomSource {
  private s: Uint32Array;

  constructor(state: ArrayLike<number>) {
    this.s = Uint32Array.from(state);
    if (this.s.length !== 4 || this.s.every((v) => v === 0)) throw new RangeError('Rng: state must be 4 uint32, not all zero');
  }

  /**
   * Rng from an integer seed and a stream name (e.g. 'data', 'init:W'); streams are independent.
   * @example const r = Rng.from(1, 'data'); r.int(10);
   */
  static from(seed: number, stream: string): Rng {
    // splitmix32 over (seed, hash(stream)) fills the state.
    let h = hashSeed(stream) ^ Math.imul(seed | 0, 0x9e3779b1);
    const st: number[] = [];
    for (let i = 0; i < 4; i++) {
      h = (h + 0x9e3779b9) | 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      z ^= z >>> 16;
      st.push(z >>> 0);
    }
    if (!st.some((v) => v !== 0)) st[0] = 1;
    return new Rng(st);
  }

  /** Next uint32. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller, no cached spare so the state alone defines the stream). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(a: T[]): T[] {
    return shuffleInPlace(a, this);
  }

  getState(): number[] {
    return Array.from(this.s);
  }

  setState(state: ArrayLike<number>): void {
    this.s = Uint32Array.from(state);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
