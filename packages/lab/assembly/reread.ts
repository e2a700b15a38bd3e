// Probes for issue #8, benchmarks only: how much of a row kernel's distance from the copy/triad ceiling comes from
// touching each row twice. An exact RMSNorm must read a whole row before it can write any of it, so every kernel
// (ours, the naive one) reads x (and dy) once to reduce and once more to write; these loops separate that second
// touch from the arithmetic. `onePass*` do the same vector work as the exact loops but write each row from the one
// read (scaled with the PREVIOUS row's statistics): their outputs are wrong, they only time the no-re-read case.
// Byte addresses into an imported shared memory (like ceiling.ts and naive.ts); cols must be a multiple of 16.
// Timed by src/bench/scripts/kernel-ab.ts --reread.

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function rmsScale(ss: f32, cols: i32, eps: f32): f32 {
  return 1 / Mathf.sqrt(ss / <f32>cols + eps);
}

/**
 * One row: y = x·s·gamma for the row at xr while summing the squares of the row at xn; returns that sum.
 * reread (a constant after inlining): the values scaled are loaded again from xr (the pipelined kernel, xr ≠ xn);
 * else the values just loaded from xn are scaled (the one-pass probe, which writes them with the wrong scale).
 */
@inline function rowLoop(xn: usize, xr: usize, yr: usize, gamma: usize, rowBytes: usize, s: v128, reread: bool): f32 {
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  for (let o: usize = 0; o < rowBytes; o += 64) {
    const v0 = v128.load(xn + o);
    const v1 = v128.load(xn + o, 16);
    const v2 = v128.load(xn + o, 32);
    const v3 = v128.load(xn + o, 48);
    a0 = f32x4.add(a0, f32x4.mul(v0, v0));
    a1 = f32x4.add(a1, f32x4.mul(v1, v1));
    a2 = f32x4.add(a2, f32x4.mul(v2, v2));
    a3 = f32x4.add(a3, f32x4.mul(v3, v3));
    const w0 = reread ? v128.load(xr + o) : v0;
    const w1 = reread ? v128.load(xr + o, 16) : v1;
    const w2 = reread ? v128.load(xr + o, 32) : v2;
    const w3 = reread ? v128.load(xr + o, 48) : v3;
    v128.store(yr + o, f32x4.mul(f32x4.mul(w0, s), v128.load(gamma + o)));
    v128.store(yr + o, f32x4.mul(f32x4.mul(w1, s), v128.load(gamma + o, 16)), 16);
    v128.store(yr + o, f32x4.mul(f32x4.mul(w2, s), v128.load(gamma + o, 32)), 32);
    v128.store(yr + o, f32x4.mul(f32x4.mul(w3, s), v128.load(gamma + o, 48)), 48);
  }
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
}

/**
 * The smallest exact pipelined RMSNorm forward: row r is scaled (a re-read of x, streamed in one row earlier) in the
 * loop that sums the squares of row r + 1 (f32 sums, no f64 blocks, no extreme-value paths). y and rstd are right.
 */
export function rmsForwardPipelined(x: usize, gamma: usize, y: usize, rstd: usize, rows: i32, cols: i32, eps: f32): void {
  const rowBytes = <usize>cols << 2;
  let acc = f32x4.splat(0);
  for (let o: usize = 0; o < rowBytes; o += 16) acc = f32x4.add(acc, f32x4.mul(v128.load(x + o), v128.load(x + o)));
  let ss = hsum(acc);
  for (let r: i32 = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const rs = rmsScale(ss, cols, eps);
    // stored before the loop: V8 would otherwise schedule the sqrt and divisions inside it (their only other use)
    store<f32>(rstd + (<usize>r << 2), rs);
    ss = rowLoop(r + 1 < rows ? xr + rowBytes : xr, xr, y + <usize>r * rowBytes, gamma, rowBytes, f32x4.splat(rs), true);
  }
}

/** The same loop with no re-read: each row is scaled from the values just loaded, by the previous row's rs. */
export function rmsForwardOnePass(x: usize, gamma: usize, y: usize, rstd: usize, rows: i32, cols: i32, eps: f32): void {
  const rowBytes = <usize>cols << 2;
  let ss: f32 = <f32>cols;
  for (let r: i32 = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const rs = rmsScale(ss, cols, eps);
    store<f32>(rstd + (<usize>r << 2), rs);
    ss = rowLoop(xr, xr, y + <usize>r * rowBytes, gamma, rowBytes, f32x4.splat(rs), false);
  }
}

/**
 * One pass over x (n floats, flat) that sums squares and writes y = x·0.5·gamma from a second load of the values
 * `back` bytes behind the stream (a multiple of 64; the first back/4 values are not written): the cost of a re-read
 * as a function of how long ago the stream brought the line in. back = the row's bytes is the pipelined distance.
 * gamma is indexed modulo cols (a power of two).
 */
export function rereadBehind(x: usize, gamma: usize, y: usize, n: i32, cols: i32, back: usize): f32 {
  const s = f32x4.splat(0.5);
  const gMask = (<usize>cols << 2) - 1;
  let a0 = f32x4.splat(0);
  let a1 = a0;
  for (let o: usize = back; o < (<usize>n << 2); o += 64) {
    const p = x + o;
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    const v3 = v128.load(p, 48);
    a0 = f32x4.add(a0, f32x4.add(f32x4.mul(v0, v0), f32x4.mul(v1, v1)));
    a1 = f32x4.add(a1, f32x4.add(f32x4.mul(v2, v2), f32x4.mul(v3, v3)));
    const w = p - back;
    const g = gamma + (o & gMask);
    const q = y + o;
    v128.store(q, f32x4.mul(f32x4.mul(v128.load(w), s), v128.load(g)));
    v128.store(q, f32x4.mul(f32x4.mul(v128.load(w, 16), s), v128.load(g, 16)), 16);
    v128.store(q, f32x4.mul(f32x4.mul(v128.load(w, 32), s), v128.load(g, 32)), 32);
    v128.store(q, f32x4.mul(f32x4.mul(v128.load(w, 48), s), v128.load(g, 48)), 48);
  }
  return hsum(f32x4.add(a0, a1));
}

/**
 * naive.ts's RMSNorm backward (two sweeps a row: Σu·x, then dx and dgamma from a re-read of dy and x) done in ONE
 * sweep: dx uses the previous row's Σu·x (wrong values, timing only). The same vector work with no re-read.
 */
export function rmsBackwardOnePass(
  dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, dgamma: usize, rows: i32, cols: i32,
): void {
  const rowBytes = <usize>cols << 2;
  let sum: f32 = 0;
  for (let r: i32 = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const dyr = dy + off;
    const xr = x + off;
    const dxr = dx + off;
    const rs = load<f32>(rstd + (<usize>r << 2));
    const vr = f32x4.splat(rs);
    const vc = f32x4.splat((rs * rs * rs * sum) / <f32>cols);
    let acc = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const d = v128.load(dyr + o);
      const xv = v128.load(xr + o);
      const g = v128.load(gamma + o);
      acc = f32x4.add(acc, f32x4.mul(f32x4.mul(d, g), xv));
      v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), f32x4.mul(d, f32x4.mul(xv, vr))));
      v128.store(dxr + o, f32x4.sub(f32x4.mul(f32x4.mul(d, g), vr), f32x4.mul(xv, vc)));
    }
    sum = hsum(acc);
  }
}
