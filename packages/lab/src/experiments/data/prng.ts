// Seeded pseudo-random numbers for the data pipeline: every batch order and sample is a pure function of the seed,
// so a run can be repeated (or resumed) exactly.

/** What the loaders need from a generator: a uniform integer in [0, n). The runner's xoshiro `Rng` class fits. */
export interface RandomSource {
  int(n: number): number;
}

/** A seeded generator: mulberry32 (32-bit state, period 2^32), ample for shuffling and sampling. */
export interface Rng extends RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(a: T[]): T[];
}

/**
 * Create a seeded generator (mulberry32). Same seed → same sequence on every machine.
 * @example
 * const rng = createRng(1); rng.int(10); // 0..9, the same on every run
 */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new TypeError(`seed: expected a finite number, got ${String(seed)}`);
  let s = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    shuffle<T>(a: T[]): T[] {
      for (let i = a.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const t = a[i] as T;
        a[i] = a[j] as T;
        a[j] = t;
      }
      return a;
    },
  };
}

/** 0..n-1 in a seeded random order. */
export function permutation(n: number, rng: RandomSource): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}
