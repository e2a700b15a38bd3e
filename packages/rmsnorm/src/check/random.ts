// Seeded pseudo-random numbers (mulberry32 + Box–Muller) so every check and test failure reproduces exactly.

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

/** A stable 32-bit hash of a string (FNV-1a), to derive a per-case seed from its name. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
