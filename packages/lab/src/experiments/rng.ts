// Seeded, serialisable PRNG (xoshiro128**) for data order and weight initialisation, so that every variant of a seed
// sees the same batches and the same initial weights, and a resumed run continues the exact same stream.

/** xoshiro128** with a 4×uint32 state; `getState`/`setState` round-trip exactly (used by checkpoints). */
export class Rng {
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
    let h = hashString(stream) ^ Math.imul(seed | 0, 0x9e3779b1);
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
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
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

/** FNV-1a 32-bit hash of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
