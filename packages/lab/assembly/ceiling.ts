// The memory-bandwidth ceiling for `rmsnorm bench`: plain f32x4 SIMD streaming loops (copy = 2 streams, triad =
// 3 streams) over an imported shared memory, so a worker thread can run the other half of the same range.
// Not a library kernel: it only measures how fast this machine can move the bytes a norm kernel must move.

/** dst[i] = src[i] for i < n (byte addresses, n floats; 64 bytes per iteration, scalar tail). */
export function copy(src: usize, dst: usize, n: i32): void {
  let i: i32 = 0;
  const n16 = n & ~15;
  for (; i < n16; i += 16) {
    const o = <usize>i << 2;
    const a = v128.load(src + o);
    const b = v128.load(src + o, 16);
    const c = v128.load(src + o, 32);
    const d = v128.load(src + o, 48);
    v128.store(dst + o, a);
    v128.store(dst + o, b, 16);
    v128.store(dst + o, c, 32);
    v128.store(dst + o, d, 48);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** a[i] = b[i] + s·c[i] for i < n (the STREAM triad: reads two streams, writes one). */
export function triad(a: usize, b: usize, c: usize, s: f32, n: i32): void {
  const vs = f32x4.splat(s);
  let i: i32 = 0;
  const n8 = n & ~7;
  for (; i < n8; i += 8) {
    const o = <usize>i << 2;
    const b0 = v128.load(b + o);
    const b1 = v128.load(b + o, 16);
    const c0 = v128.load(c + o);
    const c1 = v128.load(c + o, 16);
    v128.store(a + o, f32x4.add(b0, f32x4.mul(vs, c0)));
    v128.store(a + o, f32x4.add(b1, f32x4.mul(vs, c1)), 16);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(a + o, load<f32>(b + o) + s * load<f32>(c + o));
  }
}
